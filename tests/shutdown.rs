//! Graceful shutdown: in-flight requests finish (with `Connection: close`),
//! idle connections close, the listener goes away, and `serve()` returns.

mod support;

use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use berth::{Request, ServerConfig, Timeouts};
use support::{HELLO_TXT, TestServer, get, start, start_with, timed};

/// A server whose `/slow` handler reports on `started` and then takes
/// `delay` to answer `slow done`; other paths answer their path at once.
fn slow_server(config: ServerConfig, delay: Duration) -> (TestServer, mpsc::Receiver<()>) {
    let (tx, started) = mpsc::channel();
    let handler = move |req: Request| {
        let tx = tx.clone();
        async move {
            if req.uri().path() == "/slow" {
                let _ = tx.send(());
                tokio::time::sleep(delay).await;
                berth::response::text("slow done")
            } else {
                berth::response::text(req.uri().path().to_string())
            }
        }
    };
    (start_with(config, handler), started)
}

fn wait_started(started: &mpsc::Receiver<()>) {
    started
        .recv_timeout(Duration::from_secs(5))
        .expect("the handler did not start");
}

#[test]
fn in_flight_request_completes_with_connection_close() {
    let (mut server, started) = slow_server(ServerConfig::default(), Duration::from_millis(300));
    let mut c = server.connect();
    c.send(get("/slow"));
    wait_started(&started);
    server.trigger_shutdown();
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "slow done");
    assert!(r.says_close(), "{r:?}");
    assert!(c.is_closed());
    drop(c);
    assert!(
        server.wait_stopped(Duration::from_secs(2)),
        "serve() did not return"
    );
}

#[test]
fn requests_pipelined_behind_the_in_flight_one_are_not_answered() {
    let (mut server, started) = slow_server(ServerConfig::default(), Duration::from_millis(300));
    let mut c = server.connect();
    let mut bytes = get("/slow");
    bytes.extend(get("/next"));
    c.send(bytes);
    wait_started(&started);
    server.trigger_shutdown();
    let r = c.read_response();
    assert_eq!(r.body_str(), "slow done");
    assert!(r.says_close(), "{r:?}");
    let rest = c.read_to_close();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    drop(c);
    assert!(server.wait_stopped(Duration::from_secs(2)));
}

#[test]
fn idle_connections_are_closed_on_shutdown() {
    let mut server = start();
    let mut used = server.connect();
    assert_eq!(used.request(get("/hello.txt")).body_str(), HELLO_TXT);
    let mut silent = server.connect();
    // Make sure the silent one has been accepted: a third connection that
    // completes a request was accepted after it by the same loop.
    assert_eq!(server.connect().request(get("/")).status, 200);
    let ((), elapsed) = timed(|| server.trigger_shutdown());
    assert!(used.is_closed_within(Duration::from_secs(2)));
    assert!(silent.is_closed_within(Duration::from_secs(2)));
    assert!(server.wait_stopped(Duration::from_secs(2)));
    assert!(elapsed < Duration::from_secs(1));
}

#[test]
fn new_connections_are_refused_after_shutdown() {
    let server = start();
    let addr = server.addr;
    assert_eq!(server.connect().request(get("/hello.txt")).status, 200);
    server.shutdown();
    let result = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    assert!(result.is_err(), "connected after shutdown");
}

#[test]
fn shutdown_with_no_connections_returns_promptly() {
    let server = start();
    let ((), elapsed) = timed(|| server.shutdown());
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}

#[test]
fn serve_returns_after_the_grace_period_even_if_a_handler_hangs() {
    let config = ServerConfig {
        timeouts: Timeouts {
            shutdown_grace: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..ServerConfig::default()
    };
    let (mut server, started) = slow_server(config, Duration::from_secs(3600));
    let mut c = server.connect();
    c.send(get("/slow"));
    wait_started(&started);
    server.trigger_shutdown();
    let (stopped, elapsed) = timed(|| server.wait_stopped(Duration::from_secs(2)));
    assert!(stopped, "serve() still running after {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    // The hung request never got an answer, and its connection is gone.
    assert!(c.read_to_close().is_empty());
}

/// A request that reaches an idle keep-alive connection just after shutdown
/// began is still answered (with `Connection: close`), so a client that
/// keeps sending, as under a rolling restart, loses nothing.
#[test]
fn a_request_racing_the_shutdown_on_an_idle_connection_is_answered() {
    let mut server = start();
    let mut client = server.connect();
    assert_eq!(client.request(get("/hello.txt")).body_str(), HELLO_TXT);
    server.trigger_shutdown();
    // Whether the server has seen the signal when this arrives is a race:
    // either way the request is answered (with `Connection: close` once the
    // signal is seen), and the connection closes soon after.
    let r = client.request(get("/hello.txt"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    assert!(client.is_closed_within(Duration::from_secs(2)));
    drop(client); // ends the server's lingering close
    assert!(server.wait_stopped(Duration::from_secs(2)));
}
