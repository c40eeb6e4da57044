//! HTTP/3 (RFC 9114) over QUIC (RFC 9000), on the same serving core as
//! HTTP/1.1 and HTTP/2. berth writes no QUIC and no HTTP/3 framing: quinn
//! owns the transport (packets, loss recovery, congestion and flow
//! control, streams, the TLS 1.3 handshake through rustls), the `h3` crate
//! owns frames, QPACK and the control streams, and `h3-quinn` joins the
//! two. berth owns what a server adds around them, as over HTTP/2:
//!
//! - `mod` (this file): the endpoints: a UDP socket beside each TLS TCP
//!   listener (same address and port), quinn's configuration from
//!   [`Http3Config`], and the loop taking new connections: address
//!   validation (Retry) past a number of handshakes in progress, the
//!   connection cap shared with TCP, no new connection once shutdown has
//!   begun;
//! - `conn`: one connection: the handshake under its deadline, accepting
//!   request streams (one task each), the idle timeout, graceful shutdown
//!   (GOAWAY, then the open streams finish);
//! - `stream`: one request stream: the request handed to the serving core
//!   and the response sent, its body with QUIC's backpressure;
//! - `body`: the request body, pulled from the stream as the handler reads.
//!
//! Malformed QUIC packets are quinn's to drop, malformed HTTP/3 frames the
//! `h3` crate's to answer with a stream or connection error: either way
//! only that connection is affected. Nothing here knows HTTP/1.1 or
//! HTTP/2; what HTTP/2 and HTTP/3 share is in `serve::framed`.

mod body;
mod conn;
mod stream;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::HeaderValue;
use quinn::crypto::rustls::QuicServerConfig;
use rustix::net::{AddressFamily, sockopt};

use super::accept::Shared;
use super::config::{Http3Config, ServerConfig};
use super::metrics::Http3Event;
use super::serve::Shutdown;
use super::tls::TlsConfig;
use crate::{Error, Handler};

/// The ALPN protocol id of HTTP/3 (RFC 9114 §3.1).
pub(crate) const ALPN: &[u8] = b"h3";

/// How long responses over TCP let a client remember that HTTP/3 is
/// served (the `ma` parameter of `Alt-Svc`, RFC 7838 §3.1): one day.
const ALT_SVC_MAX_AGE: u32 = 86_400;

/// QUIC-level unidirectional streams a client may open at once: HTTP/3
/// needs three (control, QPACK encoder and decoder, RFC 9114 §6.2); a few
/// more leave room for the reserved types clients send as grease.
const MAX_UNI_STREAMS: u32 = 8;

/// The `Alt-Svc` field value advertising HTTP/3 on `port` (RFC 9114
/// §3.1.1, RFC 7838).
pub(crate) fn alt_svc(port: u16) -> HeaderValue {
    let value = format!("h3=\":{port}\"; ma={ALT_SVC_MAX_AGE}");
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("clear"))
}

/// A bound QUIC endpoint, not yet serving.
pub(crate) struct Endpoint {
    endpoint: quinn::Endpoint,
    addr: SocketAddr,
}

/// Binds a QUIC endpoint beside each TCP listener at `tcp` (same address
/// and port, the same `SO_REUSEPORT` and `IPV6_V6ONLY` as the listener).
pub(crate) fn bind(
    tcp: &[&std::net::TcpListener],
    tls: &TlsConfig,
    config: &ServerConfig,
) -> Result<Vec<Endpoint>, Error> {
    let server = server_config(tls, &config.http3)?;
    tcp.iter()
        .map(|listener| {
            let addr = listener.local_addr().map_err(Error::io)?;
            let fail = |e: io::Error| Error::bind(addr, e);
            let socket = udp_socket(listener, addr).map_err(fail)?;
            let endpoint = quinn::Endpoint::new(
                quinn::EndpointConfig::default(),
                Some(server.clone()),
                socket,
                Arc::new(quinn::TokioRuntime),
            )
            .map_err(fail)?;
            Ok(Endpoint { endpoint, addr })
        })
        .collect()
}

/// A UDP socket on `addr`, with the TCP listener's socket options.
fn udp_socket(
    listener: &std::net::TcpListener,
    addr: SocketAddr,
) -> io::Result<std::net::UdpSocket> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = crate::platform::udp_socket(family)?;
    if sockopt::socket_reuseport(listener).unwrap_or(false) {
        sockopt::set_socket_reuseport(&fd, true)?;
    }
    if addr.is_ipv6() {
        let v6only = sockopt::ipv6_v6only(listener).unwrap_or(false);
        sockopt::set_ipv6_v6only(&fd, v6only)?;
    }
    rustix::net::bind(&fd, &addr)?;
    Ok(std::net::UdpSocket::from(fd))
}

/// quinn's server configuration from berth's: the QUIC TLS configuration
/// (same certificate resolver as TCP, TLS 1.3, ALPN `h3`, no 0-RTT) and
/// the transport limits.
fn server_config(tls: &TlsConfig, h3: &Http3Config) -> Result<quinn::ServerConfig, Error> {
    let crypto =
        QuicServerConfig::try_from(tls.quic()?).map_err(|e| Error::tls(format!("QUIC: {e}")))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    let idle = quinn::IdleTimeout::try_from(h3.idle_timeout)
        .unwrap_or_else(|_| quinn::IdleTimeout::from(quinn::VarInt::MAX));
    transport
        .max_concurrent_bidi_streams(h3.max_concurrent_streams.into())
        .max_concurrent_uni_streams(MAX_UNI_STREAMS.into())
        .stream_receive_window(h3.stream_window.into())
        .receive_window(h3.connection_window.into())
        .send_window(h3.max_buffered_bytes as u64)
        .max_idle_timeout(Some(idle))
        // Server-initiated datagrams and the spin bit serve nothing here.
        .datagram_receive_buffer_size(None)
        .allow_spin(false);
    server.transport_config(Arc::new(transport));
    // A client that moves to a new address (NAT rebinding, a phone
    // switching networks) keeps its connection: quinn validates the new
    // path (RFC 9000 §9).
    server.migration(true);
    Ok(server)
}

/// Counts handshakes in progress on one endpoint.
struct Handshaking(Arc<AtomicUsize>);

impl Handshaking {
    fn start(count: &Arc<AtomicUsize>) -> Handshaking {
        count.fetch_add(1, Ordering::Relaxed);
        Handshaking(count.clone())
    }
}

impl Drop for Handshaking {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes new connections on `endpoint`; each one is served on its own
/// task, holding a connection permit. Once shutdown has begun, new
/// clients are refused (CONNECTION_REFUSED: a browser falls back to TCP at
/// once) until the server drops this task.
pub(crate) async fn serve_endpoint<H: Handler>(
    endpoint: Endpoint,
    shared: Arc<Shared<H>>,
    stop: Shutdown,
) {
    let Endpoint { endpoint, addr } = endpoint;
    let handshaking = Arc::new(AtomicUsize::new(0));
    let threshold = shared.config.http3.retry_threshold;
    tracing::debug!(%addr, "HTTP/3 endpoint ready");
    while let Some(incoming) = endpoint.accept().await {
        if stop.is_stopping() {
            incoming.refuse();
            continue;
        }
        // RFC 9000 §8.1: past the threshold, a client must show it
        // receives at its address before the server keeps any state for
        // it (a Retry costs the server one stateless packet).
        if !incoming.remote_address_validated()
            && handshaking.load(Ordering::Relaxed) >= threshold
            && incoming.may_retry()
        {
            count(&shared, Http3Event::Retry);
            if let Err(e) = incoming.retry() {
                e.into_incoming().ignore();
            }
            continue;
        }
        // The connection cap is shared with TCP. A QUIC client cannot wait
        // in a backlog: it is refused, and falls back to TCP.
        let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
            count(&shared, Http3Event::Refused);
            incoming.refuse();
            continue;
        };
        let connecting = match incoming.accept() {
            Ok(connecting) => connecting,
            Err(e) => {
                tracing::debug!(%addr, "QUIC connection not accepted: {e}");
                continue;
            }
        };
        let guard = Handshaking::start(&handshaking);
        let (shared, stop) = (shared.clone(), stop.clone());
        tokio::spawn(Box::pin(conn::serve(
            connecting, guard, permit, shared, stop,
        )));
    }
}

/// Waits (within `limit`) for the endpoints' last packets, a
/// CONNECTION_CLOSE among them, to leave.
pub(crate) async fn close(endpoints: Vec<quinn::Endpoint>, limit: Duration) {
    for endpoint in &endpoints {
        endpoint.close(quinn::VarInt::from_u32(0x100), b"");
    }
    let idle = async {
        for endpoint in &endpoints {
            endpoint.wait_idle().await;
        }
    };
    let _ = tokio::time::timeout(limit, idle).await;
}

impl Endpoint {
    /// The quinn endpoint, kept by the server to close it at the end.
    pub(crate) fn handle(&self) -> quinn::Endpoint {
        self.endpoint.clone()
    }

    /// The UDP port (the TCP listener's).
    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

fn count<H>(shared: &Shared<H>, event: Http3Event) {
    if let Some(metrics) = &shared.config.metrics {
        metrics.http3(event);
    }
}
