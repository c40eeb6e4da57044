//! How long an HTTP/1.1 connection may wait for its next request, and what
//! happens when the wait ends: one pure function of the connection's
//! state, so every case is a row in a table test.

use std::time::Duration;

use tokio::time::Instant;

/// How long an idle connection may still bring a request once shutdown
/// has begun.
pub(super) const IDLE_AT_SHUTDOWN: Duration = Duration::from_millis(250);

/// What the connection knows when it starts to wait.
#[derive(Debug, Clone, Copy)]
pub(super) struct Idle {
    pub(super) now: Instant,
    /// Shutdown has begun.
    pub(super) stopping: bool,
    /// The deadline a connection resumed from parking brought with it.
    pub(super) resumed: Option<Instant>,
    /// Requests answered so far.
    pub(super) served: u64,
    /// Parking delay (plain TCP with a parker only).
    pub(super) park_after: Option<Duration>,
    /// Time for a new connection's first request head (`Timeouts::head_read`).
    pub(super) head_read: Duration,
    /// Time between requests (`Timeouts::keep_alive`).
    pub(super) keep_alive: Duration,
}

/// The wait's timer and what its expiry means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Wait {
    /// When the timer fires.
    pub(super) until: Instant,
    /// The connection's own deadline: it closes then. When it is later
    /// than `until`, the timer's expiry parks the connection, which the
    /// parker closes at this deadline unless a request comes first.
    pub(super) deadline: Instant,
}

impl Wait {
    /// True when the timer's expiry parks the connection rather than
    /// closing it.
    pub(super) fn parks(&self) -> bool {
        self.until < self.deadline
    }
}

/// The wait for the next request.
///
/// - A new connection gets `head_read` for its first request (it is idle
///   until its first byte); later waits get `keep_alive`.
/// - A connection resumed from parking keeps the deadline it had.
/// - Shutting down, an idle connection gets a last short window, so a
///   request already on its way is answered (with `Connection: close`)
///   instead of meeting a closed socket: a rolling restart then loses
///   nothing. It never extends a deadline.
/// - With parking on (and not shutting down), the timer fires after the
///   park delay if that comes first.
#[inline]
pub(super) fn wait(idle: Idle) -> Wait {
    let now = idle.now;
    let deadline = if idle.stopping {
        let last = now + IDLE_AT_SHUTDOWN.min(idle.keep_alive);
        idle.resumed.map_or(last, |d| d.min(last))
    } else if let Some(deadline) = idle.resumed {
        deadline
    } else if idle.served == 0 {
        now + idle.head_read
    } else {
        now + idle.keep_alive
    };
    let until = match idle.park_after {
        Some(after) if !idle.stopping => deadline.min(now + after),
        _ => deadline,
    };
    Wait { until, deadline }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_idle_deadline_table() {
        let now = Instant::now();
        let base = Idle {
            now,
            stopping: false,
            resumed: None,
            served: 0,
            park_after: None,
            head_read: ms(10_000),
            keep_alive: ms(5_000),
        };
        // (case, state, timer after, deadline after, parks)
        let rows: &[(&str, Idle, u64, u64, bool)] = &[
            ("new connection: head_read", base, 10_000, 10_000, false),
            (
                "after a request: keep_alive",
                Idle { served: 1, ..base },
                5_000,
                5_000,
                false,
            ),
            (
                "resumed: its own deadline",
                Idle {
                    served: 3,
                    resumed: Some(now + ms(1_234)),
                    ..base
                },
                1_234,
                1_234,
                false,
            ),
            (
                "parking: the timer fires at the park delay",
                Idle {
                    served: 1,
                    park_after: Some(ms(10)),
                    ..base
                },
                10,
                5_000,
                true,
            ),
            (
                "parking, deadline sooner than the delay: close",
                Idle {
                    served: 1,
                    resumed: Some(now + ms(3)),
                    park_after: Some(ms(10)),
                    ..base
                },
                3,
                3,
                false,
            ),
            (
                "stopping: a last short window, no parking",
                Idle {
                    served: 1,
                    stopping: true,
                    park_after: Some(ms(10)),
                    ..base
                },
                250,
                250,
                false,
            ),
            (
                "stopping, short keep-alive: the keep-alive",
                Idle {
                    served: 1,
                    stopping: true,
                    keep_alive: ms(100),
                    ..base
                },
                100,
                100,
                false,
            ),
            (
                "stopping never extends a resumed deadline",
                Idle {
                    stopping: true,
                    resumed: Some(now + ms(40)),
                    ..base
                },
                40,
                40,
                false,
            ),
            (
                "stopping caps a later resumed deadline",
                Idle {
                    stopping: true,
                    resumed: Some(now + ms(4_000)),
                    ..base
                },
                250,
                250,
                false,
            ),
        ];
        for &(case, idle, until, deadline, parks) in rows {
            let wait = wait(idle);
            assert_eq!(wait.until, now + ms(until), "{case}: timer");
            assert_eq!(wait.deadline, now + ms(deadline), "{case}: deadline");
            assert_eq!(wait.parks(), parks, "{case}: parks");
        }
    }
}
