//! HTTP/2 (RFC 9113) through the `h2` crate, on the same serving core as
//! HTTP/1.1: the crate owns framing, HPACK, flow control and its flood
//! defences; berth owns what a server adds around them.
//!
//! - `mod` (this file): one connection: the handshake with berth's
//!   settings, accepting streams (one task each), the idle timeout (no open
//!   stream), graceful shutdown (GOAWAY, then the open streams finish),
//!   rapid-reset detection, and dropping a connection whose peer stopped
//!   reading;
//! - `stream`: one stream: the request handed to the serving core
//!   (`100 Continue` when the handler first reads), the response head (no
//!   connection-specific fields) and body sent within granted flow-control
//!   capacity;
//! - `body`: the request body, with capacity released as the handler
//!   reads;
//! - `io`: the transport as the codec sees it: bytes HTTP/1.1 read
//!   replayed first, writes gathered for the writer;
//! - `writer`: sends what the codec gathered, one write per turn;
//! - `meter`: the budget of response bytes waiting per connection, and
//!   the clock of a peer that stopped reading.
//!
//! The request's conversion, the limits checked before a handler is
//! called and the response head's rules are shared with HTTP/3
//! (`serve::framed`). Nothing here knows HTTP/1.1.

mod body;
mod io;
mod meter;
mod stream;
mod writer;

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until, timeout};

use self::io::{Io, Outbound};
use self::meter::Meter;
use self::writer::Writer;
use crate::Handler;
use crate::server::config::ServerConfig;
use crate::server::metrics::Http2Event;
use crate::server::serve::Shutdown;

/// The ALPN protocol id of HTTP/2 over TLS (RFC 9113 §3.2).
#[cfg(feature = "tls")]
pub(crate) const ALPN: &[u8] = b"h2";

/// How often a busy connection checks that its peer still reads.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long a connection closing because it was idle may take to deliver
/// its GOAWAY before it is dropped.
const GOAWAY_GRACE: Duration = Duration::from_secs(1);

/// What a connection shares with its streams.
struct Conn<H> {
    handler: Arc<H>,
    config: Arc<ServerConfig>,
    peer: SocketAddr,
    meter: Arc<Meter>,
    /// Streams being served now.
    open: AtomicUsize,
    /// When the last stream ended, in milliseconds since `epoch`.
    last_end: AtomicU64,
    /// Woken when the last open stream ends (the idle timer starts).
    idle: Notify,
    epoch: Instant,
    /// The `Alt-Svc` field every response carries (TLS with HTTP/3 on).
    alt_svc: Option<Box<http::HeaderValue>>,
    /// Streams accepted, and those the client reset before their response
    /// was complete.
    streams: AtomicU64,
    resets: AtomicU64,
}

impl<H> Conn<H> {
    fn millis(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn reset_by_peer(&self) {
        self.resets.fetch_add(1, Ordering::Relaxed);
        self.count(Http2Event::ClientReset);
    }

    fn count(&self, event: Http2Event) {
        if let Some(metrics) = &self.config.metrics {
            metrics.http2(event);
        }
    }

    /// Rapid reset (CVE-2023-44487): a client that cancels most of the
    /// streams it opens makes the server start work it never has to
    /// finish, without ever reaching the stream limit. More than twice
    /// the stream limit of cancelled streams, and more than half of all
    /// the connection's streams, is an attack, not a browser navigating
    /// away.
    fn resets_too_many(&self) -> bool {
        let resets = self.resets.load(Ordering::Relaxed);
        let limit = 2 * u64::from(self.config.http2.max_concurrent_streams).max(50);
        resets > limit && resets * 2 > self.streams.load(Ordering::Relaxed)
    }
}

/// Counts a stream as open while it is served.
struct Open<H>(Arc<Conn<H>>);

impl<H> Drop for Open<H> {
    fn drop(&mut self) {
        self.0.last_end.store(self.0.millis(), Ordering::Relaxed);
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_one();
        }
    }
}

/// Serves one HTTP/2 connection until it closes. `replay` holds bytes
/// already read from `io` (the preface, for a cleartext connection that
/// started as HTTP/1.1); every response carries `alt_svc`, if any.
pub(crate) async fn serve_connection<H, T>(
    io: T,
    replay: BytesMut,
    peer: SocketAddr,
    handler: Arc<H>,
    config: Arc<ServerConfig>,
    mut stop: Shutdown,
    alt_svc: Option<Box<http::HeaderValue>>,
) where
    H: Handler,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let settings = config.http2;
    let meter = Arc::new(Meter::new(
        settings.max_buffered_bytes,
        config.metrics.clone(),
    ));
    let (read, write) = tokio::io::split(io);
    let out = Arc::new(Outbound::new(write));
    let io = Io::new(read, replay, out.clone(), meter.clone());
    let mut writer = Writer::new(out, meter.clone());
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(settings.max_concurrent_streams)
        .initial_window_size(settings.stream_window)
        .initial_connection_window_size(settings.connection_window)
        // RFC 9113 §6.5.2: the same budget as an HTTP/1.1 head.
        .max_header_list_size(u32::try_from(config.limits.max_head_bytes).unwrap_or(u32::MAX))
        .max_send_buffer_size(settings.max_buffered_bytes.min(u32::MAX as usize));
    let handshake = builder.handshake::<_, Bytes>(io);
    let mut h2 = tokio::select! {
        biased;
        done = timeout(config.timeouts.head_read, handshake) => match done {
            Ok(Ok(h2)) => h2,
            Ok(Err(e)) => {
                tracing::debug!(%peer, "HTTP/2 handshake failed: {e}");
                // Its GOAWAY (a bad preface, RFC 9113 §3.4), if the peer
                // takes it soon.
                let _ = timeout(GOAWAY_GRACE, poll_fn(|cx| writer.poll_flush_out(cx))).await;
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "HTTP/2 handshake timed out");
                return;
            }
        },
        // The server's SETTINGS go out while the client's preface arrives.
        e = poll_fn(|cx| writer.poll_drain(cx)) => {
            tracing::debug!(%peer, "HTTP/2 handshake failed: {e}");
            return;
        }
        () = stop.stopped() => return,
    };
    let conn = Arc::new(Conn {
        handler,
        config,
        peer,
        meter,
        alt_svc,
        open: AtomicUsize::new(0),
        last_end: AtomicU64::new(0),
        idle: Notify::new(),
        epoch: Instant::now(),
        streams: AtomicU64::new(0),
        resets: AtomicU64::new(0),
    });
    conn.count(Http2Event::Connection);
    let write_timeout = conn.config.timeouts.write;
    let idle_after = settings.idle_timeout;
    // One timer for every deadline: idle (no open stream), the end of a
    // closing connection's grace, and the periodic check for a peer that
    // stopped reading.
    let timer = sleep_until(Instant::now() + idle_after.min(CHECK_EVERY));
    tokio::pin!(timer);
    // Made once, not per accepted stream: each registration takes a lock.
    let stopping = stop.stopped();
    tokio::pin!(stopping);
    let went_idle = conn.idle.notified();
    tokio::pin!(went_idle);
    let mut closing: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            accepted = h2.accept() => match accepted {
                Some(Ok((request, respond))) => {
                    conn.streams.fetch_add(1, Ordering::Relaxed);
                    conn.open.fetch_add(1, Ordering::AcqRel);
                    conn.count(Http2Event::Stream);
                    let open = Open(conn.clone());
                    // Boxed: tokio copies a task's future into its cell and
                    // writes the whole stage again when it ends (callgrind:
                    // about 2,000 instructions of memcpy per stream).
                    tokio::spawn(Box::pin(stream::serve(request, respond, open)));
                    if closing.is_none() && conn.resets_too_many() {
                        tracing::warn!(%peer, "HTTP/2 rapid reset: closing the connection");
                        conn.count(Http2Event::RapidReset);
                        h2.abrupt_shutdown(h2::Reason::ENHANCE_YOUR_CALM);
                        closing = Some(Instant::now() + GOAWAY_GRACE);
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!(%peer, "HTTP/2 connection error: {e}");
                    break;
                }
                None => break,
            },
            // After the codec has written all it could this turn: one
            // write for all of it.
            e = poll_fn(|cx| writer.poll_drain(cx)) => {
                tracing::debug!(%peer, "HTTP/2 connection write failed: {e}");
                break;
            }
            () = &mut stopping, if closing.is_none() => {
                // RFC 9113 §6.8: GOAWAY, then the streams already open
                // finish (within the server's grace period).
                conn.count(Http2Event::ShutdownGoaway);
                h2.graceful_shutdown();
                closing = Some(Instant::now() + conn.config.timeouts.shutdown_grace);
            }
            () = &mut went_idle => {
                went_idle.set(conn.idle.notified());
                // Sooner, never later: the timer also runs the stall check.
                let at = (Instant::now() + idle_after).min(timer.deadline());
                timer.as_mut().reset(closing.map_or(at, |c| c.min(at)));
            }
            () = &mut timer => {
                let now = Instant::now();
                if closing.is_some_and(|deadline| now >= deadline) {
                    tracing::debug!(%peer, "HTTP/2 connection did not close in time; dropping it");
                    break;
                }
                if conn.meter.stalled(write_timeout) {
                    tracing::debug!(%peer, "HTTP/2 peer stopped reading; dropping the connection");
                    conn.count(Http2Event::StalledPeer);
                    break;
                }
                let idle_since = conn.epoch + Duration::from_millis(conn.last_end.load(Ordering::Relaxed));
                let idle = conn.open.load(Ordering::Acquire) == 0;
                if closing.is_none() && idle && now >= idle_since + idle_after {
                    tracing::debug!(%peer, "HTTP/2 connection idle; closing it");
                    conn.count(Http2Event::IdleClose);
                    h2.graceful_shutdown();
                    closing = Some(now + GOAWAY_GRACE);
                }
                let mut next = now + CHECK_EVERY.min(write_timeout);
                if idle && closing.is_none() {
                    next = next.min((idle_since + idle_after).max(now + Duration::from_millis(1)));
                }
                if let Some(deadline) = closing {
                    next = next.min(deadline);
                }
                timer.as_mut().reset(next);
            }
        }
    }
    // What the codec wrote last (a GOAWAY after an error) goes out, if the
    // peer takes it soon.
    let _ = timeout(GOAWAY_GRACE, poll_fn(|cx| writer.poll_flush_out(cx))).await;
}
