//! An HTTP/2 request as the serving core takes it: in the shape an
//! HTTP/1.1 request has (origin-form target, `Host`, one `Cookie` field),
//! and checked against the limits HTTP/1.1 applies before a handler is
//! called.

use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{StatusCode, Uri};

use crate::server::config::ServerConfig;

/// Makes `parts` read as an HTTP/1.1 request does, so a handler reads both
/// protocols alike:
/// - the target in origin form (path and query), with `:authority` as the
///   `Host` field when the request has none (RFC 9113 §8.3.1);
/// - the `Cookie` fields an HTTP/2 client may split one per cookie,
///   joined with `"; "` (RFC 9113 §8.2.3).
pub(super) fn as_http11(parts: &mut Parts) {
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

/// The declared body length (the `h2` crate has checked its syntax).
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// True when the request asks for `100 Continue`.
pub(super) fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The status a request gets without reaching the handler, when it breaks
/// a limit or rule HTTP/1.1 applies too.
pub(super) fn refusal(config: &ServerConfig, parts: &Parts) -> Option<StatusCode> {
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
}
