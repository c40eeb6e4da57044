//! Graceful shutdown over HTTP/2: GOAWAY, the stream in flight finishes,
//! streams opened after the final GOAWAY are not served; idle connections
//! closed promptly; the shutdown grace period.

use super::*;

/// ServeDir, and `/slow` parked at the gate.
fn gated(root: &Path, gate: Gate) -> Router {
    Router::new()
        .get("/slow", move |req: Request| gate.clone().call(req))
        .fallback(ServeDir::new(root))
}

#[tokio::test]
async fn shutdown_sends_goaway_and_the_stream_in_flight_completes() {
    for via in BOTH {
        let (gate, mut control) = gate();
        let mut site = Site::start(via, ServerConfig::default(), |root: &Path| {
            gated(root, gate)
        });
        let mut c = site.connect().await;
        assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
        let head = c.head_of(Method::GET, "/slow", &[]);
        let (slow, _) = c.open(head, true).await.unwrap();
        let slow = tokio::spawn(read_response(slow));
        assert_eq!(control.arrival().await, "/slow");

        let stopping = site.stop();
        // Until the GOAWAY arrives, a new stream is still served; after
        // it, the client refuses to open one (or the server's last stream
        // id excludes it).
        let goaway = within("a GOAWAY after shutdown", async {
            loop {
                let head = c.head_of(Method::GET, "/hello.txt", &[]);
                match c.try_request(head, None).await {
                    Ok(r) => assert_eq!(r.body_str(), HELLO_TXT, "{via:?}"),
                    Err(e) => break e,
                }
            }
        })
        .await;
        assert!(is_graceful_goaway(&goaway), "{via:?}: {goaway:?}");
        assert!(
            !slow.is_finished(),
            "{via:?}: /slow answered before the gate opened"
        );
        assert!(
            !stopping.is_finished(),
            "{via:?}: serve() returned with a stream in flight"
        );

        control.open.send_replace(true);
        let r = within("/slow", slow).await.unwrap().expect("/slow");
        assert_eq!(r.status, 200, "{via:?}");
        assert_eq!(r.body_str(), "/slow done\n");
        // Then the connection closes cleanly and the server stops.
        let send = c.send.clone();
        // (A write of the client's crossing the server's close, e.g. a
        // WINDOW_UPDATE for the last DATA, may end it on EPIPE; the
        // response was whole, which is what counts.)
        let closed = c.closed().await;
        assert!(
            closed.as_ref().map_or_else(h2::Error::is_io, |()| true),
            "{via:?}: the connection closed on {closed:?}"
        );
        let err = match send.ready().await {
            Ok(mut s) => s
                .send_request(http::Request::get("http://x/").body(()).unwrap(), true)
                .expect_err("a new stream opened after GOAWAY"),
            Err(e) => e,
        };
        assert!(is_graceful_goaway(&err), "{via:?}: {err:?}");
        let took = within("serve() to return", stopping).await.unwrap();
        assert!(took.is_some(), "{via:?}: serve() did not return");
    }
}

#[tokio::test]
async fn idle_http2_connections_are_closed_promptly_on_shutdown() {
    for via in BOTH {
        let mut site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
        // The idle timeout (10 s) must not hold shutdown up.
        let took = within("serve() to return", site.stop())
            .await
            .unwrap()
            .expect("serve() did not return");
        assert!(took < Duration::from_secs(2), "{via:?}: {took:?}");
        // A clean close; or the client's last write (its PING ack, a
        // TLS close_notify) crossing the server's close.
        let closed = c.closed().await;
        assert!(
            closed.as_ref().map_or_else(h2::Error::is_io, |()| true),
            "{via:?}: {closed:?}"
        );
    }
}

#[tokio::test]
async fn serve_returns_after_the_grace_period_even_if_an_http2_handler_hangs() {
    let mut config = ServerConfig::default();
    config.timeouts.shutdown_grace = Duration::from_millis(300);
    let (gate, mut control) = gate();
    let mut site = Site::start(Via::H2c, config, |root: &Path| gated(root, gate));
    let mut c = site.connect().await;
    let head = c.head_of(Method::GET, "/slow", &[]);
    let (slow, _) = c.open(head, true).await.unwrap();
    assert_eq!(control.arrival().await, "/slow");
    let start = std::time::Instant::now();
    let took = within("serve() to return", site.stop())
        .await
        .unwrap()
        .expect("serve() did not return");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // The hung stream never got an answer; its connection is gone.
    let r = within("the hung stream to fail", slow).await;
    assert!(r.is_err(), "{r:?}");
    let _ = c.closed().await;
}

#[test]
fn streams_opened_after_the_final_goaway_are_not_served() {
    use h2wire::{Kind, goaway_last_stream_id, ping_ack};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (gate, mut control) = gate();
    let after = Arc::new(AtomicUsize::new(0));
    let counted = after.clone();
    let app = move |root: &Path| {
        let files = ServeDir::new(root);
        Router::new()
            .get("/slow", move |req: Request| gate.clone().call(req))
            .get("/after", move |_req: Request| {
                counted.fetch_add(1, Ordering::SeqCst);
                async { berth::response::text("served\n") }
            })
            .fallback(files)
    };
    let mut site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut conn = h2wire::Conn::handshake(site.addr);
    let slow = conn.get("/slow");
    assert_eq!(runtime.block_on(control.arrival()), "/slow");
    let stopping = {
        let _in_runtime = runtime.enter();
        site.stop()
    };

    // The first GOAWAY (last stream 2^31-1) and a PING; once the PING is
    // acknowledged, the final GOAWAY names the last stream served.
    let last = loop {
        let f = conn
            .read_frame(LIMIT)
            .expect("a GOAWAY after shutdown")
            .expect("connection closed before its GOAWAY");
        match f.kind {
            Kind::Ping if !f.is_ack() => conn.send(&ping_ack(f.payload[..8].try_into().unwrap())),
            Kind::Goaway => {
                assert_eq!(h2wire::goaway_error_code(&f), Some(0), "{f:?}");
                let last = goaway_last_stream_id(&f).unwrap();
                if last != 0x7fff_ffff {
                    break last;
                }
            }
            _ => {}
        }
    };
    assert_eq!(
        last, slow,
        "the final GOAWAY must keep the stream in flight"
    );
    let refused = conn.get("/after");
    assert!(refused > last);

    control.open.send_replace(true);
    let r = conn.read_response(slow, LIMIT).expect("/slow after GOAWAY");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"/slow done\n");
    assert!(conn.closed_within(LIMIT), "the connection stayed open");
    assert_eq!(
        conn.status(refused),
        None,
        "a stream after GOAWAY was answered"
    );
    assert!(
        !conn
            .blocks
            .iter()
            .any(|b| b.stream_id == refused && b.end_stream && b.fields.is_ok()),
    );
    assert_eq!(after.load(Ordering::SeqCst), 0, "its handler was called");
    let took = runtime.block_on(stopping).unwrap();
    assert!(took.is_some(), "serve() did not return");
}
