//! `Connection`: the server side of one HTTP/1.1 connection as a state
//! machine, with no I/O.
//!
//! Theory of operation (h11's, in Rust terms). Each request/response pair is
//! a *cycle*. The read side goes `Idle → Body → Done`; the write side goes
//! `Idle → Body → Done`. When both are `Done` and both peers want to keep
//! the connection, [`Connection::start_next_cycle`] resets them to `Idle`
//! and the next buffered request (pipelining) can be read. While the read
//! side is `Done`, [`Connection::next_event`] returns [`Event::Paused`]:
//! bytes after a request are never looked at before its response is sent.
//!
//! The verbs, by side:
//! - in: [`receive`](Connection::receive) (or
//!   [`read_buf_mut`](Connection::read_buf_mut)),
//!   [`receive_eof`](Connection::receive_eof),
//!   [`next_event`](Connection::next_event);
//! - out: [`send_continue`](Connection::send_continue),
//!   [`send_head`](Connection::send_head),
//!   [`send_data`](Connection::send_data) (bytes in hand) or
//!   [`begin_data`](Connection::begin_data) (bytes the driver sends itself,
//!   behind a [`BodyPiece`]), [`send_end`](Connection::send_end);
//! - between: [`state`](Connection::state) (one [`State`] value answers
//!   every question a driver asks), [`close`](Connection::close) (the
//!   engine's reason to end the connection), and
//!   [`start_next_cycle`](Connection::start_next_cycle) (the next request,
//!   or a [`Close`] saying why not);
//! - memory: [`release_idle_buffer`](Connection::release_idle_buffer),
//!   [`recycle_headers`](Connection::recycle_headers).
//!
//! Rules:
//! 1. Every read and write state change lives in this file, every
//!    keep-alive rule in `keep_alive.rs`; each `match` is exhaustive.
//! 2. After a [`ProtocolError`] the read side is `Error` forever: the next
//!    message boundary is unknown, so the connection must close after at
//!    most one response, which is then marked `Connection: close`.
//! 3. Framing decisions come from `framing` (requests) and `serialize`
//!    (responses) only; whether the connection persists, and why not, from
//!    `keep_alive.rs` only.

use bytes::{Bytes, BytesMut};
use http::header::{EXPECT, HeaderMap};
use http::{Method, Version};

use super::chunked::{ChunkedDecoder, Decoded};
use super::error::{ErrorKind, ProtocolError};
use super::framing::{
    ConnectionOptions, RequestBody, connection_options, offers_upgrade, request_body,
};
use super::head::{HeadParser, ParseStatus, RequestHead};
use super::limits::Limits;
use super::serialize::{self, BodyEncoder, RequestContext, ResponseHead};

mod keep_alive;

use keep_alive::KeepAlive;
pub use keep_alive::{Close, CloseReason};

/// Largest header map (in fields it has room for) that
/// [`Connection::recycle_headers`] keeps.
const RECYCLED_HEADERS_MAX: usize = 48;

/// What the peer sent, one piece at a time.
#[derive(Debug)]
pub enum Event {
    /// A request head. Its body (possibly empty) follows as `Data` events
    /// and one `End`.
    Head(RequestHead),
    /// A piece of the request body.
    Data(Bytes),
    /// The end of the request body, with any chunked trailers. (A driver
    /// need not pull it: once the last body byte is read, or the head of a
    /// request without a body, the request is
    /// [`Complete`](RequestProgress::Complete).)
    End(HeaderMap),
    /// More bytes are needed.
    NeedData,
    /// The request is complete; nothing more is read until its response is
    /// sent and [`Connection::start_next_cycle`] is called.
    Paused,
    /// The peer closed the connection cleanly between requests.
    Closed,
}

/// Where a connection stands: everything a driver asks between events, in
/// one value ([`Connection::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct State {
    /// The current request.
    pub request: RequestProgress,
    /// The response to it.
    pub response: ResponseProgress,
    /// The request asked for `100 Continue`, which has not been sent; the
    /// driver sends it ([`Connection::send_continue`]) once the body is
    /// wanted (RFC 9110 §10.1.1).
    pub expects_continue: bool,
    /// The request offers to switch protocols (`Upgrade` with
    /// `Connection: upgrade`, HTTP/1.1). A `101` may answer it once the
    /// request is complete; the connection then leaves HTTP.
    pub upgrade_offered: bool,
    /// Received bytes not yet parsed (a pipelined request, or the start of
    /// one).
    pub buffered: usize,
    /// Body bytes of the current response sent so far (for access logs).
    pub body_bytes_sent: u64,
    /// The keep-alive decision so far: `None` while the connection would
    /// stay open after this exchange, else why it will close.
    pub close: Option<CloseReason>,
}

/// Where the current request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestProgress {
    /// No request yet, or its head is still arriving.
    Head,
    /// Its body is being read: the bytes left of a Content-Length body, or
    /// `None` for a chunked one.
    Body(Option<u64>),
    /// Read to its end (a request without a body, as soon as its head is).
    Complete,
    /// Nothing more is read: the peer closed between requests, or the
    /// connection switched protocols.
    Closed,
    /// The request broke the protocol; nothing more can be read.
    Failed(ProtocolError),
}

/// Where the current response stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseProgress {
    /// Its head is not sent yet.
    Head,
    /// Its body is being sent: the bytes left of a Content-Length body
    /// (they go on the wire as they are, so a driver may hand the socket a
    /// file, `sendfile`), or `None` for a chunked or close-delimited one.
    Body(Option<u64>),
    /// Sent to its end, or without a body (HEAD, 1xx, 204, 304).
    Complete,
}

#[derive(Debug)]
enum ReadState {
    Idle,
    Body(BodyDecoder),
    Done,
    Closed,
    Error(ProtocolError),
}

#[derive(Debug)]
enum BodyDecoder {
    /// This many bytes are left (never 0: the read side is then `Done`).
    Length(u64),
    Chunked(ChunkedDecoder),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteState {
    Idle,
    Body(BodyEncoder),
    Done,
}

/// The response body did not match the length announced in its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthMismatch;

impl std::fmt::Display for LengthMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response body length differs from its Content-Length")
    }
}

impl std::error::Error for LengthMismatch {}

/// One server-side HTTP/1.1 connection.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    buf: BytesMut,
    parser: HeadParser,
    read: ReadState,
    write: WriteState,
    /// The keep-alive decision of this exchange.
    keep_alive: KeepAlive,
    eof: bool,
    /// The request's body is read to its end but its `End` event has not
    /// been pulled (a driver need not pull it).
    end_pending: bool,
    request: RequestContext,
    expects_continue: bool,
    /// The current request offers a protocol switch.
    upgrade_offered: bool,
    /// Body bytes of the current response accepted so far.
    body_bytes_sent: u64,
    /// An empty header map whose allocation the next request head reuses
    /// (see [`recycle_headers`](Self::recycle_headers)).
    spare_headers: HeaderMap,
}

/// A piece of response body whose bytes the driver sends by another route
/// than the write buffer (from their own buffer, vectored behind the head;
/// from a file; with `sendfile`). [`Connection::begin_data`] frames it and
/// counts it against the body's length; [`finish`](Self::finish) ends it
/// once its bytes are sent. While it lives it holds the connection, so
/// nothing else is written in between; dropped unfinished (its bytes did
/// not all go), it leaves the response incomplete and the connection
/// closing ([`CloseReason::ResponseIncomplete`]).
#[derive(Debug)]
#[must_use = "a body piece must be finished once its bytes are sent"]
pub struct BodyPiece<'c> {
    /// (Nothing else: a driver holds a piece across its write, so the
    /// piece is as small as a reference.)
    conn: &'c mut Connection,
}

impl BodyPiece<'_> {
    /// The piece's bytes are sent (or queued behind `out`): ends its chunk,
    /// when the body is chunked, into `out`.
    pub fn finish(self, out: &mut Vec<u8>) {
        if self.conn.write == WriteState::Body(BodyEncoder::Chunked) {
            out.extend_from_slice(b"\r\n");
        }
        // Finished: not abandoned. (It owns nothing to leak.)
        std::mem::forget(self);
    }
}

impl Drop for BodyPiece<'_> {
    /// Only an unfinished piece is dropped.
    fn drop(&mut self) {
        self.conn.keep_alive.close(CloseReason::ResponseIncomplete);
    }
}

impl Connection {
    /// A fresh connection enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Connection {
            limits,
            buf: BytesMut::new(),
            parser: HeadParser::new(limits),
            read: ReadState::Idle,
            write: WriteState::Idle,
            keep_alive: KeepAlive::default(),
            eof: false,
            end_pending: false,
            request: RequestContext {
                version: Version::HTTP_11,
                is_head: false,
            },
            expects_continue: false,
            upgrade_offered: false,
            body_bytes_sent: 0,
            spare_headers: HeaderMap::new(),
        }
    }

    /// Appends received bytes.
    pub fn receive(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The receive buffer, for a driver that reads straight into it.
    pub fn read_buf_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Records that the peer will send nothing more.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// Where the connection stands (see [`State`]).
    #[inline]
    pub fn state(&self) -> State {
        State {
            request: match &self.read {
                ReadState::Idle => RequestProgress::Head,
                ReadState::Done => RequestProgress::Complete,
                ReadState::Body(BodyDecoder::Length(n)) => RequestProgress::Body(Some(*n)),
                ReadState::Body(BodyDecoder::Chunked(_)) => RequestProgress::Body(None),
                ReadState::Closed => RequestProgress::Closed,
                ReadState::Error(e) => RequestProgress::Failed(*e),
            },
            response: match self.write {
                WriteState::Idle => ResponseProgress::Head,
                WriteState::Body(BodyEncoder::Length(n)) => ResponseProgress::Body(Some(n)),
                WriteState::Body(BodyEncoder::Chunked | BodyEncoder::CloseDelimited) => {
                    ResponseProgress::Body(None)
                }
                WriteState::Body(BodyEncoder::Suppressed) | WriteState::Done => {
                    ResponseProgress::Complete
                }
            },
            expects_continue: self.expects_continue,
            upgrade_offered: self.upgrade_offered,
            buffered: self.buf.len(),
            body_bytes_sent: self.body_bytes_sent,
            close: self.keep_alive.reason(),
        }
    }

    /// The request has been read to its end (an empty body ends with its
    /// head).
    fn request_complete(&self) -> bool {
        matches!(self.read, ReadState::Done)
    }

    /// Releases the receive buffer's memory when it holds nothing, so an
    /// idle keep-alive connection costs little (and the spare header map's,
    /// see [`recycle_headers`](Self::recycle_headers)).
    pub fn release_idle_buffer(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
        self.spare_headers = HeaderMap::new();
    }

    /// Keeps a header map that is done with (a sent response's) for the
    /// next request head to fill: pipelined requests then cost no header
    /// map allocations. A map with room for more than 48 fields is dropped
    /// instead, so a connection never holds much.
    pub fn recycle_headers(&mut self, mut headers: HeaderMap) {
        let capacity = headers.capacity();
        if capacity > self.spare_headers.capacity() && capacity <= RECYCLED_HEADERS_MAX {
            headers.clear();
            self.spare_headers = headers;
        }
    }

    /// The next event from the peer.
    pub fn next_event(&mut self) -> Result<Event, ProtocolError> {
        let result = self.step();
        if let Err(e) = result {
            self.read = ReadState::Error(e);
            self.keep_alive.close(CloseReason::BadRequest(e.kind()));
        }
        result
    }

    fn step(&mut self) -> Result<Event, ProtocolError> {
        match &mut self.read {
            ReadState::Error(e) => Err(*e),
            ReadState::Closed => Ok(Event::Closed),
            ReadState::Done if self.end_pending => {
                self.end_pending = false;
                Ok(Event::End(HeaderMap::new()))
            }
            ReadState::Done => Ok(Event::Paused),
            ReadState::Idle => self.read_head(),
            ReadState::Body(BodyDecoder::Length(remaining)) => {
                if self.buf.is_empty() {
                    return self.need_data(ErrorKind::IncompleteBody);
                }
                let n = (*remaining).min(self.buf.len() as u64);
                *remaining -= n;
                if *remaining == 0 {
                    self.read = ReadState::Done;
                    self.end_pending = true;
                }
                Ok(Event::Data(self.buf.split_to(n as usize).freeze()))
            }
            ReadState::Body(BodyDecoder::Chunked(decoder)) => {
                match decoder.decode(&mut self.buf)? {
                    Decoded::Data(data) => Ok(Event::Data(data)),
                    Decoded::End(trailers) => {
                        self.read = ReadState::Done;
                        Ok(Event::End(trailers))
                    }
                    Decoded::NeedData => self.need_data(ErrorKind::IncompleteBody),
                }
            }
        }
    }

    fn need_data(&self, at_eof: ErrorKind) -> Result<Event, ProtocolError> {
        if self.eof {
            Err(at_eof.into())
        } else {
            Ok(Event::NeedData)
        }
    }

    fn read_head(&mut self) -> Result<Event, ProtocolError> {
        let head = match self
            .parser
            .parse_reusing(&mut self.buf, &mut self.spare_headers)?
        {
            ParseStatus::Complete(head) => head,
            ParseStatus::Partial if self.eof && self.buf.is_empty() => {
                self.read = ReadState::Closed;
                self.keep_alive.close(CloseReason::PeerClosed);
                return Ok(Event::Closed);
            }
            ParseStatus::Partial => return self.need_data(ErrorKind::IncompleteHead),
        };
        self.request = RequestContext {
            version: head.version,
            is_head: head.method == Method::HEAD,
        };
        // Fields the head does not carry are not looked up.
        let fields = self.parser.framing_fields();
        let options = if fields.connection {
            connection_options(&head.headers)
        } else {
            ConnectionOptions::default()
        };
        self.keep_alive.request(head.version, options);
        self.upgrade_offered = fields.connection && offers_upgrade(head.version, &head.headers);
        let body = if fields.length {
            request_body(head.version, &head.headers)?
        } else {
            // RFC 9112 §6.3 step 7: neither Transfer-Encoding nor
            // Content-Length: the request has no body.
            RequestBody::Empty
        };
        self.expects_continue = false;
        if let Some(expect) = fields.expect.then(|| head.headers.get(EXPECT)).flatten() {
            // RFC 9110 §10.1.1: the only expectation defined is
            // 100-continue; a server MAY answer any other with 417.
            if !expect.as_bytes().eq_ignore_ascii_case(b"100-continue") {
                return Err(ErrorKind::ExpectationFailed.into());
            }
            // An HTTP/1.0 client cannot understand 100 Continue (RFC 9110
            // §10.1.1: a server MUST NOT send it to one).
            self.expects_continue = head.version == Version::HTTP_11 && body != RequestBody::Empty;
        }
        self.read = match body {
            RequestBody::Empty => {
                self.end_pending = true;
                ReadState::Done
            }
            RequestBody::Length(n) => ReadState::Body(BodyDecoder::Length(n)),
            RequestBody::Chunked => {
                ReadState::Body(BodyDecoder::Chunked(ChunkedDecoder::new(&self.limits)))
            }
        };
        Ok(Event::Head(head))
    }

    /// Writes `100 Continue` if the request expects it (once).
    pub fn send_continue(&mut self, out: &mut Vec<u8>) {
        if self.expects_continue && self.write == WriteState::Idle {
            serialize::write_continue(out);
        }
        self.expects_continue = false;
    }

    /// Makes this the connection's last exchange, for the engine's
    /// `reason` (the reason given is the first in [`CloseReason`]'s order
    /// of those that apply). Before the response head is sent, the head
    /// says `Connection: close`; after, the connection closes all the same
    /// once the response is out.
    pub fn close(&mut self, reason: CloseReason) {
        self.keep_alive.close(reason);
    }

    /// Serializes a response head into `out`.
    ///
    /// `date` is an IMF-fixdate (the driver caches it). Adds
    /// `Connection: close` when the connection will close after this
    /// response (see [`CloseReason`]).
    pub fn send_head(&mut self, head: &ResponseHead<'_>, date: &[u8], out: &mut Vec<u8>) {
        self.body_bytes_sent = 0;
        let continue_owed = std::mem::take(&mut self.expects_continue);
        let decision = &mut self.keep_alive;
        let encoder = serialize::write_head(head, self.request, date, out, |plan| {
            decision.response(plan, continue_owed);
            decision.reason().is_none()
        });
        if head.status == http::StatusCode::SWITCHING_PROTOCOLS {
            // RFC 9110 §15.2.2: the connection now speaks the new protocol;
            // nothing after the 101 is HTTP/1.1 any more.
            self.read = ReadState::Closed;
        }
        self.write = match encoder {
            BodyEncoder::Suppressed | BodyEncoder::Length(0) => WriteState::Done,
            other => WriteState::Body(other),
        };
    }

    /// Writes a piece of the response body (nothing when the response has
    /// none: HEAD, 204, 304).
    pub fn send_data(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), LengthMismatch> {
        if self.frame_data(data.len(), out)? {
            out.extend_from_slice(data);
            if !data.is_empty() && self.write == WriteState::Body(BodyEncoder::Chunked) {
                out.extend_from_slice(b"\r\n");
            }
        }
        Ok(())
    }

    /// Starts a piece of `len` body bytes that the driver sends itself:
    /// writes the chunk header into `out` when chunked, and counts the
    /// bytes against the body's length. `None` when there is nothing to
    /// send: `len` is 0, or the response has no body.
    pub fn begin_data(
        &mut self,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<Option<BodyPiece<'_>>, LengthMismatch> {
        if len == 0 || !self.frame_data(len, out)? {
            return Ok(None);
        }
        Ok(Some(BodyPiece { conn: self }))
    }

    /// Counts and frames the start of a body piece; false when the body is
    /// suppressed.
    #[inline]
    fn frame_data(&mut self, len: usize, out: &mut Vec<u8>) -> Result<bool, LengthMismatch> {
        match &mut self.write {
            WriteState::Body(BodyEncoder::Length(remaining)) => {
                if len as u64 > *remaining {
                    self.keep_alive.close(CloseReason::ResponseIncomplete);
                    return Err(LengthMismatch);
                }
                *remaining -= len as u64;
            }
            WriteState::Body(BodyEncoder::Chunked) => {
                if len > 0 {
                    serialize::write_chunk_header(len, out);
                }
            }
            WriteState::Body(BodyEncoder::CloseDelimited) => {}
            WriteState::Body(BodyEncoder::Suppressed) | WriteState::Idle | WriteState::Done => {
                return Ok(false);
            }
        }
        self.body_bytes_sent += len as u64;
        Ok(true)
    }

    /// Ends the response body. Fails when fewer bytes were sent than the
    /// head announced; the connection then closes
    /// ([`CloseReason::ResponseIncomplete`]).
    pub fn send_end(&mut self, out: &mut Vec<u8>) -> Result<(), LengthMismatch> {
        let result = match self.write {
            WriteState::Body(BodyEncoder::Length(n)) if n > 0 => Err(LengthMismatch),
            WriteState::Body(BodyEncoder::Chunked) => {
                out.extend_from_slice(b"0\r\n\r\n");
                Ok(())
            }
            _ => Ok(()),
        };
        if result.is_err() {
            self.keep_alive.close(CloseReason::ResponseIncomplete);
        }
        self.write = WriteState::Done;
        result
    }

    /// After a complete response to a complete request on a persistent
    /// connection, resets both sides for the next request. Otherwise the
    /// driver closes, as the [`Close`] says.
    pub fn start_next_cycle(&mut self) -> Result<(), Close> {
        let response_complete = self.write == WriteState::Done;
        if let Some(reason) = self
            .keep_alive
            .end(self.request_complete(), response_complete)
        {
            return Err(self.closing(reason));
        }
        self.read = ReadState::Idle;
        self.write = WriteState::Idle;
        self.keep_alive = KeepAlive::default();
        self.end_pending = false;
        self.expects_continue = false;
        self.request = RequestContext {
            version: Version::HTTP_11,
            is_head: false,
        };
        Ok(())
    }

    /// How the connection ends, for `reason` (out of the keep-alive path).
    #[cold]
    #[inline(never)]
    fn closing(&self, reason: CloseReason) -> Close {
        let client_idle = self.request_complete() && self.buf.is_empty();
        Close {
            reason,
            linger: keep_alive::lingers(reason, client_idle),
        }
    }
}

#[cfg(test)]
mod keep_alive_tests;
#[cfg(test)]
mod tests;
