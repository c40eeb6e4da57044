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
    /// The end of the request body, with any chunked trailers.
    End(HeaderMap),
    /// More bytes are needed.
    NeedData,
    /// The request is complete; nothing more is read until its response is
    /// sent and [`Connection::start_next_cycle`] is called.
    Paused,
    /// The peer closed the connection cleanly between requests.
    Closed,
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
    request: RequestContext,
    expects_continue: bool,
    /// The current request offers a protocol switch (see
    /// [`upgrade_offered`](Self::upgrade_offered)).
    upgrade_offered: bool,
    /// Body bytes of the current response handed to `begin_data`.
    body_bytes_sent: u64,
    /// An empty header map whose allocation the next request head reuses
    /// (see [`recycle_headers`](Self::recycle_headers)).
    spare_headers: HeaderMap,
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

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
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

    /// True when received bytes are waiting to be parsed.
    pub fn has_buffered_data(&self) -> bool {
        !self.buf.is_empty()
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
            ReadState::Done => Ok(Event::Paused),
            ReadState::Idle => self.read_head(),
            ReadState::Body(BodyDecoder::Length(0)) => {
                self.read = ReadState::Done;
                Ok(Event::End(HeaderMap::new()))
            }
            ReadState::Body(BodyDecoder::Length(remaining)) => {
                if self.buf.is_empty() {
                    return self.need_data(ErrorKind::IncompleteBody);
                }
                let n = (*remaining).min(self.buf.len() as u64);
                *remaining -= n;
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
        self.read = ReadState::Body(match body {
            RequestBody::Empty => BodyDecoder::Length(0),
            RequestBody::Length(n) => BodyDecoder::Length(n),
            RequestBody::Chunked => BodyDecoder::Chunked(ChunkedDecoder::new(&self.limits)),
        });
        Ok(Event::Head(head))
    }

    /// True when the request asked for `100 Continue` and it has not been
    /// sent; the driver sends it when the handler first reads the body.
    pub fn expects_continue(&self) -> bool {
        self.expects_continue
    }

    /// Writes `100 Continue` if the request expects it (once).
    pub fn send_continue(&mut self, out: &mut Vec<u8>) {
        if self.expects_continue && self.write == WriteState::Idle {
            serialize::write_continue(out);
        }
        self.expects_continue = false;
    }

    /// True when the current request offers to switch protocols (`Upgrade`
    /// with `Connection: upgrade`, HTTP/1.1). A `101` response may then
    /// be sent once the request has ended; the connection then leaves
    /// HTTP (see [`send_head`](Self::send_head)).
    pub fn upgrade_offered(&self) -> bool {
        self.upgrade_offered
    }

    /// True when the current request has a body still to read.
    pub fn request_has_body(&self) -> bool {
        matches!(
            self.read,
            ReadState::Body(BodyDecoder::Chunked(_)) | ReadState::Body(BodyDecoder::Length(1..))
        )
    }

    /// Ends the current request when its body is empty: what
    /// [`next_event`](Self::next_event) would report as an `End` without
    /// trailers, without building the event. Does nothing otherwise.
    pub fn end_empty_body(&mut self) {
        if matches!(self.read, ReadState::Body(BodyDecoder::Length(0))) {
            self.read = ReadState::Done;
        }
    }

    /// Bytes of the current request's Content-Length body not yet read
    /// (the whole declared length right after its head).
    pub fn request_body_length(&self) -> Option<u64> {
        match self.read {
            ReadState::Body(BodyDecoder::Length(n)) => Some(n),
            _ => None,
        }
    }

    /// True when the request's body has been read to its end.
    pub fn is_request_done(&self) -> bool {
        matches!(self.read, ReadState::Done)
    }

    /// Makes this the connection's last exchange, for the engine's
    /// `reason` (the reason given is the first in [`CloseReason`]'s order
    /// of those that apply). Before the response head is sent, the head
    /// says `Connection: close`; after, the connection closes all the same
    /// once the response is out.
    pub fn close(&mut self, reason: CloseReason) {
        self.keep_alive.close(reason);
    }

    /// The keep-alive decision so far: `None` while the connection would
    /// stay open after this exchange, else why it will close.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.keep_alive.reason()
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

    /// True when body bytes go on the wire as they are, delimited by
    /// Content-Length (no chunk framing): the driver may then hand the
    /// socket a file directly (`sendfile`).
    pub fn body_is_length_framed(&self) -> bool {
        matches!(self.write, WriteState::Body(BodyEncoder::Length(_)))
    }

    /// True when the response in progress carries body bytes (false for
    /// HEAD, 204, 304, and once the body is complete).
    pub fn body_allowed(&self) -> bool {
        matches!(self.write, WriteState::Body(_))
    }

    /// Starts a piece of `len` body bytes: writes the chunk header when
    /// chunked. The caller then appends exactly `len` bytes to `out` and
    /// calls [`finish_data`](Self::finish_data). Returns `Ok(false)` when the
    /// body is suppressed and nothing should be appended.
    pub fn begin_data(&mut self, len: usize, out: &mut Vec<u8>) -> Result<bool, LengthMismatch> {
        let accepted = self.encode_data_start(len, out)?;
        if accepted {
            self.body_bytes_sent += len as u64;
        }
        Ok(accepted)
    }

    /// Body bytes sent in the current response so far (for access logs).
    pub fn body_bytes_sent(&self) -> u64 {
        self.body_bytes_sent
    }

    fn encode_data_start(&mut self, len: usize, out: &mut Vec<u8>) -> Result<bool, LengthMismatch> {
        match &mut self.write {
            WriteState::Body(BodyEncoder::Length(remaining)) => {
                if len as u64 > *remaining {
                    self.keep_alive.close(CloseReason::ResponseIncomplete);
                    return Err(LengthMismatch);
                }
                *remaining -= len as u64;
                Ok(true)
            }
            WriteState::Body(BodyEncoder::Chunked) => {
                if len > 0 {
                    serialize::write_chunk_header(len, out);
                }
                Ok(true)
            }
            WriteState::Body(BodyEncoder::CloseDelimited) => Ok(true),
            WriteState::Body(BodyEncoder::Suppressed) | WriteState::Idle | WriteState::Done => {
                Ok(false)
            }
        }
    }

    /// Ends a piece started with [`begin_data`](Self::begin_data).
    pub fn finish_data(&mut self, len: usize, out: &mut Vec<u8>) {
        if len > 0 && self.write == WriteState::Body(BodyEncoder::Chunked) {
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Writes a piece of the response body.
    pub fn send_data(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), LengthMismatch> {
        if self.begin_data(data.len(), out)? {
            out.extend_from_slice(data);
            self.finish_data(data.len(), out);
        }
        Ok(())
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
        self.expects_continue = false;
        self.request = RequestContext {
            version: Version::HTTP_11,
            is_head: false,
        };
        Ok(())
    }

    /// The request has been read to its end.
    fn request_complete(&self) -> bool {
        matches!(self.read, ReadState::Done)
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
