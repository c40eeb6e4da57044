//! The byte streams a connection runs over: plain TCP (with its zero-copy
//! and readiness fast paths), TLS over TCP, and Unix domain sockets.
//!
//! The connection driver is generic over [`Transport`]; everything it needs
//! beyond `AsyncRead + AsyncWrite` is here, so the driver never asks which
//! kind of socket it has except to reach `sendfile`/`MSG_MORE`, which only
//! a plain TCP socket can use (and only on Linux).

use std::future::Future;
use std::io;
use std::os::fd::AsFd;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, Interest};
use tokio::net::{TcpStream, UnixStream};

use super::tcp::Tcp;
use crate::proto::Connection;

/// Bytes requested from the kernel per read.
const READ_CHUNK: usize = 8 * 1024;
/// Bytes asked for by a connection's first read (`read_now`), which must
/// zero its buffer first.
const FIRST_READ: usize = 2 * 1024;

/// A connected byte stream the driver can serve HTTP/1.1 on.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// Reads once into the connection's buffer, growing it only when nearly
    /// full. Cancel-safe: nothing is lost if the future is dropped.
    fn read_into<'a>(
        &'a mut self,
        conn: &'a mut Connection,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        async move {
            let buf = conn.read_buf_mut();
            reserve(buf);
            self.read_buf(buf).await
        }
    }

    /// Reads what has already arrived without waiting for readiness:
    /// `None` when nothing has (or the transport cannot tell). Tokio only
    /// reads once its reactor reported readiness, which a new socket (or
    /// one handed back by the parker) gets one event-loop turn later; a
    /// request that is already there is read at once.
    fn read_now(&mut self, conn: &mut Connection) -> Option<io::Result<usize>> {
        let _ = conn;
        None
    }

    /// Whether bytes written reach the peer as they are, on a TCP socket
    /// (no TLS): `sendfile` and `MSG_MORE` need that.
    fn is_plain_tcp(&self) -> bool {
        false
    }

    /// The plain TCP socket underneath, registered with tokio so that its
    /// writes can wait (`None` when not plain TCP, see
    /// [`is_plain_tcp`](Self::is_plain_tcp)).
    #[cfg(target_os = "linux")]
    fn plain_tcp(&mut self) -> Option<io::Result<&TcpStream>> {
        None
    }

    /// Turns Nagle's algorithm off (TCP only; TLS sockets get it on
    /// accept).
    fn set_nodelay(&self) {}
}

fn reserve(buf: &mut bytes::BytesMut) {
    if buf.capacity() - buf.len() < 1024 {
        buf.reserve(READ_CHUNK);
    }
}

impl Transport for TcpStream {
    /// A read that returns less than the space offered has drained the
    /// socket, so the readiness flag is cleared right away (by reporting
    /// `WouldBlock` to `try_io` after the read): the next read then waits
    /// for epoll instead of making a `recv` that would fail with `EAGAIN`,
    /// which strace showed on 3 of 4 keep-alive requests. Tokio only clears
    /// the flag if no newer readiness event arrived meanwhile, so no wake-up
    /// is lost.
    async fn read_into(&mut self, conn: &mut Connection) -> io::Result<usize> {
        loop {
            self.readable().await?;
            let buf = conn.read_buf_mut();
            reserve(buf);
            let spare = buf.capacity() - buf.len();
            let mut read = None;
            let result = self.try_io(Interest::READABLE, || {
                let n = self.try_read_buf(buf)?;
                read = Some(n);
                if n > 0 && n < spare {
                    Err(io::ErrorKind::WouldBlock.into())
                } else {
                    Ok(n)
                }
            });
            match (result, read) {
                (Ok(n), _) => return Ok(n),
                (Err(e), Some(n)) if e.kind() == io::ErrorKind::WouldBlock => return Ok(n),
                (Err(e), None) if e.kind() == io::ErrorKind::WouldBlock => continue,
                (Err(e), _) => return Err(e),
            }
        }
    }

    fn read_now(&mut self, conn: &mut Connection) -> Option<io::Result<usize>> {
        recv_now(&*self, conn)
    }

    fn is_plain_tcp(&self) -> bool {
        true
    }

    #[cfg(target_os = "linux")]
    fn plain_tcp(&mut self) -> Option<io::Result<&TcpStream>> {
        Some(Ok(self))
    }

    fn set_nodelay(&self) {
        let _ = TcpStream::set_nodelay(self, true);
    }
}

impl Transport for Tcp {
    async fn read_into(&mut self, conn: &mut Connection) -> io::Result<usize> {
        Transport::read_into(self.live()?, conn).await
    }

    fn read_now(&mut self, conn: &mut Connection) -> Option<io::Result<usize>> {
        match self.fd() {
            Some(fd) => recv_now(fd, conn),
            None => Some(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn is_plain_tcp(&self) -> bool {
        true
    }

    #[cfg(target_os = "linux")]
    fn plain_tcp(&mut self) -> Option<io::Result<&TcpStream>> {
        Some(self.live().map(|s| &*s))
    }

    fn set_nodelay(&self) {
        if let Some(fd) = self.fd() {
            let _ = rustix::net::sockopt::set_tcp_nodelay(fd, true);
        }
    }
}

/// Reads what has already arrived on a TCP socket, without readiness
/// (see [`Transport::read_now`]).
fn recv_now(fd: impl AsFd, conn: &mut Connection) -> Option<io::Result<usize>> {
    let buf = conn.read_buf_mut();
    if buf.capacity() - buf.len() < FIRST_READ {
        // Most first requests fit: a connection that sends one small
        // request and idles (most do) never holds a full-size buffer.
        buf.reserve(FIRST_READ);
    }
    let start = buf.len();
    // Zeroed rather than uninitialized (no unsafe), so only as much as
    // a typical request head needs; the rest of a larger one is read
    // the usual way.
    buf.resize(buf.capacity().min(start + FIRST_READ), 0);
    let result = rustix::net::recv(fd, &mut buf[start..], rustix::net::RecvFlags::empty());
    match result {
        Ok((n, _)) => {
            buf.truncate(start + n);
            Some(Ok(n))
        }
        Err(e) => {
            buf.truncate(start);
            if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR {
                None
            } else {
                Some(Err(e.into()))
            }
        }
    }
}

impl Transport for UnixStream {}

#[cfg(feature = "tls")]
impl Transport for tokio_rustls::server::TlsStream<TcpStream> {}

#[cfg(feature = "tls")]
impl Transport for tokio_rustls::server::TlsStream<UnixStream> {}
