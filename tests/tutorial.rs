//! The tutorial's final server (`examples/tutorial.rs`): its router, from
//! `examples/common/tutorial_app.rs`, driven over real sockets with raw
//! HTTP/1.1 bytes, plus a few calls straight into the router (no socket)
//! where that says more.

#[path = "../examples/common/tutorial_app.rs"]
mod tutorial_app;

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use berth::prelude::*;
use berth::{Body, Router};
use support::{Client, Framing, TestServer};
use tempfile::TempDir;

const HELLO_TXT: &str = "hello from the root\n";
const INDEX_HTML: &str = "<h1>tutorial home</h1>\n";
const STYLE_CSS: &str = "body { color: teal }\n";

/// A server running the tutorial app (or a variant of it) over a fresh
/// temporary root. The root outlives the server.
struct Tutorial {
    server: TestServer,
    _root: TempDir,
}

impl Tutorial {
    fn connect(&self) -> Client {
        self.server.connect()
    }
}

fn root_dir() -> TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let p = root.path();
    std::fs::create_dir(p.join("sub")).unwrap();
    std::fs::write(p.join("hello.txt"), HELLO_TXT).unwrap();
    std::fs::write(p.join("index.html"), INDEX_HTML).unwrap();
    std::fs::write(p.join("style.css"), STYLE_CSS).unwrap();
    std::fs::write(p.join("sub/index.html"), "<h1>sub</h1>\n").unwrap();
    std::fs::write(p.join(".secret"), "do not serve\n").unwrap();
    root
}

/// The tutorial app exactly as the example serves it.
fn start() -> Tutorial {
    start_app(tutorial_app::app)
}

/// The tutorial app as built by `make` (to add test-only routes), with the
/// example's configuration.
fn start_app(make: impl FnOnce(&Path) -> Router) -> Tutorial {
    let root = root_dir();
    let app = make(root.path());
    let server = support::start_with(tutorial_app::config(), app);
    Tutorial {
        server,
        _root: root,
    }
}

fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn get(target: &str) -> Vec<u8> {
    request("GET", target, &[], b"")
}

/// `body` as chunked framing, `size`-byte chunks, each with an extension.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, chunk) in body.chunks(size).enumerate() {
        out.extend(format!("{:x};n={i}\r\n", chunk.len()).into_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Bytes that are not text: every byte value, then a pattern with no short
/// period.
fn binary(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 256) as u8 ^ (i / 7919) as u8)
        .collect()
}

/// A reader that sees a chunked response one chunk at a time.
struct ChunkReader {
    reader: BufReader<TcpStream>,
}

impl ChunkReader {
    fn new(stream: &TcpStream) -> ChunkReader {
        ChunkReader {
            reader: BufReader::new(stream.try_clone().expect("clone stream")),
        }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read a line");
        assert!(line.ends_with("\r\n"), "line without CRLF: {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// The status line and the header lines, lowercased.
    fn head(&mut self) -> (String, Vec<String>) {
        let status = self.line();
        let mut headers = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                return (status, headers);
            }
            headers.push(line.to_ascii_lowercase());
        }
    }

    /// The next chunk's data, `None` at the last chunk (trailers skipped).
    fn chunk(&mut self) -> Option<Vec<u8>> {
        let size_line = self.line();
        let size = size_line.split(';').next().unwrap().trim();
        let size = usize::from_str_radix(size, 16).expect("chunk size");
        if size == 0 {
            while !self.line().is_empty() {}
            return None;
        }
        let mut data = vec![0; size];
        self.reader.read_exact(&mut data).expect("chunk data");
        assert_eq!(self.line(), "", "chunk data not followed by CRLF");
        Some(data)
    }
}

// ---- GET /test ----

#[test]
fn test_page_is_dynamic_html_with_the_headers_escaped() {
    let server = start();
    let mut c = server.connect();
    let probe = r#"<script>alert("x")</script> & 'more'"#;
    let r = c.request(request(
        "GET",
        "/test?a=1&b=%3C",
        &[("X-Probe", probe)],
        b"",
    ));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(matches!(r.framing, Framing::Length(_)), "{r:?}");
    assert!(r.header("date").is_some() && r.header("server") == Some("berth"));
    let body = r.body_str();
    assert!(body.starts_with("<!doctype html>"), "{body}");
    assert!(body.contains("GET /test?a=1&amp;b=%3C"), "{body}");
    assert!(body.contains("<th>x-probe</th>"), "{body}");
    assert!(
        body.contains(
            "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;more&#39;</td>"
        ),
        "{body}"
    );
    assert!(!body.contains("<script>"), "unescaped header: {body}");
    // The time is in the page: an IMF-fixdate ending in GMT.
    assert!(body.contains(" GMT</p>"), "{body}");
}

// ---- GET /search ----

#[test]
fn search_answers_every_parameter_as_a_list_of_values() {
    let server = start();
    let mut c = server.connect();
    for (target, json) in [
        (
            "/search?q=pizza&sort=price",
            r#"{"q":["pizza"],"sort":["price"]}"#,
        ),
        (
            "/search?sort=price&q=pizza",
            r#"{"sort":["price"],"q":["pizza"]}"#,
        ),
        (
            "/search?filter=red&q=x&filter=blue",
            r#"{"filter":["red","blue"],"q":["x"]}"#,
        ),
        (
            "/search?q=big+pizza%21&e=&bare",
            r#"{"q":["big pizza!"],"e":[""],"bare":[""]}"#,
        ),
        ("/search?q=a%26b%3Dc", r#"{"q":["a&b=c"]}"#),
        ("/search?q=%22hi%22%5C", r#"{"q":["\"hi\"\\"]}"#),
        ("/search?q=caf%C3%A9", r#"{"q":["café"]}"#),
        ("/search", "{}"),
        ("/search?", "{}"),
    ] {
        let r = c.request(get(target));
        assert_eq!(r.status, 200, "{target}: {r:?}");
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{target}"
        );
        assert_eq!(r.body_str(), json, "{target}");
    }
}

#[test]
fn search_with_a_malformed_query_is_400_and_the_connection_lives_on() {
    let server = start();
    let mut c = server.connect();
    for target in [
        "/search?q=%zz",
        "/search?q=%FF",
        "/search?q=%2",
        "/search?q=%C3",
        "/search?%=x",
    ] {
        let r = c.request(get(target));
        assert_eq!(r.status, 400, "{target}: {r:?}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert!(r.body_str().contains("query"), "{target}: {}", r.body_str());
        assert!(!r.says_close(), "an app-level 400 keeps the connection");
    }
    let r = c.request(get("/search?q=ok"));
    assert_eq!((r.status, r.body_str()), (200, r#"{"q":["ok"]}"#));
}

// ---- POST /echo ----

#[test]
fn echo_returns_a_content_length_body_and_its_content_type() {
    let server = start();
    let mut c = server.connect();
    let body = binary(1000);
    let ct = "application/x-thing; version=2";
    let r = c.request(request("POST", "/echo", &[("Content-Type", ct)], &body));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some(ct));
    assert_eq!(r.framing, Framing::Length(1000));
    assert!(r.body == body, "echoed body differs");

    // No Content-Type: the bytes come back as octets.
    let r = c.request(request("POST", "/echo", &[], b"plain"));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body_str(), "plain");

    // An empty body (Content-Length: 0) is echoed as empty.
    let r = c.request(request(
        "POST",
        "/echo",
        &[("Content-Length", "0"), ("Content-Type", "text/plain")],
        b"",
    ));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.framing, Framing::Length(0));
}

#[test]
fn echo_reads_a_chunked_body_with_extensions_and_trailers() {
    let server = start();
    let mut c = server.connect();
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n\
         5;name=value\r\nhello\r\n\
         1;a;b=\"quoted; still\"\r\n,\r\n\
         6\r\n world\r\n\
         0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), "hello, world");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(!r.says_close());
    // The whole chunked message was consumed: the next request is answered.
    let r = c.request(get("/users/7"));
    assert_eq!((r.status, r.body_str()), (200, "user 7"));
}

#[test]
fn echo_one_mebibyte_with_content_length_and_chunked() {
    let server = start();
    let body = binary(1024 * 1024);
    let mut c = server.connect();
    let r = c.request(request("POST", "/echo", &[], &body));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.framing, Framing::Length(body.len()));
    assert!(r.body == body, "1 MiB Content-Length body differs");

    let mut head = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    head.extend(chunked(&body, 65_000));
    let r = c.request(head);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body == body, "1 MiB chunked body differs");
}

#[test]
fn echo_with_expect_100_continue_sees_continue_first() {
    let server = start();
    let mut c = server.connect();
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\
         Expect: 100-continue\r\nContent-Length: 11\r\n\r\n",
    );
    let interim = c.read_response();
    assert_eq!(interim.status, 100, "{interim:?}");
    assert_eq!(interim.version, "HTTP/1.1");
    c.send("hello there");
    let r = c.read_response();
    assert_eq!((r.status, r.body_str()), (200, "hello there"), "{r:?}");

    // Chunked, too.
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
    );
    assert_eq!(c.read_response().status, 100);
    c.send(chunked(b"chunked after continue", 5));
    let r = c.read_response();
    assert_eq!((r.status, r.body_str()), (200, "chunked after continue"));
}

#[test]
fn echo_over_the_limit_is_413() {
    let server = start();
    // Declared too large: refused before the body is read (or the handler
    // runs), then the connection closes.
    let mut c = server.connect();
    let too_big = (tutorial_app::ECHO_LIMIT + 1).to_string();
    c.send(request(
        "POST",
        "/echo",
        &[("Content-Length", &too_big), ("Expect", "100-continue")],
        b"",
    ));
    let r = c.read_response();
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.body_str(), "request body is too large\n");
    assert!(c.is_closed());

    // Exactly at the limit is fine.
    let body = binary(tutorial_app::ECHO_LIMIT);
    let mut c = server.connect();
    let r = c.request(request("POST", "/echo", &[], &body));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body.len(), body.len());
    assert!(r.body == body);
}

#[test]
fn echo_chunked_over_the_limit_is_413() {
    let server = start();
    let mut c = server.connect();
    let mut writer = c.stream.try_clone().unwrap();
    // 17 chunks of 1 MiB: over the 16 MiB limit only once most is sent, so
    // the write runs beside the read of the answer.
    let sender = std::thread::spawn(move || {
        let head = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        writer.write_all(head.as_bytes())?;
        let chunk = vec![b'z'; 1024 * 1024];
        for _ in 0..17 {
            writer.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
            writer.write_all(&chunk)?;
            writer.write_all(b"\r\n")?;
        }
        writer.write_all(b"0\r\n\r\n")
    });
    let r = c.read_response();
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.says_close(), "{r:?}");
    assert!(r.body_str().contains("too large"), "{}", r.body_str());
    // The writer either finished (the server read and dropped the rest) or
    // saw the connection close; both are fine.
    let _ = sender.join().unwrap();
}

// ---- /users/{id} ----

#[test]
fn users_route_answers_get_and_405_for_delete() {
    let server = start();
    let mut c = server.connect();
    let r = c.request(get("/users/42"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.body_str(), "user 42");

    let r = c.request(get("/users/J%C3%BCrgen%20K"));
    assert_eq!(r.body_str(), "user Jürgen K");

    for method in ["DELETE", "PUT", "POST"] {
        let r = c.request(request(method, "/users/42", &[], b""));
        assert_eq!(r.status, 405, "{method}: {r:?}");
        let allow = r.header("allow").expect("405 without Allow");
        let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
        assert!(methods.contains(&"GET"), "{allow}");
        assert!(!methods.contains(&method), "{allow}");
    }

    // HEAD is answered by the GET route, without a body.
    c.send(request("HEAD", "/users/42", &[], b""));
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("7"));

    // Bad percent-encoding in the path is 400, not a route miss.
    let r = c.request(get("/users/%FF"));
    assert_eq!(r.status, 400, "{r:?}");
    // The trailing-slash form redirects to the route.
    let r = c.request(get("/users/42/"));
    assert_eq!(r.status, 308, "{r:?}");
    assert_eq!(r.header("location"), Some("/users/42"));
}

// ---- GET /stream ----

#[test]
fn stream_sends_one_chunk_per_line() {
    let server = start();
    let mut c = server.connect();
    c.send(get("/stream?n=5"));
    let mut reader = ChunkReader::new(&c.stream);
    let (status, headers) = reader.head();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains(&"transfer-encoding: chunked".to_string()),
        "{headers:?}"
    );
    assert!(
        headers.contains(&"content-type: text/plain; charset=utf-8".to_string()),
        "{headers:?}"
    );
    assert!(
        !headers.iter().any(|h| h.starts_with("content-length")),
        "{headers:?}"
    );
    let mut chunks = Vec::new();
    while let Some(chunk) = reader.chunk() {
        chunks.push(String::from_utf8(chunk).unwrap());
    }
    assert_eq!(
        chunks,
        ["line 1\n", "line 2\n", "line 3\n", "line 4\n", "line 5\n"]
    );
    // The connection is kept for the next request.
    drop(reader);
    let r = c.request(get("/stream?n=2"));
    assert_eq!(r.framing, Framing::Chunked);
    assert_eq!(r.body_str(), "line 1\nline 2\n");
}

#[test]
fn stream_edges_zero_the_maximum_http10_and_head() {
    let server = start();
    let mut c = server.connect();
    let r = c.request(get("/stream?n=0"));
    assert_eq!((r.status, r.framing), (200, Framing::Chunked), "{r:?}");
    assert!(r.body.is_empty());

    let max = tutorial_app::MAX_LINES;
    let r = c.request(get(&format!("/stream?n={max}")));
    assert_eq!(r.status, 200);
    let expected: String = (1..=max).map(|i| format!("line {i}\n")).collect();
    assert!(r.body_str() == expected, "the {max}-line body differs");

    c.send(request("HEAD", "/stream?n=3", &[], b""));
    let r = c.read_head_response();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(c.request(get("/users/1")).body_str(), "user 1");

    // HTTP/1.0 has no chunked coding: the body ends with the connection.
    let mut old = server.connect();
    let r = old.request("GET /stream?n=3 HTTP/1.0\r\n\r\n");
    assert_eq!((r.status, r.framing), (200, Framing::Close), "{r:?}");
    assert_eq!(r.body_str(), "line 1\nline 2\nline 3\n");
}

#[test]
fn stream_with_a_bad_n_is_400() {
    let server = start();
    let mut c = server.connect();
    for target in [
        "/stream?n=abc",
        "/stream?n=-1",
        "/stream?n=1.5",
        "/stream?n=",
        "/stream",
        "/stream?n=10001",
        "/stream?n=99999999999999999999",
        "/stream?n=%zz",
    ] {
        let r = c.request(get(target));
        assert_eq!(r.status, 400, "{target}: {r:?}");
        assert!(!r.body.is_empty(), "{target}: a 400 says why");
    }
}

#[test]
fn streamed_chunks_leave_before_the_response_ends() {
    // A route whose second line waits until the client has read the first:
    // if chunks were held back until the end, this would time out.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let opener = gate.clone();
    let server = start_app(move |root| {
        tutorial_app::app(root).get("/gated", move |_req: Request| {
            let gate = gate.clone();
            async move {
                let (tx, body) = Body::channel(1);
                tokio::spawn(async move {
                    let _ = tx.send("first\n").await;
                    if let Ok(permit) = gate.acquire().await {
                        permit.forget();
                        let _ = tx.send("second\n").await;
                    }
                });
                Response::new(body)
            }
        })
    });
    let mut c = server.connect();
    c.send(get("/gated"));
    let mut reader = ChunkReader::new(&c.stream);
    let (status, _) = reader.head();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(reader.chunk().as_deref(), Some(&b"first\n"[..]));
    opener.add_permits(1);
    assert_eq!(reader.chunk().as_deref(), Some(&b"second\n"[..]));
    assert_eq!(reader.chunk(), None);
}

// ---- files and failures ----

#[test]
fn everything_else_comes_from_the_root() {
    let server = start();
    let mut c = server.connect();
    let r = c.request(get("/hello.txt"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.body_str(), HELLO_TXT);

    let r = c.request(get("/style.css?v=3"));
    assert_eq!(r.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(r.body_str(), STYLE_CSS);

    let r = c.request(get("/"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.body_str(), INDEX_HTML);

    let r = c.request(get("/sub"));
    assert_eq!(r.status, 301, "{r:?}");
    assert_eq!(r.header("location"), Some("/sub/"));

    for (target, status) in [
        ("/missing.txt", 404),
        ("/.secret", 404),
        ("/users", 404),
        ("/%2e%2e/etc/passwd", 400),
    ] {
        let r = c.request(get(target));
        assert_eq!(r.status, status, "{target}: {r:?}");
    }

    // A file is GET/HEAD only.
    let r = c.request(request("POST", "/hello.txt", &[], b"x"));
    assert_eq!(r.status, 405, "{r:?}");
}

#[test]
fn a_panicking_route_is_500_and_the_server_keeps_answering() {
    let server = start_app(|root| {
        async fn panics(_req: Request) -> &'static str {
            panic!("the handler fell over")
        }
        tutorial_app::app(root).get("/panic", panics)
    });
    let mut other = server.connect();
    assert_eq!(other.request(get("/users/1")).status, 200);

    let mut c = server.connect();
    let r = c.request(get("/panic"));
    r.assert_error(500);
    assert!(c.is_closed());

    // The open connection and a new one are both still served.
    assert_eq!(other.request(get("/users/2")).body_str(), "user 2");
    let mut fresh = server.connect();
    assert_eq!(fresh.request(get("/users/3")).body_str(), "user 3");
    let r = fresh.request(get("/search?q=still+up"));
    assert_eq!(r.body_str(), r#"{"q":["still up"]}"#);
}

// ---- the router called directly, no socket ----

fn built(method: Method, uri: &str, content_type: Option<&str>, body: Body) -> Request {
    let mut builder = berth::http::Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(body).unwrap()
}

async fn call(app: &Router, req: Request) -> (StatusCode, Option<String>, Vec<u8>) {
    let res = app.call(req).await;
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.into_body().collect(usize::MAX).await.unwrap();
    (status, ct, body.to_vec())
}

#[tokio::test]
async fn router_answers_the_tutorial_routes_without_a_socket() {
    let root = root_dir();
    let app = tutorial_app::app(root.path());
    let empty = || Body::empty();

    let (status, ct, body) = call(
        &app,
        built(Method::GET, "/search?q=pizza&sort=price", None, empty()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/json"));
    assert_eq!(body, br#"{"q":["pizza"],"sort":["price"]}"#);

    let (status, ct, body) = call(&app, built(Method::GET, "/users/ada", None, empty())).await;
    assert_eq!(
        (status, ct.as_deref(), &body[..]),
        (
            StatusCode::OK,
            Some("text/plain; charset=utf-8"),
            &b"user ada"[..]
        )
    );

    let res = app
        .call(built(Method::DELETE, "/users/ada", None, empty()))
        .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "GET, HEAD, OPTIONS");

    let req = built(
        Method::POST,
        "/echo",
        Some("image/png"),
        Body::from(vec![0u8, 159, 146, 150]),
    );
    let (status, ct, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("image/png"));
    assert_eq!(body, [0u8, 159, 146, 150]);

    let (status, _, body) = call(&app, built(Method::GET, "/stream?n=3", None, empty())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"line 1\nline 2\nline 3\n");

    let (status, _, _) = call(&app, built(Method::GET, "/stream?n=x", None, empty())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, body) = call(&app, built(Method::GET, "/hello.txt", None, empty())).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, HELLO_TXT.as_bytes()));
}

#[tokio::test]
async fn echo_over_the_limit_is_413_without_a_socket() {
    let root = root_dir();
    let app = tutorial_app::app(root.path());
    let body = Body::from(vec![b'a'; tutorial_app::ECHO_LIMIT + 1]);
    let (status, ct, text) = call(&app, built(Method::POST, "/echo", None, body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(ct.as_deref(), Some("text/plain; charset=utf-8"));
    assert!(String::from_utf8(text).unwrap().contains("too large"));
}

#[test]
fn escape_html_replaces_the_five_specials() {
    assert_eq!(
        tutorial_app::escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
    );
    assert_eq!(tutorial_app::escape_html("plain café"), "plain café");
}
