//! The operations layer in front of the site: the health check (503 while
//! draining), the metrics endpoint, HSTS, and the plain-HTTP listener that
//! redirects to HTTPS. These answer before authentication, so a load
//! balancer's probe and a Prometheus scrape need no password.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use berth::handler::BoxFuture;
use berth::http::header::{self, HeaderValue};
use berth::http::{Method, StatusCode, uri::Authority};
use berth::{Handler, Redirect, Request, Response, ResponseExt};

const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const CLOSE: HeaderValue = HeaderValue::from_static("close");

/// Set once shutdown begins: the health check fails and connections are
/// not kept alive, so a balancer moves traffic elsewhere before berth stops
/// accepting.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the layer answers itself, and what it adds to every answer.
pub struct Ops {
    pub inner: Box<dyn Handler>,
    /// `--health` path.
    pub health: Option<String>,
    /// `--metrics` path and the registry it shows.
    pub metrics: Option<(String, Box<dyn Handler>)>,
    /// `Strict-Transport-Security` value (`--hsts`).
    pub hsts: Option<HeaderValue>,
    pub draining: Draining,
}

impl Handler for Ops {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let path = req.uri().path();
        let get_or_head = req.method() == Method::GET || req.method() == Method::HEAD;
        if get_or_head && self.health.as_deref() == Some(path) {
            let response = self.health_response();
            return self.finish(Box::pin(async move { response }));
        }
        if let Some((metrics_path, metrics)) = &self.metrics
            && metrics_path == path
        {
            return self.finish(metrics.call(req));
        }
        self.finish(self.inner.call(req))
    }
}

impl Ops {
    /// RFC 9110 §15.6.4: 503 tells the balancer this instance is going
    /// away; `ok` otherwise. Never cached.
    fn health_response(&self) -> Response {
        let mut response = if self.draining.is_on() {
            let mut r = berth::response::text("draining");
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        } else {
            berth::response::text("ok")
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, NO_STORE);
        response
    }

    /// `Strict-Transport-Security` with `--hsts`, and `Connection: close`
    /// once draining: decided when the request arrives (a request already
    /// in flight when draining starts keeps its connection; the next one
    /// on it is told to close), so the usual case adds no future.
    fn finish(&self, response: BoxFuture<Response>) -> BoxFuture<Response> {
        if self.hsts.is_none() && !self.draining.is_on() {
            return response;
        }
        let hsts = self.hsts.clone();
        let draining = self.draining.clone();
        Box::pin(async move {
            let mut response = response.await;
            if let Some(hsts) = hsts {
                response
                    .headers_mut()
                    .insert(header::STRICT_TRANSPORT_SECURITY, hsts);
            }
            if draining.is_on() {
                response.headers_mut().insert(header::CONNECTION, CLOSE);
            }
            response
        })
    }
}

/// `--redirect-http`: every request gets a 308 to the same path and query
/// on `https://` at `https_port`. The host comes from the request's own
/// Host (validated by the parser: a bare host name or IP, no userinfo,
/// no path), so the redirect can only point at the host the client asked
/// for, never elsewhere.
#[derive(Debug, Clone, Copy)]
pub struct RedirectToHttps {
    pub https_port: u16,
}

impl Handler for RedirectToHttps {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let response = self.redirect(&req);
        Box::pin(async move { response })
    }
}

impl RedirectToHttps {
    fn redirect(&self, req: &Request) -> Response {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<Authority>().ok())
            .filter(|a| !a.as_str().contains('@'))
            .map(|a| a.host().to_owned());
        let Some(host) = host.filter(|h| !h.is_empty()) else {
            return berth::response::status(StatusCode::BAD_REQUEST);
        };
        // `OPTIONS *` and other non-path targets go to the root.
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .filter(|pq| pq.starts_with('/'))
            .unwrap_or("/");
        let location = if self.https_port == 443 {
            format!("https://{host}{path_and_query}")
        } else {
            format!("https://{host}:{}{path_and_query}", self.https_port)
        };
        // Host and path were validated by the parser, so the location is
        // always a valid header value.
        Response::redirect(Redirect::Permanent, &location)
    }
}
