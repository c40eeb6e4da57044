//! The `Handler` trait (an async function from [`Request`] to [`Response`])
//! and [`IntoResponse`], which turns what a handler returns into a response.
//!
//! Handlers return responses, never errors: an app-level failure is a
//! response too. Async functions and closures `Fn(Request) -> impl
//! Future<Output = impl IntoResponse>` are handlers, and so are values such
//! as [`ServeDir`](crate::ServeDir) and [`Router`](crate::Router).

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::{Body, Request, Response};

/// A boxed, sendable future, as returned by [`Handler::call`].
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Answers requests. Implemented for async functions and closures taking a
/// [`Request`] and returning anything that is [`IntoResponse`], for
/// `Arc<H>` and `Box<dyn Handler>`, and by the crate's handler values
/// ([`Router`](crate::Router), [`ServeDir`](crate::ServeDir)).
///
/// ```
/// use berth::prelude::*;
///
/// // An async fn...
/// async fn hello(_req: Request) -> &'static str {
///     "Hello, World!"
/// }
///
/// // ...a value with its own state...
/// struct Counter(std::sync::atomic::AtomicU64);
/// impl Handler for Counter {
///     fn call(&self, _req: Request) -> berth::handler::BoxFuture<Response> {
///         let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         Box::pin(async move { Response::text(format!("visit {n}")) })
///     }
/// }
///
/// // ...and closures are all handlers.
/// let app = Router::new()
///     .get("/", hello)
///     .get("/count", Counter(Default::default()))
///     .get("/teapot", |_req| async { StatusCode::IM_A_TEAPOT });
/// # let _ = app;
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Produces the response to one request.
    fn call(&self, req: Request) -> BoxFuture<Response>;

    /// This handler as a `tower::Service`, to wrap in tower layers (see
    /// [`HandlerService`](crate::HandlerService)).
    fn into_service(self) -> crate::HandlerService<Self>
    where
        Self: Sized,
    {
        crate::HandlerService::new(self)
    }
}

impl<F, Fut> Handler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let future = self(req);
        Box::pin(async move { future.await.into_response() })
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

/// A value a handler can return: it becomes the [`Response`].
///
/// | Value | Response |
/// |---|---|
/// | [`Response`] | itself |
/// | `http::Response<B>`, `B` any [`http_body::Body`] | the same, its body through [`Body::new`] |
/// | [`Body`] | 200 with that body and no `Content-Type` |
/// | `&'static str`, `String`, `Cow<'static, str>` | 200 `text/plain; charset=utf-8` |
/// | `Bytes`, `Vec<u8>`, `&'static [u8]` | 200 `application/octet-stream` |
/// | [`StatusCode`] | that status with a short text body naming it (`404 Not Found`) |
/// | `()` | 204 No Content |
/// | `(StatusCode, T)` | `T`'s response with that status |
/// | `(StatusCode, HeaderMap, T)` | the same, each header in the map replacing `T`'s |
/// | `Result<T, E>` | `T`'s or `E`'s response |
/// | [`Rejection`](crate::Rejection), [`BodyError`](crate::BodyError) | 4xx/5xx with a one-line reason |
///
/// `()` is 204 rather than an empty 200: a handler that returns nothing has
/// no content, and 204 says so to the client (RFC 9110 §15.3.5).
///
/// `Result<T, E>` answers with whichever side it holds, *as that side
/// would answer alone*: `Err(String)` is a `200` with the string, as in
/// axum. To fail with a status, make the error carry one
/// (`Result<String, (StatusCode, String)>`, a [`Rejection`](crate::Rejection),
/// or your own type implementing `IntoResponse`).
///
/// ```
/// use berth::prelude::*;
///
/// async fn create(req: Request) -> Result<(StatusCode, String), Rejection> {
///     let name = req.text(1024).await?;
///     Ok((StatusCode::CREATED, format!("created {name}")))
/// }
///
/// let res = (StatusCode::NOT_FOUND, "no such user").into_response();
/// assert_eq!(res.status(), StatusCode::NOT_FOUND);
/// assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
/// # let _ = Router::new().post("/users", create);
/// ```
pub trait IntoResponse {
    /// Converts `self` into a response.
    fn into_response(self) -> Response;
}

/// A berth [`Response`] is itself; a response whose body is another
/// [`http_body::Body`] (an axum or tower-http response) gets its body
/// through [`Body::new`], which keeps a berth body as it is.
impl<B> IntoResponse for http::Response<B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<crate::body::BoxError>,
{
    #[inline]
    fn into_response(self) -> Response {
        // A berth response (every handler's common case) is returned
        // without taking it apart.
        let mut slot = Some(self);
        if let Some(own) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Response>>()
            && let Some(own) = own.take()
        {
            return own;
        }
        match slot {
            Some(res) => res.map(Body::new),
            None => Response::default(),
        }
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for Infallible {
    fn into_response(self) -> Response {
        match self {}
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        res
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        crate::response::status(self)
    }
}

fn with_content_type(body: Body, content_type: &'static str) -> Response {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

const TEXT: &str = "text/plain; charset=utf-8";
const OCTETS: &str = "application/octet-stream";

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), TEXT)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), TEXT)
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> Response {
        match self {
            Cow::Borrowed(s) => s.into_response(),
            Cow::Owned(s) => s.into_response(),
        }
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), OCTETS)
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), OCTETS)
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), OCTETS)
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let mut res = self.1.into_response();
        *res.status_mut() = self.0;
        res
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, HeaderMap, T) {
    fn into_response(self) -> Response {
        let (status, headers, inner) = self;
        let mut res = inner.into_response();
        *res.status_mut() = status;
        // `extend` with a HeaderMap replaces every value of a name it
        // brings and appends that name's values in order.
        res.headers_mut().extend(headers);
        res
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(t) => t.into_response(),
            Err(e) => e.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(res: Response) -> Bytes {
        res.into_body().collect(1 << 20).await.unwrap()
    }

    fn content_type(res: &Response) -> Option<&str> {
        res.headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap())
    }

    #[tokio::test]
    async fn strings_are_plain_text() {
        for res in [
            "hi".into_response(),
            String::from("hi").into_response(),
            Cow::Borrowed("hi").into_response(),
        ] {
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(content_type(&res), Some(TEXT));
            assert_eq!(body_of(res).await, "hi");
        }
    }

    #[tokio::test]
    async fn bytes_are_octet_streams() {
        for res in [
            Bytes::from_static(b"\x00\x01").into_response(),
            vec![0u8, 1].into_response(),
            (&b"\x00\x01"[..]).into_response(),
        ] {
            assert_eq!(content_type(&res), Some(OCTETS));
            assert_eq!(body_of(res).await, &b"\x00\x01"[..]);
        }
    }

    #[tokio::test]
    async fn status_code_names_itself() {
        let res = StatusCode::NOT_FOUND.into_response();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(body_of(res).await, "404 Not Found\n");
    }

    #[test]
    fn statuses_without_content_have_no_body_and_no_type() {
        for status in [StatusCode::NO_CONTENT, StatusCode::NOT_MODIFIED] {
            let res = status.into_response();
            assert_eq!(res.status(), status);
            assert!(res.body().is_empty());
            assert_eq!(content_type(&res), None);
        }
    }

    #[test]
    fn unit_is_no_content() {
        let res = ().into_response();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.body().is_empty());
    }

    #[tokio::test]
    async fn tuples_set_status_and_headers() {
        let res = (StatusCode::CREATED, "made").into_response();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(content_type(&res), Some(TEXT));

        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        let res = (StatusCode::ACCEPTED, headers, "x,y").into_response();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        assert_eq!(content_type(&res), Some("text/csv"));
        assert_eq!(
            res.headers().get_all(header::CONTENT_TYPE).iter().count(),
            1
        );
        assert_eq!(res.headers().get_all(header::SET_COOKIE).iter().count(), 2);
        assert_eq!(body_of(res).await, "x,y");
    }

    #[tokio::test]
    async fn results_pick_their_side() {
        let ok: Result<&str, StatusCode> = Ok("fine");
        assert_eq!(ok.into_response().status(), StatusCode::OK);
        let err: Result<&str, StatusCode> = Err(StatusCode::CONFLICT);
        assert_eq!(err.into_response().status(), StatusCode::CONFLICT);
    }

    #[tokio::test]
    async fn closures_returning_anything_into_response_are_handlers() {
        fn handler<H: Handler>(h: H) -> H {
            h
        }
        let h = handler(|_req| async { (StatusCode::ACCEPTED, "queued") });
        let res = Handler::call(&h, Request::new(Body::empty())).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        assert_eq!(body_of(res).await, "queued");

        let boxed: Box<dyn Handler> = Box::new(handler(|_req| async {}));
        let res = Arc::new(boxed).call(Request::new(Body::empty())).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
}
