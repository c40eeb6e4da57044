//! The binary's app layer: [`Site`] wraps a [`ServeDir`] with the options
//! the flags add (CORS, SPA and 404 fallbacks, extra headers) and the
//! cache policy. The health check and metrics answer before this, in
//! [`crate::ops`]; the config file's rules and basic auth come between
//! (see `build_app` in `main.rs`).
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
//!    HEAD, OPTIONS` (plus `PUT, POST` with `--upload` when the origin is
//!    one `--cors-origin` lists: those may upload; `--cors`'s any origin
//!    may not), `-Allow-Headers` (the requested headers, echoed when
//!    they are all valid tokens) and `-Max-Age: 86400`. A preflight from
//!    another origin goes on to step 3 like any request, and gets no CORS
//!    headers.
//! 3. **Files**: the request goes to `ServeDir` (which also takes the
//!    uploads, `PUT` and `POST`, with `--upload`, and streams folders as
//!    archives with `--archives`).
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
//! 5. **Headers**: the cache policy below; the CORS headers on GET/HEAD
//!    (`Access-Control-Allow-Origin`; `Vary: Origin` on every answer when
//!    only some origins are allowed); then each `--header`, replacing any
//!    header of the same name. (The config file's header rules come after
//!    all of these, in [`crate::rules`].)
//!
//! # Cache policy
//!
//! Every GET/HEAD answer from step 3 or 4 that has no `Cache-Control` yet
//! gets one, so no cache ever invents a freshness lifetime of its own
//! (RFC 9111 §4.2.2 lets a shared cache keep a response without one for a
//! fraction of its age, and serve it stale after a deploy):
//!
//! - a *file response*, `200`, `206` or `304` with an `ETag` (every file
//!   `ServeDir` serves has one): `--cache-control`, by default
//!   [`FILE_CACHE`] (`max-age=0, must-revalidate`: what hosting platforms
//!   send, less their `public`, which only matters for requests with
//!   credentials and draws REDbot's "public is probably not necessary"):
//!   a cache may store it but must ask each time, which the validators
//!   make a `304`. With `--auth`, `private, max-age=0, must-revalidate`
//!   (`file_cache`), so no shared cache keeps a protected file;
//! - anything else, a listing or an archive (no validators), a `404`
//!   (with `--404` or not) or another error: `no-cache`. Never the file policy: a `404`
//!   under an `immutable` prefix must not outlive the deploy that fixes it;
//! - the `--spa` shell keeps the `no-cache` step 4 gives it.
//!
//! Header rules of the config file replace these (a `/assets/**` rule with
//! `public, max-age=31536000, immutable` is how fingerprinted assets opt
//! into long lifetimes), but never on errors. The library's `ServeDir`
//! sends no `Cache-Control` at all: the policy is the binary's.

use std::sync::Arc;

use berth::handler::BoxFuture;
use berth::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use berth::http::request::Parts;
use berth::http::{Method, StatusCode, Uri};
use berth::serve_dir::Uploads;
use berth::syntax::{Accept, Level, MediaType, elements, is_token};
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
    /// `--archives`: `?download=tar.gz|zip` on a directory.
    pub archives: bool,
    /// `--readme`: a folder's README.md below its listing.
    pub readme: bool,
    /// Serve precompressed sidecars (`FILE.br`...).
    pub precompressed: bool,
    /// The `--spa` file as a URI path (`/index.html`).
    pub spa: Option<Uri>,
    /// The `--404` file as a URI path.
    pub not_found: Option<Uri>,
    /// `Cache-Control` of file responses (`--cache-control`, else
    /// [`file_cache`]); `None`: `no-cache` like everything else.
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
            .archives(options.archives)
            .listing_readme(options.readme)
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
        let o = &inner.options;
        let get_or_head = req.method() == Method::GET || req.method() == Method::HEAD;
        let is_preflight = req.method() == Method::OPTIONS;
        if is_preflight || (get_or_head && (o.spa.is_some() || o.not_found.is_some())) {
            return Box::pin(async move { inner.serve(req).await });
        }
        // Steps 3 and 5 alone (no preflight, no fallback to try): a future
        // that holds the files' and little else.
        let origin = match o.cors {
            Cors::Off => None,
            _ => req.headers().get(header::ORIGIN).cloned(),
        };
        let files = inner.files.call(req);
        Box::pin(async move {
            let res = files.await;
            inner.finish(res, get_or_head, origin.as_ref(), true)
        })
    }
}

const ALLOW_METHODS: HeaderValue = HeaderValue::from_static("GET, HEAD, OPTIONS");
const ALLOW_METHODS_UPLOADS: HeaderValue =
    HeaderValue::from_static("GET, HEAD, OPTIONS, PUT, POST");
const MAX_AGE: HeaderValue = HeaderValue::from_static("86400");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// The default `Cache-Control` of file responses; see the
/// [cache policy](self#cache-policy).
pub const FILE_CACHE: HeaderValue = HeaderValue::from_static("max-age=0, must-revalidate");

/// The default `Cache-Control` of file responses: [`FILE_CACHE`], or its
/// `private` twin when files may need credentials (`--auth`).
pub fn file_cache(auth: bool) -> HeaderValue {
    if auth {
        HeaderValue::from_static("private, max-age=0, must-revalidate")
    } else {
        FILE_CACHE
    }
}
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
        // Origins listed by `--cors-origin` may upload (they are the
        // uploads' trusted origins); `--cors`'s every origin may not.
        let uploads =
            self.options.uploads.is_some() && matches!(self.options.cors, Cors::Origins(_));
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            if uploads {
                ALLOW_METHODS_UPLOADS
            } else {
                ALLOW_METHODS
            },
        );
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
        if from_files && get_or_head && !headers.contains_key(header::CACHE_CONTROL) {
            let file = matches!(status, 200 | 206 | 304) && headers.contains_key(header::ETAG);
            let value = match &o.cache_control {
                Some(value) if file => value.clone(),
                _ => NO_CACHE,
            };
            headers.insert(header::CACHE_CONTROL, value);
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

/// Whether `Accept` asks for `text/html` by name: the range that decides
/// its quality (the most specific match, by the one rule of
/// [`Accept`]) names `text/html` itself and gives it a non-zero weight. A
/// wildcard does not make a navigation: `*/*` is what API clients send.
fn accepts_html(headers: &HeaderMap) -> bool {
    let Some(html) = MediaType::parse(b"text/html") else {
        return false;
    };
    Accept::from_headers(headers)
        .best_match(&html)
        .is_some_and(|(specificity, q)| specificity.level == Level::Subtype && q > 0)
}

/// A comma-separated list of tokens (RFC 9110 §5.6.1, §5.6.2), at least one.
fn is_token_list(value: &[u8]) -> bool {
    let mut any = false;
    for item in elements(value) {
        if !is_token(item) {
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
        // The one Accept rule: the most specific range decides, and an
        // invalid q-value makes its range ignored.
        assert!(is_navigation(&head("/a", "text/*;q=0.5, text/html")));
        assert!(is_navigation(&head("/a", "text/html;q=0.001, */*;q=0")));
        assert!(!is_navigation(&head("/a", "text/*")));
        assert!(!is_navigation(&head("/a", "*/*, text/html;q=0")));
        assert!(!is_navigation(&head("/a", "text/html;q=0.0001")));
        assert!(!is_navigation(&head("/a", "text/html;q=00")));
        assert!(!is_navigation(&head("/a", "text/html;q=1.001")));
        assert!(is_navigation(&head("/a", "text/html;q=1.000")));
    }

    #[test]
    fn token_lists() {
        assert!(is_token_list(b"content-type, x-requested-with"));
        assert!(is_token_list(b"X-A"));
        assert!(!is_token_list(b""));
        assert!(!is_token_list(b" , "));
        assert!(!is_token_list(b"x-a, bad header"));
        assert!(!is_token_list(b"x:y"));
        assert!(is_token_list(b" , x-a ,, x-b"));
        assert!(!is_token_list(b"x-a, \"x-b\""));
    }
}
