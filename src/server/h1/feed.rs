//! The HTTP/1.1 request-body feed: moves body bytes from the connection's
//! read buffer (reading the socket as needed) to the handler's
//! [`Incoming`](crate::body::Incoming) body, one piece per handler read.
//! The body and the next request head share one read buffer, so the
//! connection's task feeds the body itself instead of handing the socket
//! away.

use tokio::time::timeout;

use super::outbox::Outbox;
use crate::body::{BodyError, BodyErrorKind, IncomingSender};
use crate::proto::{Connection, ErrorKind, Event};
use crate::server::config::ServerConfig;
use crate::server::transport::Transport;

/// The driver's side of a request body being fed to its reader.
pub(super) struct BodyFeed {
    pub(super) tx: IncomingSender,
}

impl BodyFeed {
    pub(super) fn new(tx: IncomingSender) -> BodyFeed {
        BodyFeed { tx }
    }

    /// The feed is over because the reader is gone: a body refused over
    /// its limit ends the connection (it closes after the response
    /// instead of reading the rest); a body dropped otherwise is drained.
    fn reader_gone(&self) -> Feed {
        if self.tx.is_refused() {
            Feed::Refused
        } else {
            Feed::Finished
        }
    }
}

pub(super) enum Feed {
    /// Go on; the number is the bytes read from the socket this step.
    More(usize),
    Finished,
    /// The reader refused the body (over its limit): the rest is not read.
    Refused,
    /// The body cannot be completed; `true` when the connection is
    /// unusable at once.
    Failed {
        fatal: bool,
    },
}

/// Bytes of room a body read asks for.
const BODY_READ: usize = 64 * 1024;

/// Moves one piece of request body from the socket to the handler. Waits
/// for the handler's first read (and sends `100 Continue` then).
pub(super) async fn feed_body<S: Transport>(
    stream: &mut S,
    conn: &mut Connection,
    out: &mut Outbox,
    feed: &mut BodyFeed,
    config: &ServerConfig,
) -> Feed {
    let tx = &feed.tx;
    if !tx.is_wanted() {
        tx.wanted().await;
    }
    if tx.is_closed() {
        return feed.reader_gone();
    }
    if conn.state().expects_continue {
        // RFC 9110 §10.1.1: 100 Continue once the handler wants the body.
        if out.send_continue(stream, conn).await.is_err() {
            return Feed::Failed { fatal: true };
        }
    }
    match conn.next_event() {
        Ok(Event::Data(data)) => {
            if tx.send(Ok(data)).await {
                Feed::More(0)
            } else {
                feed.reader_gone()
            }
        }
        Ok(Event::End(_)) => Feed::Finished,
        Ok(Event::NeedData) => {
            // Room for large reads while a body streams in, so the handler
            // gets large pieces: with the head-sized 8 KiB reads, an upload
            // loop writing each piece to a file made eight times the
            // writes (and wake-ups) per MiB.
            let buf = conn.read_buf_mut();
            if buf.capacity() - buf.len() < BODY_READ / 2 {
                buf.reserve(BODY_READ);
            }
            let read = stream.read_into(conn);
            match timeout(config.timeouts.body_read, read).await {
                Ok(Ok(0)) => {
                    conn.receive_eof();
                    Feed::More(0)
                }
                Ok(Ok(n)) => Feed::More(n),
                Ok(Err(e)) => {
                    tracing::debug!("request body read failed: {e}");
                    let _ = tx
                        .send(Err(BodyError::new(BodyErrorKind::Incomplete)))
                        .await;
                    Feed::Failed { fatal: true }
                }
                Err(_) => {
                    let _ = tx.send(Err(BodyError::new(BodyErrorKind::Timeout))).await;
                    Feed::Failed { fatal: false }
                }
            }
        }
        Ok(Event::Head(_) | Event::Paused | Event::Closed) => Feed::Finished,
        Err(e) => {
            let kind = if e.kind() == ErrorKind::IncompleteBody {
                BodyErrorKind::Incomplete
            } else {
                BodyErrorKind::Protocol(e)
            };
            let _ = tx.send(Err(BodyError::new(kind))).await;
            Feed::Failed { fatal: false }
        }
    }
}
