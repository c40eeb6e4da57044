//! An HTTP/3 request body as the handler reads it: the stream's DATA
//! frames, pulled on demand. quinn extends the client's flow-control
//! credit as the bytes are read, so a handler that reads slowly slows the
//! client down, and one that never reads costs at most the stream window.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use h3::error::Code;
use tokio::sync::Notify;
use tokio::time::Sleep;

use crate::body::{BodyError, BodyErrorKind, Source};

/// The receiving half of a request stream.
pub(super) type RecvHalf = h3::server::RequestStream<h3_quinn::RecvStream, Bytes>;

pub(super) struct RequestBody {
    recv: RecvHalf,
    /// The longest pause allowed between pieces (`Timeouts::body_read`),
    /// and the timer that enforces it while the handler waits.
    pause: Duration,
    timer: Option<Pin<Box<Sleep>>>,
    /// The handler is waiting for the next piece (the timer runs).
    waiting: bool,
    /// The body ended, failed or was refused: nothing more is read.
    done: bool,
    /// Told of the handler's first read (for `100 Continue`).
    first_read: Option<Arc<Notify>>,
}

impl RequestBody {
    pub(super) fn new(
        recv: RecvHalf,
        pause: Duration,
        first_read: Option<Arc<Notify>>,
    ) -> RequestBody {
        RequestBody {
            recv,
            pause,
            timer: None,
            waiting: false,
            done: false,
            first_read,
        }
    }

    /// RFC 9114 §4.1: a server that does not need the rest of a request
    /// may abort reading it, asking the client to stop sending with
    /// H3_NO_ERROR, and still answer it.
    fn stop_reading(&mut self) {
        if !self.done {
            self.done = true;
            self.recv.stop_sending(Code::H3_NO_ERROR);
        }
    }
}

impl Source for RequestBody {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        if let Some(first_read) = self.first_read.take() {
            first_read.notify_one();
        }
        if self.done {
            return Poll::Ready(None);
        }
        let data = match self.recv.poll_recv_data(cx) {
            Poll::Pending => {
                // A client that stops sending its body mid-way is timed out
                // as over HTTP/1.1 and HTTP/2: the handler sees the error.
                let deadline = tokio::time::Instant::now() + self.pause;
                let timer = self
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !self.waiting {
                    self.waiting = true;
                    timer.as_mut().reset(deadline);
                }
                if timer.as_mut().poll(cx).is_ready() {
                    self.stop_reading();
                    return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Timeout))));
                }
                return Poll::Pending;
            }
            Poll::Ready(Ok(None)) => {
                // Trailers, if any, are not read: no handler asks for them.
                self.done = true;
                return Poll::Ready(None);
            }
            Poll::Ready(Ok(Some(mut data))) => data.copy_to_bytes(data.remaining()),
            Poll::Ready(Err(e)) => {
                // A reset, a malformed frame (the `h3` crate has answered
                // it) or a lost connection: the body is cut short.
                self.done = true;
                tracing::debug!("HTTP/3 request body: {e}");
                return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Incomplete))));
            }
        };
        self.waiting = false;
        Poll::Ready(Some(Ok(data)))
    }

    fn refuse(&mut self) {
        self.stop_reading();
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        // The handler answers without the rest (quinn would otherwise ask
        // with code 0, which is no HTTP/3 error code).
        self.stop_reading();
    }
}
