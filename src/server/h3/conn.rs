//! One HTTP/3 connection's task: the QUIC handshake under its deadline,
//! the `h3` connection with berth's settings, one task per request
//! stream, the idle timeout (no open stream), and graceful shutdown
//! (GOAWAY, then the open streams finish within the grace period).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio::time::{Instant, sleep_until, timeout};

use super::{Handshaking, stream};
use crate::Handler;
use crate::server::accept::Shared;
use crate::server::config::ServerConfig;
use crate::server::metrics::Http3Event;
use crate::server::serve::Shutdown;

/// The `h3` connection over quinn.
pub(super) type H3Connection = h3::server::Connection<h3_quinn::Connection, Bytes>;
/// A request stream, before it is split.
pub(super) type RequestResolver = h3::server::RequestResolver<h3_quinn::Connection, Bytes>;

/// How long a connection that is done (idle, or shut down with no stream
/// left) waits for the peer to close it before closing it itself: the
/// GOAWAY and the last responses' final packets then get there and are
/// acknowledged, rather than cut off by a CONNECTION_CLOSE.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// What a connection shares with its streams.
pub(super) struct Conn<H> {
    pub(super) handler: Arc<H>,
    pub(super) config: Arc<ServerConfig>,
    pub(super) peer: SocketAddr,
    /// Streams being served now.
    open: AtomicUsize,
    /// When the last stream ended, in milliseconds since `epoch`.
    last_end: AtomicU64,
    /// Woken when the last open stream ends.
    idle: Notify,
    epoch: Instant,
}

impl<H> Conn<H> {
    fn millis(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(super) fn count(&self, event: Http3Event) {
        if let Some(metrics) = &self.config.metrics {
            metrics.http3(event);
        }
    }
}

/// Counts a stream as open while it is served.
pub(super) struct Open<H>(pub(super) Arc<Conn<H>>);

impl<H> Drop for Open<H> {
    fn drop(&mut self) {
        self.0.last_end.store(self.0.millis(), Ordering::Relaxed);
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_one();
        }
    }
}

/// Serves one QUIC connection until it closes; `permit` holds its place
/// under the connection cap.
pub(super) async fn serve<H: Handler>(
    connecting: quinn::Connecting,
    handshaking: Handshaking,
    permit: OwnedSemaphorePermit,
    shared: Arc<Shared<H>>,
    mut stop: Shutdown,
) {
    let config = shared.config.clone();
    let open_guard = config.metrics.as_ref().map(|m| m.connection_opened());
    let handshake = tokio::select! {
        biased;
        done = timeout(config.timeouts.tls_handshake, connecting) => done,
        () = stop.stopped() => return,
    };
    drop(handshaking);
    let quic = match handshake {
        Ok(Ok(quic)) => quic,
        Ok(Err(e)) => {
            tracing::debug!("QUIC handshake failed: {e}");
            if let Some(m) = &config.metrics {
                m.tls_handshake_failed();
            }
            return;
        }
        Err(_) => {
            tracing::debug!("QUIC handshake timed out");
            if let Some(m) = &config.metrics {
                m.tls_handshake_failed();
            }
            return;
        }
    };
    let peer = quic.remote_address();
    let mut builder = h3::server::builder();
    // RFC 9114 §4.2.2: larger heads are answered 431 by the crate.
    builder.max_field_section_size(config.http3.max_field_section_size);
    let h3 = builder.build::<_, Bytes>(h3_quinn::Connection::new(quic.clone()));
    let h3 = match timeout(config.timeouts.tls_handshake, h3).await {
        Ok(Ok(h3)) => h3,
        Ok(Err(e)) => {
            tracing::debug!(%peer, "HTTP/3 connection setup failed: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "HTTP/3 connection setup timed out");
            return;
        }
    };
    let conn = Arc::new(Conn {
        handler: shared.handler.clone(),
        config,
        peer,
        open: AtomicUsize::new(0),
        last_end: AtomicU64::new(0),
        idle: Notify::new(),
        epoch: Instant::now(),
    });
    conn.count(Http3Event::Connection);
    run(h3, &quic, &conn, &mut stop).await;
    drop((permit, open_guard));
}

/// The connection's loop: accepts request streams until the connection
/// ends, closes it when idle, and shuts it down gracefully.
async fn run<H: Handler>(
    mut h3: H3Connection,
    quic: &quinn::Connection,
    conn: &Arc<Conn<H>>,
    stop: &mut Shutdown,
) {
    let peer = conn.peer;
    let idle_after = conn.config.http3.idle_timeout;
    let timer = sleep_until(Instant::now() + idle_after);
    tokio::pin!(timer);
    // Made once, not per accepted stream: each registration takes a lock.
    let stopped = stop.stopped();
    tokio::pin!(stopped);
    let mut stopping = false;
    // When the connection has to be gone (shutdown: the grace period).
    let mut closing: Option<Instant> = None;
    loop {
        if closing.is_some() && conn.open.load(Ordering::Acquire) == 0 {
            break;
        }
        let went_idle = conn.idle.notified();
        tokio::pin!(went_idle);
        tokio::select! {
            biased;
            accepted = h3.accept() => match accepted {
                Ok(Some(resolver)) => {
                    conn.open.fetch_add(1, Ordering::AcqRel);
                    conn.count(Http3Event::Stream);
                    let open = Open(conn.clone());
                    tokio::spawn(Box::pin(stream::serve(resolver, open)));
                }
                // The client's GOAWAY, and nothing left open.
                Ok(None) => break,
                Err(e) => {
                    if !e.is_h3_no_error() {
                        tracing::debug!(%peer, "HTTP/3 connection error: {e}");
                    }
                    break;
                }
            },
            () = &mut stopped, if !stopping => {
                stopping = true;
                // RFC 9114 §5.2: GOAWAY, then the requests already sent
                // finish. Its identifier leaves room for every stream the
                // client may have open (it cannot open more than the
                // limit), so no request already on its way is refused.
                conn.count(Http3Event::ShutdownGoaway);
                let room = conn.config.http3.max_concurrent_streams as usize;
                let _ = timeout(CLOSE_GRACE, h3.shutdown(room)).await;
                closing = Some(Instant::now() + conn.config.timeouts.shutdown_grace);
                timer.as_mut().reset(closing.unwrap_or_else(Instant::now));
            }
            () = &mut went_idle => {
                if closing.is_none() {
                    timer.as_mut().reset(Instant::now() + idle_after);
                }
            }
            () = &mut timer => {
                let now = Instant::now();
                if closing.is_some_and(|deadline| now >= deadline) {
                    tracing::debug!(%peer, "HTTP/3 connection did not close in time; dropping it");
                    drop(h3);
                    return;
                }
                let idle_since =
                    conn.epoch + Duration::from_millis(conn.last_end.load(Ordering::Relaxed));
                let idle = conn.open.load(Ordering::Acquire) == 0;
                if closing.is_none() && idle && now >= idle_since + idle_after {
                    tracing::debug!(%peer, "HTTP/3 connection idle; closing it");
                    conn.count(Http3Event::IdleClose);
                    // Its identifier is the next stream's: every request
                    // accepted was answered.
                    let _ = timeout(CLOSE_GRACE, h3.shutdown(1)).await;
                    break;
                }
                let next = if idle { idle_since + idle_after } else { now + idle_after };
                timer.as_mut().reset(closing.map_or(next, |c| c.min(next)).max(now + Duration::from_millis(1)));
            }
        }
    }
    // Done: the peer closes once it has what it wanted (or gets the chance
    // to acknowledge the last packets), else the connection is closed
    // here with H3_NO_ERROR when `h3` is dropped.
    let _ = timeout(CLOSE_GRACE, quic.closed()).await;
    drop(h3);
}
