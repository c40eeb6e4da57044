//! Timeouts with short configured values: slowloris heads, idle keep-alive
//! connections, silent new connections and stalled bodies.

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use berth::{ServerConfig, Timeouts};
use support::{TestServer, echo, get, start_serve_dir, start_with, timed};

const HEAD_READ: Duration = Duration::from_millis(400);
const KEEP_ALIVE: Duration = Duration::from_millis(300);
const BODY_READ: Duration = Duration::from_millis(300);
/// Slack for scheduling: an event expected at T must happen before T + SLACK.
const SLACK: Duration = Duration::from_millis(1200);

fn config() -> ServerConfig {
    ServerConfig {
        timeouts: Timeouts {
            head_read: HEAD_READ,
            keep_alive: KEEP_ALIVE,
            body_read: BODY_READ,
            ..Timeouts::default()
        },
        ..ServerConfig::default()
    }
}

fn serve_dir() -> TestServer {
    start_serve_dir(config())
}

#[test]
fn slowloris_partial_head_gets_408_and_close() {
    let server = serve_dir();
    let mut c = server.connect();
    let head = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let start = Instant::now();
    // One byte every 50 ms (paced by the read timeout below): each byte
    // arrives well within any per-read timer, but the whole head cannot.
    c.stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    for &byte in head.iter().cycle().take(200) {
        if c.try_send([byte]).is_err() {
            break;
        }
        match c.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                received.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let elapsed = start.elapsed();
    c.stream
        .set_read_timeout(Some(support::IO_TIMEOUT))
        .unwrap();
    received.extend(c.read_to_close());
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{text:?}"
    );
    assert!(text.contains("\r\nConnection: close\r\n"), "{text:?}");
    assert!(
        elapsed >= HEAD_READ - Duration::from_millis(50) && elapsed < HEAD_READ + SLACK,
        "408 after {elapsed:?}"
    );
}

#[test]
fn partial_head_then_silence_gets_408_and_close() {
    let server = serve_dir();
    let mut c = server.connect();
    c.send("GET /hello.txt HTTP/1.1\r\nHost:");
    let (r, elapsed) = timed(|| c.read_response());
    r.assert_error(408);
    assert!(c.is_closed());
    assert!(elapsed < HEAD_READ + SLACK, "{elapsed:?}");
}

/// Keep-alive and head-read timeouts far apart, so a test can tell which
/// one closed the connection.
fn config_with(keep_alive: Duration, head_read: Duration) -> ServerConfig {
    let mut config = config();
    config.timeouts.keep_alive = keep_alive;
    config.timeouts.head_read = head_read;
    config
}

#[test]
fn idle_keep_alive_connection_is_closed_after_keep_alive_timeout() {
    let server = start_serve_dir(config_with(KEEP_ALIVE, Duration::from_millis(1500)));
    let mut c = server.connect();
    assert_eq!(c.request(get("/hello.txt")).status, 200);
    let limit = KEEP_ALIVE + Duration::from_millis(600);
    let (closed, elapsed) = timed(|| c.is_closed_within(limit));
    assert!(
        closed,
        "idle keep-alive connection still open after {elapsed:?}"
    );
    assert!(
        elapsed >= KEEP_ALIVE - Duration::from_millis(50),
        "closed too early: {elapsed:?}"
    );
}

#[test]
fn idle_keep_alive_connection_outlives_the_head_read_timeout() {
    let server = start_serve_dir(config_with(Duration::from_millis(1500), HEAD_READ));
    let mut c = server.connect();
    assert_eq!(c.request(get("/hello.txt")).status, 200);
    let open = !c.is_closed_within(HEAD_READ + Duration::from_millis(400));
    assert!(
        open,
        "idle keep-alive connection closed at the head-read timeout"
    );
    assert_eq!(c.request(get("/hello.txt")).status, 200);
}

#[test]
fn keep_alive_timer_restarts_after_each_request() {
    let server = serve_dir();
    let mut c = server.connect();
    // Three requests spaced ~200 ms apart (less than KEEP_ALIVE each, more
    // in total): the connection must survive all of them.
    for _ in 0..3 {
        assert_eq!(c.request(get("/hello.txt")).status, 200);
        assert!(!c.is_closed_within(Duration::from_millis(200)));
    }
    assert_eq!(c.request(get("/hello.txt")).status, 200);
}

#[test]
fn silent_new_connection_is_closed_after_head_read() {
    let server = serve_dir();
    let mut c = server.connect();
    let (rest, elapsed) = timed(|| c.read_to_close());
    assert!(
        rest.is_empty(),
        "a silent connection got bytes: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(
        elapsed >= HEAD_READ - Duration::from_millis(50) && elapsed < HEAD_READ + SLACK,
        "closed after {elapsed:?}"
    );
}

#[test]
fn stalled_body_read_by_handler_closes_the_connection() {
    let server = start_with(config(), echo);
    let mut c = server.connect();
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    let (r, elapsed) = timed(|| c.read_response());
    // echo answers a body-read timeout with 408.
    assert_eq!(r.status, 408, "{r:?}");
    assert!(r.says_close(), "{r:?}");
    assert!(c.is_closed());
    assert!(elapsed < BODY_READ + SLACK, "{elapsed:?}");
}

#[test]
fn stalled_body_not_read_by_handler_closes_the_connection() {
    let server = serve_dir();
    let mut c = server.connect();
    // ServeDir answers 405 without reading; the server then drains the body,
    // which stalls.
    c.send("POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    let r = c.read_response();
    assert_eq!(r.status, 405);
    let (closed, elapsed) = timed(|| c.is_closed_within(BODY_READ + SLACK));
    assert!(closed, "still open after {elapsed:?}");
}
