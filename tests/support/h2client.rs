//! An HTTP/2 client for tests, over the `h2` crate's client (another
//! implementation than the server's use of the same crate would be better,
//! but h2's client is strict: it rejects a malformed response, e.g. one
//! carrying a connection-specific field, so a request that succeeds proves
//! the response was well-formed).
//!
//! Async, on tokio: a test is `#[tokio::test]` and the server runs on its
//! own thread and runtime. Cleartext (h2c, prior knowledge) with
//! [`H2::h2c`], TLS with ALPN `h2` with [`H2::tls`]. Every wait is bounded
//! by [`LIMIT`] (a test that waits for what never comes fails instead of
//! hanging); nothing here sleeps.
//!
//! Include it next to `mod support;` with
//! `#[path = "support/h2client.rs"] mod h2client;`.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::RecvStream;
use h2::client::{ResponseFuture, SendRequest};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Version};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// How long any one step (connect, handshake, a response head, a body
/// chunk, a whole body) may take.
pub const LIMIT: Duration = Duration::from_secs(5);

/// `fut`, or a panic naming `what` after [`LIMIT`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    within_for(LIMIT, what, fut).await
}

/// `fut`, or a panic naming `what` after `limit`.
pub async fn within_for<T>(limit: Duration, what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// One response, read to its end.
#[derive(Debug, Clone)]
pub struct H2Response {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl H2Response {
    /// The only value of `name`, as a string; panics if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut all = self.headers.get_all(name).iter();
        let first = all.next()?;
        assert!(
            all.next().is_none(),
            "header {name} repeated: {:?}",
            self.headers
        );
        Some(first.to_str().expect("header value is not visible ASCII"))
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("body is not UTF-8")
    }
}

/// One HTTP/2 connection.
pub struct H2 {
    pub send: SendRequest<Bytes>,
    /// The connection's task: it ends when the connection closes, with
    /// h2's error if it closed on one.
    pub conn: JoinHandle<Result<(), h2::Error>>,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// `:authority` of the requests made by path.
    pub authority: String,
    /// The client's end of the TCP connection.
    pub local: SocketAddr,
}

async fn tcp(addr: SocketAddr) -> TcpStream {
    let tcp = within("TCP connect", TcpStream::connect(addr))
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    tcp.set_nodelay(true).unwrap();
    tcp
}

impl H2 {
    /// A cleartext connection opened with the preface (prior knowledge).
    pub async fn h2c(addr: SocketAddr) -> H2 {
        H2::try_h2c(addr)
            .await
            .unwrap_or_else(|e| panic!("h2c handshake with {addr}: {e}"))
    }

    /// [`H2::h2c`], giving back the handshake's error.
    pub async fn try_h2c(addr: SocketAddr) -> Result<H2, h2::Error> {
        let tcp = tcp(addr).await;
        let local = tcp.local_addr().unwrap();
        let authority = addr.to_string();
        H2::handshake(tcp, "http", authority, local).await
    }

    /// A TLS connection to `addr` (server name `localhost`) with `config`,
    /// which must offer `h2` in ALPN; panics unless the server picks it.
    #[cfg(feature = "tls")]
    pub async fn tls(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> H2 {
        let tcp = tcp(addr).await;
        let local = tcp.local_addr().unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let connector = tokio_rustls::TlsConnector::from(config);
        let tls = within("TLS handshake", connector.connect(name, tcp))
            .await
            .unwrap_or_else(|e| panic!("TLS handshake with {addr}: {e}"));
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        assert_eq!(
            alpn.as_deref(),
            Some(&b"h2"[..]),
            "the server did not pick h2 in ALPN"
        );
        let authority = format!("localhost:{}", addr.port());
        H2::handshake(tls, "https", authority, local)
            .await
            .unwrap_or_else(|e| panic!("HTTP/2 handshake over TLS with {addr}: {e}"))
    }

    async fn handshake<T>(
        io: T,
        scheme: &'static str,
        authority: String,
        local: SocketAddr,
    ) -> Result<H2, h2::Error>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (send, connection) = within("HTTP/2 handshake", h2::client::handshake(io)).await?;
        let conn = tokio::spawn(connection);
        let mut h2 = H2 {
            send,
            conn,
            scheme,
            authority,
            local,
        };
        h2.send = within("client ready", h2.send.clone().ready()).await?;
        Ok(h2)
    }

    /// The absolute URI of `path` on this connection.
    pub fn uri(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.authority)
    }

    /// A request head for `path` with `headers`.
    pub fn head_of(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut req = Request::builder()
            .method(method)
            .uri(self.uri(path))
            .body(())
            .unwrap();
        for (name, value) in headers {
            req.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        req
    }

    /// Opens a stream with `head`, its END_STREAM set when `end`: the
    /// response to come, and the request body's sender.
    pub async fn open(
        &mut self,
        head: Request<()>,
        end: bool,
    ) -> Result<(ResponseFuture, h2::SendStream<Bytes>), h2::Error> {
        let mut send = within("a stream slot", self.send.clone().ready()).await?;
        send.send_request(head, end)
    }

    /// Sends `head` with `body` (none: no DATA) and reads the response to
    /// its end.
    pub async fn try_request(
        &mut self,
        head: Request<()>,
        body: Option<Bytes>,
    ) -> Result<H2Response, h2::Error> {
        let (response, mut sender) = self.open(head, body.is_none()).await?;
        if let Some(body) = body {
            let sending = tokio::spawn(async move { send_all(&mut sender, [body]).await });
            let res = read_response(response).await;
            // The server may answer (413) and reset before taking it all.
            let _ = within("request body sent", sending).await;
            return res;
        }
        read_response(response).await
    }

    /// GET `path` with `headers`; panics on a stream or connection error.
    pub async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> H2Response {
        let head = self.head_of(Method::GET, path, headers);
        self.try_request(head, None)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// HEAD `path` with `headers`.
    pub async fn head(&mut self, path: &str, headers: &[(&str, &str)]) -> H2Response {
        let head = self.head_of(Method::HEAD, path, headers);
        self.try_request(head, None)
            .await
            .unwrap_or_else(|e| panic!("HEAD {path}: {e}"))
    }

    /// Any `method` on `path` with a body sent as one piece (h2 cuts it
    /// into DATA frames as flow control allows).
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> H2Response {
        let head = self.head_of(method.clone(), path, headers);
        self.try_request(head, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// POST `path` with a body streamed as `chunks` (each within the
    /// capacity the server grants, so many DATA frames), while the response
    /// is read. The send's result comes back too: a server that answers
    /// early may reset the stream before the body is all sent.
    pub async fn post_streamed(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        chunks: Vec<Bytes>,
    ) -> (Result<H2Response, h2::Error>, Result<(), h2::Error>) {
        let head = self.head_of(Method::POST, path, headers);
        let (response, mut sender) = self
            .open(head, false)
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let sending = tokio::spawn(async move { send_all(&mut sender, chunks).await });
        let res = read_response(response).await;
        let sent = within("request body sent", sending).await.unwrap();
        (res, sent)
    }

    /// Waits for the connection to end: h2's result (`Ok` for a clean
    /// close after GOAWAY).
    pub async fn closed(self) -> Result<(), h2::Error> {
        within("the connection to close", self.conn)
            .await
            .expect("connection task panicked")
    }
}

/// Sends every chunk, each within the flow-control capacity granted, and
/// ends the stream.
pub async fn send_all(
    sender: &mut h2::SendStream<Bytes>,
    chunks: impl IntoIterator<Item = Bytes>,
) -> Result<(), h2::Error> {
    for mut chunk in chunks {
        while !chunk.is_empty() {
            sender.reserve_capacity(chunk.len());
            let granted = within(
                "flow-control capacity for the request body",
                std::future::poll_fn(|cx| sender.poll_capacity(cx)),
            )
            .await;
            let n = match granted {
                Some(Ok(n)) => n,
                Some(Err(e)) => return Err(e),
                None => return Err(h2::Error::from(h2::Reason::CANCEL)),
            };
            if n == 0 {
                continue;
            }
            let piece = chunk.split_to(n.min(chunk.len()));
            sender.send_data(piece, false)?;
        }
    }
    sender.send_data(Bytes::new(), true)
}

/// The response head, then its body to the end.
pub async fn read_response(response: ResponseFuture) -> Result<H2Response, h2::Error> {
    let response = within("response head", response).await?;
    let (parts, recv) = response.into_parts();
    let body = read_body(recv).await?;
    Ok(H2Response {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body,
    })
}

/// The whole body, each piece's capacity released as it is taken.
pub async fn read_body(mut recv: RecvStream) -> Result<Bytes, h2::Error> {
    let mut body = BytesMut::new();
    while let Some(chunk) = next_chunk(&mut recv).await {
        body.extend_from_slice(&chunk?);
    }
    Ok(body.freeze())
}

/// The next DATA payload (its capacity released), or `None` at the end.
pub async fn next_chunk(recv: &mut RecvStream) -> Option<Result<Bytes, h2::Error>> {
    let chunk = within("a body chunk", recv.data()).await?;
    if let Ok(data) = &chunk {
        let _ = recv.flow_control().release_capacity(data.len());
    }
    Some(chunk)
}

/// A blocking GET over h2c on a runtime of its own: status, headers, body.
pub fn h2_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> H2Response {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut h2 = H2::h2c(addr).await;
        h2.get(path, headers).await
    })
}

/// A blocking GET over TLS with ALPN h2, trusting `config`.
#[cfg(feature = "tls")]
pub fn h2_get_tls(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    path: &str,
    headers: &[(&str, &str)],
) -> H2Response {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut h2 = H2::tls(addr, config).await;
        h2.get(path, headers).await
    })
}
