//! Which protocol a new cleartext connection speaks: HTTP/2 by prior
//! knowledge (RFC 9113 §3.3) when its first bytes are the connection
//! preface, HTTP/1.1 otherwise. A pure function of the bytes read so far,
//! called only for a connection's first request when h2c is on.

/// The part of the HTTP/2 connection preface (RFC 9113 §3.4) that is a
/// complete HTTP/1.1 request head (one proto would refuse).
pub(super) const H2_PREFACE_HEAD: &[u8] = b"PRI * HTTP/2.0\r\n\r\n";

/// Whether the bytes so far are the HTTP/2 preface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Preface {
    Yes,
    /// HTTP/1.x (or at least a request line naming an HTTP version).
    No,
    /// A prefix of it: read more.
    Maybe,
    /// A first line with no HTTP version in it.
    Neither,
}

/// Whether a new cleartext connection (with h2c on) opens with the
/// HTTP/2 preface (RFC 9113 §3.3, prior knowledge), judged at the first
/// byte that differs, so a short HTTP/1.1 request is never held up.
/// Its first 18 bytes are a complete HTTP/1.1 head that proto would
/// refuse: they decide; the `h2` crate checks the rest.
///
/// A first line of text that names no HTTP version at all is neither:
/// such a client (an invalid HTTP/2 preface, RFC 9113 §3.4, or another
/// text protocol) could not read an HTTP/1.1 error, and gets a closed
/// connection instead.
#[cold]
pub(super) fn preface(buf: &[u8]) -> Preface {
    // Most first requests say so in their first bytes.
    if buf.starts_with(b"GET ") || buf.starts_with(b"HEAD ") || buf.starts_with(b"POST ") {
        return Preface::No;
    }
    let n = buf.len().min(H2_PREFACE_HEAD.len());
    if buf[..n] == H2_PREFACE_HEAD[..n] {
        return if n == H2_PREFACE_HEAD.len() {
            Preface::Yes
        } else {
            Preface::Maybe
        };
    }
    let Some(end) = memchr::memchr(b'\n', buf) else {
        return Preface::No;
    };
    let line = &buf[..end];
    // Every valid request line ends with its version (`HTTP/1.1\r`):
    // checked first, the search is only for lines that are bad anyway.
    let ends_with_version =
        line.len() >= 9 && line[line.len() - 9..line.len() - 4].eq_ignore_ascii_case(b"HTTP/");
    if ends_with_version || line.windows(5).any(|w| w.eq_ignore_ascii_case(b"HTTP/")) {
        return Preface::No;
    }
    // Only a line of text: binary input (a TLS ClientHello on a plain
    // port) keeps its 400, which says what went wrong to a human
    // reading a capture.
    let text = line
        .iter()
        .all(|&b| b == b'\r' || (0x20..0x7f).contains(&b));
    if text { Preface::Neither } else { Preface::No }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Connection;

    #[test]
    fn the_first_differing_byte_decides() {
        let rows: &[(&[u8], Preface)] = &[
            (b"", Preface::Maybe),
            (b"P", Preface::Maybe),
            (b"PRI * HTTP/2.0\r\n\r", Preface::Maybe),
            (b"PRI * HTTP/2.0\r\n\r\n", Preface::Yes),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Preface::Yes),
            // A short HTTP/1.0 request is never held up.
            (b"GET / HTTP/1.0\r\n\r\n", Preface::No),
            (b"GE", Preface::No),
            (b"PRX", Preface::No),
            (b"OPTIONS * HTTP/1.1\r\n", Preface::No),
            (b"PUT /x HTTP/1.1", Preface::No),
            // A line that is no HTTP at all: neither.
            (b"INVALID CONNECTION PREFACE\r\n\r\n", Preface::Neither),
            (b"HELO example.com\r\n", Preface::Neither),
            // HTTP/0.9-like and odd versions are HTTP's to refuse.
            (b"BREW /pot http/1.1\r\n", Preface::No),
            (b"FOO / HTTP/3.0 extra\r\n", Preface::No),
            // Binary input keeps HTTP/1.1's 400.
            (b"\x16\x03\x01\x02\x00\n", Preface::No),
        ];
        for &(bytes, want) in rows {
            assert_eq!(preface(bytes), want, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn proto_refuses_the_http2_preface_as_a_request() {
        let mut conn = Connection::new(crate::proto::Limits::default());
        conn.receive(H2_PREFACE_HEAD);
        assert!(conn.next_event().is_err());
    }
}
