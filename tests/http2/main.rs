//! HTTP/2 end to end: what berth does over HTTP/1.1 works the same over
//! HTTP/2, through the same `Handler`, over h2c (cleartext, prior
//! knowledge) and over TLS (ALPN `h2`).
//!
//! - files (`ServeDir`): bodies, lengths, types, validators, conditional
//!   requests, ranges, HEAD, redirects, listings, sidecars, 404 (`files`);
//! - compression with `Compress` (`compression`);
//! - request bodies streamed to the handler, and the body limit
//!   (`bodies`);
//! - streamed responses (`Body::channel`), each chunk sent as produced;
//!   a panicking handler, many streams at once, the response head
//!   (no connection-specific field; `date`, `server`), the request as the
//!   handler sees it (origin form, `Host`, `PeerAddr`) (`streams`);
//! - the access log and metrics, one record per stream (`observe`);
//! - graceful shutdown (GOAWAY; the stream in flight finishes), the idle
//!   timeout, the shutdown grace period (`shutdown`);
//! - the h2c switch on a cleartext listener and ALPN on TLS; curl as a
//!   second client (`detect`);
//! - conformance cases berth once failed, over raw frames
//!   (`conformance`);
//! - large downloads at once under flow control (`flow`).
//!
//! One test binary, a module per topic (each test binary links the whole
//! crate); this file holds what they share: `Site`, `Via`, `app`, the
//! gate, and small helpers.
//!
//! The client is the `h2` crate's (`support/h2client.rs`); where a test
//! needs frames the `h2` client will not send, `support/h2wire.rs`.
//!
//! A test marked `#[ignore = "berth bug: ..."]` asserts the right
//! behaviour where the server's is wrong: run them with `--ignored`.
//! Most tests run over both transports (`BOTH`) where the path through the
//! server differs (TLS stream, its own buffering); the rest over h2c.

#[cfg(feature = "compress")]
#[path = "../support/decode.rs"]
mod decode;
#[path = "../support/mod.rs"]
mod support;

#[path = "../support/h2client.rs"]
mod h2client;
#[path = "../support/h2wire.rs"]
mod h2wire;

mod bodies;
#[cfg(feature = "compress")]
mod compression;
mod conformance;
mod detect;
mod files;
mod flow;
mod observe;
mod shutdown;
mod streams;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth::http::{Method, StatusCode, Version};
use berth::{
    AccessLog, Body, Handler, PeerAddr, Request, Response, Router, ServeDir, Server, ServerConfig,
};
use bytes::Bytes;
use h2client::{H2, H2Response, LIMIT, read_response, within};
use support::{
    BIG_LEN, Background, Client, HELLO_TXT, INDEX_HTML, OUTSIDE, SECRET, SUB_INDEX_HTML,
    big_content, curl, get, run_curl, serve_in_background, temp_root,
};
#[cfg(feature = "compress")]
use {
    berth::Compress,
    berth::compress::{Coding, compress_slice},
    decode::{decode, decode_prefix},
    h2client::next_chunk,
};
// TLS needs the test certificates, which rcgen makes (`self-signed`);
// without it every test runs over h2c alone.
use tokio::sync::{mpsc, watch};
#[cfg(feature = "self-signed")]
use {
    berth::TlsConfig,
    rustls::version::{TLS12, TLS13},
    support::{TestCert, ca_signed_cert, tls_client_config, tls_connect},
};

/// How the client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// Cleartext, the connection opening with the HTTP/2 preface.
    H2c,
    /// TLS with ALPN `h2`.
    #[cfg(feature = "self-signed")]
    Tls,
}

#[cfg(feature = "self-signed")]
const BOTH: [Via; 2] = [Via::H2c, Via::Tls];
#[cfg(not(feature = "self-signed"))]
const BOTH: [Via; 1] = [Via::H2c];

/// A server on 127.0.0.1 over a fresh test ROOT (`index.html`,
/// `hello.txt`, `big.bin`, `sub/index.html`, `.secret`), plain or TLS.
struct Site {
    via: Via,
    server: Option<Background>,
    addr: SocketAddr,
    root: PathBuf,
    #[cfg(feature = "self-signed")]
    cert: TestCert,
    _tmp: tempfile::TempDir,
}

impl Site {
    /// Serves the handler `make` builds for ROOT, with `config`.
    fn start<H: Handler>(via: Via, config: ServerConfig, make: impl FnOnce(&Path) -> H) -> Site {
        let (tmp, root) = temp_root();
        let server = Server::try_bind("127.0.0.1:0")
            .expect("bind")
            .config(config);
        #[cfg(feature = "self-signed")]
        let cert = ca_signed_cert("berth h2 test CA");
        #[cfg(feature = "self-signed")]
        let server = match via {
            Via::Tls => {
                let (cert_path, key_path) = cert.write_to(tmp.path());
                let tls = TlsConfig::from_pem_files(&cert_path, &key_path).expect("load PEM files");
                server.tls(tls)
            }
            Via::H2c => server,
        };
        let server = serve_in_background(server, make(&root));
        Site {
            via,
            addr: server.addr(),
            server: Some(server),
            root,
            #[cfg(feature = "self-signed")]
            cert,
            _tmp: tmp,
        }
    }

    /// A client configuration trusting this site's CA, offering `alpn`.
    #[cfg(feature = "self-signed")]
    fn tls_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        tls_client_config(&[&self.cert.ca_der], &[&TLS13, &TLS12], alpn)
    }

    /// A new HTTP/2 connection.
    async fn connect(&self) -> H2 {
        match self.via {
            Via::H2c => H2::h2c(self.addr).await,
            #[cfg(feature = "self-signed")]
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

// ---- helpers more than one module uses ----

fn set_mtime(path: &Path, time: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

fn big_limits() -> ServerConfig {
    ServerConfig {
        max_body_bytes: 8 * 1024 * 1024,
        ..ServerConfig::default()
    }
}

fn is_graceful_goaway(e: &h2::Error) -> bool {
    e.is_go_away() && e.is_remote() && e.reason() == Some(h2::Reason::NO_ERROR)
}
