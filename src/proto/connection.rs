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
//! 1. Every state change lives in this file; each `match` is exhaustive.
//! 2. After a [`ProtocolError`] the read side is `Error` forever: the next
//!    message boundary is unknown, so the connection must close after at
//!    most one response, which is then marked `Connection: close`.
//! 3. Framing decisions come from `framing` (requests) and `serialize`
//!    (responses) only.

use bytes::{Bytes, BytesMut};
use http::header::{EXPECT, HeaderMap};
use http::{Method, Version};

use super::chunked::{ChunkedDecoder, Decoded};
use super::error::{ErrorKind, ProtocolError};
use super::framing::{RequestBody, keeps_alive, offers_upgrade, request_body, request_keeps_alive};
use super::head::{HeadParser, ParseStatus, RequestHead};
use super::limits::Limits;
use super::serialize::{self, BodyEncoder, RequestContext, ResponseHead};

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
    keep_alive: bool,
    /// The last request itself ended the connection (`Connection: close`,
    /// or HTTP/1.0 without keep-alive).
    peer_closes: bool,
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
            keep_alive: true,
            peer_closes: false,
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
            self.keep_alive = false;
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
                self.keep_alive = false;
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
        self.peer_closes = !if fields.connection {
            request_keeps_alive(head.version, &head.headers)
        } else {
            keeps_alive(head.version, [])
        };
        self.upgrade_offered = fields.connection && offers_upgrade(head.version, &head.headers);
        self.keep_alive &= !self.peer_closes;
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

    /// Makes this the last response on the connection.
    pub fn close_after_response(&mut self) {
        self.keep_alive = false;
    }

    /// Serializes a response head into `out`.
    ///
    /// `date` is an IMF-fixdate (the driver caches it). Adds
    /// `Connection: close` when the connection will close after this
    /// response: the request asked for it, the response body is
    /// close-delimited, an error made the input untrustworthy, or
    /// [`close_after_response`](Self::close_after_response) was called.
    pub fn send_head(&mut self, head: &ResponseHead<'_>, date: &[u8], out: &mut Vec<u8>) {
        if matches!(self.read, ReadState::Error(_) | ReadState::Closed) {
            self.keep_alive = false;
        }
        // A request whose 100-continue we never answered may still send its
        // body, or may not: the next message boundary is unknown.
        if self.expects_continue {
            self.keep_alive = false;
            self.expects_continue = false;
        }
        self.body_bytes_sent = 0;
        let (encoder, keep_alive) =
            serialize::write_head(head, self.request, self.keep_alive, date, out);
        self.keep_alive = keep_alive;
        if head.status == http::StatusCode::SWITCHING_PROTOCOLS {
            // RFC 9110 §15.2.2: the connection now speaks the new protocol;
            // nothing after the 101 is HTTP/1.1 any more.
            self.read = ReadState::Closed;
            self.keep_alive = false;
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
    /// head announced; the driver must then close the connection.
    pub fn send_end(&mut self, out: &mut Vec<u8>) -> Result<(), LengthMismatch> {
        let result = match self.write {
            WriteState::Body(BodyEncoder::Length(n)) if n > 0 => Err(LengthMismatch),
            WriteState::Body(BodyEncoder::Chunked) => {
                out.extend_from_slice(b"0\r\n\r\n");
                Ok(())
            }
            WriteState::Body(BodyEncoder::CloseDelimited) => {
                self.keep_alive = false;
                Ok(())
            }
            _ => Ok(()),
        };
        if result.is_err() {
            self.keep_alive = false;
        }
        self.write = WriteState::Done;
        result
    }

    /// True when the connection must close once the current response is out.
    pub fn wants_close(&self) -> bool {
        !self.keep_alive
    }

    /// True when the connection closes because the client's complete
    /// request asked for it and nothing more has arrived: the client will
    /// send nothing else, so closing at once cannot reset a request in
    /// flight (no lingering close needed, RFC 9112 §9.6).
    pub fn peer_finished(&self) -> bool {
        self.peer_closes && matches!(self.read, ReadState::Done) && self.buf.is_empty()
    }

    /// After a complete response to a complete request on a persistent
    /// connection, resets both sides for the next request and returns true.
    /// Otherwise returns false: the driver closes.
    pub fn start_next_cycle(&mut self) -> bool {
        let ready = self.keep_alive
            && matches!(self.read, ReadState::Done)
            && self.write == WriteState::Done;
        if ready {
            self.read = ReadState::Idle;
            self.write = WriteState::Idle;
            self.expects_continue = false;
            self.request = RequestContext {
                version: Version::HTTP_11,
                is_head: false,
            };
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::BodyLength;
    use http::StatusCode;

    const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn drain(conn: &mut Connection) -> Vec<String> {
        let mut events = Vec::new();
        loop {
            match conn.next_event() {
                Ok(Event::Head(h)) => events.push(format!("head {} {}", h.method, h.uri)),
                Ok(Event::Data(d)) => events.push(format!("data {}", String::from_utf8_lossy(&d))),
                Ok(Event::End(_)) => events.push("end".into()),
                Ok(Event::NeedData) => return events,
                Ok(Event::Paused) => {
                    events.push("paused".into());
                    return events;
                }
                Ok(Event::Closed) => {
                    events.push("closed".into());
                    return events;
                }
                Err(e) => {
                    events.push(format!("error {}", e.kind().slug()));
                    return events;
                }
            }
        }
    }

    fn respond(conn: &mut Connection, body: &[u8]) -> String {
        let headers = HeaderMap::new();
        let mut out = Vec::new();
        let head = ResponseHead {
            status: StatusCode::OK,
            headers: &headers,
            body: BodyLength::Known(body.len() as u64),
        };
        conn.send_head(&head, DATE, &mut out);
        conn.send_data(body, &mut out).unwrap();
        conn.send_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pipelined_requests_pause_until_the_cycle_restarts() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(drain(&mut c), ["head GET /a", "end", "paused"]);
        respond(&mut c, b"a");
        assert!(c.start_next_cycle());
        assert_eq!(drain(&mut c), ["head GET /b", "end", "paused"]);
    }

    #[test]
    fn a_recycled_header_map_carries_nothing_into_the_next_request() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n");
        assert!(matches!(c.next_event(), Ok(Event::Head(_))));
        assert!(matches!(c.next_event(), Ok(Event::End(_))));
        respond(&mut c, b"a");
        let mut sent = HeaderMap::with_capacity(8);
        sent.insert("x-stale", http::HeaderValue::from_static("1"));
        let capacity = sent.capacity();
        c.recycle_headers(sent);
        assert!(c.start_next_cycle());
        let Ok(Event::Head(head)) = c.next_event() else {
            panic!("no second head");
        };
        assert_eq!(head.headers.len(), 1);
        assert_eq!(head.headers["host"], "y");
        assert_eq!(head.headers.capacity(), capacity, "the map was not reused");
        // Too large a map is not kept; an idle connection keeps none.
        let mut big = HeaderMap::with_capacity(RECYCLED_HEADERS_MAX + 1);
        big.insert("x-big", http::HeaderValue::from_static("1"));
        c.recycle_headers(big);
        assert_eq!(c.spare_headers.capacity(), 0);
        c.recycle_headers(HeaderMap::with_capacity(8));
        c.release_idle_buffer();
        assert_eq!(c.spare_headers.capacity(), 0);
    }

    #[test]
    fn end_empty_body_ends_only_an_empty_body() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(c.next_event(), Ok(Event::Head(_))));
        c.end_empty_body();
        assert!(c.is_request_done());
        assert!(matches!(c.next_event(), Ok(Event::Paused)));

        let mut c = Connection::new(Limits::default());
        c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
        assert!(matches!(c.next_event(), Ok(Event::Head(_))));
        c.end_empty_body();
        assert!(matches!(c.next_event(), Ok(Event::Data(d)) if d == "hi"));
    }

    #[test]
    fn content_length_body_then_next_request() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel");
        assert_eq!(drain(&mut c), ["head POST /", "data hel"]);
        c.receive(b"loGET");
        assert_eq!(drain(&mut c), ["data lo", "end", "paused"]);
        respond(&mut c, b"");
        assert!(c.start_next_cycle());
        c.receive(b" / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(drain(&mut c), ["head GET /", "end", "paused"]);
    }

    #[test]
    fn eof_between_requests_is_clean_and_mid_body_is_an_error() {
        let mut c = Connection::new(Limits::default());
        c.receive_eof();
        assert_eq!(drain(&mut c), ["closed"]);
        let mut c = Connection::new(Limits::default());
        c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
        c.receive_eof();
        assert_eq!(
            drain(&mut c),
            ["head POST /", "data ab", "error incomplete-body"]
        );
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTT");
        c.receive_eof();
        assert_eq!(drain(&mut c), ["error incomplete-head"]);
    }

    #[test]
    fn errors_are_sticky_and_force_close() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        assert_eq!(drain(&mut c), ["error conflicting-framing"]);
        assert_eq!(drain(&mut c), ["error conflicting-framing"]);
        let out = respond(&mut c, b"");
        assert!(out.contains("Connection: close\r\n"));
        assert!(!c.start_next_cycle());
    }

    #[test]
    fn connection_close_stops_the_cycle() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(drain(&mut c), ["head GET /", "end", "paused"]);
        let out = respond(&mut c, b"x");
        assert!(out.contains("Connection: close\r\n"));
        assert!(!c.start_next_cycle());
    }

    #[test]
    fn http10_closes_unless_keep_alive() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTTP/1.0\r\n\r\n");
        drain(&mut c);
        assert!(respond(&mut c, b"x").contains("Connection: close"));
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        drain(&mut c);
        assert!(respond(&mut c, b"x").contains("Connection: keep-alive"));
        assert!(c.start_next_cycle());
    }

    #[test]
    fn only_a_client_that_asked_to_close_is_finished() {
        let finished = |bytes: &[u8], server_closes: bool| {
            let mut c = Connection::new(Limits::default());
            c.receive(bytes);
            drain(&mut c);
            if server_closes {
                c.close_after_response();
            }
            respond(&mut c, b"x");
            c.peer_finished()
        };
        assert!(finished(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            false
        ));
        assert!(finished(b"GET / HTTP/1.0\r\n\r\n", false));
        // The server closing is not the client finishing: it may be sending
        // the next request right now (lingering close).
        assert!(!finished(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", true));
        // More bytes already buffered: not finished.
        assert!(!finished(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /",
            false
        ));
    }

    #[test]
    fn expect_continue() {
        let mut c = Connection::new(Limits::default());
        c.receive(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
        );
        assert_eq!(drain(&mut c), ["head POST /"]);
        assert!(c.expects_continue());
        let mut out = Vec::new();
        c.send_continue(&mut out);
        assert_eq!(out, b"HTTP/1.1 100 Continue\r\n\r\n");
        assert!(!c.expects_continue());
        let mut c = Connection::new(Limits::default());
        c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: nope\r\nContent-Length: 2\r\n\r\n");
        assert_eq!(drain(&mut c), ["error expectation-failed"]);
    }

    #[test]
    fn unanswered_continue_closes() {
        let mut c = Connection::new(Limits::default());
        c.receive(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
        );
        drain(&mut c);
        assert!(respond(&mut c, b"no").contains("Connection: close"));
    }

    #[test]
    fn short_body_is_a_length_mismatch() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        drain(&mut c);
        let headers = HeaderMap::new();
        let mut out = Vec::new();
        let head = ResponseHead {
            status: StatusCode::OK,
            headers: &headers,
            body: BodyLength::Known(5),
        };
        c.send_head(&head, DATE, &mut out);
        assert_eq!(c.send_data(b"abcdef", &mut out), Err(LengthMismatch));
        c.send_data(b"ab", &mut out).unwrap();
        assert_eq!(c.send_end(&mut out), Err(LengthMismatch));
        assert!(c.wants_close());
    }

    #[test]
    fn chunked_response() {
        let mut c = Connection::new(Limits::default());
        c.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        drain(&mut c);
        let headers = HeaderMap::new();
        let mut out = Vec::new();
        let head = ResponseHead {
            status: StatusCode::OK,
            headers: &headers,
            body: BodyLength::Unknown,
        };
        c.send_head(&head, DATE, &mut out);
        out.clear();
        c.send_data(b"hello", &mut out).unwrap();
        c.send_data(b"", &mut out).unwrap();
        c.send_end(&mut out).unwrap();
        assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
        assert!(c.start_next_cycle());
    }

    #[test]
    fn upgrade_offers_and_the_switch() {
        let offered = |req: &[u8]| {
            let mut c = Connection::new(Limits::default());
            c.receive(req);
            drain(&mut c);
            c.upgrade_offered()
        };
        assert!(offered(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
        ));
        // RFC 9110 §7.8: Upgrade must come with its connection option, and
        // means nothing in HTTP/1.0.
        assert!(!offered(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"
        ));
        assert!(!offered(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n"
        ));
        assert!(!offered(
            b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
        ));

        let mut c = Connection::new(Limits::default());
        c.receive(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nafter",
        );
        assert_eq!(drain(&mut c), ["head GET /", "end", "paused"]);
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::UPGRADE,
            http::HeaderValue::from_static("echo"),
        );
        let mut out = Vec::new();
        let head = ResponseHead {
            status: StatusCode::SWITCHING_PROTOCOLS,
            headers: &headers,
            body: BodyLength::Known(0),
        };
        c.send_head(&head, DATE, &mut out);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{out}"
        );
        assert!(
            out.ends_with("upgrade: echo\r\nConnection: upgrade\r\n\r\n"),
            "{out}"
        );
        // What follows belongs to the new protocol, untouched.
        assert_eq!(drain(&mut c), ["closed"]);
        assert_eq!(&c.read_buf_mut()[..], b"after");
        assert!(!c.start_next_cycle());
    }
}
