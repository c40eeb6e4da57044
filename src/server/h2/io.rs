//! The byte stream the `h2` codec sees: the transport's read half, with
//! the bytes HTTP/1.1 already read replayed first (a cleartext connection
//! recognised by its preface), and, for writes, the connection's
//! [`Outbound`] buffer, which its [`Writer`](super::writer::Writer) sends.
//!
//! Why writes are gathered: the codec writes each DATA frame with its
//! head as soon as the next frame needs room, one `writev` per frame (66
//! for a 1 MiB response at a 16 KiB frame size, one per 4 KiB response).
//! Here a write is copied into the outbound buffer and answered at once,
//! so the codec goes on with its next frames; the writer, polled by the
//! connection's task after the codec has done all it can, sends them
//! together. A copy per byte buys one system call per batch.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};

use super::meter::Meter;

/// Most bytes gathered for one write; a codec write that would pass it
/// waits for the writer.
pub(super) const GATHER_MAX: usize = 256 * 1024;
/// A codec write at least this large (a full-size DATA frame) goes to the
/// socket at once, after what is gathered, in one vectored write: gathering
/// saves system calls for small frames, and would only add a copy for
/// large ones (h2load, 1 MiB file: 2,330 req/s direct, 1,873 gathered).
const DIRECT_MIN: usize = 16 * 1024;

/// The codec's side of the transport.
pub(super) struct Io<T> {
    read: ReadHalf<T>,
    replay: BytesMut,
    out: Arc<Outbound<T>>,
    meter: Arc<Meter>,
}

/// The transport's write half, and what the codec has written and the
/// writer has not yet sent.
pub(super) struct Outbound<T>(Mutex<Out<T>>);

pub(super) struct Out<T> {
    pub(super) write: WriteHalf<T>,
    /// Bytes written since the transport was last flushed (TLS keeps
    /// encrypted records until then).
    pub(super) unflushed: bool,
    pub(super) buf: BytesMut,
    /// The codec, waiting for room or for the shutdown to finish.
    pub(super) codec: Option<Waker>,
    /// The writer, waiting for bytes.
    pub(super) writer: Option<Waker>,
    pub(super) shutdown: Shutdown,
    /// The socket failed: every later write fails too.
    pub(super) failed: Option<io::ErrorKind>,
}

#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shutdown {
    #[default]
    No,
    /// The codec is done: send what is left, then shut the socket down.
    Asked,
    Done,
}

impl<T> Outbound<T> {
    pub(super) fn new(write: WriteHalf<T>) -> Outbound<T> {
        Outbound(Mutex::new(Out {
            write,
            unflushed: false,
            buf: BytesMut::new(),
            codec: None,
            writer: None,
            shutdown: Shutdown::No,
            failed: None,
        }))
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Out<T>> {
        match self.0.lock() {
            Ok(out) => out,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl<T> Out<T> {
    fn wake_writer(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.wake();
        }
    }
}

impl<T> Io<T> {
    pub(super) fn new(
        read: ReadHalf<T>,
        replay: BytesMut,
        out: Arc<Outbound<T>>,
        meter: Arc<Meter>,
    ) -> Io<T> {
        Io {
            read,
            replay,
            out,
            meter,
        }
    }
}

impl<T: AsyncRead> AsyncRead for Io<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.replay.is_empty() {
            let n = self.replay.len().min(buf.remaining());
            buf.put_slice(&self.replay[..n]);
            self.replay.advance(n);
            if self.replay.is_empty() {
                self.replay = BytesMut::new();
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut self.read).poll_read(cx, buf);
        self.meter.received(buf.filled().len() - before);
        result
    }
}

impl<T: AsyncWrite> Io<T> {
    /// Writes what is gathered and then `bufs` in one vectored write,
    /// without copying `bufs`; the codec learns how many of its own bytes
    /// went out.
    fn poll_write_direct(
        &self,
        cx: &mut Context<'_>,
        out: &mut Out<T>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            let Out { write, buf, .. } = out;
            let gathered = buf.len();
            let mut slices = [io::IoSlice::new(&[]); 4];
            slices[0] = io::IoSlice::new(buf);
            for (slot, b) in slices[1..].iter_mut().zip(bufs) {
                *slot = *b;
            }
            let first = usize::from(gathered == 0);
            match Pin::new(&mut *write).poll_write_vectored(cx, &slices[first..]) {
                Poll::Ready(Ok(0)) => {
                    out.failed = Some(io::ErrorKind::WriteZero);
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    self.meter.sent(n);
                    if n <= gathered {
                        // Only gathered bytes went: try again for the
                        // codec's.
                        out.buf.advance(n);
                        continue;
                    }
                    out.buf = BytesMut::new();
                    // TLS sends its records on flush; TCP's is a no-op.
                    out.unflushed = Pin::new(&mut out.write).poll_flush(cx).is_pending();
                    return Poll::Ready(Ok(n - gathered));
                }
                Poll::Ready(Err(e)) => {
                    out.failed = Some(e.kind());
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    self.meter.blocked();
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<T: AsyncWrite> AsyncWrite for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut out = self.out.lock();
        if let Some(kind) = out.failed {
            return Poll::Ready(Err(kind.into()));
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total >= DIRECT_MIN {
            return self.poll_write_direct(cx, &mut out, bufs);
        }
        if !out.buf.is_empty() && out.buf.len() + total > GATHER_MAX {
            out.codec = Some(cx.waker().clone());
            out.wake_writer();
            return Poll::Pending;
        }
        // The codec writes only while the connection's task polls it, and
        // that task polls the writer next; the wake-up makes it poll once
        // more right after, so frames that became ready meanwhile join the
        // same write (h2load, 4 KiB: about 10% more requests per second
        // than without it).
        out.buf.reserve(total);
        for b in bufs {
            out.buf.extend_from_slice(b);
        }
        out.wake_writer();
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// The writer sends what is gathered when the connection's task gets
    /// to it, right after the codec has written all it can this turn.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut out = self.out.lock();
        if let Some(kind) = out.failed {
            return Poll::Ready(Err(kind.into()));
        }
        if !out.buf.is_empty() {
            out.wake_writer();
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut out = self.out.lock();
        match out.shutdown {
            Shutdown::Done => return Poll::Ready(Ok(())),
            Shutdown::No => out.shutdown = Shutdown::Asked,
            Shutdown::Asked => {}
        }
        if let Some(kind) = out.failed {
            return Poll::Ready(Err(kind.into()));
        }
        out.codec = Some(cx.waker().clone());
        out.wake_writer();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn replayed_bytes_come_first() {
        let (mut client, server) = tokio::io::duplex(64);
        let (read, write) = tokio::io::split(server);
        let meter = Arc::new(Meter::new(1024, None));
        let out = Arc::new(Outbound::new(write));
        let mut io = Io::new(read, BytesMut::from(&b"PRI * "[..]), out, meter);
        client.write_all(b"HTTP/2.0").await.unwrap();
        let mut got = [0u8; 14];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"PRI * HTTP/2.0");
    }

    #[tokio::test]
    async fn writes_are_gathered_up_to_the_limit() {
        let (_client, server) = tokio::io::duplex(64);
        let (read, write) = tokio::io::split(server);
        let meter = Arc::new(Meter::new(1024, None));
        let out = Arc::new(Outbound::new(write));
        let mut io = Io::new(read, BytesMut::new(), out.clone(), meter);
        io.write_all(b"frame one").await.unwrap();
        io.write_all(b"frame two").await.unwrap();
        io.flush().await.unwrap();
        assert_eq!(&out.lock().buf[..], b"frame oneframe two");
        // Past the limit, a write waits for the writer.
        let big = vec![0u8; GATHER_MAX - 10];
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(20), io.write_all(&big)).await;
        assert!(waiting.is_err());
    }
}
