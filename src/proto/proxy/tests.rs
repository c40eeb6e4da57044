//! Unit and property tests of the PROXY header parser: every prefix is
//! `Incomplete` until the last byte, errors come as early as the bytes allow,
//! and encoded headers parse back to themselves.

use super::*;
use proptest::prelude::*;

const NEXT: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

type Outcome = Result<ProxyParse, ProxyError>;

/// Parses every prefix of `input`, and `input` with a request after it;
/// checks that prefixes are `Incomplete` (with a sensible `at_least`)
/// until the result settles, that it never changes after, and that the
/// request after a header is not consumed. Returns the whole result.
fn parse(input: &[u8]) -> Outcome {
    let whole = parse_proxy_header(input);
    let mut settled: Option<(usize, Outcome)> = None;
    let mut waits = Vec::new();
    for k in 0..=input.len() {
        let result = parse_proxy_header(&input[..k]);
        match (&settled, result) {
            (None, Ok(ProxyParse::Incomplete { at_least })) => {
                assert!(at_least > k, "at_least {at_least} at {k} of {input:?}");
                waits.push(at_least);
            }
            (None, result) => settled = Some((k, result)),
            (Some((at, first)), result) => {
                assert_eq!(&result, first, "{input:?}: {k} bytes disagree with {at}");
            }
        }
    }
    match &settled {
        Some((at, result)) => {
            assert_eq!(&whole, result);
            // No wait ever asks past the byte that settled it.
            assert!(waits.iter().all(|w| w <= at), "{input:?}: {waits:?} > {at}");
            if let Ok(ProxyParse::Complete { consumed, .. }) = result {
                assert_eq!(consumed, at, "{input:?} completed early or late");
            }
            let piped = parse_proxy_header(&[input, NEXT].concat());
            assert_eq!(
                &piped, result,
                "{input:?}: bytes after it changed the result"
            );
        }
        None => assert!(matches!(whole, Ok(ProxyParse::Incomplete { .. }))),
    }
    whole
}

fn header(src: &str, dst: &str) -> ProxyHeader {
    ProxyHeader::with(
        src.parse().expect("test addr"),
        dst.parse().expect("test addr"),
    )
}

fn done(header: ProxyHeader, consumed: usize) -> Outcome {
    Ok(ProxyParse::Complete { header, consumed })
}

/// Asserts that each input parses to `header`, all of it.
fn parses(cases: &[(&[u8], ProxyHeader)]) {
    for &(input, expected) in cases {
        let text = String::from_utf8_lossy(input);
        assert_eq!(parse(input), done(expected, input.len()), "{text:?}");
    }
}

/// Asserts that each input fails with its error.
fn fails(cases: &[(&[u8], ProxyError)]) {
    for &(input, error) in cases {
        let text = String::from_utf8_lossy(input);
        assert_eq!(parse(input), Err(error), "{text:?}");
    }
}

/// A version 2 header: `ver_cmd`, `fam`, then `block` (addresses and
/// TLVs) with its length.
fn v2(ver_cmd: u8, fam: u8, block: &[u8]) -> Vec<u8> {
    let len = u16::try_from(block.len()).expect("test block fits u16");
    [V2_SIGNATURE, &[ver_cmd, fam], &len.to_be_bytes(), block].concat()
}

/// A version 2 IPv4 block: 192.0.2.1:56324 → 198.51.100.7:443.
const INET_BLOCK: [u8; 12] = [192, 0, 2, 1, 198, 51, 100, 7, 0xdc, 0x04, 0x01, 0xbb];

fn inet6_block() -> Vec<u8> {
    let src: Ipv6Addr = "2001:db8::1".parse().expect("test addr");
    let dst: Ipv6Addr = "2001:db8:ffff::2".parse().expect("test addr");
    [&src.octets()[..], &dst.octets(), &[0x04, 0xd2, 0x00, 0x50]].concat()
}

#[test]
fn v1_tcp4() {
    parses(&[
        (
            b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
            header("192.168.0.1:56324", "192.168.0.11:443"),
        ),
        (
            b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
            header("255.255.255.255:65535", "255.255.255.255:65535"),
        ),
        (
            b"PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n",
            header("0.0.0.0:0", "10.0.0.1:0"),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 10\r\n",
            header("1.2.3.4:1", "5.6.7.8:10"),
        ),
    ]);
}

#[test]
fn v1_tcp6() {
    let full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let longest = format!("PROXY TCP6 {full} {full} 65535 65535\r\n");
    assert_eq!(longest.len(), 104, "spec §2.1's TCP6 worst case");
    parses(&[
        (
            b"PROXY TCP6 2001:db8::1 ::1 443 8443\r\n",
            header("[2001:db8::1]:443", "[::1]:8443"),
        ),
        (
            longest.as_bytes(),
            header(&format!("[{full}]:65535"), &format!("[{full}]:65535")),
        ),
        (
            b"PROXY TCP6 2001:DB8::AbC :: 1 2\r\n",
            header("[2001:db8::abc]:1", "[::]:2"),
        ),
        (
            b"PROXY TCP6 ::ffff:192.0.2.1 0:0:0:0:0:0:0:1 80 81\r\n",
            header("[::ffff:192.0.2.1]:80", "[::1]:81"),
        ),
        (
            b"PROXY TCP6 2001:0db8:0000:0000:0000:0000:0000:0001 ::2 1 2\r\n",
            header("[2001:db8::1]:1", "[::2]:2"),
        ),
    ]);
}

#[test]
fn v1_unknown() {
    let full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let longest = format!("PROXY UNKNOWN {full} {full} 65535 65535\r\n");
    assert_eq!(longest.len(), V1_MAX_BYTES, "spec §2.1's worst case");
    let none = ProxyHeader::UNKNOWN;
    parses(&[
        (b"PROXY UNKNOWN\r\n", none),
        (longest.as_bytes(), none),
        // Anything before the CRLF is ignored, even what is not an
        // address, and spaces.
        (b"PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n", none),
        (b"PROXY UNKNOWN  whatever  \xff\x00 \r\n", none),
        (b"PROXY UNKNOWN \r\n", none),
    ]);
}

#[test]
fn v1_line_ends_and_length() {
    let unterminated = [&b"PROXY UNKNOWN "[..], &[b'x'; 93]].concat();
    assert_eq!(unterminated.len(), V1_MAX_BYTES);
    // 105 bytes and CRLF: the longest line; one more byte and the LF is
    // the 108th.
    let longest = [&b"PROXY UNKNOWN "[..], &[b'x'; 91], b"\r\n"].concat();
    let over = [&b"PROXY UNKNOWN "[..], &[b'x'; 92], b"\r\n"].concat();
    assert_eq!(longest.len(), V1_MAX_BYTES);
    parses(&[(&longest, ProxyHeader::UNKNOWN)]);
    let padded = [&b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2"[..], &[b' '; 100]].concat();
    fails(&[
        (&unterminated, ProxyError::V1TooLong),
        (
            &[&unterminated[..], b"\r\n"].concat(),
            ProxyError::V1TooLong,
        ),
        (&over, ProxyError::V1TooLong),
        (&[b'x'; 300], ProxyError::BadSignature),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", ProxyError::V1BareLf),
        (b"PROXY UNKNOWN\n", ProxyError::V1BareLf),
        (b"PROXY UNKNOWN foo\nbar\r\n", ProxyError::V1BareLf),
        (b"PROXY UNKNOWN\n\r\n", ProxyError::V1BareLf),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
            ProxyError::V1BareCr,
        ),
        (b"PROXY UNKNOWN\rX\r\n", ProxyError::V1BareCr),
        (b"PROXY UNKNOWN \r \r\n", ProxyError::V1BareCr),
        (b"PROXY \n", ProxyError::V1BareLf),
        (&padded, ProxyError::V1BadFields),
    ]);
}

#[test]
fn v1_fields() {
    fails(&[
        // Spec §2.1: "exactly one space" everywhere.
        (
            b"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::V1BadFields,
        ),
        (
            b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::V1BadFields,
        ),
        (
            b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
            ProxyError::V1BadFields,
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n",
            ProxyError::V1BadFields,
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n",
            ProxyError::V1BadFields,
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
            ProxyError::V1BadFields,
        ),
        (b"PROXY \r\n", ProxyError::V1BadFields),
        (b"PROXY TCP4\r\n", ProxyError::V1BadFields),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", ProxyError::V1BadFields),
        (b"PROXY TCP6 ::1 ::2\r\n", ProxyError::V1BadFields),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
            ProxyError::V1BadFields,
        ),
        (
            b"PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
            ProxyError::V1BadAddress,
        ),
        // The protocol.
        (
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::V1BadProtocol,
        ),
        (
            b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::V1BadProtocol,
        ),
        (
            b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::V1BadProtocol,
        ),
        (
            b"PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::V1BadProtocol,
        ),
        (
            b"PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::V1BadProtocol,
        ),
        (b"PROXY UNKNOWNX\r\n", ProxyError::V1BadProtocol),
        (b"PROXY UNKNOW\r\n", ProxyError::V1BadProtocol),
        // The signature: `PROXY` and one space, in capitals.
        (
            b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
            ProxyError::BadSignature,
        ),
        (b"PROXY\r\n", ProxyError::BadSignature),
        (b"PROXYTCP4", ProxyError::BadSignature),
    ]);
}

#[test]
fn v1_addresses() {
    for (family, bad) in [
        ("TCP4", "1.2.3"),
        ("TCP4", "1.2.3.4.5"),
        ("TCP4", "256.1.1.1"),
        ("TCP4", "1.2.3.1000"),
        ("TCP4", "01.2.3.4"),
        ("TCP4", "1.2.3.00"),
        ("TCP4", "1..3.4"),
        ("TCP4", ".1.2.3"),
        ("TCP4", "1.2.3.4."),
        ("TCP4", "1.2.3.4444444444444"),
        ("TCP4", "::1"),
        ("TCP4", "0x1.2.3.4"),
        ("TCP4", "-1.2.3.4"),
        ("TCP6", "1.2.3.4"),
        ("TCP6", "1::2::3"),
        ("TCP6", ":::"),
        ("TCP6", "1:2:3:4:5:6:7:8:9"),
        ("TCP6", "1:2:3:4:5:6:7"),
        ("TCP6", "12345::"),
        ("TCP6", "fe80::1%eth0"),
        ("TCP6", "fe80::g"),
        ("TCP6", "[::1]"),
        ("TCP6", "::ffff:01.2.3.4"),
        ("TCP6", "0000000000000000000000000000000000000000000001"),
    ] {
        let good = if family == "TCP4" { "127.0.0.1" } else { "::1" };
        for line in [
            format!("PROXY {family} {bad} {good} 1 2\r\n"),
            format!("PROXY {family} {good} {bad} 1 2\r\n"),
        ] {
            assert_eq!(
                parse(line.as_bytes()),
                Err(ProxyError::V1BadAddress),
                "{line:?}"
            );
        }
    }
}

#[test]
fn v1_ports() {
    for bad in [
        "65536", "99999", "100000", "01", "00", "007", "-1", "+1", "1a", "0x10", "1.0",
    ] {
        for line in [
            format!("PROXY TCP4 1.2.3.4 5.6.7.8 {bad} 2\r\n"),
            format!("PROXY TCP4 1.2.3.4 5.6.7.8 1 {bad}\r\n"),
        ] {
            assert_eq!(
                parse(line.as_bytes()),
                Err(ProxyError::V1BadPort),
                "{line:?}"
            );
        }
    }
}

#[test]
fn v2_valid() {
    let inet6 = inet6_block();
    let with_tlvs = [
        &INET_BLOCK[..],
        b"\x01\x00\x02h2",          // PP2_TYPE_ALPN
        b"\x02\x00\x0bexample.com", // PP2_TYPE_AUTHORITY
        b"\x04\x00\x00",            // PP2_TYPE_NOOP, empty
        b"\xea\x00\x04vpce",        // a custom TLV
    ]
    .concat();
    let ipv4 = header("192.0.2.1:56324", "198.51.100.7:443");
    let ipv6 = header("[2001:db8::1]:1234", "[2001:db8:ffff::2]:80");
    let none = ProxyHeader::UNKNOWN;
    let unix = [&[b'/'; 216][..], b"\x04\x00\x01x"].concat();
    let cases: Vec<(Vec<u8>, ProxyHeader)> = vec![
        (v2(0x21, 0x11, &INET_BLOCK), ipv4),
        (v2(0x21, 0x21, &inet6), ipv6),
        (v2(0x21, 0x11, &with_tlvs), ipv4),
        (
            v2(0x21, 0x21, &[&inet6[..], b"\x05\x00\x01u"].concat()),
            ipv6,
        ),
        // LOCAL: health checks by the balancer; the block is ignored,
        // whatever it and the family say.
        (v2(0x20, 0x00, b""), none),
        (v2(0x20, 0x11, &INET_BLOCK), none),
        (v2(0x20, 0x12, b"junk"), none),
        (v2(0x20, 0x31, b""), none),
        // UNSPEC family or protocol: addresses ignored.
        (v2(0x21, 0x00, b""), none),
        (v2(0x21, 0x00, b"\xff\xff\xff"), none),
        (v2(0x21, 0x10, b"\x01"), none),
        (v2(0x21, 0x01, b""), none),
        // AF_UNIX: paths, not socket addresses.
        (v2(0x21, 0x31, &unix), none),
        (v2(0x21, 0x31, &unix[..216]), none),
        // At the cap exactly.
        (
            v2(
                0x21,
                0x11,
                &[&INET_BLOCK[..], b"\x04\x03\xf1", &[0; 1009]].concat(),
            ),
            ipv4,
        ),
    ];
    for (input, expected) in &cases {
        assert!(input.len() <= V2_MAX_HEADER_BYTES);
        assert_eq!(parse(input), done(*expected, input.len()), "{input:?}");
    }
}

#[test]
fn v2_malformed() {
    let mut sig = v2(0x21, 0x11, &INET_BLOCK);
    sig[4] = b'\r';
    let over = v2(
        0x21,
        0x11,
        &[&INET_BLOCK[..], b"\x04\x03\xf2", &[0; 1010]].concat(),
    );
    let tlv = |tail: &[u8]| v2(0x21, 0x11, &[&INET_BLOCK[..], tail].concat());
    fails(&[
        (&sig, ProxyError::BadSignature),
        (b"\r\n\r\n\0\r\nquit\n", ProxyError::BadSignature),
        (&v2(0x11, 0x11, &INET_BLOCK), ProxyError::V2BadVersion(0x11)),
        (&v2(0x31, 0x11, &INET_BLOCK), ProxyError::V2BadVersion(0x31)),
        (&v2(0x01, 0x11, &INET_BLOCK), ProxyError::V2BadVersion(0x01)),
        (&v2(0x22, 0x11, &INET_BLOCK), ProxyError::V2BadCommand(0x22)),
        (&v2(0x2f, 0x11, &INET_BLOCK), ProxyError::V2BadCommand(0x2f)),
        (&v2(0x21, 0x41, &INET_BLOCK), ProxyError::V2BadFamily(0x41)),
        (&v2(0x21, 0x13, &INET_BLOCK), ProxyError::V2BadFamily(0x13)),
        (&v2(0x20, 0xf0, b""), ProxyError::V2BadFamily(0xf0)),
        (&v2(0x21, 0x12, &INET_BLOCK), ProxyError::V2Datagram(0x12)),
        (
            &v2(0x21, 0x22, &inet6_block()),
            ProxyError::V2Datagram(0x22),
        ),
        (&v2(0x21, 0x32, &[0; 216]), ProxyError::V2Datagram(0x32)),
        // Family and length disagree.
        (
            &v2(0x21, 0x11, &INET_BLOCK[..11]),
            ProxyError::V2AddressTooShort {
                family: 0x11,
                len: 11,
            },
        ),
        (
            &v2(0x21, 0x21, &INET_BLOCK),
            ProxyError::V2AddressTooShort {
                family: 0x21,
                len: 12,
            },
        ),
        (
            &v2(0x21, 0x21, b""),
            ProxyError::V2AddressTooShort {
                family: 0x21,
                len: 0,
            },
        ),
        (
            &v2(0x21, 0x31, &[0; 215]),
            ProxyError::V2AddressTooShort {
                family: 0x31,
                len: 215,
            },
        ),
        (
            &over,
            ProxyError::V2TooLong {
                len: V2_MAX_HEADER_BYTES + 1,
            },
        ),
        (
            &v2(0x20, 0x00, &[0; 5000]),
            ProxyError::V2TooLong { len: 5016 },
        ),
        // TLVs that do not fit.
        (&tlv(b"\x04"), ProxyError::V2BadTlv),
        (&tlv(b"\x04\x00"), ProxyError::V2BadTlv),
        (&tlv(b"\x04\x00\x02x"), ProxyError::V2BadTlv),
        (&tlv(b"\x04\x00\x00\x04\xff\xff"), ProxyError::V2BadTlv),
        (&tlv(b"\x04\x00\x01xy"), ProxyError::V2BadTlv),
    ]);
    // Too long is known at byte 16, before the block arrives.
    let mut fixed = V2_SIGNATURE.to_vec();
    fixed.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
    assert_eq!(
        parse_proxy_header(&fixed),
        Err(ProxyError::V2TooLong { len: 65551 })
    );
}

#[test]
fn v2_incomplete_is_exact_once_the_length_is_in() {
    let input = v2(0x21, 0x21, &inet6_block());
    assert_eq!(input.len(), 52);
    for k in 0..16 {
        let at_least = k + 1;
        let result = parse_proxy_header(&input[..k]);
        assert_eq!(result, Ok(ProxyParse::Incomplete { at_least }));
    }
    for k in 16..52 {
        let result = parse_proxy_header(&input[..k]);
        assert_eq!(result, Ok(ProxyParse::Incomplete { at_least: 52 }));
    }
}

#[test]
fn other_protocols_are_rejected_on_their_first_bytes() {
    // (input, bytes after which it is rejected)
    let client_hello: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    for (input, at) in [
        (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], 1),
        (client_hello, 1),
        (b"\x80\x2e\x01\x03\x01", 1), // SSLv2-style ClientHello
        (b"HEAD / HTTP/1.1\r\n", 1),
        (b"POST / HTTP/1.1\r\n", 2),
        (b"PUT / HTTP/1.1\r\n", 2),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 3),
        (b"PROPFIND / HTTP/1.1\r\n", 4),
        (b"PROXY\r\n", 6),
        (b"\r\nGET / HTTP/1.1\r\n", 3),
        (b"\r\n\r\nGET / HTTP/1.1\r\n", 5),
        (b"SSH-2.0-OpenSSH_9.6\r\n", 1),
    ] {
        for k in 0..at {
            let result = parse_proxy_header(&input[..k]);
            assert_eq!(
                result,
                Ok(ProxyParse::Incomplete { at_least: k + 1 }),
                "{input:?}"
            );
        }
        assert_eq!(parse(input), Err(ProxyError::BadSignature), "{input:?}");
        assert_eq!(
            parse_proxy_header(&input[..at]),
            Err(ProxyError::BadSignature)
        );
    }
}

#[test]
fn fields_are_rejected_as_their_bytes_arrive() {
    // No terminator yet: each is judged on the bytes so far.
    let mut cases: Vec<(Vec<u8>, ProxyError)> = [
        (&b"PROXY X"[..], ProxyError::V1BadProtocol),
        (b"PROXY TCP5", ProxyError::V1BadProtocol),
        (b"PROXY UNKNOWNS", ProxyError::V1BadProtocol),
        (b"PROXY TCP4 1.2.3.x", ProxyError::V1BadAddress),
        (b"PROXY TCP4 1.2.3.4 :", ProxyError::V1BadAddress),
        (b"PROXY TCP4 255.255.255.2555", ProxyError::V1BadAddress),
        (b"PROXY TCP6 fe80::1%", ProxyError::V1BadAddress),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 01", ProxyError::V1BadPort),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 123456",
            ProxyError::V1BadPort,
        ),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 -", ProxyError::V1BadPort),
    ]
    .iter()
    .map(|&(input, error)| (input.to_vec(), error))
    .collect();
    // Version 2: the version and command at byte 13, the family at 14,
    // the length against the family and the cap at 16.
    let fixed = |ver_cmd: u8, fam: u8, len: u16| {
        [V2_SIGNATURE, &[ver_cmd, fam], &len.to_be_bytes()].concat()
    };
    let too_short = ProxyError::V2AddressTooShort {
        family: 0x21,
        len: 35,
    };
    cases.extend([
        (
            fixed(0x11, 0x11, 12)[..13].to_vec(),
            ProxyError::V2BadVersion(0x11),
        ),
        (
            fixed(0x23, 0x11, 12)[..13].to_vec(),
            ProxyError::V2BadCommand(0x23),
        ),
        (
            fixed(0x21, 0x51, 12)[..14].to_vec(),
            ProxyError::V2BadFamily(0x51),
        ),
        (
            fixed(0x21, 0x22, 36)[..14].to_vec(),
            ProxyError::V2Datagram(0x22),
        ),
        (fixed(0x21, 0x21, 35), too_short),
        (fixed(0x21, 0x11, 1025), ProxyError::V2TooLong { len: 1041 }),
    ]);
    for (input, error) in cases {
        assert_eq!(parse_proxy_header(&input), Err(error), "{input:?}");
        let before = &input[..input.len() - 1];
        let wait = Ok(ProxyParse::Incomplete {
            at_least: input.len(),
        });
        assert_eq!(parse_proxy_header(before), wait, "{input:?}");
    }
}

#[test]
fn bytes_after_the_header_are_not_consumed() {
    let v1 = b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
    let v2 = v2(0x21, 0x11, &INET_BLOCK);
    for input in [&v1[..], &v2[..]] {
        for after in [
            NEXT,
            b"\r\n",
            b"PROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n",
            &[0; 2000],
        ] {
            let result = parse_proxy_header(&[input, after].concat());
            let Ok(ProxyParse::Complete { consumed, .. }) = result else {
                panic!("{result:?}");
            };
            assert_eq!(consumed, input.len());
        }
    }
}

#[test]
fn errors_say_what_was_wrong() {
    let cases = [
        (ProxyError::BadSignature, "not a PROXY"),
        (ProxyError::V1TooLong, "107"),
        (ProxyError::V1BadPort, "port"),
        (ProxyError::V2BadVersion(0x11), "version is 1"),
        (ProxyError::V2BadCommand(0x2f), "command is 15"),
        (ProxyError::V2Datagram(0x12), "datagram"),
        (
            ProxyError::V2AddressTooShort {
                family: 0x21,
                len: 12,
            },
            "12 bytes",
        ),
        (ProxyError::V2TooLong { len: 5016 }, "5016"),
    ];
    for (error, needle) in cases {
        let text = error.to_string();
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
    let boxed: Box<dyn std::error::Error> = Box::new(ProxyError::V2BadTlv);
    assert!(boxed.to_string().contains("TLV"));
}

// A test-only encoder, for the round trips below.

fn encode_v1(header: &ProxyHeader) -> Vec<u8> {
    match (header.source, header.destination) {
        (Some(src), Some(dst)) => {
            let family = if src.is_ipv4() { "TCP4" } else { "TCP6" };
            let (s, d) = (src.ip(), dst.ip());
            let (sp, dp) = (src.port(), dst.port());
            format!("PROXY {family} {s} {d} {sp} {dp}\r\n").into_bytes()
        }
        _ => b"PROXY UNKNOWN\r\n".to_vec(),
    }
}

fn encode_v2(header: &ProxyHeader, tlvs: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut block = Vec::new();
    let (ver_cmd, fam) = match (header.source, header.destination) {
        (Some(src), Some(dst)) => {
            let fam = match (src.ip(), dst.ip()) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    block.extend_from_slice(&s.octets());
                    block.extend_from_slice(&d.octets());
                    0x11
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    block.extend_from_slice(&s.octets());
                    block.extend_from_slice(&d.octets());
                    0x21
                }
                _ => panic!("mixed families cannot be encoded"),
            };
            block.extend_from_slice(&src.port().to_be_bytes());
            block.extend_from_slice(&dst.port().to_be_bytes());
            (0x21, fam)
        }
        _ => (0x20, 0x00),
    };
    for (kind, value) in tlvs {
        block.push(*kind);
        let len = u16::try_from(value.len()).expect("TLV fits");
        block.extend_from_slice(&len.to_be_bytes());
        block.extend_from_slice(value);
    }
    v2(ver_cmd, fam, &block)
}

fn any_header() -> impl Strategy<Value = ProxyHeader> {
    let v4 =
        (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(s, d)| (IpAddr::from(s), IpAddr::from(d)));
    let v6 = (any::<[u8; 16]>(), any::<[u8; 16]>())
        .prop_map(|(s, d)| (IpAddr::from(s), IpAddr::from(d)));
    let ips = prop_oneof![v4, v6];
    let known = (ips, any::<u16>(), any::<u16>())
        .prop_map(|((s, d), sp, dp)| ProxyHeader::with((s, sp).into(), (d, dp).into()));
    prop_oneof![4 => known, 1 => Just(ProxyHeader::UNKNOWN)]
}

fn any_tlvs() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec(
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..64)),
        0..6,
    )
}

proptest! {
    #[test]
    fn random_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&input);
    }

    #[test]
    fn random_bytes_after_a_signature_never_panic(
        v1 in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let signature = if v1 { V1_PREFIX } else { V2_SIGNATURE };
        let _ = parse(&[signature, &tail].concat());
    }

    #[test]
    fn v1_round_trips(header in any_header()) {
        let input = encode_v1(&header);
        prop_assert!(input.len() <= V1_MAX_BYTES);
        prop_assert_eq!(parse(&input), done(header, input.len()));
    }

    #[test]
    fn v1_unknown_ignores_its_tail(tail in "[ -~]{0,91}") {
        let input = format!("PROXY UNKNOWN {tail}\r\n");
        prop_assert_eq!(parse(input.as_bytes()), done(ProxyHeader::UNKNOWN, input.len()));
    }

    #[test]
    fn v2_round_trips(header in any_header(), tlvs in any_tlvs()) {
        let input = encode_v2(&header, &tlvs);
        prop_assert_eq!(parse(&input), done(header, input.len()));
    }
}
