//! Byte classes of the HTTP/1.1 message grammar as 256-entry tables, and
//! the one field-line parser shared by header and trailer sections.
//!
//! Each table quotes the ABNF it encodes (RFC 9110 §5.5; RFC 9112 §3.2,
//! §5). Lookups are one indexed load per byte. The grammar *inside* field
//! values (tokens, OWS, lists, parameters) is not HTTP/1.1's: it lives in
//! [`crate::syntax`], which this parser and every other reader of a field
//! value share.

use http::header::{HeaderName, HeaderValue};

use super::error::{ErrorKind, ProtocolError};
use crate::syntax::{byte_table, trim_ows};

/// ```text
/// field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
/// field-vchar   = VCHAR / obs-text                          ; RFC 9110 §5.5
/// ```
/// This table admits SP and HTAB too; leading and trailing whitespace is
/// trimmed separately. CR, LF, NUL and other CTLs are never allowed: RFC 9110
/// §5.5 says a recipient of CR, LF or NUL MUST reject the message or replace
/// them with SP, and rejecting is the choice that cannot be smuggled through.
///
/// `HeaderValue`'s constructors enforce exactly this set, so the parser
/// leaves the check to them; the table is the grammar they are tested
/// against.
#[cfg(test)]
pub(crate) static FIELD_VALUE: [bool; 256] =
    byte_table!(|b| b == b'\t' || b == b' ' || (b >= 0x21 && b <= 0x7e) || b >= 0x80);

/// Bytes allowed in a request-target: VCHAR (RFC 9112 §3.2; `http::Uri`
/// checks the finer RFC 3986 grammar) except `#`, which starts a fragment
/// that must never be sent (RFC 9112 §3.2.1 has no fragment), and `\`,
/// which RFC 3986 forbids and some filesystems treat as a separator. No
/// whitespace, no CTL, no obs-text.
pub(crate) static TARGET: [bool; 256] =
    byte_table!(|b| b >= 0x21 && b <= 0x7e && b != b'#' && b != b'\\');

/// Parses one field line without its CRLF, `buf[line]`:
///
/// ```text
/// field-line = field-name ":" OWS field-value OWS         ; RFC 9112 §5
/// ```
///
/// The line must not start with SP or HTAB: that is obs-fold, which the caller
/// detects because it knows whether a previous line exists. The value is a
/// slice of `buf`, not a copy.
///
/// The bytes are checked once, by the `http` constructors, which accept
/// exactly [`TCHAR`](crate::syntax::TCHAR) names and `FIELD_VALUE` values (the test
/// `http_checks_the_same_bytes_as_the_tables` holds them to it); the
/// tables then only classify a rejection.
pub(crate) fn parse_field_line(
    buf: &bytes::Bytes,
    line: std::ops::Range<usize>,
) -> Result<(HeaderName, HeaderValue), ProtocolError> {
    let bytes = &buf[line.clone()];
    // A field name is a few bytes: a plain scan beats memchr's setup.
    let colon = match bytes.iter().position(|&b| b == b':') {
        Some(i) => i,
        None => return Err(classify_bad_name(bytes)),
    };
    let name = &bytes[..colon];
    let name = HeaderName::from_bytes(name).map_err(|_| classify_bad_name(name))?;
    let raw_value = &bytes[colon + 1..];
    let trimmed = trim_ows(raw_value);
    let start = line.start + colon + 1 + (trimmed.as_ptr() as usize - raw_value.as_ptr() as usize);
    // RFC 9110 §5.5: CR, LF and NUL (and every other CTL but HTAB) are
    // rejected here.
    let value = HeaderValue::from_maybe_shared(buf.slice(start..start + trimmed.len()))
        .map_err(|_| classify_bad_value(raw_value))?;
    Ok((name, value))
}

fn classify_bad_name(name: &[u8]) -> ProtocolError {
    // RFC 9112 §5.1: no whitespace is allowed between the field name and the
    // colon; a server MUST reject such a message with 400.
    if name.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return ErrorKind::SpaceBeforeColon.into();
    }
    if name.contains(&b'\r') {
        return ErrorKind::BareCr.into();
    }
    ErrorKind::BadHeaderName.into()
}

fn classify_bad_value(value: &[u8]) -> ProtocolError {
    if value.contains(&b'\r') {
        ErrorKind::BareCr.into()
    } else {
        ErrorKind::BadHeaderValue.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::TCHAR;
    use bytes::Bytes;

    fn parse(s: &'static [u8]) -> Result<(String, Vec<u8>), ErrorKind> {
        parse_field_line(&Bytes::from_static(s), 0..s.len())
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .map_err(|e| e.kind())
    }

    #[test]
    fn tables_match_the_abnf() {
        for b in 0u8..=255 {
            let ctl = b < 0x20 || b == 0x7f;
            assert_eq!(FIELD_VALUE[b as usize], !ctl || b == b'\t', "value {b:#x}");
        }
    }

    #[test]
    fn http_checks_the_same_bytes_as_the_tables() {
        for b in 0u8..=255 {
            assert_eq!(
                HeaderName::from_bytes(&[b]).is_ok(),
                TCHAR[b as usize],
                "name {b:#x}"
            );
            assert_eq!(
                HeaderValue::from_bytes(&[b'a', b, b'a']).is_ok(),
                FIELD_VALUE[b as usize],
                "value {b:#x}"
            );
        }
        assert!(HeaderName::from_bytes(b"").is_err());
    }

    #[test]
    fn field_lines() {
        assert_eq!(parse(b"Host: a"), Ok(("host".into(), b"a".to_vec())));
        assert_eq!(parse(b"X-A:\t b c \t"), Ok(("x-a".into(), b"b c".to_vec())));
        assert_eq!(parse(b"X-A:"), Ok(("x-a".into(), b"".to_vec())));
        assert_eq!(
            parse(b"X-A: caf\xc3\xa9"),
            Ok(("x-a".into(), b"caf\xc3\xa9".to_vec()))
        );
        assert_eq!(parse(b"Host : a"), Err(ErrorKind::SpaceBeforeColon));
        assert_eq!(parse(b"Host\t: a"), Err(ErrorKind::SpaceBeforeColon));
        assert_eq!(parse(b"Ho st: a"), Err(ErrorKind::BadHeaderName));
        assert_eq!(parse(b": a"), Err(ErrorKind::BadHeaderName));
        assert_eq!(parse(b"no colon"), Err(ErrorKind::BadHeaderName));
        assert_eq!(parse(b"X: a\0b"), Err(ErrorKind::BadHeaderValue));
        assert_eq!(parse(b"X: a\rb"), Err(ErrorKind::BareCr));
        assert_eq!(parse(b"X: a\x7fb"), Err(ErrorKind::BadHeaderValue));
    }
}
