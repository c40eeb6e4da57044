//! Shared helpers for the integration tests: a berth server on a background
//! thread with a temporary ROOT, and a raw blocking HTTP/1.1 client that
//! reads exactly one response at a time (so pipelined responses can be read
//! one after another).
//!
//! Every socket has a read and write timeout, so a test that waits for
//! something that never comes fails instead of hanging. Nothing here sleeps
//! to synchronize.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use berth::{Body, Handler, Request, Response, ServeDir, Server, ServerConfig};
use tempfile::TempDir;

/// How long any single socket read or write may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Contents of the files in every test ROOT.
pub const INDEX_HTML: &str = "<h1>home</h1>\n";
pub const HELLO_TXT: &str = "hello, world\n";
pub const SUB_INDEX_HTML: &str = "<h1>sub</h1>\n";
pub const SECRET: &str = "top secret\n";
/// A file next to ROOT (not beneath it): its content must never be served.
pub const OUTSIDE: &str = "OUTSIDE-THE-ROOT\n";
/// Size of `big.bin`.
pub const BIG_LEN: usize = 1024 * 1024;

/// The known content of `big.bin`: not periodic at any power of two, so a
/// dropped or repeated block changes it.
pub fn big_content() -> Vec<u8> {
    (0..BIG_LEN)
        .map(|i| (i % 251) as u8 ^ (i / 4093) as u8)
        .collect()
}

/// A running server. Dropping it triggers shutdown without waiting.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The served directory (`<tmp>/root`); `<tmp>/outside.txt` lies next to it.
    pub root: PathBuf,
    tmp: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: mpsc::Receiver<Result<(), String>>,
    thread: Option<JoinHandle<()>>,
}

/// A server with default configuration serving ROOT with `ServeDir`.
pub fn start() -> TestServer {
    start_serve_dir(ServerConfig::default())
}

/// A server with `config` serving ROOT with `ServeDir`.
pub fn start_serve_dir(config: ServerConfig) -> TestServer {
    spawn(config, |root| ServeDir::new(root))
}

/// A server with `config` serving ROOT with a `ServeDir` configured by `f`.
pub fn start_serve_dir_with(
    config: ServerConfig,
    f: impl FnOnce(ServeDir) -> ServeDir,
) -> TestServer {
    spawn(config, |root| f(ServeDir::new(root)))
}

/// With `BERTH_TEST_PORTABLE=1` in the environment, makes this test
/// process take berth's portable paths instead of the Linux fast paths
/// (see `berth::platform`), so that a whole test file can be run again on
/// them: `BERTH_TEST_PORTABLE=1 cargo test --test static_files`. Every
/// server started here calls it; call it before building a `ServeDir` by
/// hand.
pub fn portable_from_env() {
    if std::env::var_os("BERTH_TEST_PORTABLE").is_some_and(|v| v == "1") {
        berth::platform::force_portable(true);
    }
}

/// A server with `config` answering with `handler` (ROOT is still created).
pub fn start_with<H: Handler>(config: ServerConfig, handler: H) -> TestServer {
    spawn(config, move |_| handler)
}

/// A server with `config` answering with what `make` builds for ROOT.
pub fn start_app<H: Handler>(config: ServerConfig, make: impl FnOnce(&Path) -> H) -> TestServer {
    spawn(config, make)
}

fn spawn<H: Handler>(config: ServerConfig, make: impl FnOnce(&Path) -> H) -> TestServer {
    portable_from_env();
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    fill_root(&root);
    std::fs::write(tmp.path().join("outside.txt"), OUTSIDE).expect("write outside.txt");
    let handler = make(&root);

    let server = Server::try_bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .config(config);
    let addr = server.local_addrs()[0];
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    let server = server.with_graceful_shutdown(async move {
        // A dropped sender also means "stop".
        let _ = stop_rx.await;
    });
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let result = runtime.block_on(server.serve(handler));
        let _ = done_tx.send(result.map_err(|e| e.to_string()));
    });
    TestServer {
        addr,
        root,
        tmp,
        stop: Some(stop_tx),
        done: done_rx,
        thread: Some(thread),
    }
}

fn fill_root(root: &Path) {
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("index.html"), INDEX_HTML).unwrap();
    std::fs::write(root.join("hello.txt"), HELLO_TXT).unwrap();
    std::fs::write(root.join("big.bin"), big_content()).unwrap();
    std::fs::write(root.join("sub/index.html"), SUB_INDEX_HTML).unwrap();
    std::fs::write(root.join(".secret"), SECRET).unwrap();
}

impl TestServer {
    /// The temporary directory holding `root/` and `outside.txt`.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// A new client connection.
    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Triggers graceful shutdown (returns at once).
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Waits up to `limit` for `serve()` to return; true when it did (and
    /// returned `Ok`).
    pub fn wait_stopped(&mut self, limit: Duration) -> bool {
        match self.done.recv_timeout(limit) {
            Ok(result) => {
                result.expect("serve() returned an error");
                if let Some(t) = self.thread.take() {
                    t.join().expect("server thread panicked");
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Graceful shutdown; panics unless `serve()` returns within 5 s.
    pub fn shutdown(mut self) {
        self.trigger_shutdown();
        assert!(
            self.wait_stopped(Duration::from_secs(5)),
            "serve() did not return within 5 s of the shutdown signal"
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.trigger_shutdown();
    }
}

/// A request for `path` on `Host: x` with nothing else.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

/// One parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    /// `HTTP/1.1`
    pub version: String,
    pub status: u16,
    pub reason: String,
    /// In order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
}

/// How a response body was delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// 1xx, 204, 304 or a response to HEAD.
    NoBody,
    Length(usize),
    Chunked,
    /// Read until the server closed.
    Close,
}

impl Resp {
    /// The only value of header `name` (case-insensitive); panics if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let all = self.header_all(name);
        assert!(all.len() <= 1, "header {name} repeated: {all:?}");
        all.first().copied()
    }

    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("body is not UTF-8")
    }

    /// True when the response carries `Connection: close`.
    pub fn says_close(&self) -> bool {
        self.header_all("connection")
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    }

    /// Asserts the shape every error response has: the status, a short
    /// body whose length matches Content-Length, and `Connection: close`.
    pub fn assert_error(&self, status: u16) {
        assert_eq!(self.status, status, "unexpected status: {self:?}");
        assert!(self.says_close(), "no Connection: close: {self:?}");
        let len: usize = self
            .header("content-length")
            .expect("error response without Content-Length")
            .parse()
            .unwrap();
        assert_eq!(len, self.body.len());
        assert!(!self.body.is_empty() && self.body.len() < 100, "{self:?}");
        assert!(
            self.body_str().starts_with(&status.to_string()),
            "body does not name the status: {:?}",
            self.body_str()
        );
    }
}

/// curl, if this machine has it (tests that need it skip otherwise).
pub fn curl() -> Option<&'static str> {
    let path = "/usr/bin/curl";
    if Path::new(path).exists() {
        Some(path)
    } else {
        eprintln!("skipped: no {path}");
        None
    }
}

/// Runs curl with `args`: its stdout (panics unless it succeeds).
pub fn run_curl(curl: &str, args: &[&str]) -> String {
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

/// Elapsed time of `f`, with its result.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// One part of a `multipart/byteranges` body: header fields (names in
/// lowercase) and bytes.
pub type Part = (Vec<(String, String)>, Vec<u8>);

/// Splits a `multipart/byteranges` body into its parts.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let open = format!("--{boundary}\r\n");
    let delimiter = format!("\r\n--{boundary}");
    assert!(body.starts_with(open.as_bytes()), "no opening delimiter");
    let mut rest = &body[open.len() - 2..];
    let mut parts = Vec::new();
    loop {
        // After a delimiter: CRLF and a part, or `--` CRLF and the end.
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

// ---- handlers shared by several topic files ----

/// Echoes the request body (read with `collect`), with the method and
/// target in `x-method` / `x-target`. A body error maps to a status:
/// too large 413, timeout 408, anything else 400.
pub async fn echo(req: Request) -> Response {
    let method = req.method().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let status = match req.into_body().collect(4 * 1024 * 1024).await {
        Ok(body) => {
            let mut res = Response::new(Body::full(body));
            let h = res.headers_mut();
            h.insert("x-method", method.parse().unwrap());
            h.insert("x-target", target.parse().unwrap());
            return res;
        }
        Err(e) if e.is_too_large() => 413,
        Err(e) if e.is_timeout() => 408,
        Err(_) => 400,
    };
    berth::response::status(http::StatusCode::from_u16(status).unwrap())
}

/// Answers with the request target as the body, never reading the request
/// body.
pub async fn target_only(req: Request) -> Response {
    berth::response::text(req.uri().to_string())
}

/// The real `berth` binary with `args` in `cwd`, with `env` and no inherited
/// `BERTH_*` variable; stdin closed, stdout and stderr piped.
#[cfg(feature = "cli")]
pub fn berth_command(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> std::process::Command {
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BERTH_") {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().copied());
    cmd
}

// ---- servers built by the test, any-stream clients, TLS, the binary ----
//
// Added for tests/tls.rs, tests/listeners.rs and tests/operations.rs.

/// A `Server` the test built itself (TLS, PROXY protocol, Unix sockets...)
/// serving on a background runtime. Dropping it triggers shutdown without
/// waiting.
pub struct Background {
    /// The TCP addresses listened on (none for a Unix-only server).
    pub addrs: Vec<SocketAddr>,
    handle: berth::ShutdownHandle,
    done: mpsc::Receiver<Result<(), String>>,
    thread: Option<JoinHandle<()>>,
}

/// Serves `server` with `handler` on a 2-worker runtime on its own thread.
pub fn serve_in_background<H: Handler>(server: Server, handler: H) -> Background {
    let addrs = server.local_addrs();
    let handle = server.shutdown_handle();
    let (done_tx, done_rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let result = runtime.block_on(server.serve(handler));
        let _ = done_tx.send(result.map_err(|e| e.to_string()));
    });
    Background {
        addrs,
        handle,
        done: done_rx,
        thread: Some(thread),
    }
}

impl Background {
    /// The first TCP address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Graceful shutdown; panics unless `serve()` returns `Ok` within 5 s.
    pub fn shutdown(mut self) {
        self.handle.shutdown();
        let result = self
            .done
            .recv_timeout(Duration::from_secs(5))
            .expect("serve() did not return within 5 s of the shutdown signal");
        result.expect("serve() returned an error");
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread panicked");
        }
    }

    /// Triggers graceful shutdown and waits up to `limit` for `serve()` to
    /// return `Ok`: how long it took, or `None` if it was still running.
    pub fn shutdown_timed(mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        self.handle.shutdown();
        let result = self.done.recv_timeout(limit).ok()?;
        let took = start.elapsed();
        result.expect("serve() returned an error");
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread panicked");
        }
        Some(took)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// A raw blocking HTTP/1.1 client on one connection over any byte stream
/// (TCP by default, a Unix socket, TLS), reading exactly one response at a
/// time. The stream's read and write timeouts must be set by whoever made
/// it (the constructors here do).
pub struct Client<S = TcpStream> {
    pub stream: S,
    /// Received bytes not yet consumed by a parsed response.
    buf: Vec<u8>,
}

/// A blocking TLS client stream (rustls over a TCP socket with timeouts).
#[cfg(feature = "tls")]
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

impl Client<TcpStream> {
    /// A plain TCP connection with the usual timeouts.
    pub fn connect(addr: SocketAddr) -> Self {
        Client::new(tcp_with_timeouts(addr))
    }

    /// True when the server closes the connection within `limit` with no
    /// further bytes; false when it stays open that long. Panics if bytes
    /// arrive instead.
    pub fn is_closed_within(&mut self, limit: Duration) -> bool {
        self.stream.set_read_timeout(Some(limit)).unwrap();
        let closed = self.is_closed();
        self.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        closed
    }

    /// Sends FIN (the client is done sending).
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

impl Client<std::os::unix::net::UnixStream> {
    /// A Unix domain socket connection with the usual timeouts.
    pub fn unix(path: &Path) -> Self {
        let stream = std::os::unix::net::UnixStream::connect(path).expect("connect unix");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client::new(stream)
    }
}

#[cfg(feature = "tls")]
impl Client<TlsStream> {
    /// The TLS connection underneath (negotiated version, ALPN, peer
    /// certificates).
    pub fn tls(&self) -> &rustls::ClientConnection {
        &self.stream.conn
    }

    /// The DER of the certificate the server presented.
    pub fn peer_cert(&self) -> Vec<u8> {
        self.stream
            .conn
            .peer_certificates()
            .and_then(|c| c.first())
            .expect("no peer certificate")
            .to_vec()
    }
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S) -> Self {
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes all of `bytes` and flushes (panics on failure).
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("send");
        self.stream.flush().expect("flush");
    }

    /// Writes `bytes`, ignoring failures (the server may already be gone).
    pub fn try_send(&mut self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        self.stream.write_all(bytes.as_ref())?;
        self.stream.flush()
    }

    /// Sends `request` and reads its response.
    pub fn request(&mut self, request: impl AsRef<[u8]>) -> Resp {
        self.send(request);
        self.read_response()
    }

    pub fn read_response(&mut self) -> Resp {
        self.try_read_response(false)
            .unwrap_or_else(|e| panic!("reading a response: {e}"))
    }

    pub fn read_head_response(&mut self) -> Resp {
        self.try_read_response(true)
            .unwrap_or_else(|e| panic!("reading a HEAD response: {e}"))
    }

    /// Reads one response; `Err` on timeout, EOF or a malformed response.
    pub fn try_read_response(&mut self, to_head: bool) -> io::Result<Resp> {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            self.fill()?;
        };
        let head = String::from_utf8(self.buf[..end].to_vec()).map_err(invalid)?;
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line {status_line:?}")))?;
        let reason = parts.next().unwrap_or("").to_string();
        if !version.starts_with("HTTP/1.") {
            return Err(invalid(format!("bad status line {status_line:?}")));
        }
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let mut resp = Resp {
            version,
            status,
            reason,
            headers,
            body: Vec::new(),
            framing: Framing::NoBody,
        };
        if to_head || (100..200).contains(&status) || status == 204 || status == 304 {
            return Ok(resp);
        }
        let chunked = resp
            .header_all("transfer-encoding")
            .iter()
            .any(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            resp.framing = Framing::Chunked;
            let mut body = Vec::new();
            loop {
                let line = self.take_line()?;
                let size = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| invalid(format!("bad chunk size line {line:?}")))?;
                if size == 0 {
                    while !self.take_line()?.is_empty() {}
                    break;
                }
                body.extend(self.take(size)?);
                if !self.take_line()?.is_empty() {
                    return Err(invalid("chunk data not followed by CRLF"));
                }
            }
            resp.body = body;
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().map_err(invalid)?;
            resp.framing = Framing::Length(len);
            resp.body = self.take(len)?;
        } else {
            resp.framing = Framing::Close;
            let (body, closed) = self.read_until_close();
            if !closed {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "close-delimited body did not end",
                ));
            }
            resp.body = body;
        }
        Ok(resp)
    }

    fn take_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line = String::from_utf8(self.buf[..i].to_vec()).map_err(invalid)?;
                self.buf.drain(..i + 2);
                return Ok(line);
            }
            self.fill()?;
        }
    }

    /// The next `n` raw bytes after what was parsed (the bytes of another
    /// protocol after a `101`).
    pub fn read_bytes(&mut self, n: usize) -> Vec<u8> {
        self.take(n).expect("read raw bytes")
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            self.fill()?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "connection closed with {} unparsed bytes: {:?}",
                    self.buf.len(),
                    String::from_utf8_lossy(&self.buf)
                ),
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Everything received until the peer closes, and whether it did
    /// (a reset, or a TLS stream cut without close_notify, counts as a
    /// close); `false` when the stream's read timeout expired first.
    pub fn read_until_close(&mut self) -> (Vec<u8>, bool) {
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if is_close(&e) => return (out, true),
                Err(e) if is_timeout(&e) => return (out, false),
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }

    /// Everything the server sends until it closes (a reset counts as a
    /// close). Panics if the connection is still open after the stream's
    /// read timeout.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let (out, closed) = self.read_until_close();
        assert!(
            closed,
            "connection not closed; received so far: {:?}",
            String::from_utf8_lossy(&out)
        );
        out
    }

    /// True when the peer closes with nothing more sent (the stream's read
    /// timeout bounds the wait); panics if bytes arrive.
    pub fn is_closed(&mut self) -> bool {
        let (bytes, closed) = self.read_until_close();
        assert!(
            bytes.is_empty(),
            "expected a close, got bytes: {:?}",
            String::from_utf8_lossy(&bytes)
        );
        closed
    }
}

fn is_close(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A TCP connection with `IO_TIMEOUT` on reads and writes.
pub fn tcp_with_timeouts(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Reads from `stream` until the peer closes or `limit` passes: the bytes,
/// and the time the close came after (`None`: still open at `limit`).
pub fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return (out, None);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => return (out, Some(start.elapsed())),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if is_close(&e) => return (out, Some(start.elapsed())),
            Err(e) if is_timeout(&e) => return (out, None),
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// A certificate for the test server, with its key, signed by a CA made
/// for it alone (so two calls give certificates no root store mixes up).
#[cfg(feature = "self-signed")]
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
    /// The issuing CA's certificate, to trust.
    pub ca_der: Vec<u8>,
    pub ca_pem: String,
}

/// A fresh CA and a leaf certificate it signs for `localhost`, `127.0.0.1`
/// and `::1` (CA common name `ca_name`).
#[cfg(feature = "self-signed")]
pub fn ca_signed_cert(ca_name: &str) -> TestCert {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut leaf_params = CertificateParams::new(names).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    TestCert {
        cert_pem: leaf.pem(),
        key_pem: leaf_key.serialize_pem(),
        cert_der: leaf.der().to_vec(),
        ca_der: ca.der().to_vec(),
        ca_pem: ca.pem(),
    }
}

#[cfg(feature = "self-signed")]
impl TestCert {
    /// Writes `cert.pem` and `key.pem` into `dir` (replacing them); returns
    /// their paths.
    pub fn write_to(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &self.cert_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        (cert, key)
    }
}

/// The ring provider, as the tests build every rustls config with it.
#[cfg(feature = "tls")]
pub fn ring_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration trusting the CAs in `roots` (DER), speaking only
/// `versions`, offering `alpn` (none when empty), never resuming sessions.
#[cfg(feature = "tls")]
pub fn tls_client_config(
    roots: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> std::sync::Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for der in roots {
        store
            .add(rustls_pki_types::CertificateDer::from(der.to_vec()))
            .expect("add root");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(ring_provider())
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Every connection a full handshake: a resumed session shows the
    // certificate of the session it resumes, not the one served now.
    config.resumption = rustls::client::Resumption::disabled();
    std::sync::Arc::new(config)
}

/// Accepts any server certificate (the handshake signature is still
/// checked): for self-signed certificates identified by fingerprint.
#[derive(Debug)]
#[cfg(feature = "tls")]
struct AnyServerCert(std::sync::Arc<rustls::crypto::CryptoProvider>);

#[cfg(feature = "tls")]
impl rustls::client::danger::ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client configuration that accepts whatever certificate the server
/// presents (TLS 1.2 and 1.3, ALPN `http/1.1`).
#[cfg(feature = "tls")]
pub fn tls_client_config_any_cert() -> std::sync::Arc<rustls::ClientConfig> {
    let provider = ring_provider();
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(AnyServerCert(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    std::sync::Arc::new(config)
}

/// Completes a TLS handshake with `localhost` as the server name over
/// `tcp` (which may already carry bytes, e.g. a PROXY header).
#[cfg(feature = "tls")]
pub fn tls_handshake(
    tcp: TcpStream,
    config: std::sync::Arc<rustls::ClientConfig>,
) -> io::Result<Client<TlsStream>> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(Client::new(stream))
}

/// Connects to `addr` and completes a TLS handshake (see [`tls_handshake`]).
#[cfg(feature = "tls")]
pub fn tls_connect(
    addr: SocketAddr,
    config: std::sync::Arc<rustls::ClientConfig>,
) -> io::Result<Client<TlsStream>> {
    tls_handshake(tcp_with_timeouts(addr), config)
}

/// The rustls error inside an I/O error from a handshake, if any.
#[cfg(feature = "tls")]
pub fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref())
}

/// SHA-256 of `der` as colon-separated upper-case hex (`AB:01:...`).
#[cfg(feature = "tls")]
pub fn sha256_fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// Whether this host can listen and connect on IPv6 loopback.
pub fn ipv6_loopback_available() -> bool {
    match std::net::TcpListener::bind("[::1]:0") {
        Ok(l) => l
            .local_addr()
            .is_ok_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok()),
        Err(_) => false,
    }
}

/// The `berth` binary running, its stdout and stderr read line by line on
/// background threads. Dropping it kills the process if it still runs.
#[cfg(feature = "cli")]
pub struct Berth {
    pub child: std::process::Child,
    /// Every stdout line read so far, in order.
    pub stdout_seen: Vec<String>,
    /// Every stderr line read so far, in order.
    pub stderr_seen: Vec<String>,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// Where the startup line says berth serves (scheme stripped; the
    /// first TCP address).
    pub addr: SocketAddr,
    /// Every `scheme://addr` or `unix:path` place from the startup lines
    /// seen so far.
    pub places: Vec<String>,
}

#[cfg(feature = "cli")]
fn lines_to_channel(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Starts `berth ARGS` in `cwd` with `env` and waits (at most 10 s) for its
/// startup line; panics with its stderr if it exits or says nothing.
#[cfg(feature = "cli")]
pub fn spawn_berth(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Berth {
    let mut child = berth_command(args, env, cwd).spawn().expect("spawn berth");
    let stdout = lines_to_channel(child.stdout.take().unwrap());
    let stderr = lines_to_channel(child.stderr.take().unwrap());
    let mut berth = Berth {
        child,
        stdout_seen: Vec::new(),
        stderr_seen: Vec::new(),
        stdout,
        stderr,
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        places: Vec::new(),
    };
    let Some(line) = berth.wait_stdout(Duration::from_secs(10), |l| {
        l.starts_with("berth: serving ")
    }) else {
        let _ = berth.child.kill();
        let _ = berth.child.wait();
        berth.drain_stderr(Duration::from_secs(2));
        panic!(
            "no startup line from berth {args:?}; stdout {:?}, stderr {:?}",
            berth.stdout_seen, berth.stderr_seen
        );
    };
    let place = line
        .rsplit_once(" on ")
        .map(|(_, p)| p.to_string())
        .unwrap();
    berth.addr = place_addr(&place)
        .unwrap_or_else(|| panic!("startup line without a TCP address: {line:?}"));
    berth.places.push(place);
    berth
}

/// `http://ADDR` / `https://ADDR` → ADDR.
#[cfg(feature = "cli")]
pub fn place_addr(place: &str) -> Option<SocketAddr> {
    place
        .strip_prefix("https://")
        .or_else(|| place.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
}

#[cfg(feature = "cli")]
impl Berth {
    /// Reads stdout lines until one satisfies `pred` (returned) or `limit`
    /// passes (`None`). Lines passed over stay in `stdout_seen`.
    pub fn wait_stdout(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.stdout.recv_timeout(left).ok()?;
            if let Some(place) = line.strip_prefix("berth: also on ") {
                self.places.push(place.to_string());
            }
            self.stdout_seen.push(line.clone());
            if pred(&line) {
                return Some(line);
            }
        }
    }

    /// Reads stderr lines until one satisfies `pred` or `limit` passes.
    pub fn wait_stderr(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.stderr.recv_timeout(left).ok()?;
            self.stderr_seen.push(line.clone());
            if pred(&line) {
                return Some(line);
            }
        }
    }

    /// Reads the stderr lines that arrive within `limit` (until EOF).
    pub fn drain_stderr(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while let Ok(line) = self
            .stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.stderr_seen.push(line);
        }
    }

    /// Reads the stdout lines that arrive within `limit` (until EOF).
    pub fn drain_stdout(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while let Ok(line) = self
            .stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.stdout_seen.push(line);
        }
    }

    /// Sends `signal` (`"-TERM"`, `"-HUP"`) with kill(1); the process must
    /// still be running.
    pub fn signal(&mut self, signal: &str) {
        assert!(
            self.child.try_wait().expect("try_wait").is_none(),
            "berth exited before {signal}"
        );
        let status = std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits up to `limit` for the process to exit (bounded polling).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then the exit status (within 5 s) with stderr drained.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        let status = self
            .wait_exit(Duration::from_secs(5))
            .expect("berth did not exit within 5 s of SIGTERM");
        self.drain_stderr(Duration::from_secs(2));
        status
    }
}

#[cfg(feature = "cli")]
impl Drop for Berth {
    fn drop(&mut self) {
        // `Child::kill` never signals a process already reaped.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `berth ARGS`, expecting it to exit within 10 s (killed otherwise):
/// the exit code and stderr.
#[cfg(feature = "cli")]
pub fn run_berth_to_exit(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> (Option<i32>, String) {
    let mut child = berth_command(args, env, cwd).spawn().expect("spawn berth");
    let stderr = lines_to_channel(child.stderr.take().unwrap());
    let _stdout = lines_to_channel(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("berth {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut text = String::new();
    while let Ok(line) = stderr.recv_timeout(Duration::from_secs(2)) {
        text.push_str(&line);
        text.push('\n');
    }
    (status.code(), text)
}

/// A temporary directory holding `root/` filled as for [`start`]
/// (`index.html`, `hello.txt`, `big.bin`, `sub/index.html`, `.secret`):
/// the directory (keep it alive) and the root's path.
pub fn temp_root() -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    fill_root(&root);
    (tmp, root)
}
