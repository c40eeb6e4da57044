//! Streamed responses (`Body::channel`), each chunk sent as produced; and
//! errors, concurrency, heads: a body cut short, a panicking handler, many
//! streams at once, the response head (no connection-specific field;
//! `date`, `server`), the request as the handler sees it (origin form,
//! `Host`, `PeerAddr`).

use super::*;

/// SSE-style: each event is produced only when the test sends on the
/// gate, so a chunk that arrives before the next signal was sent as soon
/// as it was produced.
#[cfg(feature = "compress")]
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
                    let event = format!("data: event {n} {}\n\n", "x".repeat(40));
                    if tx.send(event).await.is_err() {
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

#[cfg(feature = "compress")]
#[tokio::test]
async fn channel_bodies_send_each_chunk_before_the_next_is_produced() {
    for via in BOTH {
        for coding in [None, Some("gzip"), Some("br"), Some("zstd")] {
            let (go, gate) = mpsc::unbounded_channel();
            let gate = Arc::new(Mutex::new(Some(gate)));
            let handler = Compress::new(events(gate));
            let site = Site::start(via, ServerConfig::default(), |_: &Path| handler);
            let mut c = site.connect().await;
            let headers: Vec<(&str, &str)> =
                coding.map(|c| ("accept-encoding", c)).into_iter().collect();
            let head = c.head_of(Method::GET, "/events", &headers);
            let (response, _) = c.open(head, true).await.unwrap();
            let response = within("the response head", response)
                .await
                .unwrap_or_else(|e| panic!("{via:?} {coding:?}: response head: {e:?}"));
            assert_eq!(response.status(), 200);
            assert_eq!(
                response
                    .headers()
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap()),
                coding
            );
            assert!(response.headers().get("content-length").is_none());
            let mut recv = response.into_body();
            let mut payload = Vec::new();
            let decoded = |payload: &[u8]| match coding {
                None => payload.to_vec(),
                Some(coding) => decode_prefix(coding, payload),
            };
            for n in 1..=3 {
                go.send(()).unwrap();
                let want = format!("data: event {n} ");
                // The event must arrive before the next one is produced.
                while !String::from_utf8_lossy(&decoded(&payload)).contains(&want) {
                    let chunk = next_chunk(&mut recv)
                        .await
                        .unwrap_or_else(|| panic!("{via:?} {coding:?}: ended before {want:?}"))
                        .unwrap();
                    payload.extend_from_slice(&chunk);
                }
            }
            drop(go);
            while let Some(chunk) = next_chunk(&mut recv).await {
                payload.extend_from_slice(&chunk.unwrap());
            }
            let all = match coding {
                None => payload.clone(),
                Some(coding) => decode(coding, &payload),
            };
            let text = String::from_utf8(all).unwrap();
            assert_eq!(text.matches("data: event").count(), 3, "{text}");
        }
    }
}

// ---- errors, concurrency, heads ----

#[tokio::test]
async fn a_body_cut_short_resets_its_stream_and_the_connection_serves_on() {
    // Over HTTP/1.1 a body that cannot be completed closes the connection
    // (the client must not take it for whole); over HTTP/2 its stream is
    // reset, and only it.
    let handler = |req: Request| async move {
        match req.uri().path() {
            // Declares 10 bytes, yields 5.
            "/short" => Response::new(Body::sized_stream(
                10,
                futures_stream(vec![Ok(Bytes::from_static(b"12345"))]),
            )),
            // Fails after its first chunk.
            "/fails" => {
                let (tx, body) = Body::channel(1);
                tokio::spawn(async move {
                    if tx.send("first\n").await.is_ok() {
                        tx.abort("the producer failed").await;
                    }
                });
                Response::new(body)
            }
            _ => berth::response::text("fine\n"),
        }
    };
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), |_: &Path| handler);
        let mut c = site.connect().await;
        for path in ["/short", "/fails"] {
            let head = c.head_of(Method::GET, path, &[]);
            let err = c
                .try_request(head, None)
                .await
                .expect_err("a cut-short body ended as if whole");
            assert_eq!(
                err.reason(),
                Some(h2::Reason::INTERNAL_ERROR),
                "{via:?} {path}: {err:?}"
            );
            assert!(!err.is_go_away(), "{via:?} {path}: the connection went");
        }
        assert_eq!(c.get("/", &[]).await.body_str(), "fine\n");
    }
}

/// A stream of the given items (no `futures` crate in the tree).
fn futures_stream(
    items: Vec<Result<Bytes, berth::body::BoxError>>,
) -> impl futures_core::Stream<Item = Result<Bytes, berth::body::BoxError>> + Send + 'static {
    struct Items(std::vec::IntoIter<Result<Bytes, berth::body::BoxError>>);
    impl futures_core::Stream for Items {
        type Item = Result<Bytes, berth::body::BoxError>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Items(items.into_iter())
}

#[tokio::test]
async fn a_panicking_handler_gives_500_on_its_stream_and_the_connection_serves_on() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        let r = c.get("/panic", &[]).await;
        assert_eq!(r.status, 500, "{via:?}");
        assert_eq!(r.body_str(), "500 Internal Server Error\n");
        // The 500 asks HTTP/1.1 to close; HTTP/2 loses only the stream.
        assert_eq!(r.header("connection"), None);
        assert_date_and_server(&r);
        // The same connection, streams after and alongside a panic.
        assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
        let (a, _) = c
            .open(c.head_of(Method::GET, "/panic", &[]), true)
            .await
            .unwrap();
        let (b, _) = c
            .open(c.head_of(Method::GET, "/hello.txt", &[]), true)
            .await
            .unwrap();
        let (a, b) = tokio::join!(read_response(a), read_response(b));
        assert_eq!(a.unwrap().status, 500);
        assert_eq!(b.unwrap().body_str(), HELLO_TXT);
        assert!(!c.conn.is_finished(), "{via:?}: the connection closed");
    }
}

#[tokio::test]
async fn a_hundred_streams_in_flight_on_one_connection_are_all_answered() {
    const N: usize = 100;
    for via in BOTH {
        // Every handler waits until all N have arrived: they are truly in
        // flight at once, not served one after another.
        let arrived = Arc::new(AtomicUsize::new(0));
        let all_in = Arc::new(watch::channel(false).0);
        let handler = {
            let (arrived, all_in) = (arrived.clone(), all_in.clone());
            move |req: Request| {
                let (arrived, all_in) = (arrived.clone(), all_in.clone());
                async move {
                    let path = req.uri().path().to_string();
                    if path != "/warm-up" {
                        if arrived.fetch_add(1, Ordering::SeqCst) + 1 == N {
                            all_in.send_replace(true);
                        }
                        let _ = all_in.subscribe().wait_for(|all| *all).await;
                    }
                    berth::response::text(path)
                }
            }
        };
        let site = Site::start(via, ServerConfig::default(), |_: &Path| handler);
        let mut c = site.connect().await;
        // One exchange first: the server's SETTINGS (128 streams) are in
        // force before the burst.
        assert_eq!(c.get("/warm-up", &[]).await.body_str(), "/warm-up");
        let mut pending = Vec::new();
        for i in 0..N {
            let head = c.head_of(Method::GET, &format!("/stream/{i}"), &[]);
            let (response, _) = c.open(head, true).await.unwrap();
            pending.push(tokio::spawn(read_response(response)));
        }
        for (i, task) in pending.into_iter().enumerate() {
            let r = within("a response", task).await.unwrap().unwrap();
            assert_eq!(r.status, 200, "{via:?} stream {i}");
            assert_eq!(r.body_str(), format!("/stream/{i}"));
        }
        assert_eq!(arrived.load(Ordering::SeqCst), N);
    }
}

#[tokio::test]
async fn connection_specific_fields_never_reach_the_client() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        // The h2 client refuses a response carrying any of them: that this
        // succeeds is the first half of the check.
        let r = c.get("/hop", &[]).await;
        assert_eq!(r.status, 200, "{via:?}");
        assert_eq!(r.body_str(), "hop\n");
        for name in [
            "connection",
            "keep-alive",
            "transfer-encoding",
            "upgrade",
            "proxy-connection",
        ] {
            assert!(r.headers.get(name).is_none(), "{via:?}: {name} sent");
        }
        assert_eq!(r.header("x-kept"), Some("yes"));
        // Repeated fields stay repeated.
        let cookies: Vec<_> = r.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(r.header("content-length"), Some("4"));
        assert_date_and_server(&r);
    }
}

#[tokio::test]
async fn handlers_see_origin_form_a_host_from_authority_and_the_peer() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        let r = c.get("/whoami/a/b?c=d&e", &[]).await;
        assert_eq!(r.status, 200);
        let want = format!(
            "uri=/whoami/a/b?c=d&e\nhost={}\nversion=HTTP/2.0\npeer={}\n",
            c.authority, c.local
        );
        assert_eq!(r.body_str(), want, "{via:?}");
    }
    // With peer_addr off, no PeerAddr.
    let config = ServerConfig {
        peer_addr: false,
        ..ServerConfig::default()
    };
    let site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    let r = c.get("/whoami/x", &[]).await;
    assert!(r.body_str().ends_with("peer=-\n"), "{}", r.body_str());
}
