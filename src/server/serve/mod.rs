//! The protocol-neutral serving core: one [`Request`] in, one [`Response`]
//! out, whichever protocol carried it.
//!
//! Each protocol engine (`h1`, `h2`) owns its framing: it builds an
//! `http::Request` with a berth [`Body`](crate::Body), writes the response
//! in its own way, and leans on this module for everything about the
//! exchange that does not depend on the wire:
//! - [`start`] calls the handler under a panic guard, and [`settle`] turns
//!   a panic into a `500`, so a bug costs only its own request;
//! - [`Exchange`] records the access-log entry and the request metrics once
//!   the protocol has handed over the response's last byte (never when the
//!   handler returns: the status may still change, the bytes are not sent);
//! - [`Shutdown`] is the server's stop signal, which each protocol answers
//!   with its own verb (HTTP/1.1: `Connection: close` on the next response
//!   and closing idle connections; HTTP/2: GOAWAY, then finishing the open
//!   streams).

mod exchange;
pub(crate) mod framed;
mod panic;

use std::future::Future;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use http::{HeaderValue, StatusCode, header};
use tokio::sync::watch;

pub(crate) use exchange::Exchange;
pub(crate) use panic::CatchUnwind;

use crate::{Handler, Request, Response};

/// The handler's future for one request, with panics caught.
pub(crate) type Call = CatchUnwind<dyn Future<Output = Response> + Send>;

/// Starts the handler; a panic while it builds its future, or while the
/// future runs, comes out of the returned future as `Err` (see
/// [`settle`]). Inlined: the request is then moved once, into the handler.
#[inline(always)]
pub(crate) fn start<H: Handler + ?Sized>(handler: &H, request: Request) -> Call {
    let future = match catch_unwind(AssertUnwindSafe(|| handler.call(request))) {
        Ok(future) => future,
        Err(payload) => Box::pin(async move { std::panic::resume_unwind(payload) }),
    };
    CatchUnwind::new(future)
}

/// The handler's response, or a `500` if it panicked. Inlined (as
/// [`start`] is): the response is then built where it is used, not moved
/// out of a call.
#[inline(always)]
pub(crate) fn settle(
    result: Result<Response, Box<dyn std::any::Any + Send>>,
    peer: SocketAddr,
) -> Response {
    match result {
        Ok(response) => response,
        Err(payload) => panicked(&*payload, peer),
    }
}

/// The answer to a request whose handler panicked. It asks to close the
/// connection: HTTP/1.1 does (whatever state the handler left behind is
/// not trusted for another request); HTTP/2 drops connection-specific
/// fields and loses only the stream.
#[cold]
fn panicked(payload: &(dyn std::any::Any + Send), peer: SocketAddr) -> Response {
    tracing::error!(%peer, "handler panicked: {}", panic::message(payload));
    let mut response = crate::response::status(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Advertises HTTP/3 on a response over TCP (RFC 9114 §3.1.1), unless
/// the handler set its own `Alt-Svc`.
pub(crate) fn add_alt_svc(headers: &mut http::HeaderMap, alt_svc: &HeaderValue) {
    if !headers.contains_key(header::ALT_SVC) {
        headers.insert(header::ALT_SVC, alt_svc.clone());
    }
}

/// The server's stop signal, as each connection sees it. Once it is set,
/// no connection takes new work beyond what its protocol lets it finish
/// within the grace period.
#[derive(Clone, Debug)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub(crate) fn new(signal: watch::Receiver<bool>) -> Shutdown {
        Shutdown(signal)
    }

    /// True once shutdown has begun.
    #[inline]
    pub(crate) fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown has begun (at once if it has), or when the
    /// server is gone.
    pub(crate) async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }

    /// Resolves on the next change of the signal: `false` when the server
    /// is gone (treat as stopping).
    pub(crate) async fn changed(&mut self) -> bool {
        self.0.changed().await.is_ok()
    }
}
