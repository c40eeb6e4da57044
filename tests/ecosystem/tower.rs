//! tower, both ways, over real sockets.

#[cfg(feature = "axum")]
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use berth::{Handler as _, ServeDir, ServerConfig, Tower};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::support::{self, BIG_LEN, Framing, big_content, get as get_request};

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
    hits: Arc<AtomicU64>,
}

#[derive(Deserialize)]
struct Page {
    limit: u32,
}

#[derive(Deserialize, Serialize)]
struct Item {
    name: String,
}

async fn user(
    Path(id): Path<u32>,
    Query(page): Query<Page>,
    State(state): State<AppState>,
) -> String {
    let hits = state.hits.fetch_add(1, Ordering::Relaxed) + 1;
    format!(
        "{} user {id}, limit {}, hit {hits}",
        state.greeting, page.limit
    )
}

async fn create(Json(item): Json<Item>) -> (StatusCode, Json<Item>) {
    (
        StatusCode::CREATED,
        Json(Item {
            name: item.name.to_uppercase(),
        }),
    )
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "too late"
}

/// An axum app as its authors write it, with the tower-http layers a
/// production app carries.
fn axum_app() -> axum::Router {
    let state = AppState {
        greeting: "hello",
        hits: Arc::default(),
    };
    let router = axum::Router::new()
        .route("/users/{id}", get(user))
        .route("/items", post(create))
        .route("/slow", get(slow))
        .route("/text", get(|| async { "compressible text ".repeat(200) }));
    #[cfg(feature = "axum")]
    let router = router.route(
        "/whoami",
        get(
            |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| async move {
                format!("you are {peer}")
            },
        ),
    );
    router
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_millis(300),
        ))
        .layer(CorsLayer::permissive())
        .layer(TraceLayer::new_for_http())
}

fn serve_axum() -> support::TestServer {
    support::start_with(ServerConfig::default(), Tower::new(axum_app()))
}

#[test]
fn axum_path_query_and_state_extractors() {
    let server = serve_axum();
    let mut client = server.connect();
    for hit in 1..=2 {
        let res = client.request(get_request("/users/42?limit=7"));
        assert_eq!(res.status, 200, "{res:?}");
        assert_eq!(res.body_str(), format!("hello user 42, limit 7, hit {hit}"));
        assert_eq!(res.framing, Framing::Length(res.body.len()));
    }
    // axum's own rejections pass through: a path that is not a number, a
    // query without `limit`.
    assert_eq!(client.request(get_request("/users/x?limit=7")).status, 400);
    assert_eq!(client.request(get_request("/users/1")).status, 400);
    assert_eq!(client.request(get_request("/nowhere")).status, 404);
}

#[test]
fn axum_json_extractor_reads_berths_request_body() {
    let server = serve_axum();
    let mut client = server.connect();
    let body = r#"{"name":"berth"}"#;
    let res = client.request(format!(
        "POST /items HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.body_str(), r#"{"name":"BERTH"}"#);
    // Chunked request bodies reach axum too.
    let res = client.request(
        "POST /items HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n6\r\n{\"name\r\n7\r\n\":\"ok\"}\r\n0\r\n\r\n",
    );
    assert_eq!(res.status, 201, "{res:?}");
    assert_eq!(res.body_str(), r#"{"name":"OK"}"#);
    // axum's rejection of a body that is not JSON.
    let res = client.request(
        "POST /items HTTP/1.1\r\nHost: x\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nhi",
    );
    assert_eq!(res.status, 415, "{res:?}");
}

#[cfg(feature = "axum")]
#[test]
fn axum_connect_info_extractor_sees_the_peer() {
    let server = serve_axum();
    let mut client = server.connect();
    let local = client_addr(&client);
    let res = client.request(get_request("/whoami"));
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body_str(), format!("you are {local}"));
}

#[cfg(feature = "axum")]
fn client_addr(client: &support::Client) -> SocketAddr {
    client.stream.local_addr().unwrap()
}

#[test]
fn tower_http_layers_apply_to_an_axum_app() {
    let server = serve_axum();
    let mut client = server.connect();
    // CORS
    let res = client.request(
        "OPTIONS /users/1 HTTP/1.1\r\nHost: x\r\norigin: https://a.example\r\naccess-control-request-method: GET\r\n\r\n",
    );
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    // Compression: gzip, streamed (its length is unknown), and it decodes.
    let res = client.request("GET /text HTTP/1.1\r\nHost: x\r\naccept-encoding: gzip\r\n\r\n");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(res.framing, Framing::Chunked);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&res.body[..]), &mut text)
        .unwrap();
    assert_eq!(text, "compressible text ".repeat(200));
    // Timeout: the layer answers while the handler still sleeps.
    let (res, took) = support::timed(|| client.request(get_request("/slow")));
    assert_eq!(res.status, 504, "{res:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn axum_app_over_http2() {
    let server = serve_axum();
    let Some(curl) = support::curl() else {
        return;
    };
    let url = format!("http://{}/users/5?limit=1", server.addr);
    let out = support::run_curl(
        curl,
        &["--http2-prior-knowledge", "-w", "\n%{http_version}", &url],
    );
    assert_eq!(out, "hello user 5, limit 1, hit 1\n2");
}

/// berth's `ServeDir` under tower layers that leave the body alone keeps
/// its `Content-Length` and its file body (the bytes arrive intact); under
/// a layer that wraps the body (tracing) the exact size hint still gives
/// `Content-Length`.
#[test]
fn berth_handlers_under_tower_layers_keep_content_length() {
    let plain = ServiceBuilder::new()
        .layer(CorsLayer::permissive())
        .layer(SetResponseHeaderLayer::overriding(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(5),
        ));
    let tmp_root = tempfile::tempdir().unwrap();
    std::fs::write(tmp_root.path().join("big.bin"), big_content()).unwrap();
    let files = plain.service(ServeDir::new(tmp_root.path()).into_service());
    let server = support::start_with(ServerConfig::default(), Tower::new(files));
    let mut client = server.connect();
    let res =
        client.request("GET /big.bin HTTP/1.1\r\nHost: x\r\norigin: https://a.example\r\n\r\n");
    assert_eq!(res.status, 200);
    assert_eq!(res.framing, Framing::Length(BIG_LEN));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    assert!(res.body == big_content(), "big.bin differs");
    // Conditional requests still work through the layers.
    let etag = res.header("etag").unwrap().to_owned();
    let res = client.request(format!(
        "GET /big.bin HTTP/1.1\r\nHost: x\r\nif-none-match: {etag}\r\n\r\n"
    ));
    assert_eq!(res.status, 304);

    let traced = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .service(ServeDir::new(tmp_root.path()).into_service());
    let server = support::start_with(ServerConfig::default(), Tower::new(traced));
    let res = server.connect().request(get_request("/big.bin"));
    assert_eq!(res.framing, Framing::Length(BIG_LEN));
    assert!(res.body == big_content(), "big.bin differs");
}

/// A berth `Router` as a tower service, layered, inside an axum app: the
/// two compose in either order.
#[test]
fn a_berth_router_nested_in_an_axum_app() {
    let berth_routes = berth::Router::new()
        .get("/hello", |_req| async { "hello from berth" })
        .into_service();
    let app = axum::Router::new()
        .route("/axum", get(|| async { "hello from axum" }))
        .fallback_service(berth_routes);
    let server = support::start_with(ServerConfig::default(), Tower::new(app));
    let mut client = server.connect();
    assert_eq!(
        client.request(get_request("/axum")).body_str(),
        "hello from axum"
    );
    let res = client.request(get_request("/hello"));
    assert_eq!(res.body_str(), "hello from berth");
    assert_eq!(res.framing, Framing::Length(16));
    assert_eq!(client.request(get_request("/none")).status, 404);
}

/// An axum handler takes the connection over with berth's upgrade (axum's
/// own `WebSocketUpgrade` looks for hyper's upgrade, which only hyper
/// makes): the request's extensions cross `berth::Tower` intact.
#[test]
fn an_axum_handler_can_take_berths_upgrade() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn upgrade(mut req: axum::extract::Request) -> axum::response::Response {
        let Ok(on_upgrade) = berth::upgrade::on(&mut req) else {
            return (StatusCode::UPGRADE_REQUIRED, "upgrade to shout\n").into_response();
        };
        tokio::spawn(async move {
            let mut io = on_upgrade.await.unwrap();
            let mut buf = [0u8; 5];
            io.read_exact(&mut buf).await.unwrap();
            io.write_all(&buf.to_ascii_uppercase()).await.unwrap();
        });
        axum::response::Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("upgrade", "shout")
            .body(axum::body::Body::empty())
            .unwrap()
    }
    use axum::response::IntoResponse as _;
    let app = axum::Router::new().route("/shout", get(upgrade));
    let server = support::start_with(ServerConfig::default(), Tower::new(app));
    let mut client = server.connect();
    client.send(
        "GET /shout HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: shout\r\n\r\nhello",
    );
    let res = client.read_head_response();
    assert_eq!(res.status, 101, "{res:?}");
    assert_eq!(res.header("connection"), Some("upgrade"));
    assert_eq!(client.read_bytes(5), b"HELLO");
}
