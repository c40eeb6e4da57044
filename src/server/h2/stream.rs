//! One HTTP/2 stream: the request checked against berth's limits and
//! handed to the serving core, the response head stripped of
//! connection-specific fields (RFC 9113 §8.2.2), and the body sent in
//! pieces no larger than the flow-control capacity the client granted and
//! the connection's buffer budget allows.

use std::future::poll_fn;
use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use http::{Method, StatusCode, Version};
use tokio::sync::Notify;
use tokio::time::timeout;

use super::body::{Leftover, RequestBody, Rest, read_rest};
use super::{Conn, Open};
use crate::body::{FileRange, Incoming, Kind};
use crate::request::PeerAddr;
use crate::server::serve::framed::{
    self, as_http11, content_length, expects_continue, prepare_head, read_piece, refusal,
};
use crate::server::serve::{Exchange, add_alt_svc};
use crate::{Body, Handler, Request, Response};

/// Most bytes of a file read for one DATA send (the `h2` codec cuts it
/// into frames of the peer's maximum frame size).
const FILE_PIECE: usize = 64 * 1024;

/// Why a response could not be sent to its end.
enum Cut {
    /// The client reset the stream (or the connection is gone).
    Reset,
    /// Berth gave up: the body failed or stalled; the stream is reset.
    Abort(h2::Reason),
}

/// Serves one stream, from its request to the response's last byte.
pub(super) async fn serve<H: Handler>(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    open: Open<H>,
) {
    let conn: &Arc<Conn<H>> = &open.0;
    let config = &conn.config;
    let (mut parts, recv) = request.into_parts();
    as_http11(&mut parts);
    let mut exchange = Exchange::begin(
        config,
        &parts.method,
        &parts.uri,
        Version::HTTP_2,
        &parts.headers,
    );
    let is_head = parts.method == Method::HEAD;
    let declared = content_length(&parts.headers);
    let leftover = Leftover::default();
    let response = match refusal(config, &parts) {
        Some(status) => crate::response::status(status),
        None => {
            // RFC 9110 §10.1.1: `100 Continue` when the handler first reads
            // the body, as over HTTP/1.1.
            let wants_body = (!recv.is_end_stream() && expects_continue(&parts.headers))
                .then(|| Arc::new(Notify::new()));
            let body = if recv.is_end_stream() {
                Body::empty()
            } else {
                let pause = config.timeouts.body_read;
                let first_read = wants_body.clone();
                let source = RequestBody::new(recv, pause, leftover.clone(), first_read);
                Incoming::pulled(source, declared, config.max_body_bytes)
            };
            let mut request = Request::from_parts(parts, body);
            if config.peer_addr {
                request.extensions_mut().insert(PeerAddr(conn.peer));
            }
            let called = framed::call(&*conn.handler, request, conn.peer, wants_body, &mut respond);
            match called.await {
                Some(response) => response,
                None => {
                    conn.reset_by_peer();
                    return;
                }
            }
        }
    };
    // The handler dropped the request body unfinished: read the rest
    // before answering, so a request that turns out malformed gets its
    // stream error rather than a response.
    if let Some(rest) = leftover.take() {
        let pause = config.timeouts.body_read;
        match read_rest(rest, config.drain_budget, pause).await {
            Rest::Ended | Rest::GaveUp => {}
            Rest::Failed { by_peer } => {
                if by_peer {
                    conn.reset_by_peer();
                }
                return;
            }
        }
    }
    exchange.note_response(&response);
    let (status, sent) = match respond_with(&mut respond, response, is_head, conn).await {
        Ok(done) => done,
        Err((status, sent, cut)) => {
            match cut {
                Cut::Reset => conn.reset_by_peer(),
                Cut::Abort(reason) => respond.send_reset(reason),
            }
            (status, sent)
        }
    };
    exchange.end(config, conn.peer, status, sent);
}

/// Sends the response; `Ok((status, body bytes sent))` once its last byte
/// is handed to the connection.
async fn respond_with<H>(
    respond: &mut h2::server::SendResponse<Bytes>,
    response: Response,
    is_head: bool,
    conn: &Conn<H>,
) -> Result<(StatusCode, u64), (StatusCode, u64, Cut)> {
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
    if let Some(alt_svc) = &conn.alt_svc {
        add_alt_svc(&mut parts.headers, alt_svc);
    }
    let head = http::Response::from_parts(parts, ());
    let mut send = match respond.send_response(head, no_body) {
        Ok(send) => send,
        Err(e) => {
            tracing::debug!("HTTP/2 response head not sent: {e}");
            return Err((status, 0, Cut::Reset));
        }
    };
    if no_body {
        return Ok((status, 0));
    }
    let mut sender = BodySender {
        send: &mut send,
        conn,
        sent: 0,
    };
    match sender.body(body, length).await {
        Ok(()) => Ok((status, sender.sent)),
        Err(cut) => Err((status, sender.sent, cut)),
    }
}

/// Sends a body within the capacity the client grants.
struct BodySender<'a, H> {
    send: &'a mut h2::SendStream<Bytes>,
    conn: &'a Conn<H>,
    sent: u64,
}

impl<H> BodySender<'_, H> {
    async fn body(&mut self, body: Body, length: Option<u64>) -> Result<(), Cut> {
        match body.kind {
            Kind::Empty => self.finish(Bytes::new()),
            Kind::Full(bytes) => self.bytes(bytes, true).await,
            Kind::File(range) => self.file(range).await,
            Kind::Stream(..) | Kind::Incoming(_) => self.stream(body, length).await,
        }
    }

    /// Waits for capacity to send up to `want` bytes: the stream's
    /// flow-control window and the connection's buffer budget. Returns how
    /// much may be sent now (at least 1).
    async fn room(&mut self, want: usize) -> Result<usize, Cut> {
        self.send.reserve_capacity(want);
        let limit = self.conn.config.timeouts.write;
        let granted = loop {
            // Capacity left from an earlier grant is not announced again:
            // `poll_capacity` only reports increases.
            let available = self.send.capacity();
            if available > 0 {
                break available.min(want);
            }
            match timeout(limit, poll_fn(|cx| self.send.poll_capacity(cx))).await {
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return Err(Cut::Reset),
                // The client never opened its window: give up the stream.
                Err(_) => return Err(Cut::Abort(h2::Reason::CANCEL)),
            }
        };
        // No timeout here: while the budget is spent, the connection is
        // writing (or stalled, and then dropped as a whole: see `Meter`).
        Ok(self.conn.meter.take(granted).await)
    }

    fn data(&mut self, data: Bytes, end: bool) -> Result<(), Cut> {
        let n = data.len();
        match self.send.send_data(data, end) {
            Ok(()) => {
                self.sent += n as u64;
                Ok(())
            }
            Err(_) => {
                self.conn.meter.give_back(n);
                Err(Cut::Reset)
            }
        }
    }

    fn finish(&mut self, last: Bytes) -> Result<(), Cut> {
        self.data(last, true)
    }

    /// An in-memory piece, split to the capacity granted (no copy).
    async fn bytes(&mut self, mut data: Bytes, end: bool) -> Result<(), Cut> {
        while !data.is_empty() {
            let n = self.room(data.len()).await?;
            let piece = data.split_to(n.min(data.len()));
            self.data(piece, end && data.is_empty())?;
        }
        Ok(())
    }

    /// A file range, read in pieces no larger than what may be sent at
    /// once: memory per stream stays bounded whatever the file size.
    async fn file(&mut self, mut range: FileRange) -> Result<(), Cut> {
        while range.len > 0 {
            let want = range.len.min(FILE_PIECE as u64) as usize;
            let n = self.room(want).await?;
            let piece = match read_piece(&range, n) {
                Ok(piece) => piece,
                Err(e) => {
                    self.conn.meter.give_back(n);
                    tracing::warn!("file read failed: {e}; resetting the stream");
                    return Err(Cut::Abort(h2::Reason::INTERNAL_ERROR));
                }
            };
            range.offset += n as u64;
            range.len -= n as u64;
            self.data(piece, range.len == 0)?;
        }
        Ok(())
    }

    /// A stream of chunks, each sent as soon as it is produced (SSE).
    async fn stream(&mut self, mut body: Body, length: Option<u64>) -> Result<(), Cut> {
        let mut body = std::pin::Pin::new(&mut body);
        loop {
            let next = tokio::select! {
                biased;
                next = poll_fn(|cx| body.as_mut().poll_next(cx)) => next,
                // The client went away while the body was being produced.
                _ = poll_fn(|cx| self.send.poll_reset(cx)) => return Err(Cut::Reset),
            };
            match next {
                Some(Ok(chunk)) => {
                    if length.is_some_and(|n| self.sent + chunk.len() as u64 > n) {
                        tracing::error!(
                            "response body longer than its length; resetting the stream"
                        );
                        return Err(Cut::Abort(h2::Reason::INTERNAL_ERROR));
                    }
                    self.bytes(chunk, false).await?;
                }
                Some(Err(e)) => {
                    // The message cannot be completed: the client must see
                    // it cut short, not ended.
                    tracing::warn!("response body stream failed: {e}; resetting the stream");
                    return Err(Cut::Abort(h2::Reason::INTERNAL_ERROR));
                }
                None => {
                    if length.is_some_and(|n| self.sent != n) {
                        tracing::error!(
                            "response body shorter than its length; resetting the stream"
                        );
                        return Err(Cut::Abort(h2::Reason::INTERNAL_ERROR));
                    }
                    return self.finish(Bytes::new());
                }
            }
        }
    }
}

/// The stream as [`framed::call`] drives it: `100 Continue` as an
/// informational HEADERS frame, and a client's `RST_STREAM` cancelling
/// the handler.
impl framed::StreamControl for h2::server::SendResponse<Bytes> {
    async fn send_interim(&mut self, response: http::Response<()>) {
        let _ = self.send_informational(response);
    }

    fn poll_cancelled(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.poll_reset(cx).map(drop)
    }
}
