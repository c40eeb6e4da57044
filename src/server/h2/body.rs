//! An HTTP/2 request body as the handler reads it: the stream's DATA
//! frames, pulled on demand, with flow-control capacity released as each
//! piece is taken (so a handler that reads slowly slows the client down,
//! and one that never reads costs at most the stream window), and the
//! server's body limit applied.

use std::task::{Context, Poll};

use bytes::Bytes;

use crate::body::{BodyError, BodyErrorKind, Source};
use crate::server::serve::BodyLimit;

pub(super) struct RequestBody {
    recv: h2::RecvStream,
    limit: BodyLimit,
    failed: bool,
}

impl RequestBody {
    pub(super) fn new(recv: h2::RecvStream, limit: BodyLimit) -> RequestBody {
        RequestBody {
            recv,
            limit,
            failed: false,
        }
    }
}

impl Source for RequestBody {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let data = match self.recv.poll_data(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Ok(data))) => data,
            Poll::Ready(Some(Err(e))) => {
                self.failed = true;
                // A reset or a lost connection: the body is cut short.
                tracing::debug!("HTTP/2 request body: {e}");
                return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Incomplete))));
            }
        };
        // The handler has the bytes: the client may send as many more.
        let _ = self.recv.flow_control().release_capacity(data.len());
        if let Err(too_large) = self.limit.take(data.len()) {
            self.failed = true;
            return Poll::Ready(Some(Err(too_large)));
        }
        Poll::Ready(Some(Ok(data)))
    }
}
