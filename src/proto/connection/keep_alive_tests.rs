//! Tests of the keep-alive decision: byte strings in, the response's
//! `Connection` field and the [`Close`] (reason, linger) out, one test per
//! reason.

use super::*;
use crate::proto::BodyLength;
use http::{HeaderValue, StatusCode};

const DATE: &[u8] = b"Sun, 06 Nov 1994 08:49:37 GMT";
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// Reads events up to the end of the first request (or an error).
fn read_request(c: &mut Connection) {
    loop {
        match c.next_event() {
            Ok(Event::Head(_) | Event::Data(_) | Event::End(_)) => {}
            Ok(Event::NeedData | Event::Paused | Event::Closed) | Err(_) => return,
        }
    }
}

/// A response with `fields` and a `body` of that length, as a driver sends
/// it; returns the head's `Connection` field, if any.
fn respond(
    c: &mut Connection,
    status: u16,
    fields: &[(&'static str, &'static str)],
    body: &[u8],
) -> Option<String> {
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        headers.append(*name, HeaderValue::from_static(value));
    }
    let head = ResponseHead {
        status: StatusCode::from_u16(status).unwrap(),
        headers: &headers,
        body: BodyLength::Known(body.len() as u64),
    };
    let mut out = Vec::new();
    c.send_head(&head, DATE, &mut out);
    c.send_data(body, &mut out).unwrap();
    c.send_end(&mut out).unwrap();
    connection_field(&out)
}

fn connection_field(out: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(out);
    let head = &text[..text.find("\r\n\r\n").expect("a whole head")];
    head.lines()
        .find_map(|line| line.strip_prefix("Connection: "))
        .map(str::to_owned)
}

/// `request` read whole and answered `200 OK` with a small body.
fn exchange(request: &[u8]) -> (Connection, Option<String>) {
    let mut c = Connection::new(Limits::default());
    c.receive(request);
    read_request(&mut c);
    let field = respond(&mut c, 200, &[], b"ok");
    (c, field)
}

fn close(reason: CloseReason, linger: bool) -> Result<(), Close> {
    Err(Close { reason, linger })
}

#[test]
fn http11_persists_by_default() {
    let (mut c, field) = exchange(GET);
    assert_eq!(field, None);
    assert_eq!(c.state().close, None);
    assert_eq!(c.start_next_cycle(), Ok(()));
    // So does HTTP/1.0 with keep-alive, and is told so (RFC 9112 §9.3).
    let (mut c, field) = exchange(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert_eq!(field.as_deref(), Some("keep-alive"));
    assert_eq!(c.start_next_cycle(), Ok(()));
}

#[test]
fn bad_request() {
    let mut c = Connection::new(Limits::default());
    c.receive(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    read_request(&mut c);
    let reason = CloseReason::BadRequest(ErrorKind::ConflictingFraming);
    assert_eq!(c.state().close, Some(reason));
    assert_eq!(respond(&mut c, 400, &[], b"").as_deref(), Some("close"));
    assert_eq!(c.start_next_cycle(), close(reason, true));
    assert_eq!(reason.to_string(), "bad-request (conflicting-framing)");
}

#[test]
fn peer_closed() {
    let mut c = Connection::new(Limits::default());
    c.receive_eof();
    assert!(matches!(c.next_event(), Ok(Event::Closed)));
    assert_eq!(c.state().close, Some(CloseReason::PeerClosed));
    // Nothing more can come: no lingering.
    assert_eq!(c.start_next_cycle(), close(CloseReason::PeerClosed, false));
}

#[test]
fn client_asked() {
    let (mut c, field) =
        exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n");
    assert_eq!(field.as_deref(), Some("close"));
    // The client finished the connection itself: close at once.
    assert_eq!(c.start_next_cycle(), close(CloseReason::ClientAsked, false));
    // Unless more has arrived after its request (RFC 9112 §9.6): linger.
    let (mut c, _) = exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /");
    assert_eq!(c.start_next_cycle(), close(CloseReason::ClientAsked, true));
}

#[test]
fn http10_without_keep_alive() {
    let (mut c, field) = exchange(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(field.as_deref(), Some("close"));
    assert_eq!(
        c.start_next_cycle(),
        close(CloseReason::Http10WithoutKeepAlive, false)
    );
    // An unrelated option does not make it persist.
    let (mut c, _) = exchange(b"GET / HTTP/1.0\r\nConnection: upgrade\r\n\r\n");
    assert_eq!(
        c.start_next_cycle(),
        close(CloseReason::Http10WithoutKeepAlive, false)
    );
}

#[test]
fn continue_unanswered() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    read_request(&mut c);
    assert_eq!(c.state().close, None);
    assert_eq!(respond(&mut c, 417, &[], b"").as_deref(), Some("close"));
    assert_eq!(c.state().close, Some(CloseReason::ContinueUnanswered));
    assert_eq!(
        c.start_next_cycle(),
        close(CloseReason::ContinueUnanswered, true)
    );
    // Answered, the body is read and the connection persists.
    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    read_request(&mut c);
    c.send_continue(&mut Vec::new());
    c.receive(b"hi");
    read_request(&mut c);
    assert_eq!(respond(&mut c, 200, &[], b""), None);
    assert_eq!(c.start_next_cycle(), Ok(()));
}

#[test]
fn the_engines_reasons() {
    for reason in [
        CloseReason::BodyRefused,
        CloseReason::BodyUnread,
        CloseReason::BodyReadFailed,
        CloseReason::Shutdown,
    ] {
        // Given before the head, the head says so.
        let mut c = Connection::new(Limits::default());
        c.receive(GET);
        read_request(&mut c);
        c.close(reason);
        assert_eq!(respond(&mut c, 200, &[], b"ok").as_deref(), Some("close"));
        assert_eq!(c.start_next_cycle(), close(reason, true));
        // Given after it, the connection closes all the same.
        let (mut c, field) = exchange(GET);
        assert_eq!(field, None);
        c.close(reason);
        assert_eq!(c.start_next_cycle(), close(reason, true));
    }
    // Whatever the order they are given in, the reason first in
    // CloseReason's order is the one given.
    let (mut c, _) = exchange(GET);
    c.close(CloseReason::Shutdown);
    c.close(CloseReason::BodyRefused);
    c.close(CloseReason::BodyReadFailed);
    assert_eq!(c.state().close, Some(CloseReason::BodyRefused));
}

#[test]
fn body_unread() {
    // A driver that answers without reading the body, and says nothing:
    // the head promised nothing, but the next request cannot be found.
    let mut c = Connection::new(Limits::default());
    c.receive(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    assert!(matches!(c.next_event(), Ok(Event::Head(_))));
    assert_eq!(respond(&mut c, 200, &[], b""), None);
    assert_eq!(c.state().close, None);
    assert_eq!(c.start_next_cycle(), close(CloseReason::BodyUnread, true));
}

#[test]
fn response_asked() {
    let mut c = Connection::new(Limits::default());
    c.receive(GET);
    read_request(&mut c);
    let field = respond(&mut c, 200, &[("connection", "close")], b"");
    assert_eq!(field.as_deref(), Some("close"));
    assert_eq!(
        c.start_next_cycle(),
        close(CloseReason::ResponseAsked, true)
    );
}

#[test]
fn response_close_delimited() {
    // HTTP/1.0 cannot read chunked: a body of unknown length ends with the
    // connection, even one the client asked to keep.
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    read_request(&mut c);
    let headers = HeaderMap::new();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Unknown,
    };
    let mut out = Vec::new();
    c.send_head(&head, DATE, &mut out);
    assert_eq!(connection_field(&out).as_deref(), Some("close"));
    c.send_data(b"streamed", &mut out).unwrap();
    c.send_end(&mut out).unwrap();
    assert!(out.ends_with(b"\r\n\r\nstreamed"));
    assert_eq!(
        c.start_next_cycle(),
        close(CloseReason::ResponseCloseDelimited, true)
    );
}

#[test]
fn response_incomplete() {
    let mut c = Connection::new(Limits::default());
    c.receive(GET);
    read_request(&mut c);
    let headers = HeaderMap::new();
    let head = ResponseHead {
        status: StatusCode::OK,
        headers: &headers,
        body: BodyLength::Known(5),
    };
    let mut out = Vec::new();
    c.send_head(&head, DATE, &mut out);
    assert_eq!(connection_field(&out), None);
    c.send_data(b"ab", &mut out).unwrap();
    assert_eq!(c.send_end(&mut out), Err(LengthMismatch));
    assert_eq!(
        c.start_next_cycle(),
        close(CloseReason::ResponseIncomplete, true)
    );
    // A response never ended is incomplete too.
    let mut c = Connection::new(Limits::default());
    c.receive(GET);
    read_request(&mut c);
    c.send_head(&head, DATE, &mut Vec::new());
    assert_eq!(
        c.start_next_cycle(),
        close(CloseReason::ResponseIncomplete, true)
    );
}

#[test]
fn upgrade() {
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n");
    read_request(&mut c);
    assert!(c.state().upgrade_offered);
    let field = respond(&mut c, 101, &[("upgrade", "echo")], b"");
    // The connection option of the switch, not `close`.
    assert_eq!(field.as_deref(), Some("upgrade"));
    assert_eq!(c.state().close, Some(CloseReason::Upgrade));
    assert_eq!(
        c.start_next_cycle().unwrap_err().reason,
        CloseReason::Upgrade
    );
}

#[test]
fn the_reason_given_is_the_first_that_applies() {
    // A broken request that also asked to close: the break.
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: x\r\n\r\n");
    read_request(&mut c);
    assert_eq!(
        c.state().close,
        Some(CloseReason::BadRequest(ErrorKind::BadContentLength))
    );
    // The client's request before the engine's reasons, and those before
    // the response's.
    let mut c = Connection::new(Limits::default());
    c.receive(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    read_request(&mut c);
    c.close(CloseReason::Shutdown);
    respond(&mut c, 200, &[("connection", "close")], b"");
    assert_eq!(c.start_next_cycle(), close(CloseReason::ClientAsked, false));
    let mut c = Connection::new(Limits::default());
    c.receive(GET);
    read_request(&mut c);
    c.close(CloseReason::Shutdown);
    respond(&mut c, 200, &[("connection", "close")], b"");
    assert_eq!(c.start_next_cycle(), close(CloseReason::Shutdown, true));
}

#[test]
fn every_reason_has_a_distinct_name() {
    let reasons = [
        CloseReason::BadRequest(ErrorKind::HeadTimeout),
        CloseReason::PeerClosed,
        CloseReason::ClientAsked,
        CloseReason::Http10WithoutKeepAlive,
        CloseReason::ContinueUnanswered,
        CloseReason::BodyRefused,
        CloseReason::BodyUnread,
        CloseReason::BodyReadFailed,
        CloseReason::Shutdown,
        CloseReason::ResponseAsked,
        CloseReason::ResponseCloseDelimited,
        CloseReason::ResponseIncomplete,
        CloseReason::Upgrade,
    ];
    let mut names: Vec<_> = reasons.iter().map(|r| r.slug()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), reasons.len());
}
