//! Request body framing: the single place that decides how long a request
//! body is (RFC 9112 §6.3), and which connection options a request names
//! (whether the connection persists is decided in `connection/keep_alive.rs`).
//!
//! A request's body length is determined by these steps, in order (the
//! response-only steps 1, 2 and 8 of §6.3 do not apply to requests):
//!
//! 3. Transfer-Encoding and Content-Length together: reject (400), because
//!    the two framings disagree and a proxy in front of us may have picked
//!    the other one (request smuggling).
//! 4. Transfer-Encoding present: chunked must be the final coding, else 400;
//!    a coding we do not implement is 501 (§6.1). In HTTP/1.0 any
//!    Transfer-Encoding is faulty framing (§6.1): 400.
//! 5. Content-Length present: it must be `1*DIGIT` (identical values in a
//!    list or in repeated lines are allowed by RFC 9110 §8.6); anything else,
//!    including differing values, is 400.
//! 6. Content-Length valid: the body is that many bytes.
//! 7. Neither: a request has no body.

use http::header::{CONNECTION, CONTENT_LENGTH, HeaderMap, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderValue, Version};

use super::error::{ErrorKind, ProtocolError};
use crate::syntax::{all_elements, elements, is_token, list_has, split_params};

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// No body (steps 6 with zero, and 7).
    Empty,
    /// Exactly this many bytes (step 6).
    Length(u64),
    /// The chunked transfer coding (step 4).
    Chunked,
}

/// Applies RFC 9112 §6.3 to a request head.
pub fn request_body(version: Version, headers: &HeaderMap) -> Result<RequestBody, ProtocolError> {
    let has_te = headers.contains_key(TRANSFER_ENCODING);
    let has_cl = headers.contains_key(CONTENT_LENGTH);
    if has_te {
        // RFC 9112 §6.1: a server that receives an HTTP/1.0 message with
        // Transfer-Encoding MUST treat the framing as faulty.
        if version == Version::HTTP_10 {
            return Err(ErrorKind::TransferEncodingInHttp10.into());
        }
        // Step 3: both present. The RFC lets a server either reject or drop
        // Content-Length; rejecting leaves no room for a desync.
        if has_cl {
            return Err(ErrorKind::ConflictingFraming.into());
        }
        return transfer_codings(headers.get_all(TRANSFER_ENCODING));
    }
    if has_cl {
        return content_length(headers.get_all(CONTENT_LENGTH)).map(|n| match n {
            0 => RequestBody::Empty,
            n => RequestBody::Length(n),
        });
    }
    Ok(RequestBody::Empty)
}

/// Step 4: `Transfer-Encoding = #transfer-coding`; chunked must be last and
/// appear once (RFC 9112 §7.1: a sender MUST NOT apply chunked more than
/// once); any other coding is one we do not implement.
fn transfer_codings<'a>(
    values: impl IntoIterator<Item = &'a HeaderValue>,
) -> Result<RequestBody, ProtocolError> {
    let mut codings = 0usize;
    let mut last_is_chunked = false;
    let mut chunked_seen = false;
    let mut unknown = false;
    for value in values {
        // RFC 9110 §5.6.1: empty list elements are ignored.
        for element in elements(value.as_bytes()) {
            // A coding may carry parameters (`gzip;q=1`); its name is the
            // token before them. chunked takes no parameters.
            let (name, _) = split_params(element);
            if !is_token(name) {
                return Err(ErrorKind::BadTransferEncoding.into());
            }
            codings += 1;
            last_is_chunked = name.eq_ignore_ascii_case(b"chunked");
            if last_is_chunked {
                if chunked_seen || element.len() != name.len() {
                    return Err(ErrorKind::ChunkedNotFinal.into());
                }
                chunked_seen = true;
            } else {
                unknown = true;
            }
        }
    }
    if codings == 0 {
        return Err(ErrorKind::BadTransferEncoding.into());
    }
    // RFC 9112 §6.3 step 4: if chunked is not the final coding the length
    // cannot be determined: 400 and close.
    if !last_is_chunked {
        return Err(ErrorKind::ChunkedNotFinal.into());
    }
    // RFC 9112 §6.1: a coding we do not understand: 501.
    if unknown {
        return Err(ErrorKind::UnsupportedTransferCoding.into());
    }
    Ok(RequestBody::Chunked)
}

/// Step 5: every Content-Length element must be `1*DIGIT` and all must agree.
fn content_length<'a>(
    values: impl IntoIterator<Item = &'a HeaderValue>,
) -> Result<u64, ProtocolError> {
    let mut length: Option<u64> = None;
    for value in values {
        // Not a list but a singleton repeated: an empty element is an
        // error, not noise.
        for element in all_elements(value.as_bytes()) {
            let n = parse_digits(element).ok_or(ErrorKind::BadContentLength)?;
            match length {
                Some(m) if m != n => return Err(ErrorKind::BadContentLength.into()),
                _ => length = Some(n),
            }
        }
    }
    length.ok_or_else(|| ErrorKind::BadContentLength.into())
}

/// `1*DIGIT` into a u64; `None` for signs, spaces, empty input or overflow.
fn parse_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// The connection options of a request's Connection field that bear on
/// persistence (RFC 9112 §9.3, §9.6): `close`, and HTTP/1.0's
/// `keep-alive`. What they mean is decided with everything else that does
/// in `connection/keep_alive.rs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ConnectionOptions {
    pub(crate) close: bool,
    pub(crate) keep_alive: bool,
}

/// The persistence options named in a request's Connection field lines.
pub(crate) fn connection_options(headers: &HeaderMap) -> ConnectionOptions {
    let mut options = ConnectionOptions::default();
    for value in headers.get_all(CONNECTION) {
        for option in elements(value.as_bytes()) {
            options.close |= option.eq_ignore_ascii_case(b"close");
            options.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    options
}

/// True when an HTTP/1.1 request offers to switch protocols: an `Upgrade`
/// field, named as a connection option (RFC 9110 §7.8: a sender of Upgrade
/// MUST send `Connection: upgrade`, so an Upgrade without it was forwarded
/// by an intermediary that did not understand it). RFC 9110 §7.8: a
/// server MUST ignore Upgrade in an HTTP/1.0 request.
pub(crate) fn offers_upgrade(version: Version, headers: &HeaderMap) -> bool {
    version == Version::HTTP_11
        && headers.contains_key(UPGRADE)
        && headers
            .get_all(CONNECTION)
            .iter()
            .any(|v| list_has(v.as_bytes(), b"upgrade"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing(
        version: Version,
        fields: &[(&'static str, &'static str)],
    ) -> Result<RequestBody, ErrorKind> {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(*name, HeaderValue::from_static(value));
        }
        request_body(version, &headers).map_err(|e| e.kind())
    }

    fn v11(fields: &[(&'static str, &'static str)]) -> Result<RequestBody, ErrorKind> {
        framing(Version::HTTP_11, fields)
    }

    #[test]
    fn no_framing_header_means_no_body() {
        assert_eq!(v11(&[]), Ok(RequestBody::Empty));
    }

    #[test]
    fn content_length_rules() {
        assert_eq!(v11(&[("content-length", "5")]), Ok(RequestBody::Length(5)));
        assert_eq!(v11(&[("content-length", "0")]), Ok(RequestBody::Empty));
        assert_eq!(
            v11(&[("content-length", "007")]),
            Ok(RequestBody::Length(7))
        );
        assert_eq!(
            v11(&[("content-length", "5, 5")]),
            Ok(RequestBody::Length(5))
        );
        assert_eq!(
            v11(&[("content-length", "5"), ("content-length", "5")]),
            Ok(RequestBody::Length(5))
        );
        for bad in [
            "+5",
            "-5",
            " ",
            "",
            "5a",
            "0x5",
            "5 5",
            "1.0",
            "5,",
            "99999999999999999999",
        ] {
            assert_eq!(
                v11(&[("content-length", bad)]),
                Err(ErrorKind::BadContentLength),
                "{bad:?}"
            );
        }
        assert_eq!(
            v11(&[("content-length", "5"), ("content-length", "6")]),
            Err(ErrorKind::BadContentLength)
        );
        assert_eq!(
            v11(&[("content-length", "5, 6")]),
            Err(ErrorKind::BadContentLength)
        );
        assert_eq!(
            v11(&[("content-length", "18446744073709551615")]),
            Ok(RequestBody::Length(u64::MAX))
        );
    }

    #[test]
    fn transfer_encoding_rules() {
        assert_eq!(
            v11(&[("transfer-encoding", "chunked")]),
            Ok(RequestBody::Chunked)
        );
        assert_eq!(
            v11(&[("transfer-encoding", "Chunked")]),
            Ok(RequestBody::Chunked)
        );
        assert_eq!(
            v11(&[("transfer-encoding", " chunked ")]),
            Ok(RequestBody::Chunked)
        );
        let cases: &[(&[(&'static str, &'static str)], ErrorKind)] = &[
            (
                &[("transfer-encoding", "chunked"), ("content-length", "5")],
                ErrorKind::ConflictingFraming,
            ),
            (
                &[("transfer-encoding", "chunked, gzip")],
                ErrorKind::ChunkedNotFinal,
            ),
            (
                &[("transfer-encoding", "chunked, chunked")],
                ErrorKind::ChunkedNotFinal,
            ),
            (
                &[
                    ("transfer-encoding", "chunked"),
                    ("transfer-encoding", "chunked"),
                ],
                ErrorKind::ChunkedNotFinal,
            ),
            (
                &[("transfer-encoding", "gzip, chunked")],
                ErrorKind::UnsupportedTransferCoding,
            ),
            (&[("transfer-encoding", "gzip")], ErrorKind::ChunkedNotFinal),
            (
                &[("transfer-encoding", "identity")],
                ErrorKind::ChunkedNotFinal,
            ),
            (
                &[("transfer-encoding", "xchunked")],
                ErrorKind::ChunkedNotFinal,
            ),
            (
                &[("transfer-encoding", "chunked;a=b")],
                ErrorKind::ChunkedNotFinal,
            ),
            (&[("transfer-encoding", "")], ErrorKind::BadTransferEncoding),
            (
                &[("transfer-encoding", "chun ked")],
                ErrorKind::BadTransferEncoding,
            ),
            (
                &[("transfer-encoding", "\"chunked\"")],
                ErrorKind::BadTransferEncoding,
            ),
        ];
        for (fields, kind) in cases {
            assert_eq!(v11(fields), Err(*kind), "{fields:?}");
        }
        assert_eq!(
            framing(Version::HTTP_10, &[("transfer-encoding", "chunked")]),
            Err(ErrorKind::TransferEncodingInHttp10)
        );
    }

    #[test]
    fn connection_options_are_found_in_any_line() {
        let options = |lines: &[&'static str]| {
            let mut h = HeaderMap::new();
            for line in lines {
                h.append(CONNECTION, HeaderValue::from_static(line));
            }
            let o = connection_options(&h);
            (o.close, o.keep_alive)
        };
        assert_eq!(options(&[]), (false, false));
        assert_eq!(options(&["Keep-Alive"]), (false, true));
        assert_eq!(options(&["keep-alive, Close"]), (true, true));
        assert_eq!(options(&["upgrade", " close "]), (true, false));
        assert_eq!(options(&["closed, keep-alives"]), (false, false));
    }
}
