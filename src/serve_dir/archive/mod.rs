//! Folder downloads (feature `archive`): with
//! [`ServeDir::archives`](crate::ServeDir::archives), `GET /dir/?download=tar.gz` or
//! `?download=zip` answers the directory and everything beneath it as one
//! archive, streamed as it is written. This module owns the request (the
//! query, the response's head) and the streaming (a blocking thread
//! feeding the body through a bounded channel); the walk is `walk.rs`,
//! the two formats `write.rs`.
//!
//! # Request
//!
//! Asked at step 4 of the [pipeline](super), for a directory requested
//! with a trailing slash (without one it is first redirected, query
//! kept), before its index file or listing, and only for `GET` and
//! `HEAD`: the first `download` field of the query chooses the format,
//! `tar.gz` or `zip`; any other value is `400`. Archives are independent
//! of [`ServeDir::listing`](crate::ServeDir::listing) (the listing, when on, links to them). Without
//! archives on, or on a file's URL, the query is ignored as before.
//!
//! # Response
//!
//! `200` with `Content-Type: application/gzip` or `application/zip`,
//! `Content-Disposition: attachment; filename="NAME.tar.gz"` (plus
//! `filename*=UTF-8''…`, RFC 8187, for a name that is not plain ASCII;
//! NAME is the directory's name, `root` for the root), and no length: it
//! goes out chunked on HTTP/1.1, as DATA frames on HTTP/2. No validators
//! and no `Range` (a new archive every time). `HEAD` gets the same head
//! and nothing is walked. A [`Compress`](crate::compress::Compress) layer
//! leaves it alone: neither type is compressible.
//!
//! Entries are named `NAME/…`, directories included (so empty ones are
//! kept), with the files' permission bits and modification times, owner
//! 0 and no owner names.
//!
//! # Walk
//!
//! Depth first, each directory's names in byte order, so the same tree
//! gives the same archive. Each directory is read through its open handle
//! exactly as a listing is (`read_entries`: `lstat` relative to it, names
//! that are not UTF-8 skipped, hidden names skipped unless
//! [`ServeDir::hidden`](crate::ServeDir::hidden), uploads' temporary files always), and each entry is
//! opened relative to that handle with `O_NOFOLLOW`: no path is resolved
//! from the root again, and nothing above the directory is reachable.
//! FIFOs, sockets and devices are skipped, and so are symlinks unless
//! [`ServeDir::follow_symlinks`](crate::ServeDir::follow_symlinks); with it, a symlink is opened beneath
//! the root as a request for it would be (`openat2` with
//! `RESOLVE_BENEATH`, or the fallback walk), so only a target that stays
//! beneath the root is archived (under the symlink's name), and a
//! directory that is one of its own ancestors is skipped. An entry gone
//! or changed in kind since its directory was read is skipped.
//!
//! # Errors mid-stream
//!
//! The head is sent before the first byte is walked, so a failure later
//! cannot become an error status: the body ends with an error instead (on
//! HTTP/1.1 the connection closes without the last chunk, on HTTP/2 the
//! stream is reset), and the client sees a cut download, never a
//! complete-looking archive with something missing. That happens when a
//! file cannot be opened or read (permission, I/O), when one changes size
//! or modification time while it is read, when a directory holds more
//! than a million names, or when the tree is more than 64 levels deep.
//! Each is logged (`warn`); a client that goes away is logged at `debug`.
//!
//! # Memory and threads
//!
//! The writers run on tokio's blocking pool (one thread per archive being
//! sent, started on the body's first poll, so never for `HEAD`), and hand
//! the body 64 KiB chunks through a channel of four: memory per archive
//! is those chunks, the encoders' state and, for zip, one central
//! directory record per entry, whatever the files' sizes. When the client
//! goes away the channel closes, the next write fails and the thread
//! ends.

mod walk;
mod write;

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::{HeaderValue, Method, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::mpsc;

use super::open::Root;
use crate::body::BoxError;
use crate::response::{ErrorReason, status};
use crate::safe_path::SafePath;
use crate::{Body, Response};
pub(super) use walk::Policy;
use walk::walk;
use write::{TarGz, Zip};

/// The archive formats of `?download=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// `tar.gz`: a tar stream, gzipped.
    TarGz,
    /// `zip`: each file deflated (stored when already compressed).
    Zip,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::TarGz => "tar.gz",
            Format::Zip => "zip",
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Format::TarGz => "application/gzip",
            Format::Zip => "application/zip",
        })
    }
}

/// The format the query's first `download` field asks for: `None`
/// without one, `Err` with the `400` for a value that names no format.
pub(super) fn requested(query: Option<&str>) -> Option<Result<Format, Response>> {
    let (_, value) =
        form_urlencoded::parse(query?.as_bytes()).find(|(name, _)| name == "download")?;
    Some(match &*value {
        "tar.gz" => Ok(Format::TarGz),
        "zip" => Ok(Format::Zip),
        _ => Err(bad_request()),
    })
}

/// `400` for an unknown `?download=` value, saying which ones exist.
fn bad_request() -> Response {
    let reason: Arc<str> =
        "unknown archive format: ask for ?download=tar.gz or ?download=zip".into();
    let mut res = status(StatusCode::BAD_REQUEST);
    *res.body_mut() = Body::from(format!("{reason}\n"));
    res.extensions_mut().insert(ErrorReason(Some(reason)));
    res
}

/// What a `GET` of an archive needs, moved to the blocking thread.
struct Job {
    format: Format,
    root: Arc<Root>,
    /// The directory's handle, opened beneath the root.
    dir: Arc<File>,
    /// Its path beneath the root.
    rel: String,
    /// The archive's top folder.
    top: String,
    policy: Policy,
}

/// The archive of the directory `dir` (its open handle, at `path`) as a
/// response to `method` (`GET` or `HEAD`); see the [module docs](self).
pub(super) fn response(
    method: &Method,
    format: Format,
    root: &Arc<Root>,
    dir: &Arc<File>,
    path: &SafePath,
    policy: Policy,
) -> Response {
    let top = path.segments().last().unwrap_or("root").to_owned();
    let disposition = content_disposition(&format!("{top}.{}", format.extension()));
    let job = (method != Method::HEAD).then(|| Job {
        format,
        root: Arc::clone(root),
        dir: Arc::clone(dir),
        rel: path.as_str().to_owned(),
        top,
        policy,
    });
    let mut res = Response::new(Body::stream(ArchiveBody { job, rx: None }));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, format.content_type());
    if let Some(disposition) = disposition {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    res
}

/// RFC 8187 `attr-char`: what `filename*` keeps as it is.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="NAME"` (RFC 6266), the name's printable ASCII
/// kept and everything else (and `"`, `\`, `%`) made `_`; when that
/// changed the name, `filename*=UTF-8''…` (RFC 8187) follows with the
/// name itself, which clients that know it prefer.
pub(super) fn content_disposition(name: &str) -> Option<HeaderValue> {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            '"' | '\\' | '%' => '_',
            ' '..='~' => c,
            _ => '_',
        })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if ascii != name {
        value.push_str("; filename*=UTF-8''");
        value.extend(utf8_percent_encode(name, ATTR_CHAR));
    }
    HeaderValue::try_from(value).ok()
}

/// The size of the chunks the writer hands the body.
const CHUNK: usize = 64 * 1024;

/// How many chunks wait in the channel at most.
const CHANNEL_CHUNKS: usize = 4;

/// The response body: nothing happens until it is first polled; then the
/// walk and the writer start on the blocking pool and their chunks come
/// through the channel.
struct ArchiveBody {
    /// Taken on the first poll; `None` for `HEAD`.
    job: Option<Job>,
    rx: Option<mpsc::Receiver<Result<Bytes, BoxError>>>,
}

impl Stream for ArchiveBody {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(job) = this.job.take() {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return Poll::Ready(Some(Err("an archive is written on a tokio runtime".into())));
            };
            let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
            runtime.spawn_blocking(move || run(job, tx));
            this.rx = Some(rx);
        }
        match &mut this.rx {
            Some(rx) => rx.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }
}

/// The blocking thread: walks and writes, then ends the body, with an
/// error if the archive could not be completed.
fn run(job: Job, tx: mpsc::Sender<Result<Bytes, BoxError>>) {
    let discard = Arc::new(AtomicBool::new(false));
    let out = Out {
        tx: tx.clone(),
        buf: BytesMut::with_capacity(CHUNK),
        gone: false,
        discard: Arc::clone(&discard),
    };
    let result = match job.format {
        Format::TarGz => write_with(&job, &discard, TarGz::new(out), TarGz::finish),
        Format::Zip => write_with(&job, &discard, Zip::new(out), Zip::finish),
    };
    let Err(e) = result else { return };
    if tx.is_closed() {
        tracing::debug!(top = %job.top, "archive download ended by the client: {e}");
    } else {
        tracing::warn!(top = %job.top, "archive cut short: {e}");
        let _ = tx.blocking_send(Err(e.into()));
    }
}

/// Walks `job`'s directory into `writer`, then `finish`es it and sends
/// what is left. On failure the writer's output is discarded before the
/// writer is dropped, so nothing it writes while dropped (zip writes its
/// central directory then) reaches the client.
fn write_with<V: walk::Visit>(
    job: &Job,
    discard: &AtomicBool,
    mut writer: V,
    finish: impl FnOnce(V) -> io::Result<Out>,
) -> io::Result<()> {
    let walked = walk(
        &job.root,
        &job.dir,
        &job.rel,
        &job.top,
        job.policy,
        &mut writer,
    );
    if let Err(e) = walked {
        discard.store(true, Ordering::Relaxed);
        drop(writer);
        return Err(e);
    }
    let mut out = finish(writer)?;
    out.flush()
}

/// The writers' output: bytes gathered into [`CHUNK`]-sized pieces and
/// sent to the body, waiting while the channel is full. Once the body is
/// gone, the write that finds out fails (`BrokenPipe`) and every later
/// one is discarded, as is everything once `discard` is set.
struct Out {
    tx: mpsc::Sender<Result<Bytes, BoxError>>,
    buf: BytesMut,
    gone: bool,
    discard: Arc<AtomicBool>,
}

impl Out {
    fn discarding(&self) -> bool {
        self.gone || self.discard.load(Ordering::Relaxed)
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = self.buf.split().freeze();
        self.buf.reserve(CHUNK);
        if self.tx.blocking_send(Ok(chunk)).is_err() {
            self.gone = true;
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client went away",
            ));
        }
        Ok(())
    }
}

impl Write for Out {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.discarding() {
            return Ok(data.len());
        }
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.discarding() {
            return Ok(());
        }
        self.send()
    }
}
