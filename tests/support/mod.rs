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

/// A server with `config` answering with `handler` (ROOT is still created).
pub fn start_with<H: Handler>(config: ServerConfig, handler: H) -> TestServer {
    spawn(config, move |_| handler)
}

fn spawn<H: Handler>(config: ServerConfig, make: impl FnOnce(&Path) -> H) -> TestServer {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    fill_root(&root);
    std::fs::write(tmp.path().join("outside.txt"), OUTSIDE).expect("write outside.txt");
    let handler = make(&root);

    let server = Server::try_bind("127.0.0.1:0".parse().unwrap())
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

/// A raw blocking client on one connection.
pub struct Client {
    pub stream: TcpStream,
    /// Received bytes not yet consumed by a parsed response.
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes all of `bytes` (panics on failure).
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("send");
    }

    /// Writes `bytes`, ignoring failures (the server may already be gone).
    pub fn try_send(&mut self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        self.stream.write_all(bytes.as_ref())
    }

    /// Sends `request` and reads its response.
    pub fn request(&mut self, request: impl AsRef<[u8]>) -> Resp {
        self.send(request);
        self.read_response()
    }

    /// Reads one response to a non-HEAD request.
    pub fn read_response(&mut self) -> Resp {
        self.try_read_response(false)
            .unwrap_or_else(|e| panic!("reading a response: {e}"))
    }

    /// Reads one response to a HEAD request (no body, whatever the headers).
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
            resp.body = self.read_chunked()?;
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().map_err(invalid)?;
            resp.framing = Framing::Length(len);
            resp.body = self.take(len)?;
        } else {
            resp.framing = Framing::Close;
            resp.body = self.read_to_close();
        }
        Ok(resp)
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.take_line()?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| invalid(format!("bad chunk size line {line:?}")))?;
            if size == 0 {
                // Trailer section, up to an empty line.
                while !self.take_line()?.is_empty() {}
                return Ok(body);
            }
            body.extend(self.take(size)?);
            if !self.take_line()?.is_empty() {
                return Err(invalid("chunk data not followed by CRLF"));
            }
        }
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

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            self.fill()?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// One read into `buf`; EOF is an error here.
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

    /// Everything the server sends until it closes (a reset counts as a
    /// close). Panics if the connection is still open after `IO_TIMEOUT`.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return out,
                Err(e) => panic!(
                    "connection not closed ({e}); received so far: {:?}",
                    String::from_utf8_lossy(&out)
                ),
            }
        }
    }

    /// True when the server closes the connection within `limit` with no
    /// further bytes; false when it stays open that long. Panics if bytes
    /// arrive instead.
    pub fn is_closed_within(&mut self, limit: Duration) -> bool {
        assert!(
            self.buf.is_empty(),
            "unread bytes: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        self.stream.set_read_timeout(Some(limit)).unwrap();
        let mut chunk = [0u8; 1024];
        let result = self.stream.read(&mut chunk);
        self.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        match result {
            Ok(0) => true,
            Ok(n) => panic!(
                "expected a close, got bytes: {:?}",
                String::from_utf8_lossy(&chunk[..n])
            ),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => true,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                false
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }

    /// True when the server closes within `IO_TIMEOUT` with no more bytes.
    pub fn is_closed(&mut self) -> bool {
        self.is_closed_within(IO_TIMEOUT)
    }

    /// Sends FIN (the client is done sending).
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

/// Elapsed time of `f`, with its result.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
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
