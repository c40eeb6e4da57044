//! `Accept-Encoding` tables and properties, and the fields both users of
//! codings set.

use http::header::{self, HeaderMap, HeaderValue};

use super::*;
use Coding::{Br, Gzip, Identity, Zstd};
use Negotiated::{NotAcceptable, Use};
use proptest::prelude::*;

fn pick(value: &str) -> Negotiated {
    negotiate(Some(&HeaderValue::from_str(value).unwrap()), &Coding::ALL)
}

proptest! {
    /// The allocation-free pick is the head of the full ranking, for
    /// any field and any server preference order.
    #[test]
    fn negotiate_is_the_best_ranked(
        elements in proptest::collection::vec(
            (
                proptest::sample::select(vec!["gzip", "br", "zstd", "identity", "*", "deflate", "x-gzip"]),
                proptest::option::of(proptest::sample::select(vec!["0", "0.5", "1", "0.001", "1.0"])),
            ),
            0..6,
        ),
        order in proptest::sample::subsequence(Coding::ALL.to_vec(), 0..=Coding::ALL.len()),
    ) {
        let field: Vec<String> = elements
            .iter()
            .map(|(name, q)| match q {
                Some(q) => format!("{name};q={q}"),
                None => (*name).to_owned(),
            })
            .collect();
        let Ok(value) = HeaderValue::from_str(&field.join(", ")) else { return Ok(()) };
        let accept = AcceptEncoding::parse([&value]);
        let want = match accept.ranked(&order).first() {
            Some(&c) => Use(c),
            None => NotAcceptable,
        };
        prop_assert_eq!(accept.negotiate(&order), want);
    }
}

#[test]
fn negotiation_table() {
    let cases: &[(&str, Negotiated)] = &[
        // Tie order: zstd, br, gzip, identity.
        ("gzip, deflate, br, zstd", Use(Zstd)),
        ("gzip, deflate, br", Use(Br)),
        ("gzip", Use(Gzip)),
        ("x-gzip", Use(Gzip)),
        ("deflate", Use(Identity)),
        ("", Use(Identity)),
        (" , ,", Use(Identity)),
        ("identity", Use(Identity)),
        // q-values.
        ("gzip;q=0", Use(Identity)),
        ("gzip;q=0.000", Use(Identity)),
        ("gzip;q=0.001", Use(Gzip)),
        ("br;q=0.5, gzip", Use(Gzip)),
        ("br;q=0.5, gzip;q=0.4", Use(Br)),
        ("gzip;q=1.000, br;q=0.999", Use(Gzip)),
        ("gzip;q=0.5", Use(Gzip)),
        ("gzip;q=0.5, identity", Use(Identity)),
        ("gzip;q=0.5, identity;q=0.5", Use(Gzip)),
        ("gzip, identity;q=0", Use(Gzip)),
        // `*`.
        ("*", Use(Zstd)),
        ("*;q=0.5, gzip", Use(Gzip)),
        ("*;q=0", NotAcceptable),
        ("*;q=0, identity", Use(Identity)),
        ("*;q=0, gzip", Use(Gzip)),
        ("*, zstd;q=0, br;q=0", Use(Gzip)),
        ("identity;q=0", NotAcceptable),
        ("identity;q=0, deflate", NotAcceptable),
        ("gzip;q=0, identity;q=0", NotAcceptable),
        // Case, whitespace.
        ("GZIP", Use(Gzip)),
        ("Br;Q=1", Use(Br)),
        ("  gzip ; q=0.8 ,\tbr ; q = 0.9 ", Use(Br)),
        ("gzip;q=0.5;foo=bar", Use(Gzip)),
        // The first q is the weight.
        ("br;q=0.1;q=1, gzip;q=0.5", Use(Gzip)),
        // A comma inside a quoted parameter value does not split.
        ("gzip;x=\"a, br\", identity;q=0", Use(Gzip)),
        ("gzip;x=\"a, br;q=1\";q=0.5, br;q=0.4", Use(Gzip)),
        // Malformed elements are skipped: the one q-value rule of
        // crate::syntax.
        ("gzip;q=0.0001", Use(Identity)),
        ("gzip;q=00", Use(Identity)),
        ("gzip;q=1.001", Use(Identity)),
        ("zstd;q=0.0001, gzip;q=0.1", Use(Gzip)),
        ("gzip;q=2", Use(Identity)),
        ("gzip;q=1.5", Use(Identity)),
        ("gzip;q=1.0001", Use(Identity)),
        ("gzip;q=0.5x", Use(Identity)),
        ("gzip;q=", Use(Identity)),
        ("gzip;q", Use(Identity)),
        ("gzip;q=-1", Use(Identity)),
        ("gzip;q=.5", Use(Identity)),
        ("gz ip", Use(Identity)),
        ("gzip;q=abc, br", Use(Br)),
        ("identity;q=x", Use(Identity)),
        // Duplicates: the lowest q counts.
        ("gzip, gzip;q=0", Use(Identity)),
        ("gzip;q=0, x-gzip", Use(Identity)),
        ("br;q=0.2, br;q=0.9, gzip;q=0.5", Use(Gzip)),
    ];
    for (value, want) in cases {
        assert_eq!(pick(value), *want, "{value:?}");
    }
    assert_eq!(negotiate(None, &Coding::ALL), Use(Identity));
}

#[test]
fn server_order_breaks_ties() {
    let value = HeaderValue::from_static("gzip, br, zstd");
    assert_eq!(negotiate(Some(&value), &[Gzip, Br]), Use(Gzip));
    assert_eq!(negotiate(Some(&value), &[Br, Gzip]), Use(Br));
    assert_eq!(negotiate(Some(&value), &[]), Use(Identity));
    let value = HeaderValue::from_static("zstd, identity;q=0");
    assert_eq!(negotiate(Some(&value), &[Gzip]), NotAcceptable);
}

#[test]
fn several_lines_are_one_list() {
    let mut headers = HeaderMap::new();
    headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static("br;q=0"));
    headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static("zstd"));
    let ae = AcceptEncoding::from_headers(&headers);
    assert_eq!(ae.negotiate(&Coding::ALL), Use(Zstd));
    assert_eq!(ae.ranked(&Coding::ALL), [Zstd, Gzip, Identity]);
    assert_eq!(ae.quality(Br), 0);
    assert_eq!(ae.quality(Identity), 1);
}

fn element() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("gzip"),
        Just("x-gzip"),
        Just("GZip"),
        Just("br"),
        Just("zstd"),
        Just("identity"),
        Just("*"),
        Just("deflate"),
        Just("bad name"),
    ];
    let q = prop_oneof![
        Just(String::new()),
        Just(";q=0".to_string()),
        Just(";q=0.0".to_string()),
        Just(";Q=0.000".to_string()),
        Just(";q=1".to_string()),
        Just(";q=2".to_string()),
        Just(";q=".to_string()),
        (0u16..=1000).prop_map(|q| format!(";q={}.{:03}", q / 1000, q % 1000)),
    ];
    (name, q, " {0,2}").prop_map(|(n, q, ws)| format!("{ws}{n}{q}{ws}"))
}

/// The token names `coding` with an explicit q=0 in `value`.
fn zeroed(value: &str, coding: Coding) -> bool {
    value.split(',').any(|e| {
        let mut parts = e.split(';');
        let name = parts.next().unwrap_or("").trim();
        Coding::from_token(name.as_bytes()) == Some(coding)
            && parts.any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "q=0" || p == "q=0.0" || p == "q=0.000" || p == "q=0.00"
            })
    })
}

proptest! {
    #[test]
    fn never_picks_a_coding_with_q_zero(elements in prop::collection::vec(element(), 0..6)) {
        let value = elements.join(",");
        let header = HeaderValue::from_str(&value).unwrap();
        let ae = AcceptEncoding::parse(Some(&header));
        match negotiate(Some(&header), &Coding::ALL) {
            Use(coding) => {
                prop_assert!(!zeroed(&value, coding), "{value:?} -> {coding:?}");
                prop_assert!(ae.quality(coding) > 0);
                // Nothing acceptable beats it.
                for other in [Zstd, Br, Gzip, Identity] {
                    prop_assert!(ae.quality(other) <= ae.quality(coding), "{value:?}");
                }
            }
            NotAcceptable => {
                prop_assert!(Coding::ALL.iter().all(|&c| ae.quality(c) == 0));
                prop_assert_eq!(ae.quality(Identity), 0);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(0x20u8..0x7f, 0..64)) {
        let header = HeaderValue::from_bytes(&bytes).unwrap();
        let _ = negotiate(Some(&header), &Coding::ALL);
    }
}

#[test]
fn compressible_types() {
    for ty in [
        "text/html",
        "text/plain; charset=utf-8",
        "TEXT/CSS",
        "text/event-stream",
        "application/json",
        "application/javascript; charset=utf-8",
        "application/xml",
        "application/rss+xml",
        "application/problem+json",
        "application/LD+JSON",
        "application/wasm",
        "image/svg+xml",
        "font/ttf",
        "application/vnd.ms-fontobject",
        " text/html ; charset=\"a;b\"",
    ] {
        assert!(is_compressible(ty), "{ty}");
    }
    for ty in [
        "image/png",
        "image/jpeg",
        "image/webp",
        "video/mp4",
        "audio/mpeg",
        "application/zip",
        "application/gzip",
        "application/zstd",
        "application/octet-stream",
        "application/pdf",
        "application/+json",
        "font/woff2",
        "",
        "text",
        "text/",
        "nonsense",
    ] {
        assert!(!is_compressible(ty), "{ty}");
    }
}

#[test]
fn vary_is_added_once() {
    let vary = |values: &[&'static str]| {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::VARY, HeaderValue::from_static(v));
        }
        add_vary(&mut headers);
        add_vary(&mut headers);
        headers.get_all(header::VARY).iter().count()
    };
    assert_eq!(vary(&[]), 1);
    assert_eq!(vary(&["Origin, accept-encoding"]), 1);
    assert_eq!(vary(&["Origin", " Accept-Encoding ,"]), 2);
    assert_eq!(vary(&["*"]), 1);
    assert_eq!(vary(&["Origin"]), 2);
    // A quoted comma hides nothing: `"x, accept-encoding"` is not a name.
    assert_eq!(vary(&["\"x, accept-encoding\""]), 2);
}
