//! Exchanges over HTTP/3: request bodies streamed to the handler and the
//! body limit; streamed responses (SSE) sent chunk by chunk; many
//! streams at once on one connection; a panicking handler; the response
//! head (no connection-specific field); the request as the handler sees
//! it.

use std::sync::{Arc, Mutex};

use berth::Body;
use tokio::sync::{mpsc, watch};

use super::*;

#[tokio::test]
async fn request_bodies_reach_the_handler_whole() {
    let site = Site::start(big_limits(), app);
    let mut c = site.connect().await;
    let r = c
        .request(
            Method::POST,
            "/echo?x=1",
            &[],
            Some(Bytes::from_static(b"ping")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, &b"ping"[..]);
    assert_eq!(r.header("x-target"), Some("/echo?x=1"));

    // A larger body in several DATA frames, without a declared length.
    let body: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
    let mut stream = c.open(Method::POST, "/echo", &[]).await;
    for piece in body.chunks(100_000) {
        within("send", stream.send_data(Bytes::copy_from_slice(piece)))
            .await
            .unwrap();
    }
    within("finish", stream.finish()).await.unwrap();
    let r = h3client::read_response(&mut stream).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body == body, "echoed body differs");
    c.close().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let config = ServerConfig {
        max_body_bytes: 1000,
        ..ServerConfig::default()
    };
    let site = Site::start(config, app);
    let mut c = site.connect().await;
    // Declared over the limit: refused without reading it.
    let r = c
        .request(
            Method::POST,
            "/echo",
            &[("content-length", "5000")],
            Some(Bytes::from(vec![b'x'; 5000])),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Undeclared, and found over the limit as it arrives.
    let mut stream = c.open(Method::POST, "/echo", &[]).await;
    let _ = within("send", stream.send_data(Bytes::from(vec![b'y'; 5000]))).await;
    let _ = within("finish", stream.finish()).await;
    let r = h3client::read_response(&mut stream).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Within the limit: served.
    let r = c
        .request(Method::POST, "/echo", &[], Some(Bytes::from_static(b"ok")))
        .await;
    assert_eq!((r.status, &r.body[..]), (StatusCode::OK, &b"ok"[..]));
    c.close().await;
}

/// SSE-style: each event is produced only when the test sends on the
/// gate, so a chunk that arrives before the next signal was sent as soon
/// as it was produced.
fn events(
    gate: Arc<Mutex<Option<mpsc::UnboundedReceiver<()>>>>,
) -> impl Fn(Request) -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move |_req: Request| {
        let gate = gate.lock().unwrap().take();
        let (tx, body) = Body::channel(1);
        if let Some(mut gate) = gate {
            tokio::spawn(async move {
                let mut n = 0;
                while gate.recv().await.is_some() {
                    n += 1;
                    if tx.send(format!("data: event {n}\n\n")).await.is_err() {
                        return;
                    }
                }
            });
        }
        let mut res = Response::new(body);
        res.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        std::future::ready(res)
    }
}

#[tokio::test]
async fn streamed_responses_send_each_chunk_as_it_is_produced() {
    let (go, gate) = mpsc::unbounded_channel();
    let handler = events(Arc::new(Mutex::new(Some(gate))));
    let site = Site::start(ServerConfig::default(), |_: &Path| handler);
    let mut c = site.connect().await;
    let mut stream = c.open(Method::GET, "/events", &[]).await;
    within("finish", stream.finish()).await.unwrap();
    let head = within("head", stream.recv_response()).await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.headers().get("content-length").is_none());
    let mut seen = String::new();
    for n in 1..=3 {
        go.send(()).unwrap();
        let want = format!("data: event {n}\n\n");
        // The event must arrive before the next one is produced.
        while !seen.contains(&want) {
            let chunk = h3client::next_chunk(&mut stream)
                .await
                .unwrap_or_else(|| panic!("ended before {want:?}"));
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
    drop(go);
    while let Some(chunk) = h3client::next_chunk(&mut stream).await {
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(seen.matches("data: event").count(), 3, "{seen}");
    c.close().await;
}

#[tokio::test]
async fn thirty_streams_in_flight_on_one_connection_are_all_answered() {
    const N: usize = 30;
    // Every handler waits until all N are in: they are in flight at once.
    let arrived = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let all_in = Arc::new(watch::channel(false).0);
    let handler = {
        let (arrived, all_in) = (arrived.clone(), all_in.clone());
        move |req: Request| {
            let mut open = all_in.subscribe();
            if arrived.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == N {
                all_in.send_replace(true);
            }
            async move {
                let _ = open.wait_for(|v| *v).await;
                berth::response::text(req.uri().path().to_string())
            }
        }
    };
    let site = Site::start(ServerConfig::default(), |_: &Path| handler);
    let mut c = site.connect().await;
    let mut streams = Vec::new();
    for i in 0..N {
        let mut s = c.open(Method::GET, &format!("/s{i}"), &[]).await;
        within("finish", s.finish()).await.unwrap();
        streams.push(s);
    }
    let reads = streams.iter_mut().map(h3client::read_response);
    let responses = futures_util::future::join_all(reads).await;
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(
            (r.status, r.text()),
            (StatusCode::OK, format!("/s{i}").as_str())
        );
    }
    c.close().await;
}

#[tokio::test]
async fn a_panicking_handler_gives_500_and_the_connection_serves_on() {
    let site = Site::start(ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c.get("/panic").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.header("connection"), None);
    let r = c.get("/hello.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    c.close().await;
}

#[tokio::test]
async fn connection_specific_fields_never_reach_the_client() {
    let site = Site::start(ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c.get("/hop").await;
    assert_eq!(r.status, StatusCode::OK);
    for name in ["connection", "keep-alive", "transfer-encoding", "upgrade"] {
        assert_eq!(r.header(name), None, "{name} sent");
    }
    assert_eq!(r.header("x-kept"), Some("yes"));
    assert_eq!(r.text(), "hop\n");
    c.close().await;
}

#[tokio::test]
async fn handlers_see_origin_form_a_host_from_authority_version_3_and_the_peer() {
    let site = Site::start(ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c.get("/whoami/a?b=c").await;
    let local = c.endpoint.local_addr().unwrap();
    assert_eq!(
        r.text(),
        format!("uri=/whoami/a?b=c\nhost=localhost\nversion=HTTP/3.0\npeer={local}\n")
    );
    c.close().await;
}

#[tokio::test]
async fn heads_over_the_field_section_limit_get_431_and_limits_apply_as_over_tcp() {
    let mut config = ServerConfig::default();
    config.http3.max_field_section_size = 12 * 1024;
    let site = Site::start(config, app);
    let mut c = site.connect().await;
    let big = "x".repeat(14_000);
    let r = c.get_with("/hello.txt", &[("x-big", &big)]).await;
    assert_eq!(r.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // The limits HTTP/1.1 applies before a handler is called.
    let long = format!("/{}", "a".repeat(9000));
    let r = c.get(&long).await;
    assert_eq!(r.status, StatusCode::URI_TOO_LONG);
    let r = c
        .get_with("/hello.txt", &[("expect", "something-else")])
        .await;
    assert_eq!(r.status, StatusCode::EXPECTATION_FAILED);
    // The connection serves on.
    let r = c.get("/hello.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    c.close().await;
}
