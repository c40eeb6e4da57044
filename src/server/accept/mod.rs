//! The accept side: listening sockets of every kind, the accept loops, and
//! what happens on a new connection before HTTP starts (the PROXY protocol
//! header, the TLS handshake), each under a deadline.

use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::{TcpStream, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;

use super::config::ServerConfig;
use super::h1::park::{Held, Idle, Parker};
use super::h1::{Ended, Start, serve_connection};
use super::serve::Shutdown;
use super::tcp::Tcp;
use super::transport::Transport;
use crate::proto::proxy::{ProxyParse, parse_proxy_header};
use crate::{Error, Handler};

/// A listening socket berth can serve on: TCP (IPv4 or IPv6) or a Unix
/// domain socket. Built from std listeners (e.g. sockets passed by systemd).
#[derive(Debug)]
pub enum Listener {
    /// A TCP listener.
    Tcp(std::net::TcpListener),
    /// A Unix domain socket listener.
    Unix(std::os::unix::net::UnixListener),
}

impl From<std::net::TcpListener> for Listener {
    fn from(l: std::net::TcpListener) -> Self {
        Listener::Tcp(l)
    }
}

impl From<std::os::unix::net::UnixListener> for Listener {
    fn from(l: std::os::unix::net::UnixListener) -> Self {
        Listener::Unix(l)
    }
}

/// A listener plus the socket file to remove on a clean exit (for Unix
/// sockets berth created itself).
#[derive(Debug)]
pub(crate) struct Bound {
    pub(crate) listener: Listener,
    pub(crate) socket_file: Option<SocketFile>,
}

/// A Unix socket's path and identity, so that only the very file berth
/// created is removed, never a file someone put there since.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    /// Removes the socket file if it is still the one berth created.
    pub(crate) fn remove(&self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && meta.file_type().is_socket()
            && meta.dev() == self.dev
            && meta.ino() == self.ino
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds a Unix domain socket at `path`. A stale socket file (nobody
/// listening) is replaced; a live one, or any file that is not a socket,
/// is an error: berth never deletes what is not its own.
pub(crate) fn bind_unix(path: &Path) -> Result<Bound, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(Error::unix(
                    path,
                    io::Error::new(
                        io::ErrorKind::AddrInUse,
                        "another process is listening on it",
                    ),
                ));
            }
            std::fs::remove_file(path).map_err(|e| Error::unix(path, e))?;
        }
        Ok(_) => {
            return Err(Error::unix(
                path,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the path exists and is not a socket; not removing it",
                ),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::unix(path, e)),
    }
    let listener =
        std::os::unix::net::UnixListener::bind(path).map_err(|e| Error::unix(path, e))?;
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::unix(path, e))?;
    Ok(Bound {
        listener: Listener::Unix(listener),
        socket_file: Some(SocketFile {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        }),
    })
}

/// The TLS acceptor every listener of a server shares. Without the `tls`
/// feature, a type with no values: [`Shared::tls`] is then always `None`.
#[cfg(feature = "tls")]
pub(crate) type TlsAcceptor = tokio_rustls::TlsAcceptor;
#[cfg(not(feature = "tls"))]
pub(crate) enum TlsAcceptor {}

/// The server side of a TLS session over `S`. Without the `tls` feature no
/// session is ever made, and this is `S` itself, so that [`prelude`]'s
/// bounds read the same either way.
#[cfg(feature = "tls")]
type TlsOver<S> = tokio_rustls::server::TlsStream<S>;
#[cfg(not(feature = "tls"))]
type TlsOver<S> = S;

/// What every accept loop of one server shares.
pub(crate) struct Shared<H> {
    pub(crate) handler: Arc<H>,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) proxy_protocol: bool,
    pub(crate) permits: Arc<Semaphore>,
    /// Where idle plain-TCP connections wait without a task (when
    /// `config.park_idle_after` is set).
    pub(crate) parker: Option<Arc<Parker>>,
    /// With HTTP/3 on, the `Alt-Svc` value for each TLS listener's port
    /// (where a QUIC endpoint listens too); empty otherwise.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) alt_svc: Vec<(u16, http::HeaderValue)>,
}

/// Accepts on `listener` until `stop` fires; every connection holds a
/// permit (back-pressure at the connection cap).
pub(crate) async fn accept_loop<H: Handler>(
    listener: Listener,
    shared: Arc<Shared<H>>,
    stop: Shutdown,
) -> io::Result<()> {
    enum Accepting {
        /// Accepted sockets stay out of tokio's reactor until they must
        /// wait (see [`Tcp`]), so the listener is polled directly.
        Tcp(AsyncFd<std::net::TcpListener>),
        Unix(UnixListener),
    }
    let accepting = match listener {
        Listener::Tcp(l) => {
            l.set_nonblocking(true)?;
            // Deprecated for a `T` whose descriptor it does not own (an
            // I/O-safety hole); a std listener owns its descriptor, and the
            // `AsyncFd` owns the listener.
            #[allow(deprecated)]
            let listener = AsyncFd::with_interest(l, Interest::READABLE)?;
            Accepting::Tcp(listener)
        }
        Listener::Unix(l) => {
            l.set_nonblocking(true)?;
            Accepting::Unix(UnixListener::from_std(l)?)
        }
    };
    let mut arrivals = Arrivals::new(shared.config.accept_spin);
    // One stop future for the loop's life: a new one per wait would take
    // the signal's lock to register and unregister on every accept.
    let mut watching = stop.clone();
    let stopping = watching.stopped();
    tokio::pin!(stopping);
    loop {
        let permit = tokio::select! {
            biased;
            permit = shared.permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => return Ok(()),
            },
            _ = &mut stopping => return Ok(()),
        };
        let accepted = tokio::select! {
            biased;
            accepted = accept(&accepting, &mut arrivals) => accepted,
            _ = &mut stopping => return Ok(()),
        };
        match accepted {
            Ok(conn) => {
                let (shared, stop) = (shared.clone(), stop.clone());
                // Boxed: tokio copies a task's future into its cell and
                // writes the whole cell again when the task ends, so a
                // 3 KiB future inline cost about 3,400 instructions of
                // `memcpy` per connection; the box costs one allocation.
                tokio::spawn(Box::pin(start(conn, shared, stop, permit)));
            }
            Err(e) if is_resource_exhaustion(&e) => {
                // EMFILE/ENFILE/ENOBUFS/ENOMEM: accepting again at once would
                // spin; wait for connections to close.
                tracing::warn!("accept: {e}; pausing accepts for 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => tracing::debug!("accept: {e}"),
        }
    }

    async fn accept(accepting: &Accepting, arrivals: &mut Arrivals) -> io::Result<Accepted> {
        match accepting {
            Accepting::Tcp(l) => {
                let accepted = accept_tcp(l, arrivals).await;
                arrivals.accepted();
                accepted.map(|(s, peer)| Accepted::Tcp(s, peer))
            }
            Accepting::Unix(l) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
        }
    }
}

/// The next TCP connection (or accept error): tried at once for as long
/// as `arrivals` says to stay awake, then on readiness.
async fn accept_tcp(
    listener: &AsyncFd<std::net::TcpListener>,
    arrivals: &Arrivals,
) -> io::Result<(Tcp, SocketAddr)> {
    if let Some(until) = arrivals.spin_until() {
        loop {
            match super::tcp::accept(listener.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                accepted => return accepted,
            }
            if std::time::Instant::now() >= until {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    loop {
        let mut ready = listener.readable().await?;
        if let Ok(accepted) = ready.try_io(|l| super::tcp::accept(l.get_ref())) {
            return accepted;
        }
    }
}

/// When the accept loop stays awake after a connection instead of
/// sleeping until the next one.
///
/// Waking a sleeping thread costs the waker a cross-CPU interrupt (on a
/// VM, an exit to the hypervisor) and the sleeper a reschedule. Under a
/// stream of short connections berth answered each one so quickly that it
/// slept between almost every two (25,000 sleeps in 2 s at 47,000
/// connections/s, where h2o slept 3,000 times): the client, waking it
/// each time, was the bottleneck. So while connections arrive less than
/// `window` apart, the loop keeps trying `accept` for up to `window` after
/// each one, yielding to the connections' tasks between tries. At a lower
/// rate it never spins, so an idle or lightly loaded server pays nothing.
struct Arrivals {
    window: Duration,
    last: Option<std::time::Instant>,
    /// The last two connections came less than `window` apart.
    busy: bool,
}

impl Arrivals {
    fn new(window: Duration) -> Arrivals {
        Arrivals {
            window,
            last: None,
            busy: false,
        }
    }

    fn accepted(&mut self) {
        if self.window.is_zero() {
            return;
        }
        let now = std::time::Instant::now();
        self.busy = self.last.is_some_and(|last| now - last < self.window);
        self.last = Some(now);
    }

    /// Until when to keep trying before sleeping on readiness.
    fn spin_until(&self) -> Option<std::time::Instant> {
        let last = self.last.filter(|_| self.busy)?;
        let until = last + self.window;
        (std::time::Instant::now() < until).then_some(until)
    }
}

enum Accepted {
    Tcp(Tcp, SocketAddr),
    Unix(tokio::net::UnixStream),
}

/// A Unix-socket peer has no IP address; this stands for it (unless a
/// PROXY header names the real client).
const UNIX_PEER: SocketAddr = crate::PeerAddr::UNIX.0;

/// Runs one connection: PROXY header (if the listener asks for it), TLS
/// handshake (if configured), then HTTP.
async fn start<H: Handler>(
    accepted: Accepted,
    shared: Arc<Shared<H>>,
    mut stop: Shutdown,
    permit: OwnedSemaphorePermit,
) {
    let open = shared
        .config
        .metrics
        .as_ref()
        .map(|m| m.connection_opened());
    match accepted {
        Accepted::Tcp(mut stream, mut peer) => {
            if shared.tls.is_none() {
                // The common case: plain HTTP over TCP, which may park.
                // (TCP_NODELAY is set by the driver before the connection's
                // second write, if it makes one.)
                if shared.proxy_protocol {
                    let Ok(live) = stream.live() else {
                        return;
                    };
                    match Box::pin(proxy_step(&*live, peer, &shared, &mut stop)).await {
                        Some(source) => peer = source,
                        None => return,
                    }
                }
                let held = Held {
                    _permit: permit,
                    _open: open,
                };
                let start = Start {
                    park_after: parking(&shared),
                    h2c: shared.config.http2.h2c,
                    ..Start::NEW
                };
                serve_plain(stream, peer, held, start, shared, stop).await;
                return;
            }
            // TLS writes records of its own (the handshake, then each
            // flush) that the driver does not see.
            stream.set_nodelay();
            let Ok(stream) = stream.into_tokio() else {
                return;
            };
            // Boxed: the TLS states would otherwise make every plain
            // connection's future larger (idle memory).
            Box::pin(prelude(stream, peer, &shared, stop)).await
        }
        Accepted::Unix(stream) => Box::pin(prelude(stream, UNIX_PEER, &shared, stop)).await,
    }
    drop((permit, open));
}

/// Serves a plain-TCP connection, new or resumed, and parks it when it
/// goes idle long enough (its task then ends).
pub(crate) async fn serve_plain<H: Handler>(
    mut stream: Tcp,
    peer: SocketAddr,
    mut held: Held,
    mut start: Start,
    shared: Arc<Shared<H>>,
    stop: Shutdown,
) {
    loop {
        let (handler, config) = (shared.handler.clone(), shared.config.clone());
        let ended = serve_connection(stream, peer, handler, config, stop.clone(), start).await;
        let (idle_stream, served, deadline) = match ended {
            Ended::Idle {
                stream,
                served,
                deadline,
            } => (stream, served, deadline),
            Ended::Http2 { stream, read } => {
                let Ok(stream) = stream.into_tokio() else {
                    return;
                };
                // HTTP/2 writes frames as they are ready, often small (a
                // SETTINGS ack, a response's last frame): Nagle's
                // algorithm would hold them for the peer's delayed ACK
                // (40 ms stalls in sequential 1 MiB downloads).
                let _ = stream.set_nodelay(true);
                // Boxed: HTTP/2's states would make every plain
                // connection's future larger.
                Box::pin(serve_http2(stream, read, peer, &shared, stop, None)).await;
                return;
            }
            Ended::Closed => return,
        };
        let Some(parker) = &shared.parker else {
            return;
        };
        let idle = Idle {
            peer,
            served,
            deadline,
            held,
        };
        // Not parked (shutdown began): go on serving it here, unparked.
        let Err((back, idle)) = parker.park(idle_stream, idle) else {
            return;
        };
        start = resumed(&idle, None, &shared);
        (stream, held) = (back, idle.held);
    }
}

/// Serves a connection as HTTP/2, `read` being what was already read of
/// it.
async fn serve_http2<H: Handler, S>(
    stream: S,
    read: bytes::BytesMut,
    peer: SocketAddr,
    shared: &Shared<H>,
    stop: Shutdown,
    alt_svc: Option<Box<http::HeaderValue>>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (handler, config) = (shared.handler.clone(), shared.config.clone());
    super::h2::serve_connection(stream, read, peer, handler, config, stop, alt_svc).await;
}

/// How long an idle connection waits before it parks (`None`: never).
fn parking<H>(shared: &Shared<H>) -> Option<Duration> {
    shared.parker.as_ref().and(shared.config.park_idle_after)
}

/// Where a connection that was idle starts again: its count and deadline
/// kept. One that parked before its first request may still open with the
/// HTTP/2 preface.
fn resumed<H>(idle: &Idle, park_after: Option<Duration>, shared: &Shared<H>) -> Start {
    Start {
        served: idle.served,
        deadline: Some(idle.deadline),
        park_after,
        h2c: idle.served == 0 && shared.config.http2.h2c,
        alt_svc: None,
    }
}

/// Serves a connection the parker hands back, on a task of its own.
pub(crate) fn resume<H: Handler>(
    stream: Tcp,
    idle: Idle,
    shared: &Arc<Shared<H>>,
    stop: &Shutdown,
) {
    let start = resumed(&idle, parking(shared), shared);
    let (shared, stop) = (shared.clone(), stop.clone());
    // Boxed, as in `accept_loop`.
    tokio::spawn(Box::pin(serve_plain(
        stream, idle.peer, idle.held, start, shared, stop,
    )));
}

/// Reads the PROXY header, if the listener asks for one: the client's
/// address, or `None` when the connection is to be dropped (bad header,
/// timeout, shutdown).
async fn proxy_step<H, S: PeekSocket>(
    stream: &S,
    peer: SocketAddr,
    shared: &Shared<H>,
    stop: &mut Shutdown,
) -> Option<SocketAddr> {
    let header = Box::pin(read_proxy_header(stream));
    match unless_stopping(stop, shared.config.timeouts.head_read, header).await {
        Some(Ok(Ok(Some(source)))) => Some(source),
        Some(Ok(Ok(None))) => Some(peer),
        Some(Ok(Err(e))) => {
            tracing::info!(%peer, "PROXY header rejected: {e}");
            proxy_failed(shared);
            None
        }
        Some(Err(_)) => {
            tracing::debug!(%peer, "PROXY header timed out");
            proxy_failed(shared);
            None
        }
        None => None,
    }
}

/// Until it is over, a connection being set up is waited for only as long
/// as the server is not shutting down (a client that never finishes its
/// PROXY header or handshake must not hold shutdown for its timeout).
async fn unless_stopping<T>(
    stop: &mut Shutdown,
    limit: Duration,
    step: impl std::future::Future<Output = T>,
) -> Option<Result<T, tokio::time::error::Elapsed>> {
    if stop.is_stopping() {
        return None;
    }
    tokio::select! {
        done = timeout(limit, step) => Some(done),
        _ = stop.stopped() => None,
    }
}

/// The PROXY header, the TLS handshake, then HTTP, on any stream kind.
async fn prelude<H: Handler, S>(
    stream: S,
    mut peer: SocketAddr,
    shared: &Shared<H>,
    mut stop: Shutdown,
) where
    S: PeekSocket + super::transport::Transport,
    TlsOver<S>: super::transport::Transport,
{
    let config = &shared.config;
    if shared.proxy_protocol {
        match proxy_step(&stream, peer, shared, &mut stop).await {
            Some(source) => peer = source,
            None => return,
        }
    }
    let Some(acceptor) = &shared.tls else {
        let (handler, config) = (shared.handler.clone(), config.clone());
        let start = Start {
            h2c: config.http2.h2c,
            ..Start::NEW
        };
        let ended = serve_connection(stream, peer, handler, config, stop.clone(), start).await;
        if let Ended::Http2 { stream, read } = ended {
            Box::pin(serve_http2(stream, read, peer, shared, stop, None)).await;
        }
        return;
    };
    handshake(acceptor, stream, peer, shared, stop).await;
}

/// The TLS handshake, under its deadline, then HTTP as ALPN chose.
#[cfg(feature = "tls")]
async fn handshake<H: Handler, S>(
    acceptor: &TlsAcceptor,
    stream: S,
    peer: SocketAddr,
    shared: &Shared<H>,
    mut stop: Shutdown,
) where
    S: PeekSocket + super::transport::Transport,
    TlsOver<S>: super::transport::Transport,
{
    let config = &shared.config;
    // A client speaking plain HTTP to this port gets a 400 saying so, as
    // from nginx, rather than a silent close: a TLS connection starts with
    // a handshake record (type 22, RFC 8446 §5.1), a request with a method
    // name.
    let first = unless_stopping(
        &mut stop,
        config.timeouts.tls_handshake,
        first_byte(&stream),
    );
    match first.await {
        Some(Ok(Ok(byte))) if byte.is_ascii_uppercase() => {
            tracing::info!(%peer, "plain HTTP on a TLS listener");
            tls_failed(shared);
            let refuse = Arc::new(PlainHttpOnTlsPort);
            serve_connection(stream, peer, refuse, config.clone(), stop, Start::NEW).await;
            return;
        }
        Some(Ok(Ok(_))) => {}
        Some(Ok(Err(e))) => {
            tracing::debug!(%peer, "TLS connection lost before its handshake: {e}");
            return;
        }
        Some(Err(_)) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            tls_failed(shared);
            return;
        }
        None => return,
    }
    // Boxed: a TLS session is large, and inline it would make every plain
    // connection's future as large (idle memory per connection doubled).
    let handshake = Box::pin(acceptor.accept(stream));
    match unless_stopping(&mut stop, config.timeouts.tls_handshake, handshake).await {
        Some(Ok(Ok(tls))) => {
            let alt_svc = alt_svc(tls.get_ref().0, shared);
            // RFC 9113 §3.2: the protocol the client chose in ALPN.
            if tls.get_ref().1.alpn_protocol() == Some(super::h2::ALPN) {
                let read = bytes::BytesMut::new();
                Box::pin(serve_http2(tls, read, peer, shared, stop, alt_svc)).await;
                return;
            }
            let start = Start {
                alt_svc,
                ..Start::NEW
            };
            let tls = Box::pin(serve_connection(
                tls,
                peer,
                shared.handler.clone(),
                config.clone(),
                stop,
                start,
            ));
            tls.await;
        }
        Some(Ok(Err(e))) => {
            tracing::info!(%peer, "TLS handshake failed: {e}");
            tls_failed(shared);
        }
        Some(Err(_)) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            tls_failed(shared);
        }
        None => {}
    }
}

#[cfg(not(feature = "tls"))]
async fn handshake<H, S>(
    acceptor: &TlsAcceptor,
    _stream: S,
    _peer: SocketAddr,
    _shared: &Shared<H>,
    _stop: Shutdown,
) {
    match *acceptor {}
}

/// The `Alt-Svc` value for a TLS connection, when HTTP/3 is served on its
/// listener's port (RFC 9114 §3.1.1).
#[cfg(feature = "tls")]
fn alt_svc<H>(
    socket: &impl std::os::fd::AsFd,
    shared: &Shared<H>,
) -> Option<Box<http::HeaderValue>> {
    if shared.alt_svc.is_empty() {
        return None;
    }
    let local = rustix::net::getsockname(socket).ok()?;
    let port = SocketAddr::try_from(local).ok()?.port();
    let (_, value) = shared.alt_svc.iter().find(|(p, _)| *p == port)?;
    Some(Box::new(value.clone()))
}

/// The first byte the client sent, left in the socket.
#[cfg(feature = "tls")]
async fn first_byte(stream: &impl PeekSocket) -> io::Result<u8> {
    let mut byte = [0u8; 1];
    loop {
        stream.readable().await?;
        let peeked = stream.try_io(|| {
            rustix::net::recv(stream, &mut byte[..], rustix::net::RecvFlags::PEEK)
                .map(|(n, _)| n)
                .map_err(io::Error::from)
        });
        match peeked {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(_) => return Ok(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The answer to plain HTTP on a TLS listener: `400`, then close.
#[cfg(feature = "tls")]
struct PlainHttpOnTlsPort;

#[cfg(feature = "tls")]
impl Handler for PlainHttpOnTlsPort {
    fn call(&self, _req: crate::Request) -> crate::handler::BoxFuture<crate::Response> {
        let mut res = crate::response::text(
            "400 Bad Request: this port speaks HTTPS, and a plain HTTP request was sent to it\n",
        );
        *res.status_mut() = http::StatusCode::BAD_REQUEST;
        res.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        Box::pin(std::future::ready(res))
    }
}

#[cfg(feature = "tls")]
fn tls_failed<H>(shared: &Shared<H>) {
    if let Some(m) = &shared.config.metrics {
        m.tls_handshake_failed();
    }
}

fn proxy_failed<H>(shared: &Shared<H>) {
    if let Some(m) = &shared.config.metrics {
        m.proxy_header_rejected();
    }
}

/// The readiness-based socket calls [`read_proxy_header`] needs, on TCP
/// and Unix streams alike.
trait PeekSocket: std::os::fd::AsFd + Sync + Send {
    fn readable(&self) -> impl std::future::Future<Output = io::Result<()>> + Send;
    fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R>;
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
}

macro_rules! peek_socket {
    ($t:ty) => {
        impl PeekSocket for $t {
            fn readable(&self) -> impl std::future::Future<Output = io::Result<()>> + Send {
                <$t>::readable(self)
            }
            fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
                <$t>::try_io(self, Interest::READABLE, f)
            }
            fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                <$t>::try_read(self, buf)
            }
        }
    };
}
peek_socket!(TcpStream);
peek_socket!(tokio::net::UnixStream);

/// Reads a PROXY protocol v1/v2 header, consuming exactly its bytes (what
/// follows belongs to TLS or HTTP): peeks at what has arrived, and reads
/// only once the parser has a complete header. Returns the client's
/// address, or `None` when the proxy sent LOCAL/UNKNOWN (its own health
/// checks).
async fn read_proxy_header(stream: &impl PeekSocket) -> io::Result<Option<SocketAddr>> {
    let mut buf = vec![0u8; 256];
    let mut seen = 0usize;
    loop {
        stream.readable().await?;
        // Peeking leaves the data in the socket, so readiness would stay
        // set and the loop would spin on a partial header: report
        // `WouldBlock` when nothing new arrived, which clears readiness
        // until more bytes come.
        let peeked = stream.try_io(|| {
            let n = rustix::net::recv(stream, &mut buf[..], rustix::net::RecvFlags::PEEK)
                .map_err(io::Error::from)?
                .0;
            if n == seen && n < buf.len() && n > 0 {
                Err(io::ErrorKind::WouldBlock.into())
            } else {
                Ok(n)
            }
        });
        let n = match peeked {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        };
        seen = n;
        match parse_proxy_header(&buf[..n]).map_err(invalid)? {
            ProxyParse::Complete { header, consumed } => {
                // The bytes are in the socket buffer already (peeked).
                let mut filled = 0;
                while filled < consumed {
                    stream.readable().await?;
                    match stream.try_read(&mut buf[filled..consumed]) {
                        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e),
                    }
                }
                return Ok(header.source);
            }
            ProxyParse::Incomplete { at_least } => {
                if at_least > buf.len() {
                    buf.resize(at_least, 0);
                }
            }
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

fn is_resource_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == rustix::io::Errno::MFILE.raw_os_error()
            || code == rustix::io::Errno::NFILE.raw_os_error()
            || code == rustix::io::Errno::NOBUFS.raw_os_error()
            || code == rustix::io::Errno::NOMEM.raw_os_error()
    )
}

#[cfg(test)]
mod tests;
