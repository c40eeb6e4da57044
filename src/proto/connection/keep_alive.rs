//! The keep-alive decision: whether a connection outlives the current
//! exchange and, when it does not, why ([`CloseReason`]).
//!
//! The connection reports what bears on it, as it happens, to its
//! `KeepAlive`: the request head (`request`: its version and connection
//! options), the response head (`response`: its options, its framing, a
//! `101`, a `100 Continue` still owed), and every other event that ends
//! the connection (`close`: a protocol error, the peer's EOF, the engine's
//! reasons, a response cut short). The rules are here and nowhere else;
//! what they decide is kept as one `Option<CloseReason>`, which the
//! response head's `Connection: close`, [`State::close`](super::State::close)
//! and [`Connection::start_next_cycle`](super::Connection::start_next_cycle)
//! all read. Within an exchange a decision to close is never taken back;
//! when several reasons apply, the one given is the first in
//! [`CloseReason`]'s order.

use std::fmt;

use http::Version;

use super::super::framing::ConnectionOptions;
use super::super::serialize::{BodyEncoder, HeadPlan};
use crate::proto::ErrorKind;

/// Why a connection closes after the current exchange, in order of
/// precedence: when several apply, the first is given (a broken request, a
/// switch, the client's own reasons, then the engine's, then the
/// response's). The names are stable; the `Display` text is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The request broke the protocol or a limit (its [`ErrorKind`]):
    /// where the next request would start cannot be known (RFC 9112 §6.3
    /// on framing errors: respond, then close).
    BadRequest(ErrorKind),
    /// A `101` switched the connection to another protocol (RFC 9110
    /// §15.2.2): nothing after it is HTTP/1.1.
    Upgrade,
    /// The client closed its side (EOF) before another request.
    PeerClosed,
    /// The request named the `close` connection option (RFC 9112 §9.6).
    ClientAsked,
    /// An HTTP/1.0 request without the `keep-alive` option (RFC 9112 §9.3).
    Http10WithoutKeepAlive,
    /// The engine refused the request body (over its limit) instead of
    /// reading it.
    BodyRefused,
    /// More of the request body was left unread than the engine drains.
    BodyUnread,
    /// Reading the request body failed (a timeout): it cannot be completed.
    BodyReadFailed,
    /// The server is shutting down.
    Shutdown,
    /// The request expected `100 Continue` and got a final response
    /// instead: it may send its body or not, so where the next request
    /// starts is unknown (RFC 9110 §10.1.1).
    ContinueUnanswered,
    /// The response named the `close` connection option (the handler's
    /// choice; RFC 9112 §9.6: the server MUST then close).
    ResponseAsked,
    /// The response body ends with the connection: an HTTP/1.0 response of
    /// unknown length (RFC 9112 §6.3, rule 8).
    ResponseCloseDelimited,
    /// The response was cut short: its body did not match its length, or
    /// a piece of it was abandoned.
    ResponseIncomplete,
}

impl CloseReason {
    /// A short stable name, for logs.
    pub fn slug(self) -> &'static str {
        use CloseReason::*;
        match self {
            BadRequest(_) => "bad-request",
            Upgrade => "upgrade",
            PeerClosed => "peer-closed",
            ClientAsked => "client-asked",
            Http10WithoutKeepAlive => "http10-without-keep-alive",
            BodyRefused => "body-refused",
            BodyUnread => "body-unread",
            BodyReadFailed => "body-read-failed",
            Shutdown => "shutdown",
            ContinueUnanswered => "continue-unanswered",
            ResponseAsked => "response-asked",
            ResponseCloseDelimited => "response-close-delimited",
            ResponseIncomplete => "response-incomplete",
        }
    }

    /// Its place in the order of precedence (lower goes first).
    fn rank(self) -> u8 {
        use CloseReason::*;
        match self {
            BadRequest(_) => 0,
            Upgrade => 1,
            PeerClosed => 2,
            ClientAsked => 3,
            Http10WithoutKeepAlive => 4,
            BodyRefused => 5,
            BodyUnread => 6,
            BodyReadFailed => 7,
            Shutdown => 8,
            ContinueUnanswered => 9,
            ResponseAsked => 10,
            ResponseCloseDelimited => 11,
            ResponseIncomplete => 12,
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::BadRequest(kind) => write!(f, "bad-request ({})", kind.slug()),
            other => f.write_str(other.slug()),
        }
    }
}

/// How a connection ends after its last exchange
/// ([`Connection::start_next_cycle`](super::Connection::start_next_cycle)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    /// Why it closes.
    pub reason: CloseReason,
    /// The client may still be sending: close in stages (half-close, then
    /// read and discard for a while) so that a request in flight does not
    /// meet a reset that destroys the response (RFC 9112 §9.6). False when
    /// the client itself ended the connection, with its complete request
    /// or its EOF, and nothing more has arrived: it must send nothing
    /// else, so closing at once resets nothing.
    pub linger: bool,
}

/// The keep-alive decision of one exchange (reset for each).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct KeepAlive {
    close: Option<CloseReason>,
}

impl KeepAlive {
    /// The decision so far: `None` while the connection would stay open
    /// after this exchange.
    #[inline]
    pub(super) fn reason(&self) -> Option<CloseReason> {
        self.close
    }

    /// The connection ends after this exchange, for `reason` (unless one
    /// that goes first applies too).
    #[inline]
    pub(super) fn close(&mut self, reason: CloseReason) {
        if self.close.is_none_or(|given| reason.rank() < given.rank()) {
            self.close = Some(reason);
        }
    }

    /// A request head of `version` naming `options` in its Connection
    /// field.
    #[inline]
    pub(super) fn request(&mut self, version: Version, options: ConnectionOptions) {
        // RFC 9112 §9.6: a server that receives the `close` option MUST
        // close after its response to that request. RFC 9112 §9.3:
        // otherwise HTTP/1.1 persists, and HTTP/1.0 only with the
        // `keep-alive` option (RFC 9110 §7.6.1: both are options of the
        // Connection field; RFC 9112 Appendix C.2.2).
        if options.close {
            self.close(CloseReason::ClientAsked);
        } else if version != Version::HTTP_11 && !options.keep_alive {
            self.close(CloseReason::Http10WithoutKeepAlive);
        }
    }

    /// A response head as planned; `continue_owed` when the request's
    /// `100 Continue` was never sent.
    #[inline]
    pub(super) fn response(&mut self, plan: &HeadPlan, continue_owed: bool) {
        // RFC 9110 §15.2.2: after a 101 the connection speaks the protocol
        // it switched to.
        if plan.switching {
            self.close(CloseReason::Upgrade);
        }
        // RFC 9110 §10.1.1: a server that answers before reading the
        // content should say whether it closes; the client may or may not
        // send the body it held back, so the next request cannot be found.
        if continue_owed {
            self.close(CloseReason::ContinueUnanswered);
        }
        // RFC 9112 §9.6: a server that sends the `close` option MUST close.
        if plan.asks_close {
            self.close(CloseReason::ResponseAsked);
        }
        // RFC 9112 §9.3: to persist, every message needs a self-defined
        // length; a close-delimited body is ended by the close (§6.3).
        if plan.encoder == BodyEncoder::CloseDelimited {
            self.close(CloseReason::ResponseCloseDelimited);
        }
    }

    /// The decision at the end of an exchange: the one taken, or what
    /// the exchange left unfinished (a request body not read to its end, a
    /// response not ended), which leaves the next message boundary unknown.
    #[inline]
    pub(super) fn end(
        &self,
        request_complete: bool,
        response_complete: bool,
    ) -> Option<CloseReason> {
        match self.close {
            Some(reason) => Some(reason),
            None if !request_complete => Some(CloseReason::BodyUnread),
            None if !response_complete => Some(CloseReason::ResponseIncomplete),
            None => None,
        }
    }
}

/// Whether a connection closing for `reason` lingers (see
/// [`Close::linger`]); `client_idle`: its request was read to its end and
/// nothing has arrived after it.
pub(super) fn lingers(reason: CloseReason, client_idle: bool) -> bool {
    // RFC 9112 §9.6: a client that sent `close` (or HTTP/1.0's default)
    // sends nothing after that request, and one that closed its side sends
    // nothing at all: no request can be in flight.
    let client_done = match reason {
        CloseReason::ClientAsked | CloseReason::Http10WithoutKeepAlive => client_idle,
        CloseReason::PeerClosed => true,
        _ => false,
    };
    !client_done
}
