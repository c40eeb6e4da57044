//! One connection's task: read → proto → handler → write, until close.
//!
//! The loop, per request:
//! 1. Wait for a complete head. Before blocking on a read, flush any
//!    responses already encoded (pipelining: responses to requests that
//!    arrived together leave together, up to `max_pipelined`). A connection
//!    with nothing buffered holds no read buffer while it waits.
//! 2. Call the handler. When the request has a body, the handler reads it
//!    through a channel that this task feeds from the socket on demand
//!    (`100 Continue` goes out on the first read).
//! 3. Encode the response through proto; file bodies are read straight
//!    into the write buffer, streams are flushed chunk by chunk.
//! 4. Drain what the handler left of the request body (up to a budget),
//!    then start the next cycle, or close.
//!
//! Protocol errors get one response (`Connection: close`) and a lingering
//! close, so the client can read the response before the socket goes away.

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_core::Stream;
use http::{HeaderValue, StatusCode, header};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep, timeout, timeout_at};

use super::access::{AccessRecord, Pending};
use super::config::ServerConfig;
use super::date::with_date;
use super::panic::{CatchUnwind, message};
use super::transport::Transport;
use crate::body::{BodyError, BodyErrorKind, FileRange, Incoming, IncomingSender, Kind};
use crate::proto::{
    BodyLength, Connection, ErrorKind, Event, ProtocolError, RequestHead, ResponseHead,
};
use crate::request::PeerAddr;
use crate::{Body, Handler, Request, Response};

// Cold paths (errors, request bodies, streams, draining, closing) are
// awaited through `Box::pin`: inlined, their states would make every
// connection's future larger and the hot path's moves costlier (perf showed
// 14% of pipelined CPU in memmove before this).

/// How long an idle connection may still bring a request once shutdown
/// has begun.
const IDLE_AT_SHUTDOWN: Duration = Duration::from_millis(250);

/// File bodies at least this large go out with `sendfile`; smaller ones
/// are read into the write buffer so head and body leave in one write.
const SENDFILE_MIN: u64 = 64 * 1024;
/// Most bytes handed to one `sendfile` call.
const SENDFILE_CHUNK: u64 = 1 << 20;

/// Write-buffer room for what a response head holds besides the handler's
/// fields (status line, Date, Server, Content-Length or
/// Transfer-Encoding, Connection, the empty line), with room to spare.
const HEAD_FIXED: usize = 160;
/// Write-buffer room reserved at once when more requests are buffered
/// behind this one (pipelining): their responses are batched into it.
const BATCH_RESERVE: usize = 4096;
/// Write-buffer size at which encoded responses are flushed.
const FLUSH_AT: usize = 64 * 1024;
/// Largest in-memory body copied into the write buffer (larger ones are
/// written from their own buffer, vectored with the head).
const COPY_BODY_MAX: usize = 16 * 1024;
/// Piece size for streaming files.
const FILE_CHUNK: usize = 128 * 1024;
/// How long to wait for the peer to finish sending after an error
/// response, so that closing does not reset the connection before the
/// response is read.
const LINGER: Duration = Duration::from_secs(2);

/// How an idle wait ends.
enum Wait {
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
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    /// Requests answered on the connection so far.
    pub(crate) served: u64,
    /// The idle deadline a resumed connection brings.
    pub(crate) deadline: Option<Instant>,
    /// Idle this long, the connection ends its task and parks (plain TCP
    /// with a parker only).
    pub(crate) park_after: Option<Duration>,
}

impl Start {
    /// A connection just accepted, never parked.
    pub(crate) const NEW: Start = Start {
        served: 0,
        deadline: None,
        park_after: None,
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
}

/// How the active phase ends.
enum Active {
    /// Nothing buffered: wait idle for the next request.
    Idle,
    Closed,
}

/// What [`Driver::next_head`] found. (The head is moved out at once;
/// boxing it would cost an allocation per request.)
#[allow(clippy::large_enum_variant)]
enum Next {
    Head(RequestHead),
    Idle,
    Closed,
}

/// Why a connection ends early. Only for control flow and debug logs.
#[derive(Debug)]
enum Stop {
    Io(io::Error),
    Timeout,
    Done,
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

struct Driver<H, S> {
    stream: S,
    peer: SocketAddr,
    conn: Connection,
    out: Vec<u8>,
    handler: Arc<H>,
    config: Arc<ServerConfig>,
    stop: watch::Receiver<bool>,
    /// Responses encoded in `out` since the last flush.
    batched: usize,
    /// Requests answered on this connection.
    served: u64,
    /// The current request's access-log facts (only with an access log
    /// or metrics).
    pending: Option<Box<Pending>>,
    /// Bytes read and written since last reported to the metrics.
    received: u64,
    sent: u64,
    /// The idle deadline a resumed connection brought (first wait only).
    resumed_deadline: Option<Instant>,
    park_after: Option<Duration>,
    /// The idle wait's timer, kept across waits: pushing a deadline later
    /// (the common case) only updates the entry, where a new timer per wait
    /// would be inserted into and removed from the timer wheel every
    /// request.
    idle_timer: Pin<Box<Sleep>>,
    /// Nothing read yet on this task (a new or resumed connection).
    first_wait: bool,
    nagle: Nagle,
}

/// When to turn Nagle's algorithm off. It only delays a write while
/// earlier data is unacknowledged, so a connection's first write never
/// waits: like nginx, `TCP_NODELAY` is set only before a connection's
/// second write (a keep-alive response, a body after its head), and a
/// one-request connection saves the `setsockopt`. Only plain TCP sets it
/// late (TLS sockets get it on accept).
struct Nagle {
    /// Something was written on the connection.
    wrote: bool,
    /// `TCP_NODELAY` is set.
    off: bool,
}

impl Nagle {
    fn before_write(&mut self, stream: &impl Transport) {
        if self.wrote {
            self.turn_off(stream);
        }
        self.wrote = true;
    }

    fn turn_off(&mut self, stream: &impl Transport) {
        if !self.off {
            self.off = true;
            stream.set_nodelay();
        }
    }
}

pub(crate) async fn serve_connection<H: Handler, S: Transport>(
    stream: S,
    peer: SocketAddr,
    handler: Arc<H>,
    config: Arc<ServerConfig>,
    stop: watch::Receiver<bool>,
    start: Start,
) -> Ended<S> {
    let mut driver = Driver {
        conn: Connection::new(config.limits),
        stream,
        peer,
        out: Vec::new(),
        handler,
        config,
        stop,
        batched: 0,
        served: start.served,
        pending: None,
        received: 0,
        sent: 0,
        resumed_deadline: start.deadline,
        park_after: start.park_after,
        idle_timer: Box::pin(tokio::time::sleep_until(Instant::now())),
        first_wait: true,
        nagle: Nagle {
            wrote: start.served > 0,
            // Two responses mean two writes: set by the second at the latest.
            off: start.served >= 2,
        },
    };
    let result = driver.run().await;
    driver.report_bytes();
    match result {
        Ok(None) | Err(Stop::Done) => {}
        Ok(Some(deadline)) => {
            return Ended::Idle {
                served: driver.served,
                stream: driver.stream,
                deadline,
            };
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
    ///
    /// `Some(deadline)`: idle past the park delay, to be parked until then.
    async fn run(&mut self) -> Result<Option<Instant>, Stop> {
        loop {
            match self.wait_for_bytes().await? {
                Wait::Bytes => {}
                Wait::Close => return Ok(None),
                Wait::Park(deadline) => return Ok(Some(deadline)),
            }
            match self.serve_active().await? {
                Active::Idle => {}
                Active::Closed => return Ok(None),
            }
        }
    }

    /// Idle between requests: unless the connection parks soon (which
    /// frees everything), hold no buffers while waiting; the read buffer is
    /// allocated again once the socket is readable.
    ///
    /// One timer serves both ends of the wait: the idle deadline, or, when
    /// parking is on, the park delay (then the deadline travels with the
    /// parked socket).
    ///
    /// Shutting down: an idle connection gets a last short window, so a
    /// request already on its way is answered (with `Connection: close`)
    /// instead of meeting a closed socket; a rolling restart then loses
    /// nothing.
    async fn wait_for_bytes(&mut self) -> Result<Wait, Stop> {
        loop {
            let stopping = *self.stop.borrow();
            // A connection that keeps coming back keeps its buffers while
            // idle on its task: with parking the task ends within the park
            // delay anyway (and frees them), and re-allocating them costs
            // its next request about 1,600 instructions. Without parking the
            // task may idle for the whole keep-alive timeout, and after a
            // first request (often the only one) they are released too.
            if self.park_after.is_none() || self.served < 2 {
                self.conn.release_idle_buffer();
                self.out = Vec::new();
            }
            let now = Instant::now();
            let resumed = self.resumed_deadline.take();
            let deadline = if stopping {
                let last = now + IDLE_AT_SHUTDOWN.min(self.config.timeouts.keep_alive);
                resumed.map_or(last, |d| d.min(last))
            } else if let Some(deadline) = resumed {
                deadline
            } else if self.served == 0 {
                now + self.config.timeouts.head_read
            } else {
                now + self.config.timeouts.keep_alive
            };
            if self.first_wait {
                // A new connection's request, or the one that woke a parked
                // connection, is usually there already.
                self.first_wait = false;
                if let Some(read) = self.stream.read_now(&mut self.conn) {
                    self.read_done(read)?;
                    return Ok(Wait::Bytes);
                }
            }
            let limit = match self.park_after {
                Some(after) if !stopping => deadline.min(now + after),
                _ => deadline,
            };
            self.idle_timer.as_mut().reset(limit);
            let read = tokio::select! {
                biased;
                read = self.stream.read_into(&mut self.conn) => read,
                () = &mut self.idle_timer => {
                    return Ok(if limit < deadline { Wait::Park(deadline) } else { Wait::Close });
                }
                // With parking on, no watch on the stop signal: the wait
                // ends within the park delay anyway, and the parker (or,
                // if it has closed, the next wait) sees the shutdown. It
                // saves taking the signal's lock, shared by every
                // connection, twice per keep-alive request.
                changed = self.stop.changed(), if !stopping && self.park_after.is_none() => {
                    if changed.is_err() {
                        return Ok(Wait::Close);
                    }
                    continue;
                }
            };
            self.read_done(read)?;
            return Ok(Wait::Bytes);
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

    fn before_write(&mut self) {
        self.nagle.before_write(&self.stream);
    }

    /// Serves requests while bytes are buffered (pipelining) or a request
    /// is in progress.
    async fn serve_active(&mut self) -> Result<Active, Stop> {
        loop {
            let head = match self.next_head().await? {
                Next::Head(head) => head,
                Next::Idle => return Ok(Active::Idle),
                Next::Closed => {
                    self.flush().await?;
                    return Ok(Active::Closed);
                }
            };
            self.serve_request(head).await?;
            self.served += 1;
            if !self.conn.start_next_cycle() {
                self.flush().await?;
                // A client that asked to close must send nothing more (RFC
                // 9112 §9.6): close now (FIN) instead of lingering for its
                // EOF. Any other close lingers, so a request in flight does
                // not meet a reset; so does TLS, which owes a close_notify.
                if !self.conn.peer_finished() || !self.stream.is_plain_tcp() {
                    Box::pin(self.close_gracefully()).await?;
                }
                return Ok(Active::Closed);
            }
            self.batched += 1;
            let more_buffered = self.conn.has_buffered_data();
            if !more_buffered
                || self.batched >= self.config.max_pipelined
                || self.out.len() >= FLUSH_AT
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
            if !self.conn.has_buffered_data() {
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
    async fn read_some(&mut self) -> io::Result<usize> {
        let n = self.stream.read_into(&mut self.conn).await?;
        self.received += n as u64;
        Ok(n)
    }

    /// Steps 2–4 for one request.
    async fn serve_request(&mut self, head: RequestHead) -> Result<(), Stop> {
        if self.config.access_log.is_some() || self.config.metrics.is_some() {
            self.pending = Some(Box::new(Pending {
                time: SystemTime::now(),
                started: Instant::now(),
                method: Some(head.method.clone()),
                target: Some(head.uri.clone()),
                version: head.version,
                referer: head.headers.get(header::REFERER).cloned(),
                user_agent: head.headers.get(header::USER_AGENT).cloned(),
                forwarded: all_lines(&head.headers, header::FORWARDED),
                x_forwarded_for: all_lines(
                    &head.headers,
                    header::HeaderName::from_static("x-forwarded-for"),
                ),
            }));
        }
        let body_len = self.conn.request_body_length();
        if body_len.is_some_and(|n| n > self.config.max_body_bytes) {
            // Too large to accept: answer without reading, then close.
            return Box::pin(self.reject(ProtocolError::new(ErrorKind::BodyTooLarge))).await;
        }
        let has_body = self.conn.request_has_body();
        let (sender, body) = if has_body {
            let (tx, body) = Incoming::channel(body_len);
            (Some(tx), body)
        } else {
            // Consume the empty body's End now.
            self.conn.end_empty_body();
            (None, Body::empty())
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

        let (response, mut feed) = match sender {
            None => {
                // Not through an `async fn`: its future would be one more
                // place the request is moved into.
                let future = self.start_handler(request);
                (self.settle(future.await), None)
            }
            Some(tx) => Box::pin(self.call_with_body(request, tx)).await?,
        };
        // The request body keeps flowing only if the handler put it into
        // its response (an echo); otherwise any other holder of it learns
        // that it was cut short rather than seeing a clean end.
        let piped = matches!(response.body().kind, Kind::Incoming(_) | Kind::Stream(..));
        if !piped && let Some(f) = feed.take() {
            f.tx.abort();
        }
        // A body left unread beyond the drain budget will not be drained:
        // say so in this response (RFC 9112 §9.6) rather than just closing.
        if feed.is_none()
            && self
                .conn
                .request_body_length()
                .is_some_and(|n| n > self.config.drain_budget)
        {
            self.conn.close_after_response();
        }
        let status = response.status();
        // Step 3. Most bodies are encoded without awaiting anything; only
        // the others go through an async writer (a future the response
        // would be moved into).
        match self.encode_response(response)? {
            Some(body) => self.write_body(body, feed).await?,
            None => drop(feed),
        }
        if self.conn.send_end(&mut self.out).is_err() {
            return Box::pin(self.body_too_short()).await;
        }
        self.log_access(status);
        if !self.conn.is_request_done() {
            Box::pin(self.drain_body()).await?;
        }
        Ok(())
    }

    /// Starts the handler; a panic while it builds its future, or while the
    /// future runs, comes out of the returned future as `Err`.
    #[inline(always)]
    fn start_handler(&self, request: Request) -> CatchUnwind<dyn Future<Output = Response> + Send> {
        let future = match catch_unwind(AssertUnwindSafe(|| self.handler.call(request))) {
            Ok(future) => future,
            Err(payload) => Box::pin(async move { std::panic::resume_unwind(payload) }),
        };
        CatchUnwind::new(future)
    }

    /// The handler's response, or a 500 if it panicked. Inlined (as
    /// `start_handler` is): the response is then built where it is used,
    /// not moved out of a call.
    #[inline(always)]
    fn settle(&self, result: Result<Response, Box<dyn std::any::Any + Send>>) -> Response {
        match result {
            Ok(response) => response,
            Err(payload) => self.panicked(&*payload),
        }
    }

    #[cold]
    fn panicked(&self, payload: &(dyn std::any::Any + Send)) -> Response {
        tracing::error!(peer = %self.peer, "handler panicked: {}", message(payload));
        let mut response = crate::response::status(StatusCode::INTERNAL_SERVER_ERROR);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }

    /// Runs the handler while feeding it the request body on demand.
    async fn call_with_body(
        &mut self,
        request: Request,
        tx: IncomingSender,
    ) -> Result<(Response, Option<BodyFeed>), Stop> {
        let mut future = std::pin::pin!(self.start_handler(request));
        let mut feed = Some(BodyFeed { tx, received: 0 });
        loop {
            let Some(active) = feed.as_mut() else {
                return Ok((self.settle(future.await), None));
            };
            tokio::select! {
                biased;
                // The handler may return its request body inside the
                // response (an echo): the feed then goes on while the
                // response is written.
                result = &mut future => return Ok((self.settle(result), feed)),
                fed = feed_body(&mut self.stream, &mut self.conn, &mut self.out, active, &self.config) => {
                    if self.settle_feed(fed, &mut feed)? {
                        continue;
                    }
                }
            }
        }
    }

    /// Applies a feed step's outcome; drops the feed once it is over.
    fn settle_feed(&mut self, fed: Feed, feed: &mut Option<BodyFeed>) -> Result<bool, Stop> {
        match fed {
            Feed::More(read) => {
                self.received += read as u64;
                Ok(true)
            }
            Feed::Finished => {
                *feed = None;
                Ok(true)
            }
            Feed::Failed(stop) => {
                // The handler sees the error on its body; the connection
                // closes after its response.
                self.conn.close_after_response();
                *feed = None;
                match stop {
                    Some(stop) => Err(stop),
                    None => Ok(true),
                }
            }
        }
    }

    /// Step 3: head and body into the write buffer, flushing as needed.
    /// Step 3, the part that needs no waiting: the head, and an empty or
    /// small in-memory body, into the write buffer. Returns the body when it
    /// is left for [`write_body`](Self::write_body).
    #[inline(always)]
    fn encode_response(&mut self, response: Response) -> Result<Option<Body>, Stop> {
        let (mut parts, body) = response.into_parts();
        if parts.status.is_informational() {
            // Interim responses are the driver's business (100 Continue);
            // a handler returning one has a bug.
            tracing::error!(status = %parts.status, "handler returned an interim status");
            parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        }
        if *self.stop.borrow() {
            self.conn.close_after_response();
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
        if self.out.capacity() == 0 {
            // Released while idle: one allocation for the head and a small
            // body (copied in), not a series of regrowths. Sized to fit
            // when this response goes out alone, so that a small one stays
            // within the allocator's fast size classes (glibc's thread
            // cache ends at 1 KiB); with more requests buffered, sized for
            // a batch of responses.
            let small_body = body.size_hint().filter(|&n| n <= COPY_BODY_MAX as u64);
            let fields: usize = parts
                .headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len() + 4)
                .sum();
            let mut room = HEAD_FIXED + fields + small_body.unwrap_or(0) as usize;
            if self.conn.has_buffered_data() {
                room = room.max(BATCH_RESERVE);
            }
            self.out.reserve(room);
        }
        let (conn, out) = (&mut self.conn, &mut self.out);
        with_date(|date| conn.send_head(&head, date, out));
        // Its allocation serves the next request's head.
        self.conn.recycle_headers(parts.headers);
        if !self.conn.body_allowed() {
            return Ok(None);
        }
        match body.kind {
            Kind::Empty => Ok(None),
            Kind::Full(bytes) if bytes.len() <= COPY_BODY_MAX => {
                self.send_data(&bytes)?;
                Ok(None)
            }
            _ => Ok(Some(body)),
        }
    }

    /// Step 3 for the bodies [`encode_response`](Self::encode_response)
    /// leaves: large buffers, files and streams, flushed as they go.
    async fn write_body(&mut self, body: Body, feed: Option<BodyFeed>) -> Result<(), Stop> {
        match body.kind {
            Kind::Empty => Ok(()),
            Kind::Full(bytes) => self.write_full(bytes).await,
            Kind::File(range) => self.write_file(range).await,
            Kind::Stream(..) | Kind::Incoming(_) => Box::pin(self.write_stream(body, feed)).await,
        }
    }

    /// The response body ended short of its Content-Length: the message
    /// cannot be completed, so the connection closes.
    async fn body_too_short(&mut self) -> Result<(), Stop> {
        tracing::error!("response body shorter than its length; closing");
        self.flush().await?;
        Err(Stop::Done)
    }

    async fn write_full(&mut self, bytes: Bytes) -> Result<(), Stop> {
        if bytes.len() <= COPY_BODY_MAX {
            self.send_data(&bytes)?;
            return Ok(());
        }
        if !self
            .conn
            .begin_data(bytes.len(), &mut self.out)
            .map_err(length_error)?
        {
            return Ok(());
        }
        self.write_vectored(&bytes).await?;
        self.conn.finish_data(bytes.len(), &mut self.out);
        Ok(())
    }

    /// Reads the file range straight into the write buffer, piece by piece;
    /// memory stays bounded whatever the file size.
    async fn write_file(&mut self, mut range: FileRange) -> Result<(), Stop> {
        use std::os::unix::fs::FileExt;
        if range.len >= SENDFILE_MIN
            && self.conn.body_is_length_framed()
            && self.stream.is_plain_tcp()
        {
            return self.send_file(range).await;
        }
        while range.len > 0 {
            let piece = range.len.min(FILE_CHUNK as u64) as usize;
            if !self
                .conn
                .begin_data(piece, &mut self.out)
                .map_err(length_error)?
            {
                return Ok(());
            }
            let start = self.out.len();
            self.out.resize(start + piece, 0);
            let mut filled = 0;
            while filled < piece {
                match range.file.read_at(
                    &mut self.out[start + filled..start + piece],
                    range.offset + filled as u64,
                ) {
                    Ok(0) => {
                        // The file shrank under us: the promised length cannot
                        // be delivered, so the connection must close.
                        self.out.truncate(start + filled);
                        tracing::warn!("file shrank while being sent; closing");
                        self.flush().await?;
                        return Err(Stop::Done);
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.out.truncate(start);
                        tracing::warn!("file read failed: {e}; closing");
                        self.flush().await?;
                        return Err(Stop::Done);
                    }
                }
            }
            self.conn.finish_data(piece, &mut self.out);
            range.offset += piece as u64;
            range.len -= piece as u64;
            if self.out.len() >= FLUSH_AT {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Large file bodies on a plain socket: the kernel copies the file to
    /// the socket (`sendfile`), so the bytes never pass through user space.
    /// The head (and any batched responses) is flushed first.
    async fn send_file(&mut self, mut range: FileRange) -> Result<(), Stop> {
        let Ok(total) = usize::try_from(range.len) else {
            return Err(Stop::Done);
        };
        if !self
            .conn
            .begin_data(total, &mut self.out)
            .map_err(length_error)?
        {
            return Ok(());
        }
        // Head and file leave in several writes: no Nagle from the start.
        // (Set between the MSG_MORE head and the file instead, it cut
        // static-1m throughput to a third: 8,300 -> 2,400 req/s.)
        self.nagle.turn_off(&self.stream);
        self.flush_more().await?;
        let Some(stream) = self.stream.plain_tcp() else {
            return Err(Stop::Done);
        };
        let stream = stream?;
        while range.len > 0 {
            let count = range.len.min(SENDFILE_CHUNK) as usize;
            let mut offset = range.offset;
            let file = &*range.file;
            let send = async {
                loop {
                    stream.writable().await?;
                    let sent = stream.try_io(Interest::WRITABLE, || {
                        rustix::fs::sendfile(stream, file, Some(&mut offset), count)
                            .map_err(io::Error::from)
                    });
                    match sent {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        other => return other,
                    }
                }
            };
            match timeout(self.config.timeouts.write, send).await {
                Ok(Ok(0)) => {
                    // The file shrank under us: the promised length cannot be
                    // delivered, so the connection must close.
                    tracing::warn!("file shrank while being sent; closing");
                    return Err(Stop::Done);
                }
                Ok(Ok(n)) => {
                    self.sent += n as u64;
                    range.offset += n as u64;
                    range.len -= n as u64;
                }
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => return Err(Stop::Timeout),
            }
        }
        self.conn.finish_data(total, &mut self.out);
        Ok(())
    }

    /// Streams: every chunk is flushed as it is produced (SSE, long polls).
    /// With `feed`, the request body is still being read into the channel
    /// this body (or part of it) drains.
    async fn write_stream(
        &mut self,
        mut body: Body,
        mut feed: Option<BodyFeed>,
    ) -> Result<(), Stop> {
        let mut body = std::pin::Pin::new(&mut body);
        loop {
            self.flush().await?;
            let next = match feed.as_mut() {
                None => std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await,
                Some(active) => tokio::select! {
                    biased;
                    next = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)) => next,
                    fed = feed_body(&mut self.stream, &mut self.conn, &mut self.out, active, &self.config) => {
                        self.settle_feed(fed, &mut feed)?;
                        continue;
                    }
                },
            };
            match next {
                Some(Ok(chunk)) => {
                    if !chunk.is_empty() {
                        self.send_data(&chunk)?;
                    }
                }
                Some(Err(e)) => {
                    // The message cannot be completed; closing tells the
                    // client it is truncated (no final chunk).
                    tracing::warn!("response body stream failed: {e}; closing");
                    return Err(Stop::Done);
                }
                None => return Ok(()),
            }
        }
    }

    fn send_data(&mut self, data: &[u8]) -> Result<(), Stop> {
        self.conn
            .send_data(data, &mut self.out)
            .map_err(length_error)
    }

    /// Step 4: reads and discards the unread rest of the request body, up to
    /// the drain budget; beyond it, or if the request is not worth it, the
    /// connection closes.
    async fn drain_body(&mut self) -> Result<(), Stop> {
        if self.conn.wants_close() {
            return Ok(());
        }
        let mut drained: u64 = 0;
        loop {
            match self.conn.next_event() {
                Ok(Event::Data(d)) => {
                    drained += d.len() as u64;
                    if drained > self.config.drain_budget {
                        self.conn.close_after_response();
                        return Ok(());
                    }
                }
                Ok(Event::End(_)) => return Ok(()),
                Ok(Event::NeedData) => {
                    self.flush().await?;
                    match timeout(self.config.timeouts.body_read, self.read_some()).await {
                        Ok(Ok(0)) => self.conn.receive_eof(),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Err(e.into()),
                        Err(_) => return Err(Stop::Timeout),
                    }
                }
                Ok(_) | Err(_) => {
                    self.conn.close_after_response();
                    return Ok(());
                }
            }
        }
    }

    /// Hands the finished exchange to the access log and the metrics, if
    /// there are any.
    fn log_access(&mut self, status: StatusCode) {
        if self.pending.is_none()
            && self.config.access_log.is_none()
            && self.config.metrics.is_none()
        {
            return;
        }
        let pending = self.pending.take().unwrap_or_else(|| {
            Box::new(Pending {
                time: SystemTime::now(),
                started: Instant::now(),
                method: None,
                target: None,
                version: http::Version::HTTP_11,
                referer: None,
                user_agent: None,
                forwarded: None,
                x_forwarded_for: None,
            })
        });
        let duration = pending.started.elapsed();
        if let Some(metrics) = &self.config.metrics {
            // A request that could not be parsed has no method: "other".
            let unparsed;
            let method = match &pending.method {
                Some(method) => method,
                None => {
                    unparsed = http::Method::from_bytes(b"-").unwrap_or_default();
                    &unparsed
                }
            };
            metrics.record_request(method, status, duration);
            self.report_bytes();
        }
        let Some(log) = &self.config.access_log else {
            return;
        };
        log.record(&AccessRecord {
            peer: self.peer,
            time: pending.time,
            method: pending.method.as_ref(),
            target: pending.target.as_ref(),
            version: pending.version,
            status,
            body_bytes: self.conn.body_bytes_sent(),
            duration,
            referer: pending.referer.as_ref(),
            user_agent: pending.user_agent.as_ref(),
            forwarded: pending.forwarded.as_ref(),
            x_forwarded_for: pending.x_forwarded_for.as_ref(),
        });
    }

    /// Moves the byte counts to the metrics (if any).
    fn report_bytes(&mut self) {
        if let Some(metrics) = &self.config.metrics {
            metrics.add_bytes_received(std::mem::take(&mut self.received));
            metrics.add_bytes_sent(std::mem::take(&mut self.sent));
        }
    }

    /// Answers a protocol error (when it has a status), then closes.
    async fn reject(&mut self, error: ProtocolError) -> Result<(), Stop> {
        tracing::debug!(peer = %self.peer, "bad request: {error}");
        self.conn.close_after_response();
        if let Some(status) = error.status() {
            let response = crate::response::status(status);
            let (parts, body) = response.into_parts();
            let length = BodyLength::Known(body.size_hint().unwrap_or(0));
            let head = ResponseHead {
                status,
                headers: &parts.headers,
                body: length,
            };
            let (conn, out) = (&mut self.conn, &mut self.out);
            with_date(|date| conn.send_head(&head, date, out));
            if let Kind::Full(bytes) = body.kind {
                self.send_data(&bytes)?;
            }
            let _ = self.conn.send_end(&mut self.out);
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

    async fn flush(&mut self) -> io::Result<()> {
        self.batched = 0;
        if self.out.is_empty() {
            return Ok(());
        }
        self.before_write();
        let write = async {
            self.stream.write_all(&self.out).await?;
            // TLS holds encrypted bytes until flushed; TCP's flush is a no-op.
            self.stream.flush().await
        };
        let result = within(self.config.timeouts.write, write).await;
        self.sent += self.out.len() as u64;
        self.out.clear();
        if self.out.capacity() > 4 * FLUSH_AT {
            self.out = Vec::new();
        }
        result
    }

    /// Flushes the write buffer with `MSG_MORE`, so the kernel holds a
    /// partial packet for the file data that follows (as `TCP_CORK` would)
    /// instead of sending the head in a packet of its own.
    /// (Called by [`send_file`](Self::send_file) only, which has turned
    /// Nagle off already.)
    async fn flush_more(&mut self) -> io::Result<()> {
        let Some(stream) = self.stream.plain_tcp() else {
            return self.flush().await;
        };
        let stream = stream?;
        self.batched = 0;
        let mut sent = 0;
        let out = &self.out;
        let write = async {
            while sent < out.len() {
                stream.writable().await?;
                let result = stream.try_io(Interest::WRITABLE, || {
                    rustix::net::send(stream, &out[sent..], rustix::net::SendFlags::MORE)
                        .map_err(io::Error::from)
                });
                match result {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        };
        let result = within(self.config.timeouts.write, write).await;
        self.sent += self.out.len() as u64;
        self.out.clear();
        result
    }

    /// Writes the buffered head followed by `body` with as few syscalls as
    /// possible.
    async fn write_vectored(&mut self, body: &[u8]) -> io::Result<()> {
        self.before_write();
        let write = async {
            let mut bufs = [IoSlice::new(&self.out), IoSlice::new(body)];
            let mut slices: &mut [IoSlice<'_>] = &mut bufs;
            IoSlice::advance_slices(&mut slices, 0);
            while !slices.is_empty() {
                let n = self.stream.write_vectored(slices).await?;
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::WriteZero));
                }
                IoSlice::advance_slices(&mut slices, n);
            }
            self.stream.flush().await
        };
        let result = within(self.config.timeouts.write, write).await;
        self.sent += (self.out.len() + body.len()) as u64;
        self.out.clear();
        self.batched = 0;
        result
    }
}

/// A write that must make progress within `limit` (the write-idle timeout).
///
/// Most writes complete on their first try (the socket buffer has room):
/// those skip the timer, whose deadline alone costs a clock read (callgrind:
/// about 160 instructions per keep-alive request).
async fn within(limit: Duration, write: impl Future<Output = io::Result<()>>) -> io::Result<()> {
    let mut write = std::pin::pin!(write);
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    if let Poll::Ready(done) = first {
        return done;
    }
    match timeout(limit, write).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
    }
}

/// Every field line of a list header, joined with ", " (RFC 9110 §5.3):
/// a proxy may add its own line after the client's, and the log must see
/// both, the proxy's last.
fn all_lines(headers: &http::HeaderMap, name: header::HeaderName) -> Option<HeaderValue> {
    let mut values = headers.get_all(&name).iter();
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(first.clone());
    };
    let mut joined = Vec::with_capacity(first.len() + second.len() + 2);
    joined.extend_from_slice(first.as_bytes());
    for v in std::iter::once(second).chain(values) {
        joined.extend_from_slice(b", ");
        joined.extend_from_slice(v.as_bytes());
    }
    HeaderValue::from_bytes(&joined).ok()
}

fn length_error(_: crate::proto::LengthMismatch) -> Stop {
    tracing::error!("response body longer than its length; closing");
    Stop::Done
}

/// The driver's side of a request body being fed to its reader.
struct BodyFeed {
    tx: IncomingSender,
    /// Body bytes handed over so far (checked against `max_body_bytes`).
    received: u64,
}

enum Feed {
    /// Go on; the number is the bytes read from the socket this step.
    More(usize),
    Finished,
    /// The body cannot be completed; `Some` when the connection is unusable
    /// at once.
    Failed(Option<Stop>),
}

/// Moves one piece of request body from the socket to the handler. Waits
/// for the handler's first read (and sends `100 Continue` then).
async fn feed_body<S: Transport>(
    stream: &mut S,
    conn: &mut Connection,
    out: &mut Vec<u8>,
    feed: &mut BodyFeed,
    config: &ServerConfig,
) -> Feed {
    let tx = &feed.tx;
    if !tx.is_wanted() {
        tx.wanted().await;
    }
    if tx.is_closed() {
        return Feed::Finished;
    }
    if conn.expects_continue() {
        // RFC 9110 §10.1.1: 100 Continue once the handler wants the body.
        conn.send_continue(out);
        // The final response follows this interim one: no Nagle delay for
        // it (see `Nagle`).
        stream.set_nodelay();
        let write = async {
            stream.write_all(out).await?;
            stream.flush().await
        };
        let written = timeout(config.timeouts.write, write).await;
        out.clear();
        if !matches!(written, Ok(Ok(()))) {
            return Feed::Failed(Some(Stop::Done));
        }
    }
    match conn.next_event() {
        Ok(Event::Data(data)) => {
            feed.received += data.len() as u64;
            if feed.received > config.max_body_bytes {
                let _ = tx.send(Err(BodyError::new(BodyErrorKind::TooLarge))).await;
                return Feed::Failed(None);
            }
            if tx.send(Ok(data)).await {
                Feed::More(0)
            } else {
                Feed::Finished
            }
        }
        Ok(Event::End(_)) => Feed::Finished,
        Ok(Event::NeedData) => {
            let read = stream.read_into(conn);
            match timeout(config.timeouts.body_read, read).await {
                Ok(Ok(0)) => {
                    conn.receive_eof();
                    Feed::More(0)
                }
                Ok(Ok(n)) => Feed::More(n),
                Ok(Err(e)) => {
                    let _ = tx
                        .send(Err(BodyError::new(BodyErrorKind::Incomplete)))
                        .await;
                    Feed::Failed(Some(Stop::Io(e)))
                }
                Err(_) => {
                    let _ = tx.send(Err(BodyError::new(BodyErrorKind::Timeout))).await;
                    Feed::Failed(None)
                }
            }
        }
        Ok(Event::Head(_) | Event::Paused | Event::Closed) => Feed::Finished,
        Err(e) => {
            let kind = if e.kind() == ErrorKind::IncompleteBody {
                BodyErrorKind::Incomplete
            } else {
                BodyErrorKind::Protocol(e)
            };
            let _ = tx.send(Err(BodyError::new(kind))).await;
            Feed::Failed(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            stop,
            Start::NEW,
        );
        let size = std::mem::size_of_val(&future);
        println!("connection future: {size} bytes");
        assert!(size < 4096, "connection future is {size} bytes");
    }
}
