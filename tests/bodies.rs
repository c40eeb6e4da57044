//! Request bodies (Content-Length, chunked, 100-continue, limits, draining)
//! and response bodies (streams), over real sockets.

mod support;

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use berth::{Body, Request, Response, ServerConfig};
use bytes::Bytes;
use support::{Framing, TestServer, echo, get, start, start_with};

/// Yields its pieces one by one (a `Body::stream` of known chunks).
struct Pieces(VecDeque<&'static str>);

impl futures_core::Stream for Pieces {
    type Item = Result<Bytes, berth::body::BoxError>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(
            self.0
                .pop_front()
                .map(|s| Ok(Bytes::from_static(s.as_bytes()))),
        )
    }
}

const STREAMED: [&str; 3] = ["hello ", "streaming ", "world"];

async fn app(req: Request) -> Response {
    match req.uri().path() {
        "/echo" => echo(req).await,
        "/ignore" => berth::response::text("ignored"),
        "/panic" => panic!("handler panics on purpose"),
        "/stream" => Response::new(Body::stream(Pieces(STREAMED.into()))),
        "/pipe" => Response::new(req.into_body()),
        "/pieces" => {
            // The size of each piece the handler is given, one per line.
            let mut body = req.into_body();
            let mut sizes = String::new();
            while let Some(Ok(piece)) = body.next_chunk().await {
                sizes.push_str(&format!("{}\n", piece.len()));
            }
            berth::response::text(sizes)
        }
        _ => berth::response::status(http::StatusCode::NOT_FOUND),
    }
}

fn serve(config: ServerConfig) -> TestServer {
    start_with(config, app)
}

#[test]
fn content_length_body_echoed_then_second_request() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    let r = c.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "hello world");
    assert_eq!(r.header("x-method"), Some("POST"));
    let r = c.request("PUT /echo?n=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(r.body_str(), "abc");
    assert_eq!(r.header("x-target"), Some("/echo?n=2"));
}

#[test]
fn chunked_body_with_extensions_and_trailers_echoed_then_second_request() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         5;name=value\r\nhello\r\n\
         6;a=b;c=\"d e\"\r\n world\r\n\
         0\r\nX-Trailer: t\r\nX-Other: 2\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "hello world");
    let r = c.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "ok");
}

#[test]
fn ignored_content_length_body_is_drained_and_next_request_answered() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    let body = "z".repeat(10_000);
    let mut bytes =
        format!("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n{body}")
            .into_bytes();
    bytes.extend(get("/echo"));
    c.send(bytes);
    let r = c.read_response();
    assert_eq!(r.body_str(), "ignored");
    assert!(!r.says_close(), "{r:?}");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-method"), Some("GET"));
}

#[test]
fn ignored_chunked_body_is_drained_and_next_request_answered() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    let mut bytes =
        b"POST /ignore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            .to_vec();
    bytes.extend(get("/echo?second"));
    c.send(bytes);
    assert_eq!(c.read_response().body_str(), "ignored");
    let r = c.read_response();
    assert_eq!(r.header("x-target"), Some("/echo?second"));
}

#[test]
fn bad_chunk_already_received_in_an_ignored_body_is_answered_400() {
    // The framing error is in the read buffer before the response goes out:
    // the handler's answer is replaced by 400 (as nginx, lighttpd and h2o
    // answer), and the connection closes (the next message boundary is
    // unknown).
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    let mut bytes =
        b"POST /ignore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec();
    bytes.extend(get("/echo"));
    c.send(bytes);
    let r = c.read_response();
    r.assert_error(400);
    assert!(r.says_close());
    let rest = c.read_to_close();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

#[test]
fn get_with_a_malformed_chunked_body_is_answered_400_not_200() {
    // A blank line where the first chunk size belongs.
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    c.send("GET /ignore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n");
    let r = c.read_response();
    r.assert_error(400);
    assert!(r.says_close());
    assert!(c.is_closed_within(std::time::Duration::from_secs(5)));
}

#[test]
fn bad_chunk_arriving_after_the_response_closes_the_connection() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(c.read_response().body_str(), "ignored");
    let mut bytes = b"zz\r\n".to_vec();
    bytes.extend(get("/echo"));
    c.send(bytes);
    let rest = c.read_to_close();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

#[test]
fn expect_100_continue_sent_before_final_response_when_handler_reads() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    let interim = c.read_response();
    assert_eq!(interim.status, 100, "{interim:?}");
    assert_eq!(interim.reason, "Continue");
    c.send("hello");
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "hello");
    assert!(!r.says_close());
    // The connection is still in sync.
    let r = c.request(get("/echo"));
    assert_eq!(r.status, 200);
}

#[test]
fn expect_100_continue_is_never_sent_to_http10() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    c.send("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello");
    let r = c.read_response();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), "hello");
}

#[test]
fn large_body_is_echoed_intact() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    let body = support::big_content();
    c.send(format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    c.send(&body);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert!(r.body == body, "echoed body differs");
    assert_eq!(c.request(get("/echo")).status, 200);
}

#[test]
fn ignored_body_over_the_drain_budget_closes_after_the_response() {
    let config = ServerConfig {
        drain_budget: 1024,
        ..ServerConfig::default()
    };
    let server = serve(config);
    let mut c = server.connect();
    let body = "z".repeat(8 * 1024);
    let mut bytes =
        format!("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 8192\r\n\r\n{body}")
            .into_bytes();
    bytes.extend(get("/echo"));
    c.send(bytes);
    assert_eq!(c.read_response().body_str(), "ignored");
    let rest = c.read_to_close();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

#[test]
fn expect_100_not_sent_when_handler_does_not_read_and_connection_closes() {
    let server = start(); // ServeDir: POST is 405 without reading the body
    let mut c = server.connect();
    c.send(
        "POST /hello.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 405, "{r:?}");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert!(r.says_close(), "{r:?}");
    assert!(c.is_closed());
}

#[test]
fn content_length_above_max_body_bytes_is_413_and_closes() {
    let config = ServerConfig {
        max_body_bytes: 16,
        ..ServerConfig::default()
    };
    let server = serve(config);
    let mut c = server.connect();
    let r =
        c.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n01234567890123456");
    r.assert_error(413);
    assert!(c.is_closed());
    // At the limit is fine.
    let mut c = server.connect();
    let r =
        c.request("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n0123456789012345");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "0123456789012345");
}

#[test]
fn chunked_body_above_max_body_bytes_fails_the_read_and_closes() {
    let config = ServerConfig {
        max_body_bytes: 16,
        ..ServerConfig::default()
    };
    let server = serve(config);
    let mut c = server.connect();
    c.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         10\r\n0123456789abcdef\r\n1\r\nX\r\n0\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.says_close(), "{r:?}");
    assert!(c.is_closed());
}

#[test]
fn handler_panic_is_500_and_closes_only_that_connection() {
    let server = serve(ServerConfig::default());
    let mut other = server.connect();
    assert_eq!(other.request(get("/echo")).status, 200);

    let mut c = server.connect();
    let mut bytes = get("/panic");
    bytes.extend(get("/echo"));
    c.send(bytes);
    c.read_response().assert_error(500);
    assert!(c.read_to_close().is_empty());

    assert_eq!(other.request(get("/echo")).status, 200);
    let mut fresh = server.connect();
    assert_eq!(fresh.request(get("/echo")).status, 200);
}

#[test]
fn streaming_body_is_chunked_to_http11() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    let r = c.request(get("/stream"));
    assert_eq!(r.status, 200);
    assert_eq!(r.framing, Framing::Chunked);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.body_str(), STREAMED.concat());
    assert!(!r.says_close());
    assert_eq!(c.request(get("/stream")).body_str(), STREAMED.concat());
}

#[test]
fn streaming_body_is_close_delimited_to_http10() {
    let server = serve(ServerConfig::default());
    let mut c = server.connect();
    let r = c.request("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.framing, Framing::Close);
    assert_eq!(r.header("transfer-encoding"), None);
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.body_str(), STREAMED.concat());
}

/// A handler that answers with its own request body unread (an echo by
/// piping): the driver must keep feeding the body while it writes it.
#[test]
fn request_body_returned_as_response_body_is_streamed_back() {
    let server = serve(ServerConfig::default());
    let mut client = server.connect();
    client.send("POST /pipe HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    let res = client.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "hello");
    client.send("POST /pipe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
    let res = client.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "abcdefg");
    client.send("GET /ignore HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(client.read_response().body_str(), "ignored");
}

/// A body that arrives faster than the handler reads it reaches the
/// handler in pieces larger than one 8 KiB socket read.
#[test]
fn a_fast_upload_reaches_the_handler_in_large_pieces() {
    let server = serve(ServerConfig::default());
    let mut client = server.connect();
    let body = vec![b'x'; 1 << 20];
    let mut request = format!(
        "POST /pieces HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let res = client.request(request);
    assert_eq!(res.status, 200);
    let sizes: Vec<usize> = res.body_str().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 1 << 20);
    let largest = sizes.iter().max().copied().unwrap_or(0);
    assert!(largest > 8 * 1024, "largest piece {largest}: {sizes:?}");
    assert!(sizes.len() < 64, "{} pieces for 1 MiB", sizes.len());
}

/// The body, or the rejection its read ended in.
async fn read_all(req: Request) -> Result<Bytes, berth::Rejection> {
    use berth::RequestExt;
    req.bytes(usize::MAX).await
}

/// A router whose `/small` route allows 8 bytes and `/large` 64, under a
/// server limit of 16; errors rendered as JSON.
fn route_limits() -> TestServer {
    let config = ServerConfig {
        max_body_bytes: 16,
        ..ServerConfig::default()
    };
    let app = berth::Router::new()
        .post("/small", berth::body_limit(8, read_all))
        .post("/large", berth::body_limit(64, read_all))
        .post("/default", read_all)
        .render_errors(|status, reason| {
            let json = format!("{{\"error\":{reason:?}}}");
            let mut res = Response::new(Body::from(json));
            *res.status_mut() = status;
            res.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            res
        });
    start_with(config, app)
}

#[test]
fn a_route_limit_lowers_the_server_limit_and_its_413_is_rendered_and_closes() {
    let server = route_limits();
    let mut c = server.connect();
    // Declared over the route's limit (but under the server's): refused
    // before the handler, without reading, and the connection closes.
    let r = c.request("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n123456789");
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body_str(), r#"{"error":"request body is too large"}"#);
    assert!(r.says_close(), "{r:?}");
    assert!(c.is_closed());
    // Chunked past it: the read fails, also rendered.
    let mut c = server.connect();
    c.send(
        "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
         5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(c.is_closed());
    // At the limit is fine, and keeps the connection.
    let mut c = server.connect();
    let r = c.request("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n12345678");
    assert_eq!(r.body_str(), "12345678");
    let r = c.request("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx");
    assert_eq!(r.body_str(), "x");
}

#[test]
fn a_route_limit_raises_the_server_limit() {
    let server = route_limits();
    let mut c = server.connect();
    let body = "x".repeat(64);
    let r = c.request(format!(
        "POST /large HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n{body}"
    ));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), body);
    // Routes without their own limit keep the server's.
    let r = c.request(format!(
        "POST /default HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n{}",
        &body[..17]
    ));
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
}

#[test]
fn a_refused_body_gets_no_100_continue() {
    let server = route_limits();
    let mut c = server.connect();
    c.send(
        "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
    );
    let r = c.read_response();
    assert_eq!(r.status, 413, "{r:?}");
    assert!(c.is_closed());
}
