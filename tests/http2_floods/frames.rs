//! Stream limits and invalid frames: streams beyond
//! SETTINGS_MAX_CONCURRENT_STREAMS refused, connection errors that end
//! their connection only, and frames to ignore that must not end one.

use super::*;

/// A client opening more streams than the SETTINGS_MAX_CONCURRENT_STREAMS
/// the server advertised: the streams beyond it are refused
/// (RST_STREAM REFUSED_STREAM, RFC 9113 §5.1.2), the others served, the
/// connection kept; once one ends, a new stream is served. Guards against
/// a server that takes any number of streams (each a handler and its
/// buffers) or that ends the whole connection for it.
#[test]
fn streams_beyond_max_concurrent_streams_are_refused() {
    let mut config = attack_config();
    config.http2.max_concurrent_streams = 4;
    let server = start_with(config, echo);
    let mut conn = Conn::handshake(server.addr);
    let advertised = conn
        .server_settings
        .iter()
        .find(|&&(id, _)| id == setting::MAX_CONCURRENT_STREAMS)
        .map(|&(_, v)| v);
    assert_eq!(advertised, Some(4), "advertised max concurrent streams");
    // Seven uploads begun, none finished: four open, three too many.
    let block = request_block("POST", "http", "localhost", "/upload", &[]);
    let ids: Vec<u32> = (0..7).map(|_| conn.open_stream()).collect();
    let opens: Vec<u8> = ids
        .iter()
        .flat_map(|&id| headers(id, flag::END_HEADERS, &block))
        .collect();
    conn.send(&opens);
    let mut refused = Vec::new();
    let deadline = Instant::now() + WAIT;
    while refused.len() < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.read_frame(left) {
            Ok(Some(f)) if f.kind == Kind::RstStream => {
                let code = rst_error_code(&f);
                assert_eq!(
                    code,
                    Some(error::REFUSED_STREAM),
                    "stream {} reset with {}",
                    f.stream_id,
                    code_name(code)
                );
                refused.push(f.stream_id);
            }
            Ok(Some(f)) if f.kind == Kind::Goaway => panic!("GOAWAY for extra streams: {f:?}"),
            Ok(Some(_)) => {}
            other => panic!("refused so far {refused:?}, then {other:?}"),
        }
    }
    assert_eq!(refused, ids[4..], "the streams refused");
    // The open ones are served.
    conn.send(&data(ids[0], flag::END_STREAM, b"first"));
    let res = conn
        .read_response(ids[0], WAIT)
        .unwrap_or_else(|e| panic!("an open stream: {e}"));
    assert_eq!((res.status, &res.body[..]), (200, &b"first"[..]));
    // A slot is free again: a new stream is served.
    let id = conn.request("POST", "/upload", &[], Some(b"again"));
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("a new stream once one ended: {e}"));
    assert_eq!((res.status, &res.body[..]), (200, &b"again"[..]));
    others_served(server.addr, b"");
}

/// How an attacking connection ended.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    Goaway(u32),
    Closed,
    Open,
}

fn ending(conn: &mut Conn) -> Ending {
    match conn.read_until(|f| f.kind == Kind::Goaway, WAIT) {
        Ok(Some(f)) => Ending::Goaway(goaway_error_code(&f).unwrap_or(u32::MAX)),
        Ok(None) => Ending::Closed,
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Ending::Open,
        Err(_) => Ending::Closed,
    }
}

/// Connection errors (RFC 9113 §5.4.1), one connection each: each is ended
/// with GOAWAY and the code the RFC names, then closed (the `h2` crate
/// answers PROTOCOL_ERROR where the RFC names FRAME_SIZE_ERROR for a
/// SETTINGS or PING of the wrong length, FLOW_CONTROL_ERROR for
/// SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1 and COMPRESSION_ERROR for an
/// HPACK error: accepted, as any connection error ends it the same way); meanwhile another
/// connection, with an upload in progress, goes on undisturbed. Guards
/// against an error on one connection reaching shared state (a panic, a
/// stuck task, a poisoned lock).
#[test]
fn invalid_frames_end_their_connection_only() {
    use error::{COMPRESSION_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, PROTOCOL_ERROR};
    let server = start_with(attack_config(), echo);
    let mut good = Conn::handshake(server.addr);
    let upload = good.open_stream();
    let post = request_block("POST", "http", "localhost", "/upload", &[]);
    good.send(&headers(upload, flag::END_HEADERS, &post));
    good.send(&data(upload, 0, b"begun, "));

    let get = request_block("GET", "http", "localhost", "/hello.txt", &[]);
    let both = flag::END_STREAM | flag::END_HEADERS;
    let mut cases: Vec<(&str, Vec<u8>, &[u32])> = vec![
        ("DATA on stream 0", data(0, 0, b"x"), &[PROTOCOL_ERROR]),
        (
            "WINDOW_UPDATE of 0 on the connection",
            window_update(0, 0),
            &[PROTOCOL_ERROR],
        ),
        (
            "SETTINGS of 7 bytes",
            h2wire::frame(Kind::Settings, 0, 0, &[0; 7]),
            &[FRAME_SIZE_ERROR, PROTOCOL_ERROR],
        ),
        (
            "PING of 7 bytes",
            h2wire::frame(Kind::Ping, 0, 0, &[0; 7]),
            &[FRAME_SIZE_ERROR, PROTOCOL_ERROR],
        ),
        (
            "HEADERS on an even stream",
            headers(2, both, &get),
            &[PROTOCOL_ERROR],
        ),
        (
            "CONTINUATION without HEADERS",
            continuation(1, flag::END_HEADERS, &get),
            &[PROTOCOL_ERROR],
        ),
        (
            "HEADERS interrupted by a PING",
            [headers(1, flag::END_STREAM, &get), ping(*b"12345678")].concat(),
            &[PROTOCOL_ERROR],
        ),
        (
            "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1",
            settings(&[(setting::INITIAL_WINDOW_SIZE, 1 << 31)]),
            &[FLOW_CONTROL_ERROR, PROTOCOL_ERROR],
        ),
        (
            "SETTINGS_ENABLE_PUSH of 2",
            settings(&[(setting::ENABLE_PUSH, 2)]),
            &[PROTOCOL_ERROR],
        ),
        (
            "SETTINGS_MAX_FRAME_SIZE under 16384",
            settings(&[(setting::MAX_FRAME_SIZE, 100)]),
            &[PROTOCOL_ERROR],
        ),
        (
            "WINDOW_UPDATE past 2^31-1 on the connection",
            window_update(0, MAX_WINDOW),
            &[FLOW_CONTROL_ERROR],
        ),
        (
            "stream ids going down",
            [headers(3, both, &get), headers(1, both, &get)].concat(),
            &[PROTOCOL_ERROR],
        ),
        (
            "RST_STREAM on an idle stream",
            rst_stream(5, error::CANCEL),
            &[PROTOCOL_ERROR],
        ),
        (
            "DATA beyond SETTINGS_MAX_FRAME_SIZE",
            [
                headers(1, flag::END_HEADERS, &post),
                data(1, 0, &[0; h2wire::DEFAULT_MAX_FRAME + 1]),
            ]
            .concat(),
            &[FRAME_SIZE_ERROR],
        ),
        (
            // RFC 7541 §6.1: index 0 is not used.
            "HPACK index 0",
            headers(1, both, &[0x80]),
            &[COMPRESSION_ERROR, PROTOCOL_ERROR],
        ),
    ];
    let mut wrong = Vec::new();
    for (what, bytes, codes) in cases.drain(..) {
        let mut attacker = Conn::handshake(server.addr);
        let _ = attacker.try_send(&bytes);
        let end = ending(&mut attacker);
        match end {
            Ending::Goaway(code) if codes.contains(&code) => {
                assert!(
                    attacker.closed_within(WAIT),
                    "{what}: not closed after GOAWAY"
                );
            }
            other => wrong.push(format!(
                "{what}: {other:?} ({}), expected GOAWAY {}",
                match other {
                    Ending::Goaway(c) => error::name(c),
                    _ => "-",
                },
                codes
                    .iter()
                    .map(|&c| error::name(c))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
        }
        assert!(
            good.ping_ok(WAIT),
            "the other connection stopped after: {what}"
        );
    }
    // The upload in progress all along completes.
    good.send(&data(upload, flag::END_STREAM, b"ended"));
    let res = good
        .read_response(upload, WAIT)
        .unwrap_or_else(|e| panic!("the upload in progress: {e}"));
    assert_eq!((res.status, &res.body[..]), (200, &b"begun, ended"[..]));
    others_served(server.addr, b"");
    assert!(
        wrong.is_empty(),
        "connection errors answered wrongly:\n{}",
        wrong.join("\n")
    );
}

/// What must not end a connection (RFC 9113 §4.1, §5.5): an unknown frame
/// type, an unknown SETTINGS parameter, PRIORITY frames, a stream's
/// WINDOW_UPDATE on a closed stream. Guards the other way: a defence that
/// ends connections for frames a peer may send.
#[test]
fn frames_to_ignore_do_not_end_the_connection() {
    let server = start_serve_dir(attack_config());
    let mut conn = Conn::handshake(server.addr);
    let id = conn.get("/hello.txt");
    let res = conn.read_response(id, WAIT).expect("first request");
    assert_eq!(res.status, 200);
    let prio = h2wire::Priority {
        dependency: 0,
        exclusive: false,
        weight: 15,
    };
    let ignorable = [
        h2wire::unknown(0xfa, 0xff, 0, b"extension"),
        h2wire::unknown(0xfb, 0, 1, b"on a stream"),
        settings(&[(0x99, 12345)]),
        h2wire::priority(101, prio),
        window_update(id, 1000),
    ]
    .concat();
    conn.send(&ignorable);
    assert!(conn.ping_ok(WAIT), "connection ended by ignorable frames");
    let id = conn.get("/hello.txt");
    let res = conn
        .read_response(id, WAIT)
        .unwrap_or_else(|e| panic!("after ignorable frames: {e}"));
    assert_eq!(res.status, 200);
}
