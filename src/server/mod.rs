//! The tokio driver: listening sockets, the accept loop, graceful shutdown.
//!
//! This layer owns every socket and timer. It turns bytes into requests
//! (HTTP/1.1 with [`crate::proto`], HTTP/2 with the `h2` crate, HTTP/3 with
//! quinn and the `h3` crate), calls a
//! [`Handler`] through one protocol-neutral serving core, and writes the
//! responses back; it never knows what the handler does.
//!
//! ```no_run
//! # async fn run() -> Result<(), berth::Error> {
//! let hello = |_req: berth::Request| async { berth::response::text("hi") };
//! berth::Server::bind("127.0.0.1:8080").serve(hello).await
//! # }
//! ```

mod accept;
mod access;
mod config;
mod date;
mod h1;
mod h2;
#[cfg(feature = "http3")]
mod h3;
mod listen;
mod metrics;
mod serve;
mod tcp;
#[cfg(feature = "tls")]
mod tls;
mod transport;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{Semaphore, watch};

pub use accept::Listener;
use accept::{Bound, Shared, accept_loop};
pub use access::{AccessLog, AccessRecord, RemoteUser};
#[cfg(feature = "http3")]
pub use config::Http3Config;
pub use config::{Http2Config, ServerConfig, Timeouts};
pub use listen::BindAddrs;
pub use metrics::{ConnectionGuard, Metrics, MetricsHandler};
#[cfg(feature = "tls")]
pub use tls::TlsConfig;

use crate::{Error, Handler};

type ShutdownSignal = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// An HTTP/1.1 and HTTP/2 server: listening sockets plus configuration.
///
/// Every listener of one server speaks the same way: plain or TLS
/// ([`tls`](Self::tls)), with or without a PROXY protocol header first
/// ([`proxy_protocol`](Self::proxy_protocol)). Run two servers for two ways
/// (an HTTPS port and a plain redirecting one). HTTP/2 comes with it: over
/// TLS when the client picks `h2` in ALPN, on plain listeners when the
/// client opens with the HTTP/2 preface; [`ServerConfig::http2`] turns
/// either off and sets its limits. HTTP/3 (feature `http3`) is served beside
/// TLS listeners when turned on with [`http3`](Self::http3).
pub struct Server {
    listeners: Result<Vec<Bound>, Error>,
    config: ServerConfig,
    #[cfg(feature = "tls")]
    tls: Option<TlsConfig>,
    proxy_protocol: bool,
    shutdown: Option<ShutdownSignal>,
    trigger: Arc<watch::Sender<bool>>,
}

/// How listening sockets are created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenOptions {
    /// Set `SO_REUSEPORT`, so another process (a new version of this
    /// server) can listen on the same address at the same time; the kernel
    /// spreads new connections across them. Default `false`.
    pub reuse_port: bool,
}

impl ListenOptions {
    /// Options with `SO_REUSEPORT` set as given.
    pub fn reuse_port(reuse_port: bool) -> Self {
        ListenOptions { reuse_port }
    }
}

/// Triggers a server's graceful shutdown from anywhere in the program (see
/// [`Server::shutdown_handle`]). Cloneable; triggering twice is harmless.
#[derive(Clone, Debug)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Starts the graceful shutdown: stop accepting, finish in-flight
    /// requests within the grace period, close idle connections.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

impl Server {
    /// A server that will listen on `addr` (`"127.0.0.1:8080"`, every
    /// address a name resolves to, a `SocketAddr`, `(ip, port)`: any
    /// [`BindAddrs`]). Errors surface from [`serve`](Self::serve); use
    /// [`try_bind`](Self::try_bind) to see them at once.
    pub fn bind(addr: impl BindAddrs) -> Server {
        Server::try_bind(addr).unwrap_or_else(|e| Server::from_result(Err(e)))
    }

    /// A server with no listener yet; add some with
    /// [`listen_on`](Self::listen_on) or [`bind_unix`](Self::bind_unix).
    pub fn new() -> Server {
        Server::from_result(Ok(Vec::new()))
    }

    /// Binds `addr` now (with `SO_REUSEADDR`), reporting failure here; it
    /// takes what [`bind`](Self::bind) takes, every address it resolves to
    /// included.
    pub fn try_bind(addr: impl BindAddrs) -> Result<Server, Error> {
        Server::try_bind_with(addr.resolve()?, ListenOptions::default())
    }

    /// Binds every address now (e.g. `0.0.0.0:8080` and `[::]:8080`); one
    /// server answers on all of them.
    pub fn try_bind_all(addrs: impl IntoIterator<Item = SocketAddr>) -> Result<Server, Error> {
        Server::try_bind_with(addrs, ListenOptions::default())
    }

    /// Binds every address now with `options` (e.g. `SO_REUSEPORT`).
    pub fn try_bind_with(
        addrs: impl IntoIterator<Item = SocketAddr>,
        options: ListenOptions,
    ) -> Result<Server, Error> {
        let addrs: Vec<SocketAddr> = addrs.into_iter().collect();
        if addrs.is_empty() {
            return Err(Error::address("(no addresses)", None));
        }
        let listeners = listen::bind_all(&addrs, options.reuse_port)?;
        Ok(Server::from_result(Ok(listeners)))
    }

    /// Serves on an already-listening socket.
    pub fn from_listener(listener: std::net::TcpListener) -> Server {
        Server::new().listen_on(listener)
    }

    /// Adds an already-listening socket (TCP or Unix, e.g. one passed by
    /// systemd socket activation).
    pub fn listen_on(mut self, listener: impl Into<Listener>) -> Server {
        if let Ok(listeners) = &mut self.listeners {
            listeners.push(Bound {
                listener: listener.into(),
                socket_file: None,
            });
        }
        self
    }

    /// Adds a Unix domain socket listener at `path`. A stale socket file
    /// there is replaced; a socket someone listens on, or a file that is not
    /// a socket, is an error (nothing is deleted). The socket file is
    /// removed when [`serve`](Self::serve) returns.
    pub fn bind_unix(mut self, path: impl AsRef<Path>) -> Result<Server, Error> {
        let mut listeners = self.listeners?;
        listeners.push(accept::bind_unix(path.as_ref())?);
        self.listeners = Ok(listeners);
        Ok(self)
    }

    /// Speaks TLS on every listener (see [`TlsConfig`]). With the `tls`
    /// feature (on by default).
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: TlsConfig) -> Server {
        self.tls = Some(tls);
        self
    }

    /// Serves HTTP/3 too (with the `http3` feature, on by default): a QUIC
    /// endpoint on UDP beside each TLS TCP listener, same address and
    /// port, same certificate; responses over TCP advertise it with
    /// `Alt-Svc`. Sets [`Http3Config::enabled`] in the current
    /// configuration, so call it after [`config`](Self::config). Needs
    /// [`tls`](Self::tls): [`serve`](Self::serve) fails without it. Off by
    /// default while the `h3` crate calls itself experimental.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), berth::Error> {
    /// let tls = berth::TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// berth::Server::bind("0.0.0.0:443")
    ///     .tls(tls)
    ///     .http3(true)
    ///     .serve(|_req: berth::Request| async { "hello over HTTP/3" })
    ///     .await
    /// # }
    /// ```
    #[cfg(feature = "http3")]
    pub fn http3(mut self, on: bool) -> Server {
        self.config.http3.enabled = on;
        self
    }

    /// Expects a PROXY protocol header (v1 or v2, as HAProxy and most load
    /// balancers send) before anything else on every connection, and takes
    /// the client's address from it. A connection without a valid header is
    /// closed. Only for listeners that nothing but the proxy can reach.
    pub fn proxy_protocol(mut self, on: bool) -> Server {
        self.proxy_protocol = on;
        self
    }

    fn from_result(listeners: Result<Vec<Bound>, Error>) -> Server {
        Server {
            listeners,
            config: ServerConfig::default(),
            #[cfg(feature = "tls")]
            tls: None,
            proxy_protocol: false,
            shutdown: None,
            trigger: Arc::new(watch::channel(false).0),
        }
    }

    /// Replaces the configuration.
    pub fn config(mut self, config: ServerConfig) -> Server {
        self.config = config;
        self
    }

    /// The addresses being listened on (after a successful bind).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        match &self.listeners {
            Ok(ls) => ls
                .iter()
                .filter_map(|b| match &b.listener {
                    Listener::Tcp(l) => l.local_addr().ok(),
                    Listener::Unix(_) => None,
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Stops accepting when `signal` completes, lets in-flight requests
    /// finish within [`Timeouts::shutdown_grace`], closes idle connections,
    /// and then makes [`serve`](Self::serve) return.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Server {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// A handle that triggers graceful shutdown, as the future given to
    /// [`with_graceful_shutdown`](Self::with_graceful_shutdown) does.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), berth::Error> {
    /// let server = berth::Server::bind("127.0.0.1:8080");
    /// let handle = server.shutdown_handle();
    /// tokio::spawn(async move {
    ///     tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    ///     handle.shutdown();
    /// });
    /// server.serve(|_req: berth::Request| async { "bye" }).await
    /// # }
    /// ```
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.trigger.clone())
    }

    /// Accepts connections and answers their requests with `handler` until
    /// the shutdown signal (if any) completes. Must run inside a tokio
    /// runtime with I/O and time enabled.
    pub async fn serve<H: Handler>(self, handler: H) -> Result<(), Error> {
        let mut listeners = self.listeners?;
        if listeners.is_empty() {
            return Err(Error::address("(no listeners)", None));
        }
        #[cfg(feature = "http3")]
        let quic = match (&self.tls, self.config.http3.enabled) {
            (_, false) => Vec::new(),
            (None, true) => return Err(Error::tls("HTTP/3 needs TLS: call Server::tls too")),
            (Some(tls), true) => {
                if self.proxy_protocol {
                    // The PROXY header travels on TCP; QUIC would take the
                    // proxy's address for the client's.
                    return Err(Error::tls(
                        "HTTP/3 cannot be served behind the PROXY protocol",
                    ));
                }
                let tcp: Vec<&std::net::TcpListener> = listeners
                    .iter()
                    .filter_map(|b| match &b.listener {
                        Listener::Tcp(l) => Some(l),
                        Listener::Unix(_) => None,
                    })
                    .collect();
                h3::bind(&tcp, tls, &self.config)?
            }
        };
        #[cfg(feature = "http3")]
        let alt_svc = quic
            .iter()
            .map(|e| (e.port(), h3::alt_svc(e.port())))
            .collect();
        #[cfg(not(feature = "http3"))]
        let alt_svc = Vec::new();
        let config = Arc::new(self.config);
        let permits = Arc::new(Semaphore::new(config.max_connections));
        let parking = match config.park_idle_after {
            Some(_) => match h1::park::Parker::new(config.metrics.clone()) {
                Ok(parking) => Some(parking),
                Err(e) => {
                    tracing::warn!("idle connections will not be parked: {e}");
                    None
                }
            },
            None => None,
        };
        let (parker, parker_poll) = parking.unzip();
        let shared = Arc::new(Shared {
            handler: Arc::new(handler),
            config: config.clone(),
            #[cfg(feature = "tls")]
            tls: self
                .tls
                .as_ref()
                .map(|tls| tls.acceptor(config.http2.enabled)),
            #[cfg(not(feature = "tls"))]
            tls: None,
            proxy_protocol: self.proxy_protocol,
            permits: permits.clone(),
            parker: parker.clone(),
            alt_svc,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let parking = parker.zip(parker_poll).map(|(parker, poll)| {
            let (shared, stop) = (shared.clone(), serve::Shutdown::new(stop_rx.clone()));
            tokio::spawn(h1::park::run(
                parker,
                poll,
                serve::Shutdown::new(stop_rx.clone()),
                move |stream, idle| accept::resume(stream, idle, &shared, &stop),
            ))
        });
        let mut accept_loops = tokio::task::JoinSet::new();
        let mut socket_files = Vec::new();
        for bound in listeners.drain(..) {
            socket_files.extend(bound.socket_file);
            accept_loops.spawn(accept_loop(
                bound.listener,
                shared.clone(),
                serve::Shutdown::new(stop_rx.clone()),
            ));
        }
        // The QUIC endpoints' loops outlive the accept loops: during
        // shutdown they refuse new clients (which then use TCP, or fail
        // at once) rather than leave them waiting for a handshake.
        #[cfg(feature = "http3")]
        let endpoints: Vec<quinn::Endpoint> = quic.iter().map(h3::Endpoint::handle).collect();
        #[cfg(feature = "http3")]
        let mut quic_loops = tokio::task::JoinSet::new();
        #[cfg(feature = "http3")]
        for endpoint in quic {
            quic_loops.spawn(h3::serve_endpoint(
                endpoint,
                shared.clone(),
                serve::Shutdown::new(stop_rx.clone()),
            ));
        }
        let mut triggered = self.trigger.subscribe();
        let signal = async move {
            match self.shutdown {
                Some(signal) => signal.await,
                None => std::future::pending().await,
            }
        };
        let mut failure = None;
        tokio::select! {
            _ = signal => {}
            _ = triggered.wait_for(|stop| *stop) => {}
            // Runs until every accept loop ends (they do not, unless a
            // listener cannot be registered with the runtime).
            _ = async {
                while let Some(ended) = accept_loops.join_next().await {
                    if let Ok(Err(e)) = ended {
                        failure = Some(e);
                        break;
                    }
                }
            } => {}
        }
        let _ = stop_tx.send(true);
        accept_loops.shutdown().await;
        // The parker hands every parked connection back (each gets the
        // idle window at shutdown) and ends.
        if let Some(parking) = parking {
            let _ = parking.await;
        }
        // A clean exit removes the Unix socket files berth created (not
        // earlier: a new instance may not take over a path still served).
        for file in &socket_files {
            file.remove();
        }
        if let Some(e) = failure {
            return Err(Error::io(e));
        }
        // Every live connection holds one permit: when all are back, every
        // connection has finished.
        let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
        let drained =
            tokio::time::timeout(config.timeouts.shutdown_grace, permits.acquire_many(all)).await;
        if drained.is_err() {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
        // QUIC connections still open past the grace period are closed
        // here, and the last packets given a moment to leave.
        #[cfg(feature = "http3")]
        {
            quic_loops.shutdown().await;
            h3::close(endpoints, std::time::Duration::from_millis(500)).await;
        }
        Ok(())
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}
