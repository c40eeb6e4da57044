//! Cross-site request forgery: which upload requests come from another
//! site's page, and are refused.
//!
//! A page on any site can make its visitor's browser `POST` a
//! `multipart/form-data` form here: a form submission is a "simple"
//! request, sent without a CORS preflight, and with the credentials the
//! browser holds for this origin (Basic auth among them). Without a
//! check, visiting a hostile page would store its files in a berth the
//! visitor can write to. Browsers say where a request comes from
//! (W3C Fetch Metadata `Sec-Fetch-Site`; `Origin` on every `POST`,
//! RFC 6454 §7 and the Fetch standard), so the check follows them, the
//! way Go's `net/http.CrossOriginProtection` does:
//!
//! 1. `Sec-Fetch-Site: same-origin` or `none` (typed or bookmarked) is
//!    allowed; any other value (`same-site`, `cross-site`) is refused
//!    unless its `Origin` is trusted.
//! 2. Without `Sec-Fetch-Site` (older browsers), an `Origin` whose host
//!    and port are the request's own (`Host`, or HTTP/2's `:authority`)
//!    is allowed; any other (`null` included) is refused unless trusted.
//! 3. A request with neither header is not a browser's cross-site
//!    request (curl, scripts): allowed.
//!
//! Behind a proxy that rewrites `Host`, same-origin uploads from older
//! browsers need their origin listed in
//! [`Uploads::trusted_origins`](super::Uploads::trusted_origins).

use http::header::{self, HeaderMap};
use http::{HeaderName, Uri};

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Whether a request with `headers` (to `uri`) comes from another site's
/// page, and so may not upload; `trusted` lists the origins
/// (`scheme://host[:port]`, compared case-insensitively) that may.
pub(super) fn is_cross_site(uri: &Uri, headers: &HeaderMap, trusted: &[String]) -> bool {
    let origin = headers.get(header::ORIGIN).map(|o| o.as_bytes());
    let is_trusted =
        || origin.is_some_and(|o| trusted.iter().any(|t| t.as_bytes().eq_ignore_ascii_case(o)));
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        let site = site.as_bytes();
        let own_or_typed =
            site.eq_ignore_ascii_case(b"same-origin") || site.eq_ignore_ascii_case(b"none");
        return !own_or_typed && !is_trusted();
    }
    let Some(origin) = origin else {
        return false;
    };
    let own = uri
        .authority()
        .map(|a| a.as_str().as_bytes())
        .or_else(|| headers.get(header::HOST).map(|h| h.as_bytes()));
    let same =
        own.is_some_and(|own| origin_host(origin).is_some_and(|h| h.eq_ignore_ascii_case(own)));
    !same && !is_trusted()
}

/// The `host[:port]` of a serialized origin (`scheme://host[:port]`);
/// `None` for `null` or anything else.
fn origin_host(origin: &[u8]) -> Option<&[u8]> {
    let at = origin.windows(3).position(|w| w == b"://")?;
    let host = &origin[at + 3..];
    (!host.is_empty() && !host.contains(&b'/')).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cross(uri: &str, headers: &[(&str, &str)], trusted: &[&str]) -> bool {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
        is_cross_site(&uri.parse().unwrap(), &map, &trusted)
    }

    #[test]
    fn fetch_metadata_decides_when_sent() {
        for same in ["same-origin", "none", "Same-Origin"] {
            assert!(!cross("/up/", &[("sec-fetch-site", same)], &[]), "{same}");
        }
        for other in ["cross-site", "same-site", "bogus"] {
            assert!(cross("/up/", &[("sec-fetch-site", other)], &[]), "{other}");
            // Even with an Origin matching Host: the browser's word wins.
            assert!(
                cross(
                    "/up/",
                    &[
                        ("sec-fetch-site", other),
                        ("host", "h:1"),
                        ("origin", "http://h:1")
                    ],
                    &[]
                ),
                "{other}"
            );
        }
        assert!(!cross(
            "/up/",
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://app.example")
            ],
            &["https://APP.example"]
        ));
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_be_the_host() {
        let h = |origin| {
            cross(
                "/up/",
                &[("host", "files.example:8080"), ("origin", origin)],
                &[],
            )
        };
        assert!(!h("http://files.example:8080"));
        assert!(!h("https://FILES.example:8080"));
        assert!(h("http://files.example"), "another port");
        assert!(h("http://evil.example:8080"));
        assert!(h("http://files.example:8080.evil.example"));
        assert!(h("null"));
        assert!(h("files.example:8080"), "not an origin");
        // HTTP/2: the authority is in the URI.
        assert!(!cross(
            "https://files.example/up/",
            &[("origin", "https://files.example")],
            &[]
        ));
        assert!(cross(
            "https://files.example/up/",
            &[("origin", "https://evil.example")],
            &[]
        ));
        // A trusted origin passes; `null` and others do not.
        let trusted = ["https://app.example"];
        assert!(!cross(
            "/up/",
            &[("host", "f"), ("origin", "https://app.example")],
            &trusted
        ));
        assert!(cross(
            "/up/",
            &[("host", "f"), ("origin", "null")],
            &trusted
        ));
    }

    #[test]
    fn a_request_without_either_header_is_not_a_browsers_cross_site_one() {
        assert!(!cross("/up/", &[("host", "f")], &[]));
        assert!(!cross("/up/", &[], &[]));
    }
}
