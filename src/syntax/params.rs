//! Parameters (RFC 9110 §5.6.6) and weights (§12.4.2).
//!
//! ```text
//! parameters      = *( OWS ";" OWS [ parameter ] )
//! parameter       = parameter-name "=" parameter-value
//! parameter-name  = token
//! parameter-value = ( token / quoted-string )
//! weight          = OWS ";" OWS "q=" qvalue
//! qvalue          = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
//! ```
//!
//! Parameters are split at `;` outside quoted-strings; empty ones are
//! skipped, and OWS around the `=` is tolerated (`q = 0.5`, as browsers'
//! and proxies' output has been seen to carry). A parameter that is
//! malformed (no `=`, a name that is not a token, a value that is neither
//! a token nor a quoted-string) is still yielded, with no
//! [`value`](Param::value): each reader decides what that costs.

use std::borrow::Cow;

use super::list::{find_unquoted, quoted_string};
use super::{is_token, trim_ows};

/// A quality value in thousandths, 0 (not acceptable) to 1000.
pub type Quality = u16;

/// Splits a list element into what precedes its parameters (a coding, a
/// media type...), OWS trimmed, and the parameters.
///
/// ```
/// # use berth::syntax::split_params;
/// let (head, mut params) = split_params(b"text/html ; level=1 ;q=0.5");
/// assert_eq!(head, b"text/html");
/// assert_eq!(params.next().unwrap().name(), b"level");
/// ```
pub fn split_params(element: &[u8]) -> (&[u8], Params<'_>) {
    let end = find_unquoted(element, b';');
    let rest = element.get(end + 1..).unwrap_or_default();
    (trim_ows(&element[..end]), Params { rest })
}

/// The parameters of an element, in order (see [`split_params`]).
#[derive(Debug, Clone)]
pub struct Params<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = find_unquoted(self.rest, b';');
            let piece = trim_ows(&self.rest[..end]);
            self.rest = self.rest.get(end + 1..).unwrap_or_default();
            if piece.is_empty() {
                continue;
            }
            // A name is a token, so the first `=` ends it.
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(i) => (trim_ows(&piece[..i]), Some(trim_ows(&piece[i + 1..]))),
                None => (piece, None),
            };
            return Some(Param { name, value });
        }
    }
}

/// One parameter, borrowed from the field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    name: &'a [u8],
    /// The bytes after `=`, as sent; `None` without `=`.
    value: Option<&'a [u8]>,
}

impl<'a> Param<'a> {
    /// The name as sent (compare it with [`is`](Self::is)).
    pub fn name(&self) -> &'a [u8] {
        self.name
    }

    /// Whether the parameter is called `name` (case-insensitive, RFC 9110
    /// §5.6.6).
    pub fn is(&self, name: &[u8]) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value after `=` as sent (a quoted-string keeps its quotes);
    /// `None` without `=`.
    pub fn raw_value(&self) -> Option<&'a [u8]> {
        self.value
    }

    /// The value: a token as it is, a quoted-string unescaped. `None` when
    /// the parameter is malformed.
    pub fn value(&self) -> Option<Cow<'a, [u8]>> {
        let raw = self.value?;
        if !is_token(self.name) {
            return None;
        }
        if is_token(raw) {
            return Some(Cow::Borrowed(raw));
        }
        match quoted_string(raw)? {
            (quoted, []) => Some(quoted.unescape()),
            _ => None,
        }
    }
}

/// `qvalue` in thousandths; `None` when `s` is not exactly one (`0.0001`,
/// `00`, `1.001`, `.5`, `1e0`, empty, surrounding spaces).
///
/// ```
/// # use berth::syntax::qvalue;
/// assert_eq!(qvalue(b"0.5"), Some(500));
/// assert_eq!(qvalue(b"1.000"), Some(1000));
/// assert_eq!(qvalue(b"0.0001"), None);
/// assert_eq!(qvalue(b"00"), None);
/// ```
pub fn qvalue(s: &[u8]) -> Option<Quality> {
    let (int, frac) = match s {
        [d, b'.', frac @ ..] => (*d, frac),
        [d] => (*d, &b""[..]),
        _ => return None,
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: Quality = 0;
    for (&d, scale) in frac.iter().zip([100, 10, 1]) {
        thousandths += Quality::from(d - b'0') * scale;
    }
    match int {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Splits `params` at the weight: the parameters before the first `q`
/// (a media range's own), and the weight (1000 without a `q`; `None` when
/// its value is not a [`qvalue`], which makes the element ignored).
/// Parameters after the `q` are not looked at.
///
/// ```
/// # use berth::syntax::{split_params, split_weight};
/// let (_, params) = split_params(b"text/plain;format=flowed;q=0.4;ext=1");
/// let (own, q) = split_weight(params);
/// assert_eq!(q, Some(400));
/// assert_eq!(own.map(|p| p.name()).collect::<Vec<_>>(), [b"format"]);
/// assert_eq!(split_weight(split_params(b"gzip;q=0.0001").1).1, None);
/// ```
pub fn split_weight(params: Params<'_>) -> (Params<'_>, Option<Quality>) {
    let all = params.rest;
    let mut it = params;
    loop {
        let before = it.rest;
        let Some(param) = it.next() else {
            return (Params { rest: all }, Some(1000));
        };
        if param.is(b"q") {
            let own = Params {
                rest: &all[..all.len() - before.len()],
            };
            return (own, param.raw_value().and_then(qvalue));
        }
    }
}
