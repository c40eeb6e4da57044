//! tower, both ways: [`Tower`] runs any `tower::Service` (an axum app, a
//! tower-http stack) as a berth [`Handler`], and [`HandlerService`] runs
//! any berth handler ([`Router`](crate::Router),
//! [`ServeDir`](crate::ServeDir), [`Compress`](crate::Compress), a
//! closure) as a `tower::Service`, so tower layers can wrap it.
//!
//! Bodies cross the boundary through [`Body::new`], which keeps a berth
//! body as it is: a [`ServeDir`](crate::ServeDir) file under a layer that
//! leaves the body's type alone (CORS, timeouts, set-header, concurrency
//! limits) keeps `sendfile` and the open-file cache; under a layer that
//! wraps the body (tracing, compression) it is streamed, still with
//! `Content-Length` whenever the wrapper's size hint is exact.
//!
//! Only the `Service` trait is a dependency (`tower-service`), not tower.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::StatusCode;
use tower_service::Service;

use crate::body::BoxError;
use crate::handler::BoxFuture;
use crate::{Body, Handler, IntoResponse, Request, Response};

/// A `tower::Service` as a berth [`Handler`]: each request goes to a clone
/// of the service, once its `poll_ready` says it is ready (as hyper and
/// axum call services). A service error, or one from `poll_ready`, is
/// logged and answered `500 Internal Server Error`.
///
/// ```no_run
/// # async fn run() -> Result<(), berth::Error> {
/// // Any service of `http::Request<berth::Body>`: an axum `Router`, a
/// // tower-http stack, `tower::service_fn`...
/// let service = berth::Router::new()
///     .get("/", |_req| async { "hello" })
///     .into_service();
/// berth::Server::bind("127.0.0.1:8080")
///     .serve(berth::Tower::new(service))
///     .await
/// # }
/// # use berth::Handler as _;
/// ```
///
/// The request carries what the server knows in its extensions: the
/// [`PeerAddr`](crate::PeerAddr), and, with the `axum` feature, axum's
/// `ConnectInfo<SocketAddr>`. An HTTP/1.1 upgrade
/// ([`upgrade::on`](crate::upgrade::on)) works from inside the service too.
///
/// The service must be `Sync` (the handler is shared by every
/// connection's task): axum's `Router` and tower-http's layers are; for a
/// boxed service use `tower::util::BoxCloneSyncService`.
#[derive(Debug, Clone)]
pub struct Tower<S> {
    service: S,
}

impl<S> Tower<S> {
    /// Wraps `service`.
    pub fn new(service: S) -> Self {
        Tower { service }
    }

    /// The service inside.
    pub fn into_inner(self) -> S {
        self.service
    }
}

impl<S, B> Handler for Tower<S>
where
    S: Service<Request, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        #[cfg(feature = "axum")]
        let req = with_connect_info(req);
        let mut service = self.service.clone();
        Box::pin(async move {
            if let Err(e) = std::future::poll_fn(|cx| service.poll_ready(cx)).await {
                return failed(e.into());
            }
            match service.call(req).await {
                Ok(res) => res.into_response(),
                Err(e) => failed(e.into()),
            }
        })
    }
}

/// axum's `ConnectInfo<SocketAddr>`, for its extractor, from the peer
/// address the server recorded.
#[cfg(feature = "axum")]
fn with_connect_info(mut req: Request) -> Request {
    if let Some(crate::PeerAddr(peer)) = req.extensions().get().copied() {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo::<std::net::SocketAddr>(peer));
    }
    req
}

#[cold]
fn failed(error: BoxError) -> Response {
    tracing::error!("service failed: {error}");
    crate::response::status(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A berth [`Handler`] as a `tower::Service` of `http::Request<B>` for any
/// body `B` (made with [`Handler::into_service`]). It is always ready,
/// never fails, and clones cheaply (the handler is shared).
///
/// ```
/// use berth::prelude::*;
/// use berth::HandlerService;
///
/// let files: HandlerService<ServeDir> = ServeDir::new("./public").into_service();
/// // e.g. tower::ServiceBuilder::new().layer(CorsLayer::permissive()).service(files)
/// # let _ = files;
/// ```
pub struct HandlerService<H> {
    handler: Arc<H>,
}

impl<H> HandlerService<H> {
    /// Wraps `handler`.
    pub fn new(handler: H) -> Self {
        HandlerService {
            handler: Arc::new(handler),
        }
    }
}

impl<H> Clone for HandlerService<H> {
    fn clone(&self) -> Self {
        HandlerService {
            handler: self.handler.clone(),
        }
    }
}

impl<H> std::fmt::Debug for HandlerService<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerService").finish_non_exhaustive()
    }
}

impl<H, B> Service<http::Request<B>> for HandlerService<H>
where
    H: Handler,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Answer {
        Answer(self.handler.call(req.map(Body::new)))
    }
}

/// The future of a [`HandlerService`] call: the handler's response, which
/// is never an error.
pub struct Answer(BoxFuture<Response>);

impl Future for Answer {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx).map(Ok)
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::Kind;

    fn request(path: &str) -> Request {
        http::Request::builder()
            .uri(path)
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn a_handler_round_trips_through_tower_and_back() {
        let service = HandlerService::new(|req: Request| async move {
            format!("you asked for {}", req.uri().path())
        });
        let res = Tower::new(service).call(request("/x")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.into_body().collect(100).await.unwrap(),
            "you asked for /x"
        );
    }

    #[tokio::test]
    async fn a_file_body_stays_a_file_across_the_boundary() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, b"0123456789").unwrap();
        let path = file.path().to_owned();
        let service = HandlerService::new(move |_req: Request| {
            let path = path.clone();
            async move { Body::file(std::fs::File::open(path).unwrap(), 2, 5) }
        });
        let res = Tower::new(service.clone()).call(request("/")).await;
        assert!(matches!(res.body().kind, Kind::File(_)));
        assert_eq!(res.into_body().collect(100).await.unwrap(), "23456");
        // Under tower-http layers that keep the body's type, too.
        let layered = tower::ServiceBuilder::new()
            .layer(tower_http::cors::CorsLayer::permissive())
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            ))
            .service(service);
        let res = Tower::new(layered).call(request("/")).await;
        assert!(matches!(res.body().kind, Kind::File(_)));
        assert_eq!(res.headers()["cache-control"], "no-store");
    }

    /// A service that is not ready, then fails: `poll_ready` is waited
    /// for, and its error is a 500.
    #[derive(Clone)]
    struct Flaky {
        polls: Arc<std::sync::atomic::AtomicUsize>,
        fail_ready: bool,
    }

    impl Service<Request> for Flaky {
        type Response = Response;
        type Error = std::io::Error;
        type Future = BoxFuture<Result<Response, std::io::Error>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
            use std::sync::atomic::Ordering::SeqCst;
            if self.polls.fetch_add(1, SeqCst) == 0 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if self.fail_ready {
                return Poll::Ready(Err(std::io::Error::other("overloaded")));
            }
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _req: Request) -> Self::Future {
            Box::pin(async { Err(std::io::Error::other("broken")) })
        }
    }

    #[tokio::test]
    async fn readiness_is_awaited_and_errors_are_500() {
        for fail_ready in [false, true] {
            let polls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let service = Flaky {
                polls: polls.clone(),
                fail_ready,
            };
            let res = Tower::new(service).call(request("/")).await;
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(polls.load(std::sync::atomic::Ordering::SeqCst), 2);
        }
    }
}
