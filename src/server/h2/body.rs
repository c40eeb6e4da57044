//! An HTTP/2 request body as the handler reads it: the stream's DATA
//! frames, pulled on demand, with flow-control capacity released as each
//! piece is taken (so a handler that reads slowly slows the client down,
//! and one that never reads costs at most the stream window).
//!
//! A body the handler drops before its end comes back to the stream
//! ([`Leftover`]), which reads the rest (within a budget) before it
//! answers: a request that turns out malformed (trailers that are not,
//! frames after a reset) then gets its stream error, not a response.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;
use tokio::time::{Sleep, timeout};

use crate::body::{BodyError, BodyErrorKind, Source};

pub(super) struct RequestBody {
    recv: Option<h2::RecvStream>,
    /// The longest pause allowed between pieces (`Timeouts::body_read`),
    /// and the timer that enforces it while the handler waits.
    pause: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    /// The handler is waiting for the next piece (the timer runs).
    waiting: bool,
    failed: bool,
    leftover: Leftover,
    /// Told of the handler's first read (for `100 Continue`).
    first_read: Option<Arc<Notify>>,
}

/// Where a request body the handler dropped unfinished is left for its
/// stream.
#[derive(Clone, Default)]
pub(super) struct Leftover(Arc<Mutex<Option<h2::RecvStream>>>);

impl Leftover {
    /// The body, if the handler dropped it before its end.
    pub(super) fn take(&self) -> Option<h2::RecvStream> {
        self.0.lock().ok()?.take()
    }
}

impl RequestBody {
    pub(super) fn new(
        recv: h2::RecvStream,
        pause: Duration,
        leftover: Leftover,
        first_read: Option<Arc<Notify>>,
    ) -> RequestBody {
        RequestBody {
            recv: Some(recv),
            pause,
            timer: None,
            waiting: false,
            failed: false,
            leftover,
            first_read,
        }
    }
}

impl Source for RequestBody {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        if let Some(first_read) = self.first_read.take() {
            first_read.notify_one();
        }
        let Some(recv) = self.recv.as_mut().filter(|_| !self.failed) else {
            return Poll::Ready(None);
        };
        let data = match recv.poll_data(cx) {
            Poll::Pending => {
                // A client that stops sending its body mid-way is timed out
                // as over HTTP/1.1: the handler sees the error.
                let deadline = tokio::time::Instant::now() + self.pause;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !self.waiting {
                    // The pause starts now, not at the last piece: the
                    // handler may have been busy since.
                    self.waiting = true;
                    timer.as_mut().reset(deadline);
                }
                if timer.as_mut().poll(cx).is_ready() {
                    self.failed = true;
                    return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Timeout))));
                }
                return Poll::Pending;
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Ok(data))) => data,
            Poll::Ready(Some(Err(e))) => {
                self.failed = true;
                // A reset or a lost connection: the body is cut short.
                tracing::debug!("HTTP/2 request body: {e}");
                return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Incomplete))));
            }
        };
        self.waiting = false;
        // The handler has the bytes: the client may send as many more.
        let _ = recv.flow_control().release_capacity(data.len());
        Poll::Ready(Some(Ok(data)))
    }

    fn refuse(&mut self) {
        // Not left for the stream to read: the `h2` crate resets the
        // receiving half after the response (RFC 9113 §8.1).
        self.failed = true;
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if self.failed {
            return;
        }
        if let Some(recv) = self.recv.take().filter(|r| !r.is_end_stream())
            && let Ok(mut slot) = self.leftover.0.lock()
        {
            *slot = Some(recv);
        }
    }
}

/// How reading the rest of a dropped request body ended.
pub(super) enum Rest {
    /// The request ended cleanly: answer it.
    Ended,
    /// More than the budget, or nothing for too long: answer anyway
    /// (the `h2` crate resets the stream's receiving half after the
    /// response, RFC 9113 §8.1).
    GaveUp,
    /// The stream failed (reset, malformed): no answer.
    Failed { by_peer: bool },
}

/// Reads and discards the rest of a request body, releasing its
/// capacity, up to `budget` bytes and `pause` between pieces.
pub(super) async fn read_rest(mut recv: h2::RecvStream, budget: u64, pause: Duration) -> Rest {
    let mut read = 0u64;
    loop {
        match timeout(pause, recv.data()).await {
            Err(_) => return Rest::GaveUp,
            Ok(None) => break,
            Ok(Some(Ok(data))) => {
                let _ = recv.flow_control().release_capacity(data.len());
                read += data.len() as u64;
                if read > budget {
                    return Rest::GaveUp;
                }
            }
            Ok(Some(Err(e))) => {
                return Rest::Failed {
                    by_peer: e.is_reset() && e.is_remote(),
                };
            }
        }
    }
    // Trailers, if any, are checked as they arrive.
    match timeout(pause, recv.trailers()).await {
        Ok(Ok(_)) => Rest::Ended,
        Ok(Err(e)) => Rest::Failed {
            by_peer: e.is_reset() && e.is_remote(),
        },
        Err(_) => Rest::GaveUp,
    }
}
