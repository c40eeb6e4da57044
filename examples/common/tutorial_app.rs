//! The tutorial's final server as a berth [`Router`]: shared by
//! `examples/tutorial.rs` (which serves it) and `tests/tutorial.rs` (which
//! drives it over real sockets). It lives in a subdirectory without a
//! `main.rs`, so Cargo does not build it as an example of its own.
//!
//! | Request | Answer |
//! |---|---|
//! | `GET /test` | `200 text/html`: the time and the request's headers |
//! | `GET /search?q=pizza&sort=price` | `200 application/json`: `{"q":["pizza"],"sort":["price"]}` |
//! | `POST /echo` | `200`: the body byte for byte, with the request's `Content-Type` |
//! | `GET /users/{id}` | `200 text/plain`: `user {id}` (other methods: `405` with `Allow`) |
//! | `GET /stream?n=N` | `200 text/plain`, chunked: `line 1\n` … `line N\n`, a chunk each |
//! | anything else | the file from the root directory ([`ServeDir`]) |

use std::fmt::Write;
use std::path::Path;
use std::time::SystemTime;

use berth::http::header;
use berth::prelude::*;
use berth::{QueryMap, ServerConfig};

/// The largest body `POST /echo` takes; larger is `413`.
pub const ECHO_LIMIT: usize = 16 * 1024 * 1024;

/// The most lines `GET /stream` produces.
pub const MAX_LINES: u32 = 10_000;

/// The tutorial's routes, with the files under `root` as the fallback.
pub fn app(root: &Path) -> Router {
    Router::new()
        .get("/test", test_page)
        .get("/search", search)
        .post("/echo", echo)
        .get("/users/{id}", user)
        .get("/stream", stream)
        .fallback(ServeDir::new(root))
}

/// The server configuration the app needs: the driver's body limit raised
/// to [`ECHO_LIMIT`] (a larger declared `Content-Length` is refused with
/// `413` before any handler runs).
pub fn config() -> ServerConfig {
    ServerConfig {
        max_body_bytes: ECHO_LIMIT as u64,
        ..ServerConfig::default()
    }
}

/// `GET /test`: a dynamic page showing the time and the request's headers.
async fn test_page(req: Request) -> Response {
    let now = httpdate::fmt_http_date(SystemTime::now());
    let mut rows = String::new();
    for (name, value) in req.headers() {
        let value = String::from_utf8_lossy(value.as_bytes());
        let _ = writeln!(
            rows,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape_html(name.as_str()),
            escape_html(&value)
        );
    }
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    Response::html(format!(
        "<!doctype html>\n<title>berth test page</title>\n<h1>It works</h1>\n\
         <p>{} {} at {now}</p>\n<table>\n{rows}</table>\n",
        escape_html(req.method().as_str()),
        escape_html(target),
    ))
}

/// `GET /search`: every query parameter as a list of its values, in the
/// order the names first appear. A bad `%` escape or invalid UTF-8 is 400.
async fn search(req: Request) -> Result<Response, Rejection> {
    let query: QueryMap = req.try_query()?;
    Ok(Response::json(&query))
}

/// `POST /echo`: the body back, byte for byte, with the request's
/// `Content-Type` (or `application/octet-stream` when it had none).
async fn echo(req: Request) -> Result<Response, Rejection> {
    let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
    let body = req.bytes(ECHO_LIMIT).await?;
    let res = Response::bytes(body);
    Ok(match content_type {
        Some(value) => res.with_header(header::CONTENT_TYPE, value),
        None => res,
    })
}

/// `GET /users/{id}`.
async fn user(req: Request) -> Response {
    Response::text(format!("user {}", req.param("id").unwrap_or("")))
}

/// `GET /stream?n=N`: `N` lines, each its own chunk, flushed as produced.
async fn stream(req: Request) -> Result<Response, Rejection> {
    let query = req.try_query()?;
    let n = match query.get("n").map(str::parse::<u32>) {
        Some(Ok(n)) if n <= MAX_LINES => n,
        _ => {
            let reason = format!("expected ?n=N with N a whole number from 0 to {MAX_LINES}\n");
            return Ok((StatusCode::BAD_REQUEST, reason).into_response());
        }
    };
    let (tx, body) = Body::channel(1);
    tokio::spawn(async move {
        for i in 1..=n {
            if tx.send(format!("line {i}\n")).await.is_err() {
                return; // the client went away
            }
        }
    });
    Ok(Response::new(body).with_header(header::CONTENT_TYPE, "text/plain; charset=utf-8"))
}

/// `text` with the five characters that matter in HTML text and attribute
/// values replaced by entities.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
