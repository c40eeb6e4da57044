//! Lists (RFC 9110 §5.6.1) and quoted strings (§5.6.4).
//!
//! ```text
//! #element    => [ element ] *( OWS "," OWS [ element ] )
//! quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//! ```
//!
//! The split is a scan for the separator outside quoted-strings (a
//! backslash inside one escapes the next byte); an unterminated
//! quoted-string runs to the end of the value, so `a="x, b` is one
//! (malformed) element, which its reader then ignores. No allocation:
//! elements are slices of the value.

use std::borrow::Cow;

use http::HeaderValue;

use super::{is_qdtext, is_quotable, trim_ows};

/// The index of the first `sep` in `s` outside a quoted-string, or
/// `s.len()`. Shared by lists (`,`) and parameters (`;`).
pub(super) fn find_unquoted(s: &[u8], sep: u8) -> usize {
    let mut quoted = false;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if quoted {
            match b {
                b'\\' => i += 1,
                b'"' => quoted = false,
                _ => {}
            }
        } else if b == sep {
            return i;
        } else if b == b'"' {
            quoted = true;
        }
        i += 1;
    }
    s.len()
}

/// The non-empty elements of the list `value`, OWS trimmed, in order. A
/// comma inside a quoted-string does not split; an unterminated
/// quoted-string runs to the end of the value.
///
/// ```
/// # use berth::syntax::elements;
/// let list: Vec<&[u8]> = elements(b" , ,a=\"x,y\" ,\tb ,").collect();
/// assert_eq!(list, [&b"a=\"x,y\""[..], b"b"]);
/// ```
pub fn elements(value: &[u8]) -> Elements<'_> {
    Elements(all_elements(value))
}

/// The elements of every line of a field, as one list (RFC 9110 §5.3: the
/// lines of a list-valued field are one comma-separated list).
pub fn elements_of<'a>(
    lines: impl IntoIterator<Item = &'a HeaderValue>,
) -> impl Iterator<Item = &'a [u8]> {
    lines.into_iter().flat_map(|line| elements(line.as_bytes()))
}

/// Every element of `value`, empty ones included (`""` is one empty
/// element, `"a,"` two), OWS trimmed: for a field whose empty elements
/// are an error rather than noise (`Content-Length`).
pub fn all_elements(value: &[u8]) -> AllElements<'_> {
    AllElements { rest: Some(value) }
}

/// True when the list `value` has the element `token`, compared
/// case-insensitively: `Connection: close`, `Cache-Control: no-transform`.
#[inline]
pub fn list_has(value: &[u8], token: &[u8]) -> bool {
    elements(value).any(|e| e.eq_ignore_ascii_case(token))
}

/// The iterator of [`elements`].
#[derive(Debug, Clone)]
pub struct Elements<'a>(AllElements<'a>);

impl<'a> Iterator for Elements<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        self.0.by_ref().find(|e| !e.is_empty())
    }
}

/// The iterator of [`all_elements`].
#[derive(Debug, Clone)]
pub struct AllElements<'a> {
    /// What follows the last comma; `None` after the last element.
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for AllElements<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        let end = find_unquoted(s, b',');
        // `None` when no comma ended this element.
        self.rest = s.get(end + 1..);
        Some(trim_ows(&s[..end]))
    }
}

/// A quoted-string's content between its quotes, quoted-pairs still
/// escaped; found by [`quoted_string`], so well-formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedString<'a> {
    escaped: &'a [u8],
}

impl<'a> QuotedString<'a> {
    /// The bytes between the quotes, as sent.
    pub fn escaped(&self) -> &'a [u8] {
        self.escaped
    }

    /// The content, unescaped, byte by byte (no allocation).
    pub fn bytes(&self) -> impl Iterator<Item = u8> + 'a {
        let mut rest = self.escaped.iter();
        std::iter::from_fn(move || match rest.next()? {
            b'\\' => rest.next().copied(),
            &b => Some(b),
        })
    }

    /// The content, unescaped; borrowed when it has no quoted-pair.
    pub fn unescape(&self) -> Cow<'a, [u8]> {
        if self.escaped.contains(&b'\\') {
            Cow::Owned(self.bytes().collect())
        } else {
            Cow::Borrowed(self.escaped)
        }
    }
}

/// The quoted-string at the start of `s` and the bytes after it; `None`
/// when `s` does not start with a well-formed one (no opening quote, a
/// control byte inside, a backslash before a control byte or at the end,
/// no closing quote).
///
/// ```
/// # use berth::syntax::quoted_string;
/// let (q, rest) = quoted_string(br#""a\"b", c"#).unwrap();
/// assert_eq!(&*q.unescape(), b"a\"b");
/// assert_eq!(rest, b", c");
/// assert!(quoted_string(b"\"open").is_none());
/// ```
pub fn quoted_string(s: &[u8]) -> Option<(QuotedString<'_>, &[u8])> {
    let body = s.strip_prefix(b"\"")?;
    let mut i = 0;
    loop {
        match *body.get(i)? {
            b'"' => {
                let q = QuotedString {
                    escaped: &body[..i],
                };
                return Some((q, &body[i + 1..]));
            }
            b'\\' if body.get(i + 1).is_some_and(|&b| is_quotable(b)) => i += 2,
            b if is_qdtext(b) => i += 1,
            _ => return None,
        }
    }
}
