//! Step 4 of an HTTP/1.1 exchange: what the handler left unread of a
//! request body is read and discarded, up to the drain budget, so the
//! connection can carry the next request; beyond the budget, or when the
//! body cannot be read, the connection closes instead (RFC 9112 §9.6).

use tokio::time::timeout;

use super::conn::{Driver, Stop};
use crate::Handler;
use crate::proto::{CloseReason, ErrorKind, Event, ProtocolError};
use crate::server::transport::Transport;

impl<H: Handler, S: Transport> Driver<H, S> {
    /// Consumes what is already buffered of a request body the handler did
    /// not read: `Err` when its framing is bad (a chunk size that is not
    /// one), so the request is answered `400` rather than by the handler.
    /// Returns the body bytes discarded.
    pub(super) fn drain_buffered(&mut self) -> Result<u64, ProtocolError> {
        let mut drained = 0u64;
        loop {
            match self.conn.next_event() {
                Ok(Event::Data(d)) => {
                    if self.spend_drain_budget(&mut drained, d.len()) {
                        return Ok(drained);
                    }
                }
                Ok(_) => return Ok(drained),
                Err(e) if e.kind() == ErrorKind::IncompleteBody => return Ok(drained),
                Err(e) => return Err(e),
            }
        }
    }

    /// Counts `len` more discarded body bytes against the drain budget;
    /// past it, the connection closes after this response (`true`: stop
    /// draining).
    fn spend_drain_budget(&mut self, drained: &mut u64, len: usize) -> bool {
        *drained += len as u64;
        let over = *drained > self.config.drain_budget;
        if over {
            self.conn.close(CloseReason::BodyUnread);
        }
        over
    }

    /// Step 4: reads and discards the unread rest of the request body, up to
    /// the drain budget (`drained` of it already spent); beyond it, or if
    /// the request is not worth it, the connection closes.
    pub(super) async fn drain_body(&mut self, mut drained: u64) -> Result<(), Stop> {
        if self.conn.state().close.is_some() {
            return Ok(());
        }
        loop {
            match self.conn.next_event() {
                Ok(Event::Data(d)) => {
                    if self.spend_drain_budget(&mut drained, d.len()) {
                        return Ok(());
                    }
                }
                Ok(Event::End(_)) => return Ok(()),
                Ok(Event::NeedData) => {
                    self.flush().await?;
                    match timeout(self.config.timeouts.body_read, self.read_some()).await {
                        Ok(Ok(0)) => self.conn.receive_eof(),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Err(e.into()),
                        Err(_) => return Err(Stop::Timeout),
                    }
                }
                Ok(_) | Err(_) => {
                    self.conn.close(CloseReason::BodyUnread);
                    return Ok(());
                }
            }
        }
    }
}
