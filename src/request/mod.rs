//! `Request`: the `http` crate's request with a berth [`Body`], and the
//! [`RequestExt`] helpers handlers read it with: path parameters, the query
//! as a multi-map, the decoded path, the peer address, headers by name, and
//! the body as bytes, text, a form or JSON, each under a size limit.
//!
//! Nothing here panics on client input. Everything a client can get wrong
//! becomes a [`Rejection`], which is itself a response (400, 408, 413 or 415
//! with a one-line plain-text reason), so a handler can answer it with
//! `?` or [`IntoResponse::into_response`](crate::handler::IntoResponse::into_response).

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, AsHeaderName};

use crate::Body;
use crate::syntax::{MediaType, percent_decode};

mod query;
mod rejection;
mod typed;

pub use query::QueryMap;
use query::parse_strict;
pub use rejection::Rejection;
pub(crate) use rejection::RejectionKind;

/// An HTTP request as handlers see it.
pub type Request = http::Request<Body>;

/// The address of the client that sent a request, stored in its
/// extensions by the server. Read it with [`RequestExt::peer_addr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

impl PeerAddr {
    /// What is recorded for a client on a Unix domain socket, which has no
    /// IP address: `0.0.0.0:0` (unless a PROXY protocol header named the
    /// real client). Logs show it as nginx does, `unix:`.
    pub const UNIX: PeerAddr = PeerAddr(SocketAddr::new(
        std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        0,
    ));

    /// Whether this is [`PeerAddr::UNIX`]: a Unix-socket client.
    pub fn is_unix(&self) -> bool {
        *self == PeerAddr::UNIX
    }
}

/// The part of the path a [`Router::nest`](crate::Router::nest) took off
/// before the nested handler saw the request (`/static` for a file served
/// as `/static/a.css` from a ServeDir nested there), raw (percent-encoded
/// as it came). Handlers that build URLs back to themselves (ServeDir's
/// directory redirects and listings) put it in front. Nested nests add up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedPath(pub(crate) Arc<str>);

impl NestedPath {
    /// The prefix, e.g. `/static`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Path parameters captured by the [`Router`](crate::Router): the values of
/// a route's `{name}` and `{*name}` segments, percent-decoded, in the order
/// they appear in the route. Read them with [`RequestExt::param`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathParams {
    pairs: Vec<(Arc<str>, String)>,
}

static NO_PARAMS: PathParams = PathParams { pairs: Vec::new() };

impl PathParams {
    pub(crate) fn with_capacity(n: usize) -> Self {
        PathParams {
            pairs: Vec::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, name: Arc<str>, value: String) {
        self.pairs.push((name, value));
    }

    /// The value of parameter `name`, if the route has one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(name, value)` pairs in route order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(n, v)| (&**n, v.as_str()))
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when the route had no parameters (or no route matched).
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

impl<N: Into<Arc<str>>, V: Into<String>> FromIterator<(N, V)> for PathParams {
    /// Builds parameters by hand, e.g. to test a handler without a router.
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        PathParams {
            pairs: iter
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Request {}
}

/// Helpers on [`Request`]: what the router matched, the query, headers, the
/// peer, and the body read whole under a limit.
///
/// Bring it into scope with `use berth::prelude::*` (or
/// `use berth::RequestExt`). The trait is sealed: it is implemented for
/// [`Request`] only, so methods can be added without breaking anyone.
///
/// The body readers take the request by value and accept at most `limit`
/// bytes; over it they fail with 413 without reading the rest (the server
/// then drains it or closes the connection). `100 Continue` goes out when
/// one of them starts reading, not before.
pub trait RequestExt: sealed::Sealed {
    /// The value of path parameter `name` (a `{name}` or `{*name}` segment
    /// of the route that matched), percent-decoded.
    ///
    /// Decoded values may hold anything, `/` (from `%2F`) and `..`
    /// included: never join one into a filesystem path unchecked (use
    /// `serve_dir::resolve_path`, or
    /// [`ServeDir`](crate::ServeDir)).
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// let app = Router::new().get("/users/{id}", |req: Request| async move {
    ///     Response::text(format!("user {}", req.param("id").unwrap_or("")))
    /// });
    /// # let _ = app;
    /// ```
    fn param(&self, name: &str) -> Option<&str>;

    /// All path parameters (empty when no route with parameters matched).
    fn params(&self) -> &PathParams;

    /// The query string as a multi-map, parsed leniently (see
    /// [`QueryMap::parse`]: bad escapes are kept, invalid UTF-8 becomes
    /// U+FFFD); empty when there is no query. Use
    /// [`try_query`](Self::try_query) to answer bad encoding with 400.
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// let req = berth::http::Request::get("/search?filter=red&filter=blue&q=pizza")
    ///     .body(Body::empty())
    ///     .unwrap();
    /// let query = req.query();
    /// assert_eq!(query.get("q"), Some("pizza"));
    /// assert_eq!(query.get_all("filter").collect::<Vec<_>>(), ["red", "blue"]);
    /// ```
    fn query(&self) -> QueryMap;

    /// The query string as a multi-map, parsed strictly (see
    /// [`QueryMap::try_parse`]): a bad `%` escape or invalid UTF-8 is a 400
    /// [`Rejection`].
    fn try_query(&self) -> Result<QueryMap, Rejection>;

    /// The path, percent-decoded once. Borrowed when there was nothing to
    /// decode. A bad `%` escape or invalid UTF-8 is a 400 [`Rejection`].
    /// An encoded slash (`%2F`) decodes to `/`, so this is for display and
    /// lookups, not for splitting into segments (the router splits first,
    /// then decodes each segment).
    fn path_decoded(&self) -> Result<Cow<'_, str>, Rejection>;

    /// Path parameter `name` parsed as `T` (any `FromStr`: numbers, UUIDs,
    /// ...). Missing or unparsable, it is a 400 [`Rejection`] naming the
    /// parameter and why (`path: parameter `id`: invalid digit found in
    /// string`).
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// async fn item(req: Request) -> Result<String, Rejection> {
    ///     let id: u64 = req.param_as("id")?;
    ///     Ok(format!("item {id}"))
    /// }
    /// # let _ = Router::new().get("/items/{id}", item);
    /// ```
    fn param_as<T>(&self, name: &str) -> Result<T, Rejection>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display;

    /// The query string deserialized into `T` (serde, as axum's `Query`):
    /// a field that does not parse, or a required one that is missing, is
    /// a 400 [`Rejection`] naming it; a bad `%` escape too.
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Page {
    ///     limit: Option<u32>,
    ///     #[serde(default)]
    ///     done: bool,
    /// }
    ///
    /// async fn list(req: Request) -> Result<String, Rejection> {
    ///     let page: Page = req.query_as()?;
    ///     Ok(format!("limit {:?}, done {}", page.limit, page.done))
    /// }
    /// # let _ = Router::new().get("/items", list);
    /// ```
    #[cfg(feature = "json")]
    fn query_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Rejection>;

    /// The route's path parameters deserialized into `T`, a struct whose
    /// fields are the parameter names (or a map); failures as for
    /// [`query_as`](Self::query_as).
    #[cfg(feature = "json")]
    fn params_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Rejection>;

    /// The client's address, when the server recorded it (a [`PeerAddr`]
    /// extension; absent on requests built by hand, and when
    /// [`ServerConfig::peer_addr`](crate::ServerConfig::peer_addr) is off).
    fn peer_addr(&self) -> Option<SocketAddr>;

    /// The first value of header `name` (names are case-insensitive), or
    /// `None` when absent or not visible ASCII. Use `headers().get_all` for
    /// every value.
    fn header<K: AsHeaderName>(&self, name: K) -> Option<&str>;

    /// The whole body, at most `limit` bytes.
    fn bytes(self, limit: usize) -> impl Future<Output = Result<Bytes, Rejection>> + Send;

    /// The whole body as UTF-8 text, at most `limit` bytes. A
    /// `Content-Type` charset other than UTF-8 (or its subset US-ASCII) is
    /// 415; bytes that are not UTF-8 are 400. Any media type is accepted.
    fn text(self, limit: usize) -> impl Future<Output = Result<String, Rejection>> + Send;

    /// The body as an `application/x-www-form-urlencoded` form, at most
    /// `limit` bytes: 415 for any other `Content-Type`, 400 when the data is
    /// not valid percent-encoded UTF-8 (see [`QueryMap::try_parse`]).
    fn form(self, limit: usize) -> impl Future<Output = Result<QueryMap, Rejection>> + Send;

    /// The body as JSON deserialized into `T`, at most `limit` bytes: 415
    /// unless `Content-Type` is `application/json` or `application/*+json`,
    /// 400 for malformed JSON and for JSON that does not fit `T`, with a
    /// reason naming the field (`JSON body: field `name`: invalid type:
    /// integer `5`, expected a string at line 1 column 11`).
    ///
    /// ```
    /// use berth::prelude::*;
    /// use std::collections::BTreeMap;
    ///
    /// async fn sum(req: Request) -> Result<String, Rejection> {
    ///     let numbers: BTreeMap<String, i64> = req.json(64 * 1024).await?;
    ///     Ok(numbers.values().sum::<i64>().to_string())
    /// }
    /// # let _ = Router::new().post("/sum", sum);
    /// ```
    #[cfg(feature = "json")]
    fn json<T: serde::de::DeserializeOwned>(
        self,
        limit: usize,
    ) -> impl Future<Output = Result<T, Rejection>> + Send;
}

impl RequestExt for Request {
    fn param(&self, name: &str) -> Option<&str> {
        self.params().get(name)
    }

    fn params(&self) -> &PathParams {
        self.extensions().get::<PathParams>().unwrap_or(&NO_PARAMS)
    }

    fn query(&self) -> QueryMap {
        self.uri().query().map(QueryMap::parse).unwrap_or_default()
    }

    fn try_query(&self) -> Result<QueryMap, Rejection> {
        match self.uri().query() {
            Some(q) => QueryMap::try_parse(q.as_bytes()),
            None => Ok(QueryMap::default()),
        }
    }

    fn param_as<T>(&self, name: &str) -> Result<T, Rejection>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        typed::param_as(self.params(), name)
    }

    #[cfg(feature = "json")]
    fn query_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Rejection> {
        typed::query_as(self.uri().query().unwrap_or(""))
    }

    #[cfg(feature = "json")]
    fn params_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, Rejection> {
        typed::params_as(self.params())
    }

    fn path_decoded(&self) -> Result<Cow<'_, str>, Rejection> {
        percent_decode(self.uri().path().as_bytes(), false).ok_or_else(Rejection::malformed_path)
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.extensions().get::<PeerAddr>().map(|p| p.0)
    }

    fn header<K: AsHeaderName>(&self, name: K) -> Option<&str> {
        self.headers().get(name)?.to_str().ok()
    }

    fn bytes(self, limit: usize) -> impl Future<Output = Result<Bytes, Rejection>> + Send {
        let body = self.into_body();
        async move { Ok(body.collect(limit).await?) }
    }

    fn text(self, limit: usize) -> impl Future<Output = Result<String, Rejection>> + Send {
        let charset_ok = media_type(&self).is_none_or(|m| charset_is_utf8(&m));
        let body = self.into_body();
        async move {
            if !charset_ok {
                return Err(Rejection::new(RejectionKind::UnsupportedCharset));
            }
            let bytes = body.collect(limit).await?;
            String::from_utf8(Vec::from(bytes)).map_err(|_| Rejection::new(RejectionKind::NotUtf8))
        }
    }

    fn form(self, limit: usize) -> impl Future<Output = Result<QueryMap, Rejection>> + Send {
        const FORM: &str = "application/x-www-form-urlencoded";
        let type_ok = media_type(&self).is_some_and(|m| m.essence_is(FORM));
        let body = self.into_body();
        async move {
            if !type_ok {
                return Err(Rejection::new(RejectionKind::WrongType(FORM)));
            }
            let bytes = body.collect(limit).await?;
            parse_strict(&bytes).ok_or(Rejection::new(RejectionKind::MalformedForm))
        }
    }

    #[cfg(feature = "json")]
    fn json<T: serde::de::DeserializeOwned>(
        self,
        limit: usize,
    ) -> impl Future<Output = Result<T, Rejection>> + Send {
        let type_ok = media_type(&self).is_some_and(|m| is_json(&m));
        let body = self.into_body();
        async move {
            if !type_ok {
                return Err(Rejection::new(RejectionKind::WrongType("application/json")));
            }
            let bytes = body.collect(limit).await?;
            typed::json_body(&bytes)
        }
    }
}

/// The request's media type (`Content-Type`, RFC 9110 §8.3.1); `None`
/// when there is no usable one.
fn media_type(req: &Request) -> Option<MediaType<'_>> {
    MediaType::parse(req.headers().get(header::CONTENT_TYPE)?.as_bytes())
}

/// `application/json` or any `application/*+json` (RFC 6839 §3.1).
#[cfg(feature = "json")]
fn is_json(m: &MediaType<'_>) -> bool {
    m.ty().eq_ignore_ascii_case(b"application")
        && (m.subtype().eq_ignore_ascii_case(b"json")
            || m.suffix().is_some_and(|s| s.eq_ignore_ascii_case(b"json")))
}

/// No `charset`, or one naming UTF-8 (or its subset US-ASCII); a
/// malformed one is not known to be UTF-8.
fn charset_is_utf8(m: &MediaType<'_>) -> bool {
    let Some(charset) = m.params().find(|p| p.is(b"charset")) else {
        return true;
    };
    charset.value().is_some_and(|c| {
        c.eq_ignore_ascii_case(b"utf-8")
            || c.eq_ignore_ascii_case(b"utf8")
            || c.eq_ignore_ascii_case(b"us-ascii")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{BodyError, BodyErrorKind};
    use crate::handler::IntoResponse;
    use http::StatusCode;

    fn with_body(content_type: Option<&str>, body: impl Into<Body>) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/");
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        builder.body(body.into()).unwrap()
    }

    fn uri(uri: &str) -> Request {
        http::Request::builder()
            .uri(uri)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn query_keeps_repeated_names_in_order() {
        let req = uri("/s?filter=red&q=a+b&filter=blue&empty=&bare&&=v");
        let q = req.query();
        assert_eq!(q.get("filter"), Some("red"));
        assert_eq!(q.get_all("filter").collect::<Vec<_>>(), ["red", "blue"]);
        assert_eq!(q.get("q"), Some("a b"));
        assert_eq!(q.get("empty"), Some(""));
        assert_eq!(q.get("bare"), Some(""));
        assert_eq!(q.get(""), Some("v"));
        assert!(q.contains("bare") && !q.contains("nope"));
        assert_eq!(q.len(), 6);
        assert_eq!(
            q.keys().collect::<Vec<_>>(),
            ["filter", "q", "empty", "bare", ""]
        );
        assert_eq!(q.iter().next(), Some(("filter", "red")));
        assert!(uri("/").query().is_empty());
        assert!(uri("/?").query().is_empty());
    }

    #[test]
    fn query_bad_encoding_is_lenient_or_400() {
        let req = uri("/?a=%zz&b=%FF&c=%2&d=%E2%9C%93");
        let q = req.query();
        assert_eq!(q.get("a"), Some("%zz"));
        assert_eq!(q.get("b"), Some("\u{FFFD}"));
        assert_eq!(q.get("c"), Some("%2"));
        assert_eq!(q.get("d"), Some("✓"));
        let rejection = req.try_query().unwrap_err();
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
        assert!(uri("/?b=%FF").try_query().is_err());
        assert!(uri("/?c=%2").try_query().is_err());
        let strict = uri("/?d=%E2%9C%93&e=1+2%2B3").try_query().unwrap();
        assert_eq!(strict.get("d"), Some("✓"));
        assert_eq!(strict.get("e"), Some("1 2+3"));
    }

    proptest::proptest! {
        /// Where the strict parser accepts, it agrees with form_urlencoded.
        #[test]
        fn strict_and_lenient_agree_on_valid_input(input in "[a-c=&+%0-9A-Fz\u{e9}]{0,24}") {
            if let Ok(strict) = QueryMap::try_parse(input.as_bytes()) {
                proptest::prop_assert_eq!(strict, QueryMap::parse(&input));
            }
        }
    }

    #[test]
    fn path_decoded_is_strict() {
        assert_eq!(uri("/a%20b/c").path_decoded().unwrap(), "/a b/c");
        assert!(matches!(
            uri("/plain").path_decoded().unwrap(),
            Cow::Borrowed("/plain")
        ));
        assert_eq!(
            uri("/%zz").path_decoded().unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        assert!(uri("/%C3").path_decoded().is_err());
    }

    #[test]
    fn headers_peer_and_params() {
        let mut req = http::Request::builder()
            .uri("/")
            .header("X-Token", "abc")
            .header("x-bin", &b"\xff"[..])
            .body(Body::empty())
            .unwrap();
        assert_eq!(req.header("x-token"), Some("abc"));
        assert_eq!(req.header("X-TOKEN"), Some("abc"));
        assert_eq!(req.header(header::ACCEPT), None);
        assert_eq!(req.header("x-bin"), None);
        assert_eq!(req.peer_addr(), None);
        assert!(req.params().is_empty());
        let addr: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        req.extensions_mut().insert(PeerAddr(addr));
        req.extensions_mut()
            .insert([("id", "7")].into_iter().collect::<PathParams>());
        assert_eq!(req.peer_addr(), Some(addr));
        assert_eq!(req.param("id"), Some("7"));
        assert_eq!(req.param("other"), None);
    }

    #[tokio::test]
    async fn bytes_and_text_respect_the_limit() {
        assert_eq!(with_body(None, "hello").bytes(5).await.unwrap(), "hello");
        let e = with_body(None, "hello").bytes(4).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            with_body(Some("text/plain"), "héllo")
                .text(6)
                .await
                .unwrap(),
            "héllo"
        );
        let e = with_body(None, "héllo").text(5).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn text_wants_utf8() {
        let e = with_body(None, &b"caf\xe9"[..]).text(64).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = with_body(Some("text/plain; charset=iso-8859-1"), "x")
            .text(64)
            .await
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let ok = with_body(Some("text/plain; charset=\"UTF-8\""), "x")
            .text(64)
            .await;
        assert_eq!(ok.unwrap(), "x");
        // The parameter grammar of crate::syntax: unescaped, and a
        // malformed charset is not taken for UTF-8.
        let ok = with_body(Some("text/plain; a=\"x;y\"; charset=\"utf\\-8\""), "x");
        assert_eq!(ok.text(64).await.unwrap(), "x");
        for ct in ["text/plain; charset=", "text/plain; charset=\"utf-8"] {
            let e = with_body(Some(ct), "x").text(64).await.unwrap_err();
            assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
        }
    }

    #[tokio::test]
    async fn form_checks_type_and_encoding() {
        const FORM: &str = "application/x-www-form-urlencoded";
        let form = with_body(Some(FORM), "a=1&a=2&b=x+y%21")
            .form(64)
            .await
            .unwrap();
        assert_eq!(form.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(form.get("b"), Some("x y!"));
        let ok = with_body(
            Some("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
            "a=1",
        );
        assert_eq!(ok.form(64).await.unwrap().get("a"), Some("1"));

        for ct in [None, Some("text/plain"), Some("multipart/form-data")] {
            let e = with_body(ct, "a=1").form(64).await.unwrap_err();
            assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
            assert!(e.to_string().contains(FORM));
        }
        for bad in [&b"a=%FF"[..], b"a=%zz", b"a=\xff", b"%"] {
            let e = with_body(Some(FORM), bad).form(64).await.unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        }
        let e = with_body(Some(FORM), "a=123456").form(4).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[cfg(feature = "json")]
    #[tokio::test]
    async fn json_checks_type_syntax_and_shape() {
        use std::collections::BTreeMap;
        type Map = BTreeMap<String, u32>;
        let ok: Map = with_body(Some("application/json"), r#"{"a":1}"#)
            .json(64)
            .await
            .unwrap();
        assert_eq!(ok["a"], 1);
        let ok: Map = with_body(Some("application/problem+json; charset=utf-8"), "{}")
            .json(64)
            .await
            .unwrap();
        assert!(ok.is_empty());
        let cases = [
            (Some("text/plain"), "{}", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            (None, "{}", StatusCode::UNSUPPORTED_MEDIA_TYPE),
            (Some("application/json"), "{", StatusCode::BAD_REQUEST),
            (Some("application/json"), "", StatusCode::BAD_REQUEST),
            (
                Some("application/json"),
                r#"{"a":"x"}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                Some("application/json"),
                r#"{"a":100000000000}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                Some("application/json"),
                r#"{"a": 1, "b": 2, "c": 3}"#,
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (ct, body, status) in cases {
            let e = with_body(ct, body).json::<Map>(20).await.unwrap_err();
            assert_eq!(e.status(), status, "{ct:?} {body}");
        }
    }

    #[cfg(feature = "json")]
    #[test]
    fn query_map_serializes_as_arrays() {
        let q = QueryMap::parse("q=pizza&sort=price&q=pasta");
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"q":["pizza","pasta"],"sort":["price"]}"#
        );
    }

    #[tokio::test]
    async fn rejections_are_short_plain_text_responses() {
        let e = with_body(None, "hello").bytes(1).await.unwrap_err();
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let text = res.into_body().collect(1024).await.unwrap();
        assert_eq!(text, "request body is too large\n");
    }

    #[tokio::test]
    async fn body_errors_map_to_statuses() {
        let (sender, body) = crate::body::Incoming::channel(Some(10), u64::MAX);
        let req = http::Request::new(body);
        let reader = tokio::spawn(async move { req.bytes(100).await });
        sender.wanted().await;
        sender
            .send(Err(BodyError::new(BodyErrorKind::Incomplete)))
            .await;
        assert_eq!(
            reader.await.unwrap().unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
        for (kind, status) in [
            (BodyErrorKind::Timeout, StatusCode::REQUEST_TIMEOUT),
            (BodyErrorKind::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            (
                BodyErrorKind::Stream("x".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ] {
            assert_eq!(BodyError::new(kind).into_response().status(), status);
        }
    }
}
