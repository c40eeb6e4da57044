//! HTTP/2 conformance cases berth once failed (found with h2spec, whose
//! 146 cases berth passes over h2c and TLS), kept as regression tests over
//! raw frames: the preface detection on cleartext listeners, and a stream
//! answered only once its request has ended.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use berth::ServerConfig;

use crate::h2wire::{self, Conn, Kind, error, flag};
use crate::support::{self, IO_TIMEOUT, start_serve_dir};

const WAIT: Duration = Duration::from_secs(5);

/// A client that connects, waits past the park delay, then sends the
/// preface: its connection parked before its first byte and must still be
/// recognised as HTTP/2 when it resumes.
#[test]
fn a_connection_parked_before_its_preface_still_speaks_http2() {
    let config = ServerConfig {
        park_idle_after: Some(Duration::from_millis(1)),
        ..ServerConfig::default()
    };
    let server = start_serve_dir(config);
    let mut c = Conn::connect_raw(server.addr);
    // Not a synchronisation: the scenario is a client idle this long.
    std::thread::sleep(Duration::from_millis(50));
    c.send(h2wire::PREFACE);
    c.send(&h2wire::settings(&[]));
    let first = c.read_frame(WAIT).unwrap().expect("a frame, not EOF");
    assert_eq!(first.kind, Kind::Settings, "{first:?}");
    let id = c.get("/hello.txt");
    let r = c.read_response(id, WAIT).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, support::HELLO_TXT.as_bytes());
}

/// RFC 9113 §3.4: an invalid preface ends the connection. On a cleartext
/// listener whose first line names no HTTP version, the peer speaks
/// neither protocol and gets no HTTP/1.1 error it could not parse.
#[test]
fn an_invalid_preface_is_closed_without_an_answer() {
    let server = start_serve_dir(ServerConfig::default());
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.write_all(b"INVALID CONNECTION PREFACE\r\n\r\n").unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
}

/// Binary first bytes (here a TLS record whose random bytes hold a line
/// feed) are no text protocol: they keep HTTP/1.1's 400.
#[test]
fn binary_garbage_with_a_line_feed_still_gets_400() {
    let server = start_serve_dir(ServerConfig::default());
    let mut c = server.connect();
    c.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\x9a\xbc\r\n\r\n");
    c.read_response().assert_error(400);
}

/// With h2c off the same bytes are just a bad HTTP/1.1 request: 400.
#[test]
fn with_h2c_off_a_bad_request_line_is_answered_400() {
    let mut config = ServerConfig::default();
    config.http2.h2c = false;
    let server = start_serve_dir(config);
    let mut c = server.connect();
    c.send("INVALID CONNECTION PREFACE\r\n\r\n");
    c.read_response().assert_error(400);
}

/// A second HEADERS frame without END_STREAM (trailers must end the
/// stream) makes the request malformed (RFC 9113 §8.1): its stream is
/// reset with PROTOCOL_ERROR, and the handler's answer (ServeDir does not
/// read the body) is never sent.
#[test]
fn a_malformed_request_gets_its_stream_error_not_a_response() {
    let server = start_serve_dir(ServerConfig::default());
    let mut c = Conn::handshake(server.addr);
    let block = h2wire::request_block("POST", "http", "x", "/hello.txt", &[]);
    c.send(&h2wire::headers(1, flag::END_HEADERS, &block));
    c.send(&h2wire::data(1, 0, b"test"));
    let trailers = h2wire::header_block(&[("x-trailer", "1")]);
    c.send(&h2wire::headers(1, flag::END_HEADERS, &trailers));
    let frame = c
        .read_until(|f| f.stream_id == 1 || f.kind == Kind::Goaway, WAIT)
        .unwrap()
        .expect("a frame for stream 1");
    assert_eq!(frame.kind, Kind::RstStream, "{frame:?}");
    assert_eq!(h2wire::rst_error_code(&frame), Some(error::PROTOCOL_ERROR));
    // The connection goes on.
    c.send(&h2wire::get(3, "/hello.txt"));
    assert_eq!(c.read_response(3, WAIT).unwrap().status, 200);
}

/// RFC 9113 §5.1: HEADERS on a stream the client reset is an error
/// (STREAM_CLOSED, or the connection error the `h2` crate makes of it);
/// it is never answered as a new request.
#[test]
fn headers_after_the_clients_reset_are_refused() {
    let server = start_serve_dir(ServerConfig::default());
    let mut c = Conn::handshake(server.addr);
    let block = h2wire::request_block("GET", "http", "x", "/hello.txt", &[]);
    c.send(&h2wire::headers(1, flag::END_HEADERS, &block));
    c.send(&h2wire::rst_stream(1, error::CANCEL));
    let block = h2wire::request_block("GET", "http", "x", "/hello.txt", &[]);
    c.send(&h2wire::headers(
        1,
        flag::END_HEADERS | flag::END_STREAM,
        &block,
    ));
    let frame = c
        .read_until(
            |f| {
                matches!(
                    f.kind,
                    Kind::RstStream | Kind::Goaway | Kind::Data | Kind::Headers
                )
            },
            WAIT,
        )
        .unwrap()
        .expect("an error for stream 1");
    match frame.kind {
        Kind::RstStream => assert_eq!(h2wire::rst_error_code(&frame), Some(error::STREAM_CLOSED)),
        Kind::Goaway => {
            let code = h2wire::goaway_error_code(&frame);
            assert!(
                matches!(code, Some(error::STREAM_CLOSED | error::PROTOCOL_ERROR)),
                "{frame:?}"
            );
            assert!(c.closed_within(WAIT), "a connection error closes");
        }
        _ => panic!("answered: {frame:?}"),
    }
}

/// A request still sending its body is answered once it ends, and the
/// answer is the handler's (the body was read and dropped by the stream).
#[test]
fn a_request_with_an_unread_body_is_answered_when_it_ends() {
    let server = start_serve_dir(ServerConfig::default());
    let mut c = Conn::handshake(server.addr);
    let block = h2wire::request_block("GET", "http", "x", "/hello.txt", &[]);
    c.send(&h2wire::headers(1, flag::END_HEADERS, &block));
    c.send(&h2wire::data(1, 0, b"ignored"));
    // Nothing yet: the request has not ended.
    assert!(
        c.read_until(|f| f.stream_id == 1, Duration::from_millis(200))
            .is_err(),
        "answered before the request ended"
    );
    c.send(&h2wire::data(1, flag::END_STREAM, b""));
    let r = c.read_response(1, WAIT).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, support::HELLO_TXT.as_bytes());
}
