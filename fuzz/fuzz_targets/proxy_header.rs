//! Fuzz target: `berth::proto::proxy::parse_proxy_header` on arbitrary bytes.
//!
//! The whole input is the bytes a PROXY listener received. Properties:
//! - it never panics;
//! - each prefix is `Incomplete`, with `at_least` past its end, until the
//!   result settles, and no `at_least` asks past the byte that settles it;
//! - once settled, the result never changes: an error is final, and a
//!   complete header is complete exactly at its last byte (so the bytes after
//!   it are never consumed);
//! - a complete header is at most 107 bytes (v1) or `V2_MAX_HEADER_BYTES`
//!   (v2), and has both addresses or neither;
//! - addresses it reports, written back as a v1 line and as a v2 header,
//!   parse to the same addresses.
//!
//! `check_proxy_header` belongs in `fuzz/src/invariants.rs` with the other
//! checks (so `tests/fuzz_regressions.rs` replays its crashers); it is here
//! until that file and the replay list take it.
#![no_main]

use std::net::{IpAddr, SocketAddr};

use berth::proto::proxy::{ProxyParse, V1_MAX_BYTES, V2_MAX_HEADER_BYTES, parse_proxy_header};

libfuzzer_sys::fuzz_target!(|data: &[u8]| check_proxy_header(data));

fn check_proxy_header(data: &[u8]) {
    let whole = parse_proxy_header(data);
    let mut settled = None;
    for k in 0..=data.len() {
        match parse_proxy_header(&data[..k]) {
            Ok(ProxyParse::Incomplete { at_least }) => {
                assert!(at_least > k, "Incomplete at {k} asks for {at_least}");
            }
            result => {
                settled = Some((k, result));
                break;
            }
        }
    }
    let Some((at, first)) = settled else {
        assert!(matches!(whole, Ok(ProxyParse::Incomplete { .. })));
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
        if let Ok(ProxyParse::Incomplete { at_least }) = parse_proxy_header(&data[..k]) {
            assert!(
                at_least <= at,
                "Incomplete at {k} asks for {at_least} > {at}"
            );
        }
    }
    let Ok(ProxyParse::Complete { header, consumed }) = first else {
        return;
    };
    assert_eq!(consumed, at, "completed at {at} but consumed {consumed}");
    let limit = if data[0] == b'P' {
        V1_MAX_BYTES
    } else {
        V2_MAX_HEADER_BYTES
    };
    assert!(consumed <= limit, "{consumed}-byte header over {limit}");
    let (Some(src), Some(dst)) = (header.source, header.destination) else {
        assert_eq!(
            header.source, header.destination,
            "one address without the other"
        );
        return;
    };
    for encoded in [encode_v1(src, dst), encode_v2(src, dst)] {
        let again = parse_proxy_header(&encoded);
        let expected = Ok(ProxyParse::Complete {
            header,
            consumed: encoded.len(),
        });
        assert_eq!(
            again, expected,
            "{header:?} does not round-trip via {encoded:?}"
        );
    }
}

fn encode_v1(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let family = if src.is_ipv4() { "TCP4" } else { "TCP6" };
    let (s, d, sp, dp) = (src.ip(), dst.ip(), src.port(), dst.port());
    format!("PROXY {family} {s} {d} {sp} {dp}\r\n").into_bytes()
}

fn encode_v2(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n\x21".to_vec();
    let (fam, mut block) = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (0x11, [s.octets(), d.octets()].concat()),
        (IpAddr::V6(s), IpAddr::V6(d)) => (0x21, [s.octets(), d.octets()].concat()),
        _ => panic!("PROXY header with mixed families: {src} {dst}"),
    };
    block.extend_from_slice(&src.port().to_be_bytes());
    block.extend_from_slice(&dst.port().to_be_bytes());
    out.push(fam);
    out.extend_from_slice(&(block.len() as u16).to_be_bytes());
    out.extend_from_slice(&block);
    out
}
