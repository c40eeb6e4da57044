//! Request bodies over HTTP/2: streamed to the handler, the body limit,
//! bodies the handler ignores, `Expect`, cookie crumbs; the request head
//! limits, 405, and the idle timeout, as over HTTP/1.1.

use super::*;

/// `n` bytes of a known pattern in 16 KiB chunks.
fn upload(n: usize) -> (Vec<u8>, Vec<Bytes>) {
    let data: Vec<u8> = (0..n).map(|i| (i % 253) as u8 ^ (i >> 13) as u8).collect();
    let chunks = data.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    (data, chunks)
}

#[tokio::test]
async fn a_3_mib_upload_in_many_data_frames_reaches_the_handler_intact() {
    // Three times the stream and connection windows (1 MiB): it arrives
    // only if the server gives capacity back as the handler reads.
    let (data, chunks) = upload(3 * 1024 * 1024);
    for via in BOTH {
        let site = Site::start(via, big_limits(), app);
        let mut c = site.connect().await;
        let (r, sent) = c.post_streamed("/echo", &[], chunks.clone()).await;
        sent.expect("request body not sent whole");
        let r = r.expect("POST /echo");
        assert_eq!(r.status, 200, "{via:?}");
        assert_eq!(r.header("x-method"), Some("POST"));
        assert!(
            r.body == data,
            "{via:?}: echo differs ({} bytes)",
            r.body.len()
        );
        // With a declared length too.
        let len = data.len().to_string();
        let (r, sent) = c
            .post_streamed("/echo", &[("content-length", &len)], chunks.clone())
            .await;
        sent.unwrap();
        assert!(r.unwrap().body == data);
    }
}

/// A handler that counts its calls and reports the body error it saw.
#[derive(Clone, Default)]
struct Probe {
    calls: Arc<AtomicUsize>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Probe {
    fn handler(&self) -> impl Handler + use<> {
        let probe = self.clone();
        move |req: Request| {
            let probe = probe.clone();
            async move {
                probe.calls.fetch_add(1, Ordering::SeqCst);
                match req.into_body().collect(64 * 1024 * 1024).await {
                    Ok(body) => berth::response::text(format!("{} bytes\n", body.len())),
                    Err(e) => {
                        let kind = if e.is_too_large() {
                            "too large"
                        } else {
                            "other"
                        };
                        probe.errors.lock().unwrap().push(kind.to_string());
                        berth::response::status(StatusCode::PAYLOAD_TOO_LARGE)
                    }
                }
            }
        }
    }
}

fn small_limit() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 64 * 1024,
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_fails_the_first_read_before_any_data() {
    let probe = Probe::default();
    let site = Site::start(Via::H2c, small_limit(), |_: &Path| probe.handler());
    let mut c = site.connect().await;
    // The head alone, announcing too much: the handler's first read fails
    // at once, with no DATA sent.
    let head = c.head_of(Method::POST, "/upload", &[("content-length", "1000000")]);
    let (response, _body) = c.open(head, false).await.unwrap();
    let r = read_response(response).await.expect("a 413 response");
    assert_eq!(r.status, 413);
    assert_eq!(*probe.errors.lock().unwrap(), ["too large"]);
    // Within the limit, on the same connection: the handler reads it.
    let (r, _) = c
        .post_streamed("/upload", &[], vec![Bytes::from(vec![b'x'; 1000])])
        .await;
    assert_eq!(r.unwrap().body_str(), "1000 bytes\n");
    assert_eq!(probe.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_route_limit_refuses_a_declared_length_without_the_handler_and_can_raise_the_limit() {
    let probe = Probe::default();
    let site = Site::start(Via::H2c, small_limit(), |_: &Path| {
        Router::new()
            .post("/small", berth::body_limit(1000, probe.handler()))
            .post("/large", berth::body_limit(1 << 20, probe.handler()))
    });
    let mut c = site.connect().await;
    let head = c.head_of(Method::POST, "/small", &[("content-length", "1001")]);
    let (response, _body) = c.open(head, false).await.unwrap();
    let r = read_response(response).await.expect("a 413 response");
    assert_eq!(r.status, 413);
    assert_eq!(probe.calls.load(Ordering::SeqCst), 0, "handler was called");
    // Streamed past the route's limit: the read fails.
    let (r, _) = c
        .post_streamed("/small", &[], vec![Bytes::from(vec![b'x'; 1001])])
        .await;
    assert_eq!(r.unwrap().status, 413);
    assert_eq!(*probe.errors.lock().unwrap(), ["too large"]);
    // Four times the server's limit, on a route that allows it.
    let (r, _) = c
        .post_streamed("/large", &[], vec![Bytes::from(vec![b'x'; 256 * 1024])])
        .await;
    assert_eq!(r.unwrap().body_str(), "262144 bytes\n");
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_gives_the_handler_a_too_large_error() {
    let probe = Probe::default();
    let site = Site::start(Via::H2c, small_limit(), |_: &Path| probe.handler());
    let mut c = site.connect().await;
    let (_, chunks) = upload(256 * 1024);
    // No content-length: the limit is found while the handler reads.
    let (r, _sent) = c.post_streamed("/upload", &[], chunks).await;
    let r = r.expect("a response");
    assert_eq!(r.status, 413);
    assert_eq!(probe.calls.load(Ordering::SeqCst), 1);
    assert_eq!(*probe.errors.lock().unwrap(), ["too large"]);
    // The connection serves on.
    let (r, _) = c
        .post_streamed("/upload", &[], vec![Bytes::from_static(b"ok")])
        .await;
    assert_eq!(r.unwrap().body_str(), "2 bytes\n");
}

#[tokio::test]
async fn bodies_the_handler_ignores_do_not_use_up_the_connection_window() {
    // Over HTTP/1.1 an unread body is drained (or the connection closed);
    // over HTTP/2 its bytes must be given back to the connection's window
    // (1 MiB), or after a few such requests no stream can send a byte.
    let site = Site::start(Via::H2c, big_limits(), |_: &Path| {
        Router::new()
            .post("/ignore", |_req: Request| async { "ignored" })
            .post("/echo", support::echo)
    });
    let mut c = site.connect().await;
    let (_, chunks) = upload(600 * 1024);
    for i in 0..4 {
        let (r, _sent) = c.post_streamed("/ignore", &[], chunks.clone()).await;
        let r = r.unwrap_or_else(|e| panic!("POST /ignore #{i}: {e}"));
        assert_eq!(r.body_str(), "ignored", "#{i}");
    }
    let (data, chunks) = upload(1536 * 1024);
    let (r, sent) = c.post_streamed("/echo", &[], chunks).await;
    sent.expect("the upload after the ignored bodies stalled");
    assert!(r.unwrap().body == data);
}

#[tokio::test]
async fn expect_100_continue_gets_a_100_before_the_body_is_sent() {
    // Over HTTP/1.1 berth answers `Expect: 100-continue` with 100 once the
    // handler reads (tests/bodies.rs); a client waiting for it must not
    // have to time out over HTTP/2 either (RFC 9110 §10.1.1).
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    let head = c.head_of(
        Method::POST,
        "/echo",
        &[("expect", "100-continue"), ("content-length", "5")],
    );
    let (mut response, mut body) = c.open(head, false).await.unwrap();
    let interim = within(
        "a 100 Continue before the body is sent",
        std::future::poll_fn(|cx| response.poll_informational(cx)),
    )
    .await
    .expect("no interim response")
    .unwrap();
    assert_eq!(interim.status(), 100);
    body.send_data(Bytes::from_static(b"hello"), true).unwrap();
    let r = read_response(response).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "hello");
}

#[tokio::test]
async fn an_unknown_expectation_is_417_as_over_http11() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c
        .request(
            Method::POST,
            "/echo",
            &[("expect", "something-else")],
            Some(Bytes::from_static(b"hello")),
        )
        .await;
    assert_eq!(r.status, 417, "{r:?}");
}

#[tokio::test]
async fn cookie_crumbs_reach_the_handler_as_one_field() {
    // HTTP/2 clients may split Cookie into one field per cookie (browsers
    // do, for HPACK); a handler written for HTTP/1.1 reads one field.
    let site = Site::start(Via::H2c, ServerConfig::default(), |_: &Path| {
        |req: Request| async move {
            let all: Vec<String> = req
                .headers()
                .get_all("cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect();
            berth::response::text(all.join("|"))
        }
    });
    let mut c = site.connect().await;
    let r = c
        .get(
            "/",
            &[("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "c=3")],
        )
        .await;
    assert_eq!(r.body_str(), "a=1; b=2; c=3");
}

#[tokio::test]
async fn request_head_limits_apply_as_over_http11() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    let limits = berth::proto::Limits::default();
    // A target over max_target_bytes: 414 (the head still fits in the
    // header list size).
    let long = format!("/{}", "a".repeat(limits.max_target_bytes));
    assert_eq!(c.get(&long, &[]).await.status, 414);
    // More fields than max_headers: 431.
    let names: Vec<String> = (0..=limits.max_headers)
        .map(|i| format!("x-f{i}"))
        .collect();
    let fields: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    assert_eq!(c.get("/hello.txt", &fields).await.status, 431);
    // The connection serves on.
    assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
}

#[tokio::test]
async fn methods_serve_dir_does_not_take_are_405_with_allow() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let r = c
            .request(
                method.clone(),
                "/hello.txt",
                &[],
                Some(Bytes::from_static(b"x")),
            )
            .await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{method}");
    }
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_goaway() {
    let mut config = ServerConfig::default();
    config.http2.idle_timeout = Duration::from_millis(200);
    let site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
    let send = c.send.clone();
    c.closed().await.expect("closed on an error");
    let err = send
        .ready()
        .await
        .and_then(|mut s| {
            s.send_request(http::Request::get("http://x/").body(()).unwrap(), true)
                .map(|_| ())
        })
        .expect_err("a stream opened on the closed connection");
    assert!(is_graceful_goaway(&err), "{err:?}");
}
