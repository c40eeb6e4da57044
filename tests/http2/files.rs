//! Files (`ServeDir`) over HTTP/2: bodies, lengths, types, validators,
//! conditional requests, ranges, HEAD, redirects, listings, 404.

use super::*;
use crate::support::parse_multipart;

#[tokio::test]
async fn files_arrive_byte_identical_with_length_type_and_validators() {
    let big = big_content();
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        let r = c.get("/hello.txt", &[]).await;
        assert_eq!(r.status, 200, "{via:?}");
        assert_eq!(r.version, Version::HTTP_2);
        assert_eq!(r.body_str(), HELLO_TXT);
        assert_eq!(
            r.header("content-length"),
            Some(HELLO_TXT.len().to_string().as_str())
        );
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        let etag = r.header("etag").expect("ETag");
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let modified = r.header("last-modified").expect("Last-Modified");
        httpdate::parse_http_date(modified).unwrap();
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
        assert_date_and_server(&r);

        // 1 MiB: more than the client's 64 KiB stream window, so it only
        // arrives whole if the server sends within granted capacity.
        let r = c.get("/big.bin", &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-length"),
            Some(BIG_LEN.to_string().as_str())
        );
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert!(
            r.body == big,
            "{via:?}: big.bin differs ({} bytes)",
            r.body.len()
        );

        let r = c.get("/", &[]).await;
        assert_eq!(r.body_str(), INDEX_HTML);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(c.get("/sub/", &[]).await.body_str(), SUB_INDEX_HTML);
        // A query string does not change the file.
        assert_eq!(c.get("/hello.txt?v=2", &[]).await.body_str(), HELLO_TXT);
    }
}

#[tokio::test]
async fn missing_and_hidden_files_are_404_and_the_connection_serves_on() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    for path in ["/no-such-file", "/.secret", "/sub/nothing.txt"] {
        let r = c.get(path, &[]).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body_str().contains(SECRET), "{path}");
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
        assert_date_and_server(&r);
    }
    // `:path` reaches ServeDir as an HTTP/1.1 target does: no escape.
    for path in [
        "/../outside.txt",
        "/%2e%2e/outside.txt",
        "/sub/../../outside.txt",
        "/..%2foutside.txt",
        "/hello.txt%00.html",
    ] {
        let r = c.get(path, &[]).await;
        assert!(matches!(r.status.as_u16(), 400 | 404), "{path}: {r:?}");
        assert!(!r.body_str().contains(OUTSIDE.trim()), "{path}");
    }
    assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
}

#[tokio::test]
async fn head_has_the_headers_of_get_and_no_body() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        for path in ["/big.bin", "/hello.txt", "/"] {
            let got = c.get(path, &[]).await;
            let head = c.head(path, &[]).await;
            assert_eq!(head.status, 200, "{via:?} {path}");
            assert!(head.body.is_empty(), "{via:?} {path}: HEAD sent a body");
            for name in ["content-length", "content-type", "etag", "last-modified"] {
                assert_eq!(
                    head.header(name),
                    got.header(name),
                    "{via:?} {path}: {name}"
                );
            }
            assert_eq!(
                head.header("content-length"),
                Some(got.body.len().to_string().as_str())
            );
        }
        // The connection is in step after the HEADs.
        assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
    }
}

/// An mtime far in the past, and its HTTP date.
const OLD: u64 = 784_111_777;
const OLD_DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn assert_not_modified(r: &H2Response, etag: &str) {
    assert_eq!(r.status, 304, "{r:?}");
    assert_eq!(r.header("etag"), Some(etag));
    assert!(r.header("last-modified").is_some());
    assert_eq!(r.header("content-length"), None);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn conditional_requests_give_304_and_412() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    set_mtime(
        &site.root.join("hello.txt"),
        UNIX_EPOCH + Duration::from_secs(OLD),
    );
    let mut c = site.connect().await;
    let r = c.get("/hello.txt", &[]).await;
    let etag = r.header("etag").unwrap().to_string();
    assert_eq!(r.header("last-modified"), Some(OLD_DATE));

    let weak = format!("W/{etag}");
    for (name, value) in [
        ("if-none-match", etag.as_str()),
        ("if-none-match", weak.as_str()),
        ("if-none-match", "*"),
        ("if-modified-since", OLD_DATE),
    ] {
        let r = c.get("/hello.txt", &[(name, value)]).await;
        assert_not_modified(&r, &etag);
        let r = c.head("/hello.txt", &[(name, value)]).await;
        assert_not_modified(&r, &etag);
    }
    let cases: [(&str, &str, u16); 6] = [
        ("if-none-match", "\"stale\"", 200),
        ("if-modified-since", "Sun, 06 Nov 1994 08:49:36 GMT", 200),
        ("if-match", "\"stale\"", 412),
        ("if-match", &etag, 200),
        ("if-unmodified-since", "Sun, 06 Nov 1994 08:49:36 GMT", 412),
        ("if-unmodified-since", OLD_DATE, 200),
    ];
    for (name, value, status) in cases {
        let r = c.get("/hello.txt", &[(name, value)]).await;
        assert_eq!(r.status, status, "{name}: {value}");
        if status == 412 {
            assert_eq!(r.body_str(), "412 Precondition Failed\n");
        } else {
            assert_eq!(r.body_str(), HELLO_TXT);
        }
    }
}

#[tokio::test]
async fn ranges_give_206_multipart_byteranges_and_416() {
    let big = big_content();
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        let r = c.get("/hello.txt", &[("range", "bytes=0-4")]).await;
        assert_eq!(r.status, 206, "{via:?}");
        assert_eq!(r.header("content-range"), Some("bytes 0-4/13"));
        assert_eq!(r.header("content-length"), Some("5"));
        assert_eq!(r.body_str(), &HELLO_TXT[..5]);

        // Crosses many DATA frames and file pieces.
        for (range, first, last) in [
            ("bytes=12345-654321", 12_345, 654_321),
            ("bytes=-500", BIG_LEN - 500, BIG_LEN - 1),
        ] {
            let r = c.get("/big.bin", &[("range", range)]).await;
            assert_eq!(r.status, 206, "{via:?} {range}");
            let want = format!("bytes {first}-{last}/{BIG_LEN}");
            assert_eq!(r.header("content-range"), Some(want.as_str()));
            let count = (last - first + 1).to_string();
            assert_eq!(r.header("content-length"), Some(count.as_str()));
            assert!(r.body == big[first..=last], "{via:?}: bytes of {range}");
        }

        let r = c
            .get("/big.bin", &[("range", "bytes=0-99,1000-1999,-100")])
            .await;
        assert_eq!(r.status, 206);
        let ty = r.header("content-type").unwrap();
        let boundary = ty
            .strip_prefix("multipart/byteranges; boundary=")
            .unwrap_or_else(|| panic!("not multipart: {ty}"));
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
        let parts = parse_multipart(&r.body, boundary);
        let want = [(0, 99), (1000, 1999), (BIG_LEN - 100, BIG_LEN - 1)];
        assert_eq!(parts.len(), want.len());
        for ((headers, bytes), (first, last)) in parts.iter().zip(want) {
            let range = format!("bytes {first}-{last}/{BIG_LEN}");
            assert!(
                headers
                    .iter()
                    .any(|(n, v)| n == "content-range" && *v == range),
                "{headers:?}"
            );
            assert!(*bytes == big[first..=last], "{range}");
        }

        for range in ["bytes=13-", "bytes=100-200"] {
            let r = c.get("/hello.txt", &[("range", range)]).await;
            assert_eq!(r.status, 416, "{range}");
            assert_eq!(r.header("content-range"), Some("bytes */13"));
        }
        // HEAD ignores Range (RFC 9110 §14.2), as over HTTP/1.1.
        let r = c.head("/big.bin", &[("range", "bytes=0-9")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-length"),
            Some(BIG_LEN.to_string().as_str())
        );
        assert!(r.body.is_empty());
    }
}

#[tokio::test]
async fn a_directory_without_its_slash_is_redirected_301() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    for (path, location) in [("/sub", "/sub/"), ("/sub?x=1", "/sub/?x=1")] {
        let r = c.get(path, &[]).await;
        assert_eq!(r.status, 301, "{path}");
        assert_eq!(r.header("location"), Some(location), "{path}");
    }
}

#[tokio::test]
async fn a_directory_without_an_index_gets_a_listing() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let files = site.root.join("files");
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("a-note.txt"), "a\n").unwrap();
    std::fs::write(files.join("b-data.bin"), "b\n").unwrap();
    let mut c = site.connect().await;
    let r = c.get("/files/", &[]).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type").unwrap().starts_with("text/html"),
        "{r:?}"
    );
    for name in ["a-note.txt", "b-data.bin"] {
        assert!(r.body_str().contains(name), "{name} not listed");
    }
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    let r = c.get("/files/", &[("accept", "application/json")]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().contains("json"), "{r:?}");
    assert!(r.body_str().contains("a-note.txt"));
}
