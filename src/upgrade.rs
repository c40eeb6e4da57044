//! HTTP/1.1 Upgrade (RFC 9110 §7.8): a handler answers `101 Switching
//! Protocols` and takes the connection over as a byte stream, for
//! WebSockets (RFC 6455) or any other protocol the client offered.
//!
//! ```no_run
//! use berth::prelude::*;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! // A toy protocol: after the switch, echo bytes back.
//! async fn echo(mut req: Request) -> Response {
//!     let Ok(on_upgrade) = berth::upgrade::on(&mut req) else {
//!         return berth::upgrade::required("echo"); // 426
//!     };
//!     tokio::spawn(async move {
//!         let Ok(mut io) = on_upgrade.await else { return };
//!         let mut buf = [0; 1024];
//!         while let Ok(n @ 1..) = io.read(&mut buf).await {
//!             if io.write_all(&buf[..n]).await.is_err() {
//!                 break;
//!             }
//!         }
//!     });
//!     berth::upgrade::switching("echo")
//! }
//! # let _ = Router::new().get("/echo", echo);
//! ```
//!
//! The server writes the `101` (with `Connection: upgrade`) and then hands
//! over the socket, with any bytes the client sent after its request
//! already in the [`Upgraded`] stream. The connection still counts
//! against the connection cap until the stream is dropped; reads time out
//! after [`Timeouts::upgraded_idle`](crate::Timeouts::upgraded_idle) of
//! silence and writes after [`Timeouts::write`](crate::Timeouts::write)
//! without progress; on shutdown the stream gets the grace period, then
//! fails with `ConnectionAborted`.
//!
//! Only HTTP/1.1 upgrades: an HTTP/2 stream cannot switch protocols (RFC
//! 9113 §8.6), nor can an HTTP/1.0 request (RFC 9110 §7.8).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::{HeaderValue, StatusCode, header};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use crate::{Body, Response};

/// Takes the upgrade a request offers: resolves to the connection once the
/// handler's `101 Switching Protocols` is on the wire. Fails when the
/// request offers no upgrade (no `Upgrade` with `Connection: upgrade`, an
/// HTTP/1.0 or HTTP/2 request), or when called twice.
///
/// Works on any `http::Request<B>`, so an axum handler served through
/// [`Tower`](crate::Tower) can take the upgrade too.
pub fn on<B>(req: &mut http::Request<B>) -> Result<OnUpgrade, NotOffered> {
    req.extensions_mut()
        .remove::<Offer>()
        .map(|offer| OnUpgrade { rx: offer.rx })
        .ok_or(NotOffered)
}

/// A `101 Switching Protocols` response naming `protocol` in its `Upgrade`
/// field, to add the new protocol's own fields to (for a WebSocket,
/// `Sec-WebSocket-Accept`).
pub fn switching(protocol: &'static str) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    res.headers_mut()
        .insert(header::UPGRADE, HeaderValue::from_static(protocol));
    res
}

/// A `426 Upgrade Required` response naming `protocol` in its `Upgrade`
/// field (RFC 9110 §15.5.22: a server MUST send one in a 426), for a
/// request to an endpoint that speaks only `protocol`.
pub fn required(protocol: &'static str) -> Response {
    let mut res = crate::response::status(StatusCode::UPGRADE_REQUIRED);
    res.headers_mut()
        .insert(header::UPGRADE, HeaderValue::from_static(protocol));
    res
}

/// What the server puts in the extensions of a request that offers an
/// upgrade; [`on`] takes it out.
#[derive(Debug)]
pub(crate) struct Offer {
    rx: oneshot::Receiver<Upgraded>,
}

impl Offer {
    /// An offer and the server's end of it.
    pub(crate) fn new() -> (oneshot::Sender<Upgraded>, Offer) {
        let (tx, rx) = oneshot::channel();
        (tx, Offer { rx })
    }
}

// `http::Extensions` needs `Clone`; an offer can be taken only once, so a
// copy of the request holds none.
impl Clone for Offer {
    fn clone(&self) -> Self {
        let (_, offer) = Offer::new();
        offer
    }
}

/// The upgrade a request offered, taken with [`on`]: a future of the
/// [`Upgraded`] connection.
#[derive(Debug)]
pub struct OnUpgrade {
    rx: oneshot::Receiver<Upgraded>,
}

impl Future for OnUpgrade {
    type Output = Result<Upgraded, NotSwitched>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map_err(|_| NotSwitched)
    }
}

/// The request offered no upgrade berth can make (answer it with
/// [`required`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotOffered;

impl fmt::Display for NotOffered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request offers no HTTP/1.1 upgrade")
    }
}

impl std::error::Error for NotOffered {}

/// The connection was not switched: the handler's response was not a
/// `101` with `Upgrade`, or the connection ended first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotSwitched;

impl fmt::Display for NotSwitched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the connection was not upgraded")
    }
}

impl std::error::Error for NotSwitched {}

/// The byte stream a connection carries after `101 Switching Protocols`.
pub struct Upgraded {
    io: Box<dyn Io>,
    /// What the client sent after its request, read before the switch.
    read: Bytes,
    idle: Duration,
    write_limit: Duration,
    /// Reset whenever bytes arrive; a read waiting past it fails.
    idle_timer: Pin<Box<Sleep>>,
    /// Set while a write waits for room.
    write_timer: Option<Pin<Box<Sleep>>>,
    /// Resolves once shutdown began and its grace period is over.
    killed: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// Dropped with the stream: the connection's task, which holds its
    /// place under the connection cap, then ends.
    _done: oneshot::Sender<()>,
}

/// A stream an upgraded connection runs over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// What the server hands over with an upgraded connection.
pub(crate) struct Handover {
    pub(crate) io: Box<dyn Io>,
    pub(crate) read: Bytes,
    pub(crate) idle: Duration,
    pub(crate) write_limit: Duration,
    pub(crate) killed: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Upgraded {
    /// The stream, and a receiver that resolves when it is dropped.
    pub(crate) fn new(handover: Handover) -> (Upgraded, oneshot::Receiver<()>) {
        let (done, dropped) = oneshot::channel();
        let upgraded = Upgraded {
            io: handover.io,
            read: handover.read,
            idle: handover.idle,
            write_limit: handover.write_limit,
            idle_timer: Box::pin(tokio::time::sleep(handover.idle)),
            write_timer: None,
            killed: handover.killed,
            _done: done,
        };
        (upgraded, dropped)
    }

    fn check_killed(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.killed.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the server shut down",
            )),
            Poll::Pending => Ok(()),
        }
    }
}

impl fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upgraded")
            .field("buffered", &self.read.len())
            .finish_non_exhaustive()
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.read.is_empty() {
            let n = this.read.len().min(buf.remaining());
            buf.put_slice(&this.read[..n]);
            this.read.advance(n);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    let deadline = Instant::now() + this.idle;
                    this.idle_timer.as_mut().reset(deadline);
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                this.check_killed(cx)?;
                ready!(this.idle_timer.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "upgraded connection idle too long",
                )))
            }
        }
    }
}

impl Upgraded {
    /// Runs a write step, failing it once it has waited for room longer
    /// than the write timeout.
    fn write_step<T>(
        &mut self,
        cx: &mut Context<'_>,
        step: impl FnOnce(Pin<&mut Box<dyn Io>>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match step(Pin::new(&mut self.io), cx) {
            Poll::Ready(result) => {
                self.write_timer = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                self.check_killed(cx)?;
                let limit = self.write_limit;
                let timer = self
                    .write_timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                ready!(timer.as_mut().poll(cx));
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "upgraded connection write made no progress",
                )))
            }
        }
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .write_step(cx, |io, cx| io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .write_step(cx, |io, cx| io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().write_step(cx, |io, cx| io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().write_step(cx, |io, cx| io.poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn handover(io: impl Io, read: &'static [u8], idle: Duration) -> Handover {
        Handover {
            io: Box::new(io),
            read: Bytes::from_static(read),
            idle,
            write_limit: Duration::from_secs(5),
            killed: Box::pin(std::future::pending()),
        }
    }

    #[tokio::test]
    async fn bytes_read_before_the_switch_come_first() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let (mut up, _) = Upgraded::new(handover(ours, b"early ", Duration::from_secs(5)));
        theirs.write_all(b"late").await.unwrap();
        let mut got = vec![0; 10];
        up.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"early late");
        up.write_all(b"back").await.unwrap();
        let mut back = [0; 4];
        theirs.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"back");
    }

    // Real time, short durations: tokio's paused clock (`test-util`) would
    // be compiled into the benchmark examples too, and slows every
    // `Instant::now` there.
    #[tokio::test]
    async fn a_silent_peer_times_out_and_bytes_reset_the_clock() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let idle = Duration::from_millis(300);
        let (mut up, _) = Upgraded::new(handover(ours, b"", idle));
        let mut byte = [0; 1];
        tokio::time::sleep(Duration::from_millis(200)).await;
        theirs.write_all(b"x").await.unwrap();
        up.read_exact(&mut byte).await.unwrap();
        let start = Instant::now();
        let err = up.read(&mut byte).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        // A full idle period from the last byte, not from the start.
        assert!(
            start.elapsed() >= Duration::from_millis(250),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_write_without_room_times_out() {
        let (ours, _theirs) = tokio::io::duplex(4);
        let mut h = handover(ours, b"", Duration::from_secs(600));
        h.write_limit = Duration::from_millis(100);
        let (mut up, _) = Upgraded::new(h);
        let err = up.write_all(&[0; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn shutdown_aborts_a_waiting_read() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let mut h = handover(ours, b"", Duration::from_secs(600));
        h.killed = Box::pin(tokio::time::sleep(Duration::from_millis(100)));
        let (mut up, _) = Upgraded::new(h);
        let err = up.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
    }

    #[tokio::test]
    async fn dropping_the_stream_tells_the_server() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let (up, dropped) = Upgraded::new(handover(ours, b"", Duration::from_secs(5)));
        drop(up);
        assert!(dropped.await.is_err());
    }

    #[test]
    fn the_offer_is_taken_once() {
        let (_tx, offer) = Offer::new();
        let mut req = http::Request::new(());
        req.extensions_mut().insert(offer);
        assert!(on(&mut req).is_ok());
        assert_eq!(on(&mut req).unwrap_err(), NotOffered);
        let res = required("websocket");
        assert_eq!(res.status(), StatusCode::UPGRADE_REQUIRED);
        assert_eq!(res.headers()["upgrade"], "websocket");
    }
}
