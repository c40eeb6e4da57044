//! Unit tests of the router: pattern parsing, matching order, 405/OPTIONS, trailing-slash redirects.

use super::*;
use crate::{Body, RequestExt};
use bytes::Bytes;

fn request(method: Method, uri: &str) -> Request {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

async fn send(app: &Router, method: Method, uri: &str) -> (StatusCode, String) {
    let res = app.call(request(method, uri)).await;
    let status = res.status();
    let body = res.into_body().collect(1 << 20).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    send(app, Method::GET, uri).await
}

/// A handler answering `name` and its parameters.
fn named(name: &'static str) -> impl Handler {
    move |req: Request| async move {
        let params: Vec<String> = req
            .params()
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        format!("{name} {}", params.join(" ")).trim_end().to_owned()
    }
}

#[tokio::test]
async fn literal_beats_param_beats_wildcard_in_any_order() {
    let forwards = Router::new()
        .get("/users/new", named("new"))
        .get("/users/{id}", named("user"))
        .get("/users/{*rest}", named("rest"));
    let backwards = Router::new()
        .get("/users/{*rest}", named("rest"))
        .get("/users/{id}", named("user"))
        .get("/users/new", named("new"));
    for app in [&forwards, &backwards] {
        assert_eq!(get(app, "/users/new").await.1, "new");
        assert_eq!(get(app, "/users/7").await.1, "user id=7");
        assert_eq!(get(app, "/users/7/posts").await.1, "rest rest=7/posts");
    }
}

#[tokio::test]
async fn a_dead_end_literal_backs_out_to_the_param() {
    let app = Router::new()
        .get("/users/new", named("new"))
        .get("/users/{id}/posts", named("posts"));
    assert_eq!(get(&app, "/users/new/posts").await.1, "posts id=new");
    assert_eq!(get(&app, "/users/new").await.1, "new");
}

#[tokio::test]
async fn params_are_decoded_segment_by_segment() {
    let app = Router::new()
        .get("/users/{id}", named("user"))
        .get("/caf%C3%A9", named("cafe"));
    assert_eq!(get(&app, "/users/J%C3%BCrgen").await.1, "user id=Jürgen");
    assert_eq!(get(&app, "/users/a%2Fb").await.1, "user id=a/b");
    assert_eq!(get(&app, "/users/a%20b").await.1, "user id=a b");
    assert_eq!(get(&app, "/caf%c3%a9").await.1, "cafe");
}

#[tokio::test]
async fn bad_encoding_is_400() {
    let app = Router::new().get("/users/{id}", named("user"));
    for uri in ["/users/%zz", "/users/%F", "/users/%FF", "/%C3"] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(body.contains("percent-encoded"), "{body}");
    }
}

#[tokio::test]
async fn wildcard_takes_the_non_empty_rest() {
    let app = Router::new()
        .get("/files/{*path}", named("files"))
        .get("/{*all}", named("all"));
    assert_eq!(get(&app, "/files/a").await.1, "files path=a");
    assert_eq!(get(&app, "/files/a/b/").await.1, "files path=a/b/");
    assert_eq!(get(&app, "/files/a%2Fb/c").await.1, "files path=a/b/c");
    // Nothing after `/files/`: the root wildcard takes all of it.
    assert_eq!(get(&app, "/files/").await.1, "all all=files/");
    assert_eq!(get(&app, "/x").await.1, "all all=x");
    assert_eq!(get(&app, "/").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_route_is_404_or_the_fallback() {
    let app = Router::new().get("/", named("home"));
    let (status, body) = get(&app, "/nope").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, "404 Not Found\n")
    );

    let app = Router::new()
        .get("/", named("home"))
        .fallback(|req: Request| async move { format!("fallback {}", req.uri()) });
    assert_eq!(get(&app, "/nope?x=1").await.1, "fallback /nope?x=1");
    assert_eq!(get(&app, "/").await.1, "home");
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let app = Router::new()
        .get("/users/{id}", named("get"))
        .delete("/users/{id}", named("delete"))
        .post("/users", named("create"))
        .fallback(named("fallback"));
    let res = app.call(request(Method::PUT, "/users/1")).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()[header::ALLOW], "GET, HEAD, DELETE, OPTIONS");
    let res = app.call(request(Method::GET, "/users")).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()[header::ALLOW], "POST, OPTIONS");
    let custom = Method::from_bytes(b"PURGE").unwrap();
    let app = app.route(custom.clone(), "/users", named("purge"));
    assert_eq!(send(&app, custom, "/users").await.1, "purge");
    let res = app.call(request(Method::GET, "/users")).await;
    assert_eq!(res.headers()[header::ALLOW], "POST, OPTIONS, PURGE");
}

#[tokio::test]
async fn head_uses_get_unless_it_has_its_own() {
    let app = Router::new()
        .get("/a", named("get a"))
        .get("/b", named("get b"))
        .head("/b", named("head b"));
    assert_eq!(send(&app, Method::HEAD, "/a").await.1, "get a");
    assert_eq!(send(&app, Method::HEAD, "/b").await.1, "head b");
    let seen = Router::new().get("/", |req: Request| async move { req.method().to_string() });
    assert_eq!(send(&seen, Method::HEAD, "/").await.1, "HEAD");
}

#[tokio::test]
async fn options_is_answered_unless_registered() {
    let app = Router::new()
        .get("/a", named("a"))
        .post("/a", named("a"))
        .options("/b", named("own options"))
        .get("/b", named("b"));
    let res = app.call(request(Method::OPTIONS, "/a")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(res.headers()[header::ALLOW], "GET, HEAD, POST, OPTIONS");
    assert!(res.body().is_empty());
    assert_eq!(send(&app, Method::OPTIONS, "/b").await.1, "own options");
    assert_eq!(
        send(&app, Method::OPTIONS, "*").await.0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn trailing_slash_redirects_both_ways_keeping_the_query() {
    let app = Router::new()
        .get("/a", named("a"))
        .get("/dir/", named("dir"))
        .get("/users/{id}", named("user"));
    for (from, to) in [
        ("/a/", "/a"),
        ("/a/?x=1&y", "/a?x=1&y"),
        ("/dir", "/dir/"),
        ("/dir?q", "/dir/?q"),
        ("/users/7/", "/users/7"),
    ] {
        let res = app.call(request(Method::POST, from)).await;
        assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT, "{from}");
        assert_eq!(res.headers()[header::LOCATION], to, "{from}");
    }
    assert_eq!(get(&app, "/b/").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/users/").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn trailing_slash_never_redirects_to_another_host() {
    let app = Router::new().get("//{host}", named("odd"));
    let res = app.call(request(Method::GET, "//evil.example/")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().get(header::LOCATION).is_none());
}

#[tokio::test]
async fn params_reach_the_handler_through_extensions() {
    let app = Router::new().get("/{a}/x/{b}", |req: Request| async move {
        let p = req.params();
        assert_eq!(p.len(), 2);
        format!("{}+{}", req.param("a").unwrap(), p.get("b").unwrap())
    });
    assert_eq!(get(&app, "/1/x/2").await.1, "1+2");
}

#[tokio::test]
async fn root_and_empty_segments() {
    let app = Router::new()
        .get("/", named("root"))
        .get("/a//b", named("double"));
    assert_eq!(get(&app, "/").await.1, "root");
    assert_eq!(get(&app, "/a//b").await.1, "double");
    assert_eq!(get(&app, "/a/b").await.0, StatusCode::NOT_FOUND);
}

#[test]
fn debug_lists_routes() {
    let app = Router::new()
        .get("/a", named("a"))
        .post("/b/{x}", named("b"));
    let text = format!("{app:?}");
    assert!(
        text.contains("GET /a") && text.contains("POST /b/{x}"),
        "{text}"
    );
}

#[tokio::test]
async fn any_handler_value_can_be_routed() {
    let app = Router::new()
        .get("/unit", |_req| async {})
        .get("/bytes", |_req| async { Bytes::from_static(b"\x01") })
        .get("/status", |_req| async { StatusCode::IM_A_TEAPOT })
        .get("/nested", Router::new().get("/nested", named("inner")));
    assert_eq!(get(&app, "/unit").await.0, StatusCode::NO_CONTENT);
    assert_eq!(get(&app, "/bytes").await.1, "\u{1}");
    assert_eq!(get(&app, "/status").await.0, StatusCode::IM_A_TEAPOT);
    assert_eq!(get(&app, "/nested").await.1, "inner");
}

#[test]
#[should_panic(expected = "route conflict: GET `/users/{id}` is already registered")]
fn same_method_twice_panics() {
    let _ = Router::new()
        .get("/users/{id}", named("a"))
        .get("/users/{id}", named("b"));
}

#[test]
#[should_panic(expected = "same shape as `/users/{id}`")]
fn same_shape_other_names_panics() {
    let _ = Router::new()
        .get("/users/{id}", named("a"))
        .post("/users/{name}", named("b"));
}

#[test]
fn malformed_patterns_panic_with_a_message() {
    for (pattern, message) in [
        ("users", "must start with `/`"),
        ("/users/{id", "is malformed"),
        ("/users/id}", "is malformed"),
        ("/users/x{id}", "is malformed"),
        ("/users/{}", "needs a plain name"),
        ("/users/{*}", "needs a plain name"),
        ("/{*rest}/more", "must be the last segment"),
        ("/{id}/{id}", "used twice"),
        ("/a%zz", "bad percent-escape"),
    ] {
        let result = std::panic::catch_unwind(|| Router::new().get(pattern, named("x")));
        let payload = result.expect_err(pattern);
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.contains(message), "{pattern}: {text}");
    }
}

/// An app that answers every error as `!STATUS reason` (a stand-in for
/// JSON), to see which answers go through the renderer.
fn rendered() -> Router {
    Router::new()
        .get("/items", |_req| async { "items" })
        .post("/items", |req: Request| async move {
            match req.form(8).await {
                Ok(form) => (StatusCode::CREATED, format!("{} fields", form.len())).into_response(),
                Err(rejection) => rejection.into_response(),
            }
        })
        .get("/teapot", |_req| async { StatusCode::IM_A_TEAPOT })
        .get("/stout", |_req| async {
            (StatusCode::IM_A_TEAPOT, "short and stout")
        })
        .get("/dir/", |_req| async { "dir" })
        .nest("/files", |_req| async { StatusCode::NOT_FOUND })
        .fallback(|_req| async { StatusCode::GONE })
        .render_errors(|status, reason| {
            crate::response::text(format!("!{} {reason}", status.as_u16()))
        })
}

#[tokio::test]
async fn render_errors_covers_the_routers_answers_and_rejections() {
    let app = rendered();
    assert_eq!(
        get(&app, "/nowhere").await,
        (StatusCode::GONE, "!410 gone".into())
    );
    assert_eq!(
        get(&app, "/files/a").await,
        (StatusCode::NOT_FOUND, "!404 not found".into())
    );
    let res = app.call(request(Method::DELETE, "/items")).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST, OPTIONS");
    let res = app.call(request(Method::GET, "/dir?x=1")).await;
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/dir/?x=1");
    assert_eq!(
        res.into_body().collect(100).await.unwrap(),
        "!308 permanent redirect"
    );
    let (status, body) = get(&app, "/a%zz").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("!400 path is not valid"), "{body}");

    // Rejections from the body readers.
    let post = |body: &'static str, content_type: &'static str| {
        http::Request::post("/items")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    const FORM: &str = "application/x-www-form-urlencoded";
    let res = app.call(post("a=way+too+long", FORM)).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.into_body().collect(100).await.unwrap(),
        "!413 request body is too large"
    );
    let res = app.call(post("ok", "image/png")).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A bare status from a handler, a nest or the fallback is rendered.
    let (status, body) = get(&app, "/teapot").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::IM_A_TEAPOT, "!418 i'm a teapot")
    );

    // Everything else passes unchanged: successes, OPTIONS, and error
    // responses with a body of their own.
    assert_eq!(
        app.call(post("a=1", FORM)).await.status(),
        StatusCode::CREATED
    );
    let (status, body) = send(&app, Method::OPTIONS, "/items").await;
    assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));
    let (status, body) = get(&app, "/stout").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::IM_A_TEAPOT, "short and stout")
    );
}

/// Answers with the path, query and nest prefix it was given.
fn seen() -> impl Handler {
    |req: Request| async move {
        let prefix = req
            .extensions()
            .get::<NestedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        format!("{} {:?} {prefix}", req.uri().path(), req.uri().query())
    }
}

#[tokio::test]
async fn nest_takes_its_prefix_off_the_raw_path() {
    let app = Router::new()
        .get("/static/route", named("route"))
        .nest("/static", seen())
        .nest("/api", Router::new().nest("/v1", seen()));
    let cases = [
        ("/static/a%20b.css?v=1", "/a%20b.css Some(\"v=1\") /static"),
        ("/static", "/ None /static"),
        ("/static/", "/ None /static"),
        // A nest owns its prefix, routes included.
        ("/static/route", "/route None /static"),
        ("/api/v1/x", "/x None /api/v1"),
    ];
    for (uri, want) in cases {
        assert_eq!(
            get(&app, uri).await,
            (StatusCode::OK, want.to_owned()),
            "{uri}"
        );
    }
    // Not under the prefix: a longer segment, or another route.
    assert_eq!(get(&app, "/staticx").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/api/v2").await.0, StatusCode::NOT_FOUND);
}

#[test]
fn bad_nest_prefixes_panic() {
    for prefix in ["static", "/static/", "/", "/{id}"] {
        let result = std::panic::catch_unwind(|| Router::new().nest(prefix, seen()));
        assert!(result.is_err(), "{prefix}");
    }
}
