//! Per-path rules from the config file's `[[rules]]`: response headers,
//! redirects and rewrites, chosen by a path glob or a regex. This module
//! owns their meaning; `parse.rs` reads and checks them, `pattern.rs`
//! matches paths and fills in targets.
//!
//! # What a rule sees
//!
//! The request's path as [`resolve_path`] reads it for `ServeDir`:
//! percent-decoded once, dot segments removed, `//` collapsed, starting
//! with `/` (and ending with one when the request's did). So `/%6Fld/x`
//! and `/a/../old/x` match `/old/*` as `/old/x` does, and no rule can be
//! bypassed by spelling a path differently. A path `ServeDir` would refuse
//! (bad encoding, `..` above the root) matches no rule and gets its `400`.
//! The query string is never matched.
//!
//! # Order
//!
//! [`Routed`] sits outside basic auth (and inside the health check and
//! metrics, which no rule touches):
//!
//! 1. **Redirect and rewrite rules**, in file order: the first one whose
//!    pattern matches decides, and later redirect or rewrite rules are not
//!    looked at. A redirect answers at once (`301` unless `status` says
//!    302, 307 or 308), without credentials. A rewrite replaces the path
//!    the rest of berth sees (auth, then `ServeDir`, which resolves it
//!    beneath ROOT like any request path: a rewrite can never serve
//!    anything a request could not), keeping the query; the client is not
//!    told. Rewrites are not repeated: the new path is not matched again.
//! 2. **Header rules**, every one whose pattern matches the path the client
//!    asked for (not the rewritten one), in file order, on the response
//!    once the inner layers made it: each of a rule's headers replaces any
//!    header of that name already there (`--header` and `--cache-control`
//!    included), so of two rules setting one header the later one wins.
//!    They apply to every response below 400 (files, `304`, redirects,
//!    listings), never to errors: a `404` under `/assets/**` must not be
//!    kept for a year.
//!
//! # Targets
//!
//! `$1`, `${1}`, `$name`, `${name}` in a target are what the pattern
//! captured (for a glob, each `*` or `**` in order; for a regex, its
//! groups), percent-encoded except for `/` and the unreserved characters,
//! so the target stays one valid URI whatever the path held. `$$` is a `$`.
//! A redirect to a path stays on the host the request named (leading
//! slashes are collapsed, so a capture can never turn `/$1` into
//! `//elsewhere`); only a target written as `https://host/...` leaves it,
//! and captures may not stand in its host. A redirect keeps the request's
//! query unless the target has one of its own.

mod parse;
mod pattern;

use std::sync::Arc;

use berth::handler::BoxFuture;
use berth::http::header::{self, HeaderName, HeaderValue};
use berth::http::uri::PathAndQuery;
use berth::http::{StatusCode, Uri};
use berth::serve_dir::resolve_path;
use berth::{Handler, Request, Response, ResponseExt};

pub use parse::parse;
use pattern::{Pattern, Template};

/// The rules of the config file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Pattern,
    action: Action,
}

#[derive(Debug, Clone)]
enum Action {
    /// Set on responses below 400, each name replacing what is there.
    Headers(Vec<(HeaderName, Vec<HeaderValue>)>),
    /// Answer with `status` and `Location: to`.
    Redirect { status: StatusCode, to: Template },
    /// Serve this path instead.
    Rewrite(Template),
}

/// What step 1 decided for a request.
#[derive(Debug, PartialEq)]
enum Route {
    Redirect(StatusCode, String),
    Rewrite(String),
    Pass,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Step 1 for `path` (the resolved request path) and the request's
    /// query.
    fn route(&self, path: &str, query: Option<&str>) -> Route {
        for rule in &self.rules {
            let (target, redirect) = match &rule.action {
                Action::Headers(_) => continue,
                Action::Redirect { status, to } => (to, Some(*status)),
                Action::Rewrite(to) => (to, None),
            };
            let expanded = if target.uses_captures() {
                match rule.pattern.captures(path) {
                    Some(caps) => target.expand(Some(&caps)),
                    None => continue,
                }
            } else if rule.pattern.is_match(path) {
                target.expand(None)
            } else {
                continue;
            };
            return match redirect {
                Some(status) => Route::Redirect(status, location(expanded, query)),
                None => Route::Rewrite(expanded),
            };
        }
        Route::Pass
    }

    /// Whether any header rule matches `path`.
    fn any_headers(&self, path: &str) -> bool {
        self.header_rules(path).next().is_some()
    }

    /// Step 2's rules for `path`, in file order.
    fn header_rules<'a>(
        &'a self,
        path: &'a str,
    ) -> impl Iterator<Item = &'a [(HeaderName, Vec<HeaderValue>)]> + 'a {
        self.rules
            .iter()
            .filter_map(move |rule| match &rule.action {
                Action::Headers(fields) if rule.pattern.is_match(path) => Some(fields.as_slice()),
                _ => None,
            })
    }

    /// Step 2: the header rules for `path` on `res`.
    fn set_headers(&self, path: &str, res: &mut Response) {
        if res.status().as_u16() >= 400 {
            return;
        }
        let headers = res.headers_mut();
        for fields in self.header_rules(path) {
            for (name, values) in fields {
                headers.remove(name);
                for value in values {
                    headers.append(name.clone(), value.clone());
                }
            }
        }
    }
}

/// A redirect's `Location`: the expanded target with any run of leading
/// slashes made one (a path target stays on this host), and the request's
/// query when the target has none (before its fragment, if any).
fn location(mut target: String, query: Option<&str>) -> String {
    if target.starts_with("//") {
        let slashes = target.len() - target.trim_start_matches('/').len();
        target.replace_range(..slashes - 1, "");
    }
    if let Some(query) = query.filter(|q| !q.is_empty())
        && !target.contains('?')
    {
        // Before a fragment the target may end with.
        let at = target.find('#').unwrap_or(target.len());
        target.insert_str(at, &format!("?{query}"));
    }
    target
}

/// The request path as rules see it (see the module docs), or `None` when
/// `ServeDir` would refuse it.
fn rule_path(uri: &Uri) -> Option<String> {
    let path = resolve_path(uri.path()).ok()?;
    let mut out = String::with_capacity(uri.path().len() + 1);
    for segment in path.segments() {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || path.has_trailing_slash() {
        out.push('/');
    }
    Some(out)
}

/// `uri` with its path replaced by `path` (already percent-encoded) and
/// its query kept.
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

/// The rules around the rest of the app; see the [module docs](self).
pub struct Routed {
    pub rules: Arc<Rules>,
    pub inner: Box<dyn Handler>,
}

impl Handler for Routed {
    fn call(&self, mut req: Request) -> BoxFuture<Response> {
        let Some(path) = rule_path(req.uri()) else {
            return self.inner.call(req);
        };
        match self.rules.route(&path, req.uri().query()) {
            Route::Pass => {}
            Route::Redirect(status, location) => {
                let mut res = match HeaderValue::try_from(location) {
                    Ok(location) => {
                        let mut res = Response::from_status(status);
                        res.headers_mut().insert(header::LOCATION, location);
                        res
                    }
                    Err(_) => Response::from_status(StatusCode::INTERNAL_SERVER_ERROR),
                };
                self.rules.set_headers(&path, &mut res);
                return Box::pin(std::future::ready(res));
            }
            Route::Rewrite(target) => match with_path(req.uri(), &target) {
                Some(uri) => *req.uri_mut() = uri,
                None => {
                    let res = Response::from_status(StatusCode::INTERNAL_SERVER_ERROR);
                    return Box::pin(std::future::ready(res));
                }
            },
        }
        if !self.rules.any_headers(&path) {
            return self.inner.call(req);
        }
        let rules = Arc::clone(&self.rules);
        let response = self.inner.call(req);
        Box::pin(async move {
            let mut res = response.await;
            rules.set_headers(&path, &mut res);
            res
        })
    }
}

#[cfg(test)]
mod tests;
