//! `Response`: the `http` crate's response with a berth [`Body`], and the
//! [`ResponseExt`] constructors handlers build it with (text, html, json,
//! bytes, redirect, status, file, stream) plus two builder methods.
//!
//! Every constructor sets `Content-Type`; none sets `Content-Length`, which
//! the server derives from the body (a body of unknown length goes out
//! chunked). Constructors never panic: a value that cannot be sent (an
//! unserializable JSON value, a redirect target or header that is not a
//! valid header value) turns the response into a logged `500`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::StatusCode;
use http::header::{self, HeaderName, HeaderValue};

use crate::Body;
use crate::body::BoxError;

/// An HTTP response as handlers produce it.
pub type Response = http::Response<Body>;

const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const OCTETS: &str = "application/octet-stream";
#[cfg(feature = "json")]
const JSON: &str = "application/json";

/// A response with `status` and a short plain-text body naming it, e.g.
/// `404 Not Found`. The same as [`ResponseExt::from_status`].
pub fn status(status: StatusCode) -> Response {
    // RFC 9110 §15.3.5, §15.4.5: 204 and 304 have no content, so nothing
    // to describe with a Content-Type (nor do 1xx).
    if status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status.is_informational()
    {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = status;
        return res;
    }
    let reason = status.canonical_reason().unwrap_or("");
    let body = format!("{} {}\n", status.as_u16(), reason);
    let mut res = text_with_status(status, body);
    if status.is_client_error() || status.is_server_error() {
        res.extensions_mut().insert(ErrorReason(None));
    }
    res
}

/// Marks an error response that says nothing but why it failed (a bare
/// status from [`status`], a [`Rejection`](crate::Rejection)), with that
/// reason in one line, so a
/// [`Router::render_errors`](crate::Router::render_errors) hook can render
/// it in the application's format.
#[derive(Debug, Clone)]
pub(crate) struct ErrorReason(pub(crate) Option<std::sync::Arc<str>>);

impl ErrorReason {
    /// The reason as one line: the one given, or else the status's own
    /// name in lower case (`not found`), made only when a renderer asks.
    pub(crate) fn text(&self, status: StatusCode) -> String {
        match &self.0 {
            Some(reason) => reason.to_string(),
            None => status
                .canonical_reason()
                .unwrap_or("error")
                .to_ascii_lowercase(),
        }
    }
}

/// A `200 OK` plain-text response. The same as [`ResponseExt::text`].
pub fn text(body: impl Into<String>) -> Response {
    text_with_status(StatusCode::OK, body.into())
}

fn text_with_status(status: StatusCode, body: String) -> Response {
    let mut res = with_type(Body::from(body), TEXT);
    *res.status_mut() = status;
    res
}

fn with_type(body: Body, content_type: &'static str) -> Response {
    let mut res = Response::new(body);
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// A `500` for a response the program could not build; the reason goes to
/// the log, not to the client.
fn internal_error(what: &str) -> Response {
    tracing::error!("could not build a response: {what}");
    status(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The kind of a redirect, for [`ResponseExt::redirect`]: permanent or not,
/// and whether the client keeps the method and body (RFC 9110 §15.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Redirect {
    /// `301 Moved Permanently`; clients may turn a POST into a GET.
    MovedPermanently,
    /// `302 Found`; clients may turn a POST into a GET.
    Found,
    /// `303 See Other`: fetch the target with GET (after a form POST).
    SeeOther,
    /// `307 Temporary Redirect`: same method and body, this time.
    Temporary,
    /// `308 Permanent Redirect`: same method and body, from now on.
    Permanent,
}

impl Redirect {
    /// The status code of this kind of redirect.
    pub fn status(self) -> StatusCode {
        match self {
            Redirect::MovedPermanently => StatusCode::MOVED_PERMANENTLY,
            Redirect::Found => StatusCode::FOUND,
            Redirect::SeeOther => StatusCode::SEE_OTHER,
            Redirect::Temporary => StatusCode::TEMPORARY_REDIRECT,
            Redirect::Permanent => StatusCode::PERMANENT_REDIRECT,
        }
    }
}

/// A value answered as JSON: `200 OK`, `application/json`, the value
/// serialized with serde (a value that fails to serialize is a logged
/// `500`). With a status, `(StatusCode::CREATED, Json(item))`.
///
/// ```
/// use berth::prelude::*;
/// use berth::Json;
///
/// #[derive(serde::Serialize)]
/// struct Item {
///     id: u64,
///     name: String,
/// }
///
/// async fn create(_req: Request) -> (StatusCode, Json<Item>) {
///     (StatusCode::CREATED, Json(Item { id: 1, name: "berth".into() }))
/// }
/// # let _ = Router::new().post("/items", create);
/// ```
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

#[cfg(feature = "json")]
impl<T: serde::Serialize> crate::IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        <Response as ResponseExt>::json(&self.0)
    }
}

impl TryFrom<StatusCode> for Redirect {
    type Error = StatusCode;

    /// The redirect kind for 301, 302, 303, 307 or 308; any other status
    /// comes back as the error.
    fn try_from(status: StatusCode) -> Result<Self, StatusCode> {
        Ok(match status {
            StatusCode::MOVED_PERMANENTLY => Redirect::MovedPermanently,
            StatusCode::FOUND => Redirect::Found,
            StatusCode::SEE_OTHER => Redirect::SeeOther,
            StatusCode::TEMPORARY_REDIRECT => Redirect::Temporary,
            StatusCode::PERMANENT_REDIRECT => Redirect::Permanent,
            other => return Err(other),
        })
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Response {}
}

/// Constructors and builder methods for [`Response`].
///
/// Bring it into scope with `use berth::prelude::*` (or
/// `use berth::ResponseExt`) and write `Response::text(..)`,
/// `Response::html(..)` and so on. The trait is sealed: it is implemented for
/// [`Response`] only.
///
/// The status constructor is [`from_status`](Self::from_status) because
/// `Response::status` is already the `http` crate's getter.
pub trait ResponseExt: Sized + sealed::Sealed {
    /// `200 OK`, `text/plain; charset=utf-8`.
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// let res = Response::text("Hello, World!");
    /// assert_eq!(res.status(), StatusCode::OK);
    /// assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    /// assert_eq!(res.body().size_hint(), Some(13));
    ///
    /// let gone = Response::text("moved away").with_status(StatusCode::GONE);
    /// assert_eq!(gone.status(), StatusCode::GONE);
    /// ```
    fn text(body: impl Into<String>) -> Self;

    /// `200 OK`, `text/html; charset=utf-8`. The text is sent as given:
    /// escaping anything that came from a client is the caller's job.
    fn html(body: impl Into<String>) -> Self;

    /// `200 OK`, `application/json`, the value serialized by `serde_json`.
    /// A value that fails to serialize (a map with non-string keys, a
    /// `Serialize` impl that errors) gives a logged `500`.
    ///
    /// ```
    /// use berth::prelude::*;
    /// use std::collections::BTreeMap;
    ///
    /// let scores = BTreeMap::from([("ada", 3), ("alan", 2)]);
    /// let res = Response::json(&scores);
    /// assert_eq!(res.headers()["content-type"], "application/json");
    /// ```
    #[cfg(feature = "json")]
    fn json<T: serde::Serialize + ?Sized>(value: &T) -> Self;

    /// `200 OK`, `application/octet-stream`.
    fn bytes(body: impl Into<Bytes>) -> Self;

    /// A redirect of `kind` to `location` (a path such as `/login` or an
    /// absolute URL), with a short text body. A `location` that cannot be a
    /// header value (control characters such as CR or LF) gives a logged
    /// `500`, never a response carrying it.
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// let res = Response::redirect(Redirect::SeeOther, "/thanks");
    /// assert_eq!(res.status(), StatusCode::SEE_OTHER);
    /// assert_eq!(res.headers()["location"], "/thanks");
    /// ```
    fn redirect(kind: Redirect, location: &str) -> Self;

    /// `status` with a short plain-text body naming it, e.g. `404 Not
    /// Found`.
    fn from_status(status: StatusCode) -> Self;

    /// The file at `path`: `200` with `Content-Type` from its name (see
    /// [`content_type`](crate::content_type::content_type)) and the open file
    /// as the body, streamed without reading it into memory. `404` when it
    /// is missing or not a regular file, `403` when it may not be read,
    /// `500` otherwise.
    ///
    /// `path` is used as given: never build it from request input without
    /// checking it (or use [`ServeDir`](crate::ServeDir), which does). As in
    /// `ServeDir`, the open is a plain syscall made when the future is
    /// polled, with `O_NONBLOCK` so a FIFO cannot hang it.
    fn file(path: impl AsRef<Path>) -> impl Future<Output = Self> + Send;

    /// `200 OK` with a body produced chunk by chunk: it has no known length,
    /// so it goes out chunked (close-delimited to HTTP/1.0 clients), each
    /// chunk flushed as it comes. No `Content-Type` is set; add one with
    /// [`with_header`](Self::with_header). An `Err` item cuts the response
    /// short: the connection closes without the final chunk. See also
    /// [`Body::channel`].
    fn stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static;

    /// Sets header `name` to `value`, replacing any values it had. A name
    /// or value that is not valid in a header turns the response into a
    /// logged `500`.
    ///
    /// ```
    /// use berth::prelude::*;
    /// use berth::http::header;
    ///
    /// let res = Response::text("data: hi\n\n")
    ///     .with_header(header::CONTENT_TYPE, "text/event-stream")
    ///     .with_header("cache-control", "no-cache");
    /// assert_eq!(res.headers()["content-type"], "text/event-stream");
    /// ```
    fn with_header<K, V>(self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>;

    /// Replaces the status code.
    fn with_status(self, status: StatusCode) -> Self;
}

impl ResponseExt for Response {
    fn text(body: impl Into<String>) -> Self {
        text(body)
    }

    fn html(body: impl Into<String>) -> Self {
        with_type(Body::from(body.into()), HTML)
    }

    #[cfg(feature = "json")]
    fn json<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => with_type(Body::from(bytes), JSON),
            Err(e) => internal_error(&format!("JSON serialization failed: {e}")),
        }
    }

    fn bytes(body: impl Into<Bytes>) -> Self {
        with_type(Body::from(body.into()), OCTETS)
    }

    fn redirect(kind: Redirect, location: &str) -> Self {
        let Ok(location) = HeaderValue::from_str(location) else {
            return internal_error("redirect location is not a valid header value");
        };
        let mut res = status(kind.status());
        res.headers_mut().insert(header::LOCATION, location);
        res
    }

    fn from_status(code: StatusCode) -> Self {
        status(code)
    }

    fn file(path: impl AsRef<Path>) -> impl Future<Output = Self> + Send {
        let path = path.as_ref().to_path_buf();
        async move { open_file(path) }
    }

    fn stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static,
    {
        Response::new(Body::stream(IntoChunks {
            inner: Box::pin(stream),
        }))
    }

    fn with_header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.headers_mut().insert(name, value);
                self
            }
            (Err(_), _) => internal_error("with_header: invalid header name"),
            (_, Err(_)) => internal_error("with_header: invalid header value"),
        }
    }

    fn with_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

fn open_file(path: PathBuf) -> Response {
    use std::io::ErrorKind;
    use std::os::unix::fs::OpenOptionsExt;

    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(&path)
        .and_then(|file| Ok((file.metadata()?, file)));
    let (meta, file) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            return match e.kind() {
                ErrorKind::NotFound
                | ErrorKind::NotADirectory
                | ErrorKind::IsADirectory
                | ErrorKind::InvalidFilename => status(StatusCode::NOT_FOUND),
                ErrorKind::PermissionDenied => status(StatusCode::FORBIDDEN),
                _ => {
                    tracing::warn!(path = %path.display(), "cannot open file: {e}");
                    status(StatusCode::INTERNAL_SERVER_ERROR)
                }
            };
        }
    };
    if !meta.is_file() {
        return status(StatusCode::NOT_FOUND);
    }
    let mut res = Response::new(Body::file(file, 0, meta.len()));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        crate::content_type::content_type(&path),
    );
    res
}

/// Adapts a stream of `Result<impl Into<Bytes>, impl Into<BoxError>>` to
/// what [`Body::stream`] takes.
struct IntoChunks<S> {
    inner: Pin<Box<S>>,
}

impl<S, B, E> Stream for IntoChunks<S>
where
    S: Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|r| r.map(Into::into).map_err(Into::into)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    async fn body_of(res: Response) -> Bytes {
        res.into_body().collect(1 << 20).await.unwrap()
    }

    fn content_type(res: &Response) -> &str {
        res.headers()[header::CONTENT_TYPE].to_str().unwrap()
    }

    #[tokio::test]
    async fn constructors_set_type_and_length() {
        let res = Response::text("hi");
        assert_eq!((res.status(), content_type(&res)), (StatusCode::OK, TEXT));
        assert_eq!(res.body().size_hint(), Some(2));
        let res = Response::html("<p>hi</p>");
        assert_eq!(content_type(&res), HTML);
        assert_eq!(body_of(res).await, "<p>hi</p>");
        let res = Response::bytes(vec![0u8, 255]);
        assert_eq!(content_type(&res), OCTETS);
        assert_eq!(body_of(res).await, &[0u8, 255][..]);
        let res = Response::from_status(StatusCode::NOT_FOUND);
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(body_of(res).await, "404 Not Found\n");
    }

    #[cfg(feature = "json")]
    #[tokio::test]
    async fn json_serializes_or_is_500() {
        let res = Response::json(&[1, 2, 3]);
        assert_eq!(content_type(&res), JSON);
        assert_eq!(body_of(res).await, "[1,2,3]");
        // Map keys must be strings in JSON.
        let bad = std::collections::BTreeMap::from([((1, 2), "x")]);
        let res = Response::json(&bad);
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn redirects_validate_the_location() {
        for kind in [
            Redirect::MovedPermanently,
            Redirect::Found,
            Redirect::SeeOther,
            Redirect::Temporary,
            Redirect::Permanent,
        ] {
            let res = Response::redirect(kind, "/next?a=1");
            assert_eq!(res.status(), kind.status());
            assert_eq!(res.headers()[header::LOCATION], "/next?a=1");
            assert_eq!(Redirect::try_from(kind.status()), Ok(kind));
        }
        assert_eq!(Redirect::try_from(StatusCode::OK), Err(StatusCode::OK));
        let res = Response::redirect(Redirect::Found, "/x\r\nSet-Cookie: a=b");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().get(header::LOCATION).is_none());
    }

    #[test]
    fn builder_methods() {
        let res = Response::text("x")
            .with_status(StatusCode::CREATED)
            .with_header(header::CONTENT_TYPE, "text/csv")
            .with_header("X-Id", String::from("7"));
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(content_type(&res), "text/csv");
        assert_eq!(res.headers()["x-id"], "7");
        let res = Response::text("x").with_header("bad name", "v");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let res = Response::text("x").with_header("x-ok", "line\nbreak");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn file_serves_or_says_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.html");
        std::fs::write(&path, "<h1>hi</h1>").unwrap();
        let res = Response::file(&path).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(content_type(&res), "text/html; charset=utf-8");
        assert_eq!(res.body().size_hint(), Some(11));
        assert_eq!(body_of(res).await, "<h1>hi</h1>");

        let missing = Response::file(dir.path().join("nope.txt")).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let directory = Response::file(dir.path()).await;
        assert_eq!(directory.status(), StatusCode::NOT_FOUND);
        let under_a_file = Response::file(path.join("x")).await;
        assert_eq!(under_a_file.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn stream_has_no_length() {
        struct Lines(u32);
        impl Stream for Lines {
            type Item = Result<String, Infallible>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                self.0 += 1;
                Poll::Ready((self.0 <= 3).then(|| Ok(format!("line {}\n", self.0))))
            }
        }
        let res = Response::stream(Lines(0));
        assert_eq!(res.body().size_hint(), None);
        assert_eq!(body_of(res).await, "line 1\nline 2\nline 3\n");
    }

    #[tokio::test]
    async fn channel_bodies_stream_until_the_sender_drops() {
        let (tx, body) = Body::channel(1);
        let res = Response::new(body);
        assert_eq!(res.body().size_hint(), None);
        let producer = tokio::spawn(async move {
            tx.send("a").await.unwrap();
            tx.send(String::from("b")).await.unwrap();
        });
        assert_eq!(body_of(res).await, "ab");
        producer.await.unwrap();

        let (tx, body) = Body::channel(1);
        drop(body);
        assert!(tx.is_closed());
        assert_eq!(tx.send("lost").await, Err(crate::BodyClosed));

        let (tx, body) = Body::channel(4);
        tx.send("partial").await.unwrap();
        tx.abort("producer failed").await;
        assert!(body.collect(1024).await.is_err());
    }
}
