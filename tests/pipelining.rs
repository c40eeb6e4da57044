//! Pipelining (RFC 9112 §9.3.2): requests sent back to back are answered
//! in order, and nothing after a rejected message is ever answered.

mod support;

use berth::ServerConfig;
use support::{
    BIG_LEN, HELLO_TXT, INDEX_HTML, SUB_INDEX_HTML, big_content, get, start, start_with,
    target_only,
};

#[test]
fn three_requests_in_one_write_answered_in_order() {
    let server = start();
    let mut c = server.connect();
    let mut bytes = get("/hello.txt");
    bytes.extend(get("/"));
    bytes.extend(get("/sub/"));
    c.send(bytes);
    for expected in [HELLO_TXT, INDEX_HTML, SUB_INDEX_HTML] {
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), expected);
        assert!(!r.says_close());
    }
}

#[test]
fn twenty_pipelined_requests_all_answered_in_order() {
    // More than max_pipelined (16): the batch is flushed in two parts.
    let server = start_with(ServerConfig::default(), target_only);
    let mut c = server.connect();
    let bytes: Vec<u8> = (0..20).flat_map(|i| get(&format!("/r{i}"))).collect();
    c.send(bytes);
    for i in 0..20 {
        let r = c.read_response();
        assert_eq!(r.status, 200);
        assert_eq!(r.body_str(), format!("/r{i}"));
    }
    let r = c.request(get("/after"));
    assert_eq!(r.body_str(), "/after");
}

#[test]
fn pipelined_mixed_methods_and_head_keep_framing() {
    let server = start();
    let mut c = server.connect();
    let mut bytes = b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    bytes.extend(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    bytes.extend(get("/hello.txt"));
    c.send(bytes);
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("13"));
    let r = c.read_response();
    assert_eq!(r.status, 405);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
}

#[test]
fn pipelined_ok_then_bad_closes_after_first() {
    let server = start();
    let mut c = server.connect();
    let mut bytes = get("/hello.txt");
    bytes.extend(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
    c.send(bytes);
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    let r = c.read_response();
    r.assert_error(400);
    assert!(c.is_closed());
}

#[test]
fn bytes_after_a_rejected_message_are_never_answered() {
    let server = start();
    let mut c = server.connect();
    // CL+TE is rejected; what follows could be a smuggled request.
    let mut bytes =
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    bytes.extend(b"0\r\n\r\n");
    bytes.extend(get("/hello.txt"));
    bytes.extend(get("/"));
    c.send(bytes);
    let r = c.read_response();
    r.assert_error(400);
    let rest = c.read_to_close();
    assert!(
        rest.is_empty(),
        "answered after a rejected message: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn bad_then_good_in_one_write_answers_only_the_error() {
    let server = start();
    let mut c = server.connect();
    let mut bytes = b"GET / HTTP/1.1\r\n\r\n".to_vec(); // no Host
    bytes.extend(get("/hello.txt"));
    c.send(bytes);
    c.read_response().assert_error(400);
    assert!(c.read_to_close().is_empty());
}

#[test]
fn pipelined_requests_split_across_writes_answered_in_order() {
    let server = start();
    let mut c = server.connect();
    let first = get("/hello.txt");
    let mut bytes = first.clone();
    bytes.extend(get("/sub/"));
    // The first write ends in the middle of the second request's line.
    let (a, b) = bytes.split_at(first.len() + 5);
    c.send(a);
    let r = c.read_response();
    assert_eq!(r.body_str(), HELLO_TXT);
    c.send(b);
    let r = c.read_response();
    assert_eq!(r.body_str(), SUB_INDEX_HTML);
}

#[test]
fn pipelined_large_files_arrive_intact_in_order() {
    let server = start();
    let mut c = server.connect();
    let mut bytes = Vec::new();
    for _ in 0..4 {
        bytes.extend(get("/big.bin"));
        bytes.extend(get("/hello.txt"));
    }
    c.send(bytes);
    let big = big_content();
    for _ in 0..4 {
        let r = c.read_response();
        assert_eq!(r.body.len(), BIG_LEN);
        assert!(r.body == big, "1 MiB body differs");
        assert_eq!(c.read_response().body_str(), HELLO_TXT);
    }
}
