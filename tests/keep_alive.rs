//! Connection persistence (RFC 9112 §9.3): HTTP/1.1 keeps alive unless
//! told otherwise, HTTP/1.0 closes unless it asks for keep-alive.

mod support;

use std::time::Duration;

use support::{HELLO_TXT, INDEX_HTML, get, start};

#[test]
fn http11_keeps_alive_by_default() {
    let server = start();
    let mut c = server.connect();
    for _ in 0..3 {
        let r = c.request(get("/hello.txt"));
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), HELLO_TXT);
        assert_eq!(r.header("connection"), None, "{r:?}");
    }
    assert!(!c.is_closed_within(Duration::from_millis(100)));
}

#[test]
fn http11_connection_close_is_honoured_and_echoed() {
    let server = start();
    let mut c = server.connect();
    let r = c.request("GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn requests_pipelined_behind_connection_close_are_not_answered() {
    let server = start();
    let mut c = server.connect();
    let mut bytes = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec();
    bytes.extend(get("/"));
    bytes.extend(get("/sub/"));
    c.send(bytes);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert!(r.says_close());
    let rest = c.read_to_close();
    assert!(
        rest.is_empty(),
        "answered after Connection: close: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn connection_close_token_among_others_is_honoured() {
    let server = start();
    let mut c = server.connect();
    let r = c.request("GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, Close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.says_close(), "{r:?}");
    assert!(c.is_closed());
}

#[test]
fn http10_closes_by_default() {
    let server = start();
    let mut c = server.connect();
    let r = c.request("GET /hello.txt HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.body_str(), HELLO_TXT);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn http10_keep_alive_is_honoured_and_confirmed() {
    let server = start();
    let mut c = server.connect();
    let ka = "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    let r = c.request(ka);
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    assert_eq!(r.header("connection"), Some("keep-alive"));
    // Still usable; a second 1.0 request without keep-alive ends it.
    let r = c.request("GET / HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), INDEX_HTML);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.is_closed());
}

#[test]
fn http10_keep_alive_survives_an_error_status_from_the_handler() {
    let server = start();
    let mut c = server.connect();
    let r = c.request("GET /missing HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("connection"), Some("keep-alive"));
    let r = c.request("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
}

#[test]
fn client_half_close_after_request_still_gets_the_response() {
    let server = start();
    let mut c = server.connect();
    c.send(get("/hello.txt"));
    c.shutdown_write();
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    assert!(c.is_closed());
}
