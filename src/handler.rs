//! The `Handler` trait: an async function from [`Request`] to [`Response`].
//!
//! Handlers return responses, never errors: an app-level failure is a
//! response too. Closures `Fn(Request) -> impl Future<Output = Response>` are
//! handlers, and so are values such as [`ServeDir`](crate::ServeDir).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{Request, Response};

/// A boxed, sendable future, as returned by [`Handler::call`].
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Answers requests. Implemented for async closures and for `Arc<H>`.
pub trait Handler: Send + Sync + 'static {
    /// Produces the response to one request.
    fn call(&self, req: Request) -> BoxFuture<Response>;
}

impl<F, Fut> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        Box::pin(self(req))
    }
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        (**self).call(req)
    }
}

impl Handler for Box<dyn Handler> {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        (**self).call(req)
    }
}
