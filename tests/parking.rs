//! Idle keep-alive connections parked without a task
//! (`ServerConfig::park_idle_after`): they come back when a request
//! arrives, keep their idle deadline, their PROXY-given peer and their
//! place under the connection cap, and shutdown hands them back.
//!
//! Whether a connection is parked is read from the server's own
//! `berth_parked_connections` gauge.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use berth::server::Metrics;
use berth::{Body, Handler, PeerAddr, Request, Response, Server, ServerConfig, Timeouts};
use support::{Background, Client, get, serve_in_background};

/// Answers `GET /metrics` from `metrics`, anything else with the peer
/// address the server gives the request.
fn app(metrics: &std::sync::Arc<Metrics>) -> impl Handler {
    let scrape = metrics.handler();
    move |req: Request| {
        let scrape = scrape.clone();
        async move {
            if req.uri().path() == "/metrics" {
                return scrape.call(req).await;
            }
            let peer = req
                .extensions()
                .get::<PeerAddr>()
                .map(|p| p.0.to_string())
                .unwrap_or_default();
            Response::new(Body::from(peer))
        }
    }
}

fn serve(config: ServerConfig, proxy: bool) -> (Background, std::sync::Arc<Metrics>) {
    let metrics = Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..config
    };
    let server = Server::try_bind("127.0.0.1:0")
        .expect("bind")
        .config(config)
        .proxy_protocol(proxy);
    let handler = app(&metrics);
    (serve_in_background(server, handler), metrics)
}

fn parking(after_ms: u64) -> ServerConfig {
    ServerConfig {
        park_idle_after: Some(Duration::from_millis(after_ms)),
        ..ServerConfig::default()
    }
}

/// The gauge's value, read from the rendered metrics (what a scraper sees).
fn gauge(metrics: &Metrics, name: &str) -> u64 {
    let text = metrics.render();
    let line = text
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"));
    line[name.len() + 1..].trim().parse().expect("a number")
}

/// Polls until the gauge reads `want` (the server parks asynchronously).
fn wait_for_gauge(metrics: &Metrics, name: &str, want: u64) {
    let start = Instant::now();
    while gauge(metrics, name) != want {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{name} stayed {} (want {want})",
            gauge(metrics, name)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The server closes `c` within 3 s, and not before its 400 ms `timeout`
/// (counted from `since`) could have run out.
fn assert_closed_at_timeout(c: &mut Client, since: Instant, timeout: &str) {
    assert!(c.is_closed_within(Duration::from_secs(3)), "never closed");
    let idle = since.elapsed();
    assert!(
        idle >= Duration::from_millis(350),
        "closed after {idle:?}, before the 400 ms {timeout} timeout"
    );
}

#[test]
fn an_idle_connection_parks_and_its_next_request_is_served() {
    let (server, metrics) = serve(parking(20), false);
    let mut c = Client::connect(server.addr());
    assert_eq!(c.request(get("/")).status, 200);
    wait_for_gauge(&metrics, "berth_parked_connections", 1);
    // Parked, it is still open.
    assert_eq!(gauge(&metrics, "berth_open_connections"), 1);
    for _ in 0..3 {
        let r = c.request(get("/"));
        assert_eq!(r.status, 200);
        assert!(!r.says_close());
        wait_for_gauge(&metrics, "berth_parked_connections", 1);
    }
    drop(c);
    wait_for_gauge(&metrics, "berth_parked_connections", 0);
    wait_for_gauge(&metrics, "berth_open_connections", 0);
    server.shutdown();
}

#[test]
fn without_a_park_delay_connections_keep_their_task() {
    let config = ServerConfig {
        park_idle_after: None,
        ..ServerConfig::default()
    };
    let (server, metrics) = serve(config, false);
    let mut c = Client::connect(server.addr());
    assert_eq!(c.request(get("/")).status, 200);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(gauge(&metrics, "berth_parked_connections"), 0);
    assert_eq!(gauge(&metrics, "berth_open_connections"), 1);
    assert_eq!(c.request(get("/")).status, 200);
    server.shutdown();
}

#[test]
fn a_parked_connection_is_closed_at_its_keep_alive_deadline() {
    let config = ServerConfig {
        timeouts: Timeouts {
            keep_alive: Duration::from_millis(400),
            ..Timeouts::default()
        },
        ..parking(20)
    };
    let (server, metrics) = serve(config, false);
    let mut c = Client::connect(server.addr());
    assert_eq!(c.request(get("/")).status, 200);
    let idle_since = Instant::now();
    wait_for_gauge(&metrics, "berth_parked_connections", 1);
    assert_closed_at_timeout(&mut c, idle_since, "keep-alive");
    wait_for_gauge(&metrics, "berth_parked_connections", 0);
    wait_for_gauge(&metrics, "berth_open_connections", 0);
    server.shutdown();
}

#[test]
fn a_silent_new_connection_parks_until_the_head_timeout() {
    let config = ServerConfig {
        timeouts: Timeouts {
            head_read: Duration::from_millis(400),
            ..Timeouts::default()
        },
        ..parking(20)
    };
    let (server, metrics) = serve(config, false);
    let connected = Instant::now();
    let mut c = Client::connect(server.addr());
    wait_for_gauge(&metrics, "berth_parked_connections", 1);
    assert_closed_at_timeout(&mut c, connected, "head");
    wait_for_gauge(&metrics, "berth_open_connections", 0);
    server.shutdown();
}

#[test]
fn a_connection_resumed_early_keeps_its_deadline_running() {
    // The deadline travels with the parked socket; once resumed and
    // served, the connection gets a fresh keep-alive period from its
    // latest response, not from when it was first parked.
    let config = ServerConfig {
        timeouts: Timeouts {
            keep_alive: Duration::from_millis(600),
            ..Timeouts::default()
        },
        ..parking(20)
    };
    let (server, metrics) = serve(config, false);
    let mut c = Client::connect(server.addr());
    for _ in 0..4 {
        assert_eq!(c.request(get("/")).status, 200);
        wait_for_gauge(&metrics, "berth_parked_connections", 1);
        std::thread::sleep(Duration::from_millis(300));
    }
    // 1.2 s in total, more than the 600 ms timeout, but never idle that long.
    assert_eq!(c.request(get("/")).status, 200);
    server.shutdown();
}

#[test]
fn requests_arriving_around_the_park_delay_are_all_answered() {
    // Requests sent just before, at and after the moment the connection
    // parks (5 ms): a request racing the hand-over must not be lost.
    let (server, _metrics) = serve(parking(5), false);
    let addr = server.addr();
    let clients: Vec<_> = (0..6u64)
        .map(|n| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                for i in 0..40u64 {
                    let r = c.request(get("/"));
                    assert_eq!(r.status, 200, "client {n}, request {i}");
                    std::thread::sleep(Duration::from_micros((i * 397 + n * 1009) % 9_000));
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    server.shutdown();
}

#[test]
fn a_partial_head_is_not_an_idle_connection() {
    let (server, metrics) = serve(parking(20), false);
    let mut c = Client::connect(server.addr());
    c.send("GET / HTTP/1.1\r\nHo");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(gauge(&metrics, "berth_parked_connections"), 0);
    c.send("st: x\r\n\r\n");
    assert_eq!(c.read_response().status, 200);
    server.shutdown();
}

#[test]
fn a_parked_connection_keeps_the_peer_its_proxy_header_named() {
    let (server, metrics) = serve(parking(20), true);
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .write_all(b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 80\r\n")
        .expect("write");
    let mut c = Client::new(stream);
    assert_eq!(c.request(get("/")).body_str(), "203.0.113.7:40000");
    wait_for_gauge(&metrics, "berth_parked_connections", 1);
    assert_eq!(c.request(get("/")).body_str(), "203.0.113.7:40000");
    server.shutdown();
}

#[test]
fn parked_connections_hold_their_place_under_the_connection_cap() {
    let config = ServerConfig {
        max_connections: 1,
        ..parking(20)
    };
    let (server, metrics) = serve(config, false);
    let mut first = Client::connect(server.addr());
    assert_eq!(first.request(get("/")).status, 200);
    wait_for_gauge(&metrics, "berth_parked_connections", 1);
    let mut second = TcpStream::connect(server.addr()).expect("connect");
    second.write_all(&get("/")).expect("write");
    second
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    assert!(
        std::io::Read::read(&mut second, &mut buf).is_err(),
        "served beyond the cap"
    );
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = std::io::Read::read(&mut second, &mut buf).expect("served once a slot freed");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    server.shutdown();
}

#[test]
fn shutdown_hands_parked_connections_back_and_finishes() {
    let (server, metrics) = serve(parking(20), false);
    let mut idle: Vec<Client> = (0..5).map(|_| Client::connect(server.addr())).collect();
    for c in &mut idle {
        assert_eq!(c.request(get("/")).status, 200);
    }
    wait_for_gauge(&metrics, "berth_parked_connections", 5);
    let took = server
        .shutdown_timed(Duration::from_secs(5))
        .expect("serve() did not return");
    // Each gets the short last window idle connections get at shutdown.
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");
    for c in &mut idle {
        assert!(c.is_closed_within(Duration::from_secs(1)));
    }
    assert_eq!(gauge(&metrics, "berth_parked_connections"), 0);
    assert_eq!(gauge(&metrics, "berth_open_connections"), 0);
}

#[test]
fn a_request_to_a_parked_connection_during_shutdown_is_answered() {
    let (server, metrics) = serve(parking(20), false);
    let mut c = Client::connect(server.addr());
    assert_eq!(c.request(get("/")).status, 200);
    wait_for_gauge(&metrics, "berth_parked_connections", 1);
    let handle = std::thread::spawn(move || server.shutdown_timed(Duration::from_secs(5)));
    // Within the last window (250 ms) an idle connection gets at shutdown.
    std::thread::sleep(Duration::from_millis(50));
    let r = c.request(get("/"));
    assert_eq!(r.status, 200);
    assert!(
        r.says_close(),
        "the last response says the connection closes"
    );
    assert!(handle.join().expect("shutdown thread").is_some());
}
