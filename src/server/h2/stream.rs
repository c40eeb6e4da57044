//! One HTTP/2 stream: the request checked against berth's limits and
//! handed to the serving core, the response head stripped of
//! connection-specific fields (RFC 9113 §8.2.2), and the body sent in
//! pieces no larger than the flow-control capacity the client granted and
//! the connection's buffer budget allows.

use std::future::poll_fn;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};
use tokio::sync::Notify;
use tokio::time::timeout;

use super::body::{Leftover, RequestBody, Rest, read_rest};
use super::request::{as_http11, content_length, expects_continue, refusal};
use super::{Conn, Open};
use crate::body::{FileRange, Incoming, Kind};
use crate::request::PeerAddr;
use crate::server::date::date_header;
use crate::server::serve::{self, Exchange};
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
            let mut call = std::pin::pin!(serve::start(&*conn.handler, request));
            let mut continued = wants_body.is_none();
            loop {
                let first_read = async {
                    match &wants_body {
                        Some(notify) => notify.notified().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    result = &mut call => break serve::settle(result, conn.peer),
                    // A client that cancels the stream cancels the handler too.
                    _ = poll_fn(|cx| respond.poll_reset(cx)) => {
                        conn.reset_by_peer();
                        return;
                    }
                    () = first_read, if !continued => {
                        continued = true;
                        let interim = http::Response::builder()
                            .status(StatusCode::CONTINUE)
                            .body(())
                            .unwrap_or_default();
                        let _ = respond.send_informational(interim);
                    }
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

/// The fields HTTP/2 forbids (RFC 9113 §8.2.2: a message carrying them is
/// malformed), which a handler written for HTTP/1.1 may set.
const CONNECTION_SPECIFIC: [HeaderName; 5] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The response head as HTTP/2 sends it: no connection-specific fields;
/// `Date` and `Server` as on HTTP/1.1; `Content-Length` from the body's
/// known length (RFC 9110 §8.6), none for 204 and 304, and for HEAD the
/// length GET would have (kept from the handler when it sent no body).
///
/// One pass over the handler's fields finds what is there (a response
/// carries a handful): no hashed lookup per name, as for HTTP/1.1.
fn prepare_head(headers: &mut HeaderMap, status: StatusCode, is_head: bool, length: Option<u64>) {
    let (mut has_date, mut has_server, mut has_length, mut forbidden) =
        (false, false, false, false);
    for name in headers.keys() {
        if name == header::DATE {
            has_date = true;
        } else if name == header::SERVER {
            has_server = true;
        } else if name == header::CONTENT_LENGTH {
            has_length = true;
        } else if CONNECTION_SPECIFIC.contains(name) {
            forbidden = true;
        }
    }
    if forbidden {
        for name in &CONNECTION_SPECIFIC {
            headers.remove(name);
        }
    }
    if !has_date {
        headers.insert(header::DATE, date_header());
    }
    if !has_server {
        headers.insert(header::SERVER, HeaderValue::from_static("berth"));
    }
    let no_body_status = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    if is_head && !no_body_status && length == Some(0) && has_length {
        return;
    }
    match length {
        Some(n) if !no_body_status => {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        _ if has_length => {
            headers.remove(header::CONTENT_LENGTH);
        }
        _ => {}
    }
}

/// `n` bytes of a file range from its offset, read into a fresh buffer's
/// spare capacity (never zeroed first: for a 1 MiB file, zeroing was 80%
/// of the instructions spent per response).
fn read_piece(range: &FileRange, n: usize) -> io::Result<Bytes> {
    let mut buf = Vec::with_capacity(n);
    while buf.len() < n {
        let at = range.offset + buf.len() as u64;
        match rustix::io::pread(&*range.file, rustix::buffer::spare_capacity(&mut buf), at) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank")),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The spare capacity may exceed `n`: what was read past it belongs to
    // the next piece (or lies beyond the range).
    buf.truncate(n);
    Ok(Bytes::from(buf))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_specific_fields_never_reach_http2() {
        let mut headers = HeaderMap::new();
        for name in CONNECTION_SPECIFIC {
            headers.insert(name, HeaderValue::from_static("x"));
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
        prepare_head(&mut headers, StatusCode::OK, false, Some(5));
        for name in &CONNECTION_SPECIFIC {
            assert!(!headers.contains_key(name), "{name} kept");
        }
        assert_eq!(
            headers[header::CONTENT_LENGTH],
            "5",
            "the body's length wins"
        );
        assert_eq!(headers[header::SERVER], "berth");
        assert!(headers.contains_key(header::DATE));
    }

    #[test]
    fn content_length_follows_http11_rules() {
        // (status, HEAD, body length, handler's Content-Length, sent)
        type Case = (
            StatusCode,
            bool,
            Option<u64>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            (StatusCode::OK, false, None, Some("3"), None),
            (StatusCode::NO_CONTENT, false, Some(0), None, None),
            (StatusCode::NOT_MODIFIED, false, Some(0), Some("10"), None),
            (StatusCode::OK, true, Some(0), Some("1234"), Some("1234")),
            (StatusCode::OK, true, Some(7), None, Some("7")),
        ];
        for &(status, is_head, length, handler, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(v) = handler {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static(v));
            }
            prepare_head(&mut headers, status, is_head, length);
            assert_eq!(
                headers
                    .get(header::CONTENT_LENGTH)
                    .map(|v| v.to_str().unwrap()),
                expected,
                "{status} head={is_head} length={length:?}"
            );
        }
    }
}
