//! An HTTP/3 client for the tests: quinn, h3 and h3-quinn on the client
//! side (the crates berth serves with), over real UDP sockets on loopback,
//! trusting one test CA. Every wait is bounded by [`LIMIT`].
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, Method, Request, StatusCode};

/// Longest any single step of a test may take.
pub const LIMIT: Duration = Duration::from_secs(10);

pub type SendRequest = h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>;
pub type Stream = h3::client::RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>;

/// `future`, or a panic naming `what` after [`LIMIT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {LIMIT:?}"))
}

/// One HTTP/3 connection.
pub struct H3 {
    pub send: SendRequest,
    pub quic: quinn::Connection,
    pub endpoint: quinn::Endpoint,
    driver: tokio::task::JoinHandle<h3::error::ConnectionError>,
}

/// A response read whole.
#[derive(Debug)]
pub struct H3Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl H3Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// A quinn client configuration trusting `ca_der`, ALPN `h3`.
pub fn client_config(ca_der: &[u8]) -> quinn::ClientConfig {
    let versions = [&rustls::version::TLS13];
    let tls = crate::support::tls_client_config(&[ca_der], &versions, &[b"h3"]);
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).expect("QUIC TLS config");
    quinn::ClientConfig::new(Arc::new(quic))
}

/// A client endpoint on an ephemeral loopback port.
pub fn client_endpoint(ca_der: &[u8]) -> quinn::Endpoint {
    endpoint_with(client_config(ca_der))
}

/// A client endpoint with `config`.
pub fn endpoint_with(config: quinn::ClientConfig) -> quinn::Endpoint {
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).expect("bind UDP");
    endpoint.set_default_client_config(config);
    endpoint
}

/// A quinn client configuration from a rustls one (ALPN set to `h3`).
pub fn from_rustls(tls: &rustls::ClientConfig) -> quinn::ClientConfig {
    let mut tls = tls.clone();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    let quic =
        quinn::crypto::rustls::QuicClientConfig::try_from(Arc::new(tls)).expect("QUIC TLS config");
    quinn::ClientConfig::new(Arc::new(quic))
}

impl H3 {
    /// Connects to `addr` (UDP), trusting `ca_der` for `localhost`.
    pub async fn connect(addr: SocketAddr, ca_der: &[u8]) -> H3 {
        H3::try_connect(addr, ca_der)
            .await
            .unwrap_or_else(|e| panic!("HTTP/3 connection to {addr}: {e}"))
    }

    /// Connects, or says why it could not (within 3 s: nothing answering
    /// on the port is a failure too).
    pub async fn try_connect(addr: SocketAddr, ca_der: &[u8]) -> Result<H3, String> {
        H3::try_connect_with(addr, client_config(ca_der)).await
    }

    /// Connects with a client configuration of the caller's.
    pub async fn try_connect_with(
        addr: SocketAddr,
        config: quinn::ClientConfig,
    ) -> Result<H3, String> {
        let endpoint = endpoint_with(config);
        let connecting = endpoint
            .connect(addr, "localhost")
            .map_err(|e| e.to_string())?;
        let quick = Duration::from_secs(3);
        let quic = tokio::time::timeout(quick, connecting)
            .await
            .map_err(|_| "no handshake within 3 s".to_string())?
            .map_err(|e| e.to_string())?;
        let (mut driver, send) = tokio::time::timeout(
            quick,
            h3::client::new(h3_quinn::Connection::new(quic.clone())),
        )
        .await
        .map_err(|_| "no HTTP/3 setup within 3 s".to_string())?
        .map_err(|e| e.to_string())?;
        let driver =
            tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
        Ok(H3 {
            send,
            quic,
            endpoint,
            driver,
        })
    }

    /// Opens a request stream for `method` on `path` with `headers`; the
    /// caller sends the body (if any), finishes and reads.
    pub async fn open(&mut self, method: Method, path: &str, headers: &[(&str, &str)]) -> Stream {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("https://localhost{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        within(
            "send request",
            self.send.send_request(request.body(()).unwrap()),
        )
        .await
        .expect("send request")
    }

    /// A whole exchange: the request with `body`, the response read whole.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> H3Response {
        let mut stream = self.open(method, path, headers).await;
        if let Some(body) = body {
            within("send body", stream.send_data(body))
                .await
                .expect("send body");
        }
        within("finish request", stream.finish())
            .await
            .expect("finish");
        read_response(&mut stream).await
    }

    pub async fn get(&mut self, path: &str) -> H3Response {
        self.request(Method::GET, path, &[], None).await
    }

    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> H3Response {
        self.request(Method::GET, path, headers, None).await
    }

    /// Closes the connection (H3_NO_ERROR) and waits for the close to go
    /// out.
    pub async fn close(self) {
        self.quic.close(0x100u32.into(), b"");
        let _ = tokio::time::timeout(Duration::from_secs(2), self.endpoint.wait_idle()).await;
        self.driver.abort();
    }

    /// Waits for the connection to end; the error it ended with.
    pub async fn closed(&self) -> quinn::ConnectionError {
        within("connection close", self.quic.closed()).await
    }
}

/// Reads a response's head and whole body from `stream`.
pub async fn read_response(stream: &mut Stream) -> H3Response {
    let head = within("response head", stream.recv_response())
        .await
        .expect("response head");
    let mut body = BytesMut::new();
    while let Some(mut chunk) = within("response body", stream.recv_data())
        .await
        .expect("response body")
    {
        body.extend_from_slice(&chunk.copy_to_bytes(chunk.remaining()));
    }
    let (parts, ()) = head.into_parts();
    H3Response {
        status: parts.status,
        headers: parts.headers,
        body: body.freeze(),
    }
}

/// The next piece of a response body (`None` at its end).
pub async fn next_chunk(stream: &mut Stream) -> Option<Bytes> {
    within("response body", stream.recv_data())
        .await
        .expect("response body")
        .map(|mut c| c.copy_to_bytes(c.remaining()))
}
