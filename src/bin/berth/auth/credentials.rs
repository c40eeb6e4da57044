//! The `Authorization` field: exactly one, `Basic` in any case, one token68
//! of base64, split into a user-id and a password (RFC 7617 §2).

use http::header::{self, HeaderMap};

use super::MAX_AUTHORIZATION_LEN;
use berth::syntax::{is_ows, trim_ows};

/// A user-id and password from a well-formed `Authorization: Basic` field.
/// No `Debug`: it must never be printed.
pub(super) struct Credentials {
    pub(super) user: String,
    pub(super) password: String,
}

impl Credentials {
    /// The credentials of the request's only `Authorization` field, when it
    /// is well-formed `Basic` (RFC 7617 §2; RFC 9110 §11.4, §11.6.2);
    /// `None` for anything else.
    pub(super) fn from_headers(headers: &HeaderMap) -> Option<Credentials> {
        let mut fields = headers.get_all(header::AUTHORIZATION).iter();
        let value = fields.next()?;
        if fields.next().is_some() {
            return None;
        }
        Credentials::parse(value.as_bytes())
    }

    /// `credentials = auth-scheme [ 1*SP token68 ]` with surrounding OWS
    /// ignored; the scheme is case-insensitive (RFC 9110 §11.1).
    pub(super) fn parse(value: &[u8]) -> Option<Credentials> {
        if value.len() > MAX_AUTHORIZATION_LEN {
            return None;
        }
        let value = trim_ows(value);
        let split = value.iter().position(|&b| is_ows(b))?;
        let (scheme, rest) = value.split_at(split);
        if !scheme.eq_ignore_ascii_case(b"Basic") {
            return None;
        }
        let token = trim_ows(rest);
        if token.is_empty() || token.iter().any(|&b| is_ows(b)) {
            return None;
        }
        let text = String::from_utf8(base64_decode(token)?).ok()?;
        // RFC 7617 §2: split at the first colon; no control characters.
        let (user, password) = text.split_once(':')?;
        if user.is_empty() || text.chars().any(char::is_control) {
            return None;
        }
        Some(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// Standard base64 (RFC 4648 §4), padding optional but, when present,
/// complete; the unused bits of the last digit must be zero (the `base64`
/// crate's default strictness).
pub(super) fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    STANDARD
        .decode(input)
        .or_else(|_| STANDARD_NO_PAD.decode(input))
        .ok()
}
