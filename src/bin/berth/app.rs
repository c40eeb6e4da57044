//! The binary's app layer: [`Site`] wraps a [`ServeDir`] with the options
//! the flags add (CORS, SPA and 404 fallbacks, extra headers). The health
//! check and metrics answer before this, in [`crate::ops`].
//!
//! # Steps
//!
//! Each request goes through these steps in order; step 2 may answer it on
//! its own, the others refine the answer:
//!
//! 1. (Health: see [`crate::ops`].)
//! 2. **CORS preflight** (`--cors`, `--cors-origin`): `OPTIONS` with
//!    `Origin` and `Access-Control-Request-Method`, from an allowed origin,
//!    is `204` with `Access-Control-Allow-Origin`, `-Allow-Methods: GET,
//!    HEAD, OPTIONS`, `-Allow-Headers` (the requested headers, echoed when
//!    they are all valid tokens) and `-Max-Age: 86400`. A preflight from
//!    another origin goes on to step 3 like any request, and gets no CORS
//!    headers.
//! 3. **Files**: the request goes to `ServeDir` (which also takes the
//!    uploads, `PUT` and `POST`, with `--upload`).
//! 4. **Fallbacks**, only when step 3 answered `404`:
//!    1. `--spa FILE`: a *navigation* (GET/HEAD whose `Accept` lists
//!       `text/html`, for a path whose last segment has no `.`) gets FILE,
//!       asked of `ServeDir` as `/FILE` (so containment, validators and
//!       `HEAD` are as for any file), with `Cache-Control: no-cache` (the
//!       app shell must be revalidated after a deploy). Asset-like paths
//!       (`/app.js`, `/img/x.png`) and API clients that do not ask for HTML
//!       keep their `404`.
//!    2. `--404 FILE`: the still-`404` answer is replaced by FILE (asked of
//!       `ServeDir` without conditional or `Range` headers) with status
//!       `404`, its own `Content-Type`, and no validators.
//! 5. **Headers**: `--cache-control` on `200`/`206`/`304` answers from
//!    `ServeDir` that have no `Cache-Control`; the CORS headers on GET/HEAD
//!    (`Access-Control-Allow-Origin`; `Vary: Origin` on every answer when
//!    only some origins are allowed); then each `--header`, replacing any
//!    header of the same name.

use std::sync::Arc;

use berth::handler::BoxFuture;
use berth::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use berth::http::request::Parts;
use berth::http::{Method, StatusCode, Uri};
use berth::serve_dir::Uploads;
use berth::{Body, Handler, Request, Response, ServeDir};

/// Which cross-origin requests are allowed.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Cors {
    /// No CORS headers (the default).
    #[default]
    Off,
    /// Any origin: `Access-Control-Allow-Origin: *`.
    Any,
    /// These origins (lowercase `scheme://host[:port]`), echoed back.
    Origins(Vec<String>),
}

/// Everything the flags configure beyond the server itself.
#[derive(Debug, Clone, Default)]
pub struct SiteOptions {
    /// Index file names, in order of preference.
    pub index: Vec<String>,
    pub hidden: bool,
    pub follow_symlinks: bool,
    /// `--open-file-cache`: how long an opened file is reused.
    pub open_file_cache: std::time::Duration,
    pub listing: bool,
    /// Serve precompressed sidecars (`FILE.br`...).
    pub precompressed: bool,
    /// The `--spa` file as a URI path (`/index.html`).
    pub spa: Option<Uri>,
    /// The `--404` file as a URI path.
    pub not_found: Option<Uri>,
    pub cache_control: Option<HeaderValue>,
    /// `--header` values, grouped by name.
    pub headers: Vec<(HeaderName, Vec<HeaderValue>)>,
    pub cors: Cors,
    /// `--upload` and its companions; `None`: no uploads.
    pub uploads: Option<Uploads>,
}

/// `ServeDir` plus the flags' options; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Site {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    files: ServeDir,
    options: SiteOptions,
}

impl Site {
    pub fn new(root: &std::path::Path, options: SiteOptions) -> Site {
        let files = ServeDir::new(root)
            .hidden(options.hidden)
            .follow_symlinks(options.follow_symlinks)
            .index_files(options.index.iter().map(String::as_str))
            .listing(options.listing)
            .precompressed(options.precompressed)
            .open_file_cache(options.open_file_cache);
        let files = match &options.uploads {
            Some(uploads) => files.uploads(uploads.clone()),
            None => files,
        };
        Site {
            inner: Arc::new(Inner { files, options }),
        }
    }
}

impl Handler for Site {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { inner.serve(req).await })
    }
}

const ALLOW_METHODS: HeaderValue = HeaderValue::from_static("GET, HEAD, OPTIONS");
const MAX_AGE: HeaderValue = HeaderValue::from_static("86400");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const ANY: HeaderValue = HeaderValue::from_static("*");

impl Inner {
    async fn serve(&self, req: Request) -> Response {
        let o = &self.options;
        let get_or_head = req.method() == Method::GET || req.method() == Method::HEAD;
        let origin = req.headers().get(header::ORIGIN).cloned();
        // 2. CORS preflight.
        if let Some(res) = self.preflight(&req) {
            return self.finish(res, false, origin.as_ref(), false);
        }
        // 3. Files. The head is kept for the fallbacks' sub-requests.
        let fallbacks = get_or_head && (o.spa.is_some() || o.not_found.is_some());
        let parts = fallbacks.then(|| clone_head(&req));
        let mut res = self.files.call(req).await;
        let mut from_files = true;
        // 4. Fallbacks.
        if let Some(parts) = parts.filter(|_| res.status() == StatusCode::NOT_FOUND) {
            if let Some(spa) = o.spa.as_ref().filter(|_| is_navigation(&parts)) {
                let fallback = self.files.call(sub_request(&parts, spa, false)).await;
                if fallback.status().is_success() || fallback.status() == StatusCode::NOT_MODIFIED {
                    res = fallback;
                    res.headers_mut().insert(header::CACHE_CONTROL, NO_CACHE);
                    from_files = false;
                }
            }
            if let Some(page) = o
                .not_found
                .as_ref()
                .filter(|_| res.status() == StatusCode::NOT_FOUND)
            {
                let mut page_res = self.files.call(sub_request(&parts, page, true)).await;
                if page_res.status() == StatusCode::OK {
                    *page_res.status_mut() = StatusCode::NOT_FOUND;
                    let headers = page_res.headers_mut();
                    for name in [header::ETAG, header::LAST_MODIFIED, header::ACCEPT_RANGES] {
                        headers.remove(name);
                    }
                    res = page_res;
                }
            }
        }
        // 5. Headers.
        self.finish(res, get_or_head, origin.as_ref(), from_files)
    }

    /// Step 2: the answer to a CORS preflight from an allowed origin.
    fn preflight(&self, req: &Request) -> Option<Response> {
        let headers = req.headers();
        if req.method() != Method::OPTIONS
            || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let allow = self.allowed_origin(headers.get(header::ORIGIN)?)?;
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        let out = res.headers_mut();
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
        if let Some(requested) = headers
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .filter(|v| is_token_list(v.as_bytes()))
        {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            out.append(
                header::VARY,
                HeaderValue::from_static("Access-Control-Request-Headers"),
            );
        }
        out.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
        Some(res)
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if allowed.
    fn allowed_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        match &self.options.cors {
            Cors::Off => None,
            Cors::Any => Some(ANY),
            Cors::Origins(list) => {
                let origin_str = origin.to_str().ok()?;
                list.iter()
                    .any(|o| o.eq_ignore_ascii_case(origin_str))
                    .then(|| origin.clone())
            }
        }
    }

    /// Step 5: cache-control, CORS and `--header` headers.
    fn finish(
        &self,
        mut res: Response,
        get_or_head: bool,
        origin: Option<&HeaderValue>,
        from_files: bool,
    ) -> Response {
        let o = &self.options;
        let status = res.status().as_u16();
        let headers = res.headers_mut();
        if let Some(value) = &o.cache_control
            && from_files
            && matches!(status, 200 | 206 | 304)
            && !headers.contains_key(header::CACHE_CONTROL)
        {
            headers.insert(header::CACHE_CONTROL, value.clone());
        }
        if get_or_head
            && !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            && let Some(allow) = match o.cors {
                Cors::Any => Some(ANY),
                _ => origin.and_then(|origin| self.allowed_origin(origin)),
            }
        {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        }
        if matches!(o.cors, Cors::Origins(_)) {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        for (name, values) in &o.headers {
            headers.remove(name);
            for value in values {
                headers.append(name.clone(), value.clone());
            }
        }
        res
    }
}

/// A copy of the request's head, kept to build the fallbacks' sub-requests.
fn clone_head(req: &Request) -> Parts {
    let mut copy = berth::http::Request::new(());
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    copy.into_parts().0
}

/// The same GET/HEAD for `path`, without a body; `for_error_page` drops
/// the conditional and range headers (a 404 page is never 304 or 206),
/// the SPA fallback drops only the range headers.
fn sub_request(parts: &Parts, path: &Uri, for_error_page: bool) -> Request {
    let mut parts = parts.clone();
    parts.uri = path.clone();
    let headers = &mut parts.headers;
    headers.remove(header::RANGE);
    headers.remove(header::IF_RANGE);
    if for_error_page {
        for name in [
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_UNMODIFIED_SINCE,
        ] {
            headers.remove(name);
        }
    }
    Request::from_parts(parts, Body::empty())
}

/// A browser navigation: accepts `text/html`, and the last path segment
/// has no `.` (so it does not look like a file such as `app.js`).
fn is_navigation(parts: &Parts) -> bool {
    let last = parts.uri.path().rsplit('/').next().unwrap_or("");
    !last.contains('.') && accepts_html(&parts.headers)
}

/// Whether `Accept` lists `text/html` with a non-zero weight.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut params = range.split(';');
            let media = params.next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("text/html")
                && !params.any(|p| {
                    p.split_once('=').is_some_and(|(k, v)| {
                        k.trim().eq_ignore_ascii_case("q")
                            && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
                    })
                })
        })
}

/// A comma-separated list of tokens (RFC 9110 §5.6.1, §5.6.2).
fn is_token_list(value: &[u8]) -> bool {
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let mut any = false;
    for item in value.split(|&b| b == b',') {
        let item = item.trim_ascii();
        if item.is_empty() {
            continue;
        }
        if !item.iter().all(|&b| is_tchar(b)) {
            return false;
        }
        any = true;
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(path: &str, accept: &str) -> Parts {
        let req = berth::http::Request::builder()
            .uri(path)
            .header(header::ACCEPT, accept)
            .body(())
            .unwrap();
        req.into_parts().0
    }

    #[test]
    fn navigations() {
        let html = "text/html,application/xhtml+xml,*/*;q=0.8";
        assert!(is_navigation(&head("/", html)));
        assert!(is_navigation(&head("/users/42?tab=1", html)));
        assert!(is_navigation(&head("/a/b/", "TEXT/HTML;q=0.5")));
        assert!(!is_navigation(&head("/app.js", html)));
        assert!(!is_navigation(&head("/img/x.png", html)));
        assert!(!is_navigation(&head("/users/42", "*/*")));
        assert!(!is_navigation(&head("/users/42", "application/json")));
        assert!(!is_navigation(&head("/users/42", "text/html;q=0")));
    }

    #[test]
    fn token_lists() {
        assert!(is_token_list(b"content-type, x-requested-with"));
        assert!(is_token_list(b"X-A"));
        assert!(!is_token_list(b""));
        assert!(!is_token_list(b" , "));
        assert!(!is_token_list(b"x-a, bad header"));
        assert!(!is_token_list(b"x:y"));
    }
}
