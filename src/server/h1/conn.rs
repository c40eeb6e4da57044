//! One HTTP/1.1 connection's task: read → proto → serving core → write,
//! until close.
//!
//! The loop, per request:
//! 1. Wait for a complete head (the wait's deadline: [`keepalive`](super::keepalive)).
//!    Before blocking on a read, flush any responses already encoded
//!    (pipelining: responses to requests that arrived together leave
//!    together, see [`Outbox`]). A connection with nothing buffered holds
//!    no read buffer while it waits.
//! 2. Call the handler through the serving core ([`serve`](crate::server::serve)).
//!    When the request has a body, the handler reads it through a channel
//!    that this task feeds from the socket on demand ([`feed`](super::feed);
//!    `100 Continue` goes out on the first read).
//! 3. Encode the response through proto ([`respond`](super::respond)):
//!    file bodies are read straight into the write buffer or sent with
//!    `sendfile`, streams are flushed chunk by chunk.
//! 4. Drain what the handler left of the request body (up to a budget),
//!    then start the next cycle, or close.
//!
//! Protocol errors get one response (`Connection: close`) and a lingering
//! close, so the client can read the response before the socket goes away.
//! A new cleartext connection that opens with the HTTP/2 preface ends here
//! and is handed to HTTP/2 (RFC 9113 §3.3); one whose handler answers an
//! upgrade with `101` is handed to the handler ([`upgrade`](super::upgrade)).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use http::HeaderValue;
use tokio::io::AsyncWriteExt;
use tokio::time::{Instant, Sleep, timeout_at};

use super::detect::{self, Preface};
use super::feed::{BodyFeed, Feed, feed_body};
use super::keepalive::{self, Idle};
use super::outbox::Outbox;
use super::upgrade::{UpgradeSender, offer};
use crate::body::{Incoming, IncomingSender, Kind};
use crate::proto::{
    BodyLength, CloseReason, Connection, ErrorKind, Event, ProtocolError, RequestHead,
    RequestProgress, ResponseHead, ResponseProgress,
};
use crate::request::PeerAddr;
use crate::server::config::ServerConfig;
use crate::server::date::with_date;
use crate::server::serve::add_alt_svc;
use crate::server::serve::{self, Exchange, Shutdown};
use crate::server::transport::Transport;
use crate::{Body, Handler, Request, Response};

// Cold paths (errors, request bodies, streams, draining, closing) are
// awaited through `Box::pin`: inlined, their states would make every
// connection's future larger and the hot path's moves costlier (perf showed
// 14% of pipelined CPU in memmove before this).

/// How long to wait for the peer to finish sending after an error
/// response, so that closing does not reset the connection before the
/// response is read.
const LINGER: Duration = Duration::from_secs(2);

/// How an idle wait ends.
enum Woke {
    /// Bytes arrived (or EOF, which the protocol state has been told).
    Bytes,
    /// Close cleanly (idle deadline, shutdown).
    Close,
    /// Idle for the park delay: hand the socket to the parker, which
    /// closes it at this deadline unless a request starts first.
    Park(Instant),
}

/// Where a connection's task starts: a new connection, or one resumed by
/// the parker.
#[derive(Debug, Clone)]
pub(crate) struct Start {
    /// Requests answered on the connection so far.
    pub(crate) served: u64,
    /// The idle deadline a resumed connection brings.
    pub(crate) deadline: Option<Instant>,
    /// Idle this long, the connection ends its task and parks (plain TCP
    /// with a parker only).
    pub(crate) park_after: Option<Duration>,
    /// A first request that is the HTTP/2 preface hands the connection to
    /// HTTP/2 (cleartext listeners with h2c on).
    pub(crate) h2c: bool,
    /// The `Alt-Svc` field every response carries (TLS listeners with
    /// HTTP/3 on: `h3=":PORT"`). Boxed: one pointer in every connection's
    /// state, where the value would take five.
    pub(crate) alt_svc: Option<Box<HeaderValue>>,
}

impl Start {
    /// A connection just accepted, never parked.
    pub(crate) const NEW: Start = Start {
        served: 0,
        deadline: None,
        park_after: None,
        h2c: false,
        alt_svc: None,
    };
}

/// How a connection's task ends.
pub(crate) enum Ended<S> {
    /// The connection is closed (or about to be, when `S` is dropped).
    Closed,
    /// Idle past the park delay: the caller parks the stream.
    Idle {
        stream: S,
        served: u64,
        deadline: Instant,
    },
    /// The client opened with the HTTP/2 preface: serve the stream as
    /// HTTP/2, replaying `read` (the bytes already taken from it) first.
    Http2 { stream: S, read: BytesMut },
}

/// How the driver's loop ends.
enum Exit {
    Close,
    Park(Instant),
    Http2,
    Upgrade,
}

/// How the active phase ends.
enum Active {
    /// Nothing buffered: wait idle for the next request.
    Idle,
    Closed,
    Http2,
    /// A `101` went out: the connection belongs to the handler.
    Upgrade,
}

/// What [`Driver::next_head`] found. (The head is moved out at once;
/// boxing it would cost an allocation per request.)
#[allow(clippy::large_enum_variant)]
enum Next {
    Head(RequestHead),
    Idle,
    Closed,
    Http2,
}

/// Why a connection ends early. Only for control flow and debug logs.
#[derive(Debug)]
pub(super) enum Stop {
    Io(io::Error),
    Timeout,
    Done,
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

pub(super) struct Driver<H, S> {
    pub(super) stream: S,
    pub(super) peer: SocketAddr,
    pub(super) conn: Connection,
    pub(super) out: Outbox,
    handler: Arc<H>,
    pub(super) config: Arc<ServerConfig>,
    pub(super) stop: Shutdown,
    /// Requests answered on this connection.
    served: u64,
    /// The current request's record for the access log and metrics.
    exchange: Exchange,
    /// Bytes read since last reported to the metrics.
    received: u64,
    /// The idle deadline a resumed connection brought (first wait only).
    resumed_deadline: Option<Instant>,
    park_after: Option<Duration>,
    h2c: bool,
    alt_svc: Option<Box<HeaderValue>>,
    /// The idle wait's timer, kept across waits: pushing a deadline later
    /// (the common case) only updates the entry, where a new timer per wait
    /// would be inserted into and removed from the timer wheel every
    /// request.
    idle_timer: Pin<Box<Sleep>>,
    /// Nothing read yet on this task (a new or resumed connection).
    first_wait: bool,
    /// Where the connection goes if the current request's handler answers
    /// its upgrade offer with `101` (see [`upgrade`](super::upgrade)).
    pub(super) offer: Option<UpgradeSender>,
    /// A `101` was written: the loop ends and hands the connection over.
    pub(super) switched: bool,
}

pub(crate) async fn serve_connection<H: Handler, S: Transport>(
    stream: S,
    peer: SocketAddr,
    handler: Arc<H>,
    config: Arc<ServerConfig>,
    stop: Shutdown,
    start: Start,
) -> Ended<S> {
    let mut driver = Driver {
        conn: Connection::new(config.limits),
        stream,
        peer,
        out: Outbox::new(start.served, config.timeouts.write),
        handler,
        config,
        stop,
        served: start.served,
        exchange: Exchange::NONE,
        received: 0,
        resumed_deadline: start.deadline,
        park_after: start.park_after,
        h2c: start.h2c,
        alt_svc: start.alt_svc,
        idle_timer: Box::pin(tokio::time::sleep_until(Instant::now())),
        first_wait: true,
        offer: None,
        switched: false,
    };
    let result = driver.run().await;
    driver.report_bytes();
    match result {
        Ok(Exit::Close) | Err(Stop::Done) => {}
        Ok(Exit::Park(deadline)) => {
            return Ended::Idle {
                served: driver.served,
                stream: driver.stream,
                deadline,
            };
        }
        Ok(Exit::Http2) => {
            let read = std::mem::take(driver.conn.read_buf_mut());
            return Ended::Http2 {
                stream: driver.stream,
                read,
            };
        }
        Ok(Exit::Upgrade) => {
            // The task stays until the handler drops the connection: it
            // keeps its place under the connection cap.
            if let Some(dropped) = super::upgrade::hand_over(driver) {
                let _ = dropped.await;
            }
        }
        Err(Stop::Timeout) => tracing::debug!(peer = %driver.peer, "connection timed out"),
        Err(Stop::Io(e)) => tracing::debug!(peer = %driver.peer, "connection error: {e}"),
    }
    Ended::Closed
}

impl<H: Handler, S: Transport> Driver<H, S> {
    /// Idle and active phases alternate. The active phase is awaited inline
    /// (no allocation per keep-alive cycle), so the task is as large as its
    /// largest state, about 3 KiB; that costs idle memory only until the
    /// connection parks (the park delay), and for connections that never
    /// park (TLS, Unix sockets, `park_idle_after: None`). When it was boxed
    /// instead, keep-alive requests cost 780 instructions and one
    /// allocation more.
    async fn run(&mut self) -> Result<Exit, Stop> {
        loop {
            match self.wait_for_bytes().await? {
                Woke::Bytes => {}
                Woke::Close => return Ok(Exit::Close),
                Woke::Park(deadline) => return Ok(Exit::Park(deadline)),
            }
            match self.serve_active().await? {
                Active::Idle => {}
                Active::Closed => return Ok(Exit::Close),
                Active::Http2 => return Ok(Exit::Http2),
                Active::Upgrade => return Ok(Exit::Upgrade),
            }
        }
    }

    /// Idle between requests: unless the connection parks soon (which
    /// frees everything), hold no buffers while waiting; the read buffer is
    /// allocated again once the socket is readable.
    ///
    /// One timer serves both ends of the wait (see [`keepalive::wait`]):
    /// the idle deadline, or, when parking is on, the park delay (then the
    /// deadline travels with the parked socket).
    async fn wait_for_bytes(&mut self) -> Result<Woke, Stop> {
        loop {
            let stopping = self.stop.is_stopping();
            // A connection that keeps coming back keeps its buffers while
            // idle on its task: with parking the task ends within the park
            // delay anyway (and frees them), and re-allocating them costs
            // its next request about 1,600 instructions. Without parking the
            // task may idle for the whole keep-alive timeout, and after a
            // first request (often the only one) they are released too.
            if self.park_after.is_none() || self.served < 2 {
                self.conn.release_idle_buffer();
                self.out.release();
            }
            let wait = keepalive::wait(Idle {
                now: Instant::now(),
                stopping,
                resumed: self.resumed_deadline.take(),
                served: self.served,
                park_after: self.park_after,
                head_read: self.config.timeouts.head_read,
                keep_alive: self.config.timeouts.keep_alive,
            });
            if self.first_wait {
                // A new connection's request, or the one that woke a parked
                // connection, is usually there already.
                self.first_wait = false;
                if let Some(read) = self.stream.read_now(&mut self.conn) {
                    self.read_done(read)?;
                    return Ok(Woke::Bytes);
                }
            }
            self.idle_timer.as_mut().reset(wait.until);
            let read = tokio::select! {
                biased;
                read = self.stream.read_into(&mut self.conn) => read,
                () = &mut self.idle_timer => {
                    return Ok(if wait.parks() { Woke::Park(wait.deadline) } else { Woke::Close });
                }
                // With parking on, no watch on the stop signal: the wait
                // ends within the park delay anyway, and the parker (or,
                // if it has closed, the next wait) sees the shutdown. It
                // saves taking the signal's lock, shared by every
                // connection, twice per keep-alive request.
                live = self.stop.changed(), if !stopping && self.park_after.is_none() => {
                    if !live {
                        return Ok(Woke::Close);
                    }
                    continue;
                }
            };
            self.read_done(read)?;
            return Ok(Woke::Bytes);
        }
    }

    fn read_done(&mut self, read: io::Result<usize>) -> Result<(), Stop> {
        match read {
            Ok(0) => self.conn.receive_eof(),
            Ok(n) => self.received += n as u64,
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Serves requests while bytes are buffered (pipelining) or a request
    /// is in progress.
    async fn serve_active(&mut self) -> Result<Active, Stop> {
        loop {
            let head = match self.next_head().await? {
                Next::Head(head) => head,
                Next::Idle => return Ok(Active::Idle),
                Next::Http2 => return Ok(Active::Http2),
                Next::Closed => {
                    if let Some(reason) = self.conn.state().close {
                        tracing::debug!(peer = %self.peer, %reason, "connection closes");
                    }
                    self.flush().await?;
                    return Ok(Active::Closed);
                }
            };
            self.serve_request(head).await?;
            self.served += 1;
            if self.switched {
                self.flush().await?;
                return Ok(Active::Upgrade);
            }
            if let Err(close) = self.conn.start_next_cycle() {
                tracing::debug!(peer = %self.peer, reason = %close.reason, "connection closes");
                // A client that finished the connection itself must send
                // nothing more (RFC 9112 §9.6): close now (FIN) instead of
                // lingering for its EOF. Any other close lingers, so a
                // request in flight does not meet a reset; so does TLS,
                // which owes a close_notify.
                let linger = close.linger || !self.stream.is_plain_tcp();
                self.flush().await?;
                if linger {
                    Box::pin(self.close_gracefully()).await?;
                }
                return Ok(Active::Closed);
            }
            let more_buffered = self.conn.state().buffered > 0;
            if self
                .out
                .batch_full(more_buffered, self.config.max_pipelined)
            {
                self.flush().await?;
            }
        }
    }

    /// Step 1: the next request head from what is buffered (reading more
    /// while a head is incomplete); `Idle` once nothing is buffered (after
    /// flushing what is encoded), `Closed` when the peer closed cleanly.
    async fn next_head(&mut self) -> Result<Next, Stop> {
        let mut head_deadline: Option<Instant> = None;
        loop {
            if self.h2c {
                match detect::preface(self.conn.read_buf_mut()) {
                    Preface::Yes => return Ok(Next::Http2),
                    Preface::No => self.h2c = false,
                    Preface::Maybe => {}
                    Preface::Neither => {
                        tracing::info!(peer = %self.peer, "bad request: neither HTTP/1.x nor HTTP/2; closing");
                        return Ok(Next::Closed);
                    }
                }
            }
            match self.conn.next_event() {
                Ok(Event::Head(head)) => return Ok(Next::Head(head)),
                Ok(Event::NeedData) => {}
                Ok(Event::Closed) => return Ok(Next::Closed),
                Ok(Event::Data(_) | Event::End(_) | Event::Paused) => {
                    debug_assert!(false, "body event while waiting for a head");
                    return Err(Stop::Done);
                }
                Err(e) => return Box::pin(self.reject(e)).await.map(|()| Next::Closed),
            }
            self.flush().await?;
            if self.conn.state().buffered == 0 {
                return Ok(Next::Idle);
            }
            // Slowloris: the whole head must arrive within head_read of its
            // first byte.
            let deadline = *head_deadline
                .get_or_insert_with(|| Instant::now() + self.config.timeouts.head_read);
            let read = match timeout_at(deadline, self.read_some()).await {
                Ok(read) => read,
                Err(_) => {
                    Box::pin(self.reject(ProtocolError::new(ErrorKind::HeadTimeout))).await?;
                    return Err(Stop::Timeout);
                }
            };
            match read {
                Ok(0) => self.conn.receive_eof(),
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reads once into the connection's buffer. Cancel-safe.
    pub(super) async fn read_some(&mut self) -> io::Result<usize> {
        let n = self.stream.read_into(&mut self.conn).await?;
        self.received += n as u64;
        Ok(n)
    }

    /// Steps 2–4 for one request.
    async fn serve_request(&mut self, head: RequestHead) -> Result<(), Stop> {
        self.exchange = Exchange::begin(
            &self.config,
            &head.method,
            &head.uri,
            head.version,
            &head.headers,
        );
        let state = self.conn.state();
        let (sender, body) = match state.request {
            RequestProgress::Body(length) => {
                let (tx, body) = Incoming::channel(length, self.config.max_body_bytes);
                (Some(tx), body)
            }
            // No body: the request is complete with its head.
            _ => (None, Body::empty()),
        };
        let mut request = Request::new(body);
        *request.method_mut() = head.method;
        // The defaults replaced here own no memory: forgetting them skips
        // their drop code. (Checked in debug builds, so a future `http`
        // that allocates there fails the tests instead of leaking.)
        debug_assert_eq!(request.headers().capacity(), 0);
        debug_assert_eq!(request.uri(), "/");
        std::mem::forget(std::mem::replace(request.uri_mut(), head.uri));
        *request.version_mut() = head.version;
        std::mem::forget(std::mem::replace(request.headers_mut(), head.headers));
        if self.config.peer_addr {
            request.extensions_mut().insert(PeerAddr(self.peer));
        }
        self.offer = state.upgrade_offered.then(|| offer(&mut request));

        let (response, mut feed) = match sender {
            None => {
                // Not through an `async fn`: its future would be one more
                // place the request is moved into.
                let future = serve::start(&*self.handler, request);
                (serve::settle(future.await, self.peer), None)
            }
            Some(tx) => Box::pin(self.call_with_body(request, tx)).await?,
        };
        // The request body keeps flowing only if the handler put it into
        // its response (an echo); otherwise any other holder of it learns
        // that it was cut short rather than seeing a clean end.
        let piped = matches!(response.body().kind, Kind::Incoming(_) | Kind::Stream(..));
        if feed.as_ref().is_some_and(|f| f.tx.is_refused()) {
            // Refused over the body limit before a byte was read: the rest
            // is not read, so the connection cannot go on.
            self.conn.close(CloseReason::BodyRefused);
            feed = None;
        }
        if !piped && let Some(f) = feed.take() {
            f.tx.abort();
        }
        let mut drained = 0;
        if feed.is_none() && self.conn.state().request != RequestProgress::Complete {
            // Bad framing already received is answered 400 instead of the
            // handler's response: the next message boundary is unknown.
            match self.drain_buffered() {
                Ok(n) => drained = n,
                Err(e) => return Box::pin(self.reject(e)).await,
            }
        }
        // A body left unread beyond the drain budget will not be drained:
        // say so in this response (RFC 9112 §9.6) rather than just closing.
        if feed.is_none()
            && matches!(self.conn.state().request,
                RequestProgress::Body(Some(n)) if n > self.config.drain_budget)
        {
            self.conn.close(CloseReason::BodyUnread);
        }
        let status = response.status();
        self.exchange.note_response(&response);
        // Step 3. Most bodies are encoded without awaiting anything; only
        // the others go through an async writer (a future the response
        // would be moved into).
        match self.encode_response(response)? {
            Some(body) => self.write_body(body, feed).await?,
            None => drop(feed),
        }
        if self.conn.send_end(self.out.buf()).is_err() {
            return Box::pin(self.body_too_short()).await;
        }
        self.log_access(status);
        if self.conn.state().request != RequestProgress::Complete {
            Box::pin(self.drain_body(drained)).await?;
        }
        Ok(())
    }

    /// Runs the handler while feeding it the request body on demand.
    async fn call_with_body(
        &mut self,
        request: Request,
        tx: IncomingSender,
    ) -> Result<(Response, Option<BodyFeed>), Stop> {
        let mut future = std::pin::pin!(serve::start(&*self.handler, request));
        let mut feed = Some(BodyFeed::new(tx));
        loop {
            let Some(active) = feed.as_mut() else {
                return Ok((serve::settle(future.await, self.peer), None));
            };
            tokio::select! {
                biased;
                // The handler may return its request body inside the
                // response (an echo): the feed then goes on while the
                // response is written.
                result = &mut future => return Ok((serve::settle(result, self.peer), feed)),
                fed = feed_body(&mut self.stream, &mut self.conn, &mut self.out, active, &self.config) => {
                    self.settle_feed(fed, &mut feed)?;
                }
            }
        }
    }

    /// Applies a feed step's outcome; drops the feed once it is over.
    pub(super) fn settle_feed(
        &mut self,
        fed: Feed,
        feed: &mut Option<BodyFeed>,
    ) -> Result<(), Stop> {
        match fed {
            Feed::More(read) => {
                self.received += read as u64;
                Ok(())
            }
            Feed::Finished => {
                *feed = None;
                Ok(())
            }
            Feed::Refused => {
                self.conn.close(CloseReason::BodyRefused);
                *feed = None;
                Ok(())
            }
            Feed::Failed { fatal } => {
                // The handler sees the error on its body; the connection
                // closes after its response.
                self.conn.close(CloseReason::BodyReadFailed);
                *feed = None;
                if fatal { Err(Stop::Done) } else { Ok(()) }
            }
        }
    }

    /// Step 3, the part that needs no waiting: the head, and an empty or
    /// small in-memory body, into the write buffer. Returns the body when it
    /// is left for [`write_body`](Self::write_body).
    #[inline(always)]
    fn encode_response(&mut self, response: Response) -> Result<Option<Body>, Stop> {
        let (mut parts, body) = response.into_parts();
        if parts.status.is_informational() && !self.may_switch(&parts) {
            // Interim responses are the driver's business (100 Continue),
            // and a 101 needs an upgrade offer it answers: a handler
            // returning one otherwise has a bug.
            tracing::error!(status = %parts.status, "handler returned an interim status");
            parts.status = http::StatusCode::INTERNAL_SERVER_ERROR;
        }
        if self.stop.is_stopping() {
            self.conn.close(CloseReason::Shutdown);
        }
        if let Some(alt_svc) = &self.alt_svc {
            add_alt_svc(&mut parts.headers, alt_svc);
        }
        let length = match body.size_hint() {
            Some(n) => BodyLength::Known(n),
            None => BodyLength::Unknown,
        };
        let head = ResponseHead {
            status: parts.status,
            headers: &parts.headers,
            body: length,
        };
        if self.out.is_released() {
            // Released while idle: one allocation for the head and a small
            // body (copied in), not a series of regrowths.
            let more_buffered = self.conn.state().buffered > 0;
            let room = super::respond::write_room(&parts.headers, &body, more_buffered);
            self.out.buf().reserve(room);
        }
        let (conn, out) = (&mut self.conn, self.out.buf());
        with_date(|date| conn.send_head(&head, date, out));
        // Its allocation serves the next request's head.
        self.conn.recycle_headers(parts.headers);
        if !matches!(self.conn.state().response, ResponseProgress::Body(_)) {
            return Ok(None);
        }
        match body.kind {
            Kind::Empty => Ok(None),
            Kind::Full(bytes) if bytes.len() <= super::respond::COPY_BODY_MAX => {
                self.send_data(&bytes)?;
                Ok(None)
            }
            _ => Ok(Some(body)),
        }
    }

    /// Hands the finished exchange to the access log and the metrics, if
    /// there are any.
    pub(super) fn log_access(&mut self, status: http::StatusCode) {
        let body_bytes = self.conn.state().body_bytes_sent;
        self.exchange
            .take()
            .end(&self.config, self.peer, status, body_bytes);
        if self.config.metrics.is_some() {
            self.report_bytes();
        }
    }

    /// Moves the byte counts to the metrics (if any).
    fn report_bytes(&mut self) {
        if let Some(metrics) = &self.config.metrics {
            metrics.add_bytes_received(std::mem::take(&mut self.received));
            metrics.add_bytes_sent(self.out.take_sent());
        }
    }

    /// Answers a protocol error (when it has a status), then closes.
    async fn reject(&mut self, error: ProtocolError) -> Result<(), Stop> {
        tracing::info!(peer = %self.peer, "bad request: {error}");
        self.conn.close(CloseReason::BadRequest(error.kind()));
        if let Some(status) = error.status() {
            let response = crate::response::status(status);
            let (parts, body) = response.into_parts();
            let length = BodyLength::Known(body.size_hint().unwrap_or(0));
            let head = ResponseHead {
                status,
                headers: &parts.headers,
                body: length,
            };
            let (conn, out) = (&mut self.conn, self.out.buf());
            with_date(|date| conn.send_head(&head, date, out));
            if let Kind::Full(bytes) = body.kind {
                self.send_data(&bytes)?;
            }
            let _ = self.conn.send_end(self.out.buf());
            self.log_access(status);
        }
        self.flush().await?;
        Box::pin(self.close_gracefully()).await?;
        Err(Stop::Done)
    }

    /// Half-closes, then reads and discards for a short while, so the peer
    /// sees the response instead of a reset (lingering close, actix LINGER).
    async fn close_gracefully(&mut self) -> Result<(), Stop> {
        let _ = self.stream.shutdown().await;
        let deadline = Instant::now() + LINGER;
        let mut discarded = 0usize;
        while discarded < 1024 * 1024 {
            let buf = self.conn.read_buf_mut();
            buf.clear();
            match timeout_at(deadline, self.read_some()).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(n)) => discarded += n,
            }
        }
        Ok(())
    }

    pub(super) async fn flush(&mut self) -> io::Result<()> {
        self.out.flush(&mut self.stream).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;

    /// Every connection not (yet) parked holds this future; keep it small
    /// (see the Box::pin note at the top and `Driver::run`).
    #[tokio::test]
    async fn connection_future_stays_small() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (_tx, stop) = watch::channel(false);
        let handler = Arc::new(|_req: Request| async { Response::new(Body::empty()) });
        let future = serve_connection(
            stream,
            listener.local_addr().unwrap(),
            handler,
            Arc::default(),
            Shutdown::new(stop),
            Start::NEW,
        );
        let size = std::mem::size_of_val(&future);
        println!("connection future: {size} bytes");
        assert!(size < 4096, "connection future is {size} bytes");
    }
}
