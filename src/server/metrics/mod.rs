//! Server metrics: the [`Metrics`] registry the connection driver updates
//! (requests by method and status class, a latency histogram, bytes in and
//! out, connections, TLS and PROXY-header failures), its rendering in the
//! Prometheus text exposition format 0.0.4, and [`MetricsHandler`], which
//! serves that text to a scraper.
//!
//! # Cost on the hot path
//!
//! Every series is one [`AtomicU64`] updated with `Relaxed` `fetch_add`:
//! no lock, no allocation, no system call. A request costs three atomic
//! additions (its counter, its histogram bucket, the duration sum), a
//! connection two (plus one more when it closes).
//!
//! Each value sits alone on its own 128-byte-aligned cell (two cache lines,
//! as the adjacent-line prefetcher pulls lines in pairs): cores updating
//! *different* series (one counting bytes sent, another a 404) never
//! contend for a cache line. Cores updating the *same* series (every
//! `GET` answered `2xx`) share that one line, which costs a cache-line
//! transfer per update: small next to the system calls a request needs.
//! The registry takes about 7 KiB; one per server.
//!
//! `Relaxed` is enough because no value is used to publish another: each
//! series is an independent count, and a scrape sees each at some recent
//! moment. Only the histogram's count is derived (the sum of its buckets,
//! read in one pass while rendering), so `_bucket{le="+Inf"}` always equals
//! `_count` and the buckets are always cumulative; `_sum` is read on its
//! own and may include an observation or two that the buckets do not yet
//! show, as in other Prometheus client libraries.
//!
//! # Exposition
//!
//! [`Metrics::render`] writes every series, at zero too, so dashboards and
//! alerts see them before the first event:
//!
//! | series | type |
//! |---|---|
//! | `berth_requests_total{method_class, status_class}` | counter |
//! | `berth_request_duration_seconds` (`_bucket{le}`, `_sum`, `_count`) | histogram |
//! | `berth_received_bytes_total`, `berth_sent_bytes_total` | counter |
//! | `berth_open_connections` | gauge |
//! | `berth_parked_connections` | gauge |
//! | `berth_connections_total` | counter |
//! | `berth_tls_handshake_failures_total` | counter |
//! | `berth_proxy_header_failures_total` | counter |
//! | `berth_http2_events_total{event}` | counter |
//! | `berth_http3_events_total{event}` | counter |
//!
//! `event` (HTTP/2 only): `connection` (a connection spoke HTTP/2),
//! `stream` (a request stream accepted), `client_reset` (a stream the
//! client reset before its response was complete), `rapid_reset` (a
//! connection closed with ENHANCE_YOUR_CALM for resetting most of its
//! streams), `idle_close` (GOAWAY after the idle timeout), `stalled_peer`
//! (a connection dropped because its peer stopped reading),
//! `shutdown_goaway` (GOAWAY for a graceful shutdown).
//!
//! `event` (HTTP/3 only, zero unless it is on): `connection` (a QUIC
//! connection finished its handshake), `stream` (a request stream
//! accepted), `retry` (a new client asked to validate its address, past
//! the handshake threshold), `refused` (a new connection refused at the
//! connection cap), `idle_close` (GOAWAY after the idle timeout),
//! `shutdown_goaway` (GOAWAY for a graceful shutdown).
//!
//! `method_class` is `get`, `head`, `post`, `put`, `delete`, `options` or
//! `other` and `status_class` is `1xx` to `5xx`: labels from a fixed set,
//! so a client sending odd methods cannot create series without bound.
//!
//! ```
//! use std::time::Duration;
//! use berth::http::{Method, StatusCode};
//!
//! let metrics = berth::server::Metrics::new();
//! let connection = metrics.connection_opened();
//! metrics.record_request(&Method::GET, StatusCode::OK, Duration::from_millis(3));
//! drop(connection);
//! let text = metrics.render();
//! assert!(text.contains("berth_requests_total{method_class=\"get\",status_class=\"2xx\"} 1\n"));
//! assert!(text.contains("berth_open_connections 0\n"));
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use http::{HeaderValue, Method, StatusCode, header};

use crate::handler::BoxFuture;
use crate::{Body, Handler, Request, Response};

/// The `Content-Type` of the text exposition format, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `method_class` label values, indexed by [`method_class`].
const METHOD_CLASSES: [&str; 7] = ["get", "head", "post", "put", "delete", "options", "other"];

/// What an HTTP/2 connection counts in `berth_http2_events_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Http2Event {
    Connection,
    Stream,
    ClientReset,
    RapidReset,
    IdleClose,
    StalledPeer,
    ShutdownGoaway,
}

/// `event` label values, indexed by `Http2Event as usize`.
const HTTP2_EVENTS: [&str; 7] = [
    "connection",
    "stream",
    "client_reset",
    "rapid_reset",
    "idle_close",
    "stalled_peer",
    "shutdown_goaway",
];

/// What an HTTP/3 endpoint and its connections count in
/// `berth_http3_events_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "http3"), allow(dead_code))]
pub(crate) enum Http3Event {
    Connection,
    Stream,
    Retry,
    Refused,
    IdleClose,
    ShutdownGoaway,
}

/// `event` label values, indexed by `Http3Event as usize`.
const HTTP3_EVENTS: [&str; 6] = [
    "connection",
    "stream",
    "retry",
    "refused",
    "idle_close",
    "shutdown_goaway",
];

/// `status_class` label values, indexed by [`status_class`].
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Upper bounds (inclusive, in nanoseconds) of the duration histogram's
/// buckets: 0.5 ms to 10 s. One more bucket, `+Inf`, takes the rest.
const BUCKET_BOUNDS_NANOS: [u64; 14] = [
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

const BUCKETS: usize = BUCKET_BOUNDS_NANOS.len() + 1;

/// One metric value alone on its own cache lines (see the module docs).
#[derive(Default)]
#[repr(align(128))]
struct Cell(AtomicU64);

impl Cell {
    #[inline]
    fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    #[inline]
    fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// A server's metrics: counters, a gauge and a histogram updated with
/// relaxed atomics, rendered for Prometheus by [`render`](Self::render).
/// Shared as `Arc<Metrics>`; every method takes `&self`.
pub struct Metrics {
    /// `[method class][status class]`.
    requests: [[Cell; STATUS_CLASSES.len()]; METHOD_CLASSES.len()],
    /// Observations per bucket, *not* cumulative (each observation adds to
    /// one bucket; the last is above the largest bound). Cumulated while
    /// rendering.
    duration_buckets: [Cell; BUCKETS],
    /// Sum of the observed durations, in nanoseconds (wraps after 584
    /// years of accumulated request time).
    duration_sum_nanos: Cell,
    received_bytes: Cell,
    sent_bytes: Cell,
    open_connections: Cell,
    parked_connections: Cell,
    connections: Cell,
    tls_handshake_failures: Cell,
    proxy_header_failures: Cell,
    http2_events: [Cell; HTTP2_EVENTS.len()],
    http3_events: [Cell; HTTP3_EVENTS.len()],
}

impl Metrics {
    /// A registry with every value at zero.
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| Cell::default())),
            duration_buckets: std::array::from_fn(|_| Cell::default()),
            duration_sum_nanos: Cell::default(),
            received_bytes: Cell::default(),
            sent_bytes: Cell::default(),
            open_connections: Cell::default(),
            parked_connections: Cell::default(),
            connections: Cell::default(),
            tls_handshake_failures: Cell::default(),
            proxy_header_failures: Cell::default(),
            http2_events: std::array::from_fn(|_| Cell::default()),
            http3_events: std::array::from_fn(|_| Cell::default()),
        })
    }

    /// Counts one answered request in `berth_requests_total` and observes
    /// its `duration` in `berth_request_duration_seconds`.
    ///
    /// Status codes 600 to 999 (which `http` accepts but no standard
    /// defines) count as `5xx`.
    #[inline]
    pub fn record_request(&self, method: &Method, status: StatusCode, duration: Duration) {
        self.requests[method_class(method)][status_class(status)].add(1);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.duration_buckets[bucket_index(nanos)].add(1);
        self.duration_sum_nanos.add(nanos);
    }

    /// Adds `n` to `berth_received_bytes_total`.
    #[inline]
    pub fn add_bytes_received(&self, n: u64) {
        self.received_bytes.add(n);
    }

    /// Adds `n` to `berth_sent_bytes_total`.
    #[inline]
    pub fn add_bytes_sent(&self, n: u64) {
        self.sent_bytes.add(n);
    }

    /// Counts a new connection (`berth_connections_total`) and holds it
    /// open in `berth_open_connections` until the returned guard is
    /// dropped.
    pub fn connection_opened(self: &Arc<Self>) -> ConnectionGuard {
        self.connections.add(1);
        self.open_connections.add(1);
        ConnectionGuard(self.clone())
    }

    /// `n` more idle connections parked (`berth_parked_connections`).
    #[inline]
    pub(crate) fn connections_parked(&self, n: u64) {
        self.parked_connections.add(n);
    }

    /// `n` parked connections resumed or closed.
    #[inline]
    pub(crate) fn connections_unparked(&self, n: u64) {
        self.parked_connections.0.fetch_sub(n, Relaxed);
    }

    /// Counts a failed TLS handshake (`berth_tls_handshake_failures_total`).
    #[inline]
    pub fn tls_handshake_failed(&self) {
        self.tls_handshake_failures.add(1);
    }

    /// Counts a connection whose PROXY protocol header was rejected
    /// (`berth_proxy_header_failures_total`).
    #[inline]
    pub fn proxy_header_rejected(&self) {
        self.proxy_header_failures.add(1);
    }

    /// Counts an HTTP/2 event (`berth_http2_events_total{event}`).
    #[inline]
    pub(crate) fn http2(&self, event: Http2Event) {
        self.http2_events[event as usize].add(1);
    }

    /// Counts an HTTP/3 event (`berth_http3_events_total{event}`).
    #[inline]
    #[cfg_attr(not(feature = "http3"), allow(dead_code))]
    pub(crate) fn http3(&self, event: Http3Event) {
        self.http3_events[event as usize].add(1);
    }

    /// A handler serving [`render`](Self::render) to `GET` and `HEAD`.
    pub fn handler(self: &Arc<Self>) -> MetricsHandler {
        MetricsHandler(self.clone())
    }

    /// Every series in the Prometheus text exposition format 0.0.4: a
    /// `# HELP` and a `# TYPE` line per family, then its samples, one per
    /// line, each line ending in `\n`.
    pub fn render(&self) -> String {
        let mut out = Exposition(String::with_capacity(8 * 1024));

        out.family(
            "berth_requests_total",
            "counter",
            "Requests answered, by method and status class.",
        );
        for (method, row) in METHOD_CLASSES.iter().zip(&self.requests) {
            for (status, cell) in STATUS_CLASSES.iter().zip(row) {
                out.sample(
                    "berth_requests_total",
                    &[("method_class", method), ("status_class", status)],
                    cell.get(),
                );
            }
        }

        out.family(
            "berth_request_duration_seconds",
            "histogram",
            "Time from a complete request head to the last byte of the response handed to the socket.",
        );
        let mut cumulative = 0u64;
        for (i, cell) in self.duration_buckets.iter().enumerate() {
            cumulative += cell.get();
            let mut le = String::new();
            match BUCKET_BOUNDS_NANOS.get(i) {
                Some(&bound) => push_seconds(&mut le, bound),
                None => le.push_str("+Inf"),
            }
            out.sample(
                "berth_request_duration_seconds_bucket",
                &[("le", &le)],
                cumulative,
            );
        }
        out.0.push_str("berth_request_duration_seconds_sum ");
        push_seconds(&mut out.0, self.duration_sum_nanos.get());
        out.0.push('\n');
        out.sample("berth_request_duration_seconds_count", &[], cumulative);

        let simple: [(&str, &str, &str, &Cell); 7] = [
            (
                "berth_received_bytes_total",
                "counter",
                "Bytes received from clients.",
                &self.received_bytes,
            ),
            (
                "berth_sent_bytes_total",
                "counter",
                "Bytes sent to clients.",
                &self.sent_bytes,
            ),
            (
                "berth_open_connections",
                "gauge",
                "Client connections open now.",
                &self.open_connections,
            ),
            (
                "berth_parked_connections",
                "gauge",
                "Idle keep-alive connections parked without a task (also counted as open).",
                &self.parked_connections,
            ),
            (
                "berth_connections_total",
                "counter",
                "Client connections accepted.",
                &self.connections,
            ),
            (
                "berth_tls_handshake_failures_total",
                "counter",
                "TLS handshakes that failed.",
                &self.tls_handshake_failures,
            ),
            (
                "berth_proxy_header_failures_total",
                "counter",
                "Connections closed because their PROXY protocol header was rejected.",
                &self.proxy_header_failures,
            ),
        ];
        for (name, kind, help, cell) in simple {
            out.family(name, kind, help);
            out.sample(name, &[], cell.get());
        }

        out.family(
            "berth_http2_events_total",
            "counter",
            "HTTP/2 connection and stream events, by kind.",
        );
        for (event, cell) in HTTP2_EVENTS.iter().zip(&self.http2_events) {
            out.sample("berth_http2_events_total", &[("event", event)], cell.get());
        }
        out.family(
            "berth_http3_events_total",
            "counter",
            "HTTP/3 endpoint, connection and stream events, by kind.",
        );
        for (event, cell) in HTTP3_EVENTS.iter().zip(&self.http3_events) {
            out.sample("berth_http3_events_total", &[("event", event)], cell.get());
        }
        out.0
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("open_connections", &self.open_connections.get())
            .field("connections", &self.connections.get())
            .finish_non_exhaustive()
    }
}

/// Keeps one connection counted in `berth_open_connections`; dropping it
/// (when the connection ends, however it ends) takes it out again.
#[must_use = "the connection counts as open only while the guard lives"]
pub struct ConnectionGuard(Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.open_connections.0.fetch_sub(1, Relaxed);
    }
}

impl fmt::Debug for ConnectionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConnectionGuard(..)")
    }
}

/// Serves [`Metrics::render`]: `200` to `GET` and `HEAD` with
/// `Content-Type: text/plain; version=0.0.4; charset=utf-8`, `405` with
/// `Allow: GET, HEAD` to any other method; `Cache-Control: no-store` on
/// both, so no cache hands a scraper stale values. Made by
/// [`Metrics::handler`].
#[derive(Clone)]
pub struct MetricsHandler(Arc<Metrics>);

impl Handler for MetricsHandler {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let method = req.method();
        let mut res = if method == Method::GET || method == Method::HEAD {
            // HEAD renders too: the driver drops the body but keeps its
            // length in Content-Length, as for GET.
            let mut res = Response::new(Body::from(self.0.render()));
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            res
        } else {
            let mut res = crate::response::status(StatusCode::METHOD_NOT_ALLOWED);
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            res
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Box::pin(std::future::ready(res))
    }
}

impl fmt::Debug for MetricsHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsHandler(..)")
    }
}

#[inline]
fn method_class(method: &Method) -> usize {
    // Standard methods compare as enum variants, without string compares.
    if method == Method::GET {
        0
    } else if method == Method::HEAD {
        1
    } else if method == Method::POST {
        2
    } else if method == Method::PUT {
        3
    } else if method == Method::DELETE {
        4
    } else if method == Method::OPTIONS {
        5
    } else {
        6
    }
}

#[inline]
fn status_class(status: StatusCode) -> usize {
    // `StatusCode` is 100..=999: classes 1 to 9, the nonstandard 6 to 9
    // folded into 5xx.
    (usize::from(status.as_u16() / 100)).clamp(1, 5) - 1
}

/// The bucket an observation of `nanos` falls in: the first whose bound is
/// at least `nanos` (bounds are inclusive, as Prometheus' `le`), or the
/// last (`+Inf`).
#[inline]
fn bucket_index(nanos: u64) -> usize {
    BUCKET_BOUNDS_NANOS.partition_point(|&bound| bound < nanos)
}

/// Writes `nanos` as decimal seconds, exactly and as short as possible:
/// `500000` → `0.0005`, `1000000000` → `1`, `2500000000` → `2.5`. This is a
/// valid Prometheus float, and for the bucket bounds it is the same text
/// other clients write (Go's `strconv.FormatFloat(v, 'g', -1, 64)`), so
/// `le` labels match across exporters.
fn push_seconds(out: &mut String, nanos: u64) {
    use std::fmt::Write as _;
    let (secs, frac) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
    let _ = write!(out, "{secs}");
    if frac != 0 {
        let digits = format!("{frac:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// The text being rendered, with the format's line writers.
struct Exposition(String);

impl Exposition {
    /// `# HELP` and `# TYPE` lines opening a family.
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        self.0.push_str("# HELP ");
        self.0.push_str(name);
        self.0.push(' ');
        // In HELP text, only `\` and line feeds are escaped.
        for c in help.chars() {
            match c {
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                c => self.0.push(c),
            }
        }
        self.0.push_str("\n# TYPE ");
        self.0.push_str(name);
        self.0.push(' ');
        self.0.push_str(kind);
        self.0.push('\n');
    }

    /// One sample line: `name{label="value",...} value`.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        use std::fmt::Write as _;
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                self.0.push_str(label);
                self.0.push_str("=\"");
                push_label_value(&mut self.0, value);
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }
}

/// A label value with `\`, `"` and line feeds escaped, as the format
/// requires (the values here are fixed, but stay safe if that changes).
fn push_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
