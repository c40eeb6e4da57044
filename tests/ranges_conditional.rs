//! `ServeDir` over real sockets: validators and conditional requests
//! (RFC 9110 §13), ranges (§14), and the details users of nginx and Caddy
//! expect (HEAD, OPTIONS, redirects with queries, names with spaces and
//! UTF-8, `index.html` by name).

mod support;

use std::fs::File;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::{
    BIG_LEN, HELLO_TXT, INDEX_HTML, Resp, TestServer, big_content, get, parse_multipart, start,
};

/// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date.
const OLD: u64 = 784_111_777;
const OLD_DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

/// A request with extra header fields.
fn request(method: &str, path: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
    for (name, value) in fields {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// GET `path` with `fields`, on a fresh connection.
fn fetch(server: &TestServer, path: &str, fields: &[(&str, &str)]) -> Resp {
    server.connect().request(request("GET", path, fields))
}

/// Sets the mtime of `name` beneath ROOT.
fn set_mtime(server: &TestServer, name: &str, secs: u64) {
    let file = File::options()
        .write(true)
        .open(server.root.join(name))
        .unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

/// The validators of a fresh GET of `path`.
fn validators(server: &TestServer, path: &str) -> (String, String) {
    let r = fetch(server, path, &[]);
    assert_eq!(r.status, 200);
    (
        r.header("etag").expect("ETag").to_string(),
        r.header("last-modified")
            .expect("Last-Modified")
            .to_string(),
    )
}

fn assert_not_modified(r: &Resp, etag: &str) {
    assert_eq!(r.status, 304, "{r:?}");
    assert_eq!(r.header("etag"), Some(etag));
    assert!(r.header("last-modified").is_some());
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("content-type"), None);
    assert!(r.body.is_empty());
}

// ---- validators and conditional requests ----

#[test]
fn file_responses_carry_a_strong_etag_and_accept_ranges() {
    let server = start();
    let r = fetch(&server, "/hello.txt", &[]);
    let etag = r.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(!etag.starts_with("W/"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    // A change of content gives a new tag.
    std::fs::write(server.root.join("hello.txt"), "changed\n").unwrap();
    let changed = fetch(&server, "/hello.txt", &[]);
    assert_ne!(changed.header("etag"), Some(etag));
}

#[test]
fn if_none_match_gives_304_and_keeps_the_connection() {
    let server = start();
    let (etag, _) = validators(&server, "/hello.txt");
    let weak = format!("W/{etag}");
    let mut c = server.connect();
    for value in [
        etag.clone(),
        weak,
        format!("\"other\", {etag}"),
        "*".to_string(),
    ] {
        let r = c.request(request("GET", "/hello.txt", &[("If-None-Match", &value)]));
        assert_not_modified(&r, &etag);
        let r = c.request(request("HEAD", "/hello.txt", &[("If-None-Match", &value)]));
        assert_not_modified(&r, &etag);
    }
    // Nothing was sent after the 304 heads: the next response parses.
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
    let r = c.request(request(
        "GET",
        "/hello.txt",
        &[("If-None-Match", "\"stale\"")],
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
}

#[test]
fn if_modified_since_gives_304() {
    let server = start();
    set_mtime(&server, "hello.txt", OLD);
    let (etag, last_modified) = validators(&server, "/hello.txt");
    assert_eq!(last_modified, OLD_DATE);
    let mut c = server.connect();
    for since in [
        OLD_DATE,
        "Sun, 06 Nov 1994 08:49:38 GMT",
        "Sun Nov  6 08:49:37 1994",
    ] {
        let r = c.request(request(
            "GET",
            "/hello.txt",
            &[("If-Modified-Since", since)],
        ));
        assert_not_modified(&r, &etag);
        assert_eq!(r.header("last-modified"), Some(OLD_DATE));
    }
    for since in ["Sun, 06 Nov 1994 08:49:36 GMT", "not a date", ""] {
        let r = c.request(request(
            "GET",
            "/hello.txt",
            &[("If-Modified-Since", since)],
        ));
        assert_eq!(r.status, 200, "{since:?}");
        assert_eq!(r.body_str(), HELLO_TXT);
    }
}

#[test]
fn failed_if_match_or_if_unmodified_since_gives_412() {
    let server = start();
    set_mtime(&server, "hello.txt", OLD);
    let (etag, _) = validators(&server, "/hello.txt");
    let mut c = server.connect();
    let cases: [(&str, &str, u16); 7] = [
        ("If-Match", "\"stale\"", 412),
        ("If-Match", &format!("W/{etag}"), 412),
        ("If-Match", &etag, 200),
        ("If-Match", "*", 200),
        ("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT", 412),
        ("If-Unmodified-Since", OLD_DATE, 200),
        ("If-Unmodified-Since", "garbage", 200),
    ];
    for (name, value, status) in cases {
        let r = c.request(request("GET", "/hello.txt", &[(name, value)]));
        assert_eq!(r.status, status, "{name}: {value}");
        if status == 412 {
            assert_eq!(r.body_str(), "412 Precondition Failed\n");
            assert!(!r.says_close());
        } else {
            assert_eq!(r.body_str(), HELLO_TXT);
        }
    }
}

#[test]
fn precedence_follows_rfc_9110_13_2_2() {
    let server = start();
    set_mtime(&server, "hello.txt", OLD);
    let (etag, _) = validators(&server, "/hello.txt");
    let mut c = server.connect();
    // If-None-Match wins over If-Modified-Since, both ways.
    let r = c.request(request(
        "GET",
        "/hello.txt",
        &[
            ("If-None-Match", "\"stale\""),
            ("If-Modified-Since", OLD_DATE),
        ],
    ));
    assert_eq!(r.status, 200);
    let r = c.request(request(
        "GET",
        "/hello.txt",
        &[
            ("If-None-Match", &etag),
            ("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ],
    ));
    assert_not_modified(&r, &etag);
    // If-Match is evaluated before If-None-Match: 412 beats 304.
    let r = c.request(request(
        "GET",
        "/hello.txt",
        &[("If-Match", "\"stale\""), ("If-None-Match", &etag)],
    ));
    assert_eq!(r.status, 412);
    // A true If-Match makes If-Unmodified-Since irrelevant.
    let r = c.request(request(
        "GET",
        "/hello.txt",
        &[
            ("If-Match", &etag),
            ("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ],
    ));
    assert_eq!(r.status, 200);
    // Preconditions come before ranges: 304 rather than 206.
    let r = c.request(request(
        "GET",
        "/hello.txt",
        &[("If-None-Match", &etag), ("Range", "bytes=0-1")],
    ));
    assert_not_modified(&r, &etag);
}

#[test]
fn malformed_conditional_headers_are_ignored() {
    let server = start();
    let mut c = server.connect();
    for (name, value) in [
        ("If-None-Match", "unquoted"),
        ("If-None-Match", "\"unterminated"),
        ("If-None-Match", ",,,"),
        ("If-Match", "w/\"lowercase-weak\""),
        ("If-Modified-Since", "Sun, 99 Nov 1994 08:49:37 GMT"),
        ("If-Unmodified-Since", "1994-11-06T08:49:37Z"),
        ("If-Range", "\"x"),
    ] {
        let r = c.request(request("GET", "/hello.txt", &[(name, value)]));
        assert_eq!(r.status, 200, "{name}: {value}");
        assert_eq!(r.body_str(), HELLO_TXT);
    }
}

// ---- ranges ----

fn assert_partial(r: &Resp, first: usize, last: usize, len: usize, content: &[u8]) {
    assert_eq!(r.status, 206, "{r:?}");
    let want = format!("bytes {first}-{last}/{len}");
    assert_eq!(r.header("content-range"), Some(want.as_str()));
    let count = (last - first + 1).to_string();
    assert_eq!(r.header("content-length"), Some(count.as_str()));
    assert!(r.body == content[first..=last], "wrong bytes for {want}");
}

#[test]
fn single_ranges() {
    let server = start();
    let big = big_content();
    let mut c = server.connect();
    let r = c.request(request("GET", "/hello.txt", &[("Range", "bytes=0-4")]));
    assert_partial(&r, 0, 4, HELLO_TXT.len(), HELLO_TXT.as_bytes());
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(r.header("etag").is_some() && r.header("last-modified").is_some());

    let cases = [
        ("bytes=500-", 500, BIG_LEN - 1),
        ("bytes=-500", BIG_LEN - 500, BIG_LEN - 1),
        ("bytes=0-0", 0, 0),
        ("bytes=1000-99999999999", 1000, BIG_LEN - 1),
        ("bytes=-99999999999", 0, BIG_LEN - 1),
        // Crosses several of the driver's read pieces.
        ("bytes=12345-654321", 12345, 654_321),
        // The unit is case-insensitive; OWS is allowed around list members.
        ("BYTES=1-2", 1, 2),
        ("bytes= 1-2 ,", 1, 2),
    ];
    for (range, first, last) in cases {
        let r = c.request(request("GET", "/big.bin", &[("Range", range)]));
        assert_partial(&r, first, last, BIG_LEN, &big);
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    }
}

fn boundary(r: &Resp) -> String {
    let ty = r.header("content-type").expect("Content-Type");
    ty.strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {ty}"))
        .to_string()
}

#[test]
fn several_ranges_are_multipart_byteranges() {
    let server = start();
    let big = big_content();
    let mut c = server.connect();
    let cases: [(&str, &[(usize, usize)]); 4] = [
        (
            "bytes=0-99,1000-1999,-100",
            &[(0, 99), (1000, 1999), (BIG_LEN - 100, BIG_LEN - 1)],
        ),
        // Large parts come through intact (the body is read in pieces).
        (
            "bytes=0-199999, 500000-",
            &[(0, 199_999), (500_000, BIG_LEN - 1)],
        ),
        // Out of order and overlapping: sorted and merged.
        ("bytes=3000-3999,0-9,5-19", &[(0, 19), (3000, 3999)]),
        // An unsatisfiable member is left out.
        ("bytes=0-0,9999999-,1-1", &[(0, 0), (1, 1)]),
    ];
    for (range, want) in cases {
        let r = c.request(request("GET", "/big.bin", &[("Range", range)]));
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.header("content-range"), None);
        assert!(r.header("etag").is_some());
        // The multipart length is computed up front: no chunked framing.
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str()),
            "{range}"
        );
        assert_eq!(r.header("transfer-encoding"), None, "{range}");
        let parts = parse_multipart(&r.body, &boundary(&r));
        assert_eq!(parts.len(), want.len(), "{range}");
        for ((headers, bytes), &(first, last)) in parts.iter().zip(want) {
            let field = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(field("content-type"), Some("application/octet-stream"));
            let content_range = format!("bytes {first}-{last}/{BIG_LEN}");
            assert_eq!(field("content-range"), Some(content_range.as_str()));
            assert!(*bytes == big[first..=last], "bytes of {content_range}");
        }
    }
    // Overlapping ranges merged into one: a plain 206.
    let r = c.request(request("GET", "/hello.txt", &[("Range", "bytes=0-3,2-5")]));
    assert_partial(&r, 0, 5, HELLO_TXT.len(), HELLO_TXT.as_bytes());
    // The connection is still in step after multipart bodies.
    assert_eq!(c.request(get("/")).body_str(), INDEX_HTML);
}

#[test]
fn boundaries_differ_between_responses() {
    let server = start();
    let mut c = server.connect();
    let range = [("Range", "bytes=0-0,2-2")];
    let a = boundary(&c.request(request("GET", "/hello.txt", &range)));
    let b = boundary(&c.request(request("GET", "/hello.txt", &range)));
    assert_ne!(a, b);
}

#[test]
fn unsatisfiable_ranges_give_416() {
    let server = start();
    let mut c = server.connect();
    let len = HELLO_TXT.len();
    for range in ["bytes=13-", "bytes=100-200", "bytes=-0", "bytes=13-13, 20-"] {
        let r = c.request(request("GET", "/hello.txt", &[("Range", range)]));
        assert_eq!(r.status, 416, "{range}");
        let want = format!("bytes */{len}");
        assert_eq!(r.header("content-range"), Some(want.as_str()), "{range}");
        assert!(!r.says_close());
    }
    // A zero-length file: nothing is satisfiable but a suffix range, which
    // no 206 can express, so that one is the whole (empty) file.
    std::fs::write(server.root.join("empty.txt"), "").unwrap();
    for range in ["bytes=0-", "bytes=0-0", "bytes=-0"] {
        let r = c.request(request("GET", "/empty.txt", &[("Range", range)]));
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("content-range"), Some("bytes */0"));
    }
    let r = c.request(request("GET", "/empty.txt", &[("Range", "bytes=-5")]));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("0"));
}

#[test]
fn a_range_covering_a_small_file_is_a_200_with_the_whole_file() {
    let server = start();
    let mut c = server.connect();
    let len = HELLO_TXT.len();
    let whole = [
        "bytes=0-".to_string(),
        format!("bytes=-{len}"),
        "bytes=0-99999".to_string(),
        "bytes=0-3,4-".to_string(),
        "bytes=5-,0-5".to_string(),
    ];
    for range in &whole {
        let r = c.request(request("GET", "/hello.txt", &[("Range", range)]));
        assert_eq!(r.status, 200, "{range}: {r:?}");
        assert_eq!(r.body_str(), HELLO_TXT, "{range}");
        assert_eq!(r.header("accept-ranges"), Some("bytes"), "{range}");
        assert_eq!(r.header("content-range"), None, "{range}");
        assert!(r.header("etag").is_some(), "{range}");
    }
    // Short of the whole: still a part.
    let r = c.request(request("GET", "/hello.txt", &[("Range", "bytes=1-")]));
    assert_partial(&r, 1, len - 1, len, HELLO_TXT.as_bytes());
    // A large file keeps its 206 for `bytes=0-` (media players want one).
    let r = c.request(request("GET", "/big.bin", &[("Range", "bytes=0-")]));
    assert_partial(&r, 0, BIG_LEN - 1, BIG_LEN, &big_content());
}

#[test]
fn malformed_or_foreign_ranges_are_ignored() {
    let server = start();
    let mut c = server.connect();
    let many: Vec<_> = (0..65).map(|i| format!("{i}-{i}")).collect();
    let many = format!("bytes={}", many.join(","));
    for range in [
        "bytes=",
        "bytes=5-1",
        "bytes=a-b",
        "bytes=-",
        "bytes=1-2;3-4",
        "bytes 0-1",
        "bytes = 0-1",
        "bytes=0 - 1",
        "items=0-1",
        "0-1",
        "bytes=0-1, 3-2",
        many.as_str(),
    ] {
        let r = c.request(request("GET", "/hello.txt", &[("Range", range)]));
        assert_eq!(r.status, 200, "{range}");
        assert_eq!(r.body_str(), HELLO_TXT, "{range}");
    }
    // Two Range fields: ignored too.
    let r = c.request(request(
        "GET",
        "/hello.txt",
        &[("Range", "bytes=0-0"), ("Range", "bytes=1-1")],
    ));
    assert_eq!(r.status, 200);
}

#[test]
fn if_range_decides_between_206_and_200() {
    let server = start();
    set_mtime(&server, "hello.txt", OLD);
    let (etag, last_modified) = validators(&server, "/hello.txt");
    let mut c = server.connect();
    let ranged = |if_range: &str| {
        request(
            "GET",
            "/hello.txt",
            &[("Range", "bytes=0-4"), ("If-Range", if_range)],
        )
    };
    let len = HELLO_TXT.len();
    let r = c.request(ranged(&etag));
    assert_partial(&r, 0, 4, len, HELLO_TXT.as_bytes());
    let r = c.request(ranged(&last_modified));
    assert_partial(&r, 0, 4, len, HELLO_TXT.as_bytes());
    for stale in [
        "\"stale\"",
        &format!("W/{etag}"),
        "Sun, 06 Nov 1994 08:49:38 GMT",
        "garbage",
    ] {
        let r = c.request(ranged(stale));
        assert_eq!(r.status, 200, "If-Range: {stale}");
        assert_eq!(r.header("content-range"), None);
        assert_eq!(r.body_str(), HELLO_TXT);
    }
    // The file changes: the old tag is stale, the whole new file comes back.
    std::fs::write(server.root.join("hello.txt"), "brand new content\n").unwrap();
    let r = c.request(ranged(&etag));
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "brand new content\n");
    // If-Range without Range changes nothing.
    let r = c.request(request("GET", "/hello.txt", &[("If-Range", "\"stale\"")]));
    assert_eq!(r.status, 200);
}

// ---- behaviour details users expect ----

fn without_date(r: &Resp) -> Vec<(String, String)> {
    let mut headers = r.headers.clone();
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case("date"));
    headers
}

#[test]
fn head_has_the_headers_of_get() {
    let server = start();
    let mut c = server.connect();
    for (path, fields) in [
        ("/hello.txt", &[][..]),
        ("/big.bin", &[][..]),
        ("/", &[][..]),
        ("/sub", &[][..]),
        ("/missing", &[][..]),
        ("/hello.txt", &[("If-None-Match", "\"stale\"")][..]),
    ] {
        c.send(request("HEAD", path, fields));
        let head = c.read_head_response();
        let full = c.request(request("GET", path, fields));
        assert_eq!(head.status, full.status, "{path}");
        assert_eq!(without_date(&head), without_date(&full), "{path}");
    }
    // HEAD ignores Range (RFC 9110 §14.2: ranges are defined for GET only):
    // the headers of a GET without Range.
    c.send(request("HEAD", "/big.bin", &[("Range", "bytes=0-9")]));
    let head = c.read_head_response();
    let full = c.request(get("/big.bin"));
    assert_eq!(head.status, 200);
    assert_eq!(without_date(&head), without_date(&full));
    assert_eq!(head.header("accept-ranges"), Some("bytes"));
}

#[test]
fn directory_redirect_keeps_the_query_string() {
    let server = start();
    std::fs::create_dir(server.root.join("caf\u{e9} menu")).unwrap();
    let mut c = server.connect();
    for (path, location) in [
        ("/sub", "/sub/"),
        ("/sub?", "/sub/"),
        ("/sub?page=2", "/sub/?page=2"),
        ("/sub?a=1&b=%2F..%2F", "/sub/?a=1&b=%2F..%2F"),
        ("/sub?//evil.com", "/sub/?//evil.com"),
        ("/caf%C3%A9%20menu?q=1", "/caf%C3%A9%20menu/?q=1"),
    ] {
        let r = c.request(get(path));
        assert_eq!(r.status, 301, "{path}");
        assert_eq!(r.header("location"), Some(location), "{path}");
    }
}

#[test]
fn index_html_by_name_is_served_without_redirect() {
    let server = start();
    let mut c = server.connect();
    for path in ["/index.html", "/index.html?x=1", "/sub/index.html"] {
        let r = c.request(get(path));
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("location"), None, "{path}");
    }
    assert_eq!(c.request(get("/index.html")).body_str(), INDEX_HTML);
}

#[test]
fn names_with_spaces_and_utf8() {
    let server = start();
    std::fs::write(
        server.root.join("caf\u{e9} menu.txt"),
        "cr\u{e8}me br\u{fb}l\u{e9}e\n",
    )
    .unwrap();
    let mut c = server.connect();
    for path in ["/caf%C3%A9%20menu.txt", "/caf%c3%a9%20menu.txt"] {
        let r = c.request(get(path));
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body_str(), "cr\u{e8}me br\u{fb}l\u{e9}e\n");
    }
    let r = c.request(request(
        "GET",
        "/caf%C3%A9%20menu.txt",
        &[("Range", "bytes=0-1")],
    ));
    assert_eq!(r.status, 206);
    assert_eq!(r.body_str(), "cr");
    // Not UTF-8 after decoding: 400, never a panic.
    assert_eq!(c.request(get("/caf%E9%20menu.txt")).status, 400);
}

#[test]
fn options_answers_with_allow() {
    let server = start();
    let mut c = server.connect();
    for path in ["/hello.txt", "/", "/sub/", "*"] {
        let r = c.request(request("OPTIONS", path, &[]));
        assert_eq!(r.status, 204, "{path}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{path}");
        assert_eq!(r.header("content-length"), None);
        assert!(r.body.is_empty());
    }
    assert_eq!(c.request(request("OPTIONS", "/missing", &[])).status, 404);
    let r = c.request(request("DELETE", "/hello.txt", &[]));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
}

#[test]
fn a_just_modified_file_is_not_validated_by_date_in_if_range() {
    // RFC 9110 §8.8.2.2: a Last-Modified in the current second is weak.
    let server = start();
    let file = File::options()
        .write(true)
        .open(server.root.join("hello.txt"))
        .unwrap();
    file.set_modified(SystemTime::now()).unwrap();
    let (etag, last_modified) = validators(&server, "/hello.txt");
    let range = ("Range", "bytes=0-0");
    let r = fetch(
        &server,
        "/hello.txt",
        &[range, ("If-Range", &last_modified)],
    );
    assert_eq!(r.status, 200);
    // The ETag is strong regardless.
    let r = fetch(&server, "/hello.txt", &[range, ("If-Range", &etag)]);
    assert_eq!(r.status, 206);
}

#[test]
fn ranges_of_a_file_larger_than_4_gib() {
    // Sparse: no disk space used. Neither a full GET (never made here) nor
    // a range of it may load the file into memory.
    use std::os::unix::fs::FileExt;
    let server = start();
    let len: u64 = 5 << 30;
    let file = File::create(server.root.join("huge.bin")).unwrap();
    file.set_len(len).unwrap();
    file.write_at(b"END", len - 3).unwrap();
    file.write_at(b"MID", 1 << 32).unwrap();
    let mut c = server.connect();

    c.send(request("HEAD", "/huge.bin", &[]));
    let head = c.read_head_response();
    assert_eq!(
        head.header("content-length"),
        Some(len.to_string().as_str())
    );

    let r = c.request(request("GET", "/huge.bin", &[("Range", "bytes=-3")]));
    assert_eq!(r.status, 206);
    let want = format!("bytes {}-{}/{len}", len - 3, len - 1);
    assert_eq!(r.header("content-range"), Some(want.as_str()));
    assert_eq!(r.body_str(), "END");

    let range = format!("bytes=0-1,{}-{},-3", 1u64 << 32, (1u64 << 32) + 2);
    let r = c.request(request("GET", "/huge.bin", &[("Range", &range)]));
    assert_eq!(r.status, 206);
    let parts = parse_multipart(&r.body, &boundary(&r));
    let bytes: Vec<&[u8]> = parts.iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(bytes, [&b"\0\0"[..], b"MID", b"END"]);
}
