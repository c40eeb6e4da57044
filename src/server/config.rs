//! Server configuration: protocol limits, timeouts, connection caps, and
//! HTTP/2's and HTTP/3's settings.

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
    /// How long a connection switched to another protocol (a WebSocket,
    /// see [`upgrade`](crate::upgrade)) may go without receiving a byte
    /// before its reads fail with `TimedOut`. Default 300 s (h2o's
    /// `proxy.websocket.timeout`); a WebSocket application that pings
    /// more often than this keeps its connections.
    pub upgraded_idle: Duration,
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
            upgraded_idle: Duration::from_secs(300),
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
    /// HTTP/2: whether it is offered, and its limits.
    pub http2: Http2Config,
    /// HTTP/3: whether it is served beside TLS listeners, and its limits.
    /// With the `http3` feature (on by default); off at run time unless
    /// turned on.
    #[cfg(feature = "http3")]
    pub http3: Http3Config,
}

/// HTTP/2 (RFC 9113): whether it is spoken, and the limits of each
/// connection. The request-head limits of [`Limits`] apply to HTTP/2 too:
/// `max_head_bytes` is the header list size advertised in SETTINGS
/// (`SETTINGS_MAX_HEADER_LIST_SIZE`), `max_target_bytes` and `max_headers`
/// are checked on each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http2Config {
    /// TLS listeners offer `h2` in ALPN (before `http/1.1`); a client that
    /// picks it speaks HTTP/2. Default `true`.
    pub enabled: bool,
    /// Cleartext listeners serve a connection that opens with the HTTP/2
    /// preface as HTTP/2 ("prior knowledge", RFC 9113 §3.3). `Upgrade: h2c`
    /// is never honoured (RFC 9113 §3.1 deprecates it). Default `true`.
    pub h2c: bool,
    /// Streams a client may have open at once on one connection
    /// (`SETTINGS_MAX_CONCURRENT_STREAMS`); more are refused with
    /// `REFUSED_STREAM`. Default 128, as nginx (h2o 100, Go 250).
    pub max_concurrent_streams: u32,
    /// Request-body bytes a client may send on one stream before the
    /// handler reads them (`SETTINGS_INITIAL_WINDOW_SIZE`). Default 1 MiB,
    /// as hyper.
    pub stream_window: u32,
    /// Request-body bytes a client may send on one connection, all streams
    /// together, before handlers read them: what one connection's unread
    /// uploads can cost. Default 1 MiB, as hyper.
    pub connection_window: u32,
    /// A connection with no open stream for this long is closed (GOAWAY).
    /// Default 10 s, as h2o's `http2-idle-timeout`.
    pub idle_timeout: Duration,
    /// Response bytes one connection may have handed to HTTP/2 but not yet
    /// written to the socket, all streams together; a stream waits for room
    /// before sending more. Bounds what a client that does not read costs.
    /// Default 1 MiB.
    pub max_buffered_bytes: usize,
}

impl Default for Http2Config {
    fn default() -> Self {
        Http2Config {
            enabled: true,
            h2c: true,
            max_concurrent_streams: 128,
            stream_window: 1024 * 1024,
            connection_window: 1024 * 1024,
            idle_timeout: Duration::from_secs(10),
            max_buffered_bytes: 1024 * 1024,
        }
    }
}

/// HTTP/3 (RFC 9114) over QUIC (RFC 9000), through quinn and the `h3`
/// crate: whether it is served, and the limits of each connection. Only
/// with TLS: each TLS TCP listener gets a UDP socket on the same address
/// and port, with the same certificate (reloads included) and ALPN `h3`;
/// responses over TCP then advertise it (`Alt-Svc: h3=":PORT"`), so
/// browsers switch. Off by default while the `h3` crate calls itself
/// experimental. 0-RTT is never accepted (its requests could be
/// replayed). QUIC connections count against
/// [`ServerConfig::max_connections`] with TCP ones; past the cap a new one
/// is refused (the client falls back to TCP). `max_target_bytes` and
/// `max_headers` of [`Limits`] are checked on each request, as for
/// HTTP/2.
#[cfg(feature = "http3")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Http3Config {
    /// Serve HTTP/3 on UDP beside every TLS listener. Needs
    /// [`Server::tls`](crate::Server::tls): `serve` fails without it.
    /// Default `false`.
    pub enabled: bool,
    /// Request streams a client may have open at once on one connection
    /// (QUIC's `initial_max_streams_bidi`); a client waits for a stream to
    /// end before opening more. Default 128, as for HTTP/2.
    pub max_concurrent_streams: u32,
    /// Largest request head, as QPACK-decoded field section bytes
    /// (`SETTINGS_MAX_FIELD_SECTION_SIZE`, RFC 9114 §4.2.2); a larger one
    /// is answered `431`. Default 16 KiB, HTTP/1.1's `max_head_bytes`.
    pub max_field_section_size: u64,
    /// A connection with no open request stream for this long is closed
    /// (GOAWAY first); it is also QUIC's idle timeout (no packet at all).
    /// Default 10 s, as for HTTP/2.
    pub idle_timeout: Duration,
    /// Request-body bytes a client may send on one stream before the
    /// handler reads them (the stream's flow-control window). Default 1
    /// MiB.
    pub stream_window: u32,
    /// Request-body bytes a client may send on one connection, all streams
    /// together, before handlers read them. Default 1 MiB.
    pub connection_window: u32,
    /// Response bytes one connection may have handed to QUIC but not yet
    /// had acknowledged, all streams together (quinn's send window); a
    /// stream waits for room before sending more. Bounds what a client
    /// that does not read costs. Default 1 MiB.
    pub max_buffered_bytes: usize,
    /// Handshakes in progress past which a new client must first prove it
    /// owns its address (a QUIC Retry, RFC 9000 §8.1): one round trip
    /// more for it, and a flood of Initial packets from spoofed addresses
    /// costs the server no handshake state. `0`: every client is asked.
    /// Default 64.
    pub retry_threshold: usize,
}

#[cfg(feature = "http3")]
impl Default for Http3Config {
    fn default() -> Self {
        Http3Config {
            enabled: false,
            max_concurrent_streams: 128,
            max_field_section_size: 16 * 1024,
            idle_timeout: Duration::from_secs(10),
            stream_window: 1024 * 1024,
            connection_window: 1024 * 1024,
            max_buffered_bytes: 1024 * 1024,
            retry_threshold: 64,
        }
    }
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
            http2: Http2Config::default(),
            #[cfg(feature = "http3")]
            http3: Http3Config::default(),
        }
    }
}
