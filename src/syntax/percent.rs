//! Strict percent-decoding (RFC 3986 §2.1), the one decoder for request
//! paths, path parameters, query strings and form bodies.

use std::borrow::Cow;

/// Percent-decodes `raw` (and `+` to space when `plus_as_space`, as
/// `application/x-www-form-urlencoded` has it); `None` on a `%` without
/// two hex digits after it or on bytes that are not UTF-8 once decoded.
/// Borrows when there is nothing to decode.
///
/// ```
/// # use berth::syntax::percent_decode;
/// assert_eq!(percent_decode(b"a%20b+c", false).as_deref(), Some("a b+c"));
/// assert_eq!(percent_decode(b"a%20b+c", true).as_deref(), Some("a b c"));
/// assert_eq!(percent_decode(b"100%", false), None);
/// assert_eq!(percent_decode(b"%ff", false), None);
/// ```
pub fn percent_decode(raw: &[u8], plus_as_space: bool) -> Option<Cow<'_, str>> {
    let needs_work = raw
        .iter()
        .any(|&b| b == b'%' || (plus_as_space && b == b'+'));
    if !needs_work {
        return std::str::from_utf8(raw).ok().map(Cow::Borrowed);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'%' => {
                let high = hex_value(*raw.get(i + 1)?)?;
                let low = hex_value(*raw.get(i + 2)?)?;
                out.push(high << 4 | low);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
