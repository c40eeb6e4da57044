//! The grammar of field values (RFC 9110 §5.5, §5.6) and of percent-encoded
//! text (RFC 3986 §2.1), written once: every part of berth that reads a
//! header value or decodes a URL piece does it through this module, so
//! the library, the HTTP/1.1 parser and the `berth` binary cannot disagree
//! about what a value means.
//!
//! - **Tokens and whitespace** (this file): [`TCHAR`], [`is_token`],
//!   [`trim_ows`].
//! - **Lists** (`list.rs`, §5.6.1): [`elements`] splits at commas outside
//!   quoted-strings, trims OWS and skips empty elements; [`list_has`]
//!   (the HTTP/1.1 parser's `Connection` check, allocation-free).
//! - **Quoted strings** (`list.rs`, §5.6.4): [`quoted_string`].
//! - **Parameters and weights** (`params.rs`, §5.6.6, §12.4.2):
//!   [`split_params`], [`qvalue`], [`split_weight`].
//! - **Media types and `Accept`** (`media.rs`, §8.3.1, §12.5.1):
//!   [`MediaType`], [`Accept`] with one specificity rule.
//! - **Percent-decoding** (`percent.rs`): [`percent_decode`], strict.
//!
//! # The rules, where callers used to differ
//!
//! - A comma inside a quoted-string does not split a list
//!   (`a="x,y", b` is two elements), in every list, `Connection` and
//!   `Transfer-Encoding` included. Entity-tag lists (`If-Match`,
//!   `If-None-Match`) are the one exception, parsed by `conditional.rs`:
//!   an entity-tag is not a quoted-string (a backslash in it is an
//!   ordinary character, RFC 9110 §8.8.3).
//! - Empty list elements and OWS around elements are ignored; `Content-Length`
//!   alone, a singleton whose repeated values are a recovery and not a
//!   list, rejects empty elements ([`all_elements`]).
//! - Tokens (codings, media types, parameter names, directives) compare
//!   case-insensitively.
//! - A q-value is exactly `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "."
//!   0*3("0") ] )`: `q=0.0001`, `q=00`, `q=1.001`, `q=.5`, `q=` are
//!   invalid, and **an element with an invalid q-value is ignored** as if
//!   it were not in the list (never a `400`). The weight is the first `q`
//!   parameter; parameters after it are the `accept-ext` of RFC 7231
//!   §5.3.2 and are not looked at.
//! - In `Accept`, the most specific matching range decides a type's
//!   quality (`type/subtype;params` > `type/subtype` > `type/*` > `*/*`);
//!   among equally specific matches the lowest q counts, as for a coding
//!   listed twice in `Accept-Encoding`.
//! - Percent-decoding fails on a `%` without two hex digits after it and
//!   on bytes that are not UTF-8 once decoded; it never guesses.
//!
//! Public so that the `berth` binary, a separate crate, uses the same
//! code; hidden from the docs because it is berth's plumbing, not an API
//! it promises to keep.

mod list;
mod media;
mod params;
mod percent;

pub use list::{
    AllElements, Elements, QuotedString, all_elements, elements, elements_of, list_has,
    quoted_string,
};
pub use media::{Accept, Level, MediaType, Specificity};
pub use params::{Param, Params, Quality, qvalue, split_params, split_weight};
pub use percent::percent_decode;

/// Builds a 256-entry table at compile time from a predicate on `b`.
macro_rules! byte_table {
    (|$b:ident| $pred:expr) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            t[i] = $pred;
            i += 1;
        }
        t
    }};
}
pub(crate) use byte_table;

/// ```text
/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
///         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA     ; RFC 9110 §5.6.2
/// ```
pub static TCHAR: [bool; 256] = byte_table!(|b| matches!(b,
    b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
    | b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z'));

/// Whether `b` is a `tchar` (one load from [`TCHAR`]).
#[inline]
pub fn is_tchar(b: u8) -> bool {
    TCHAR[b as usize]
}

/// `token = 1*tchar` (RFC 9110 §5.6.2): every byte a tchar, not empty.
#[inline]
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// `OWS = *( SP / HTAB )` (RFC 9110 §5.6.3): whether `b` is one of them.
#[inline]
pub fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s` without OWS at either end.
#[inline]
pub fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// `qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text` (RFC 9110
/// §5.6.4): a byte that stands for itself inside a quoted-string.
#[inline]
pub fn is_qdtext(b: u8) -> bool {
    is_ows(b) || b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b) || b >= 0x80
}

/// `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )` (RFC 9110
/// §5.6.4): whether `b` may follow the backslash.
#[inline]
pub fn is_quotable(b: u8) -> bool {
    is_ows(b) || (0x21..=0x7e).contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests;
