//! The HTTP/1.1 side of a protocol switch (RFC 9110 §7.8): offering the
//! upgrade to the handler, checking its `101`, and handing the connection
//! over once the `101` is on the wire.
//!
//! A request that offers an upgrade (see
//! [`State::upgrade_offered`](crate::proto::State::upgrade_offered))
//! carries an offer in its extensions, which the handler takes with
//! [`berth::upgrade::on`](crate::upgrade::on). The driver keeps the other
//! end. A `101` is sent only when it answers that offer: the handler still
//! holds it, the response names the protocol in `Upgrade` (RFC 9110
//! §15.2.2: a server MUST send one), and the request has ended (its body
//! read), so every byte after it belongs to the new protocol. Any other
//! `101` is a handler bug and becomes a `500`.
//!
//! After the switch the connection's task stays, holding the connection's
//! place under the connection cap, until the handler drops the stream.

use tokio::sync::oneshot;

use super::conn::Driver;
use crate::proto::RequestProgress;
use crate::server::transport::Transport;
use crate::upgrade::{Handover, Offer, Upgraded};
use crate::{Handler, Request};

/// The driver's end of an upgrade offer.
pub(crate) type UpgradeSender = oneshot::Sender<Upgraded>;

/// Puts an upgrade offer into `request`; returns the driver's end.
#[cold]
pub(super) fn offer(request: &mut Request) -> UpgradeSender {
    let (tx, offer) = Offer::new();
    request.extensions_mut().insert(offer);
    tx
}

impl<H: Handler, S: Transport> Driver<H, S> {
    /// Whether the handler's `parts` (an interim status) may go out: only
    /// a `101` that answers the current request's upgrade offer. Marks the
    /// driver as switched when it does.
    #[cold]
    pub(super) fn may_switch(&mut self, parts: &http::response::Parts) -> bool {
        let answers_offer = parts.status == http::StatusCode::SWITCHING_PROTOCOLS
            && parts.headers.contains_key(http::header::UPGRADE)
            && self.offer.as_ref().is_some_and(|tx| !tx.is_closed())
            && self.conn.state().request == RequestProgress::Complete;
        self.switched = answers_offer;
        answers_offer
    }
}

/// Hands the connection to the handler that switched it, with the bytes
/// already read after the request. Returns what resolves when the handler
/// drops it (the connection's task waits for that), or `None` when the
/// handler is gone.
#[cold]
pub(super) fn hand_over<H: Handler, S: Transport>(
    mut driver: Driver<H, S>,
) -> Option<oneshot::Receiver<()>> {
    let tx = driver.offer.take()?;
    let read = driver.conn.read_buf_mut().split().freeze();
    let timeouts = driver.config.timeouts;
    let mut stop = driver.stop.clone();
    let killed = Box::pin(async move {
        stop.stopped().await;
        tokio::time::sleep(timeouts.shutdown_grace).await;
    });
    let (upgraded, dropped) = Upgraded::new(Handover {
        io: Box::new(driver.stream),
        read,
        idle: timeouts.upgraded_idle,
        write_limit: timeouts.write,
        killed,
    });
    tracing::debug!(peer = %driver.peer, "connection upgraded");
    tx.send(upgraded).ok().map(|()| dropped)
}
