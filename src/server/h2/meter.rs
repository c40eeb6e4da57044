//! One HTTP/2 connection's write-side accounting: the budget of response
//! bytes that may wait in user space, and the clock of a peer that stopped
//! reading. Streams take room before handing bytes to the `h2` codec; the
//! connection's [`Writer`](super::writer::Writer) gives it back as the
//! socket accepts bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::server::metrics::Metrics;

/// One connection's write-side accounting.
///
/// - **Budget.** Streams take room before handing response bytes to the
///   `h2` codec, and the writer gives it back as the socket accepts bytes, so no
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

    /// The socket took `n` bytes: their room is free again.
    pub(super) fn sent(&self, n: usize) {
        self.blocked_since.store(0, Ordering::Relaxed);
        self.free(n);
        if let Some(metrics) = &self.metrics {
            metrics.add_bytes_sent(n as u64);
        }
    }

    /// The socket took nothing: it is blocked since now, unless it was
    /// already.
    pub(super) fn blocked(&self) {
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let _ = self
            .blocked_since
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Counts bytes read from the peer.
    pub(super) fn received(&self, n: usize) {
        if let Some(metrics) = &self.metrics {
            metrics.add_bytes_received(n as u64);
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

    #[tokio::test]
    async fn the_budget_is_given_back_as_the_socket_takes_bytes() {
        let meter = Meter::new(10, None);
        assert_eq!(meter.take(8).await, 8);
        assert_eq!(meter.take(8).await, 2, "only what is left");
        // Nothing left: a third take waits until the socket takes bytes.
        let waiting = tokio::time::timeout(Duration::from_millis(50), meter.take(4)).await;
        assert!(waiting.is_err());
        meter.sent(4);
        assert_eq!(meter.take(8).await, 4);
    }

    #[tokio::test]
    async fn a_blocked_socket_is_a_stall_once_the_limit_passes() {
        let meter = Meter::new(64, None);
        meter.blocked();
        assert!(!meter.stalled(Duration::from_secs(60)));
        tokio::time::sleep(Duration::from_millis(30)).await;
        meter.blocked();
        assert!(
            meter.stalled(Duration::from_millis(20)),
            "still blocked since the first"
        );
        meter.sent(1);
        assert!(
            !meter.stalled(Duration::from_millis(20)),
            "progress clears it"
        );
    }
}
