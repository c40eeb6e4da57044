//! A `multipart/form-data` `POST`: every file part stored in turn (steps 5
//! to 7 of the [module docs](super)), parsed as a stream by `multer`.
//!
//! # Bounded memory
//!
//! multer keeps what it has read and not yet handed out in a buffer of its
//! own, and reads on while it looks for a boundary or the end of a part's
//! headers: a body whose preamble or part headers never end would grow
//! that buffer to the whole upload limit. So the body reaches multer on a
//! leash ([`Leashed`]):
//!
//! - one chunk per poll: before each chunk the stream yields once (waking
//!   itself at once), so multer hands out what it has before it reads more,
//!   instead of draining everything already received into its buffer;
//! - bytes fed to multer, less the bytes it has handed back (part data,
//!   and each part's delimiter and headers, counted from the parsed
//!   fields as a lower bound of what multer consumed), bound what it
//!   holds from above; over [`MAX_UNPARSED`] the form fails with `400`.
//!
//! Memory per form upload is therefore at most about [`MAX_UNPARSED`] plus
//! the write buffer, whatever its size or shape.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::{HeaderValue, StatusCode, header};

use super::store::Stored;
use super::{Refused, Source, Target, created, see_other};
use crate::body::BoxError;
use crate::{Body, BodyError, Rejection, Response};

/// The most bytes multer may hold unparsed (see the module docs): far more
/// than one chunk (at most 64 KiB from HTTP/1.1, a 16 KiB frame from
/// HTTP/2) plus a part's headers.
pub(super) const MAX_UNPARSED: u64 = 1 << 20;

/// A stored file: its name, its URL, and how it was stored.
type StoredFile = (String, String, Stored);

/// Stores every file part of the form in `body` (`boundary` from its
/// `Content-Type`) in the target directory; `html`: answer a browser.
pub(super) async fn store_form(
    target: &Target<'_>,
    body: Body,
    boundary: String,
    html: bool,
) -> Result<Response, Refused> {
    let leash = Arc::new(Leash::default());
    let stream = Leashed {
        body,
        leash: Arc::clone(&leash),
        yielded: false,
    };
    let boundary_len = boundary.len() as u64;
    let mut form = multer::Multipart::new(stream, boundary);
    let mut stored: Vec<StoredFile> = Vec::new();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(failed(multer_refused(e), &stored)),
        };
        // What multer consumed for the part's delimiter and headers, at
        // least: `--BOUNDARY` and its CRLF, each `name:value` and its CRLF
        // (the space is optional), the empty line. Never more, so that
        // many small parts cannot loosen the leash.
        let headers: u64 = field
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().len() + value.len() + 3) as u64)
            .sum();
        leash.handed_back(boundary_len + 6 + headers);
        let name = field.file_name().unwrap_or("").to_owned();
        let mut part = Part {
            field: &mut field,
            leash: &leash,
        };
        if name.is_empty() {
            // Not a file (or a file input left empty): read past it.
            loop {
                match part.next().await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(refused) => return Err(failed(refused, &stored)),
                }
            }
            continue;
        }
        let result = match target.check_name(&name) {
            Ok(()) => target.store(&name, Source::Part(part)).await,
            Err(refused) => Err(refused),
        };
        match result {
            Ok(how) => {
                let url = target.url_of(&name, false);
                stored.push((name, url, how));
            }
            Err(refused) => return Err(failed(refused, &stored)),
        }
    }
    if stored.is_empty() {
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "the form has no file (a part with a filename)",
        ));
    }
    if html {
        return Ok(see_other(&target.dir_url));
    }
    Ok(stored_list(&stored))
}

/// `refused`, naming the files stored before it.
fn failed(refused: Refused, stored: &[StoredFile]) -> Refused {
    if stored.is_empty() {
        return refused;
    }
    let mut reason = refused.reason.into_owned();
    for (_, url, _) in stored {
        reason.push_str("\nstored before it: ");
        reason.push_str(url);
    }
    Refused {
        reason: reason.into(),
        ..refused
    }
}

/// One part of the form, read through the leash.
pub(super) struct Part<'a, 'r> {
    field: &'a mut multer::Field<'r>,
    leash: &'a Leash,
}

impl Part<'_, '_> {
    /// The part's next chunk; `None` at its end.
    pub(super) async fn next(&mut self) -> Result<Option<Bytes>, Refused> {
        match self.field.chunk().await {
            Ok(Some(chunk)) => {
                self.leash.handed_back(chunk.len() as u64);
                Ok(Some(chunk))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(multer_refused(e)),
        }
    }
}

/// `201` (`200` when nothing was new) with the stored files as JSON, and
/// `Location` when there is one.
fn stored_list(stored: &[StoredFile]) -> Response {
    let entries: Vec<serde_json::Value> = stored
        .iter()
        .map(|(name, url, how)| {
            serde_json::json!({
                "name": name,
                "location": url,
                "replaced": *how == Stored::Replaced,
            })
        })
        .collect();
    let json = format!("{}\n", serde_json::json!({ "stored": entries }));
    let mut res = match stored {
        [(_, url, Stored::Created)] => created(url),
        _ => {
            let mut res = Response::new(Body::empty());
            if stored.iter().any(|(_, _, how)| *how == Stored::Created) {
                *res.status_mut() = StatusCode::CREATED;
            }
            res
        }
    };
    *res.body_mut() = Body::from(json);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// A multer error as the refusal it stands for: the body's own errors
/// (over the limit, too slow, cut short) as they are, the leash's as
/// `400`, anything else as a malformed form.
fn multer_refused(e: multer::Error) -> Refused {
    if let multer::Error::StreamReadFailed(inner) = e {
        return match inner.downcast::<BodyError>() {
            Ok(body) => Rejection::from(*body).into(),
            Err(inner) if inner.is::<Unparsed>() => Refused::new(
                StatusCode::BAD_REQUEST,
                "the form's boundaries or part headers never end",
            ),
            Err(_) => Refused::new(StatusCode::BAD_REQUEST, "the form could not be read"),
        };
    }
    Refused {
        reason: format!("malformed multipart/form-data: {e}").into(),
        ..Refused::new(StatusCode::BAD_REQUEST, "")
    }
}

/// Bytes fed to multer and bytes it handed back.
#[derive(Debug, Default)]
pub(super) struct Leash {
    fed: AtomicU64,
    back: AtomicU64,
}

impl Leash {
    fn handed_back(&self, n: u64) {
        self.back.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts `n` more bytes fed; false once multer holds too many.
    fn feed(&self, n: u64) -> bool {
        let fed = self.fed.fetch_add(n, Ordering::Relaxed) + n;
        fed.saturating_sub(self.back.load(Ordering::Relaxed)) <= MAX_UNPARSED
    }
}

/// The request body as multer reads it: on the leash of the module docs.
struct Leashed {
    body: Body,
    leash: Arc<Leash>,
    /// Whether the stream yielded since the last chunk.
    yielded: bool,
}

/// multer holds more than [`MAX_UNPARSED`] bytes.
#[derive(Debug)]
struct Unparsed;

impl std::fmt::Display for Unparsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("too much of the form is unparsed")
    }
}

impl std::error::Error for Unparsed {}

impl Stream for Leashed {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if !this.yielded {
            this.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match Pin::new(&mut this.body).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.yielded = false;
                if this.leash.feed(chunk.len() as u64) {
                    Poll::Ready(Some(Ok(chunk)))
                } else {
                    Poll::Ready(Some(Err(Box::new(Unparsed))))
                }
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
