//! The tokio driver: listening sockets, the accept loop, graceful shutdown.
//!
//! This layer owns every socket and timer. It turns bytes into requests with
//! [`crate::proto`], calls a [`Handler`], and writes the responses back; it
//! never knows what the handler does.
//!
//! ```no_run
//! # async fn run() -> Result<(), berth::Error> {
//! let hello = |_req: berth::Request| async { berth::response::text("hi") };
//! berth::Server::bind("127.0.0.1:8080").serve(hello).await
//! # }
//! ```

mod access;
mod config;
mod connection;
mod date;
mod listen;
mod panic;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

pub use access::{AccessLog, AccessRecord};
pub use config::{ServerConfig, Timeouts};

use crate::{Error, Handler};

type ShutdownSignal = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// An HTTP/1.1 server: listening sockets plus configuration.
pub struct Server {
    listeners: Result<Vec<std::net::TcpListener>, Error>,
    config: ServerConfig,
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
    /// A server that will listen on `addr` (`"127.0.0.1:8080"`; every
    /// address a name resolves to). Errors surface from
    /// [`serve`](Self::serve); use [`try_bind`](Self::try_bind) to see them
    /// at once.
    pub fn bind(addr: &str) -> Server {
        Server::from_result(listen::resolve(addr).and_then(|addrs| {
            addrs
                .into_iter()
                .map(|a| listen::bind(a, false))
                .collect::<Result<Vec<_>, _>>()
        }))
    }

    /// Binds `addr` now (with `SO_REUSEADDR`), reporting failure here.
    pub fn try_bind(addr: SocketAddr) -> Result<Server, Error> {
        Server::try_bind_all([addr])
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
        let listeners = addrs
            .into_iter()
            .map(|a| listen::bind(a, options.reuse_port))
            .collect::<Result<Vec<_>, _>>()?;
        if listeners.is_empty() {
            return Err(Error::address("(no addresses)", None));
        }
        Ok(Server::from_result(Ok(listeners)))
    }

    /// Serves on an already-listening socket.
    pub fn from_listener(listener: std::net::TcpListener) -> Server {
        Server::from_result(Ok(vec![listener]))
    }

    fn from_result(listeners: Result<Vec<std::net::TcpListener>, Error>) -> Server {
        Server {
            listeners,
            config: ServerConfig::default(),
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
            Ok(ls) => ls.iter().filter_map(|l| l.local_addr().ok()).collect(),
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
        let listeners = self.listeners?;
        let config = Arc::new(self.config);
        let handler = Arc::new(handler);
        let permits = Arc::new(Semaphore::new(config.max_connections));
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut accept_loops = tokio::task::JoinSet::new();
        for listener in listeners {
            listener.set_nonblocking(true).map_err(Error::io)?;
            let listener = TcpListener::from_std(listener).map_err(Error::io)?;
            let (handler, config, permits) = (handler.clone(), config.clone(), permits.clone());
            accept_loops.spawn(accept_loop(
                listener,
                handler,
                config,
                permits,
                stop_rx.clone(),
            ));
        }
        let mut triggered = self.trigger.subscribe();
        let signal = async move {
            match self.shutdown {
                Some(signal) => signal.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = signal => {}
            _ = triggered.wait_for(|stop| *stop) => {}
            // Runs until every accept loop ends (they do not, in practice).
            _ = async { while accept_loops.join_next().await.is_some() {} } => {}
        }
        let _ = stop_tx.send(true);
        accept_loops.shutdown().await;
        // Every live connection holds one permit: when all are back, every
        // connection has finished.
        let all = u32::try_from(config.max_connections).unwrap_or(u32::MAX);
        let drained =
            tokio::time::timeout(config.timeouts.shutdown_grace, permits.acquire_many(all)).await;
        if drained.is_err() {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
        Ok(())
    }
}

async fn accept_loop<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    config: Arc<ServerConfig>,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        // Back-pressure: at the connection cap, stop accepting; clients wait
        // in the listen backlog.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let (handler, config, stop) = (handler.clone(), config.clone(), stop.clone());
                tokio::spawn(async move {
                    connection::serve_connection(stream, peer, handler, config, stop).await;
                    drop(permit);
                });
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
