//! Compression over real sockets: negotiation, Vary, per-representation
//! ETags, HEAD, ranges, precompressed sidecars, streaming, and the binary's
//! defaults and flags.

#[path = "support/decode.rs"]
mod decode;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use berth::compress::{Coding, Compress, compress_slice};
use berth::{Body, Request, Response, ServeDir, ServerConfig};
use decode::{decode, decode_prefix};
use support::{Client, Framing, IO_TIMEOUT, Resp, TestServer};

/// 64 KiB of HTML-like text.
fn page() -> Vec<u8> {
    let mut out = b"<!doctype html>\n<main>\n".to_vec();
    let mut i = 0u32;
    while out.len() < 64 * 1024 {
        let line = format!(
            "<article id=\"post-{i}\"><h2>Post {i}</h2><p>berth serves files, {} of them, \
             compressed once and kept.</p></article>\n",
            i.wrapping_mul(2_654_435_761) % 997
        );
        out.extend_from_slice(line.as_bytes());
        i += 1;
    }
    out.truncate(64 * 1024);
    out
}

/// A served directory: page.html, app.js (text), small.txt, photo.png.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("page.html"), page()).unwrap();
        std::fs::write(root.join("app.js"), page()).unwrap();
        std::fs::write(root.join("small.txt"), "just a few bytes\n").unwrap();
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(std::iter::repeat_n(0u8, 8192));
        std::fs::write(root.join("photo.png"), png).unwrap();
        Site { dir }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("root")
    }

    /// `Compress` around `ServeDir` (precompressed on) on a test server.
    fn start(&self) -> TestServer {
        let files = ServeDir::new(self.root()).precompressed(true);
        support::start_with(ServerConfig::default(), Compress::new(files))
    }
}

fn request(method: &str, path: &str, headers: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n")
}

fn get(server: &TestServer, path: &str, headers: &str) -> Resp {
    server.connect().request(request("GET", path, headers))
}

fn head(server: &TestServer, path: &str, headers: &str) -> Resp {
    let mut client = server.connect();
    client.send(request("HEAD", path, headers));
    client.read_head_response()
}

/// The body, decoded per its Content-Encoding.
fn content(resp: &Resp) -> Vec<u8> {
    match resp.header("content-encoding") {
        None => resp.body.clone(),
        Some(coding) => decode(coding, &resp.body),
    }
}

#[test]
fn every_coding_decodes_back_to_the_file() {
    let site = Site::new();
    let server = site.start();
    for coding in ["gzip", "br", "zstd"] {
        for path in ["/page.html", "/app.js"] {
            let r = get(&server, path, &format!("Accept-Encoding: {coding}\r\n"));
            assert_eq!(r.status, 200);
            assert_eq!(r.header("content-encoding"), Some(coding), "{path}");
            assert_eq!(r.header("vary"), Some("Accept-Encoding"));
            assert_eq!(r.header("accept-ranges"), None);
            // Compressed once, cached, sent with its length.
            assert_eq!(r.framing, Framing::Length(r.body.len()));
            assert!(r.body.len() < 64 * 1024 / 3, "{coding}: {}", r.body.len());
            assert_eq!(decode(coding, &r.body), page(), "{coding} {path}");
        }
    }
    // A browser's header: zstd first.
    let r = get(
        &server,
        "/page.html",
        "Accept-Encoding: gzip, deflate, br, zstd\r\n",
    );
    assert_eq!(r.header("content-encoding"), Some("zstd"));
}

#[test]
fn q_values_are_respected() {
    let site = Site::new();
    let server = site.start();
    let cases = [
        ("gzip;q=0", None),
        ("GZIP;Q=0, br;q=0.000", None),
        ("*;q=0, identity", None),
        ("identity;q=0", None),
        ("*;q=0", None),
        ("gzip;q=0.5, identity", None),
        ("gzip;q=2", None),
        ("gzip;q=abc", None),
        ("deflate, compress", None),
        ("", None),
        (" Gzip ", Some("gzip")),
        ("br;q=0.5, gzip;q=0.6", Some("gzip")),
        ("zstd;q=0, br;q=0, *", Some("gzip")),
        ("x-gzip", Some("gzip")),
        ("gzip;q=0.1", Some("gzip")),
    ];
    for (accept, want) in cases {
        let r = get(
            &server,
            "/page.html",
            &format!("Accept-Encoding: {accept}\r\n"),
        );
        assert_eq!(r.status, 200, "{accept:?}");
        assert_eq!(r.header("content-encoding"), want, "{accept:?}");
        assert_eq!(r.header("vary"), Some("Accept-Encoding"), "{accept:?}");
        assert_eq!(content(&r), page(), "{accept:?}");
    }
    let r = get(&server, "/page.html", "");
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert_eq!(r.body, page());
}

#[test]
fn images_and_small_files_are_sent_as_they_are() {
    let site = Site::new();
    let server = site.start();
    for path in ["/photo.png", "/small.txt"] {
        let r = get(&server, path, "Accept-Encoding: gzip, br, zstd\r\n");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), None, "{path}");
        assert_eq!(r.header("vary"), None, "{path}");
        assert_eq!(r.header("accept-ranges"), Some("bytes"), "{path}");
        let on_disk = std::fs::read(site.root().join(&path[1..])).unwrap();
        assert_eq!(r.body, on_disk);
    }
}

#[test]
fn validators_are_per_representation() {
    let site = Site::new();
    let server = site.start();
    let gzip = "Accept-Encoding: gzip\r\n";
    let coded = get(&server, "/page.html", gzip);
    let gzip_tag = coded.header("etag").unwrap().to_string();
    let plain = get(&server, "/page.html", "");
    let identity_tag = plain.header("etag").unwrap().to_string();
    assert_ne!(gzip_tag, identity_tag);
    assert!(gzip_tag.ends_with("-gzip\""), "{gzip_tag}");

    // The gzip tag revalidates the gzip representation: 304 with Vary.
    let r = get(
        &server,
        "/page.html",
        &format!("{gzip}If-None-Match: {gzip_tag}\r\n"),
    );
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), Some(gzip_tag.as_str()));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert_eq!(r.header("content-encoding"), None);
    assert!(r.body.is_empty());
    // ...and not the br one, nor identity.
    let r = get(
        &server,
        "/page.html",
        &format!("Accept-Encoding: br\r\nIf-None-Match: {gzip_tag}\r\n"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("br"));
    let r = get(
        &server,
        "/page.html",
        &format!("If-None-Match: {gzip_tag}\r\n"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), None);
    // The identity tag revalidates identity (304 with Vary too), not gzip.
    let r = get(
        &server,
        "/page.html",
        &format!("If-None-Match: {identity_tag}\r\n"),
    );
    assert_eq!(r.status, 304);
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    let r = get(
        &server,
        "/page.html",
        &format!("{gzip}If-None-Match: {identity_tag}\r\n"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    // A list naming both.
    let r = get(
        &server,
        "/page.html",
        &format!("{gzip}If-None-Match: {identity_tag}, {gzip_tag}\r\n"),
    );
    assert_eq!(r.status, 304);
}

#[test]
fn head_has_the_headers_of_get() {
    let site = Site::new();
    let server = site.start();
    for path in ["/page.html", "/small.txt", "/photo.png"] {
        for accept in [
            "",
            "Accept-Encoding: gzip\r\n",
            "Accept-Encoding: br, zstd\r\n",
        ] {
            // HEAD first, on a cold cache.
            let h = head(&server, path, accept);
            let g = get(&server, path, accept);
            assert_eq!(h.status, g.status);
            for name in [
                "content-length",
                "content-encoding",
                "content-type",
                "etag",
                "vary",
            ] {
                assert_eq!(h.header(name), g.header(name), "{path} {accept:?} {name}");
            }
            assert!(h.body.is_empty());
        }
    }
}

#[test]
fn ranges_apply_to_identity_and_are_never_compressed() {
    let site = Site::new();
    let server = site.start();
    let r = get(
        &server,
        "/page.html",
        "Accept-Encoding: gzip, br, zstd\r\nRange: bytes=100-199\r\n",
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.header("content-range"), Some("bytes 100-199/65536"));
    assert_eq!(r.body, &page()[100..200]);
    let r = get(
        &server,
        "/page.html",
        "Accept-Encoding: gzip\r\nRange: bytes=0-0,-1\r\n",
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-encoding"), None);
}

#[test]
fn precompressed_sidecars() {
    let site = Site::new();
    let root = site.root();
    // Sidecars whose content is recognizable, newer than the file.
    let old = SystemTime::now() - Duration::from_secs(600);
    set_mtime(&root.join("app.js"), old);
    std::fs::write(
        root.join("app.js.br"),
        compress_slice(b"from app.js.br", Coding::Br, 11).unwrap(),
    )
    .unwrap();
    std::fs::write(
        root.join("app.js.gz"),
        compress_slice(b"from app.js.gz", Coding::Gzip, 9).unwrap(),
    )
    .unwrap();
    // A stale one: older than its file.
    std::fs::write(
        root.join("page.html.gz"),
        compress_slice(b"stale", Coding::Gzip, 9).unwrap(),
    )
    .unwrap();
    set_mtime(&root.join("page.html.gz"), old);
    // A symlinked one escaping the root.
    let outside = site.dir.path().join("outside.gz");
    std::fs::write(
        &outside,
        compress_slice(b"SECRET", Coding::Gzip, 9).unwrap(),
    )
    .unwrap();
    std::fs::write(root.join("notes.txt"), page()).unwrap();
    set_mtime(&root.join("notes.txt"), old);
    symlink(&outside, root.join("notes.txt.gz")).unwrap();
    let server = site.start();

    let r = get(&server, "/app.js", "Accept-Encoding: gzip, br\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert!(r.header("content-type").unwrap().contains("javascript"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    let sidecar_len = std::fs::metadata(root.join("app.js.br")).unwrap().len();
    assert_eq!(
        r.header("content-length"),
        Some(sidecar_len.to_string().as_str())
    );
    assert_eq!(decode("br", &r.body), b"from app.js.br");
    let tag = r.header("etag").unwrap().to_string();
    assert!(tag.ends_with("-br\""), "{tag}");
    let r = get(
        &server,
        "/app.js",
        &format!("Accept-Encoding: gzip, br\r\nIf-None-Match: {tag}\r\n"),
    );
    assert_eq!(r.status, 304);
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    let r = get(&server, "/app.js", "Accept-Encoding: gzip\r\n");
    assert_eq!(decode("gzip", &r.body), b"from app.js.gz");
    // zstd only: no sidecar, so coded on the fly from the file.
    let r = get(&server, "/app.js", "Accept-Encoding: zstd\r\n");
    assert_eq!(r.header("content-encoding"), Some("zstd"));
    assert_eq!(decode("zstd", &r.body), page());
    let h = head(&server, "/app.js", "Accept-Encoding: br\r\n");
    assert_eq!(
        h.header("content-length"),
        Some(sidecar_len.to_string().as_str())
    );
    assert_eq!(h.header("content-encoding"), Some("br"));

    // Stale: the file itself, coded on the fly.
    let r = get(&server, "/page.html", "Accept-Encoding: gzip\r\n");
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), page());
    // Escaping symlink: never followed.
    let r = get(&server, "/notes.txt", "Accept-Encoding: gzip\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(decode("gzip", &r.body), page());
    assert!(!String::from_utf8_lossy(&content(&r)).contains("SECRET"));
}

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// Events sent one at a time, each only when the test says so.
fn events_handler(
    gate: std::sync::Arc<std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<()>>>>,
) -> impl berth::Handler {
    move |_req: Request| {
        let gate = gate.lock().unwrap().take();
        async move {
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
            res
        }
    }
}

#[test]
fn streaming_responses_are_compressed_chunk_by_chunk() {
    for coding in ["gzip", "br", "zstd"] {
        let (go, gate) = tokio::sync::mpsc::unbounded_channel();
        let gate = std::sync::Arc::new(std::sync::Mutex::new(Some(gate)));
        let server =
            support::start_with(ServerConfig::default(), Compress::new(events_handler(gate)));
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream
            .write_all(
                request("GET", "/events", &format!("Accept-Encoding: {coding}\r\n")).as_bytes(),
            )
            .unwrap();
        let mut reader = ChunkedReader::default();
        let head = reader.read_head(&mut stream);
        assert!(
            head.contains(&format!("content-encoding: {coding}")),
            "{head}"
        );
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        for n in 1..=3 {
            go.send(()).unwrap();
            let want = format!("data: event {n} ");
            // The event must decode before the next one is even produced.
            loop {
                let decoded = decode_prefix(coding, &reader.payload);
                if String::from_utf8_lossy(&decoded).contains(&want) {
                    break;
                }
                assert!(
                    reader.read_some(&mut stream),
                    "{coding}: stream ended before {want:?}"
                );
            }
        }
        drop(go);
        while reader.read_some(&mut stream) {}
        let decoded = decode(coding, &reader.payload);
        assert_eq!(
            String::from_utf8(decoded)
                .unwrap()
                .matches("data: event")
                .count(),
            3
        );
    }
}

/// Reads a chunked response as it arrives.
#[derive(Default)]
struct ChunkedReader {
    raw: Vec<u8>,
    /// Chunk data so far.
    payload: Vec<u8>,
    done: bool,
}

impl ChunkedReader {
    /// Reads up to the end of the head; returns it, lowercased.
    fn read_head(&mut self, stream: &mut TcpStream) -> String {
        loop {
            if let Some(i) = find(&self.raw, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.raw[..i]).to_lowercase();
                self.raw.drain(..i + 4);
                return head;
            }
            self.fill(stream);
        }
    }

    /// Reads more and decodes every complete chunk; false at the end.
    fn read_some(&mut self, stream: &mut TcpStream) -> bool {
        if self.done {
            return false;
        }
        self.fill(stream);
        loop {
            let Some(eol) = find(&self.raw, b"\r\n") else {
                return true;
            };
            let line = String::from_utf8_lossy(&self.raw[..eol]).to_string();
            let size = usize::from_str_radix(line.trim(), 16).expect("chunk size");
            if size == 0 {
                self.done = true;
                return false;
            }
            if self.raw.len() < eol + 2 + size + 2 {
                return true;
            }
            self.payload
                .extend_from_slice(&self.raw[eol + 2..eol + 2 + size]);
            self.raw.drain(..eol + 2 + size + 2);
        }
    }

    fn fill(&mut self, stream: &mut TcpStream) {
        let mut buf = [0u8; 8192];
        let n = stream.read(&mut buf).expect("read (timed out?)");
        assert!(n > 0, "connection closed");
        self.raw.extend_from_slice(&buf[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---- the binary ----

/// `berth --port 0 ROOT ARGS`: the child and its address.
fn binary(root: &Path, args: &[&str]) -> (Child, SocketAddr) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(["--port", "0", "--quiet"])
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BERTH_") {
            cmd.env_remove(name);
        }
    }
    let mut child = cmd.spawn().expect("spawn berth");
    let mut stdout = child.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line).to_string();
    let addr = line
        .rsplit_once(" on http://")
        .and_then(|(_, a)| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected startup line {line:?}"));
    (child, addr)
}

fn binary_get(addr: SocketAddr, path: &str, headers: &str) -> Resp {
    Client::connect(addr).request(request("GET", path, headers))
}

#[test]
fn the_binary_compresses_by_default_and_serves_sidecars() {
    let site = Site::new();
    let root = site.root();
    set_mtime(
        &root.join("app.js"),
        SystemTime::now() - Duration::from_secs(600),
    );
    std::fs::write(
        root.join("app.js.gz"),
        compress_slice(b"sidecar", Coding::Gzip, 9).unwrap(),
    )
    .unwrap();

    let (mut child, addr) = binary(&root, &[]);
    let r = binary_get(addr, "/page.html", "Accept-Encoding: gzip\r\n");
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(decode("gzip", &r.body), page());
    let r = binary_get(addr, "/app.js", "Accept-Encoding: gzip\r\n");
    assert_eq!(decode("gzip", &r.body), b"sidecar");
    let _ = child.kill();
    let _ = child.wait();

    let (mut child, addr) = binary(&root, &["--no-compress", "--no-precompressed"]);
    for path in ["/page.html", "/app.js"] {
        let r = binary_get(addr, path, "Accept-Encoding: gzip\r\n");
        assert_eq!(r.header("content-encoding"), None, "{path}");
        assert_eq!(r.body, page());
    }
    let _ = child.kill();
    let _ = child.wait();

    // --no-compress keeps sidecars; a level changes the output.
    let (mut child, addr) = binary(&root, &["--no-compress"]);
    let r = binary_get(addr, "/app.js", "Accept-Encoding: gzip\r\n");
    assert_eq!(decode("gzip", &r.body), b"sidecar");
    let r = binary_get(addr, "/page.html", "Accept-Encoding: gzip\r\n");
    assert_eq!(r.header("content-encoding"), None);
    let _ = child.kill();
    let _ = child.wait();

    let sizes: Vec<usize> = ["1", "9"]
        .into_iter()
        .map(|level| {
            let (mut child, addr) = binary(&root, &["--compress-level", level]);
            let r = binary_get(addr, "/page.html", "Accept-Encoding: br\r\n");
            assert_eq!(decode("br", &r.body), page());
            let _ = child.kill();
            let _ = child.wait();
            r.body.len()
        })
        .collect();
    assert!(sizes[1] < sizes[0], "{sizes:?}");
}
