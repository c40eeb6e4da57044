//! The properties berth's fuzz targets check, as plain functions over the
//! fuzzer's bytes. Each panics when its property fails, which libFuzzer
//! reports as a crash. `tests/fuzz_regressions.rs` includes this very file
//! (`#[path]`), so committed crashers replay against the same checks.
//!
//! Splitting targets read their input as a [`Plan`]: the first byte says
//! how many cuts to make (bits 0–1), whether the peer closes after the last
//! byte (bit 2, `check_connection` only) and whether to use tiny limits
//! (bit 3); the next bytes give each cut's position as a fraction of the
//! payload; the rest is the payload. Each payload is then fed whole, one
//! byte at a time, and in the planned pieces, and all three runs must agree
//! (DESIGN.md §2: same bytes, same split-independent events).
//!
//! Only the public API is used: `proto` and `serve_dir::resolve_path`.

use std::path::Component;

use berth::proto::proxy;

use berth::proto::{
    BodyLength, ChunkedDecoder, CloseReason, Connection, Decoded, Event, HeadParser, Limits,
    ParseStatus, ResponseHead,
};
use berth::serve_dir::resolve_path;
use bytes::BytesMut;
use http::{HeaderMap, StatusCode};

/// A payload and how to cut it, read from the fuzzer's bytes.
struct Plan<'a> {
    payload: &'a [u8],
    cuts: Vec<usize>,
    eof: bool,
    limits: Limits,
}

impl<'a> Plan<'a> {
    fn read(data: &'a [u8]) -> Plan<'a> {
        let (control, rest) = data.split_first().map_or((0, data), |(c, r)| (*c, r));
        let count = usize::from(control & 3).min(rest.len());
        let (positions, payload) = rest.split_at(count);
        let mut cuts: Vec<usize> = positions
            .iter()
            .map(|&p| usize::from(p) * payload.len() / 255)
            .collect();
        cuts.sort_unstable();
        let limits = if control & 8 != 0 {
            Limits {
                max_head_bytes: 64,
                max_target_bytes: 16,
                max_headers: 4,
                max_chunk_ext_bytes: 8,
                max_trailer_bytes: 24,
            }
        } else {
            Limits::default()
        };
        Plan {
            payload,
            cuts,
            eof: control & 4 != 0,
            limits,
        }
    }

    /// The three ways to feed the payload: whole, bytewise, planned.
    fn feeds(&self) -> [(&'static str, Vec<&'a [u8]>); 3] {
        let mut planned = Vec::new();
        let mut start = 0;
        for &cut in &self.cuts {
            planned.push(&self.payload[start..cut]);
            start = cut;
        }
        planned.push(&self.payload[start..]);
        [
            ("whole", vec![self.payload]),
            ("bytewise", self.payload.chunks(1).collect()),
            ("planned", planned),
        ]
    }

    /// Runs `outcome` on each feed and asserts they all agree.
    fn assert_split_independent(&self, outcome: impl Fn(&[&[u8]]) -> String) {
        let [(_, whole), rest @ ..] = self.feeds();
        let expected = outcome(&whole);
        for (how, pieces) in rest {
            let got = outcome(&pieces);
            assert_eq!(expected, got, "fed {how} (cuts {:?})", self.cuts);
        }
    }
}

/// `HeadParser`: never panics; the same head (and the same number of bytes
/// consumed), the same error, or `Partial`, however the input is split.
pub fn check_parse_head(data: &[u8]) {
    let plan = Plan::read(data);
    plan.assert_split_independent(|pieces| {
        let mut parser = HeadParser::new(plan.limits);
        let mut buf = BytesMut::new();
        let mut fed = 0;
        for piece in pieces {
            buf.extend_from_slice(piece);
            fed += piece.len();
            match parser.parse(&mut buf) {
                Ok(ParseStatus::Complete(head)) => {
                    return format!("{head:?} after {}", fed - buf.len());
                }
                Ok(ParseStatus::Partial) => {}
                Err(e) => return format!("error {:?}", e.kind()),
            }
        }
        "partial".into()
    });
}

/// `ChunkedDecoder`: never panics, never returns empty data, never consumes
/// bytes past the end of the body, errors are sticky, and the body, the
/// trailers and the end are the same however the input is split.
pub fn check_chunked(data: &[u8]) {
    let plan = Plan::read(data);
    plan.assert_split_independent(|pieces| {
        let mut decoder = ChunkedDecoder::new(&plan.limits);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut fed = 0;
        for piece in pieces {
            buf.extend_from_slice(piece);
            fed += piece.len();
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Decoded::Data(d)) => {
                        assert!(!d.is_empty(), "empty Data");
                        body.extend_from_slice(&d);
                    }
                    Ok(Decoded::NeedData) => break,
                    Ok(Decoded::End(trailers)) => {
                        return format!(
                            "body {body:?} trailers {trailers:?} after {}",
                            fed - buf.len()
                        );
                    }
                    Err(e) => {
                        assert_eq!(decoder.decode(&mut buf), Err(e), "error not sticky");
                        return format!("body {body:?} error {:?}", e.kind());
                    }
                }
            }
        }
        format!("body {body:?} incomplete")
    });
}

/// `Connection`: never panics, and the event list (data merged, responses
/// sent as a minimal driver would) is the same however the input is split;
/// an error ends the list, must be sticky, and must close the connection
/// for that error. (Why the server closes is part of the list: a reason
/// must not depend on how the input was split.)
pub fn check_connection(data: &[u8]) {
    let plan = Plan::read(data);
    plan.assert_split_independent(|pieces| drive(plan.limits, pieces, plan.eof).join("\n"));
}

fn drive(limits: Limits, pieces: &[&[u8]], eof: bool) -> Vec<String> {
    // Each event either consumes input, ends a cycle, or ends the run;
    // anything beyond this bound is a livelock.
    let bound = 16 * (pieces.len() + pieces.iter().map(|p| p.len()).sum::<usize>()) + 64;
    let mut conn = Connection::new(limits);
    let mut pieces = pieces.iter();
    let mut events: Vec<String> = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    let mut eof_sent = false;
    for _ in 0..bound {
        let event = conn.next_event();
        if !matches!(event, Ok(Event::Data(_) | Event::NeedData)) && !data.is_empty() {
            events.push(format!("data {:?}", std::mem::take(&mut data)));
        }
        match event {
            Ok(Event::Head(head)) => events.push(format!("{head:?}")),
            Ok(Event::Data(d)) => {
                assert!(!d.is_empty(), "empty Data event");
                data.extend_from_slice(&d);
            }
            Ok(Event::End(trailers)) => events.push(format!("end {trailers:?}")),
            Ok(Event::NeedData) => match pieces.next() {
                Some(piece) => conn.receive(piece),
                None if eof && !eof_sent => {
                    conn.receive_eof();
                    eof_sent = true;
                }
                None => {
                    if !data.is_empty() {
                        events.push(format!("data {data:?}"));
                    }
                    events.push("need-data".into());
                    return events;
                }
            },
            Ok(Event::Paused) => {
                events.push("paused".into());
                respond(&mut conn, StatusCode::OK);
                if let Err(close) = conn.start_next_cycle() {
                    events.push(format!("closed-by-server {}", close.reason));
                    return events;
                }
            }
            Ok(Event::Closed) => {
                events.push("closed".into());
                return events;
            }
            Err(e) => {
                events.push(format!("error {:?}", e.kind()));
                assert_eq!(conn.next_event().err(), Some(e), "error not sticky");
                if let Some(status) = e.status() {
                    let out = respond(&mut conn, status);
                    let out = String::from_utf8_lossy(&out);
                    assert!(out.contains("\r\nConnection: close\r\n"), "{out}");
                }
                let close = conn
                    .start_next_cycle()
                    .expect_err("new cycle after an error");
                assert_eq!(close.reason, CloseReason::BadRequest(e.kind()));
                return events;
            }
        }
    }
    panic!("no end after {bound} events: {events:?}");
}

fn respond(conn: &mut Connection, status: StatusCode) -> Vec<u8> {
    let headers = HeaderMap::new();
    let head = ResponseHead {
        status,
        headers: &headers,
        body: BodyLength::Known(0),
    };
    let mut out = Vec::new();
    conn.send_head(&head, b"Sun, 06 Nov 1994 08:49:37 GMT", &mut out);
    assert!(
        conn.send_end(&mut out).is_ok(),
        "empty body cannot be short"
    );
    out
}

/// `resolve_path`: never panics; an accepted path has only non-empty
/// segments that are neither `.` nor `..` and hold no `/`, `\` or NUL; its
/// `relative()` path is relative with only normal components; and its URL
/// form starts with one `/` and resolves back to the same path.
pub fn check_resolve_path(data: &[u8]) {
    let Ok(url_path) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(safe) = resolve_path(url_path) else {
        return;
    };
    let relative = safe.relative();
    let joined = relative.to_str().expect("resolved paths are UTF-8");
    if !joined.is_empty() {
        for segment in joined.split('/') {
            assert!(!matches!(segment, "" | "." | ".."), "segment {segment:?}");
            assert!(!segment.contains(['/', '\\', '\0']), "segment {segment:?}");
        }
    }
    assert_eq!(
        joined.split('/').filter(|s| !s.is_empty()).count(),
        safe.segments().count()
    );
    assert!(relative.is_relative(), "{relative:?} is absolute");
    assert!(
        relative
            .components()
            .all(|c| matches!(c, Component::Normal(_))),
        "{relative:?}"
    );
    let url = safe.to_url_path();
    assert!(url.starts_with('/') && !url.starts_with("//"), "{url:?}");
    assert_eq!(
        resolve_path(&url).as_ref(),
        Ok(&safe),
        "round trip through {url:?}"
    );
}

/// `Range` and `If-Range` parsing, and precondition evaluation: the first 8
/// bytes are the representation length, the rest header text. Every
/// satisfiable range lies within the representation, ranges are disjoint
/// and ascending, and nothing panics.
pub fn check_range(data: &[u8]) {
    use berth::serve_dir::{
        MAX_RANGE_SPECS, RangeOutcome, evaluate_preconditions, if_range_matches, parse_range,
    };
    if data.len() < 8 {
        return;
    }
    let (len_bytes, rest) = data.split_at(8);
    let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
    let header = String::from_utf8_lossy(rest);
    if let RangeOutcome::Partial(ranges) = parse_range(&header, len) {
        assert!(!ranges.is_empty(), "empty Partial for {header:?}");
        assert!(ranges.len() <= MAX_RANGE_SPECS, "{} ranges", ranges.len());
        let mut previous_end: Option<u64> = None;
        for r in &ranges {
            assert!(
                r.first <= r.last && r.last < len,
                "{r:?} outside {len} for {header:?}"
            );
            if let Some(end) = previous_end {
                assert!(r.first > end, "overlap or disorder in {ranges:?}");
            }
            previous_end = Some(r.last);
        }
    }
    let modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(len % (1 << 34));
    let _ = if_range_matches(rest, Some("\"etag\""), Some(modified));
    let mut headers = HeaderMap::new();
    for name in [
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
    ] {
        if let Ok(value) = http::HeaderValue::from_bytes(rest) {
            headers.insert(name, value);
        }
    }
    let _ = evaluate_preconditions(
        &http::Method::GET,
        &headers,
        Some("\"etag\""),
        Some(modified),
    );
}

/// `Accept-Encoding` negotiation: the bytes are the field value. Never
/// panics; the choice is the best acceptable one (a coding with q=0 never
/// wins, nothing acceptable beats it); `ranked` is best-first with no q=0
/// and no repeats; `NotAcceptable` exactly when nothing, identity included,
/// is acceptable; and the same value split into several field lines at a
/// comma negotiates the same.
pub fn check_accept_encoding(data: &[u8]) {
    use berth::compress::{AcceptEncoding, Coding, Negotiated, negotiate};
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let every = [Coding::Zstd, Coding::Br, Coding::Gzip, Coding::Identity];
    let accept = AcceptEncoding::parse(Some(&value));
    let ranked = accept.ranked(&Coding::ALL);
    for pair in ranked.windows(2) {
        assert!(
            accept.quality(pair[0]) >= accept.quality(pair[1]),
            "{ranked:?} not best-first for {value:?}"
        );
        assert_ne!(pair[0], pair[1], "repeated coding for {value:?}");
    }
    assert!(ranked.iter().all(|&c| accept.quality(c) > 0), "{value:?}");
    match negotiate(Some(&value), &Coding::ALL) {
        Negotiated::Use(chosen) => {
            assert_eq!(ranked.first(), Some(&chosen), "{value:?}");
            let q = accept.quality(chosen);
            assert!(q > 0, "{chosen:?} has q=0 in {value:?}");
            assert!(every.iter().all(|&c| accept.quality(c) <= q), "{value:?}");
        }
        Negotiated::NotAcceptable => {
            assert!(ranked.is_empty(), "{value:?}");
            assert!(every.iter().all(|&c| accept.quality(c) == 0), "{value:?}");
        }
    }
    for (i, _) in data.iter().enumerate().filter(|(_, b)| **b == b',').take(4) {
        let (Ok(first), Ok(second)) = (
            http::HeaderValue::from_bytes(&data[..i]),
            http::HeaderValue::from_bytes(&data[i + 1..]),
        ) else {
            continue;
        };
        let split = AcceptEncoding::parse([&first, &second]);
        assert_eq!(split, accept, "split at byte {i} of {value:?}");
    }
}
/// PROXY protocol header (`berth::proto::proxy`): the bytes are what a
/// PROXY listener received. Never panics; each prefix is `Incomplete` (with
/// `at_least` past its end and never past the byte that settles it) until
/// the result settles; once settled it never changes (an error is final, a
/// header completes exactly at its last byte, so what follows is never
/// consumed); a header is within the v1/v2 size caps and has both addresses
/// or neither; and reported addresses round-trip through a v1 line and a v2
/// header.
pub fn check_proxy_header(data: &[u8]) {
    let whole = proxy::parse_proxy_header(data);
    let mut settled = None;
    for k in 0..=data.len() {
        match proxy::parse_proxy_header(&data[..k]) {
            Ok(proxy::ProxyParse::Incomplete { at_least }) => {
                assert!(at_least > k, "Incomplete at {k} asks for {at_least}");
            }
            result => {
                settled = Some((k, result));
                break;
            }
        }
    }
    let Some((at, first)) = settled else {
        assert!(matches!(whole, Ok(proxy::ProxyParse::Incomplete { .. })));
        return;
    };
    assert_eq!(
        whole,
        first,
        "{} bytes disagree with all {}",
        at,
        data.len()
    );
    // The waits before `at` all asked for at most `at` bytes.
    for k in 0..at {
        if let Ok(proxy::ProxyParse::Incomplete { at_least }) =
            proxy::parse_proxy_header(&data[..k])
        {
            assert!(
                at_least <= at,
                "Incomplete at {k} asks for {at_least} > {at}"
            );
        }
    }
    let Ok(proxy::ProxyParse::Complete { header, consumed }) = first else {
        return;
    };
    assert_eq!(consumed, at, "completed at {at} but consumed {consumed}");
    let limit = if data[0] == b'P' {
        proxy::V1_MAX_BYTES
    } else {
        proxy::V2_MAX_HEADER_BYTES
    };
    assert!(consumed <= limit, "{consumed}-byte header over {limit}");
    let (Some(src), Some(dst)) = (header.source, header.destination) else {
        assert_eq!(
            header.source, header.destination,
            "one address without the other"
        );
        return;
    };
    for encoded in [encode_proxy_v1(src, dst), encode_proxy_v2(src, dst)] {
        let again = proxy::parse_proxy_header(&encoded);
        let expected = Ok(proxy::ProxyParse::Complete {
            header,
            consumed: encoded.len(),
        });
        assert_eq!(
            again, expected,
            "{header:?} does not round-trip via {encoded:?}"
        );
    }
}

fn encode_proxy_v1(src: std::net::SocketAddr, dst: std::net::SocketAddr) -> Vec<u8> {
    let family = if src.is_ipv4() { "TCP4" } else { "TCP6" };
    let (s, d, sp, dp) = (src.ip(), dst.ip(), src.port(), dst.port());
    format!("PROXY {family} {s} {d} {sp} {dp}\r\n").into_bytes()
}

fn encode_proxy_v2(src: std::net::SocketAddr, dst: std::net::SocketAddr) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n\x21".to_vec();
    let (fam, mut block) = match (src.ip(), dst.ip()) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
            (0x11, [s.octets(), d.octets()].concat())
        }
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => {
            (0x21, [s.octets(), d.octets()].concat())
        }
        _ => panic!("PROXY header with mixed families: {src} {dst}"),
    };
    block.extend_from_slice(&src.port().to_be_bytes());
    block.extend_from_slice(&dst.port().to_be_bytes());
    out.push(fam);
    out.extend_from_slice(&(block.len() as u16).to_be_bytes());
    out.extend_from_slice(&block);
    out
}
