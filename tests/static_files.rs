//! `ServeDir` over real sockets: content types, index files, redirects,
//! hidden files, methods, HEAD, and path traversal attempts.

mod support;

use support::{
    BIG_LEN, HELLO_TXT, INDEX_HTML, OUTSIDE, SECRET, SUB_INDEX_HTML, TestServer, big_content, get,
    start,
};

/// GET `path` on a fresh connection (errors may close it).
fn fetch(server: &TestServer, path: &str) -> support::Resp {
    server.connect().request(get(path))
}

#[test]
fn text_file_has_utf8_text_content_type() {
    let server = start();
    let r = fetch(&server, "/hello.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("content-length"), Some("13"));
    assert!(
        r.header("last-modified")
            .is_some_and(|v| v.ends_with(" GMT"))
    );
    assert_eq!(r.body_str(), HELLO_TXT);
}

#[test]
fn unknown_extension_is_octet_stream() {
    let server = start();
    std::fs::write(server.root.join("data.zzqx"), "raw").unwrap();
    let r = fetch(&server, "/data.zzqx");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body_str(), "raw");
}

#[test]
fn slash_serves_index_html() {
    let server = start();
    let mut c = server.connect();
    let r = c.request(get("/"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.body_str(), INDEX_HTML);
    let r = c.request(get("/sub/"));
    assert_eq!(r.body_str(), SUB_INDEX_HTML);
}

#[test]
fn directory_without_slash_redirects_301() {
    let server = start();
    let mut c = server.connect();
    for (path, location) in [("/sub", "/sub/"), ("/sub?x=1", "/sub/?x=1")] {
        let r = c.request(get(path));
        assert_eq!(r.status, 301, "{path}");
        assert_eq!(r.header("location"), Some(location), "{path}");
        assert!(!r.says_close());
    }
}

#[test]
fn double_slash_paths_never_give_a_protocol_relative_location() {
    let server = start();
    std::fs::create_dir(server.root.join("evil.com")).unwrap();
    let r = fetch(&server, "//evil.com");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/evil.com/"));
    for path in [
        "//evil.com",
        "///evil.com",
        "//evil.com/",
        "/.//evil.com",
        "/sub/..//evil.com",
        "//evil.com/..//evil.com",
        "/%2f/evil.com",
        "/%2F%2Fevil.com",
        "/\\evil.com",
        "/%5cevil.com",
    ] {
        let r = fetch(&server, path);
        if let Some(location) = r.header("location") {
            assert!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.starts_with("/\\"),
                "{path} -> Location {location}"
            );
        }
    }
}

#[test]
fn missing_file_is_404_and_keeps_connection() {
    let server = start();
    let mut c = server.connect();
    let r = c.request(get("/nope.txt"));
    assert_eq!(r.status, 404);
    assert_eq!(r.body_str(), "404 Not Found\n");
    assert!(!r.says_close());
    assert_eq!(c.request(get("/hello.txt")).status, 200);
}

#[test]
fn dotfile_is_404() {
    let server = start();
    for path in ["/.secret", "/%2esecret", "/sub/../.secret"] {
        let r = fetch(&server, path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body_str().contains(SECRET.trim()), "{path}");
    }
}

#[test]
fn other_methods_are_405_with_allow() {
    let server = start();
    let mut c = server.connect();
    for method in ["POST", "PUT", "DELETE"] {
        let r = c.request(format!(
            "{method} /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        ));
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{method}");
    }
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
}

#[test]
fn head_has_get_headers_and_no_body_and_keeps_connection() {
    let server = start();
    let mut c = server.connect();
    let mut bytes = b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
    bytes.extend(get("/hello.txt"));
    c.send(bytes);
    let head = c.read_head_response();
    let full = c.read_response();
    assert_eq!(head.status, 200);
    let without_date = |r: &support::Resp| {
        let mut h = r.headers.clone();
        h.retain(|(n, _)| !n.eq_ignore_ascii_case("date"));
        h
    };
    assert_eq!(without_date(&head), without_date(&full));
    assert_eq!(head.header("content-length"), Some("13"));
    // Had the HEAD response carried a body, the GET would not parse.
    assert_eq!(full.body_str(), HELLO_TXT);
    c.send("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read_head_response();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(BIG_LEN.to_string().as_str())
    );
    // No body bytes were sent: the next response starts right away.
    assert_eq!(c.request(get("/")).body_str(), INDEX_HTML);
}

#[test]
fn query_string_does_not_change_the_file() {
    let server = start();
    let r = fetch(&server, "/hello.txt?download=1&x=../../etc/passwd");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
}

#[test]
fn percent_encoded_names_are_decoded() {
    let server = start();
    std::fs::write(server.root.join("a b.txt"), "spaced").unwrap();
    for (path, body) in [
        ("/hello%2Etxt", HELLO_TXT),
        ("/hello%2etxt", HELLO_TXT),
        ("/%68ello.txt", HELLO_TXT),
        ("/a%20b.txt", "spaced"),
    ] {
        let r = fetch(&server, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body_str(), body, "{path}");
    }
}

#[test]
fn traversal_attempts_never_escape_the_root() {
    let server = start();
    for path in [
        "/../etc/passwd",
        "/../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/a/..%2f..%2fetc/passwd",
        "/..%5c..%5cetc/passwd",
        "/%00",
        "/hello.txt%00.html",
        "/../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2e%2e%2foutside.txt",
        "/sub/../../outside.txt",
        "/sub/%2e%2e/%2e%2e/outside.txt",
        "/.%2e/outside.txt",
        "/..%5coutside.txt",
    ] {
        let r = fetch(&server, path);
        assert_ne!(r.status, 200, "{path}: {r:?}");
        assert!(matches!(r.status, 400 | 404), "{path}: status {}", r.status);
        let body = String::from_utf8_lossy(&r.body);
        assert!(
            !body.contains("root:") && !body.contains(OUTSIDE.trim()),
            "{path}"
        );
    }
}

#[test]
fn absolute_form_traversal_never_escapes_the_root() {
    let server = start();
    for target in [
        "http://x/../../etc/passwd",
        "http://x/../outside.txt",
        "http://x/%2e%2e/outside.txt",
    ] {
        let mut c = server.connect();
        let r = c.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(matches!(r.status, 400 | 404), "{target}: {r:?}");
        let body = String::from_utf8_lossy(&r.body);
        assert!(
            !body.contains("root:") && !body.contains(OUTSIDE.trim()),
            "{target}"
        );
    }
}

#[test]
fn symlink_to_outside_the_root_is_404() {
    let server = start();
    let outside = server.tmp().join("outside.txt");
    std::os::unix::fs::symlink(&outside, server.root.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(server.tmp(), server.root.join("linkdir")).unwrap();
    for path in [
        "/link.txt",
        "/linkdir/outside.txt",
        "/linkdir/root/hello.txt",
    ] {
        let r = fetch(&server, path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body_str().contains(OUTSIDE.trim()), "{path}");
    }
}

#[test]
fn large_file_arrives_intact() {
    let server = start();
    let mut c = server.connect();
    let r = c.request(get("/big.bin"));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(BIG_LEN.to_string().as_str())
    );
    assert_eq!(r.body.len(), BIG_LEN);
    assert!(r.body == big_content(), "1 MiB body differs from the file");
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);
}

/// ServeDir nested under `/static` by the router: files by their raw path
/// (a name with a space too), and the directory redirect and the listing
/// under the prefix.
#[test]
fn serve_dir_nested_under_a_prefix() {
    let server = support::start_app(berth::ServerConfig::default(), |root| {
        std::fs::write(root.join("a b.txt"), "spaced\n").unwrap();
        std::fs::create_dir(root.join("list")).unwrap();
        std::fs::write(root.join("list/x.txt"), "x\n").unwrap();
        berth::Router::new()
            .get("/", |_req| async { "home" })
            .nest("/static", berth::ServeDir::new(root).listing(true))
    });
    let mut c = server.connect();
    let r = c.request(get("/static/hello.txt"));
    assert_eq!((r.status, r.body_str()), (200, HELLO_TXT));
    let r = c.request(get("/static/a%20b.txt"));
    assert_eq!((r.status, r.body_str()), (200, "spaced\n"));
    let r = c.request(get("/static/sub?x=1"));
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/static/sub/?x=1"));
    let r = c.request(get("/static/sub/"));
    assert_eq!((r.status, r.body_str()), (200, SUB_INDEX_HTML));
    let r = c.request("GET /static/list/ HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n");
    assert_eq!(r.status, 200, "{r:?}");
    assert!(
        r.body_str().starts_with(r#"{"path":"/static/list/""#),
        "{}",
        r.body_str()
    );
    let r = c.request(get("/static/list/x.txt"));
    assert_eq!((r.status, r.body_str()), (200, "x\n"));
    assert_eq!(c.request(get("/")).body_str(), "home");
    assert_eq!(c.request(get("/other/hello.txt")).status, 404);
}
