//! Differential tests: berth's `HeadParser` against httparse on generated
//! request heads (DESIGN.md §6.3, as h11 tests itself against Python's
//! stdlib), plus split-independence and no-panic on arbitrary bytes.
//!
//! When both parsers accept, method, target, version and header fields
//! (name lowercased, value with OWS trimmed) must agree. When berth rejects
//! a head httparse accepts, the error kind must be on [`STRICTER`], each
//! entry with its reason; berth accepting what httparse rejects is never
//! allowed. Generated heads are valid HTTP/1.x except for the deliberate
//! variations listed in [`GenHead`].

use berth::proto::{ErrorKind, HeadParser, Limits, ParseStatus, RequestHead};
use bytes::BytesMut;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Failing inputs are saved here (relative to the package root, where
/// `cargo test` runs) and replayed first on the next run; commit the file.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/oracle.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Where berth is deliberately stricter than httparse, which checks syntax
/// only. Mirror any change here in CONFORMANCE.md.
const STRICTER: &[(ErrorKind, &str)] = &[
    // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request
    // without Host; httparse does not look at field semantics.
    (ErrorKind::MissingHost, "HTTP/1.1 without Host"),
    // RFC 9112 §3.2: ... and to a request with more than one Host line.
    (ErrorKind::DuplicateHost, "more than one Host field line"),
    // RFC 9112 §3.2: ... and to a Host that is not `uri-host [ ":" port ]`
    // (RFC 9110 §7.2); httparse accepts any field value.
    (ErrorKind::BadHost, "Host value is not uri-host [:port]"),
];

fn stricter_reason(kind: ErrorKind) -> Option<&'static str> {
    STRICTER
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, why)| *why)
}

// ---------------------------------------------------------------------------
// Generating request heads

/// A request head to render. Variations from the plain valid head: the
/// Host field may be missing (or, rarely, a generated name may be `host`),
/// field values carry leading and trailing OWS, values may hold obs-text,
/// and the head may start with empty lines.
#[derive(Debug, Clone)]
struct GenHead {
    leading_crlfs: usize,
    method: String,
    target: String,
    version: &'static str,
    /// Name and raw value (OWS included) in wire order.
    fields: Vec<(String, Vec<u8>)>,
}

impl GenHead {
    fn render(&self) -> Vec<u8> {
        let mut out = b"\r\n".repeat(self.leading_crlfs);
        out.extend_from_slice(
            format!("{} {} {}\r\n", self.method, self.target, self.version).as_bytes(),
        );
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
            .prop_map(str::to_owned),
        // Any token (RFC 9110 §9.1), lowercase and odd ones included, except
        // CONNECT: it needs authority-form, which is not generated here.
        1 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}".prop_filter("CONNECT", |m| m != "CONNECT"),
    ]
}

/// Origin-form (RFC 9112 §3.2.1) from RFC 3986 `pchar` and `query`.
fn target() -> impl Strategy<Value = String> {
    let segment = "([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2}){0,12}";
    let query = "([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2}){0,16}";
    (
        prop::collection::vec(segment, 1..6),
        prop::option::of(query),
    )
        .prop_map(|(segments, query)| {
            let mut t = format!("/{}", segments.join("/"));
            if let Some(q) = query {
                t.push('?');
                t.push_str(&q);
            }
            t
        })
}

fn ows() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![b' ', b'\t']), 0..3)
}

/// `field-value` without its surrounding OWS: field-vchar (VCHAR and
/// obs-text) with SP / HTAB only inside (RFC 9110 §5.5).
fn field_content() -> impl Strategy<Value = Vec<u8>> {
    let vchar = prop_oneof![8 => 0x21u8..=0x7e, 1 => 0x80u8..=0xff];
    let inner = prop_oneof![8 => vchar.clone(), 1 => Just(b' '), 1 => Just(b'\t')];
    prop_oneof![
        1 => Just(Vec::new()),
        9 => (vchar.clone(), prop::collection::vec(inner, 0..24), vchar).prop_map(
            |(first, mut middle, last)| {
                middle.insert(0, first);
                middle.push(last);
                middle
            }
        ),
    ]
}

fn field() -> impl Strategy<Value = (String, Vec<u8>)> {
    (
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}",
        ows(),
        field_content(),
        ows(),
    )
        .prop_map(|(name, lead, content, trail)| (name, [lead, content, trail].concat()))
}

fn host_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9-]{1,10}(\\.[a-z0-9-]{1,10}){0,3}",
        "[a-z]{1,8}:[0-9]{1,5}",
        "(25[0-5]|[0-9]{1,2})\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(:[0-9]{2,5})?",
        Just("[::1]:8080".to_owned()),
    ]
}

fn head() -> impl Strategy<Value = GenHead> {
    (
        0usize..3,
        method(),
        target(),
        prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0"]),
        prop::collection::vec(field(), 0..20),
        prop::option::weighted(0.9, (host_value(), ows(), any::<prop::sample::Index>())),
    )
        .prop_map(
            |(leading_crlfs, method, target, version, mut fields, host)| {
                if let Some((value, ows, at)) = host {
                    let raw = [ows.clone(), value.into_bytes(), ows].concat();
                    fields.insert(at.index(fields.len() + 1), ("Host".to_owned(), raw));
                }
                GenHead {
                    leading_crlfs,
                    method,
                    target,
                    version,
                    fields,
                }
            },
        )
}

// ---------------------------------------------------------------------------
// Comparing

/// A parse result in a shape both parsers can produce: method, target,
/// version, and the field values grouped by lowercased name in order of
/// first appearance (berth's `HeaderMap` order).
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    method: String,
    target: String,
    version: &'static str,
    fields: Vec<(String, Vec<Vec<u8>>)>,
}

fn group(pairs: impl IntoIterator<Item = (String, Vec<u8>)>) -> Vec<(String, Vec<Vec<u8>>)> {
    let mut out: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for (name, value) in pairs {
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name, vec![value])),
        }
    }
    out
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn from_berth(head: &RequestHead) -> Parsed {
    Parsed {
        method: head.method.to_string(),
        target: head.uri.to_string(),
        version: if head.version == http::Version::HTTP_10 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        },
        fields: group(
            head.headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())),
        ),
    }
}

fn parse_berth(input: &[u8]) -> Result<Parsed, ErrorKind> {
    let mut buf = BytesMut::from(input);
    match HeadParser::new(Limits::default()).parse(&mut buf) {
        Ok(ParseStatus::Complete(head)) => Ok(from_berth(&head)),
        Ok(ParseStatus::Partial) => Err(ErrorKind::IncompleteHead),
        Err(e) => Err(e.kind()),
    }
}

fn parse_httparse(input: &[u8]) -> Result<Parsed, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(input) {
        Ok(httparse::Status::Complete(_)) => Ok(Parsed {
            method: req.method.unwrap_or_default().to_owned(),
            target: req.path.unwrap_or_default().to_owned(),
            version: if req.version == Some(0) {
                "HTTP/1.0"
            } else {
                "HTTP/1.1"
            },
            fields: group(
                req.headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), trim_ows(h.value).to_vec())),
            ),
        }),
        Ok(httparse::Status::Partial) => Err("partial".into()),
        Err(e) => Err(e.to_string()),
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn berth_agrees_with_httparse(head in head()) {
        let input = head.render();
        let text = String::from_utf8_lossy(&input).into_owned();
        match (parse_berth(&input), parse_httparse(&input)) {
            (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs, "{:?}", text),
            (Err(kind), Ok(_)) => prop_assert!(
                stricter_reason(kind).is_some(),
                "berth rejects with {:?} what httparse accepts, and {:?} is not on the \
                 allow-list: {:?}", kind, kind, text
            ),
            (Ok(_), Err(theirs)) => prop_assert!(
                false, "berth accepts what httparse rejects ({}): {:?}", theirs, text
            ),
            (Err(_), Err(_)) => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Arbitrary bytes: no panic, and the same result however the input is fed

/// The outcome of feeding `input` in `step`-byte pieces until a head is
/// complete or fails: the head (rendered) and how many input bytes it took,
/// or the error, or `Partial`.
fn feed(input: &[u8], step: usize, limits: Limits) -> String {
    let mut parser = HeadParser::new(limits);
    let mut buf = BytesMut::new();
    let mut fed = 0;
    for piece in input.chunks(step.max(1)) {
        buf.extend_from_slice(piece);
        fed += piece.len();
        match parser.parse(&mut buf) {
            Ok(ParseStatus::Complete(head)) => {
                return format!("{:?} after {} bytes", from_berth(&head), fed - buf.len());
            }
            Ok(ParseStatus::Partial) => {}
            Err(e) => return format!("error {:?}", e.kind()),
        }
    }
    "partial".to_owned()
}

/// Bytes that look enough like HTTP to get past the request line.
fn httpish() -> impl Strategy<Value = Vec<u8>> {
    let words: Vec<&'static [u8]> = vec![
        b"GET",
        b"OPTIONS",
        b"CONNECT",
        b" ",
        b"  ",
        b"/",
        b"/a?b",
        b"*",
        b"http://h/",
        b"h:1",
        b"#",
        b"%",
        b"@",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/2.0",
        b"\r\n",
        b"\r\n\r\n",
        b"\n",
        b"\r",
        b"Host",
        b"host",
        b":",
        b": ",
        b"x",
        b"\t",
        b"\0",
        b"\x0b",
        b"\x80",
        b"\xff",
        b"Content-Length",
        b"Transfer-Encoding",
        b"chunked",
        b"5",
        b"[::1]",
        b"a b",
    ];
    prop::collection::vec(prop::sample::select(words), 0..48).prop_map(|w| w.concat())
}

fn tiny_limits() -> Limits {
    Limits {
        max_head_bytes: 48,
        max_target_bytes: 12,
        max_headers: 3,
        ..Limits::default()
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn any_bytes_parse_the_same_whole_and_bytewise(
        input in prop_oneof![prop::collection::vec(any::<u8>(), 0..200), httpish()],
        step in 2usize..9,
    ) {
        for limits in [Limits::default(), tiny_limits()] {
            let whole = feed(&input, input.len(), limits);
            prop_assert_eq!(&whole, &feed(&input, 1, limits), "byte by byte");
            prop_assert_eq!(&whole, &feed(&input, step, limits), "in {}-byte pieces", step);
        }
    }
}

#[test]
fn allow_list_entries_are_reachable() {
    // Each allow-list entry must describe a real difference, or be removed.
    let cases: &[(&[u8], ErrorKind)] = &[
        (b"GET / HTTP/1.1\r\n\r\n", ErrorKind::MissingHost),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
            ErrorKind::DuplicateHost,
        ),
        (b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ErrorKind::BadHost),
    ];
    for (input, kind) in cases {
        assert!(parse_httparse(input).is_ok(), "httparse accepts {input:?}");
        assert_eq!(parse_berth(input), Err(*kind));
        assert!(stricter_reason(*kind).is_some());
    }
    assert_eq!(cases.len(), STRICTER.len());
}
