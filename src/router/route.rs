//! What a route can be given: [`IntoRoute`], which turns a handler, an
//! async fn taking the router's [`State`], or a [`body_limit`]-wrapped
//! one into the handler the router stores.
//!
//! The router's state is bound when a route is added (a [`Router`] made by
//! [`Router::with_state`] holds it), so a stored route is an ordinary
//! [`Handler`] and a request costs one clone of the state, nothing else.
//!
//! [`Router`]: super::Router
//! [`Router::with_state`]: super::Router::with_state

use std::future::Future;

use crate::handler::BoxFuture;
use crate::{Handler, IntoResponse, Request, Response};

/// The router's state, handed to a handler that takes it as its first
/// argument (see [`Router::with_state`](super::Router::with_state)). Each
/// request gets a clone: share what must be shared behind an `Arc`.
///
/// ```
/// use berth::prelude::*;
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Clone, Default)]
/// struct AppState {
///     visits: Arc<Mutex<u64>>,
/// }
///
/// async fn visit(State(state): State<AppState>, _req: Request) -> String {
///     let mut visits = state.visits.lock().unwrap();
///     *visits += 1;
///     format!("visit {visits}")
/// }
///
/// let app = Router::with_state(AppState::default()).get("/", visit);
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct State<S>(pub S);

/// Something a [`Router`](super::Router) with state `S` can route to:
///
/// - any [`Handler`]: an async fn or closure taking a [`Request`], a
///   [`ServeDir`](crate::ServeDir), another router, a
///   [`Tower`](crate::Tower) service;
/// - an async fn or closure taking [`State<S>`](State) and a [`Request`],
///   where `S` is the router's state type;
/// - either of these wrapped in [`body_limit`].
///
/// `M` tells the three apart; it is inferred, never written.
///
/// A handler that asks for a state of another type than the router's does
/// not compile:
///
/// ```compile_fail,E0277
/// use berth::prelude::*;
///
/// #[derive(Clone)]
/// struct Db;
/// #[derive(Clone)]
/// struct Cache;
///
/// async fn list(State(_db): State<Db>, _req: Request) -> &'static str {
///     "[]"
/// }
///
/// // `list` wants a `Db`; this router holds a `Cache`.
/// let app = Router::with_state(Cache).get("/items", list);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a route of a `Router<{S}>`",
    label = "not a handler for a router whose state is `{S}`",
    note = "a route is a `Handler` (an async fn or closure taking a `Request`), or an async fn \
            or closure taking `State<{S}>` and `Request`: `{S}` is the router's state type, \
            from `Router::with_state`",
    note = "a handler that takes `State<T>` needs a router made by `Router::with_state(t)` \
            with `t: T`"
)]
pub trait IntoRoute<S, M>: Send + Sync + 'static {
    /// The handler the router stores, with the state bound.
    fn into_route(self, state: &S) -> Box<dyn Handler>;
}

/// Marks the [`IntoRoute`] impls; inferred, never written.
#[doc(hidden)]
pub mod marker {
    /// A [`Handler`](crate::Handler).
    pub enum Plain {}
    /// An async fn of `(State<S>, Request)`.
    pub enum WithState {}
    /// A route wrapped in [`body_limit`](crate::body_limit).
    pub struct Limited<M>(std::marker::PhantomData<M>);
}

impl<S, H: Handler> IntoRoute<S, marker::Plain> for H {
    fn into_route(self, _state: &S) -> Box<dyn Handler> {
        Box::new(self)
    }
}

impl<S, F, Fut> IntoRoute<S, marker::WithState> for F
where
    S: Clone + Send + Sync + 'static,
    F: Fn(State<S>, Request) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    fn into_route(self, state: &S) -> Box<dyn Handler> {
        Box::new(Stateful {
            f: self,
            state: state.clone(),
        })
    }
}

/// A handler taking the state, with the router's state bound.
struct Stateful<F, S> {
    f: F,
    state: S,
}

impl<S, F, Fut> Handler for Stateful<F, S>
where
    S: Clone + Send + Sync + 'static,
    F: Fn(State<S>, Request) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let future = (self.f)(State(self.state.clone()), req);
        Box::pin(async move { future.await.into_response() })
    }
}

/// `route` with its own request-body limit, in bytes, instead of the
/// server's [`max_body_bytes`](crate::ServerConfig::max_body_bytes):
/// smaller for a JSON endpoint, larger for an upload. A request that
/// declares a longer body (`Content-Length`) is answered `413` without
/// calling the handler, and the connection closes rather than read it
/// (nginx's `client_max_body_size` per location); a body that turns out
/// longer fails the handler's read with `413`. In a router with
/// [`render_errors`](super::Router::render_errors), the 413 is rendered.
///
/// ```
/// use berth::prelude::*;
///
/// async fn upload(req: Request) -> Result<String, Rejection> {
///     let data = req.bytes(64 << 20).await?;
///     Ok(format!("{} bytes", data.len()))
/// }
///
/// let app = Router::new()
///     .post("/upload", berth::body_limit(64 << 20, upload))
///     .post("/note", berth::body_limit(1024, |req: Request| async move {
///         req.text(1024).await
///     }));
/// # let _ = app;
/// ```
pub fn body_limit<R>(max: u64, route: R) -> BodyLimited<R> {
    BodyLimited { max, route }
}

/// A route with its own body limit; see [`body_limit`].
#[derive(Debug, Clone)]
pub struct BodyLimited<R> {
    max: u64,
    route: R,
}

impl<S, M, R> IntoRoute<S, marker::Limited<M>> for BodyLimited<R>
where
    R: IntoRoute<S, M>,
{
    fn into_route(self, state: &S) -> Box<dyn Handler> {
        Box::new(Limited {
            max: self.max,
            inner: self.route.into_route(state),
        })
    }
}

struct Limited {
    max: u64,
    inner: Box<dyn Handler>,
}

impl Handler for Limited {
    fn call(&self, mut req: Request) -> BoxFuture<Response> {
        if req.body_mut().refuse_over(self.max) {
            // RFC 9110 §15.5.14: refused before reading, by its declared
            // length.
            let res =
                crate::Rejection::new(crate::request::RejectionKind::TooLarge).into_response();
            return Box::pin(std::future::ready(res));
        }
        self.inner.call(req)
    }
}
