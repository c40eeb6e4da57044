//! HTTP/2 end to end: what berth does over HTTP/1.1 works the same over
//! HTTP/2, through the same `Handler`, over h2c (cleartext, prior
//! knowledge) and over TLS (ALPN `h2`).
//!
//! - files (`ServeDir`): bodies, lengths, types, validators, conditional
//!   requests, ranges, HEAD, redirects, listings, sidecars, 404;
//! - compression (`Compress`);
//! - request bodies streamed to the handler, and the body limit;
//! - streamed responses (`Body::channel`), each chunk sent as produced;
//! - a panicking handler, many streams at once, the response head
//!   (no connection-specific field; `date`, `server`), the request as the
//!   handler sees it (origin form, `Host`, `PeerAddr`);
//! - the access log and metrics, one record per stream;
//! - graceful shutdown (GOAWAY; the stream in flight finishes), the idle
//!   timeout, the shutdown grace period;
//! - the h2c switch on a cleartext listener and ALPN on TLS;
//! - curl as a second client.
//!
//! The client is the `h2` crate's (`support/h2client.rs`); where a test
//! needs frames the `h2` client will not send, `support/h2wire.rs`.
//!
//! A test marked `#[ignore = "berth bug: ..."]` asserts the right
//! behaviour where the server's is wrong: run them with `--ignored`.
//! Most tests run over both transports (`BOTH`) where the path through the
//! server differs (TLS stream, its own buffering); the rest over h2c.

mod support;

#[path = "support/h2client.rs"]
mod h2client;
#[path = "support/h2wire.rs"]
mod h2wire;

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth::compress::{Coding, compress_slice};
use berth::http::{Method, StatusCode, Version};
use berth::{
    AccessLog, Body, Compress, Handler, PeerAddr, Request, Response, Router, ServeDir, Server,
    ServerConfig, TlsConfig,
};
use bytes::Bytes;
use h2client::{H2, H2Response, LIMIT, next_chunk, read_response, within};
use rustls::version::{TLS12, TLS13};
use support::{
    BIG_LEN, Background, Client, HELLO_TXT, INDEX_HTML, OUTSIDE, SECRET, SUB_INDEX_HTML, TestCert,
    big_content, ca_signed_cert, get, serve_in_background, temp_root, tls_client_config,
    tls_connect,
};
use tokio::sync::{mpsc, watch};

/// How the client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// Cleartext, the connection opening with the HTTP/2 preface.
    H2c,
    /// TLS with ALPN `h2`.
    Tls,
}

const BOTH: [Via; 2] = [Via::H2c, Via::Tls];

/// A server on 127.0.0.1 over a fresh test ROOT (`index.html`,
/// `hello.txt`, `big.bin`, `sub/index.html`, `.secret`), plain or TLS.
struct Site {
    via: Via,
    server: Option<Background>,
    addr: SocketAddr,
    root: PathBuf,
    cert: TestCert,
    _tmp: tempfile::TempDir,
}

impl Site {
    /// Serves the handler `make` builds for ROOT, with `config`.
    fn start<H: Handler>(via: Via, config: ServerConfig, make: impl FnOnce(&Path) -> H) -> Site {
        let (tmp, root) = temp_root();
        let cert = ca_signed_cert("berth h2 test CA");
        let mut server = Server::try_bind("127.0.0.1:0".parse().unwrap())
            .expect("bind")
            .config(config);
        if via == Via::Tls {
            let (cert_path, key_path) = cert.write_to(tmp.path());
            let tls = TlsConfig::from_pem_files(&cert_path, &key_path).expect("load PEM files");
            server = server.tls(tls);
        }
        let server = serve_in_background(server, make(&root));
        Site {
            via,
            addr: server.addr(),
            server: Some(server),
            root,
            cert,
            _tmp: tmp,
        }
    }

    /// A client configuration trusting this site's CA, offering `alpn`.
    fn tls_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        tls_client_config(&[&self.cert.ca_der], &[&TLS13, &TLS12], alpn)
    }

    /// A new HTTP/2 connection.
    async fn connect(&self) -> H2 {
        match self.via {
            Via::H2c => H2::h2c(self.addr).await,
            Via::Tls => H2::tls(self.addr, self.tls_config(&[b"h2", b"http/1.1"])).await,
        }
    }

    /// Triggers graceful shutdown; the task ends with how long `serve()`
    /// took to return (`None`: still running after [`LIMIT`]).
    fn stop(&mut self) -> tokio::task::JoinHandle<Option<Duration>> {
        let server = self.server.take().expect("already stopped");
        tokio::task::spawn_blocking(move || server.shutdown_timed(LIMIT))
    }

    /// Graceful shutdown; panics unless `serve()` returns within [`LIMIT`].
    async fn shut_down(&mut self) {
        let took = self.stop().await.unwrap();
        assert!(
            took.is_some(),
            "serve() still running {LIMIT:?} after shutdown"
        );
    }
}

/// Handlers every test app has, then ServeDir (with listings) for the
/// rest:
/// - `POST /echo`: the body back (`support::echo`; 413 on too large);
/// - `GET /whoami/{*rest}`: the request as the handler sees it;
/// - `GET /hop`: a response setting every connection-specific field;
/// - `GET /panic`: panics.
fn app(root: &Path) -> Router {
    Router::new()
        .post("/echo", support::echo)
        .get("/whoami/{*rest}", whoami)
        .get("/hop", hop_by_hop)
        .get("/panic", panics)
        .fallback(ServeDir::new(root).listing(true))
}

async fn whoami(req: Request) -> Response {
    let host = req
        .headers()
        .get("host")
        .map(|h| h.to_str().unwrap().to_string());
    let peer = req.extensions().get::<PeerAddr>().map(|p| p.0.to_string());
    berth::response::text(format!(
        "uri={}\nhost={}\nversion={:?}\npeer={}\n",
        req.uri(),
        host.as_deref().unwrap_or("-"),
        req.version(),
        peer.as_deref().unwrap_or("-"),
    ))
}

async fn hop_by_hop(_req: Request) -> Response {
    let mut res = berth::response::text("hop\n");
    let h = res.headers_mut();
    h.insert("connection", "close".parse().unwrap());
    h.insert("keep-alive", "timeout=5".parse().unwrap());
    h.insert("transfer-encoding", "chunked".parse().unwrap());
    h.insert("upgrade", "websocket".parse().unwrap());
    h.insert("proxy-connection", "keep-alive".parse().unwrap());
    h.insert("x-kept", "yes".parse().unwrap());
    h.append("set-cookie", "a=1".parse().unwrap());
    h.append("set-cookie", "b=2".parse().unwrap());
    res
}

async fn panics(_req: Request) -> Response {
    panic!("this handler panics on purpose")
}

/// A handler that parks every request until the test opens the gate,
/// saying when each one arrives.
#[derive(Clone)]
struct Gate {
    arrived: mpsc::UnboundedSender<String>,
    open: watch::Receiver<bool>,
}

/// The test's side of a [`Gate`].
struct GateControl {
    arrived: mpsc::UnboundedReceiver<String>,
    open: watch::Sender<bool>,
}

fn gate() -> (Gate, GateControl) {
    let (arrived_tx, arrived) = mpsc::unbounded_channel();
    let (open, open_rx) = watch::channel(false);
    (
        Gate {
            arrived: arrived_tx,
            open: open_rx,
        },
        GateControl { arrived, open },
    )
}

impl Gate {
    async fn call(self, req: Request) -> Response {
        let path = req.uri().path().to_string();
        let _ = self.arrived.send(path.clone());
        let mut open = self.open;
        let _ = open.wait_for(|o| *o).await;
        berth::response::text(format!("{path} done\n"))
    }
}

impl GateControl {
    /// Waits for the next request to reach the gate: its path.
    async fn arrival(&mut self) -> String {
        within("a request to reach the handler", self.arrived.recv())
            .await
            .expect("gate dropped")
    }
}

fn assert_date_and_server(r: &H2Response) {
    let date = r.header("date").expect("no date");
    httpdate::parse_http_date(date).unwrap_or_else(|e| panic!("date {date:?}: {e}"));
    assert_eq!(r.header("server"), Some("berth"));
}

// ---- files ----

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

fn set_mtime(path: &Path, time: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

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

/// One part of a `multipart/byteranges` body: its header fields
/// (lowercase names) and bytes.
type Part = (Vec<(String, String)>, Vec<u8>);

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let open = format!("--{boundary}\r\n");
    let delimiter = format!("\r\n--{boundary}");
    assert!(body.starts_with(open.as_bytes()), "no opening delimiter");
    let mut rest = &body[open.len() - 2..];
    let mut parts = Vec::new();
    loop {
        if rest == b"--\r\n" {
            return parts;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after delimiter");
        let end = find(rest, b"\r\n\r\n").expect("part head");
        let head = std::str::from_utf8(&rest[..end]).unwrap();
        let headers = head
            .split("\r\n")
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap();
                (name.to_ascii_lowercase(), value.trim().to_string())
            })
            .collect();
        rest = &rest[end + 4..];
        let end = find(rest, delimiter.as_bytes()).expect("closing delimiter");
        parts.push((headers, rest[..end].to_vec()));
        rest = &rest[end + delimiter.len()..];
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

// ---- compression ----

/// 64 KiB of HTML-like text.
fn page() -> Vec<u8> {
    let mut out = b"<!doctype html>\n<main>\n".to_vec();
    let mut i = 0u32;
    while out.len() < 64 * 1024 {
        let line = format!(
            "<article id=\"post-{i}\"><h2>Post {i}</h2><p>over HTTP/2, {} of them.</p></article>\n",
            i.wrapping_mul(2_654_435_761) % 997
        );
        out.extend_from_slice(line.as_bytes());
        i += 1;
    }
    out.truncate(64 * 1024);
    out
}

fn decode(coding: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(data, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::stream::decode_all(data).unwrap(),
        other => panic!("unexpected coding {other}"),
    }
    out
}

/// As much of an unfinished coded stream as decodes.
fn decode_prefix(coding: &str, data: &[u8]) -> Vec<u8> {
    let mut reader: Box<dyn Read> = match coding {
        "gzip" => Box::new(flate2::read::GzDecoder::new(data)),
        "br" => Box::new(brotli::Decompressor::new(data, 4096)),
        "zstd" => Box::new(zstd::stream::read::Decoder::new(data).unwrap()),
        other => panic!("unexpected coding {other}"),
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// `Compress` around `ServeDir` (sidecars on), with `page.html` and
/// `app.js` (64 KiB of text) in ROOT.
fn compressed(root: &Path) -> Compress<ServeDir> {
    std::fs::write(root.join("page.html"), page()).unwrap();
    std::fs::write(root.join("app.js"), page()).unwrap();
    Compress::new(ServeDir::new(root).precompressed(true))
}

#[tokio::test]
async fn compression_negotiates_gzip_br_and_zstd_with_vary() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), compressed);
        let mut c = site.connect().await;
        for coding in ["gzip", "br", "zstd"] {
            let r = c.get("/page.html", &[("accept-encoding", coding)]).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.header("content-encoding"), Some(coding), "{via:?}");
            assert_eq!(r.header("vary"), Some("Accept-Encoding"));
            assert_eq!(
                r.header("content-length"),
                Some(r.body.len().to_string().as_str())
            );
            assert!(r.body.len() < 64 * 1024 / 3, "{coding}: {}", r.body.len());
            assert_eq!(decode(coding, &r.body), page(), "{via:?} {coding}");
            let etag = r.header("etag").unwrap().to_string();
            let again = c
                .get(
                    "/page.html",
                    &[("accept-encoding", coding), ("if-none-match", &etag)],
                )
                .await;
            assert_eq!(again.status, 304, "{coding}");
            let head = c.head("/page.html", &[("accept-encoding", coding)]).await;
            assert_eq!(head.header("content-length"), r.header("content-length"));
            assert_eq!(head.header("content-encoding"), Some(coding));
            assert!(head.body.is_empty());
        }
        // A browser's list: zstd first.
        let r = c
            .get(
                "/page.html",
                &[("accept-encoding", "gzip, deflate, br, zstd")],
            )
            .await;
        assert_eq!(r.header("content-encoding"), Some("zstd"));
        // None accepted: the file as it is, still varying.
        let r = c.get("/page.html", &[]).await;
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(r.header("vary"), Some("Accept-Encoding"));
        assert_eq!(r.body.as_ref(), page().as_slice());
        // Not a compressible type: as it is, no Vary.
        let r = c.get("/big.bin", &[("accept-encoding", "gzip")]).await;
        assert_eq!(r.header("content-encoding"), None);
        assert_eq!(r.header("vary"), None);
        assert_eq!(r.body.len(), BIG_LEN);
    }
}

#[tokio::test]
async fn precompressed_sidecars_are_served() {
    let site = Site::start(Via::H2c, ServerConfig::default(), compressed);
    let old = SystemTime::now() - Duration::from_secs(600);
    set_mtime(&site.root.join("app.js"), old);
    let sidecar = compress_slice(b"from app.js.br", Coding::Br, 11).unwrap();
    std::fs::write(site.root.join("app.js.br"), &sidecar).unwrap();
    let mut c = site.connect().await;
    let r = c.get("/app.js", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert!(r.header("content-type").unwrap().contains("javascript"));
    assert_eq!(
        r.header("content-length"),
        Some(sidecar.len().to_string().as_str())
    );
    assert_eq!(decode("br", &r.body), b"from app.js.br");
    // No sidecar for gzip: coded from the file.
    let r = c.get("/app.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), page());
}

// ---- request bodies ----

fn big_limits() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 8 * 1024 * 1024,
        ..ServerConfig::default()
    }
}

/// `n` bytes of a known pattern in 16 KiB chunks.
fn upload(n: usize) -> (Vec<u8>, Vec<Bytes>) {
    let data: Vec<u8> = (0..n).map(|i| (i % 253) as u8 ^ (i >> 13) as u8).collect();
    let chunks = data.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    (data, chunks)
}

#[tokio::test]
async fn a_3_mib_upload_in_many_data_frames_reaches_the_handler_intact() {
    // Three times the stream and connection windows (1 MiB): it arrives
    // only if the server gives capacity back as the handler reads.
    let (data, chunks) = upload(3 * 1024 * 1024);
    for via in BOTH {
        let site = Site::start(via, big_limits(), app);
        let mut c = site.connect().await;
        let (r, sent) = c.post_streamed("/echo", &[], chunks.clone()).await;
        sent.expect("request body not sent whole");
        let r = r.expect("POST /echo");
        assert_eq!(r.status, 200, "{via:?}");
        assert_eq!(r.header("x-method"), Some("POST"));
        assert!(
            r.body == data,
            "{via:?}: echo differs ({} bytes)",
            r.body.len()
        );
        // With a declared length too.
        let len = data.len().to_string();
        let (r, sent) = c
            .post_streamed("/echo", &[("content-length", &len)], chunks.clone())
            .await;
        sent.unwrap();
        assert!(r.unwrap().body == data);
    }
}

/// A handler that counts its calls and reports the body error it saw.
#[derive(Clone, Default)]
struct Probe {
    calls: Arc<AtomicUsize>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Probe {
    fn handler(&self) -> impl Handler + use<> {
        let probe = self.clone();
        move |req: Request| {
            let probe = probe.clone();
            async move {
                probe.calls.fetch_add(1, Ordering::SeqCst);
                match req.into_body().collect(64 * 1024 * 1024).await {
                    Ok(body) => berth::response::text(format!("{} bytes\n", body.len())),
                    Err(e) => {
                        let kind = if e.is_too_large() {
                            "too large"
                        } else {
                            "other"
                        };
                        probe.errors.lock().unwrap().push(kind.to_string());
                        berth::response::status(StatusCode::PAYLOAD_TOO_LARGE)
                    }
                }
            }
        }
    }
}

fn small_limit() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 64 * 1024,
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_413_without_calling_the_handler() {
    let probe = Probe::default();
    let site = Site::start(Via::H2c, small_limit(), |_: &Path| probe.handler());
    let mut c = site.connect().await;
    // The head alone, announcing too much: answered before any DATA.
    let head = c.head_of(Method::POST, "/upload", &[("content-length", "1000000")]);
    let (response, _body) = c.open(head, false).await.unwrap();
    let r = read_response(response).await.expect("a 413 response");
    assert_eq!(r.status, 413);
    assert_eq!(r.body_str(), "413 Payload Too Large\n");
    assert_eq!(probe.calls.load(Ordering::SeqCst), 0, "handler was called");
    // Within the limit, on the same connection: the handler reads it.
    let (r, _) = c
        .post_streamed("/upload", &[], vec![Bytes::from(vec![b'x'; 1000])])
        .await;
    assert_eq!(r.unwrap().body_str(), "1000 bytes\n");
    assert_eq!(probe.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_gives_the_handler_a_too_large_error() {
    let probe = Probe::default();
    let site = Site::start(Via::H2c, small_limit(), |_: &Path| probe.handler());
    let mut c = site.connect().await;
    let (_, chunks) = upload(256 * 1024);
    // No content-length: the limit is found while the handler reads.
    let (r, _sent) = c.post_streamed("/upload", &[], chunks).await;
    let r = r.expect("a response");
    assert_eq!(r.status, 413);
    assert_eq!(probe.calls.load(Ordering::SeqCst), 1);
    assert_eq!(*probe.errors.lock().unwrap(), ["too large"]);
    // The connection serves on.
    let (r, _) = c
        .post_streamed("/upload", &[], vec![Bytes::from_static(b"ok")])
        .await;
    assert_eq!(r.unwrap().body_str(), "2 bytes\n");
}

#[tokio::test]
async fn bodies_the_handler_ignores_do_not_use_up_the_connection_window() {
    // Over HTTP/1.1 an unread body is drained (or the connection closed);
    // over HTTP/2 its bytes must be given back to the connection's window
    // (1 MiB), or after a few such requests no stream can send a byte.
    let site = Site::start(Via::H2c, big_limits(), |_: &Path| {
        Router::new()
            .post("/ignore", |_req: Request| async { "ignored" })
            .post("/echo", support::echo)
    });
    let mut c = site.connect().await;
    let (_, chunks) = upload(600 * 1024);
    for i in 0..4 {
        let (r, _sent) = c.post_streamed("/ignore", &[], chunks.clone()).await;
        let r = r.unwrap_or_else(|e| panic!("POST /ignore #{i}: {e}"));
        assert_eq!(r.body_str(), "ignored", "#{i}");
    }
    let (data, chunks) = upload(1536 * 1024);
    let (r, sent) = c.post_streamed("/echo", &[], chunks).await;
    sent.expect("the upload after the ignored bodies stalled");
    assert!(r.unwrap().body == data);
}

#[tokio::test]
async fn expect_100_continue_gets_a_100_before_the_body_is_sent() {
    // Over HTTP/1.1 berth answers `Expect: 100-continue` with 100 once the
    // handler reads (tests/bodies.rs); a client waiting for it must not
    // have to time out over HTTP/2 either (RFC 9110 §10.1.1).
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    let head = c.head_of(
        Method::POST,
        "/echo",
        &[("expect", "100-continue"), ("content-length", "5")],
    );
    let (mut response, mut body) = c.open(head, false).await.unwrap();
    let interim = within(
        "a 100 Continue before the body is sent",
        std::future::poll_fn(|cx| response.poll_informational(cx)),
    )
    .await
    .expect("no interim response")
    .unwrap();
    assert_eq!(interim.status(), 100);
    body.send_data(Bytes::from_static(b"hello"), true).unwrap();
    let r = read_response(response).await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), "hello");
}

#[tokio::test]
async fn an_unknown_expectation_is_417_as_over_http11() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    let r = c
        .request(
            Method::POST,
            "/echo",
            &[("expect", "something-else")],
            Some(Bytes::from_static(b"hello")),
        )
        .await;
    assert_eq!(r.status, 417, "{r:?}");
}

#[tokio::test]
async fn cookie_crumbs_reach_the_handler_as_one_field() {
    // HTTP/2 clients may split Cookie into one field per cookie (browsers
    // do, for HPACK); a handler written for HTTP/1.1 reads one field.
    let site = Site::start(Via::H2c, ServerConfig::default(), |_: &Path| {
        |req: Request| async move {
            let all: Vec<String> = req
                .headers()
                .get_all("cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect();
            berth::response::text(all.join("|"))
        }
    });
    let mut c = site.connect().await;
    let r = c
        .get(
            "/",
            &[("cookie", "a=1"), ("cookie", "b=2"), ("cookie", "c=3")],
        )
        .await;
    assert_eq!(r.body_str(), "a=1; b=2; c=3");
}

#[tokio::test]
async fn request_head_limits_apply_as_over_http11() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    let limits = berth::proto::Limits::default();
    // A target over max_target_bytes: 414 (the head still fits in the
    // header list size).
    let long = format!("/{}", "a".repeat(limits.max_target_bytes));
    assert_eq!(c.get(&long, &[]).await.status, 414);
    // More fields than max_headers: 431.
    let names: Vec<String> = (0..=limits.max_headers)
        .map(|i| format!("x-f{i}"))
        .collect();
    let fields: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    assert_eq!(c.get("/hello.txt", &fields).await.status, 431);
    // The connection serves on.
    assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
}

#[tokio::test]
async fn methods_serve_dir_does_not_take_are_405_with_allow() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut c = site.connect().await;
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let r = c
            .request(
                method.clone(),
                "/hello.txt",
                &[],
                Some(Bytes::from_static(b"x")),
            )
            .await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{method}");
    }
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_goaway() {
    let mut config = ServerConfig::default();
    config.http2.idle_timeout = Duration::from_millis(200);
    let site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
    let send = c.send.clone();
    c.closed().await.expect("closed on an error");
    let err = send
        .ready()
        .await
        .and_then(|mut s| {
            s.send_request(http::Request::get("http://x/").body(()).unwrap(), true)
                .map(|_| ())
        })
        .expect_err("a stream opened on the closed connection");
    assert!(is_graceful_goaway(&err), "{err:?}");
}

// ---- streamed responses ----

/// SSE-style: each event is produced only when the test sends on the
/// gate, so a chunk that arrives before the next signal was sent as soon
/// as it was produced.
fn events(
    gate: Arc<Mutex<Option<mpsc::UnboundedReceiver<()>>>>,
) -> impl Fn(Request) -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move |_req: Request| {
        let gate = gate.lock().unwrap().take();
        let (tx, body) = Body::channel(1);
        if let Some(mut gate) = gate {
            tokio::spawn(async move {
                let mut n = 0;
                while gate.recv().await.is_some() {
                    n += 1;
                    let event = format!("data: event {n} {}\n\n", "x".repeat(40));
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
            });
        }
        let mut res = Response::new(body);
        res.headers_mut()
            .insert("content-type", "text/event-stream".parse().unwrap());
        std::future::ready(res)
    }
}

#[tokio::test]
async fn channel_bodies_send_each_chunk_before_the_next_is_produced() {
    for via in BOTH {
        for coding in [None, Some("gzip"), Some("br"), Some("zstd")] {
            let (go, gate) = mpsc::unbounded_channel();
            let gate = Arc::new(Mutex::new(Some(gate)));
            let handler = Compress::new(events(gate));
            let site = Site::start(via, ServerConfig::default(), |_: &Path| handler);
            let mut c = site.connect().await;
            let headers: Vec<(&str, &str)> =
                coding.map(|c| ("accept-encoding", c)).into_iter().collect();
            let head = c.head_of(Method::GET, "/events", &headers);
            let (response, _) = c.open(head, true).await.unwrap();
            let response = within("the response head", response)
                .await
                .unwrap_or_else(|e| panic!("{via:?} {coding:?}: response head: {e:?}"));
            assert_eq!(response.status(), 200);
            assert_eq!(
                response
                    .headers()
                    .get("content-encoding")
                    .map(|v| v.to_str().unwrap()),
                coding
            );
            assert!(response.headers().get("content-length").is_none());
            let mut recv = response.into_body();
            let mut payload = Vec::new();
            let decoded = |payload: &[u8]| match coding {
                None => payload.to_vec(),
                Some(coding) => decode_prefix(coding, payload),
            };
            for n in 1..=3 {
                go.send(()).unwrap();
                let want = format!("data: event {n} ");
                // The event must arrive before the next one is produced.
                while !String::from_utf8_lossy(&decoded(&payload)).contains(&want) {
                    let chunk = next_chunk(&mut recv)
                        .await
                        .unwrap_or_else(|| panic!("{via:?} {coding:?}: ended before {want:?}"))
                        .unwrap();
                    payload.extend_from_slice(&chunk);
                }
            }
            drop(go);
            while let Some(chunk) = next_chunk(&mut recv).await {
                payload.extend_from_slice(&chunk.unwrap());
            }
            let all = match coding {
                None => payload.clone(),
                Some(coding) => decode(coding, &payload),
            };
            let text = String::from_utf8(all).unwrap();
            assert_eq!(text.matches("data: event").count(), 3, "{text}");
        }
    }
}

// ---- errors, concurrency, heads ----

#[tokio::test]
async fn a_body_cut_short_resets_its_stream_and_the_connection_serves_on() {
    // Over HTTP/1.1 a body that cannot be completed closes the connection
    // (the client must not take it for whole); over HTTP/2 its stream is
    // reset, and only it.
    let handler = |req: Request| async move {
        match req.uri().path() {
            // Declares 10 bytes, yields 5.
            "/short" => Response::new(Body::sized_stream(
                10,
                futures_stream(vec![Ok(Bytes::from_static(b"12345"))]),
            )),
            // Fails after its first chunk.
            "/fails" => {
                let (tx, body) = Body::channel(1);
                tokio::spawn(async move {
                    if tx.send("first\n").await.is_ok() {
                        tx.abort("the producer failed").await;
                    }
                });
                Response::new(body)
            }
            _ => berth::response::text("fine\n"),
        }
    };
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), |_: &Path| handler);
        let mut c = site.connect().await;
        for path in ["/short", "/fails"] {
            let head = c.head_of(Method::GET, path, &[]);
            let err = c
                .try_request(head, None)
                .await
                .expect_err("a cut-short body ended as if whole");
            assert_eq!(
                err.reason(),
                Some(h2::Reason::INTERNAL_ERROR),
                "{via:?} {path}: {err:?}"
            );
            assert!(!err.is_go_away(), "{via:?} {path}: the connection went");
        }
        assert_eq!(c.get("/", &[]).await.body_str(), "fine\n");
    }
}

/// A stream of the given items (no `futures` crate in the tree).
fn futures_stream(
    items: Vec<Result<Bytes, berth::body::BoxError>>,
) -> impl futures_core::Stream<Item = Result<Bytes, berth::body::BoxError>> + Send + 'static {
    struct Items(std::vec::IntoIter<Result<Bytes, berth::body::BoxError>>);
    impl futures_core::Stream for Items {
        type Item = Result<Bytes, berth::body::BoxError>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Items(items.into_iter())
}

#[tokio::test]
async fn a_panicking_handler_gives_500_on_its_stream_and_the_connection_serves_on() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        let r = c.get("/panic", &[]).await;
        assert_eq!(r.status, 500, "{via:?}");
        assert_eq!(r.body_str(), "500 Internal Server Error\n");
        // The 500 asks HTTP/1.1 to close; HTTP/2 loses only the stream.
        assert_eq!(r.header("connection"), None);
        assert_date_and_server(&r);
        // The same connection, streams after and alongside a panic.
        assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
        let (a, _) = c
            .open(c.head_of(Method::GET, "/panic", &[]), true)
            .await
            .unwrap();
        let (b, _) = c
            .open(c.head_of(Method::GET, "/hello.txt", &[]), true)
            .await
            .unwrap();
        let (a, b) = tokio::join!(read_response(a), read_response(b));
        assert_eq!(a.unwrap().status, 500);
        assert_eq!(b.unwrap().body_str(), HELLO_TXT);
        assert!(!c.conn.is_finished(), "{via:?}: the connection closed");
    }
}

#[tokio::test]
async fn a_hundred_streams_in_flight_on_one_connection_are_all_answered() {
    const N: usize = 100;
    for via in BOTH {
        // Every handler waits until all N have arrived: they are truly in
        // flight at once, not served one after another.
        let arrived = Arc::new(AtomicUsize::new(0));
        let all_in = Arc::new(watch::channel(false).0);
        let handler = {
            let (arrived, all_in) = (arrived.clone(), all_in.clone());
            move |req: Request| {
                let (arrived, all_in) = (arrived.clone(), all_in.clone());
                async move {
                    let path = req.uri().path().to_string();
                    if path != "/warm-up" {
                        if arrived.fetch_add(1, Ordering::SeqCst) + 1 == N {
                            all_in.send_replace(true);
                        }
                        let _ = all_in.subscribe().wait_for(|all| *all).await;
                    }
                    berth::response::text(path)
                }
            }
        };
        let site = Site::start(via, ServerConfig::default(), |_: &Path| handler);
        let mut c = site.connect().await;
        // One exchange first: the server's SETTINGS (128 streams) are in
        // force before the burst.
        assert_eq!(c.get("/warm-up", &[]).await.body_str(), "/warm-up");
        let mut pending = Vec::new();
        for i in 0..N {
            let head = c.head_of(Method::GET, &format!("/stream/{i}"), &[]);
            let (response, _) = c.open(head, true).await.unwrap();
            pending.push(tokio::spawn(read_response(response)));
        }
        for (i, task) in pending.into_iter().enumerate() {
            let r = within("a response", task).await.unwrap().unwrap();
            assert_eq!(r.status, 200, "{via:?} stream {i}");
            assert_eq!(r.body_str(), format!("/stream/{i}"));
        }
        assert_eq!(arrived.load(Ordering::SeqCst), N);
    }
}

#[tokio::test]
async fn connection_specific_fields_never_reach_the_client() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        // The h2 client refuses a response carrying any of them: that this
        // succeeds is the first half of the check.
        let r = c.get("/hop", &[]).await;
        assert_eq!(r.status, 200, "{via:?}");
        assert_eq!(r.body_str(), "hop\n");
        for name in [
            "connection",
            "keep-alive",
            "transfer-encoding",
            "upgrade",
            "proxy-connection",
        ] {
            assert!(r.headers.get(name).is_none(), "{via:?}: {name} sent");
        }
        assert_eq!(r.header("x-kept"), Some("yes"));
        // Repeated fields stay repeated.
        let cookies: Vec<_> = r.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(r.header("content-length"), Some("4"));
        assert_date_and_server(&r);
    }
}

#[tokio::test]
async fn handlers_see_origin_form_a_host_from_authority_and_the_peer() {
    for via in BOTH {
        let site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        let r = c.get("/whoami/a/b?c=d&e", &[]).await;
        assert_eq!(r.status, 200);
        let want = format!(
            "uri=/whoami/a/b?c=d&e\nhost={}\nversion=HTTP/2.0\npeer={}\n",
            c.authority, c.local
        );
        assert_eq!(r.body_str(), want, "{via:?}");
    }
    // With peer_addr off, no PeerAddr.
    let config = ServerConfig {
        peer_addr: false,
        ..ServerConfig::default()
    };
    let site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    let r = c.get("/whoami/x", &[]).await;
    assert!(r.body_str().ends_with("peer=-\n"), "{}", r.body_str());
}

// ---- access log and metrics ----

/// What an access record says, owned.
#[derive(Debug, Clone, PartialEq)]
struct Logged {
    method: String,
    target: String,
    version: Version,
    status: u16,
    body_bytes: u64,
}

fn logging() -> (ServerConfig, std::sync::mpsc::Receiver<Logged>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let log = AccessLog::new(move |r| {
        let logged = Logged {
            method: r.method.map(|m| m.to_string()).unwrap_or_default(),
            target: r.target.map(|t| t.to_string()).unwrap_or_default(),
            version: r.version,
            status: r.status.as_u16(),
            body_bytes: r.body_bytes,
        };
        let _ = tx.lock().unwrap().send(logged);
    });
    let config = ServerConfig {
        access_log: Some(log),
        ..ServerConfig::default()
    };
    (config, rx)
}

#[tokio::test]
async fn the_access_log_has_one_http2_record_per_stream() {
    for via in BOTH {
        let (config, records) = logging();
        let mut site = Site::start(via, config, app);
        let mut c = site.connect().await;
        let expected = [
            ("GET", "/hello.txt", 200, HELLO_TXT.len() as u64),
            ("GET", "/big.bin", 200, BIG_LEN as u64),
            ("HEAD", "/big.bin", 200, 0),
            ("GET", "/no-such-file", 404, "404 Not Found\n".len() as u64),
            (
                "GET",
                "/panic",
                500,
                "500 Internal Server Error\n".len() as u64,
            ),
        ];
        for (method, path, status, _) in expected {
            let method: Method = method.parse().unwrap();
            let r = c.request(method, path, &[], None).await;
            assert_eq!(r.status, status, "{path}");
        }
        let r = c.get("/hello.txt", &[("range", "bytes=0-4")]).await;
        assert_eq!(r.status, 206);
        // Everything logged is logged by the time serve() returns.
        drop(c);
        site.shut_down().await;
        let got: Vec<Logged> = records.try_iter().collect();
        let mut want: Vec<Logged> = expected
            .iter()
            .map(|&(method, target, status, body_bytes)| Logged {
                method: method.to_string(),
                target: target.to_string(),
                version: Version::HTTP_2,
                status,
                body_bytes,
            })
            .collect();
        want.push(Logged {
            method: "GET".into(),
            target: "/hello.txt".into(),
            version: Version::HTTP_2,
            status: 206,
            body_bytes: 5,
        });
        let key = |l: &Logged| (l.target.clone(), l.method.clone(), l.status);
        let (mut got, mut want) = (got, want);
        got.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(got, want, "{via:?}");
    }
}

#[tokio::test]
async fn metrics_count_http2_requests_and_the_one_connection() {
    let metrics = berth::server::Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..ServerConfig::default()
    };
    let mut site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    for _ in 0..3 {
        assert_eq!(c.get("/hello.txt", &[]).await.status, 200);
    }
    assert_eq!(c.get("/no-such-file", &[]).await.status, 404);
    assert_eq!(c.head("/hello.txt", &[]).await.status, 200);
    let (r, _) = c
        .post_streamed("/echo", &[], vec![Bytes::from_static(b"hi")])
        .await;
    assert_eq!(r.unwrap().status, 200);
    drop(c);
    site.shut_down().await;
    let text = metrics.render();
    for line in [
        "berth_requests_total{method_class=\"get\",status_class=\"2xx\"} 3\n",
        "berth_requests_total{method_class=\"get\",status_class=\"4xx\"} 1\n",
        "berth_requests_total{method_class=\"head\",status_class=\"2xx\"} 1\n",
        "berth_requests_total{method_class=\"post\",status_class=\"2xx\"} 1\n",
        "berth_request_duration_seconds_count 6\n",
        "berth_connections_total 1\n",
        "berth_open_connections 0\n",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn metrics_count_http2_bytes_received_and_sent() {
    let metrics = berth::server::Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        ..big_limits()
    };
    let mut site = Site::start(Via::H2c, config, app);
    let mut c = site.connect().await;
    assert_eq!(c.get("/big.bin", &[]).await.body.len(), BIG_LEN);
    let (r, _) = c
        .post_streamed("/echo", &[], vec![Bytes::from(vec![b'u'; 100_000])])
        .await;
    assert_eq!(r.unwrap().body.len(), 100_000);
    drop(c);
    site.shut_down().await;
    let text = metrics.render();
    let value = |name: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(
        value("berth_sent_bytes_total") >= (BIG_LEN + 100_000) as u64,
        "{text}"
    );
    assert!(value("berth_received_bytes_total") >= 100_000, "{text}");
}

// ---- graceful shutdown ----

/// ServeDir, and `/slow` parked at the gate.
fn gated(root: &Path, gate: Gate) -> Router {
    Router::new()
        .get("/slow", move |req: Request| gate.clone().call(req))
        .fallback(ServeDir::new(root))
}

fn is_graceful_goaway(e: &h2::Error) -> bool {
    e.is_go_away() && e.is_remote() && e.reason() == Some(h2::Reason::NO_ERROR)
}

#[tokio::test]
async fn shutdown_sends_goaway_and_the_stream_in_flight_completes() {
    for via in BOTH {
        let (gate, mut control) = gate();
        let mut site = Site::start(via, ServerConfig::default(), |root: &Path| {
            gated(root, gate)
        });
        let mut c = site.connect().await;
        assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
        let head = c.head_of(Method::GET, "/slow", &[]);
        let (slow, _) = c.open(head, true).await.unwrap();
        let slow = tokio::spawn(read_response(slow));
        assert_eq!(control.arrival().await, "/slow");

        let stopping = site.stop();
        // Until the GOAWAY arrives, a new stream is still served; after
        // it, the client refuses to open one (or the server's last stream
        // id excludes it).
        let goaway = within("a GOAWAY after shutdown", async {
            loop {
                let head = c.head_of(Method::GET, "/hello.txt", &[]);
                match c.try_request(head, None).await {
                    Ok(r) => assert_eq!(r.body_str(), HELLO_TXT, "{via:?}"),
                    Err(e) => break e,
                }
            }
        })
        .await;
        assert!(is_graceful_goaway(&goaway), "{via:?}: {goaway:?}");
        assert!(
            !slow.is_finished(),
            "{via:?}: /slow answered before the gate opened"
        );
        assert!(
            !stopping.is_finished(),
            "{via:?}: serve() returned with a stream in flight"
        );

        control.open.send_replace(true);
        let r = within("/slow", slow).await.unwrap().expect("/slow");
        assert_eq!(r.status, 200, "{via:?}");
        assert_eq!(r.body_str(), "/slow done\n");
        // Then the connection closes cleanly and the server stops.
        let send = c.send.clone();
        // (A write of the client's crossing the server's close, e.g. a
        // WINDOW_UPDATE for the last DATA, may end it on EPIPE; the
        // response was whole, which is what counts.)
        let closed = c.closed().await;
        assert!(
            closed.as_ref().map_or_else(h2::Error::is_io, |()| true),
            "{via:?}: the connection closed on {closed:?}"
        );
        let err = match send.ready().await {
            Ok(mut s) => s
                .send_request(http::Request::get("http://x/").body(()).unwrap(), true)
                .expect_err("a new stream opened after GOAWAY"),
            Err(e) => e,
        };
        assert!(is_graceful_goaway(&err), "{via:?}: {err:?}");
        let took = within("serve() to return", stopping).await.unwrap();
        assert!(took.is_some(), "{via:?}: serve() did not return");
    }
}

#[tokio::test]
async fn idle_http2_connections_are_closed_promptly_on_shutdown() {
    for via in BOTH {
        let mut site = Site::start(via, ServerConfig::default(), app);
        let mut c = site.connect().await;
        assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
        // The idle timeout (10 s) must not hold shutdown up.
        let took = within("serve() to return", site.stop())
            .await
            .unwrap()
            .expect("serve() did not return");
        assert!(took < Duration::from_secs(2), "{via:?}: {took:?}");
        // A clean close; or the client's last write (its PING ack, a
        // TLS close_notify) crossing the server's close.
        let closed = c.closed().await;
        assert!(
            closed.as_ref().map_or_else(h2::Error::is_io, |()| true),
            "{via:?}: {closed:?}"
        );
    }
}

#[tokio::test]
async fn serve_returns_after_the_grace_period_even_if_an_http2_handler_hangs() {
    let mut config = ServerConfig::default();
    config.timeouts.shutdown_grace = Duration::from_millis(300);
    let (gate, mut control) = gate();
    let mut site = Site::start(Via::H2c, config, |root: &Path| gated(root, gate));
    let mut c = site.connect().await;
    let head = c.head_of(Method::GET, "/slow", &[]);
    let (slow, _) = c.open(head, true).await.unwrap();
    assert_eq!(control.arrival().await, "/slow");
    let start = std::time::Instant::now();
    let took = within("serve() to return", site.stop())
        .await
        .unwrap()
        .expect("serve() did not return");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // The hung stream never got an answer; its connection is gone.
    let r = within("the hung stream to fail", slow).await;
    assert!(r.is_err(), "{r:?}");
    let _ = c.closed().await;
}

#[test]
fn streams_opened_after_the_final_goaway_are_not_served() {
    use h2wire::{Kind, goaway_last_stream_id, ping_ack};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (gate, mut control) = gate();
    let after = Arc::new(AtomicUsize::new(0));
    let counted = after.clone();
    let app = move |root: &Path| {
        let files = ServeDir::new(root);
        Router::new()
            .get("/slow", move |req: Request| gate.clone().call(req))
            .get("/after", move |_req: Request| {
                counted.fetch_add(1, Ordering::SeqCst);
                async { berth::response::text("served\n") }
            })
            .fallback(files)
    };
    let mut site = Site::start(Via::H2c, ServerConfig::default(), app);
    let mut conn = h2wire::Conn::handshake(site.addr);
    let slow = conn.get("/slow");
    assert_eq!(runtime.block_on(control.arrival()), "/slow");
    let stopping = {
        let _in_runtime = runtime.enter();
        site.stop()
    };

    // The first GOAWAY (last stream 2^31-1) and a PING; once the PING is
    // acknowledged, the final GOAWAY names the last stream served.
    let last = loop {
        let f = conn
            .read_frame(LIMIT)
            .expect("a GOAWAY after shutdown")
            .expect("connection closed before its GOAWAY");
        match f.kind {
            Kind::Ping if !f.is_ack() => conn.send(&ping_ack(f.payload[..8].try_into().unwrap())),
            Kind::Goaway => {
                assert_eq!(h2wire::goaway_error_code(&f), Some(0), "{f:?}");
                let last = goaway_last_stream_id(&f).unwrap();
                if last != 0x7fff_ffff {
                    break last;
                }
            }
            _ => {}
        }
    };
    assert_eq!(
        last, slow,
        "the final GOAWAY must keep the stream in flight"
    );
    let refused = conn.get("/after");
    assert!(refused > last);

    control.open.send_replace(true);
    let r = conn.read_response(slow, LIMIT).expect("/slow after GOAWAY");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"/slow done\n");
    assert!(conn.closed_within(LIMIT), "the connection stayed open");
    assert_eq!(
        conn.status(refused),
        None,
        "a stream after GOAWAY was answered"
    );
    assert!(
        !conn
            .blocks
            .iter()
            .any(|b| b.stream_id == refused && b.end_stream && b.fields.is_ok()),
    );
    assert_eq!(after.load(Ordering::SeqCst), 0, "its handler was called");
    let took = runtime.block_on(stopping).unwrap();
    assert!(took.is_some(), "serve() did not return");
}

// ---- the h2c switch on a cleartext listener ----

#[tokio::test]
async fn http11_and_http2_share_the_cleartext_listener() {
    let site = Site::start(Via::H2c, ServerConfig::default(), app);
    let addr = site.addr;
    let r = tokio::task::spawn_blocking(move || Client::connect(addr).request(get("/hello.txt")))
        .await
        .unwrap();
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.status, 200);
    assert_eq!(r.body_str(), HELLO_TXT);
    let mut c = site.connect().await;
    assert_eq!(c.get("/hello.txt", &[]).await.body_str(), HELLO_TXT);
    // HTTP/1.1 handlers see HTTP/1.1.
    let r = tokio::task::spawn_blocking(move || Client::connect(addr).request(get("/whoami/x")))
        .await
        .unwrap();
    assert!(r.body_str().contains("version=HTTP/1.1\n"), "{r:?}");
}

#[test]
fn upgrade_h2c_is_answered_over_http11_not_101() {
    let server = support::start_serve_dir(ServerConfig::default());
    let mut c = server.connect();
    let r = c.request(
        "GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n\
         Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
    );
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body_str(), HELLO_TXT);
    assert_eq!(r.header("upgrade"), None);
    // Still HTTP/1.1 on the same connection.
    let r = c.request(get("/"));
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.body_str(), INDEX_HTML);
}

#[test]
fn with_h2c_off_the_preface_gets_an_http11_error() {
    let mut config = ServerConfig::default();
    config.http2.h2c = false;
    let server = support::start_serve_dir(config);
    let mut c = server.connect();
    let mut hello = h2wire::PREFACE.to_vec();
    hello.extend(h2wire::settings(&[]));
    c.send(&hello);
    let r = c
        .try_read_response(false)
        .expect("an HTTP/1.1 response to the preface");
    assert_eq!(r.version, "HTTP/1.1");
    // "PRI * HTTP/2.0" read as an HTTP/1.1 request line: its version.
    assert_eq!(r.status, 505, "{r:?}");
    assert!(r.says_close(), "{r:?}");
    // And plain HTTP/1.1 still works there.
    assert_eq!(
        server.connect().request(get("/hello.txt")).body_str(),
        HELLO_TXT
    );
}

#[test]
fn a_preface_arriving_in_pieces_is_still_recognised() {
    use std::io::Write;
    let server = support::start_serve_dir(ServerConfig::default());
    let mut hello = h2wire::PREFACE.to_vec();
    hello.extend(h2wire::settings(&[]));
    // Within the 18 bytes that decide, at their end, and in the part the
    // h2 crate checks.
    for split in [1, 5, 17, 18, 20] {
        let stream = std::net::TcpStream::connect(server.addr).unwrap();
        stream.set_nodelay(true).unwrap();
        stream.set_write_timeout(Some(LIMIT)).unwrap();
        let mut conn = h2wire::Conn::new(stream);
        conn.authority = server.addr.to_string();
        conn.stream.write_all(&hello[..split]).unwrap();
        conn.stream.flush().unwrap();
        conn.stream.write_all(&hello[split..]).unwrap();
        let settings = conn
            .read_until(|f| f.kind == h2wire::Kind::Settings && !f.is_ack(), LIMIT)
            .unwrap_or_else(|e| panic!("split at {split}: {e}"))
            .unwrap_or_else(|| panic!("split at {split}: closed before SETTINGS"));
        assert!(!settings.is_ack());
        conn.send(&h2wire::settings_ack());
        let id = conn.get("/hello.txt");
        let r = conn
            .read_response(id, LIMIT)
            .unwrap_or_else(|e| panic!("split at {split}: {e}"));
        assert_eq!(r.status, 200, "split at {split}");
        assert_eq!(r.body, HELLO_TXT.as_bytes(), "split at {split}");
    }
}

#[test]
fn a_preface_arriving_after_the_connection_parked_is_still_http2() {
    // A client slow to send its preface (over 10 ms after connecting,
    // e.g. a loaded machine) finds its idle connection parked; the
    // connection must still be recognised as HTTP/2 when the preface
    // comes.
    let metrics = berth::server::Metrics::new();
    let config = ServerConfig {
        metrics: Some(metrics.clone()),
        park_idle_after: Some(Duration::from_millis(10)),
        ..ServerConfig::default()
    };
    let site = Site::start(Via::H2c, config, app);
    let stream = std::net::TcpStream::connect(site.addr).unwrap();
    stream.set_nodelay(true).unwrap();
    stream.set_write_timeout(Some(LIMIT)).unwrap();
    // Bounded polling of the server's own gauge: parking is asynchronous.
    let parked = || {
        let text = metrics.render();
        text.contains("\nberth_parked_connections 1\n")
    };
    let start = std::time::Instant::now();
    while !parked() {
        assert!(start.elapsed() < LIMIT, "the idle connection never parked");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut conn = h2wire::Conn::new(stream);
    conn.authority = site.addr.to_string();
    let mut hello = h2wire::PREFACE.to_vec();
    hello.extend(h2wire::settings(&[]));
    conn.send(&hello);
    // What came back, looked at before it is parsed as frames.
    conn.stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut first = [0u8; 64];
    let n = conn
        .stream
        .peek(&mut first)
        .expect("an answer to the preface");
    assert!(
        !first[..n].starts_with(b"HTTP/"),
        "the late preface was answered as HTTP/1.1: {:?}",
        String::from_utf8_lossy(&first[..n])
    );
    let settings = conn
        .read_until(|f| f.kind == h2wire::Kind::Settings && !f.is_ack(), LIMIT)
        .expect("the server's SETTINGS")
        .expect("closed before SETTINGS");
    assert!(!settings.is_ack());
    conn.send(&h2wire::settings_ack());
    let id = conn.get("/hello.txt");
    let r = conn.read_response(id, LIMIT).expect("/hello.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, HELLO_TXT.as_bytes());
}

#[test]
fn a_short_http10_request_is_answered_at_once() {
    // 18 bytes, fewer than the preface's 24: it must not wait for more.
    let server = support::start_serve_dir(ServerConfig::default());
    let request = b"GET / HTTP/1.0\r\n\r\n";
    assert_eq!(request.len(), 18);
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    std::io::Write::write_all(&mut stream, request).unwrap();
    // The server's head timeout is 10 s: an answer within 3 s was not held.
    let (bytes, closed) = support::read_until_closed(&mut stream, Duration::from_secs(3));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text:?}");
    assert!(text.ends_with(INDEX_HTML), "{text:?}");
    assert!(
        closed.is_some(),
        "HTTP/1.0 without keep-alive: closed after"
    );
}

// ---- TLS: ALPN ----

#[tokio::test]
async fn over_tls_alpn_picks_the_protocol() {
    let site = Site::start(Via::Tls, ServerConfig::default(), app);
    // h2 offered: HTTP/2.
    let mut c = H2::tls(site.addr, site.tls_config(&[b"h2", b"http/1.1"])).await;
    let r = c.get("/whoami/x", &[]).await;
    assert_eq!(r.version, Version::HTTP_2);
    assert!(r.body_str().contains("version=HTTP/2.0\n"));
    // Only http/1.1: HTTP/1.1 over TLS.
    let (addr, config) = (site.addr, site.tls_config(&[b"http/1.1"]));
    let r = tokio::task::spawn_blocking(move || {
        let mut c = tls_connect(addr, config).expect("handshake");
        assert_eq!(c.tls().alpn_protocol(), Some(&b"http/1.1"[..]));
        c.request(get("/whoami/x"))
    })
    .await
    .unwrap();
    assert_eq!(r.version, "HTTP/1.1");
    assert!(r.body_str().contains("version=HTTP/1.1\n"), "{r:?}");
}

#[tokio::test]
async fn over_tls_with_http2_off_h2_is_not_offered() {
    let mut config = ServerConfig::default();
    config.http2.enabled = false;
    let site = Site::start(Via::Tls, config, app);
    let (addr, config) = (site.addr, site.tls_config(&[b"h2", b"http/1.1"]));
    let r = tokio::task::spawn_blocking(move || {
        let mut c = tls_connect(addr, config).expect("handshake");
        assert_eq!(c.tls().alpn_protocol(), Some(&b"http/1.1"[..]));
        c.request(get("/hello.txt"))
    })
    .await
    .unwrap();
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(r.body_str(), HELLO_TXT);
}

// ---- curl ----

fn curl() -> Option<&'static str> {
    let path = "/usr/bin/curl";
    if Path::new(path).exists() {
        Some(path)
    } else {
        eprintln!("skipped: no {path}");
        None
    }
}

/// Runs curl with `args`; its stdout (panics unless it succeeds).
fn run_curl(curl: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(curl)
        .args(["-sS", "--max-time", "5"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_speaks_http2_with_prior_knowledge() {
    let Some(curl) = curl() else { return };
    let server = support::start_serve_dir(ServerConfig::default());
    let base = format!("http://{}", server.addr);
    let out = run_curl(
        curl,
        &[
            "--http2-prior-knowledge",
            "-w",
            "\n%{http_code} %{http_version}",
            &format!("{base}/hello.txt"),
        ],
    );
    assert_eq!(out, format!("{HELLO_TXT}\n200 2"));
    // The big file, byte for byte.
    let file = server.tmp().join("big.out");
    let out = run_curl(
        curl,
        &[
            "--http2-prior-knowledge",
            "-o",
            file.to_str().unwrap(),
            "-w",
            "%{http_code} %{http_version} %{size_download}",
            &format!("{base}/big.bin"),
        ],
    );
    assert_eq!(out, format!("200 2 {BIG_LEN}"));
    assert!(std::fs::read(&file).unwrap() == big_content());
}

#[test]
fn curl_negotiates_http2_over_tls_trusting_the_ca() {
    let Some(curl) = curl() else { return };
    let site = Site::start(Via::Tls, ServerConfig::default(), app);
    let ca = site.root.join("../ca.pem");
    std::fs::write(&ca, &site.cert.ca_pem).unwrap();
    let port = site.addr.port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    for (extra, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let out = run_curl(
            curl,
            &[
                extra,
                "--cacert",
                ca.to_str().unwrap(),
                "--resolve",
                &resolve,
                "-w",
                "\n%{http_code} %{http_version}",
                &format!("https://localhost:{port}/hello.txt"),
            ],
        );
        assert_eq!(out, format!("{HELLO_TXT}\n200 {version}"), "{extra}");
    }
}
