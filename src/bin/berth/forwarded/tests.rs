//! Unit tests of `--trusted-proxy`: parsing the proxy list, and the
//! right-to-left walk of `Forwarded` and `X-Forwarded-For` against forged,
//! malformed and oversized headers.

use super::*;
use berth::http::HeaderValue;

fn proxies(list: &str) -> TrustedProxies {
    list.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn headers(fields: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in fields {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// The client seen through the usual setup: a proxy at 10.0.0.1, and
/// 10.0.0.0/8 and fd00::/8 trusted.
fn client(fields: &[(&str, &str)]) -> IpAddr {
    proxies("10.0.0.0/8, fd00::/8").client_ip(ip("10.0.0.1"), &headers(fields))
}

fn xff(value: &str) -> IpAddr {
    client(&[("x-forwarded-for", value)])
}

fn fwd(value: &str) -> IpAddr {
    client(&[("forwarded", value)])
}

// ----- parsing the list -----

#[test]
fn parses_cidrs_and_bare_addresses() {
    let p = proxies("10.0.0.0/8, 192.168.1.7,::1 , fd00::/8,0.0.0.0/0");
    assert_eq!(
        p.to_string(),
        "10.0.0.0/8, 192.168.1.7/32, ::1/128, fd00::/8, 0.0.0.0/0"
    );
    assert!(p.contains(ip("10.255.0.3")));
    assert!(p.contains(ip("192.168.1.7")));
    assert!(p.contains(ip("::1")));
    assert!(p.contains(ip("fd12:3456::1")));
    assert!(!p.contains(ip("fe80::1")));
    let p = proxies("192.168.1.7");
    assert!(!p.contains(ip("192.168.1.8")));
    assert!(!p.contains(ip("::ffff:192.168.1.8")));
}

#[test]
fn ipv4_mapped_peers_match_ipv4_networks() {
    let p = proxies("10.0.0.0/8");
    assert!(p.contains(ip("::ffff:10.0.0.1")));
    assert!(!p.contains(ip("::ffff:11.0.0.1")));
    // Mapped networks are their IPv4 networks.
    assert_eq!(proxies("::ffff:10.0.0.0/104"), p);
    assert_eq!(proxies("::ffff:10.0.0.1").to_string(), "10.0.0.1/32");
    assert!(proxies("::ffff:10.0.0.1").contains(ip("10.0.0.1")));
    // An IPv6 network does not swallow IPv4 peers, nor the reverse.
    assert!(!proxies("::/0").contains(ip("::ffff:10.0.0.1")));
    assert!(!proxies("0.0.0.0/0").contains(ip("::1")));
    let headers = headers(&[("x-forwarded-for", "203.0.113.7")]);
    assert_eq!(
        p.client_ip(ip("::ffff:10.0.0.1"), &headers),
        ip("203.0.113.7")
    );
}

#[test]
fn lists_collect() {
    let all: TrustedProxies = [proxies("10.0.0.0/8"), proxies("::1, 127.0.0.1")]
        .into_iter()
        .collect();
    assert_eq!(all, proxies("10.0.0.0/8, ::1, 127.0.0.1"));
    assert!(TrustedProxies::default().is_empty());
    assert!(!all.is_empty());
}

#[test]
fn bad_entries_say_why() {
    let err = |s: &str| s.parse::<TrustedProxies>().unwrap_err().to_string();
    assert_eq!(
        err("10.0.0.0/33"),
        "invalid trusted proxy \"10.0.0.0/33\": prefix length /33 is longer than 32 bits"
    );
    assert!(err("::/129").contains("/129 is longer than 128 bits"));
    assert!(err("::/1290").contains("/1290 is longer than 128 bits"));
    assert_eq!(
        err("10.0.0.1/8"),
        "invalid trusted proxy \"10.0.0.1/8\": host bits are set: write 10.0.0.0/8 \
         for the network or 10.0.0.1 for this one address"
    );
    assert!(err("fd00::1/8").contains("write fd00::/8"));
    for bad in [
        "example.com",
        "10.0.0",
        "10.0.0.0.0",
        "fe80::1%eth0",
        "[::1]",
        "1.2.3.4:80",
    ] {
        assert!(err(bad).contains("not an IP address or CIDR"), "{bad}");
    }
    for bad in [
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0.0/x",
        "10.0.0.0/ 8",
        "10.0.0.0/8/8",
    ] {
        assert!(err(bad).contains("not a number"), "{bad}");
    }
    assert!(err("").contains("empty entry"));
    assert!(err("10.0.0.0/8,,::1").contains("empty entry"));
    assert!(err("10.0.0.0/8,").contains("empty entry"));
}

// ----- who may speak -----

#[test]
fn untrusted_peers_cannot_set_the_client() {
    let p = proxies("10.0.0.0/8");
    let forged = headers(&[
        ("x-forwarded-for", "10.0.0.5"),
        ("forwarded", "for=192.0.2.1"),
    ]);
    assert_eq!(p.client_ip(ip("203.0.113.9"), &forged), ip("203.0.113.9"));
    let none = TrustedProxies::default();
    assert_eq!(none.client_ip(ip("10.0.0.1"), &forged), ip("10.0.0.1"));
}

#[test]
fn trusted_peer_without_headers_is_the_client() {
    assert_eq!(client(&[]), ip("10.0.0.1"));
    assert_eq!(client(&[("x-real-ip", "192.0.2.1")]), ip("10.0.0.1"));
}

// ----- X-Forwarded-For -----

#[test]
fn x_forwarded_for_walks_from_the_right() {
    assert_eq!(xff("203.0.113.7"), ip("203.0.113.7"));
    assert_eq!(xff("  203.0.113.7  "), ip("203.0.113.7"));
    // A chain of trusted proxies is passed over.
    assert_eq!(xff("203.0.113.7, 10.0.0.2, 10.0.0.3"), ip("203.0.113.7"));
    assert_eq!(xff("203.0.113.7,fd00::2,10.0.0.3"), ip("203.0.113.7"));
    // Every hop trusted: the left-most.
    assert_eq!(xff("10.0.0.9, 10.0.0.2"), ip("10.0.0.9"));
    // IPv6, bracketed or not, with ports.
    assert_eq!(xff("2001:db8::1"), ip("2001:db8::1"));
    assert_eq!(xff("[2001:db8::1]"), ip("2001:db8::1"));
    assert_eq!(xff("[2001:db8::1]:4711"), ip("2001:db8::1"));
    assert_eq!(xff("203.0.113.7:8080"), ip("203.0.113.7"));
    assert_eq!(xff("::ffff:203.0.113.7"), ip("::ffff:203.0.113.7"));
}

#[test]
fn x_forwarded_for_reads_every_line_in_order() {
    let h = [
        ("x-forwarded-for", "192.0.2.1"),
        ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
        ("x-forwarded-for", "10.0.0.3"),
    ];
    assert_eq!(client(&h), ip("203.0.113.7"));
    let h = [
        ("x-forwarded-for", "192.0.2.1"),
        ("x-forwarded-for", "10.0.0.3"),
    ];
    assert_eq!(client(&h), ip("192.0.2.1"));
}

#[test]
fn a_forged_x_forwarded_for_loses_to_what_the_proxy_appends() {
    // The client sends its own header; the proxy appends the address
    // it really saw, on the same line or a new one.
    assert_eq!(xff("6.6.6.6, 203.0.113.7"), ip("203.0.113.7"));
    let h = [
        ("x-forwarded-for", "6.6.6.6"),
        ("x-forwarded-for", "203.0.113.7"),
    ];
    assert_eq!(client(&h), ip("203.0.113.7"));
    // Forging a trusted hop does not help either.
    assert_eq!(xff("6.6.6.6, 10.0.0.7, 203.0.113.7"), ip("203.0.113.7"));
    // Nor does breaking the syntax at the left.
    for forged in ["\"", "[", "6.6.6.6 6.6.6.7", ",,,", "unknown", "x\\"] {
        assert_eq!(
            xff(&format!("{forged}, 203.0.113.7")),
            ip("203.0.113.7"),
            "{forged}"
        );
    }
    // Forged hops left of a trusted client are believed only as far as
    // trusted hops vouch for them: here 10.0.0.7 (a trusted machine)
    // is the client, and anything it claims is its own business.
    assert_eq!(xff("6.6.6.6, 10.0.0.7"), ip("6.6.6.6"));
}

#[test]
fn x_forwarded_for_stops_at_what_it_cannot_read() {
    // Malformed at the right: the peer.
    for bad in [
        "203.0.113.7, garbage",
        "203.0.113.7,",
        "203.0.113.7, unknown",
        "203.0.113.7, _hidden",
        "203.0.113.7, 1.2.3.4.5",
        "203.0.113.7, 010.0.0.1",
        "203.0.113.7, 1.2.3.4:99999x",
        "203.0.113.7, [2001:db8::1",
        "203.0.113.7, 2001:db8::1]",
        "203.0.113.7, fe80::1%eth0",
        "203.0.113.7, 1.2.3.4 5.6.7.8",
        "",
        " ",
    ] {
        assert_eq!(xff(bad), ip("10.0.0.1"), "{bad:?}");
    }
    // Malformed past a trusted hop: that hop.
    assert_eq!(xff("203.0.113.7, junk, 10.0.0.2"), ip("10.0.0.2"));
    assert_eq!(xff("203.0.113.7,, 10.0.0.2"), ip("10.0.0.2"));
    let h = [
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-for", ""),
        ("x-forwarded-for", "10.0.0.2"),
    ];
    assert_eq!(client(&h), ip("10.0.0.2"));
}

// ----- Forwarded (RFC 7239) -----

#[test]
fn forwarded_rfc_7239_examples() {
    // §4 and §7.1.
    assert_eq!(fwd("for=\"_gazonk\""), ip("10.0.0.1"));
    assert_eq!(
        fwd("For=\"[2001:db8:cafe::17]:4711\""),
        ip("2001:db8:cafe::17")
    );
    assert_eq!(
        fwd("for=192.0.2.60;proto=http;by=203.0.113.43"),
        ip("192.0.2.60")
    );
    assert_eq!(
        fwd("for=192.0.2.43, for=198.51.100.17"),
        ip("198.51.100.17")
    );
    assert_eq!(fwd("for=192.0.2.43, for=10.0.0.17"), ip("192.0.2.43"));
    assert_eq!(
        fwd("for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=unknown"),
        ip("10.0.0.1")
    );
    assert_eq!(
        fwd("for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=10.0.0.5"),
        ip("2001:db8:cafe::17")
    );
    // §6.3: an obfuscated port does not hide the address.
    assert_eq!(fwd("for=\"192.0.2.43:_abc-1\""), ip("192.0.2.43"));
    assert_eq!(fwd("for=\"[2001:db8::1]:_p\""), ip("2001:db8::1"));
}

#[test]
fn forwarded_syntax() {
    assert_eq!(fwd("for=\"192.0.2.43:80\""), ip("192.0.2.43"));
    assert_eq!(fwd("FOR=192.0.2.43"), ip("192.0.2.43"));
    assert_eq!(fwd("by=10.0.0.1;for=192.0.2.43"), ip("192.0.2.43"));
    assert_eq!(fwd("for=192.0.2.43 ; proto=https"), ip("192.0.2.43"));
    assert_eq!(fwd(";for=192.0.2.43;;proto=https;"), ip("192.0.2.43"));
    assert_eq!(fwd("  for=192.0.2.43  ,  for=10.0.0.3  "), ip("192.0.2.43"));
    // Escapes in a quoted string are undone.
    assert_eq!(fwd(r#"for="\[2001:db8::1\]:80""#), ip("2001:db8::1"));
    // A comma or quote inside a quoted string separates nothing.
    assert_eq!(
        fwd(r#"for=192.0.2.43;host="a, for=6.6.6.6""#),
        ip("192.0.2.43")
    );
    assert_eq!(
        fwd(r#"for=192.0.2.43;ext="x\", for=6.6.6.6, \"", for=10.0.0.2"#),
        ip("192.0.2.43")
    );
    assert_eq!(fwd(r#"for=192.0.2.43;ext="a\\""#), ip("192.0.2.43"));
    // Every line, in order.
    let h = [
        ("forwarded", "for=192.0.2.43"),
        ("forwarded", "for=198.51.100.17;proto=https, for=10.0.0.9"),
        ("forwarded", "for=10.0.0.8"),
    ];
    assert_eq!(client(&h), ip("198.51.100.17"));
}

#[test]
fn forwarded_stops_at_what_it_cannot_read() {
    for bad in [
        "for=unknown",
        "for=UNKNOWN",
        "for=\"unknown:80\"",
        "for=_hidden",
        "for=\"_hidden:80\"",
        // IPv6 must be bracketed and quoted.
        "for=[2001:db8::1]",
        "for=\"2001:db8::1\"",
        "for=\"[2001:db8::1]80\"",
        "for=\"[2001:db8::1]:\"",
        "for=\"192.0.2.43:123456\"",
        "for=\"192.0.2.43:\"",
        "for=\"192.0.2.43:_\"",
        "for=192.0.2.43:80",
        // No `for`, or two.
        "proto=https",
        "",
        "for=192.0.2.43;for=192.0.2.44",
        "for=192.0.2.43;For=192.0.2.43",
        // Not the grammar.
        "for = 192.0.2.43",
        "for=",
        "for=\"\"",
        "=192.0.2.43",
        "for=192.0.2.43 proto=http",
        "for=192.0.2.43;proto",
        "for=\"192.0.2.43",
        "for=192.0.2.43\"",
        "for=\"192.0.2.43\"x",
        "for=\"192.0.2.43\\\"",
        "for=192.0.2.43 for=192.0.2.44",
    ] {
        assert_eq!(fwd(bad), ip("10.0.0.1"), "{bad:?}");
        assert_eq!(
            fwd(&format!("for=203.0.113.7, {bad}")),
            ip("10.0.0.1"),
            "{bad:?} after a client"
        );
        assert_eq!(
            fwd(&format!("for=203.0.113.7, {bad}, for=10.0.0.2")),
            ip("10.0.0.2"),
            "{bad:?} before a trusted hop"
        );
    }
}

#[test]
fn forwarded_elements_refuse_controls() {
    // HeaderValue refuses these already; the parser does not rely on it.
    assert_eq!(forwarded_for(b"for=192.0.2.43"), Some(ip("192.0.2.43")));
    assert_eq!(forwarded_for(b"for=\"192.0.2.43\x7f\""), None);
    assert_eq!(forwarded_for(b"for=\"192.0.2.43\n\""), None);
    assert_eq!(forwarded_for(b"for=\"\\\x00192.0.2.43\""), None);
    assert_eq!(forwarded_for(b"for=\"192.0.2.43\xff\""), None);
    assert_eq!(x_forwarded_for(b"192.0.2.43\xff"), None);
}

#[test]
fn a_forged_forwarded_loses_to_what_the_proxy_appends() {
    let real = ip("203.0.113.7");
    assert_eq!(fwd("for=6.6.6.6, for=203.0.113.7"), real);
    let h = [
        ("forwarded", "for=6.6.6.6"),
        ("forwarded", "for=203.0.113.7;proto=https"),
    ];
    assert_eq!(client(&h), real);
    // Broken syntax on the client's side of the same line: the quote
    // left open would swallow the proxy's element if read from the
    // left; read from the right it cannot.
    for forged in [
        "for=\"6.6.6.6",
        "for=\"",
        "\"",
        "for=6.6.6.6;x=\"",
        "for=\"[::1]\\",
        "for=\"a\\\"",
        ";;;,,,",
        "for=6.6.6.6;for=6.6.6.7",
        "for=10.0.0.7\", for=6.6.6.6",
    ] {
        assert_eq!(fwd(&format!("{forged}, for=203.0.113.7")), real, "{forged}");
        assert_eq!(
            fwd(&format!("{forged}, for=\"203.0.113.7:4711\";proto=https")),
            real,
            "{forged}"
        );
    }
    // A client's X-Forwarded-For does not count when Forwarded is the
    // header in use.
    let h = [
        ("x-forwarded-for", "6.6.6.6"),
        ("forwarded", "for=203.0.113.7"),
    ];
    assert_eq!(client(&h), real);
}

#[test]
fn forwarded_wins_over_x_forwarded_for() {
    let h = [
        ("x-forwarded-for", "198.51.100.1"),
        ("forwarded", "for=192.0.2.43"),
    ];
    assert_eq!(client(&h), ip("192.0.2.43"));
    // Even when it names no one: the walk stops there.
    let h = [
        ("x-forwarded-for", "198.51.100.1"),
        ("forwarded", "for=unknown"),
    ];
    assert_eq!(client(&h), ip("10.0.0.1"));
}

// ----- bounds -----

#[test]
fn at_most_64_elements() {
    let hops = |n| vec!["10.0.0.2"; n].join(", ");
    assert_eq!(
        xff(&format!("203.0.113.7, {}", hops(63))),
        ip("203.0.113.7")
    );
    assert_eq!(xff(&format!("203.0.113.7, {}", hops(64))), ip("10.0.0.2"));
    // Counted across lines too.
    let mut h = vec![("x-forwarded-for", "203.0.113.7")];
    h.extend(std::iter::repeat_n(("x-forwarded-for", "10.0.0.2"), 64));
    assert_eq!(client(&h), ip("10.0.0.2"));
    let fwd_hops = vec!["for=10.0.0.2"; 64].join(",");
    assert_eq!(fwd(&format!("for=203.0.113.7,{fwd_hops}")), ip("10.0.0.2"));
}

#[test]
fn at_most_8_kib_from_the_right() {
    // A huge forged header cannot push the real client out: it is at
    // the right.
    let junk = "6.6.6.6, ".repeat(2000);
    assert_eq!(xff(&format!("{junk}203.0.113.7")), ip("203.0.113.7"));
    let junk = "for=\"6.6.6.6\", ".repeat(1000);
    assert_eq!(fwd(&format!("{junk}for=203.0.113.7")), ip("203.0.113.7"));
    // An element cut by the budget is not read: the walk ends at the
    // last trusted hop before it.
    let pad = "x".repeat(MAX_HEADER_BYTES);
    assert_eq!(xff(&format!("203.0.113.7{pad}, 10.0.0.2")), ip("10.0.0.2"));
    let exactly = format!("{}1.2.3.4, 10.0.0.2", " ".repeat(MAX_HEADER_BYTES - 17));
    assert_eq!(exactly.len(), MAX_HEADER_BYTES);
    assert_eq!(xff(&exactly), ip("1.2.3.4"));
    let over = format!(" {exactly}");
    assert_eq!(xff(&over), ip("10.0.0.2"));
    // Across lines (11 + pad + 8 + 8 bytes): the line that does not
    // fit is cut.
    let lines = |pad: usize| {
        let middle = format!("{}10.0.0.3", " ".repeat(pad));
        client(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-for", &middle),
            ("x-forwarded-for", "10.0.0.2"),
        ])
    };
    assert_eq!(lines(MAX_HEADER_BYTES - 27), ip("203.0.113.7"));
    assert_eq!(lines(MAX_HEADER_BYTES - 26), ip("10.0.0.3"));
    assert_eq!(lines(MAX_HEADER_BYTES), ip("10.0.0.2"));
    let middle = format!("{}for=10.0.0.3", " ".repeat(MAX_HEADER_BYTES));
    let h = [
        ("forwarded", "for=203.0.113.7"),
        ("forwarded", middle.as_str()),
        ("forwarded", "for=10.0.0.2"),
    ];
    assert_eq!(client(&h), ip("10.0.0.2"));
}

// ----- never panics -----

#[test]
fn every_cut_of_a_tricky_header_is_handled() {
    let p = proxies("10.0.0.0/8, fd00::/8");
    let peer = ip("10.0.0.1");
    let samples = [
        r#"for=192.0.2.43;host="a, \"b\\", for="[2001:db8::1]:4711";proto=https , For=_x, for=10.0.0.2"#,
        "203.0.113.7, [2001:db8::1]:80, fd00::1, 10.0.0.3:1, unknown, ::ffff:10.0.0.1",
    ];
    for sample in samples {
        for name in ["forwarded", "x-forwarded-for"] {
            for i in 0..=sample.len() {
                for part in [&sample[..i], &sample[i..]] {
                    let h = headers(&[(name, part)]);
                    let got = p.client_ip(peer, &h);
                    assert!(
                        got == peer || part.contains(&got.to_string()),
                        "{got} from {part:?}"
                    );
                }
            }
        }
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        Just(b'"'), Just(b'\\'), Just(b','), Just(b';'), Just(b'='),
                        Just(b' '), Just(b'['), Just(b']'), Just(b':'), Just(b'.'),
                        Just(b'_'), 0x21u8..0x7f, 0x80u8..=0xff,
                        Just(b'1'), Just(b'0'), Just(b'f'),
                    ],
                    0..40,
                ),
                0..5,
            ),
            forwarded in any::<bool>(),
        ) {
            let p = proxies("10.0.0.0/8, fd00::/8, 1.0.0.0/8");
            let name = if forwarded { "forwarded" } else { "x-forwarded-for" };
            let mut map = HeaderMap::new();
            for line in &lines {
                if let Ok(value) = HeaderValue::from_bytes(line) {
                    map.append(HeaderName::from_static(name), value);
                }
            }
            let _ = p.client_ip(ip("10.0.0.1"), &map);
            let _ = p.client_ip(ip("::ffff:1.2.3.4"), &map);
        }
    }
}
