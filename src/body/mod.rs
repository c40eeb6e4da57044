//! `Body`: the payload of a request or response, shared by every layer.
//!
//! A body is empty, a buffer in memory, a stream of chunks produced by a
//! handler, a byte range of an open file, or (for requests) the bytes still
//! arriving on the connection. [`Body::size_hint`] gives the exact length when
//! it is known; the driver turns that into `Content-Length`, and anything of
//! unknown length goes out chunked (close-delimited to HTTP/1.0 peers).
//!
//! `Body` is an [`http_body::Body`], so the http ecosystem (axum's
//! extractors, tower-http's layers, hyper's clients) reads it; and
//! [`Body::new`] takes any `http_body::Body` in (an axum or tower-http
//! response body), keeping berth's own bodies as they are so their fast
//! paths (`Content-Length`, `sendfile`, the open-file cache) survive.

use std::fmt;
use std::fs::File;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::sync::{Notify, mpsc};

/// The error type streaming bodies may yield.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

type BoxStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send + 'static>>;

/// A request or response body.
pub struct Body {
    pub(crate) kind: Kind,
}

pub(crate) enum Kind {
    Empty,
    Full(Bytes),
    /// A stream, with its exact length when the producer knows it.
    Stream(BoxStream, Option<u64>),
    File(FileRange),
    Incoming(Incoming),
}

/// A byte range of an open file, streamed by the driver without reading the
/// whole file into memory.
#[derive(Debug)]
pub(crate) struct FileRange {
    /// Shared, so an open-file cache can hand the same descriptor to many
    /// responses (reads are positional: `read_at`).
    pub(crate) file: Arc<File>,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

impl Body {
    /// A body with no bytes.
    pub fn empty() -> Self {
        Body { kind: Kind::Empty }
    }

    /// Any [`http_body::Body`] as a berth body: a berth `Body` stays
    /// itself (files keep `sendfile`); another body (axum's, a tower-http
    /// layer's) is streamed frame by frame, with `Content-Length` when its
    /// size hint is exact. Trailers are not sent (berth sends none).
    ///
    /// ```
    /// use berth::Body;
    /// let body = Body::new(Body::from("hi"));
    /// assert_eq!(body.size_hint(), Some(2));
    /// ```
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(body);
        if let Some(own) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Body>>() {
            return own.take().unwrap_or_default();
        }
        let Some(body) = slot else {
            return Body::empty();
        };
        let len = body.size_hint().exact();
        if len == Some(0) && body.is_end_stream() {
            return Body::empty();
        }
        Body {
            kind: Kind::Stream(Box::pin(Frames { body }), len),
        }
    }

    /// A body held in memory.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Body::empty();
        }
        Body {
            kind: Kind::Full(bytes),
        }
    }

    /// A body produced chunk by chunk; its length is unknown, so it is sent
    /// chunked. Each chunk is flushed to the client as it is produced.
    pub fn stream<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, BoxError>> + Send + 'static,
    {
        Body {
            kind: Kind::Stream(Box::pin(stream), None),
        }
    }

    /// A streaming body fed through the returned [`BodySender`], for
    /// responses produced a piece at a time by other code (Server-Sent
    /// Events, long polls, progress output). At most `buffer` chunks wait
    /// unsent (at least one); each is flushed to the client as it is taken.
    /// The body ends when the sender is dropped.
    ///
    /// ```
    /// use berth::prelude::*;
    ///
    /// async fn countdown(_req: Request) -> Response {
    ///     let (tx, body) = Body::channel(1);
    ///     tokio::spawn(async move {
    ///         for n in (1..=3).rev() {
    ///             if tx.send(format!("{n}\n")).await.is_err() {
    ///                 return; // the client went away
    ///             }
    ///         }
    ///     });
    ///     Response::new(body)
    /// }
    /// # let _ = Router::new().get("/countdown", countdown);
    /// ```
    pub fn channel(buffer: usize) -> (BodySender, Body) {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        (BodySender { tx }, Body::stream(ChannelStream { rx }))
    }

    /// A stream whose total length is known: it goes out with
    /// `Content-Length` instead of chunked. The stream must yield exactly
    /// `len` bytes; if it yields fewer or more, the connection is closed
    /// (the message cannot be completed correctly).
    pub fn sized_stream<S>(len: u64, stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, BoxError>> + Send + 'static,
    {
        Body {
            kind: Kind::Stream(Box::pin(stream), Some(len)),
        }
    }

    /// `len` bytes of `file` starting at `offset`, streamed from the file.
    ///
    /// `file` may be shared (`Arc<File>`): reads are positional, so one
    /// descriptor can serve many responses at once.
    pub fn file(file: impl Into<Arc<File>>, offset: u64, len: u64) -> Self {
        Body {
            kind: Kind::File(FileRange {
                file: file.into(),
                offset,
                len,
            }),
        }
    }

    /// The exact length in bytes, when it is known before sending.
    pub fn size_hint(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(b) => Some(b.len() as u64),
            Kind::Stream(_, len) => *len,
            Kind::File(f) => Some(f.len),
            Kind::Incoming(i) => i.len,
        }
    }

    /// Sets the most bytes this request body may bring, replacing the
    /// server's [`max_body_bytes`](crate::ServerConfig::max_body_bytes)
    /// (a route can raise it or lower it; [`body_limit`](crate::body_limit)
    /// does so for a route). Past it, reads fail with
    /// [`BodyError::is_too_large`] (answered `413`), and a body whose
    /// declared length is already over it fails its first read without a
    /// byte read. The connection then closes after the response instead of
    /// reading the rest. Bodies not received from a client (built in the
    /// program) have no limit but the one each reader passes.
    pub fn set_limit(&mut self, max: u64) {
        if let Kind::Incoming(i) = &mut self.kind {
            i.limit = max;
        }
    }

    /// Refuses a received body whose declared length is over `max` (the
    /// connection will close rather than read it); true when the body is
    /// too large for `max`, received or not.
    pub(crate) fn refuse_over(&mut self, max: u64) -> bool {
        let over = Body::size_hint(self).is_some_and(|n| n > max);
        if let Kind::Incoming(i) = &mut self.kind {
            i.limit = max;
            i.refuse_if_declared_over();
        }
        over
    }

    /// True when the body is known to hold no bytes.
    pub fn is_empty(&self) -> bool {
        self.size_hint() == Some(0)
    }

    /// The next chunk of the body, or `None` at its end.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        std::future::poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// Reads the whole body into memory, failing with
    /// [`BodyError::is_too_large`] once more than `limit` bytes arrive.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, BodyError> {
        if let Kind::Full(b) = &self.kind
            && b.len() <= limit
        {
            return Ok(std::mem::replace(&mut self.kind, Kind::Empty).into_full());
        }
        if self.size_hint().is_some_and(|n| n > limit as u64) {
            return Err(BodyError::new(BodyErrorKind::TooLarge));
        }
        let mut out = BytesMut::new();
        while let Some(chunk) = self.next_chunk().await {
            let chunk = chunk?;
            if out.len() + chunk.len() > limit {
                return Err(BodyError::new(BodyErrorKind::TooLarge));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(_) => Poll::Ready(Some(Ok(
                std::mem::replace(&mut self.kind, Kind::Empty).into_full()
            ))),
            Kind::Stream(s, _) => match s.as_mut().poll_next(cx) {
                Poll::Ready(Some(Err(e))) => {
                    Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::Stream(e)))))
                }
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(b))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            Kind::File(f) => Poll::Ready(read_file_chunk(f).transpose()),
            Kind::Incoming(i) => i.poll_chunk(cx),
        }
    }
}

impl Kind {
    fn into_full(self) -> Bytes {
        match self {
            Kind::Full(b) => b,
            _ => Bytes::new(),
        }
    }
}

/// Reads the next piece of a file range for callers that pull a file body as
/// a stream (the driver reads files itself, straight into its write buffer).
fn read_file_chunk(f: &mut FileRange) -> Result<Option<Bytes>, BodyError> {
    use std::os::unix::fs::FileExt;
    if f.len == 0 {
        return Ok(None);
    }
    let n = f.len.min(64 * 1024) as usize;
    let mut buf = vec![0; n];
    let got = f.file.read_at(&mut buf, f.offset).map_err(BodyError::io)?;
    if got == 0 {
        return Err(BodyError::new(BodyErrorKind::Incomplete));
    }
    buf.truncate(got);
    f.offset += got as u64;
    f.len -= got as u64;
    Ok(Some(Bytes::from(buf)))
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::full(b)
    }
}
impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::full(s)
    }
}
impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::full(Bytes::from_static(s.as_bytes()))
    }
}
impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::full(v)
    }
}
impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::full(Bytes::from_static(s))
    }
}
impl From<()> for Body {
    fn from(_: ()) -> Self {
        Body::empty()
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match &self.kind {
            Kind::Empty => "Empty",
            Kind::Full(_) => "Full",
            Kind::Stream(..) => "Stream",
            Kind::File(_) => "File",
            Kind::Incoming(_) => "Incoming",
        };
        f.debug_struct("Body")
            .field("kind", &name)
            .field("size_hint", &self.size_hint())
            .finish()
    }
}

impl Stream for Body {
    type Item = Result<Bytes, BodyError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chunk(cx)
    }
}

/// Frames in, frames out: berth's body is the http ecosystem's body.
impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BodyError>>> {
        self.get_mut()
            .poll_chunk(cx)
            .map(|chunk| chunk.map(|chunk| chunk.map(http_body::Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Empty)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match Body::size_hint(self) {
            Some(n) => http_body::SizeHint::with_exact(n),
            None => http_body::SizeHint::default(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A foreign [`http_body::Body`] as the stream of its data frames
    /// (see [`Body::new`]).
    struct Frames<B> {
        #[pin]
        body: B,
    }
}

impl<B> Stream for Frames<B>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        use bytes::Buf;
        let mut body = self.project().body;
        loop {
            return match std::task::ready!(body.as_mut().poll_frame(cx)) {
                None => Poll::Ready(None),
                Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(mut data) => {
                        // Zero-copy when the data is `Bytes` already.
                        let bytes = data.copy_to_bytes(data.remaining());
                        if bytes.is_empty() {
                            continue;
                        }
                        Poll::Ready(Some(Ok(bytes)))
                    }
                    // Trailers: berth sends none (nor declares any).
                    Err(_) => continue,
                },
            };
        }
    }
}

/// Why a body could not be read to its end.
pub struct BodyError {
    kind: BodyErrorKind,
}

#[derive(Debug)]
pub(crate) enum BodyErrorKind {
    TooLarge,
    Incomplete,
    Timeout,
    Io(std::io::Error),
    Protocol(crate::proto::ProtocolError),
    Stream(BoxError),
}

impl BodyError {
    pub(crate) fn new(kind: BodyErrorKind) -> Self {
        BodyError { kind }
    }
    pub(crate) fn kind(&self) -> &BodyErrorKind {
        &self.kind
    }
    pub(crate) fn io(e: std::io::Error) -> Self {
        BodyError::new(BodyErrorKind::Io(e))
    }
    /// The body was longer than the limit the reader set (answer 413).
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, BodyErrorKind::TooLarge)
    }
    /// The peer stopped sending in the middle of the body.
    pub fn is_incomplete(&self) -> bool {
        matches!(self.kind, BodyErrorKind::Incomplete)
    }
    /// The peer was too slow sending the body.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, BodyErrorKind::Timeout)
    }
}

impl fmt::Debug for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyErrorKind::TooLarge => f.write_str("body larger than the limit"),
            BodyErrorKind::Incomplete => f.write_str("body ended early"),
            BodyErrorKind::Timeout => f.write_str("body read timed out"),
            BodyErrorKind::Io(e) => write!(f, "body I/O error: {e}"),
            BodyErrorKind::Protocol(e) => write!(f, "malformed body: {e}"),
            BodyErrorKind::Stream(e) => write!(f, "body stream error: {e}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// The sending half of a [`Body::channel`].
#[derive(Debug)]
pub struct BodySender {
    tx: mpsc::Sender<Result<Bytes, BoxError>>,
}

impl BodySender {
    /// Queues one chunk of the body, waiting while the buffer is full.
    /// Fails when the body was dropped (the client disconnected, or the
    /// response was abandoned); there is then no point producing more.
    pub fn send(
        &self,
        chunk: impl Into<Bytes>,
    ) -> impl std::future::Future<Output = Result<(), BodyClosed>> + Send + '_ {
        let chunk = chunk.into();
        async move { self.tx.send(Ok(chunk)).await.map_err(|_| BodyClosed) }
    }

    /// Ends the body with an error instead of normally: the response is
    /// cut short (a chunked response gets no final chunk and the connection
    /// closes), so the client can tell it is incomplete.
    pub fn abort(self, error: impl Into<BoxError>) -> impl std::future::Future<Output = ()> + Send {
        let error = error.into();
        async move {
            let _ = self.tx.send(Err(error)).await;
        }
    }

    /// True when the body was dropped and further chunks would be lost.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// The body a [`BodySender`] feeds is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyClosed;

impl fmt::Display for BodyClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the body's receiver is gone")
    }
}

impl std::error::Error for BodyClosed {}

/// The receiving half of a [`Body::channel`], as a stream.
struct ChannelStream {
    rx: mpsc::Receiver<Result<Bytes, BoxError>>,
}

impl Stream for ChannelStream {
    type Item = Result<Bytes, BoxError>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

/// A request body still arriving on its connection: fed through a
/// channel by the connection's task (HTTP/1.1, whose body shares a read
/// buffer with the next request), or pulled from a [`Source`] when the
/// handler reads (an HTTP/2 stream).
///
/// The body limit is applied here, whichever protocol feeds the body: a
/// declared length over it fails the first read without asking the
/// protocol for anything (so no `100 Continue`, RFC 9110 §10.1.1, and no
/// bytes read), and counted bytes past it fail the read that brought them
/// (RFC 9110 §15.5.14). Either way the body is then *refused*: the
/// protocol learns it, and closes rather than read the rest.
pub(crate) struct Incoming {
    from: Feed,
    len: Option<u64>,
    /// The most bytes this body may bring ([`Body::set_limit`]).
    limit: u64,
    received: u64,
}

enum Feed {
    /// The connection driver holds the matching [`IncomingSender`] and
    /// reads the socket only when the handler asks for data, so
    /// `100 Continue` is sent on the first read.
    Fed {
        rx: mpsc::Receiver<Result<Bytes, BodyError>>,
        shared: Arc<Shared>,
    },
    Pulled(Box<dyn Source>),
    /// Refused over the limit: the protocol was told, the reads are over.
    Refused,
}

/// A request body the protocol hands over piece by piece as the handler
/// reads it (HTTP/2: data frames, with flow-control capacity released as
/// each is taken).
pub(crate) trait Source: Send + 'static {
    /// The next piece, `None` at the end.
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>>;

    /// The body went over its limit: the rest is not wanted, and the
    /// protocol should not read it.
    fn refuse(&mut self);
}

/// What the handler's end of a fed body tells the driver's end.
#[derive(Default)]
struct Shared {
    wanted: AtomicBool,
    refused: AtomicBool,
    notify: Notify,
}

/// The driver's end of an [`Incoming`] body.
pub(crate) struct IncomingSender {
    tx: mpsc::Sender<Result<Bytes, BodyError>>,
    shared: Arc<Shared>,
}

impl Incoming {
    /// A connected pair; `len` is the declared Content-Length, if any, and
    /// `limit` the most bytes the body may bring.
    pub(crate) fn channel(len: Option<u64>, limit: u64) -> (IncomingSender, Body) {
        let (tx, rx) = mpsc::channel(1);
        let shared = Arc::new(Shared::default());
        let sender = IncomingSender {
            tx,
            shared: shared.clone(),
        };
        let from = Feed::Fed { rx, shared };
        (sender, Incoming::body(from, len, limit))
    }

    /// A body read from `source`; `len` is the declared Content-Length, if
    /// any, and `limit` the most bytes the body may bring.
    pub(crate) fn pulled(source: impl Source, len: Option<u64>, limit: u64) -> Body {
        Incoming::body(Feed::Pulled(Box::new(source)), len, limit)
    }

    fn body(from: Feed, len: Option<u64>, limit: u64) -> Body {
        Body {
            kind: Kind::Incoming(Incoming {
                from,
                len,
                limit,
                received: 0,
            }),
        }
    }

    /// Refuses the body if its declared length is over the limit; true if
    /// it is refused (now or before).
    fn refuse_if_declared_over(&mut self) -> bool {
        if self.len.is_some_and(|n| n > self.limit) {
            self.refuse();
        }
        matches!(self.from, Feed::Refused)
    }

    /// Tells the protocol the rest is not wanted, and ends the reads.
    fn refuse(&mut self) {
        match std::mem::replace(&mut self.from, Feed::Refused) {
            Feed::Fed { shared, .. } => shared.refused.store(true, Ordering::Release),
            Feed::Pulled(mut source) => source.refuse(),
            Feed::Refused => {}
        }
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        if matches!(self.from, Feed::Refused) {
            return Poll::Ready(None);
        }
        if self.received == 0 && self.refuse_if_declared_over() {
            return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::TooLarge))));
        }
        let polled = match &mut self.from {
            Feed::Fed { rx, shared } => {
                if !shared.wanted.swap(true, Ordering::AcqRel) {
                    shared.notify.notify_one();
                }
                rx.poll_recv(cx)
            }
            Feed::Pulled(source) => source.poll_chunk(cx),
            Feed::Refused => return Poll::Ready(None),
        };
        if let Poll::Ready(Some(Ok(data))) = &polled {
            self.received = self.received.saturating_add(data.len() as u64);
            if self.received > self.limit {
                self.refuse();
                return Poll::Ready(Some(Err(BodyError::new(BodyErrorKind::TooLarge))));
            }
        }
        polled
    }
}

impl IncomingSender {
    /// Resolves once the handler first asks for body data.
    pub(crate) async fn wanted(&self) {
        if self.shared.wanted.load(Ordering::Acquire) {
            return;
        }
        self.shared.notify.notified().await;
    }

    /// True once the handler has asked for body data.
    pub(crate) fn is_wanted(&self) -> bool {
        self.shared.wanted.load(Ordering::Acquire)
    }

    /// True once the body went over its limit: the connection should
    /// close after the response rather than read the rest.
    pub(crate) fn is_refused(&self) -> bool {
        self.shared.refused.load(Ordering::Acquire)
    }

    /// Hands a chunk (or an error) to the handler, waiting while it has not
    /// taken the previous one. `false` when the handler dropped the body.
    pub(crate) async fn send(&self, item: Result<Bytes, BodyError>) -> bool {
        self.tx.send(item).await.is_ok()
    }

    /// Ends the body with an error instead of a clean end, for a reader
    /// still holding it when the driver stops feeding it. Best effort: if
    /// the reader has not taken the previous chunk, it will see the channel
    /// close after that chunk.
    pub(crate) fn abort(self) {
        let _ = self
            .tx
            .try_send(Err(BodyError::new(BodyErrorKind::Incomplete)));
    }

    /// True when the handler dropped its body.
    pub(crate) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[cfg(test)]
mod tests;
