//! The HTTP/1.1 connection's write side: the one owner of its write
//! buffer, of the count of bytes sent, of the pipelining batch and of the
//! Nagle/`MSG_MORE` state. Every byte a connection sends goes through an
//! [`Outbox`]: response heads and bodies, `100 Continue`, error answers,
//! `sendfile`. `sendfile` and `MSG_MORE` are Linux's (see
//! [`platform`](crate::platform)): elsewhere file bodies are read into the
//! buffer like any other.
//!
//! The flush rule: encoded responses wait in the buffer while more
//! requests are buffered behind them (pipelining), and leave together when
//! the next step would wait, when `max_pipelined` responses are batched,
//! or when the buffer passes [`FLUSH_AT`].

use std::future::Future;
use std::io::{self, IoSlice};
use std::task::Poll;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
#[cfg(target_os = "linux")]
use tokio::io::Interest;
use tokio::time::timeout;

#[cfg(target_os = "linux")]
use crate::body::FileRange;
use crate::proto::Connection;
use crate::server::transport::Transport;

/// Write-buffer size at which encoded responses are flushed.
pub(super) const FLUSH_AT: usize = 64 * 1024;
/// Most bytes handed to one `sendfile` call.
#[cfg(target_os = "linux")]
const SENDFILE_CHUNK: u64 = 1 << 20;

/// Why a `sendfile` stopped short.
#[cfg(target_os = "linux")]
pub(super) enum SendFileError {
    /// The file ended before the promised length.
    Shrank,
    Io(io::Error),
    Timeout,
}

pub(super) struct Outbox {
    buf: Vec<u8>,
    /// Responses encoded since the last flush.
    batched: usize,
    /// Bytes written since last reported to the metrics.
    sent: u64,
    nagle: Nagle,
    /// Longest a write may make no progress.
    limit: Duration,
}

/// When to turn Nagle's algorithm off. It only delays a write while
/// earlier data is unacknowledged, so a connection's first write never
/// waits: like nginx, `TCP_NODELAY` is set only before a connection's
/// second write (a keep-alive response, a body after its head), and a
/// one-request connection saves the `setsockopt`. Only plain TCP sets it
/// late (TLS sockets get it on accept).
struct Nagle {
    /// Something was written on the connection.
    wrote: bool,
    /// `TCP_NODELAY` is set.
    off: bool,
}

impl Nagle {
    fn before_write(&mut self, stream: &impl Transport) {
        if self.wrote {
            self.turn_off(stream);
        }
        self.wrote = true;
    }

    fn turn_off(&mut self, stream: &impl Transport) {
        if !self.off {
            self.off = true;
            stream.set_nodelay();
        }
    }
}

impl Outbox {
    /// The outbox of a connection that has answered `served` requests
    /// (a resumed one has written before).
    pub(super) fn new(served: u64, limit: Duration) -> Outbox {
        Outbox {
            buf: Vec::new(),
            batched: 0,
            sent: 0,
            nagle: Nagle {
                wrote: served > 0,
                // Two responses mean two writes: set by the second at the latest.
                off: served >= 2,
            },
            limit,
        }
    }

    /// The buffer responses are encoded into (appended to, never written
    /// from outside).
    #[inline]
    pub(super) fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Nothing is buffered and none was allocated since the last release.
    pub(super) fn is_released(&self) -> bool {
        self.buf.capacity() == 0
    }

    /// Frees the buffer while the connection idles.
    pub(super) fn release(&mut self) {
        self.buf = Vec::new();
    }

    /// Bytes written since the last call (for the metrics).
    pub(super) fn take_sent(&mut self) -> u64 {
        std::mem::take(&mut self.sent)
    }

    /// Counts one more response encoded; true when the batch must go out
    /// now rather than wait for the responses behind it.
    pub(super) fn batch_full(&mut self, more_buffered: bool, max_pipelined: usize) -> bool {
        self.batched += 1;
        !more_buffered || self.batched >= max_pipelined || self.buf.len() >= FLUSH_AT
    }

    /// Writes everything buffered.
    pub(super) async fn flush<S: Transport>(&mut self, stream: &mut S) -> io::Result<()> {
        self.batched = 0;
        if self.buf.is_empty() {
            return Ok(());
        }
        self.nagle.before_write(stream);
        let buf = &self.buf;
        let write = async {
            stream.write_all(buf).await?;
            // TLS holds encrypted bytes until flushed; TCP's flush is a no-op.
            stream.flush().await
        };
        let result = within(self.limit, write).await;
        self.sent += self.buf.len() as u64;
        self.buf.clear();
        if self.buf.capacity() > 4 * FLUSH_AT {
            self.buf = Vec::new();
        }
        result
    }

    /// Sends `100 Continue` (RFC 9110 §10.1.1) behind whatever is
    /// buffered, at once.
    pub(super) async fn send_continue<S: Transport>(
        &mut self,
        stream: &mut S,
        conn: &mut Connection,
    ) -> io::Result<()> {
        conn.send_continue(&mut self.buf);
        // The final response follows this interim one: no Nagle delay for
        // it (see `Nagle`).
        self.nagle.turn_off(stream);
        self.flush(stream).await
    }

    /// Writes the buffered head followed by `body` with as few syscalls as
    /// possible.
    pub(super) async fn write_vectored<S: Transport>(
        &mut self,
        stream: &mut S,
        body: &[u8],
    ) -> io::Result<()> {
        self.nagle.before_write(stream);
        let head = &self.buf;
        let write = async {
            let mut bufs = [IoSlice::new(head), IoSlice::new(body)];
            let mut slices: &mut [IoSlice<'_>] = &mut bufs;
            IoSlice::advance_slices(&mut slices, 0);
            while !slices.is_empty() {
                let n = stream.write_vectored(slices).await?;
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::WriteZero));
                }
                IoSlice::advance_slices(&mut slices, n);
            }
            stream.flush().await
        };
        let result = within(self.limit, write).await;
        self.sent += (self.buf.len() + body.len()) as u64;
        self.buf.clear();
        self.batched = 0;
        result
    }

    /// Large file bodies on a plain socket: the buffered head goes out with
    /// `MSG_MORE`, then the kernel copies the file to the socket
    /// (`sendfile`), so its bytes never pass through user space.
    #[cfg(target_os = "linux")]
    pub(super) async fn send_file<S: Transport>(
        &mut self,
        stream: &mut S,
        range: &mut FileRange,
    ) -> Result<(), SendFileError> {
        // Head and file leave in several writes: no Nagle from the start.
        // (Set between the MSG_MORE head and the file instead, it cut
        // static-1m throughput to a third: 8,300 -> 2,400 req/s.)
        self.nagle.turn_off(stream);
        self.flush_more(stream).await.map_err(SendFileError::Io)?;
        let Some(stream) = stream.plain_tcp() else {
            return Err(SendFileError::Io(io::ErrorKind::Unsupported.into()));
        };
        let stream = stream.map_err(SendFileError::Io)?;
        while range.len > 0 {
            let count = range.len.min(SENDFILE_CHUNK) as usize;
            let mut offset = range.offset;
            let file = &*range.file;
            let send = async {
                loop {
                    stream.writable().await?;
                    let sent = stream.try_io(Interest::WRITABLE, || {
                        rustix::fs::sendfile(stream, file, Some(&mut offset), count)
                            .map_err(io::Error::from)
                    });
                    match sent {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        other => return other,
                    }
                }
            };
            match timeout(self.limit, send).await {
                // The file shrank under us: the promised length cannot be
                // delivered.
                Ok(Ok(0)) => return Err(SendFileError::Shrank),
                Ok(Ok(n)) => {
                    self.sent += n as u64;
                    range.offset += n as u64;
                    range.len -= n as u64;
                }
                Ok(Err(e)) => return Err(SendFileError::Io(e)),
                Err(_) => return Err(SendFileError::Timeout),
            }
        }
        Ok(())
    }

    /// Flushes the buffer with `MSG_MORE`, so the kernel holds a partial
    /// packet for the file data that follows (as `TCP_CORK` would) instead
    /// of sending the head in a packet of its own.
    #[cfg(target_os = "linux")]
    async fn flush_more<S: Transport>(&mut self, stream: &mut S) -> io::Result<()> {
        let Some(tcp) = stream.plain_tcp() else {
            return self.flush(stream).await;
        };
        let tcp = tcp?;
        self.batched = 0;
        let mut sent = 0;
        let out = &self.buf;
        let write = async {
            while sent < out.len() {
                tcp.writable().await?;
                let result = tcp.try_io(Interest::WRITABLE, || {
                    rustix::net::send(tcp, &out[sent..], rustix::net::SendFlags::MORE)
                        .map_err(io::Error::from)
                });
                match result {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        };
        let result = within(self.limit, write).await;
        self.sent += self.buf.len() as u64;
        self.buf.clear();
        result
    }
}

/// A write that must make progress within `limit` (the write-idle timeout).
///
/// Most writes complete on their first try (the socket buffer has room):
/// those skip the timer, whose deadline alone costs a clock read (callgrind:
/// about 160 instructions per keep-alive request).
async fn within(limit: Duration, write: impl Future<Output = io::Result<()>>) -> io::Result<()> {
    let mut write = std::pin::pin!(write);
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    if let Poll::Ready(done) = first {
        return done;
    }
    match timeout(limit, write).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
    }
}
