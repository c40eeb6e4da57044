//! Response serialization: status line, header block and body framing.
//!
//! [`write_head`] is the one place that fixes the framing headers of a
//! response (h11 `_clean_up_response_headers_for_sending`): it drops any
//! Content-Length, Transfer-Encoding and Connection the handler set and
//! writes the ones that match how the body will actually be sent.
//! Everything downstream follows the [`BodyEncoder`] it returns. Whether
//! the connection stays open is not decided here: the head's [`HeadPlan`]
//! (what its fields say, its framing) goes to the connection's keep-alive
//! decision before the `Connection` field is written.

use std::io::Write;

use http::header::{
    CONNECTION, CONTENT_LENGTH, DATE, HeaderMap, SERVER, TRANSFER_ENCODING, UPGRADE,
};
use http::{StatusCode, Version};

/// How long the response body will be, as the handler's body reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// Exactly this many bytes.
    Known(u64),
    /// Not known before sending: chunked for HTTP/1.1, close-delimited for
    /// HTTP/1.0.
    Unknown,
}

/// A response head to serialize.
#[derive(Debug)]
pub struct ResponseHead<'a> {
    /// The status code (1xx are interim and written separately).
    pub status: StatusCode,
    /// Header fields from the handler.
    pub headers: &'a HeaderMap,
    /// The body's length.
    pub body: BodyLength,
}

/// What the peer's request implies for the response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestContext {
    pub(crate) version: Version,
    pub(crate) is_head: bool,
}

/// How body bytes go on the wire after the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyEncoder {
    /// No body may be sent (HEAD, 1xx, 204, 304): data is discarded.
    Suppressed,
    /// Exactly this many bytes remain.
    Length(u64),
    /// Each piece as a chunk; `0\r\n\r\n` at the end.
    Chunked,
    /// Raw bytes; the end is the connection's close.
    CloseDelimited,
}

/// What a response head implies, found in one pass over its fields before
/// any byte is written: how its body goes on the wire, and what it says
/// about the connection (the keep-alive decision is the connection's, see
/// `connection/keep_alive.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadPlan {
    /// How the body goes on the wire.
    pub(crate) encoder: BodyEncoder,
    /// The handler's fields name the `close` connection option.
    pub(crate) asks_close: bool,
    /// A `101`: the connection leaves HTTP/1.1 after this head.
    pub(crate) switching: bool,
    no_body_status: bool,
    has_date: bool,
    has_server: bool,
    has_length: bool,
    has_upgrade: bool,
}

/// Plans a response head: its body framing and its connection-relevant
/// fields.
#[inline(always)]
fn plan(head: &ResponseHead<'_>, request: RequestContext) -> HeadPlan {
    let status = head.status;
    // RFC 9110 §9.3.2, §15.3.5, §15.4.5: no content in responses to HEAD,
    // nor in 204 and 304 responses; RFC 9112 §6.3: nor in 1xx (here only
    // 101, whose end is the protocol switch).
    let switching = status == StatusCode::SWITCHING_PROTOCOLS;
    let no_body_status =
        status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED || switching;
    let encoder = if no_body_status || request.is_head {
        BodyEncoder::Suppressed
    } else {
        match head.body {
            BodyLength::Known(n) => BodyEncoder::Length(n),
            BodyLength::Unknown if request.version == Version::HTTP_11 => BodyEncoder::Chunked,
            // RFC 9112 §6.3 (8): an HTTP/1.0 peer cannot read chunked; the
            // body ends when the connection closes.
            BodyLength::Unknown => BodyEncoder::CloseDelimited,
        }
    };
    let mut plan = HeadPlan {
        encoder,
        asks_close: false,
        switching,
        no_body_status,
        has_date: false,
        has_server: false,
        has_length: false,
        has_upgrade: false,
    };
    // One pass over the handler's fields instead of a hashed lookup per
    // name: a response carries a handful of fields.
    for (name, value) in head.headers {
        if name == DATE {
            plan.has_date = true;
        } else if name == SERVER {
            plan.has_server = true;
        } else if name == CONTENT_LENGTH {
            plan.has_length = true;
        } else if name == CONNECTION && crate::syntax::list_has(value.as_bytes(), b"close") {
            plan.asks_close = true;
        } else if name == UPGRADE {
            plan.has_upgrade = true;
        }
    }
    plan
}

/// Writes the status line and header block; returns how the body goes on
/// the wire. `keep_alive` is asked, given the head's plan, for the
/// connection's decision, which the `Connection` field announces. (One
/// function, so that the plan stays in registers: as separate calls,
/// planning and writing cost a keep-alive request about 40 instructions
/// more.)
#[inline(always)]
pub(crate) fn write_head(
    head: &ResponseHead<'_>,
    request: RequestContext,
    date: &[u8],
    out: &mut Vec<u8>,
    keep_alive: impl FnOnce(&HeadPlan) -> bool,
) -> BodyEncoder {
    let plan = plan(head, request);
    let keep_alive = keep_alive(&plan);
    let status = head.status;
    let HeadPlan {
        switching,
        no_body_status,
        has_date,
        has_server,
        has_length,
        has_upgrade,
        ..
    } = plan;
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    out.extend_from_slice(b"\r\n");
    if !has_date {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    }
    if !has_server {
        out.extend_from_slice(b"Server: berth\r\n");
    }
    // A handler answering HEAD may state the length GET would have without
    // producing the body; keep its Content-Length then.
    let keep_handler_length =
        request.is_head && !no_body_status && head.body == BodyLength::Known(0) && has_length;
    for (name, value) in head.headers {
        if name == CONNECTION || name == TRANSFER_ENCODING {
            continue;
        }
        if name == CONTENT_LENGTH && !keep_handler_length {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // RFC 9110 §8.6: no Content-Length in 1xx or 204 responses; for HEAD it
    // is the length GET would send (RFC 9110 §9.3.2: same header fields).
    if !no_body_status && !keep_handler_length {
        match head.body {
            BodyLength::Known(n) => {
                out.extend_from_slice(b"Content-Length: ");
                // itoa: no `fmt` machinery on every response's head.
                out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            BodyLength::Unknown if request.version == Version::HTTP_11 => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            }
            BodyLength::Unknown => {}
        }
    }
    // RFC 9110 §7.8: a sender of Upgrade (a 101, or a 426 naming the
    // protocol required) MUST also send the `upgrade` connection option.
    // After a 101 the connection belongs to the new protocol: no close.
    // RFC 9112 §9.6: a server that will close after this response MUST send
    // `Connection: close`. An HTTP/1.0 peer that asked for keep-alive is told
    // it got it (RFC 9112 §9.3 / RFC 2068 §19.7.1).
    if has_upgrade && (switching || keep_alive) {
        out.extend_from_slice(b"Connection: upgrade\r\n");
    } else if has_upgrade {
        out.extend_from_slice(b"Connection: upgrade, close\r\n");
    } else if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if request.version == Version::HTTP_10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    plan.encoder
}

/// Writes `100 Continue` (RFC 9110 §15.2.1).
pub(crate) fn write_continue(out: &mut Vec<u8>) {
    out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
}

/// Writes the chunk-size line for a chunk of `len` bytes (RFC 9112 §7.1).
pub fn write_chunk_header(len: usize, out: &mut Vec<u8>) {
    let _ = write!(out, "{len:X}\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const DATE_VALUE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn head(
        status: u16,
        headers: &[(&'static str, &'static str)],
        body: BodyLength,
        version: Version,
        is_head: bool,
    ) -> (String, BodyEncoder, bool) {
        let mut map = HeaderMap::new();
        for (n, v) in headers {
            map.append(*n, HeaderValue::from_static(v));
        }
        let h = ResponseHead {
            status: StatusCode::from_u16(status).unwrap(),
            headers: &map,
            body,
        };
        let request = RequestContext { version, is_head };
        // What the head itself says about the connection; the connection's
        // other reasons are tested in `connection/`.
        let mut keep_alive = true;
        let mut out = Vec::new();
        let encoder = write_head(&h, request, DATE_VALUE, &mut out, |plan| {
            keep_alive = !plan.asks_close && plan.encoder != BodyEncoder::CloseDelimited;
            keep_alive
        });
        (String::from_utf8(out).unwrap(), encoder, keep_alive)
    }

    #[test]
    fn known_length() {
        let (s, enc, ka) = head(
            200,
            &[("content-type", "text/plain")],
            BodyLength::Known(5),
            Version::HTTP_11,
            false,
        );
        assert_eq!(
            s,
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: berth\r\n\
             content-type: text/plain\r\nContent-Length: 5\r\n\r\n"
        );
        assert_eq!(enc, BodyEncoder::Length(5));
        assert!(ka);
    }

    #[test]
    fn unknown_length_is_chunked_for_11_and_closes_for_10() {
        let (s, enc, ka) = head(200, &[], BodyLength::Unknown, Version::HTTP_11, false);
        assert!(s.contains("Transfer-Encoding: chunked\r\n"));
        assert_eq!((enc, ka), (BodyEncoder::Chunked, true));
        let (s, enc, ka) = head(200, &[], BodyLength::Unknown, Version::HTTP_10, false);
        assert!(!s.contains("Transfer-Encoding") && s.contains("Connection: close\r\n"));
        assert_eq!((enc, ka), (BodyEncoder::CloseDelimited, false));
    }

    #[test]
    fn handler_framing_headers_are_replaced() {
        let (s, _, _) = head(
            200,
            &[
                ("content-length", "99"),
                ("transfer-encoding", "gzip"),
                ("connection", "upgrade"),
            ],
            BodyLength::Known(3),
            Version::HTTP_11,
            false,
        );
        assert_eq!(
            s.matches("ontent-Length").count() + s.matches("content-length").count(),
            1
        );
        assert!(s.contains("Content-Length: 3\r\n"));
        assert!(!s.to_lowercase().contains("transfer-encoding") && !s.contains("upgrade"));
    }

    #[test]
    fn upgrade_brings_its_connection_option() {
        let (s, enc, ka) = head(
            101,
            &[("upgrade", "websocket"), ("connection", "keep-alive")],
            BodyLength::Known(0),
            Version::HTTP_11,
            false,
        );
        assert_eq!(
            s,
            "HTTP/1.1 101 Switching Protocols\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Server: berth\r\nupgrade: websocket\r\nConnection: upgrade\r\n\r\n"
        );
        assert_eq!((enc, ka), (BodyEncoder::Suppressed, true));
        // A 426 names the protocol required, and may close.
        let (s, _, _) = head(
            426,
            &[("upgrade", "websocket"), ("connection", "close")],
            BodyLength::Known(5),
            Version::HTTP_11,
            false,
        );
        assert!(s.contains("Content-Length: 5\r\n"));
        assert!(s.ends_with("Connection: upgrade, close\r\n\r\n"), "{s}");
    }

    #[test]
    fn no_body_statuses_and_head() {
        let (s, enc, _) = head(204, &[], BodyLength::Known(0), Version::HTTP_11, false);
        assert!(!s.contains("Content-Length"));
        assert_eq!(enc, BodyEncoder::Suppressed);
        let (s, enc, _) = head(304, &[], BodyLength::Known(10), Version::HTTP_11, false);
        assert!(!s.contains("Content-Length"));
        assert_eq!(enc, BodyEncoder::Suppressed);
        let (s, enc, _) = head(200, &[], BodyLength::Known(10), Version::HTTP_11, true);
        assert!(s.contains("Content-Length: 10\r\n"));
        assert_eq!(enc, BodyEncoder::Suppressed);
        let (s, _, _) = head(
            200,
            &[("content-length", "42")],
            BodyLength::Known(0),
            Version::HTTP_11,
            true,
        );
        assert!(s.contains("content-length: 42\r\n") && !s.contains("Content-Length: 0"));
    }

    #[test]
    fn connection_headers() {
        let (s, _, ka) = head(
            200,
            &[("connection", "close")],
            BodyLength::Known(0),
            Version::HTTP_11,
            false,
        );
        assert!(s.contains("Connection: close\r\n") && !ka);
        let (s, _, ka) = head(200, &[], BodyLength::Known(0), Version::HTTP_10, false);
        assert!(s.contains("Connection: keep-alive\r\n") && ka);
    }

    #[test]
    fn chunk_header() {
        let mut out = Vec::new();
        write_chunk_header(255, &mut out);
        assert_eq!(out, b"FF\r\n");
    }
}
