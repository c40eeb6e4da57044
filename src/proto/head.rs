//! The request-head parser: request line and header section, incrementally.
//!
//! [`HeadParser::parse`] looks at the front of a buffer and returns
//! `Complete(head)` (the head's bytes are split off the buffer, zero-copy),
//! `Partial` (feed more bytes), or an error. It keeps a scan offset between
//! calls, so a head that arrives one byte at a time is scanned once, not once
//! per read (h11 `_receivebuffer.py`, picohttpparser `last_len`).
//!
//! Steps, in order:
//! 1. Skip empty lines before the request line (RFC 9112 §2.2).
//! 2. Find the end of the head: the first empty line. Every LF must follow a
//!    CR: berth accepts CRLF only (see CONFORMANCE.md, "Line endings").
//! 3. Enforce `max_head_bytes` (431), reporting 414 instead when it is the
//!    request line that is too long.
//! 4. Parse the request line (RFC 9112 §3) and its target form (§3.2).
//! 5. Parse each field line (RFC 9112 §5); obs-fold is rejected (§5.2).
//! 6. Check Host (RFC 9112 §3.2): exactly one for HTTP/1.1, at most one
//!    for HTTP/1.0, and well-formed.

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, HOST, HeaderMap, TRANSFER_ENCODING};
use http::{Method, Uri, Version};

use super::error::{ErrorKind, ProtocolError};
use super::limits::Limits;
use super::syntax::{TARGET, parse_field_line};
use crate::syntax::is_token;

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// The request method.
    pub method: Method,
    /// The request target: origin-form (`/a?b`), absolute-form
    /// (`http://h/a`), authority-form (`h:443`, CONNECT only) or
    /// asterisk-form (`*`, OPTIONS only).
    pub uri: Uri,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields, in order, names lowercased.
    pub headers: HeaderMap,
}

/// Which of the fields that decide framing and persistence a head carries,
/// noted while its field lines are parsed, so that the connection looks up
/// only the ones present (a lookup hashes the name; most requests carry
/// none of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FramingFields {
    /// `Connection` (RFC 9112 §9.3).
    pub(crate) connection: bool,
    /// `Transfer-Encoding` or `Content-Length` (RFC 9112 §6.3).
    pub(crate) length: bool,
    /// `Expect` (RFC 9110 §10.1.1).
    pub(crate) expect: bool,
}

/// The result of looking for a head.
#[derive(Debug)]
// Moved once per request; boxing the head would cost an allocation instead.
#[allow(clippy::large_enum_variant)]
pub enum ParseStatus {
    /// A whole head was found and split off the buffer.
    Complete(RequestHead),
    /// More bytes are needed.
    Partial,
}

/// Incremental request-head parser (see the module docs for the steps).
#[derive(Debug, Clone)]
pub struct HeadParser {
    limits: Limits,
    /// Bytes of the buffer already scanned for line ends.
    scanned: usize,
    /// Start of the line being scanned.
    line_start: usize,
    /// End (exclusive, without CRLF) of the request line once seen.
    request_line_end: Option<usize>,
    /// Field lines seen so far.
    lines: usize,
    /// The framing fields of the last complete head.
    fields: FramingFields,
}

impl HeadParser {
    /// A parser enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        HeadParser {
            limits,
            scanned: 0,
            line_start: 0,
            request_line_end: None,
            lines: 0,
            fields: FramingFields::default(),
        }
    }

    /// Forgets any partial scan, ready for the next head.
    pub fn reset(&mut self) {
        self.scanned = 0;
        self.line_start = 0;
        self.request_line_end = None;
        self.lines = 0;
    }

    /// Looks for a complete head at the front of `buf`.
    pub fn parse(&mut self, buf: &mut BytesMut) -> Result<ParseStatus, ProtocolError> {
        self.parse_reusing(buf, &mut HeaderMap::new())
    }

    /// [`parse`](Self::parse), filling `spare` (emptied, its allocation
    /// kept) with the head's fields when it has room for them.
    pub(crate) fn parse_reusing(
        &mut self,
        buf: &mut BytesMut,
        spare: &mut HeaderMap,
    ) -> Result<ParseStatus, ProtocolError> {
        // Step 1. RFC 9112 §2.2: a server SHOULD ignore at least one empty
        // line received before the request-line. We ignore any number; they
        // are consumed, so they cost no memory.
        if self.scanned == 0 {
            loop {
                match &buf[..] {
                    [b'\r', b'\n', ..] => {
                        let _ = buf.split_to(2);
                    }
                    [b'\n', ..] => return Err(ErrorKind::BareLf.into()),
                    [b'\r'] => return Ok(ParseStatus::Partial),
                    [b'\r', _, ..] => return Err(ErrorKind::BareCr.into()),
                    _ => break,
                }
            }
        }
        // Step 2.
        let end = match self.find_end(buf)? {
            Some(end) => end,
            None => {
                // Step 3, for a head still incomplete.
                if buf.len() > self.limits.max_head_bytes {
                    return Err(self.oversize_kind(buf).into());
                }
                return Ok(ParseStatus::Partial);
            }
        };
        let head = buf.split_to(end).freeze();
        let request_line_end = self.request_line_end.unwrap_or(0);
        let lines = self.lines;
        self.reset();
        let headers = if spare.capacity() >= lines {
            debug_assert!(spare.is_empty());
            std::mem::take(spare)
        } else {
            // Sized for the field lines counted while finding the head's
            // end: no regrowth while filling, and no more memory than the
            // head needs.
            HeaderMap::with_capacity(lines)
        };
        let (head, fields) = parse_complete(&head, request_line_end, headers, &self.limits)?;
        self.fields = fields;
        Ok(ParseStatus::Complete(head))
    }

    /// Which framing fields the last complete head carried.
    pub(crate) fn framing_fields(&self) -> FramingFields {
        self.fields
    }

    /// Scans new bytes for line ends; returns the head length (through the
    /// empty line's LF) once found.
    fn find_end(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        while let Some(found) = memchr::memchr(b'\n', &buf[self.scanned..]) {
            let lf = self.scanned + found;
            // RFC 9112 §2.2: berth recognizes CRLF only; a bare LF is an
            // error, applied in the head and chunked framing alike.
            // The size limit is checked before the line end's syntax, so
            // the verdict does not depend on how the bytes were split.
            if lf + 1 > self.limits.max_head_bytes {
                return Err(self.oversize_kind(buf).into());
            }
            if lf == 0 || buf[lf - 1] != b'\r' {
                return Err(ErrorKind::BareLf.into());
            }
            let line_end = lf - 1;
            self.scanned = lf + 1;
            if self.request_line_end.is_none() {
                self.request_line_end = Some(line_end);
            } else if line_end == self.line_start {
                return Ok(Some(lf + 1));
            } else {
                self.lines += 1;
                if self.lines > self.limits.max_headers {
                    return Err(ErrorKind::TooManyHeaders.into());
                }
            }
            self.line_start = lf + 1;
        }
        self.scanned = buf.len();
        Ok(None)
    }

    /// 414 when the request line carries an over-long target, else 431.
    /// Only the first `max_head_bytes + 1` bytes are looked at: that is all
    /// a byte-by-byte feed has seen when it trips the limit, so the verdict
    /// is the same however the input was split.
    fn oversize_kind(&self, buf: &[u8]) -> ErrorKind {
        let window = &buf[..buf.len().min(self.limits.max_head_bytes + 1)];
        let line = match self.request_line_end {
            Some(end) if end < window.len() => &window[..end],
            _ => window,
        };
        let target_len = match memchr::memchr(b' ', line) {
            Some(sp) => {
                let rest = &line[sp + 1..];
                memchr::memchr(b' ', rest).unwrap_or(rest.len())
            }
            None => 0,
        };
        if target_len > self.limits.max_target_bytes {
            ErrorKind::TargetTooLong
        } else {
            ErrorKind::HeadTooLarge
        }
    }
}

/// Steps 4–6 on a head known to be complete and CRLF-terminated.
fn parse_complete(
    head: &Bytes,
    line_end: usize,
    mut headers: HeaderMap,
    limits: &Limits,
) -> Result<(RequestHead, FramingFields), ProtocolError> {
    let (method, uri, version) = parse_request_line(head, line_end, limits)?;
    let mut fields = FramingFields::default();
    let mut hosts = 0usize;
    let mut host_valid = false;
    let mut start = line_end + 2;
    // The head ends with the empty line's CRLF; every field line before it
    // ends with CRLF too (find_end checked every LF).
    let fields_end = head.len() - 2;
    while start < fields_end {
        let lf = match memchr::memchr(b'\n', &head[start..fields_end]) {
            Some(i) => start + i,
            None => fields_end + 1,
        };
        let end = lf - 1;
        // RFC 9112 §5.2: a server MUST either reject obs-fold with 400 or
        // replace it; RFC 9112 §2.2: whitespace between the start-line and
        // the first field line must be rejected too. Both start a line with
        // SP or HTAB.
        if matches!(head[start], b' ' | b'\t') {
            return Err(ErrorKind::ObsFold.into());
        }
        let (name, value) = parse_field_line(head, start..end)?;
        if name == HOST {
            hosts += 1;
            host_valid = is_valid_host(value.as_bytes());
        } else if name == CONNECTION {
            fields.connection = true;
        } else if name == TRANSFER_ENCODING || name == CONTENT_LENGTH {
            fields.length = true;
        } else if name == EXPECT {
            fields.expect = true;
        }
        headers.append(name, value);
        start = lf + 1;
    }
    // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request that
    // lacks Host, and to any request with more than one Host field line or
    // an invalid Host value.
    match hosts {
        0 if version == Version::HTTP_11 => return Err(ErrorKind::MissingHost.into()),
        0 => {}
        1 if !host_valid => return Err(ErrorKind::BadHost.into()),
        1 => {}
        _ => return Err(ErrorKind::DuplicateHost.into()),
    }
    let head = RequestHead {
        method,
        uri,
        version,
        headers,
    };
    Ok((head, fields))
}

fn parse_request_line(
    head: &Bytes,
    line_end: usize,
    limits: &Limits,
) -> Result<(Method, Uri, Version), ProtocolError> {
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    let line = &head[..line_end];
    // A method is a few bytes: a plain scan beats memchr's setup.
    let sp1 = line
        .iter()
        .position(|&b| b == b' ')
        .ok_or(ErrorKind::BadRequestLine)?;
    let method = &line[..sp1];
    let rest = &line[sp1 + 1..];
    let sp2 = memchr::memchr(b' ', rest).ok_or(ErrorKind::BadRequestLine)?;
    let target = &rest[..sp2];
    let version = &rest[sp2 + 1..];
    if method.is_empty() || target.is_empty() {
        return Err(ErrorKind::BadRequestLine.into());
    }
    if !is_token(method) {
        return Err(ErrorKind::BadMethod.into());
    }
    if target.len() > limits.max_target_bytes {
        return Err(ErrorKind::TargetTooLong.into());
    }
    let version = parse_version(version)?;
    if !target.iter().all(|&b| TARGET[b as usize]) {
        return Err(ErrorKind::BadTarget.into());
    }
    let method = Method::from_bytes(method).map_err(|_| ErrorKind::BadMethod)?;
    let target_start = sp1 + 1;
    let uri = parse_target(
        &method,
        head.slice(target_start..target_start + target.len()),
    )?;
    Ok((method, uri, version))
}

/// RFC 9112 §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`, case
/// sensitive. HTTP/1.x with a minor above 1 is handled as HTTP/1.1 (RFC 9110
/// §6.2: the highest minor version we support); other majors get 505.
fn parse_version(v: &[u8]) -> Result<Version, ProtocolError> {
    match v {
        b"HTTP/1.1" => Ok(Version::HTTP_11),
        b"HTTP/1.0" => Ok(Version::HTTP_10),
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor] if minor.is_ascii_digit() => {
            Ok(Version::HTTP_11)
        }
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(ErrorKind::UnsupportedVersion.into())
        }
        _ => Err(ErrorKind::BadVersion.into()),
    }
}

/// RFC 9112 §3.2: the four forms of request-target, each tied to its use.
fn parse_target(method: &Method, target: Bytes) -> Result<Uri, ProtocolError> {
    let first = target[0];
    let form_ok = if *method == Method::CONNECT {
        // §3.2.3: authority-form, only for CONNECT.
        first != b'/' && &target[..] != b"*" && !target.windows(3).any(|w| w == b"://")
    } else if &target[..] == b"*" {
        // §3.2.4: asterisk-form, only for server-wide OPTIONS.
        *method == Method::OPTIONS
    } else {
        // §3.2.1 origin-form or §3.2.2 absolute-form.
        first == b'/' || target.windows(3).any(|w| w == b"://")
    };
    if !form_ok {
        return Err(ErrorKind::BadTarget.into());
    }
    let uri = Uri::from_maybe_shared(target).map_err(|_| ErrorKind::BadTarget)?;
    // RFC 9110 §4.2.4: userinfo in an http(s) URI is deprecated, and a
    // recipient SHOULD treat its presence as an error (it is a phishing and
    // cache-confusion vector).
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(ErrorKind::BadTarget.into());
    }
    if *method == Method::CONNECT {
        if uri.scheme().is_some() || uri.authority().is_none() || uri.port().is_none() {
            return Err(ErrorKind::BadTarget.into());
        }
    } else if first != b'/' && uri != "*" && (uri.scheme().is_none() || uri.authority().is_none()) {
        return Err(ErrorKind::BadTarget.into());
    }
    Ok(uri)
}

/// `Host = uri-host [ ":" port ]` (RFC 9110 §7.2): reg-name, IPv4 or a
/// bracketed IP literal, then an optional all-digit port. Empty is allowed
/// (RFC 9112 §3.2, when the target has no authority).
fn is_valid_host(host: &[u8]) -> bool {
    let (name, port) = if host.first() == Some(&b'[') {
        match memchr::memchr(b']', host) {
            Some(close) => {
                let literal = &host[1..close];
                if literal.is_empty()
                    || !literal
                        .iter()
                        .all(|b| b.is_ascii_hexdigit() || b":.vV-_~!$&'()*+,;=".contains(b))
                {
                    return false;
                }
                (&host[..close + 1], &host[close + 1..])
            }
            None => return false,
        }
    } else {
        match memchr::memchr(b':', host) {
            Some(colon) => (&host[..colon], &host[colon..]),
            None => (host, &b""[..]),
        }
    };
    let name_ok = name.first() == Some(&b'[')
        || name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(b));
    let port_ok = match port {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    name_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `input` whole, one byte at a time, and with trailing bytes that
    /// must stay in the buffer (h11's `tr()`); all three must agree.
    fn tr(input: &[u8]) -> Result<RequestHead, ErrorKind> {
        let whole = parse_all(input, input.len());
        let bytewise = parse_all(input, 1);
        assert_eq!(
            summary(&whole),
            summary(&bytewise),
            "split changed the result"
        );
        let mut buf = BytesMut::from(input);
        buf.extend_from_slice(b"TRAILING");
        let mut p = HeadParser::new(Limits::default());
        match (p.parse(&mut buf), &whole) {
            (Ok(ParseStatus::Complete(_)), Ok(_)) => assert_eq!(&buf[..], b"TRAILING"),
            (Err(e), Err(k)) => assert_eq!(e.kind(), *k),
            (other, _) => panic!("trailing changed the result: {other:?}"),
        }
        whole
    }

    fn parse_all(input: &[u8], step: usize) -> Result<RequestHead, ErrorKind> {
        let mut p = HeadParser::new(Limits::default());
        let mut buf = BytesMut::new();
        for piece in input.chunks(step) {
            buf.extend_from_slice(piece);
            match p.parse(&mut buf) {
                Ok(ParseStatus::Complete(h)) => {
                    assert!(buf.is_empty(), "head complete before its end");
                    return Ok(h);
                }
                Ok(ParseStatus::Partial) => {}
                Err(e) => return Err(e.kind()),
            }
        }
        Err(ErrorKind::IncompleteHead)
    }

    fn summary(r: &Result<RequestHead, ErrorKind>) -> String {
        match r {
            Ok(h) => format!("{} {} {:?} {:?}", h.method, h.uri, h.version, h.headers),
            Err(k) => format!("{k:?}"),
        }
    }

    fn err(input: &[u8]) -> ErrorKind {
        match tr(input) {
            Err(k) => k,
            Ok(h) => panic!("accepted {:?}: {h:?}", String::from_utf8_lossy(input)),
        }
    }

    #[test]
    fn simple_get() {
        let h = tr(b"GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n").unwrap();
        assert_eq!(h.method, Method::GET);
        assert_eq!(h.uri.path(), "/a");
        assert_eq!(h.uri.query(), Some("b=c"));
        assert_eq!(h.version, Version::HTTP_11);
        assert_eq!(h.headers["host"], "x");
        assert_eq!(h.headers["accept"], "*/*");
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        assert!(tr(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").is_ok());
        assert_eq!(
            err(b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BareLf
        );
    }

    #[test]
    fn http10_needs_no_host() {
        let h = tr(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(h.version, Version::HTTP_10);
    }

    #[test]
    fn versions() {
        assert_eq!(
            tr(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n").unwrap().version,
            Version::HTTP_11
        );
        assert_eq!(
            err(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
            ErrorKind::UnsupportedVersion
        );
        assert_eq!(
            err(b"GET / HTTP/0.9\r\n\r\n"),
            ErrorKind::UnsupportedVersion
        );
        assert_eq!(
            err(b"GET / http/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadVersion
        );
        assert_eq!(
            err(b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n"),
            ErrorKind::BadVersion
        );
        assert_eq!(
            err(b"GET / HTTP/1.10\r\nHost: x\r\n\r\n"),
            ErrorKind::BadVersion
        );
        assert_eq!(err(b"GET /\r\n\r\n"), ErrorKind::BadRequestLine);
    }

    #[test]
    fn request_line_syntax() {
        assert_eq!(
            err(b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadRequestLine
        );
        assert_eq!(
            err(b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadMethod
        );
        assert_eq!(
            err(b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadTarget
        );
        assert_eq!(
            err(b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadTarget
        );
        assert_eq!(
            err(b"GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadTarget
        );
        assert_eq!(
            err(b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadRequestLine
        );
        // A lowercase method is a valid token (methods are case-sensitive).
        assert_eq!(
            tr(b"get / HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap()
                .method
                .as_str(),
            "get"
        );
    }

    #[test]
    fn target_forms() {
        let h = tr(b"GET http://example.com/a HTTP/1.1\r\nHost: other\r\n\r\n").unwrap();
        assert_eq!(h.uri.host(), Some("example.com"));
        assert_eq!(h.uri.path(), "/a");
        assert!(tr(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").is_ok());
        assert_eq!(
            err(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadTarget
        );
        let h = tr(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").unwrap();
        assert_eq!(h.uri.port_u16(), Some(443));
        assert_eq!(
            err(b"CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadTarget
        );
        assert_eq!(
            err(b"GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadTarget
        );
        assert_eq!(
            err(b"GET a/b HTTP/1.1\r\nHost: x\r\n\r\n"),
            ErrorKind::BadTarget
        );
    }

    #[test]
    fn header_syntax() {
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA : b\r\n\r\n"),
            ErrorKind::SpaceBeforeColon
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
            ErrorKind::ObsFold
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
            ErrorKind::ObsFold
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\0\r\n\r\n"),
            ErrorKind::BadHeaderValue
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n"),
            ErrorKind::BareCr
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\nc: d\r\n\r\n"),
            ErrorKind::BareLf
        );
        assert_eq!(err(b"GET / HTTP/1.1\nHost: x\n\n"), ErrorKind::BareLf);
        assert_eq!(err(b"GET / HTTP/1.1\r\nHost: x\r\n\n"), ErrorKind::BareLf);
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\nA\r\n\r\n"),
            ErrorKind::BadHeaderName
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: x\r\n[a]: b\r\n\r\n"),
            ErrorKind::BadHeaderName
        );
    }

    #[test]
    fn host_rules() {
        assert_eq!(err(b"GET / HTTP/1.1\r\n\r\n"), ErrorKind::MissingHost);
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            ErrorKind::DuplicateHost
        );
        assert_eq!(
            err(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
            ErrorKind::DuplicateHost
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            ErrorKind::BadHost
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
            ErrorKind::BadHost
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n"),
            ErrorKind::BadHost
        );
        assert_eq!(
            err(b"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n"),
            ErrorKind::BadHost
        );
        for ok in [
            "",
            "a",
            "a:80",
            "127.0.0.1:8080",
            "[::1]:8080",
            "xn--bcher-kva.example",
        ] {
            let req = format!("GET / HTTP/1.1\r\nHost: {ok}\r\n\r\n");
            assert!(tr(req.as_bytes()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn limits() {
        let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
        assert_eq!(err(long_target.as_bytes()), ErrorKind::TargetTooLong);
        let huge_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(20000));
        assert_eq!(err(huge_target.as_bytes()), ErrorKind::TargetTooLong);
        let big_head = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nA: {}\r\n\r\n",
            "a".repeat(17000)
        );
        assert_eq!(err(big_head.as_bytes()), ErrorKind::HeadTooLarge);
        let many: String = (0..101).map(|i| format!("A{i}: b\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        assert_eq!(err(many.as_bytes()), ErrorKind::TooManyHeaders);
        let exactly: String = (0..99).map(|i| format!("A{i}: b\r\n")).collect();
        assert!(tr(format!("GET / HTTP/1.1\r\nHost: x\r\n{exactly}\r\n").as_bytes()).is_ok());
    }
}
