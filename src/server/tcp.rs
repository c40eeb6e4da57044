//! A plain TCP connection that joins tokio's reactor only once it has to
//! wait.
//!
//! A new connection's request has usually arrived by the time it is
//! accepted, and its response fits the empty socket buffer: read, answer
//! and (with `Connection: close`) close need no readiness at all. Tokio
//! registers every socket it wraps (an `epoll_ctl` to add it, one to remove
//! it, and an edge reported at once because a new socket is writable), so
//! berth keeps the socket as a plain std one, tries each read and write
//! directly, and registers it the first time one would block. The same
//! holds for a connection the parker hands back: it was woken because a
//! request arrived.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::platform;

/// A plain TCP connection, registered with tokio on demand.
pub(crate) struct Tcp {
    state: State,
}

enum State {
    /// Not (yet) known to tokio; I/O goes straight to the socket.
    Raw(std::net::TcpStream),
    /// Registered: tokio's readiness drives the waits.
    Live(TcpStream),
    /// Registering failed; the socket is closed.
    Failed,
}

impl Tcp {
    /// A connected, non-blocking socket, not registered with tokio.
    pub(crate) fn raw(stream: std::net::TcpStream) -> Tcp {
        Tcp {
            state: State::Raw(stream),
        }
    }

    /// The socket as tokio's, registering it on first use.
    pub(crate) fn live(&mut self) -> io::Result<&mut TcpStream> {
        if let State::Raw(_) = self.state {
            let State::Raw(std) = std::mem::replace(&mut self.state, State::Failed) else {
                return Err(failed());
            };
            self.state = State::Live(TcpStream::from_std(std)?);
        }
        match &mut self.state {
            State::Live(stream) => Ok(stream),
            _ => Err(failed()),
        }
    }

    /// The socket as tokio's, owned (for TLS and the PROXY header, which
    /// wait on readiness from the start).
    pub(crate) fn into_tokio(self) -> io::Result<TcpStream> {
        match self.state {
            State::Raw(std) => TcpStream::from_std(std),
            State::Live(stream) => Ok(stream),
            State::Failed => Err(failed()),
        }
    }

    /// The socket as a std one, out of tokio's reactor (for parking).
    pub(crate) fn into_std(self) -> io::Result<std::net::TcpStream> {
        match self.state {
            State::Raw(std) => Ok(std),
            State::Live(stream) => stream.into_std(),
            State::Failed => Err(failed()),
        }
    }

    /// The socket's descriptor (`None` once registering failed).
    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.state {
            State::Raw(s) => Some(s.as_fd()),
            State::Live(s) => Some(s.as_fd()),
            State::Failed => None,
        }
    }

    /// A write straight to an unregistered socket: `None` when it would
    /// block (then the socket must be registered to wait).
    fn try_raw<T>(
        &self,
        write: impl Fn(&std::net::TcpStream) -> io::Result<T>,
    ) -> Option<io::Result<T>> {
        let State::Raw(stream) = &self.state else {
            return None;
        };
        loop {
            match write(stream) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                other => return Some(other),
            }
        }
    }
}

fn failed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "socket registration failed")
}

impl AsyncRead for Tcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let State::Raw(stream) = &self.state {
            let mut stream = stream;
            loop {
                match stream.read(buf.initialize_unfilled()) {
                    Ok(n) => {
                        buf.advance(n);
                        return Poll::Ready(Ok(()));
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        }
        Pin::new(self.live()?).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(done) = self.try_raw(|mut s| s.write(buf)) {
            return Poll::Ready(done);
        }
        Pin::new(self.live()?).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(done) = self.try_raw(|mut s| s.write_vectored(bufs)) {
            return Poll::Ready(done);
        }
        Pin::new(self.live()?).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.state {
            State::Live(s) => Pin::new(s).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.state {
            State::Raw(s) => Poll::Ready(s.shutdown(Shutdown::Write)),
            State::Live(s) => {
                ready!(Pin::new(s).poll_shutdown(cx))?;
                Poll::Ready(Ok(()))
            }
            State::Failed => Poll::Ready(Err(failed())),
        }
    }
}

/// Accepts one connection from a non-blocking listener: the socket comes
/// non-blocking and close-on-exec (from `accept4` itself on Linux, see
/// [`platform::accept`]).
pub(crate) fn accept(listener: &std::net::TcpListener) -> io::Result<(Tcp, SocketAddr)> {
    let (fd, addr) = platform::accept(listener)?;
    let stream = std::net::TcpStream::from(fd);
    let peer = match addr.map(SocketAddr::try_from) {
        Some(Ok(peer)) => peer,
        _ => stream.peer_addr()?,
    };
    Ok((Tcp::raw(stream), peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn pair() -> (Tcp, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = loop {
            match accept(&listener) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                other => break other.unwrap(),
            }
        };
        (server, client)
    }

    #[tokio::test]
    async fn reads_and_writes_that_need_no_wait_leave_the_socket_unregistered() {
        let (mut server, mut client) = pair();
        client.write_all(b"ping").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.write_all(b"pong").await.unwrap();
        server.flush().await.unwrap();
        assert!(
            matches!(server.state, State::Raw(_)),
            "registered without a wait"
        );
        let mut got = [0u8; 4];
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"pong");
    }

    #[tokio::test]
    async fn a_read_that_must_wait_registers_and_is_woken() {
        let (mut server, mut client) = pair();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            client.write_all(b"late").unwrap();
            client
        });
        let mut buf = [0u8; 4];
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            server.read_exact(&mut buf),
        )
        .await
        .expect("woken by readiness")
        .unwrap();
        assert_eq!(&buf, b"late");
        assert!(matches!(server.state, State::Live(_)));
        drop(writer.join().unwrap());
    }

    #[tokio::test]
    async fn a_full_send_buffer_waits_for_room_instead_of_failing() {
        let (mut server, mut client) = pair();
        // More than the loopback socket buffers hold, so a write blocks.
        let big = vec![7u8; 16 << 20];
        let reader = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let mut total = 0;
            let mut buf = vec![0u8; 1 << 16];
            while total < 16 << 20 {
                let n = client.read(&mut buf).unwrap();
                assert!(n > 0);
                total += n;
            }
            total
        });
        tokio::time::timeout(std::time::Duration::from_secs(10), server.write_all(&big))
            .await
            .expect("woken when writable")
            .unwrap();
        assert_eq!(reader.join().unwrap(), 16 << 20);
    }

    #[tokio::test]
    async fn a_raw_socket_parks_without_deregistering() {
        let (server, _client) = pair();
        let std = server.into_std().unwrap();
        assert!(std.peer_addr().is_ok());
    }
}
