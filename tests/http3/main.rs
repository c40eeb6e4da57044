//! HTTP/3 end to end, over real UDP sockets on loopback, with the `h3`
//! crate's client on quinn: what berth does over HTTP/1.1 and HTTP/2
//! works the same over HTTP/3, through the same `Handler`.
//!
//! - files (`ServeDir`): bodies, types, ranges, conditional requests,
//!   HEAD, a 100 MiB download intact; compression with `Compress`
//!   (`files`);
//! - request bodies streamed to the handler, and the body limit; streamed
//!   responses (SSE), many streams at once on one connection, a panicking
//!   handler, the response head, the request as the handler sees it
//!   (`exchanges`);
//! - graceful shutdown (GOAWAY; the stream in flight finishes), the idle
//!   timeout, the access log and metrics (`lifecycle`);
//! - bad input (garbage datagrams, malformed frames), Retry past the
//!   handshake threshold, the connection cap shared with TCP, `Alt-Svc`
//!   on TCP responses, certificate reload (`edges`).
//!
//! One test binary, a module per topic; this file holds what they share.

#[cfg(feature = "compress")]
#[path = "../support/decode.rs"]
#[allow(dead_code)]
mod decode;
#[path = "../support/h2client.rs"]
mod h2client;
#[path = "../support/h3client.rs"]
mod h3client;
#[path = "../support/mod.rs"]
mod support;

mod edges;
mod exchanges;
mod files;
mod lifecycle;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use berth::http::{Method, StatusCode};
use berth::{
    Handler, PeerAddr, Request, Response, Router, ServeDir, Server, ServerConfig, TlsConfig,
};
use bytes::Bytes;
use h3client::{H3, LIMIT, within};
use support::{Background, TestCert, ca_signed_cert, serve_in_background, temp_root};

/// A TLS server on 127.0.0.1 with HTTP/3 on, over a fresh test ROOT
/// (`index.html`, `hello.txt`, `big.bin`, `sub/index.html`, `.secret`).
struct Site {
    server: Option<Background>,
    addr: SocketAddr,
    root: PathBuf,
    cert: TestCert,
    _tmp: tempfile::TempDir,
}

impl Site {
    /// Serves the handler `make` builds for ROOT, with `config` and
    /// HTTP/3 on.
    fn start<H: Handler>(config: ServerConfig, make: impl FnOnce(&Path) -> H) -> Site {
        Site::start_with(config, true, make)
    }

    /// As [`start`](Self::start), HTTP/3 on or off.
    fn start_with<H: Handler>(
        config: ServerConfig,
        http3: bool,
        make: impl FnOnce(&Path) -> H,
    ) -> Site {
        let (tmp, root) = temp_root();
        let cert = ca_signed_cert("berth h3 test CA");
        let (cert_path, key_path) = cert.write_to(tmp.path());
        let tls = TlsConfig::from_pem_files(&cert_path, &key_path).expect("load PEM files");
        let server = Server::try_bind("127.0.0.1:0")
            .expect("bind")
            .tls(tls)
            .config(config)
            .http3(http3);
        let server = serve_in_background(server, make(&root));
        Site {
            addr: server.addr(),
            server: Some(server),
            root,
            cert,
            _tmp: tmp,
        }
    }

    /// A new HTTP/3 connection (UDP, the TLS port).
    async fn connect(&self) -> H3 {
        H3::connect(self.addr, &self.cert.ca_der).await
    }

    /// Triggers graceful shutdown; the task ends with how long `serve()`
    /// took to return (`None`: still running after [`LIMIT`]).
    fn stop(&mut self) -> tokio::task::JoinHandle<Option<std::time::Duration>> {
        let server = self.server.take().expect("already stopped");
        tokio::task::spawn_blocking(move || server.shutdown_timed(LIMIT))
    }
}

/// Handlers every test app has, then ServeDir for the rest:
/// - `POST /echo`: the body back (`support::echo`; 413 on too large);
/// - `GET /whoami/{*rest}`: the request as the handler sees it;
/// - `GET /hop`: a response setting connection-specific fields;
/// - `GET /panic`: panics.
fn app(root: &Path) -> Router {
    Router::new()
        .post("/echo", support::echo)
        .get("/whoami/{*rest}", whoami)
        .get("/hop", hop_by_hop)
        .get("/panic", panics)
        .fallback(ServeDir::new(root))
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
    h.insert("x-kept", "yes".parse().unwrap());
    res
}

async fn panics(_req: Request) -> Response {
    panic!("this handler panics on purpose")
}

fn big_limits() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 8 * 1024 * 1024,
        ..ServerConfig::default()
    }
}

/// A quick request on a new connection: the server still answers.
async fn still_serves(site: &Site) {
    let mut c = site.connect().await;
    let r = c.get("/hello.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, support::HELLO_TXT.as_bytes());
    c.close().await;
}
