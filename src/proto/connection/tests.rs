//! Tests of the connection state machine: byte strings in, events and
//! response bytes out.

use super::*;
use crate::proto::BodyLength;
use http::StatusCode;

const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";

fn drain(conn: &mut Connection) -> Vec<String> {
    let mut events = Vec::new();
    loop {
        match conn.next_event() {
            Ok(Event::Head(h)) => events.push(format!("head {} {}", h.method, h.uri)),
            Ok(Event::Data(d)) => events.push(format!("data {}", String::from_utf8_lossy(&d))),
            Ok(Event::End(_)) => events.push("end".into()),
            Ok(Event::NeedData) => return events,
            Ok(Event::Paused) => {
                events.push("paused".into());
                return events;
            }
            Ok(Event::Closed) => {
                events.push("closed".into());
                return events;
            }
            Err(e) => {
                events.push(format!("error {}", e.kind().slug()));
                return events;
            }
        }
    }
}

fn respond(conn: &mut Connection, body: &[u8]) -> String {
    let headers = HeaderMap::new();
    let mut out = Vec::new();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Known(body.len() as u64),
    };
    conn.send_head(&head, DATE, &mut out);
    conn.send_data(body, &mut out).unwrap();
    conn.send_end(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn pipelined_requests_pause_until_the_cycle_restarts() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(drain(&mut c), ["head GET /a", "end", "paused"]);
    respond(&mut c, b"a");
    assert!(c.start_next_cycle().is_ok());
    assert_eq!(drain(&mut c), ["head GET /b", "end", "paused"]);
}

#[test]
fn a_recycled_header_map_carries_nothing_into_the_next_request() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n");
    assert!(matches!(c.next_event(), Ok(Event::Head(_))));
    assert!(matches!(c.next_event(), Ok(Event::End(_))));
    respond(&mut c, b"a");
    let mut sent = HeaderMap::with_capacity(8);
    sent.insert("x-stale", http::HeaderValue::from_static("1"));
    let capacity = sent.capacity();
    c.recycle_headers(sent);
    assert!(c.start_next_cycle().is_ok());
    let Ok(Event::Head(head)) = c.next_event() else {
        panic!("no second head");
    };
    assert_eq!(head.headers.len(), 1);
    assert_eq!(head.headers["host"], "y");
    assert_eq!(head.headers.capacity(), capacity, "the map was not reused");
    // Too large a map is not kept; an idle connection keeps none.
    let mut big = HeaderMap::with_capacity(RECYCLED_HEADERS_MAX + 1);
    big.insert("x-big", http::HeaderValue::from_static("1"));
    c.recycle_headers(big);
    assert_eq!(c.spare_headers.capacity(), 0);
    c.recycle_headers(HeaderMap::with_capacity(8));
    c.release_idle_buffer();
    assert_eq!(c.spare_headers.capacity(), 0);
}

#[test]
fn an_empty_body_is_complete_with_its_head() {
    // A driver need not pull the End of an empty body: the next cycle
    // starts without it.
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(matches!(c.next_event(), Ok(Event::Head(_))));
    assert_eq!(c.state().request, RequestProgress::Complete);
    respond(&mut c, b"a");
    assert!(c.start_next_cycle().is_ok());
    assert_eq!(drain(&mut c), ["head GET /b", "end", "paused"]);

    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nh");
    assert!(matches!(c.next_event(), Ok(Event::Head(_))));
    assert_eq!(c.state().request, RequestProgress::Body(Some(2)));
    assert!(matches!(c.next_event(), Ok(Event::Data(d)) if d == "h"));
    assert_eq!(c.state().request, RequestProgress::Body(Some(1)));
    c.receive(b"i");
    assert!(matches!(c.next_event(), Ok(Event::Data(d)) if d == "i"));
    assert_eq!(c.state().request, RequestProgress::Complete);
}

#[test]
fn content_length_body_then_next_request() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel");
    assert_eq!(drain(&mut c), ["head POST /", "data hel"]);
    c.receive(b"loGET");
    assert_eq!(drain(&mut c), ["data lo", "end", "paused"]);
    respond(&mut c, b"");
    assert!(c.start_next_cycle().is_ok());
    c.receive(b" / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(drain(&mut c), ["head GET /", "end", "paused"]);
}

#[test]
fn eof_between_requests_is_clean_and_mid_body_is_an_error() {
    let mut c = Connection::new(Limits::default());
    c.receive_eof();
    assert_eq!(drain(&mut c), ["closed"]);
    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
    c.receive_eof();
    assert_eq!(
        drain(&mut c),
        ["head POST /", "data ab", "error incomplete-body"]
    );
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTT");
    c.receive_eof();
    assert_eq!(drain(&mut c), ["error incomplete-head"]);
}

#[test]
fn errors_are_sticky_and_force_close() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    assert_eq!(drain(&mut c), ["error conflicting-framing"]);
    assert_eq!(drain(&mut c), ["error conflicting-framing"]);
    let out = respond(&mut c, b"");
    assert!(out.contains("Connection: close\r\n"));
    assert!(c.start_next_cycle().is_err());
}

#[test]
fn expect_continue() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(drain(&mut c), ["head POST /"]);
    assert!(c.state().expects_continue);
    let mut out = Vec::new();
    c.send_continue(&mut out);
    assert_eq!(out, b"HTTP/1.1 100 Continue\r\n\r\n");
    assert!(!c.state().expects_continue);
    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: nope\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(drain(&mut c), ["error expectation-failed"]);
}

#[test]
fn short_body_is_a_length_mismatch() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    drain(&mut c);
    let headers = HeaderMap::new();
    let mut out = Vec::new();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Known(5),
    };
    c.send_head(&head, DATE, &mut out);
    assert_eq!(c.send_data(b"abcdef", &mut out), Err(LengthMismatch));
    c.send_data(b"ab", &mut out).unwrap();
    assert_eq!(c.send_end(&mut out), Err(LengthMismatch));
    assert_eq!(c.state().close, Some(CloseReason::ResponseIncomplete));
}

#[test]
fn chunked_response() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    drain(&mut c);
    let headers = HeaderMap::new();
    let mut out = Vec::new();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Unknown,
    };
    c.send_head(&head, DATE, &mut out);
    out.clear();
    c.send_data(b"hello", &mut out).unwrap();
    c.send_data(b"", &mut out).unwrap();
    c.send_end(&mut out).unwrap();
    assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
    assert!(c.start_next_cycle().is_ok());
}

/// A connection that has read `GET /` and sent a head for a body of
/// `length`; the head's bytes are dropped.
fn sending(length: BodyLength) -> Connection {
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    drain(&mut c);
    let headers = HeaderMap::new();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: length,
    };
    c.send_head(&head, DATE, &mut Vec::new());
    c
}

#[test]
fn body_pieces_sent_by_the_driver_are_framed_and_counted() {
    // Chunked: the piece's header before, its CRLF after; the bytes
    // themselves go by another route.
    let mut c = sending(BodyLength::Unknown);
    assert_eq!(c.state().response, ResponseProgress::Body(None));
    let mut out = Vec::new();
    let piece = c.begin_data(5, &mut out).unwrap().expect("a body");
    out.extend_from_slice(b"hello");
    piece.finish(&mut out);
    c.send_end(&mut out).unwrap();
    assert_eq!(out, b"5\r\nhello\r\n0\r\n\r\n");
    assert_eq!(c.state().body_bytes_sent, 5);
    assert!(c.start_next_cycle().is_ok());

    // Length-framed: nothing around the bytes, which count against the
    // length.
    let mut c = sending(BodyLength::Known(8));
    assert_eq!(c.state().response, ResponseProgress::Body(Some(8)));
    let mut out = Vec::new();
    c.begin_data(8, &mut out)
        .unwrap()
        .expect("a body")
        .finish(&mut out);
    assert!(out.is_empty());
    assert_eq!(c.state().response, ResponseProgress::Body(Some(0)));
    assert_eq!(c.begin_data(1, &mut out).err(), Some(LengthMismatch));
    // Nothing to send, no piece.
    assert!(c.begin_data(0, &mut out).unwrap().is_none());
    c.send_end(&mut out).unwrap();
    assert_eq!(c.state().response, ResponseProgress::Complete);

    // No body (HEAD, 204, 304): no piece.
    let mut c = Connection::new(Limits::default());
    c.receive(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    drain(&mut c);
    let headers = HeaderMap::new();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Known(3),
    };
    c.send_head(&head, DATE, &mut Vec::new());
    assert_eq!(c.state().response, ResponseProgress::Complete);
    assert!(c.begin_data(3, &mut Vec::new()).unwrap().is_none());
}

#[test]
fn an_abandoned_body_piece_leaves_the_response_incomplete() {
    let mut c = sending(BodyLength::Known(8));
    let piece = c.begin_data(8, &mut Vec::new()).unwrap();
    // The driver's write failed: the piece is dropped unfinished.
    drop(piece);
    assert_eq!(c.state().close, Some(CloseReason::ResponseIncomplete));
    c.send_end(&mut Vec::new()).unwrap();
    let close = c.start_next_cycle().unwrap_err();
    assert_eq!(close.reason, CloseReason::ResponseIncomplete);
}

#[test]
fn upgrade_offers_and_the_switch() {
    let offered = |req: &[u8]| {
        let mut c = Connection::new(Limits::default());
        c.receive(req);
        drain(&mut c);
        c.state().upgrade_offered
    };
    assert!(offered(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
    ));
    // RFC 9110 §7.8: Upgrade must come with its connection option, and
    // means nothing in HTTP/1.0.
    assert!(!offered(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"
    ));
    assert!(!offered(
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n"
    ));
    assert!(!offered(
        b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
    ));

    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nafter");
    assert_eq!(drain(&mut c), ["head GET /", "end", "paused"]);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_static("echo"),
    );
    let mut out = Vec::new();
    let head = ResponseHead {
        status: StatusCode::SWITCHING_PROTOCOLS,
        headers: &headers,
        body: BodyLength::Known(0),
    };
    c.send_head(&head, DATE, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{out}"
    );
    assert!(
        out.ends_with("upgrade: echo\r\nConnection: upgrade\r\n\r\n"),
        "{out}"
    );
    // What follows belongs to the new protocol, untouched.
    assert_eq!(drain(&mut c), ["closed"]);
    assert_eq!(&c.read_buf_mut()[..], b"after");
    assert!(c.start_next_cycle().is_err());
}
#[test]
fn tmp_size() {
    println!("CONN SIZE {}", std::mem::size_of::<Connection>());
}
