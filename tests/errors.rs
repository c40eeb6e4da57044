//! Protocol errors over a socket: each gets exactly one short response with
//! the right status and `Connection: close`, then the connection closes.

mod support;

use berth::ServerConfig;
use support::{TestServer, echo, start, start_with};

/// Sends `request` on a fresh connection to a `ServeDir` server, asserts
/// the error response and that nothing else arrives before the close.
fn rejects(request: impl AsRef<[u8]>, status: u16) {
    rejects_on(&start(), request, status);
}

fn rejects_on(server: &TestServer, request: impl AsRef<[u8]>, status: u16) {
    let mut c = server.connect();
    // The server may stop reading at the error; a large request can then
    // fail to send in full, which is fine.
    let _ = c.try_send(request);
    let r = c.read_response();
    r.assert_error(status);
    let rest = c.read_to_close();
    assert!(
        rest.is_empty(),
        "bytes after the error response: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn content_length_with_transfer_encoding_is_400() {
    rejects(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn bad_content_length_is_400() {
    for value in [
        "+5",
        "-1",
        "5x",
        "0x10",
        "5, 6",
        " ",
        "99999999999999999999999",
    ] {
        rejects(
            format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\nhello"),
            400,
        );
    }
}

#[test]
fn conflicting_duplicate_content_length_is_400() {
    rejects(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        400,
    );
}

#[test]
fn obs_fold_is_400() {
    rejects(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
        400,
    );
}

#[test]
fn space_before_colon_is_400() {
    rejects("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
}

#[test]
fn missing_host_is_400() {
    rejects("GET / HTTP/1.1\r\n\r\n", 400);
}

#[test]
fn duplicate_host_is_400() {
    rejects("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400);
}

#[test]
fn bare_lf_is_400() {
    rejects("GET / HTTP/1.1\nHost: x\n\n", 400);
    rejects("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400);
}

#[test]
fn bare_cr_is_400() {
    rejects("GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400);
}

#[test]
fn nul_in_header_value_is_400() {
    rejects(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 400);
}

#[test]
fn malformed_request_line_is_400() {
    rejects("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
    rejects("GET /\r\nHost: x\r\n\r\n", 400);
    rejects("G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

#[test]
fn bad_chunk_size_is_400() {
    // A chunk error is found while the body is read, so the handler must be
    // one that reads it (echo answers a failed body read with 400).
    rejects_on(
        &start_with(ServerConfig::default(), echo),
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn transfer_encoding_not_ending_in_chunked_is_400() {
    rejects(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        400,
    );
}

#[test]
fn long_target_is_414() {
    let target = format!("/{}", "a".repeat(9000));
    rejects(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
}

#[test]
fn huge_header_is_431() {
    let value = "v".repeat(20 * 1024);
    rejects(
        format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {value}\r\n\r\n"),
        431,
    );
}

#[test]
fn too_many_headers_is_431() {
    let fields: String = (0..101).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    rejects(format!("GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n"), 431);
}

#[test]
fn unsupported_transfer_coding_is_501() {
    rejects(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
    );
}

#[test]
fn http2_version_is_505() {
    rejects("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
}

#[test]
fn unknown_expectation_is_417() {
    rejects("GET / HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\n\r\n", 417);
}

#[test]
fn error_response_is_readable_when_client_keeps_sending() {
    // The lingering close lets the client read the error even though it
    // had more bytes in flight.
    let server = start();
    let mut c = server.connect();
    let mut bytes = b"GET / HTTP/1.1\r\n\r\n".to_vec();
    bytes.extend(vec![b'x'; 64 * 1024]);
    let _ = c.try_send(bytes);
    c.read_response().assert_error(400);
}
