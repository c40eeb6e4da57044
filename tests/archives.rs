//! Folder downloads (`ServeDir::archives`), end to end over real sockets:
//! `?download=tar.gz` and `?download=zip` fetched with curl over HTTP/1.1
//! and HTTP/2 (and with the tests' own h2 client), extracted with the
//! system's `tar` and `unzip`, and compared byte for byte with the
//! folder; the hidden-file and symlink policies; archives off; `HEAD`;
//! an unknown format; the listing's links; and a download cut short by a
//! failure mid-archive. The walk and both formats in detail are unit
//! tests (`src/serve_dir/archive/tests.rs`); the binary's `--archives`
//! is `tests/archives_binary.rs`.

mod support;

#[path = "support/archives.rs"]
mod archives;
#[path = "support/h2client.rs"]
mod h2client;

use std::path::Path;

use berth::{ServeDir, ServerConfig};
use support::{Resp, TestServer};

use archives::{
    assert_same_tree, curl_download, expected, extract, fill_docs, random_bytes, tree_of,
};

/// A server whose `ServeDir` is configured by `f`, with `docs/` filled
/// ([`fill_docs`]).
fn server(f: impl FnOnce(ServeDir) -> ServeDir) -> TestServer {
    let server = support::start_serve_dir_with(ServerConfig::default(), f);
    fill_docs(&server.root);
    server
}

fn get(server: &TestServer, path: &str) -> Resp {
    server.connect().request(support::get(path))
}

/// Downloads `path` as `format` with curl (`extra` arguments), checks the
/// head, extracts it and returns what it held.
fn fetch(
    server: &TestServer,
    path: &str,
    format: &str,
    extra: &[&str],
) -> std::collections::BTreeMap<String, Option<Vec<u8>>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("download.{format}"));
    let url = format!("http://{}{path}?download={format}", server.addr);
    let d = curl_download(&url, &file, extra);
    assert_eq!(d.code, Some(0), "curl {url}: {}", d.stderr);
    assert!(d.status_line().contains(" 200"), "{}", d.head);
    let content_type = match format {
        "tar.gz" => "application/gzip",
        _ => "application/zip",
    };
    assert_eq!(d.header("content-type"), Some(content_type), "{}", d.head);
    assert_eq!(d.header("content-length"), None, "{}", d.head);
    assert_eq!(d.header("content-encoding"), None, "{}", d.head);
    let out = dir.path().join("out");
    extract(format, &file, &out);
    tree_of(&out)
}

#[test]
fn tar_gz_and_zip_hold_every_file_byte_for_byte() {
    let server = server(|f| f.archives(true));
    for format in ["tar.gz", "zip"] {
        let got = fetch(&server, "/docs/", format, &[]);
        // No hidden names, no temporary file, no symlink (in or out).
        assert_same_tree(&got, &expected(false, false));
    }
}

#[test]
fn the_head_and_an_unknown_format() {
    let server = server(|f| f.archives(true));
    let mut client = server.connect();
    client.send("HEAD /docs/?download=zip HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = client.read_head_response();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/zip"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"docs.zip\"")
    );
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-length"), None);
    // The connection goes on: the HEAD sent no body.
    let r = client.request(support::get("/hello.txt"));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), support::HELLO_TXT);

    let r = get(&server, "/docs/?download=rar");
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.body_str().contains("?download=tar.gz"), "{r:?}");
    // A file's URL ignores the query.
    let r = get(&server, "/hello.txt?download=zip");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), support::HELLO_TXT);
    // The root is named `root`; a non-ASCII folder by RFC 8187 too.
    let r = get(&server, "/?download=tar.gz");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"root.tar.gz\"")
    );
    std::fs::create_dir(server.root.join("dössier")).unwrap();
    let r = get(&server, "/d%C3%B6ssier/?download=zip");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"d_ssier.zip\"; filename*=UTF-8''d%C3%B6ssier.zip")
    );
}

#[test]
fn hidden_files_and_symlinks_follow_the_servers_policy() {
    let server = server(|f| f.archives(true).hidden(true).follow_symlinks(true));
    for format in ["tar.gz", "zip"] {
        let got = fetch(&server, "/docs/", format, &[]);
        // Hidden names and the symlink inside; never the one out of the
        // root, nor the upload's temporary file.
        assert_same_tree(&got, &expected(true, true));
    }
}

#[test]
fn archives_off_the_query_is_ignored() {
    let server = server(|f| f);
    assert_eq!(get(&server, "/docs/?download=zip").status, 404);
    let r = get(&server, "/sub/?download=tar.gz");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), support::SUB_INDEX_HTML);
    let r = get(&server, "/docs/?download=nonsense");
    assert_eq!(r.status, 404, "{r:?}");

    let listed = self::server(|f| f.listing(true));
    let r = get(&listed, "/docs/?download=zip");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(!r.body_str().contains("download="), "{}", r.body_str());
}

#[test]
fn the_listing_links_to_both_archives() {
    let server = server(|f| f.archives(true).listing(true));
    let r = get(&server, "/docs/");
    assert_eq!(r.status, 200, "{r:?}");
    let page = r.body_str();
    assert!(page.contains("<a href=\"?download=tar.gz\""), "{page}");
    assert!(page.contains("<a href=\"?download=zip\""), "{page}");
    // Archives do not need the listing, nor mind an index file.
    let server = self::server(|f| f.archives(true));
    let got = fetch(&server, "/sub/", "zip", &[]);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["sub/", "sub/index.html"]);
}

#[test]
fn over_http2_with_curl_and_the_h2_client() {
    let server = server(|f| f.archives(true));
    for format in ["tar.gz", "zip"] {
        let got = fetch(&server, "/docs/", format, &["--http2-prior-knowledge"]);
        assert_same_tree(&got, &expected(false, false));
    }
    let r = h2client::h2_get(server.addr, "/docs/?download=tar.gz", &[]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/gzip"));
    assert_eq!(r.header("content-length"), None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h2.tar.gz");
    std::fs::write(&file, &r.body).unwrap();
    extract("tar.gz", &file, &dir.path().join("out"));
    assert_same_tree(&tree_of(&dir.path().join("out")), &expected(false, false));
}

/// A folder whose walk fails after megabytes were sent: a file first,
/// then a tree deeper than the walk goes.
fn failing_folder(root: &Path) {
    let deep = root.join("failing");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("a-first.bin"), random_bytes(2 << 20, 3)).unwrap();
    let mut path = deep.join("z");
    for _ in 0..70 {
        path.push("d");
    }
    std::fs::create_dir_all(path).unwrap();
}

#[test]
fn a_failure_mid_archive_cuts_the_download_short() {
    let server = server(|f| f.archives(true));
    failing_folder(&server.root);
    let dir = tempfile::tempdir().unwrap();
    for (format, extra) in [
        ("tar.gz", &[][..]),
        ("zip", &[][..]),
        ("zip", &["--http2-prior-knowledge"][..]),
    ] {
        let file = dir.path().join(format!("cut.{format}"));
        let url = format!("http://{}/failing/?download={format}", server.addr);
        let d = curl_download(&url, &file, extra);
        assert!(d.status_line().contains(" 200"), "{}", d.head);
        // curl: 18 (partial file) on HTTP/1.1, 92 (stream error) on h2.
        assert!(
            matches!(d.code, Some(18 | 56 | 92)),
            "{format} {extra:?}: curl exited {:?}: {}",
            d.code,
            d.stderr
        );
        let len = std::fs::metadata(&file).unwrap().len();
        eprintln!(
            "{format} {extra:?}: curl exit {:?} after {len} bytes",
            d.code
        );
        assert!(len > 1 << 20, "{format}: only {len} bytes before the cut");
    }
    // The server is still there.
    assert_eq!(get(&server, "/hello.txt").status, 200);
}

#[test]
fn a_client_that_goes_away_mid_archive_leaves_the_server_serving() {
    use std::io::{Read, Write};
    let server = server(|f| f.archives(true));
    for _ in 0..3 {
        let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
        stream
            .write_all(b"GET /docs/?download=zip HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut some = [0; 100_000];
        stream.read_exact(&mut some).unwrap();
        drop(stream);
    }
    let got = fetch(&server, "/docs/", "zip", &[]);
    assert_same_tree(&got, &expected(false, false));
}
