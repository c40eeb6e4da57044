//! The byte stream under an HTTP/2 connection: the transport, with the
//! bytes HTTP/1.1 already read replayed first (a cleartext connection
//! recognised by its preface), and a [`Meter`] on the write side that
//! bounds what the connection's streams may have buffered and notices a
//! peer that stopped reading.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::server::metrics::Metrics;

/// The transport, plus bytes to replay before reading it.
pub(super) struct Io<T> {
    inner: T,
    replay: BytesMut,
    meter: Arc<Meter>,
}

impl<T> Io<T> {
    pub(super) fn new(inner: T, replay: BytesMut, meter: Arc<Meter>) -> Io<T> {
        Io {
            inner,
            replay,
            meter,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Io<T> {
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
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Some(metrics) = &self.meter.metrics {
            metrics.add_bytes_received((buf.filled().len() - before) as u64);
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Io<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.meter.wrote(&result);
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.meter.wrote(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// One connection's write-side accounting.
///
/// - **Budget.** Streams take room before handing response bytes to the
///   `h2` codec and the socket gives it back as it accepts bytes, so no
///   more than `max_buffered_bytes` of response data wait in user space
///   per connection, however many streams there are and however large the
///   client's flow-control windows. (Frame headers and HEADERS frames give
///   back room they never took; the budget is capped, so that only lets a
///   frame's worth of overhead through.)
/// - **Stall.** A write the socket cannot take marks the connection
///   blocked since then; one that goes through clears it. The connection
///   is dropped once it stays blocked past the write timeout.
pub(super) struct Meter {
    /// Where the bytes read and written are counted.
    metrics: Option<Arc<Metrics>>,
    max: usize,
    room: AtomicUsize,
    freed: Notify,
    /// Milliseconds since `epoch` at which writes started to block, plus
    /// one (0: not blocked).
    blocked_since: AtomicU64,
    epoch: Instant,
}

impl Meter {
    pub(super) fn new(max: usize, metrics: Option<Arc<Metrics>>) -> Meter {
        let max = max.max(1);
        Meter {
            metrics,
            max,
            room: AtomicUsize::new(max),
            freed: Notify::new(),
            blocked_since: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Takes room for up to `want` bytes, waiting while there is none;
    /// returns how much it took (at least 1).
    pub(super) async fn take(&self, want: usize) -> usize {
        let want = want.clamp(1, self.max);
        loop {
            let freed = self.freed.notified();
            let mut room = self.room.load(Ordering::Acquire);
            while room > 0 {
                let n = room.min(want);
                match self.room.compare_exchange_weak(
                    room,
                    room - n,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return n,
                    Err(now) => room = now,
                }
            }
            freed.await;
        }
    }

    /// Gives back room taken but not used.
    pub(super) fn give_back(&self, n: usize) {
        self.free(n);
    }

    fn free(&self, n: usize) {
        if n == 0 {
            return;
        }
        let before = self
            .room
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |room| {
                Some(room.saturating_add(n).min(self.max))
            })
            .unwrap_or(self.max);
        if before == 0 {
            self.freed.notify_waiters();
        }
    }

    fn wrote(&self, result: &Poll<io::Result<usize>>) {
        match result {
            Poll::Ready(Ok(n)) => {
                self.blocked_since.store(0, Ordering::Relaxed);
                self.free(*n);
                if let Some(metrics) = &self.metrics {
                    metrics.add_bytes_sent(*n as u64);
                }
            }
            Poll::Pending => {
                let now = self.epoch.elapsed().as_millis() as u64 + 1;
                let _ = self.blocked_since.compare_exchange(
                    0,
                    now,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
            Poll::Ready(Err(_)) => {}
        }
    }

    /// True when writes have been blocked for at least `limit`.
    pub(super) fn stalled(&self, limit: std::time::Duration) -> bool {
        let since = self.blocked_since.load(Ordering::Relaxed);
        since != 0
            && self.epoch.elapsed().as_millis() as u64 + 1 - since >= limit.as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn replayed_bytes_come_first() {
        let (mut client, server) = tokio::io::duplex(64);
        let meter = Arc::new(Meter::new(1024, None));
        let mut io = Io::new(server, BytesMut::from(&b"PRI * "[..]), meter);
        client.write_all(b"HTTP/2.0").await.unwrap();
        let mut got = [0u8; 14];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"PRI * HTTP/2.0");
    }

    #[tokio::test]
    async fn the_budget_is_given_back_as_the_socket_takes_bytes() {
        let (mut client, server) = tokio::io::duplex(8);
        let meter = Arc::new(Meter::new(10, None));
        let mut io = Io::new(server, BytesMut::new(), meter.clone());
        assert_eq!(meter.take(8).await, 8);
        assert_eq!(meter.take(8).await, 2, "only what is left");
        // Nothing left: a third take waits until the socket takes bytes.
        let waiting = tokio::time::timeout(Duration::from_millis(50), meter.take(4)).await;
        assert!(waiting.is_err());
        io.write_all(b"abcd").await.unwrap();
        assert_eq!(meter.take(8).await, 4);
        let mut sink = [0u8; 4];
        client.read_exact(&mut sink).await.unwrap();
    }

    #[tokio::test]
    async fn a_blocked_socket_is_a_stall_once_the_limit_passes() {
        let (_client, server) = tokio::io::duplex(4);
        let meter = Arc::new(Meter::new(64, None));
        let mut io = Io::new(server, BytesMut::new(), meter.clone());
        io.write_all(b"full").await.unwrap();
        // The pipe is full: this write blocks.
        let blocked = tokio::time::timeout(Duration::from_millis(10), io.write_all(b"more")).await;
        assert!(blocked.is_err());
        assert!(!meter.stalled(Duration::from_secs(60)));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(meter.stalled(Duration::from_millis(20)));
    }
}
