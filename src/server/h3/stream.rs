//! One HTTP/3 request stream: the request read (its HEADERS frame decoded
//! by the `h3` crate, within the head deadline), checked against berth's
//! limits and handed to the serving core; the response head without
//! connection-specific fields (RFC 9114 §4.2), and the body sent as DATA
//! frames, each waiting for room in quinn's send window (backpressure) and
//! for no longer than the write timeout.

use std::future::{Future, poll_fn};
use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use h3::error::Code;
use http::{Method, StatusCode, Version};
use tokio::sync::Notify;
use tokio::time::timeout;

use super::body::RequestBody;
use super::conn::{Conn, Open, RequestResolver};
use crate::body::{FileRange, Incoming, Kind};
use crate::request::PeerAddr;
use crate::server::serve::Exchange;
use crate::server::serve::framed::{
    self, as_http11, content_length, expects_continue, prepare_head, read_piece, refusal,
};
use crate::{Body, Handler, Request, Response};

/// The sending half of a request stream.
type SendHalf = h3::server::RequestStream<h3_quinn::SendStream<Bytes>, Bytes>;

/// Most body bytes handed to one DATA frame: a file is read in pieces of
/// this size, an in-memory body cut into them (no copy), so each waits
/// for room on its own and the write timeout bounds each.
const PIECE: usize = 64 * 1024;

/// Why a response could not be sent to its end.
enum Cut {
    /// The client stopped the stream, or the connection is gone.
    Peer,
    /// Berth gave up: the body failed or the client stopped reading. The
    /// stream is reset (RFC 9114 §4.1.1).
    Abort(Code),
}

/// Serves one request stream, from its request to the response's last
/// byte.
pub(super) async fn serve<H: Handler>(resolver: RequestResolver, open: Open<H>) {
    let conn: &Arc<Conn<H>> = &open.0;
    let config = &conn.config;
    // Malformed heads (RFC 9114 §4.1.2: H3_MESSAGE_ERROR) and heads over
    // the field section limit (§4.2.2: 431) are answered by the crate.
    let resolved = timeout(config.timeouts.head_read, resolver.resolve_request()).await;
    let (request, stream) = match resolved {
        Ok(Ok(resolved)) => resolved,
        Ok(Err(e)) => {
            tracing::debug!(peer = %conn.peer, "HTTP/3 request not read: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!(peer = %conn.peer, "HTTP/3 request head timed out");
            return;
        }
    };
    let (mut send, recv) = stream.split();
    let (mut parts, ()) = request.into_parts();
    as_http11(&mut parts);
    let mut exchange = Exchange::begin(
        config,
        &parts.method,
        &parts.uri,
        Version::HTTP_3,
        &parts.headers,
    );
    let is_head = parts.method == Method::HEAD;
    let declared = content_length(&parts.headers);
    let response = match refusal(config, &parts) {
        Some(status) => crate::response::status(status),
        None => {
            // RFC 9110 §10.1.1: `100 Continue` when the handler first
            // reads the body, as over HTTP/1.1 and HTTP/2.
            let wants_body = (declared != Some(0) && expects_continue(&parts.headers))
                .then(|| Arc::new(Notify::new()));
            // HTTP/3 does not say in the head whether a body follows: an
            // undeclared one is read to the stream's end.
            let body = if declared == Some(0) {
                Body::empty()
            } else {
                let pause = config.timeouts.body_read;
                let source = RequestBody::new(recv, pause, wants_body.clone());
                Incoming::pulled(source, declared, config.max_body_bytes)
            };
            let mut request = Request::from_parts(parts, body);
            if config.peer_addr {
                request.extensions_mut().insert(PeerAddr(conn.peer));
            }
            let mut control = Control {
                send: &mut send,
                write: config.timeouts.write,
            };
            let called = framed::call(&*conn.handler, request, conn.peer, wants_body, &mut control);
            match called.await {
                Some(response) => response,
                None => return,
            }
        }
    };
    exchange.note_response(&response);
    let (status, sent) = match respond_with(&mut send, response, is_head, conn).await {
        Ok(done) => done,
        Err((status, sent, cut)) => {
            if let Cut::Abort(code) = cut {
                send.stop_stream(code);
            }
            (status, sent)
        }
    };
    exchange.end(config, conn.peer, status, sent);
}

/// The stream as [`framed::call`] drives it: `100 Continue` under the
/// write timeout. A cancelled stream is noticed at the next write (the h3
/// crate does not signal it while the handler runs).
struct Control<'a> {
    send: &'a mut SendHalf,
    write: std::time::Duration,
}

impl framed::StreamControl for Control<'_> {
    async fn send_interim(&mut self, response: http::Response<()>) {
        let _ = timeout(self.write, self.send.send_response(response)).await;
    }

    fn poll_cancelled(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

type Sent = Result<(StatusCode, u64), (StatusCode, u64, Cut)>;

/// Sends the response; `Ok((status, body bytes sent))` once its last byte
/// is handed to QUIC and the stream finished.
async fn respond_with<H>(
    send: &mut SendHalf,
    response: Response,
    is_head: bool,
    conn: &Conn<H>,
) -> Sent {
    let (mut parts, body) = response.into_parts();
    if parts.status.is_informational() {
        // Interim responses are the protocol's business; a handler
        // returning one has a bug.
        tracing::error!(status = %parts.status, "handler returned an interim status");
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
    }
    let status = parts.status;
    let length = body.size_hint();
    let no_body = is_head
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || length == Some(0);
    prepare_head(&mut parts.headers, status, is_head, length);
    let head = http::Response::from_parts(parts, ());
    let mut sender = BodySender {
        send,
        conn,
        sent: 0,
    };
    let result = async {
        sender.write(|s| s.send_response(head)).await?;
        if !no_body {
            sender.body(body, length).await?;
        }
        sender.write(|s| s.finish()).await
    };
    match result.await {
        Ok(()) => Ok((status, sender.sent)),
        Err(cut) => Err((status, sender.sent, cut)),
    }
}

/// Sends a body as DATA frames, each within the write timeout.
struct BodySender<'a, H> {
    send: &'a mut SendHalf,
    conn: &'a Conn<H>,
    sent: u64,
}

impl<H> BodySender<'_, H> {
    /// One write to the stream: it waits for room in QUIC's windows, and
    /// fails the stream if none comes within the write timeout (a client
    /// that stopped reading).
    async fn write<'s, F, Fut>(&'s mut self, op: F) -> Result<(), Cut>
    where
        F: FnOnce(&'s mut SendHalf) -> Fut,
        Fut: Future<Output = Result<(), h3::error::StreamError>> + 's,
    {
        let limit = self.conn.config.timeouts.write;
        match timeout(limit, op(self.send)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::debug!(peer = %self.conn.peer, "HTTP/3 response cut: {e}");
                Err(Cut::Peer)
            }
            Err(_) => Err(Cut::Abort(Code::H3_REQUEST_CANCELLED)),
        }
    }

    async fn data(&mut self, data: Bytes) -> Result<(), Cut> {
        let n = data.len() as u64;
        self.write(|s| s.send_data(data)).await?;
        self.sent += n;
        Ok(())
    }

    async fn body(&mut self, body: Body, length: Option<u64>) -> Result<(), Cut> {
        match body.kind {
            Kind::Empty => Ok(()),
            Kind::Full(bytes) => self.bytes(bytes).await,
            Kind::File(range) => self.file(range).await,
            Kind::Stream(..) | Kind::Incoming(_) => self.stream(body, length).await,
        }
    }

    /// An in-memory body, in pieces (no copy).
    async fn bytes(&mut self, mut data: Bytes) -> Result<(), Cut> {
        while !data.is_empty() {
            let piece = data.split_to(PIECE.min(data.len()));
            self.data(piece).await?;
        }
        Ok(())
    }

    /// A file range, read a piece at a time: memory per stream stays
    /// bounded whatever the file size.
    async fn file(&mut self, mut range: FileRange) -> Result<(), Cut> {
        while range.len > 0 {
            let n = range.len.min(PIECE as u64) as usize;
            let piece = match read_piece(&range, n) {
                Ok(piece) => piece,
                Err(e) => {
                    tracing::warn!("file read failed: {e}; resetting the stream");
                    return Err(Cut::Abort(Code::H3_INTERNAL_ERROR));
                }
            };
            range.offset += n as u64;
            range.len -= n as u64;
            self.data(piece).await?;
        }
        Ok(())
    }

    /// A stream of chunks, each sent as soon as it is produced (SSE).
    async fn stream(&mut self, mut body: Body, length: Option<u64>) -> Result<(), Cut> {
        let mut body = std::pin::Pin::new(&mut body);
        while let Some(next) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            match next {
                Ok(chunk) => {
                    if length.is_some_and(|n| self.sent + chunk.len() as u64 > n) {
                        tracing::error!(
                            "response body longer than its length; resetting the stream"
                        );
                        return Err(Cut::Abort(Code::H3_INTERNAL_ERROR));
                    }
                    self.bytes(chunk).await?;
                }
                Err(e) => {
                    // The message cannot be completed: the client must see
                    // it cut short, not ended.
                    tracing::warn!("response body stream failed: {e}; resetting the stream");
                    return Err(Cut::Abort(Code::H3_INTERNAL_ERROR));
                }
            }
        }
        if length.is_some_and(|n| self.sent != n) {
            tracing::error!("response body shorter than its length; resetting the stream");
            return Err(Cut::Abort(Code::H3_INTERNAL_ERROR));
        }
        Ok(())
    }
}
