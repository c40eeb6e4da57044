//! Server configuration: protocol limits, timeouts, and connection caps.

use std::time::Duration;

use std::sync::Arc;

use super::access::AccessLog;
use super::metrics::Metrics;
use crate::proto::Limits;

/// How long the server waits for each phase of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a request head to its end (slowloris). On
    /// expiry: 408 and close. Also bounds how long a new connection may stay
    /// silent. Default 10 s (actix 5 s, hyper 30 s).
    pub head_read: Duration,
    /// How long a kept-alive connection may sit idle between requests.
    /// Expiry closes silently. Default 5 s (actix 5 s).
    pub keep_alive: Duration,
    /// Longest pause while reading a request body. Default 30 s (darkhttpd).
    pub body_read: Duration,
    /// Longest a single write may make no progress. Default 30 s.
    pub write: Duration,
    /// On shutdown, how long in-flight requests may take to finish.
    /// Default 10 s.
    pub shutdown_grace: Duration,
    /// From accepting a connection on a TLS listener to the end of its
    /// handshake; a client that stalls it is dropped. Default 10 s.
    pub tls_handshake: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            head_read: Duration::from_secs(10),
            keep_alive: Duration::from_secs(5),
            body_read: Duration::from_secs(30),
            write: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            tls_handshake: Duration::from_secs(10),
        }
    }
}

/// Everything that tunes how the server treats connections.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Parser size budgets.
    pub limits: Limits,
    /// Per-phase timeouts.
    pub timeouts: Timeouts,
    /// Most connections open at once; further clients wait in the listen
    /// backlog (back-pressure, not errors). Default 10,000.
    pub max_connections: usize,
    /// Most pipelined responses encoded before the write buffer is flushed.
    /// Default 16 (hyper, actix).
    pub max_pipelined: usize,
    /// Largest request body the server accepts; a larger Content-Length is
    /// answered 413 without calling the handler. Default 2 MiB.
    pub max_body_bytes: u64,
    /// How many bytes of a request body the handler did not read are read and
    /// discarded to keep the connection; beyond it the connection closes.
    /// Default 256 KiB.
    pub drain_budget: u64,
    /// Called after every response (including error responses to requests
    /// that could not be parsed). Default: none.
    pub access_log: Option<AccessLog>,
    /// Counters and histograms every connection updates (see
    /// [`Metrics`]). Default: none.
    pub metrics: Option<Arc<Metrics>>,
    /// A plain-TCP connection idle this long between requests is parked:
    /// its task ends and its socket waits in an epoll set shared by all
    /// parked connections, until a request arrives (a new task serves it)
    /// or the idle timeout closes it. A parked connection costs about 0.1
    /// KiB instead of about 2 KiB; parking and resuming cost four
    /// `epoll_ctl` calls and a task, which busy connections never pay.
    /// `None` keeps every connection on its own task. Default 10 ms.
    pub park_idle_after: Option<Duration>,
    /// Whether each request carries the client's address as a
    /// [`PeerAddr`](crate::PeerAddr) extension (read with
    /// [`RequestExt::peer_addr`](crate::RequestExt::peer_addr)). Building a
    /// request's extension map costs three allocations; a server whose
    /// handlers never ask for the address can turn it off. The access log
    /// and metrics see the address either way. Default `true`.
    pub peer_addr: bool,
    /// While new TCP connections arrive less than this apart, the accept
    /// loop stays awake for this long after each one (trying `accept`
    /// between the other tasks) rather than sleeping until the kernel
    /// wakes it: a wake-up costs more than the tries. Under a stream of
    /// one-request connections this raised throughput by about 15%, for
    /// about 3 µs more CPU per connection; at a lower arrival rate nothing
    /// spins. `Duration::ZERO` turns it off. Default 20 µs.
    pub accept_spin: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            max_connections: 10_000,
            max_pipelined: 16,
            max_body_bytes: 2 * 1024 * 1024,
            drain_budget: 256 * 1024,
            access_log: None,
            metrics: None,
            park_idle_after: Some(Duration::from_millis(10)),
            peer_addr: true,
            accept_spin: Duration::from_micros(20),
        }
    }
}
