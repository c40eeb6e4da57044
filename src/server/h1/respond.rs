//! Writing an HTTP/1.1 response body: in-memory buffers (copied into the
//! write buffer, or written vectored with the head), file ranges (read
//! into the write buffer, or `sendfile` for large ones on plain TCP on
//! Linux) and streams (flushed chunk by chunk, while an echoed request body
//! may still be arriving).

use std::io;

use bytes::Bytes;
use futures_core::Stream;
use http::HeaderMap;

use super::conn::{Driver, Stop};
use super::feed::{BodyFeed, feed_body};
use super::outbox::FLUSH_AT;
#[cfg(target_os = "linux")]
use super::outbox::SendFileError;
use crate::body::{FileRange, Kind};
use crate::platform::{self, Portable};
use crate::proto::ResponseProgress;
use crate::server::transport::Transport;
use crate::{Body, Handler};

/// Largest in-memory body copied into the write buffer (larger ones are
/// written from their own buffer, vectored with the head).
pub(super) const COPY_BODY_MAX: usize = 16 * 1024;
/// File bodies at least this large go out with `sendfile` (on Linux);
/// smaller ones are read into the write buffer so head and body leave in
/// one write.
const SENDFILE_MIN: u64 = 64 * 1024;
/// Piece size for streaming files.
const FILE_CHUNK: usize = 128 * 1024;
/// Write-buffer room for what a response head holds besides the handler's
/// fields (status line, Date, Server, Content-Length or
/// Transfer-Encoding, Connection, the empty line), with room to spare.
const HEAD_FIXED: usize = 160;
/// Write-buffer room reserved at once when more requests are buffered
/// behind this one (pipelining): their responses are batched into it.
const BATCH_RESERVE: usize = 4096;

/// The write buffer to reserve for a response when the buffer was released
/// while idle: sized to fit when this response goes out alone, so that a
/// small one stays within the allocator's fast size classes (glibc's
/// thread cache ends at 1 KiB); with more requests buffered, sized for a
/// batch of responses.
#[inline]
pub(super) fn write_room(headers: &HeaderMap, body: &Body, more_buffered: bool) -> usize {
    let small_body = body.size_hint().filter(|&n| n <= COPY_BODY_MAX as u64);
    let fields: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let room = HEAD_FIXED + fields + small_body.unwrap_or(0) as usize;
    if more_buffered {
        room.max(BATCH_RESERVE)
    } else {
        room
    }
}

fn length_error(_: crate::proto::LengthMismatch) -> Stop {
    tracing::error!("response body longer than its length; closing");
    Stop::Done
}

impl<H: Handler, S: Transport> Driver<H, S> {
    pub(super) fn send_data(&mut self, data: &[u8]) -> Result<(), Stop> {
        self.conn
            .send_data(data, self.out.buf())
            .map_err(length_error)
    }

    /// Step 3 for the bodies `encode_response` leaves: large buffers, files
    /// and streams, flushed as they go.
    pub(super) async fn write_body(
        &mut self,
        body: Body,
        feed: Option<BodyFeed>,
    ) -> Result<(), Stop> {
        match body.kind {
            Kind::Empty => Ok(()),
            // Boxed: its state (the body and the piece being written,
            // across a vectored write) was the largest of the connection's
            // future, which every connection holds until it parks.
            Kind::Full(bytes) => Box::pin(self.write_full(bytes)).await,
            Kind::File(range) => self.write_file(range).await,
            Kind::Stream(..) | Kind::Incoming(_) => Box::pin(self.write_stream(body, feed)).await,
        }
    }

    /// The response body ended short of its Content-Length: the message
    /// cannot be completed, so the connection closes.
    pub(super) async fn body_too_short(&mut self) -> Result<(), Stop> {
        tracing::error!("response body shorter than its length; closing");
        self.flush().await?;
        Err(Stop::Done)
    }

    async fn write_full(&mut self, bytes: Bytes) -> Result<(), Stop> {
        if bytes.len() <= COPY_BODY_MAX {
            self.send_data(&bytes)?;
            return Ok(());
        }
        let piece = self.conn.begin_data(bytes.len(), self.out.buf());
        let Some(piece) = piece.map_err(length_error)? else {
            return Ok(());
        };
        self.out.write_vectored(&mut self.stream, &bytes).await?;
        piece.finish(self.out.buf());
        Ok(())
    }

    /// Reads the file range straight into the write buffer, piece by piece;
    /// memory stays bounded whatever the file size. (Large ranges on plain
    /// TCP go out with `sendfile` instead, where there is one.)
    async fn write_file(&mut self, mut range: FileRange) -> Result<(), Stop> {
        use std::os::unix::fs::FileExt;
        if range.len >= SENDFILE_MIN
            && matches!(self.conn.state().response, ResponseProgress::Body(Some(_)))
            && self.stream.is_plain_tcp()
        {
            // Boxed: its states (MSG_MORE head, sendfile loop, timers)
            // would make every connection's future larger, for responses
            // that take tens of µs anyway.
            #[cfg(target_os = "linux")]
            if platform::fast_paths() {
                return Box::pin(self.send_file(range)).await;
            }
            platform::count(Portable::BufferedFile);
        }
        while range.len > 0 {
            let len = range.len.min(FILE_CHUNK as u64) as usize;
            let piece = self.conn.begin_data(len, self.out.buf());
            let Some(piece) = piece.map_err(length_error)? else {
                return Ok(());
            };
            let out = self.out.buf();
            let start = out.len();
            out.resize(start + len, 0);
            let mut filled = 0;
            while filled < len {
                match range.file.read_at(
                    &mut out[start + filled..start + len],
                    range.offset + filled as u64,
                ) {
                    Ok(0) => {
                        // The file shrank under us: the promised length cannot
                        // be delivered, so the connection must close.
                        out.truncate(start + filled);
                        drop(piece);
                        tracing::warn!("file shrank while being sent; closing");
                        self.flush().await?;
                        return Err(Stop::Done);
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        out.truncate(start);
                        drop(piece);
                        tracing::warn!("file read failed: {e}; closing");
                        self.flush().await?;
                        return Err(Stop::Done);
                    }
                }
            }
            piece.finish(self.out.buf());
            range.offset += len as u64;
            range.len -= len as u64;
            if self.out.buf().len() >= FLUSH_AT {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Large file bodies on a plain socket: `sendfile` after the head (and
    /// any batched responses).
    #[cfg(target_os = "linux")]
    async fn send_file(&mut self, mut range: FileRange) -> Result<(), Stop> {
        let Ok(total) = usize::try_from(range.len) else {
            return Err(Stop::Done);
        };
        let piece = self.conn.begin_data(total, self.out.buf());
        let Some(piece) = piece.map_err(length_error)? else {
            return Ok(());
        };
        match self.out.send_file(&mut self.stream, &mut range).await {
            Ok(()) => {}
            Err(SendFileError::Shrank) => {
                // The promised length cannot be delivered: close.
                tracing::warn!("file shrank while being sent; closing");
                return Err(Stop::Done);
            }
            Err(SendFileError::Io(e)) => return Err(e.into()),
            Err(SendFileError::Timeout) => return Err(Stop::Timeout),
        }
        piece.finish(self.out.buf());
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
}
