//! `Router`: picks a handler by method and path, captures path parameters,
//! and answers what no route covers (404, 405 with `Allow`, automatic
//! `OPTIONS`, trailing-slash redirects).
//!
//! # Routes
//!
//! A route is a path pattern of `/`-separated segments:
//!
//! - a literal segment (`users`) matches itself;
//! - `{name}` matches any one non-empty segment and captures it;
//! - `{*name}`, only as the last segment, matches the non-empty rest of
//!   the path, slashes included, and captures it.
//!
//! `/` is the route of the root; `/a/` (trailing slash) and `/a` are
//! different routes. A malformed pattern (`{` without `}`, a parameter that
//! is not a whole segment, a wildcard before the end, a name used twice) or a
//! second handler for the same method and route panics when it is
//! registered: that is a bug in the program, found the first time it runs.
//!
//! # Matching a request, in order
//!
//! 1. **Decode.** The path is split at `/`, then each segment is
//!    percent-decoded once, so `%2F` inside a segment is a slash within
//!    that segment's value, not a separator. A bad escape or invalid UTF-8
//!    is `400`. Literal segments of patterns are compared with the decoded
//!    segments (a pattern may itself use escapes: `/a%20b` is `/a b`).
//! 2. **Find the route.** Literal beats `{param}` beats `{*wildcard}` at
//!    each segment, whatever the registration order; when the more specific
//!    branch leads nowhere, the next one is tried (`/users/new` and
//!    `/users/{id}/posts` both work). The path alone picks the route.
//! 3. **Pick the method.** The route's handler for the method; `HEAD` falls
//!    back to the `GET` handler (which sees method `HEAD`; the server sends
//!    the head only). An `OPTIONS` request with no handler of its own gets
//!    `204` with `Allow` (RFC 9110 §9.3.7). Any other method is `405` with
//!    `Allow` listing the route's methods, `HEAD` and `OPTIONS` included
//!    (RFC 9110 §15.5.6). Parameters go into the request's extensions as
//!    [`PathParams`]; read them with [`RequestExt::param`].
//! 4. **Trailing slash.** When no route matches but the path with its
//!    trailing slash removed (or added) would, the answer is `308 Permanent
//!    Redirect` to that path, query kept (308 keeps the method and body).
//!    Never to a path starting with `//` or `/\`, which a browser would read
//!    as another host.
//! 5. **Fallback.** Anything else goes to the fallback handler, unchanged;
//!    by default a `404`.
//!
//! A request target that is not a path (`OPTIONS *`, RFC 9110 §9.3.7) gets
//! `204` for `OPTIONS` and `400` for anything else.
//!
//! [`RequestExt::param`]: crate::RequestExt::param

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use crate::handler::BoxFuture;
use crate::request::{NestedPath, PathParams, Rejection};
use crate::response::{ErrorReason, status};
use crate::syntax::percent_decode;
use crate::{Handler, IntoResponse, Request, Response};

mod route;

pub use route::{BodyLimited, IntoRoute, State, body_limit, marker};

/// Routes requests to handlers by method and path; see the [module
/// docs](self) for patterns and the matching steps.
///
/// ```
/// use berth::prelude::*;
///
/// let app = Router::new()
///     .get("/", |_req| async { Response::html("<h1>Welcome Home</h1>") })
///     .get("/users/{id}", |req: Request| async move {
///         Response::text(format!("user {}", req.param("id").unwrap_or("")))
///     })
///     .post("/echo", |req: Request| async move {
///         match req.bytes(1 << 20).await {
///             Ok(body) => Response::bytes(body),
///             Err(rejection) => rejection.into_response(),
///         }
///     })
///     .get("/files/{*path}", |req: Request| async move {
///         format!("file {}", req.param("path").unwrap_or(""))
///     })
///     .fallback(ServeDir::new("./public"));
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let req = berth::http::Request::get("/users/ada").body(Body::empty()).unwrap();
/// let res = app.call(req).await;
/// assert_eq!(res.status(), StatusCode::OK);
///
/// let req = berth::http::Request::delete("/users/ada").body(Body::empty()).unwrap();
/// let res = app.call(req).await;
/// assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
/// assert_eq!(res.headers()["allow"], "GET, HEAD, OPTIONS");
/// # });
/// ```
///
/// Serve it with [`Server::serve`](crate::Server::serve).
pub struct Router<S = ()> {
    /// The state bound into each route that takes it ([`State`]).
    state: S,
    root: Node,
    /// Prefixes (raw, literal, no trailing slash) and their handlers.
    nests: Vec<(Box<str>, Box<dyn Handler>)>,
    fallback: Option<Box<dyn Handler>>,
    errors: Option<Arc<ErrorRenderer>>,
}

/// Renders an error response in the application's format, from its status
/// and a one-line reason (see [`Router::render_errors`]).
type ErrorRenderer = dyn Fn(StatusCode, &str) -> Response + Send + Sync;

/// One position in the route trie.
#[derive(Default)]
struct Node {
    /// Children for literal segments, sorted by segment (binary search).
    statics: Vec<(Box<str>, Node)>,
    /// The child for a `{param}` segment.
    param: Option<Box<Node>>,
    /// The route ending in a `{*wildcard}` here.
    wildcard: Option<Box<Endpoint>>,
    /// The route ending exactly here.
    endpoint: Option<Box<Endpoint>>,
}

/// A route: one path shape and its handlers by method.
struct Endpoint {
    /// The pattern as first registered, for messages.
    pattern: Box<str>,
    /// Parameter names, in the order their segments appear.
    names: Vec<Arc<str>>,
    methods: Vec<(Method, Box<dyn Handler>)>,
    /// The `Allow` value, kept up to date as methods are added.
    allow: HeaderValue,
}

enum Segment<'a> {
    Literal(Cow<'a, str>),
    Param(&'a str),
    Wildcard(&'a str),
}

/// Where step 2 ended: the route and, for a wildcard route, the index of
/// the first segment of the rest.
struct Found<'a> {
    endpoint: &'a Endpoint,
    rest_from: Option<usize>,
}

enum Routed<'a> {
    Handler(&'a dyn Handler, Option<PathParams>),
    Respond(Response),
    Fallback,
}

impl Router {
    /// A router with no routes whose fallback answers `404`.
    pub fn new() -> Router {
        Router::with_state(())
    }
}

impl<S: Clone + Send + Sync + 'static> Router<S> {
    /// A router with no routes whose routes may take `state` (as
    /// [`State<S>`](State), their first argument), so handlers share a
    /// database pool, a cache or a counter without cloning it into each
    /// route. Each request gets a clone of `state`: share what must be
    /// shared behind an `Arc`. A handler asking for a state of another type
    /// is a compile error (see [`IntoRoute`]).
    ///
    /// ```
    /// use berth::prelude::*;
    /// use std::sync::{Arc, RwLock};
    ///
    /// type Names = Arc<RwLock<Vec<String>>>;
    ///
    /// async fn list(State(names): State<Names>, _req: Request) -> String {
    ///     names.read().unwrap().join(", ")
    /// }
    ///
    /// async fn add(State(names): State<Names>, req: Request) -> Result<StatusCode, Rejection> {
    ///     let name = req.text(100).await?;
    ///     names.write().unwrap().push(name);
    ///     Ok(StatusCode::CREATED)
    /// }
    ///
    /// let app = Router::with_state(Names::default())
    ///     .get("/names", list)
    ///     .post("/names", add)
    ///     // Handlers without state mix in freely.
    ///     .get("/health", |_req| async { "ok" });
    /// # let _ = app;
    /// ```
    pub fn with_state(state: S) -> Router<S> {
        Router {
            state,
            root: Node::default(),
            nests: Vec::new(),
            fallback: None,
            errors: None,
        }
    }

    /// Adds `handler` for `method` requests to `path`.
    ///
    /// # Panics
    ///
    /// When `path` is malformed (see the [module docs](self)) or `method`
    /// already has a handler for this route.
    pub fn route<M>(mut self, method: Method, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        let segments = parse_pattern(path);
        let mut node = &mut self.root;
        let mut names = Vec::new();
        let mut is_wildcard = false;
        for segment in segments {
            match segment {
                Segment::Literal(text) => {
                    let i = match node
                        .statics
                        .binary_search_by(|(s, _)| (**s).cmp(text.as_ref()))
                    {
                        Ok(i) => i,
                        Err(i) => {
                            node.statics
                                .insert(i, (text.into_owned().into_boxed_str(), Node::default()));
                            i
                        }
                    };
                    node = &mut node.statics[i].1;
                }
                Segment::Param(name) => {
                    names.push(Arc::from(name));
                    node = node.param.get_or_insert_with(Box::default);
                }
                Segment::Wildcard(name) => {
                    names.push(Arc::from(name));
                    is_wildcard = true;
                }
            }
        }
        let slot = if is_wildcard {
            &mut node.wildcard
        } else {
            &mut node.endpoint
        };
        let endpoint = slot.get_or_insert_with(|| {
            Box::new(Endpoint {
                pattern: path.into(),
                names: names.clone(),
                methods: Vec::new(),
                allow: HeaderValue::from_static("OPTIONS"),
            })
        });
        if endpoint.names != names {
            panic!(
                "route `{path}` has the same shape as `{}` but other parameter names; \
                 use the same names for both",
                endpoint.pattern
            );
        }
        if endpoint.methods.iter().any(|(m, _)| *m == method) {
            panic!(
                "route conflict: {method} `{path}` is already registered (as `{}`)",
                endpoint.pattern
            );
        }
        endpoint
            .methods
            .push((method, handler.into_route(&self.state)));
        endpoint.allow = allow_value(&endpoint.methods);
        self
    }

    /// Adds `handler` for `GET` requests to `path` (and so `HEAD`, unless
    /// the route has its own `HEAD` handler).
    pub fn get<M>(self, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        self.route(Method::GET, path, handler)
    }

    /// Adds `handler` for `POST` requests to `path`.
    pub fn post<M>(self, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        self.route(Method::POST, path, handler)
    }

    /// Adds `handler` for `PUT` requests to `path`.
    pub fn put<M>(self, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        self.route(Method::PUT, path, handler)
    }

    /// Adds `handler` for `DELETE` requests to `path`.
    pub fn delete<M>(self, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        self.route(Method::DELETE, path, handler)
    }

    /// Adds `handler` for `PATCH` requests to `path`.
    pub fn patch<M>(self, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        self.route(Method::PATCH, path, handler)
    }

    /// Adds `handler` for `HEAD` requests to `path`, instead of the `GET`
    /// handler.
    pub fn head<M>(self, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        self.route(Method::HEAD, path, handler)
    }

    /// Adds `handler` for `OPTIONS` requests to `path`, instead of the
    /// automatic `204` with `Allow` (CORS preflights need this).
    pub fn options<M>(self, path: &str, handler: impl IntoRoute<S, M>) -> Self {
        self.route(Method::OPTIONS, path, handler)
    }

    /// The handler for requests no route matches (step 5 of the [module
    /// docs](self)), e.g. a [`ServeDir`](crate::ServeDir). It replaces the
    /// default `404`. It is not used for `405`: a route that exists answers
    /// for its path.
    pub fn fallback<M>(mut self, handler: impl IntoRoute<S, M>) -> Self {
        self.fallback = Some(handler.into_route(&self.state));
        self
    }

    /// Hands every request whose path is `prefix` or lies under it
    /// (`prefix/...`) to `handler`, with `prefix` taken off the path: the
    /// handler sees `/a.css` for `/static/a.css`, and `/` for `/static`.
    /// The path is cut as it came (percent-encoded), never decoded and
    /// encoded again, and the query is kept. The prefix goes into the
    /// request as [`NestedPath`], so a nested
    /// [`ServeDir`](crate::ServeDir) redirects a directory to
    /// `/static/dir/` and titles its listings under the prefix. A nest
    /// owns everything under its prefix, whatever the routes: it is
    /// checked first.
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// let app = Router::new()
    ///     .get("/", |_req| async { "home" })
    ///     .nest("/static", ServeDir::new("./public"))
    ///     .nest("/api", Router::new().get("/items", |_req| async { "[]" }));
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let req = berth::http::Request::get("/api/items").body(Body::empty()).unwrap();
    /// assert_eq!(app.call(req).await.status(), StatusCode::OK);
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// When `prefix` does not start with `/`, ends with `/`, is `/` alone
    /// (that is [`fallback`](Self::fallback)), has a `{parameter}`, or is
    /// nested twice.
    pub fn nest<M>(mut self, prefix: &str, handler: impl IntoRoute<S, M>) -> Self {
        let valid = prefix.len() > 1
            && prefix.starts_with('/')
            && !prefix.ends_with('/')
            && !prefix.contains(['{', '}', '?', '#']);
        if !valid {
            panic!(
                "nest prefix `{prefix}` must be a literal path like `/static` \
                 (a leading `/`, no trailing `/`, no parameters)"
            );
        }
        if self.nests.iter().any(|(p, _)| **p == *prefix) {
            panic!("nest prefix `{prefix}` is already nested");
        }
        let handler = handler.into_route(&self.state);
        self.nests.push((prefix.into(), handler));
        self
    }

    /// The nest `req` goes to, if any, with `req` rewritten for it.
    fn nested(&self, req: &mut Request) -> Option<&dyn Handler> {
        if self.nests.is_empty() {
            return None;
        }
        let path = req.uri().path();
        let (prefix, handler) = self.nests.iter().find(|(prefix, _)| {
            path.strip_prefix(&**prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })?;
        let rest = match &path[prefix.len()..] {
            "" => "/",
            rest => rest,
        };
        let target = match req.uri().query() {
            Some(query) => format!("{rest}?{query}"),
            None => rest.to_owned(),
        };
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = Some(target.parse().ok()?);
        *req.uri_mut() = http::Uri::from_parts(parts).ok()?;
        let outer = req
            .extensions()
            .get::<NestedPath>()
            .map_or("", |p| p.as_str());
        let nested = NestedPath(format!("{outer}{prefix}").into());
        req.extensions_mut().insert(nested);
        Some(&**handler)
    }

    /// Renders the router's own error answers (404 without a fallback, 405,
    /// 400 for a malformed path, the 308 trailing-slash redirect, 413 for a
    /// route's [`body_limit`]) and the bare errors its routes, nests and
    /// fallback answer with — the [`Rejection`]s of the body, query and
    /// parameter readers (400, 408, 413, 415), a plain [`StatusCode`]
    /// (`StatusCode::NOT_FOUND` returned by a handler, or
    /// [`ServeDir`](crate::ServeDir)'s 404) — with `render`, from the
    /// status and a one-line reason: a JSON API answers them all in JSON.
    /// The status and the headers not about the body are kept (`Allow` on
    /// 405, `Location` on 308). Responses with a body of their own pass
    /// unchanged.
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// let app = Router::new()
    ///     .get("/items", |_req| async { "[]" })
    ///     .render_errors(|status, reason| {
    ///         let body = format!("{{\"error\":{reason:?},\"status\":{}}}", status.as_u16());
    ///         (status, Response::bytes(body).with_header("content-type", "application/json"))
    ///             .into_response()
    ///     });
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let req = berth::http::Request::delete("/items").body(Body::empty()).unwrap();
    /// let res = app.call(req).await;
    /// assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    /// assert_eq!(res.headers()["content-type"], "application/json");
    /// assert_eq!(res.headers()["allow"], "GET, HEAD, OPTIONS");
    /// # });
    /// ```
    pub fn render_errors(
        mut self,
        render: impl Fn(StatusCode, &str) -> Response + Send + Sync + 'static,
    ) -> Self {
        self.errors = Some(Arc::new(render));
        self
    }

    /// Steps 1–4 for `req`.
    fn dispatch(&self, req: &Request) -> Routed<'_> {
        let path = req.uri().path();
        if !path.starts_with('/') {
            // `OPTIONS *` (RFC 9110 §9.3.7) or a target with no path.
            return if req.method() == Method::OPTIONS {
                Routed::Respond(().into_response())
            } else {
                Routed::Respond(status(StatusCode::BAD_REQUEST))
            };
        }
        // 1. Decode.
        let mut segments = Vec::with_capacity(path.bytes().filter(|&b| b == b'/').count() + 1);
        for raw in path[1..].split('/') {
            match percent_decode(raw.as_bytes(), false) {
                Some(segment) => segments.push(segment),
                None => return Routed::Respond(Rejection::malformed_path().into_response()),
            }
        }
        // 2. Find the route.
        let mut captured = Vec::new();
        if let Some(found) = self.root.find(&segments, 0, &mut captured) {
            let endpoint = found.endpoint;
            // 3. Pick the method.
            let Some(handler) = endpoint.handler(req.method()) else {
                let mut res = if req.method() == Method::OPTIONS {
                    ().into_response()
                } else {
                    status(StatusCode::METHOD_NOT_ALLOWED)
                };
                res.headers_mut()
                    .insert(header::ALLOW, endpoint.allow.clone());
                return Routed::Respond(res);
            };
            if endpoint.names.is_empty() {
                return Routed::Handler(handler, None);
            }
            let mut params = PathParams::with_capacity(endpoint.names.len());
            // One name per captured segment, then the wildcard's, if any.
            let mut names = endpoint.names.iter().cloned();
            for &i in &captured {
                if let Some(name) = names.next() {
                    params.push(name, segments[i].clone().into_owned());
                }
            }
            if let (Some(name), Some(from)) = (names.next(), found.rest_from) {
                params.push(name, segments[from..].join("/"));
            }
            return Routed::Handler(handler, Some(params));
        }
        // 4. Trailing slash.
        if let Some(location) = self.slash_alternative(path, &mut segments) {
            let location = match req.uri().query() {
                Some(q) => format!("{location}?{q}"),
                None => location,
            };
            return Routed::Respond(crate::ResponseExt::redirect(
                crate::Redirect::Permanent,
                &location,
            ));
        }
        Routed::Fallback
    }

    /// The path with its trailing slash removed or added, when a route
    /// matches that and it is safe to redirect to.
    fn slash_alternative(&self, path: &str, segments: &mut Vec<Cow<'_, str>>) -> Option<String> {
        let mut captured = Vec::new();
        let location = if segments.len() > 1 && segments.last().is_some_and(|s| s.is_empty()) {
            self.root
                .find(&segments[..segments.len() - 1], 0, &mut captured)?;
            path[..path.len() - 1].to_owned()
        } else {
            segments.push(Cow::Borrowed(""));
            self.root.find(segments, 0, &mut captured)?;
            format!("{path}/")
        };
        // `//host` and `/\host` are another host to a browser.
        let bytes = location.as_bytes();
        let other_host = bytes.len() > 1 && bytes[0] == b'/' && matches!(bytes[1], b'/' | b'\\');
        (!other_host).then_some(location)
    }
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Handler for Router<S> {
    fn call(&self, mut req: Request) -> BoxFuture<Response> {
        if let Some(nested) = self.nested(&mut req) {
            return self.render_marked(nested.call(req));
        }
        match self.dispatch(&req) {
            Routed::Handler(handler, params) => {
                if let Some(params) = params {
                    req.extensions_mut().insert(params);
                }
                self.render_marked(handler.call(req))
            }
            Routed::Respond(res) => Box::pin(std::future::ready(self.own_error(res))),
            Routed::Fallback => match &self.fallback {
                Some(fallback) => self.render_marked(fallback.call(req)),
                None => Box::pin(std::future::ready(
                    self.own_error(status(StatusCode::NOT_FOUND)),
                )),
            },
        }
    }
}

impl<S> Router<S> {
    /// A handler's response, through the error renderer (if any) when it
    /// is a bare error ([`ErrorReason`]: a rejection, a plain status).
    fn render_marked(&self, future: BoxFuture<Response>) -> BoxFuture<Response> {
        let Some(render) = &self.errors else {
            return future;
        };
        let render = render.clone();
        Box::pin(async move {
            let res = future.await;
            match res.extensions().get::<ErrorReason>() {
                Some(reason) => {
                    let reason = reason.text(res.status());
                    rendered(&*render, res, &reason)
                }
                None => res,
            }
        })
    }

    /// One of the router's own answers, through the error renderer (if
    /// any) when it is not a success.
    fn own_error(&self, res: Response) -> Response {
        let Some(render) = &self.errors else {
            return res;
        };
        let code = res.status();
        if code.is_success() {
            return res;
        }
        let reason = match res.extensions().get::<ErrorReason>() {
            Some(reason) => reason.text(code),
            None => ErrorReason(None).text(code),
        };
        rendered(&**render, res, &reason)
    }
}

/// `res` with the body `render` makes for it: the status and the headers
/// that are not about the body (`Allow` on 405, `Location` on a redirect,
/// `Content-Range` on 416, `WWW-Authenticate` on 401) kept, the body's own
/// (`Content-Type`, `Content-Length`, `Content-Encoding`) replaced by the
/// rendered ones.
fn rendered(render: &ErrorRenderer, res: Response, reason: &str) -> Response {
    let (mut parts, _) = res.into_parts();
    let (out, body) = render(parts.status, reason).into_parts();
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
    ] {
        parts.headers.remove(name);
    }
    // Each name `render` sets replaces the original's values.
    parts.headers.extend(out.headers);
    // Rendered once: an outer router passes it on unchanged.
    parts.extensions.remove::<ErrorReason>();
    Response::from_parts(parts, body)
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut routes = Vec::new();
        self.root.collect_routes(&mut routes);
        f.debug_struct("Router")
            .field("routes", &routes)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Node {
    /// Step 2 from `segments[i]` on: literal, then parameter, then
    /// wildcard, backing out of a branch that leads nowhere. `captured`
    /// gets the index of each segment a parameter took. Each node is
    /// visited at most once, so this is linear in the size of the trie.
    fn find<'a>(
        &'a self,
        segments: &[Cow<'_, str>],
        i: usize,
        captured: &mut Vec<usize>,
    ) -> Option<Found<'a>> {
        let Some(segment) = segments.get(i) else {
            return self.endpoint.as_deref().map(|endpoint| Found {
                endpoint,
                rest_from: None,
            });
        };
        if let Ok(k) = self
            .statics
            .binary_search_by(|(s, _)| (**s).cmp(segment.as_ref()))
            && let Some(found) = self.statics[k].1.find(segments, i + 1, captured)
        {
            return Some(found);
        }
        if !segment.is_empty()
            && let Some(param) = &self.param
        {
            captured.push(i);
            if let Some(found) = param.find(segments, i + 1, captured) {
                return Some(found);
            }
            captured.pop();
        }
        // The rest must not be empty: `/files/` does not match
        // `/files/{*path}`.
        let rest_is_empty = i + 1 == segments.len() && segment.is_empty();
        match &self.wildcard {
            Some(endpoint) if !rest_is_empty => Some(Found {
                endpoint,
                rest_from: Some(i),
            }),
            _ => None,
        }
    }

    fn collect_routes(&self, out: &mut Vec<String>) {
        for endpoint in [&self.endpoint, &self.wildcard].into_iter().flatten() {
            for (method, _) in &endpoint.methods {
                out.push(format!("{method} {}", endpoint.pattern));
            }
        }
        for (_, child) in &self.statics {
            child.collect_routes(out);
        }
        if let Some(param) = &self.param {
            param.collect_routes(out);
        }
    }
}

impl Endpoint {
    fn handler(&self, method: &Method) -> Option<&dyn Handler> {
        let find = |m: &Method| {
            self.methods
                .iter()
                .find(|(have, _)| have == m)
                .map(|(_, h)| &**h as &dyn Handler)
        };
        find(method).or_else(|| {
            if method == Method::HEAD {
                find(&Method::GET)
            } else {
                None
            }
        })
    }
}

/// The `Allow` value for a route's methods, plus `HEAD` when there is a
/// `GET`, plus `OPTIONS`, in a fixed order (extension methods last, as
/// registered).
fn allow_value(methods: &[(Method, Box<dyn Handler>)]) -> HeaderValue {
    const ORDER: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    let has = |m: &Method| {
        methods.iter().any(|(have, _)| have == m)
            || (*m == Method::HEAD && methods.iter().any(|(have, _)| have == Method::GET))
            || *m == Method::OPTIONS
    };
    let mut names: Vec<&str> = ORDER
        .iter()
        .filter(|m| has(m))
        .map(Method::as_str)
        .collect();
    names.extend(
        methods
            .iter()
            .map(|(m, _)| m)
            .filter(|m| !ORDER.contains(m))
            .map(Method::as_str),
    );
    // Method names are tokens, so the joined value is always valid.
    HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static("OPTIONS"))
}

/// Splits a route pattern into segments, panicking with a clear message
/// when it is malformed (a programmer error, caught at startup).
fn parse_pattern(path: &str) -> Vec<Segment<'_>> {
    let Some(rest) = path.strip_prefix('/') else {
        panic!("route `{path}` must start with `/`");
    };
    let raw: Vec<&str> = rest.split('/').collect();
    let mut segments = Vec::with_capacity(raw.len());
    for (i, segment) in raw.iter().enumerate() {
        let is_last = i + 1 == raw.len();
        if !segment.contains(['{', '}']) {
            let Some(text) = percent_decode(segment.as_bytes(), false) else {
                panic!("route `{path}`: segment `{segment}` has a bad percent-escape");
            };
            segments.push(Segment::Literal(text));
            continue;
        }
        let inner = segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or_else(|| {
                panic!(
                    "route `{path}`: segment `{segment}` is malformed; a parameter is a whole \
                     segment `{{name}}` and a wildcard a whole last segment `{{*name}}`"
                )
            });
        let (name, is_wildcard) = match inner.strip_prefix('*') {
            Some(name) => (name, true),
            None => (inner, false),
        };
        if name.is_empty() || name.contains(['{', '}', '*']) {
            panic!("route `{path}`: `{segment}` needs a plain name, as in `{{id}}` or `{{*rest}}`");
        }
        if is_wildcard && !is_last {
            panic!("route `{path}`: the wildcard `{segment}` must be the last segment");
        }
        let taken = segments.iter().any(|s| match s {
            Segment::Param(n) | Segment::Wildcard(n) => *n == name,
            Segment::Literal(_) => false,
        });
        if taken {
            panic!("route `{path}`: parameter name `{name}` is used twice");
        }
        segments.push(if is_wildcard {
            Segment::Wildcard(name)
        } else {
            Segment::Param(name)
        });
    }
    segments
}

#[cfg(test)]
mod tests;
