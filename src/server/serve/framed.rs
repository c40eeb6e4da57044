//! What the framed protocols (HTTP/2 and HTTP/3) share around the serving
//! core: a request from pseudo-header fields made to read as an HTTP/1.1
//! one, and checked against the limits HTTP/1.1 applies before a handler
//! is called; a response head without the connection-specific fields both
//! forbid (RFC 9113 §8.2.2, RFC 9114 §4.2); a file read in pieces for DATA
//! frames. Each engine frames the result its own way.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{StatusCode, Uri};

use tokio::sync::Notify;

use crate::body::FileRange;
use crate::server::config::ServerConfig;
use crate::server::date::date_header;
use crate::{Handler, Request, Response};

/// Makes `parts` read as an HTTP/1.1 request does, so a handler reads every
/// protocol alike:
/// - the target in origin form (path and query), with `:authority` as the
///   `Host` field when the request has none (RFC 9113 §8.3.1, RFC 9114
///   §4.3.1);
/// - the `Cookie` fields an HTTP/2 or HTTP/3 client may split one per
///   cookie, joined with `"; "` (RFC 9113 §8.2.3, RFC 9114 §4.2.1).
pub(crate) fn as_http11(parts: &mut Parts) {
    let headers = &mut parts.headers;
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    if let Some(authority) = uri.authority.take()
        && !headers.contains_key(header::HOST)
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        headers.insert(header::HOST, host);
    }
    uri.scheme = None;
    if uri.path_and_query.is_none() {
        // CONNECT has no path; berth serves no tunnels, so "/" stands in
        // for it and the handler answers the method.
        uri.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    parts.uri = Uri::from_parts(uri).unwrap_or_default();
    join_cookies(headers);
}

fn join_cookies(headers: &mut HeaderMap) {
    let mut crumbs = headers.get_all(header::COOKIE).iter();
    if crumbs.next().is_none() || crumbs.next().is_none() {
        return;
    }
    let mut joined = Vec::new();
    for crumb in headers.get_all(header::COOKIE) {
        if !joined.is_empty() {
            joined.extend_from_slice(b"; ");
        }
        joined.extend_from_slice(crumb.as_bytes());
    }
    if let Ok(value) = HeaderValue::from_bytes(&joined) {
        headers.insert(header::COOKIE, value);
    }
}

/// The declared body length (the `h2` and `h3` crates have checked its
/// syntax).
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// True when the request asks for `100 Continue`.
pub(crate) fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The status a request gets without reaching the handler, when it breaks
/// a limit or rule HTTP/1.1 applies too.
pub(crate) fn refusal(config: &ServerConfig, parts: &Parts) -> Option<StatusCode> {
    let limits = &config.limits;
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > limits.max_target_bytes {
        return Some(StatusCode::URI_TOO_LONG);
    }
    if parts.headers.len() > limits.max_headers {
        return Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    // RFC 9110 §10.1.1: the only expectation defined is 100-continue; a
    // server MAY answer any other with 417.
    if parts.headers.contains_key(header::EXPECT) && !expects_continue(&parts.headers) {
        return Some(StatusCode::EXPECTATION_FAILED);
    }
    None
}

/// The fields HTTP/2 and HTTP/3 forbid (RFC 9113 §8.2.2, RFC 9114 §4.2: a
/// message carrying them is malformed), which a handler written for HTTP/1.1 may set.
pub(crate) const CONNECTION_SPECIFIC: [HeaderName; 5] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The response head as HTTP/2 and HTTP/3 send it: no connection-specific fields;
/// `Date` and `Server` as on HTTP/1.1; `Content-Length` from the body's
/// known length (RFC 9110 §8.6), none for 204 and 304, and for HEAD the
/// length GET would have (kept from the handler when it sent no body).
///
/// One pass over the handler's fields finds what is there (a response
/// carries a handful): no hashed lookup per name, as for HTTP/1.1.
pub(crate) fn prepare_head(
    headers: &mut HeaderMap,
    status: StatusCode,
    is_head: bool,
    length: Option<u64>,
) {
    let (mut has_date, mut has_server, mut has_length, mut forbidden) =
        (false, false, false, false);
    for name in headers.keys() {
        if name == header::DATE {
            has_date = true;
        } else if name == header::SERVER {
            has_server = true;
        } else if name == header::CONTENT_LENGTH {
            has_length = true;
        } else if CONNECTION_SPECIFIC.contains(name) {
            forbidden = true;
        }
    }
    if forbidden {
        for name in &CONNECTION_SPECIFIC {
            headers.remove(name);
        }
    }
    if !has_date {
        headers.insert(header::DATE, date_header());
    }
    if !has_server {
        headers.insert(header::SERVER, HeaderValue::from_static("berth"));
    }
    let no_body_status = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    if is_head && !no_body_status && length == Some(0) && has_length {
        return;
    }
    match length {
        Some(n) if !no_body_status => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        _ if has_length => {
            headers.remove(header::CONTENT_LENGTH);
        }
        _ => {}
    }
}

/// `n` bytes of a file range from its offset, read into a fresh buffer's
/// spare capacity (never zeroed first: for a 1 MiB file, zeroing was 80%
/// of the instructions spent per response).
pub(crate) fn read_piece(range: &FileRange, n: usize) -> io::Result<Bytes> {
    let mut buf = Vec::with_capacity(n);
    while buf.len() < n {
        let at = range.offset + buf.len() as u64;
        match rustix::io::pread(&*range.file, rustix::buffer::spare_capacity(&mut buf), at) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank")),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The spare capacity may exceed `n`: what was read past it belongs to
    // the next piece (or lies beyond the range).
    buf.truncate(n);
    Ok(Bytes::from(buf))
}

/// What [`call`] needs of a framed protocol's stream while the handler
/// runs.
pub(crate) trait StreamControl {
    /// Sends an interim response (`100 Continue`).
    async fn send_interim(&mut self, response: http::Response<()>);
    /// Ready once the client has cancelled the stream.
    fn poll_cancelled(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// Runs the handler on a framed protocol's stream: `100 Continue` goes
/// out through `stream` when the handler first reads a body whose
/// request expects it (`first_read` is notified then; RFC 9110 §10.1.1,
/// as over HTTP/1.1), and a handler that panics is answered `500`
/// ([`settle`](super::settle)). `None` when the client cancels the
/// stream first, which cancels the handler.
pub(crate) async fn call<H: Handler + ?Sized>(
    handler: &H,
    request: Request,
    peer: SocketAddr,
    first_read: Option<Arc<Notify>>,
    stream: &mut impl StreamControl,
) -> Option<Response> {
    let mut call = std::pin::pin!(super::start(handler, request));
    let mut continued = first_read.is_none();
    loop {
        let read = async {
            match &first_read {
                Some(notify) => notify.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            result = &mut call => return Some(super::settle(result, peer)),
            () = poll_fn(|cx| stream.poll_cancelled(cx)) => return None,
            () = read, if !continued => {
                continued = true;
                let response = http::Response::builder()
                    .status(StatusCode::CONTINUE)
                    .body(())
                    .unwrap_or_default();
                stream.send_interim(response).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, fields: &[(&'static str, &'static str)]) -> Parts {
        let mut builder = http::Request::builder().uri(uri);
        for (name, value) in fields {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn requests_reach_handlers_in_origin_form_with_a_host() {
        let mut p = parts("https://example.com:8443/a/b?c=d", &[]);
        as_http11(&mut p);
        assert_eq!(p.uri, "/a/b?c=d");
        assert_eq!(p.headers[header::HOST], "example.com:8443");

        let mut p = parts("https://example.com/", &[("host", "kept")]);
        as_http11(&mut p);
        assert_eq!(p.headers[header::HOST], "kept");
    }

    #[test]
    fn cookie_crumbs_are_joined_and_a_single_one_is_left_alone() {
        let mut p = parts(
            "/",
            &[("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "c=3")],
        );
        as_http11(&mut p);
        let all: Vec<_> = p.headers.get_all(header::COOKIE).iter().collect();
        assert_eq!(all, ["a=1; b=2; c=3"]);
        let mut p = parts("/", &[("cookie", "a=1")]);
        as_http11(&mut p);
        assert_eq!(p.headers[header::COOKIE], "a=1");
    }

    #[test]
    fn refusals_match_http11() {
        let config = ServerConfig::default();
        let ok = parts("/", &[("expect", "100-Continue")]);
        assert_eq!(refusal(&config, &ok), None);
        let odd = parts("/", &[("expect", "something-else")]);
        assert_eq!(refusal(&config, &odd), Some(StatusCode::EXPECTATION_FAILED));
        let long = format!("/{}", "a".repeat(config.limits.max_target_bytes));
        let long = http::Request::get(long).body(()).unwrap().into_parts().0;
        assert_eq!(refusal(&config, &long), Some(StatusCode::URI_TOO_LONG));
    }

    #[test]
    fn connection_specific_fields_never_reach_http2() {
        let mut headers = HeaderMap::new();
        for name in CONNECTION_SPECIFIC {
            headers.insert(name, HeaderValue::from_static("x"));
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        prepare_head(&mut headers, StatusCode::OK, false, Some(5));
        for name in &CONNECTION_SPECIFIC {
            assert!(!headers.contains_key(name), "{name} kept");
        }
        assert_eq!(
            headers[header::CONTENT_LENGTH],
            "5",
            "the body's length wins"
        );
        assert_eq!(headers[header::SERVER], "berth");
        assert!(headers.contains_key(header::DATE));
    }

    #[test]
    fn content_length_follows_http11_rules() {
        // (status, HEAD, body length, handler's Content-Length, sent)
        type Case = (
            StatusCode,
            bool,
            Option<u64>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            (StatusCode::OK, false, None, Some("3"), None),
            (StatusCode::NO_CONTENT, false, Some(0), None, None),
            (StatusCode::NOT_MODIFIED, false, Some(0), Some("10"), None),
            (StatusCode::OK, true, Some(0), Some("1234"), Some("1234")),
            (StatusCode::OK, true, Some(7), None, Some("7")),
        ];
        for &(status, is_head, length, handler, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(v) = handler {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static(v));
            }
            prepare_head(&mut headers, status, is_head, length);
            assert_eq!(
                headers
                    .get(header::CONTENT_LENGTH)
                    .map(|v| v.to_str().unwrap()),
                expected,
                "{status} head={is_head} length={length:?}"
            );
        }
    }
}
