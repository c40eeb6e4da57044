//! Response compression: [`Compress`], a [`Handler`] that wraps any other
//! and codes its responses with zstd, brotli or gzip when the client
//! accepts one.
//!
//! ```no_run
//! use berth::prelude::*;
//! # #[cfg(feature = "compress")]
//! use berth::compress::Compress;
//!
//! # #[cfg(feature = "compress")]
//! # async fn run() -> Result<(), berth::Error> {
//! let app = Compress::new(ServeDir::new("./public").precompressed(true));
//! Server::bind("127.0.0.1:8080").serve(app).await
//! # }
//! ```
//!
//! The parts: the coding is picked from `Accept-Encoding` (RFC 9110
//! §12.5.3) by [`AcceptEncoding`], which lives with the other content-coding
//! types in the types layer (`content_coding/`) because `ServeDir` needs
//! them too; `encoder.rs` codes bodies (streaming or one-shot), `cache.rs`
//! keeps coded variants of static files. Precompressed sidecars
//! (`FILE.br` next to `FILE`) are `ServeDir`'s business (see its
//! `precompressed.rs`); this layer never touches a response that already
//! has a `Content-Encoding`. The layer never names `ServeDir`: they talk
//! through the request and the response (`content_coding/layer.rs`).
//!
//! # Steps
//!
//! For each request:
//!
//! 1. **Negotiate** the coding from `Accept-Encoding` among the layer's
//!    codings ([`Compress::codings`]; default zstd, br, gzip). When the
//!    client excludes identity and accepts none of them, identity is sent
//!    anyway (never `406`; see rule 7 on [`AcceptEncoding`] for why). The
//!    result, with the layer itself as the coder of files, goes into the
//!    request's extensions, where a `ServeDir` however deep inside finds
//!    it.
//! 2. **Call** the inner handler.
//! 3. **Static files.** A `ServeDir` that found the negotiation settles the
//!    representation of a file itself: it knows the file's type and size,
//!    so it applies this policy, chooses the ETag of the coded
//!    representation, and evaluates `If-None-Match` and the other
//!    preconditions against it (so a `304` is right for the representation
//!    the client holds). A `200` to be coded comes back to the layer's
//!    coder, which only codes the body: from the cache (`cache.rs`) on a
//!    hit, else compressed whole (on the blocking pool above 128 KiB) and
//!    cached; a file larger than a quarter of the cache budget is coded as
//!    a stream instead, chunked. Its other answers are returned as they
//!    are (those step 4 would change carry a mark saying so).
//!    `Cache-Control: no-transform` does not stop this: choosing among its
//!    own representations is the origin's negotiation, not a transformation
//!    (RFC 9110 §7.7 addresses intermediaries).
//! 4. **Other responses** are compressed when all of these hold:
//!    - the status is not 1xx, 204, 206 or 304 (a `304` gets
//!      `Vary: Accept-Encoding` all the same: the layer cannot tell whether
//!      its `200` would be negotiable, and a needless `Vary` only costs a
//!      shared cache some hits);
//!    - there is no `Content-Encoding` (already coded) and no
//!      `Content-Range`;
//!    - `Cache-Control` has no `no-transform`;
//!    - `Content-Type` is compressible ([`is_compressible`]: text, JSON,
//!      JavaScript, XML, SVG, wasm, and the like; never images, audio,
//!      video, archives or fonts that are compressed already);
//!    - the length, when known, is at least [`Compress::min_size`]
//!      (default 1 KiB: below that the coding's framing eats the gain).
//!
//!    Such a response is *negotiable*: it gets `Vary: Accept-Encoding`
//!    whatever the coding. If the coding is not identity, a buffered body
//!    up to 1 MiB is compressed whole (exact `Content-Length`), anything
//!    else (streams, larger bodies, files) as a stream, flushed whenever
//!    the handler pauses (see [`encode`]). `Content-Length` and
//!    `Accept-Ranges` go; `Content-Encoding` is set; the ETag gets the
//!    coding as a suffix (`"v1"` → `"v1-gzip"`), weak (`W/"v1-gzip"`)
//!    when the body was coded as a stream, whose bytes depend on how the
//!    producer split it. If the request's `If-None-Match` matches that
//!    ETag, the answer becomes `304`.
//!
//! # Decisions
//!
//! - **406 or identity.** Identity (RFC 9110 §12.1 lets a server disregard
//!   `Accept-Encoding`; nginx and Apache do the same).
//! - **Ranges.** Ranges apply to the identity representation: a `GET` with
//!   a `Range` field selects identity in `ServeDir`, so a `206` is never
//!   coded, and this layer never codes a `206` from any handler. Coded
//!   responses carry no `Accept-Ranges`.
//! - **HEAD.** The same `Content-Length` and `Content-Encoding` as `GET`
//!   with the same `Accept-Encoding`: a static file's coded variant is
//!   produced (and cached) for `HEAD` too, a buffered body is compressed
//!   the same way, and a stream is announced chunked for both. The one
//!   exception is a handler that answers `HEAD` with an empty body and a
//!   hand-set `Content-Length`: the coded length is unknowable, so such a
//!   response is left alone (and its `GET` is compressed).
//! - **Validators.** Each coding has its own ETag, the identity one with
//!   `-zstd`, `-br` or `-gzip` appended inside the quotes. For other
//!   handlers the layer only adds the `If-None-Match` → `304` check above:
//!   a handler that evaluates `If-Match` or `If-Range` itself compares
//!   against its own (identity) tags.
//! - **Levels.** See [`default_level`]: gzip 2, brotli 4, zstd 3 by
//!   default, one number for all with [`Compress::level`].
//!
//! # Without the `compress` feature
//!
//! The layer, its cache and the encoders (`encoder.rs`: zstd, brotli,
//! gzip) are gone; negotiation ([`negotiate`], [`AcceptEncoding`]) and
//! [`is_compressible`] stay, because `ServeDir` serves precompressed
//! sidecars with them.

#[cfg(feature = "compress")]
mod cache;
#[cfg(feature = "compress")]
pub(crate) mod encoder;

pub use crate::content_coding::{AcceptEncoding, Coding, Negotiated, is_compressible, negotiate};
#[cfg(feature = "compress")]
pub use encoder::{clamp_level, compress_file, compress_slice, default_level, encode};

#[cfg(feature = "compress")]
use std::sync::Arc;

#[cfg(feature = "compress")]
use http::header::{self, HeaderMap, HeaderValue};
#[cfg(feature = "compress")]
use http::{Method, StatusCode};

#[cfg(feature = "compress")]
use crate::body::Kind;
#[cfg(feature = "compress")]
use crate::conditional::{Precondition, evaluate_preconditions, parse_single_tag};
#[cfg(feature = "compress")]
use crate::content_coding::{
    FileCoder, FileIdentity, Negotiation, Settled, add_vary, content_encoding,
    vary_has_accept_encoding,
};
#[cfg(feature = "compress")]
use crate::handler::BoxFuture;
#[cfg(feature = "compress")]
use crate::syntax::list_has;
#[cfg(feature = "compress")]
use crate::{Body, Handler, Request, Response};
#[cfg(feature = "compress")]
use cache::{Cache, Key};

/// Buffered bodies up to this size are compressed whole, so they keep an
/// exact `Content-Length`; larger ones are coded as a stream.
#[cfg(feature = "compress")]
const ONE_SHOT_MAX: usize = 1024 * 1024;

/// Static files up to this size are compressed on the connection's own
/// task; larger ones on tokio's blocking pool.
#[cfg(feature = "compress")]
const INLINE_MAX: u64 = 128 * 1024;

/// Default [`Compress::min_size`].
#[cfg(feature = "compress")]
pub const DEFAULT_MIN_SIZE: u64 = 1024;

/// Default [`Compress::cache_budget`]: 64 MiB.
#[cfg(feature = "compress")]
pub const DEFAULT_CACHE_BUDGET: usize = 64 * 1024 * 1024;

/// Compresses the responses of the handler it wraps; see the
/// [module docs](self) for the policy.
///
/// ```
/// use berth::prelude::*;
/// use berth::compress::{Coding, Compress};
///
/// let app = Compress::new(ServeDir::new("./public"))
///     .codings(&[Coding::Br, Coding::Gzip])
///     .level(5)
///     .min_size(512)
///     .cache_budget(16 << 20);
/// # let _ = app;
/// ```
#[cfg(feature = "compress")]
#[derive(Debug, Clone)]
pub struct Compress<H> {
    inner: H,
    policy: Arc<Policy>,
}

/// The layer's settings; in each request's extensions as the coder of
/// files ([`FileCoder`]).
#[cfg(feature = "compress")]
#[derive(Debug, Clone)]
struct Policy {
    codings: Vec<Coding>,
    /// Levels of zstd, br and gzip, in that order, clamped.
    levels: [u32; 3],
    min_size: u64,
    cache: Arc<Cache>,
}

/// What step 4 does with a response.
#[cfg(feature = "compress")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step4 {
    /// Nothing to do.
    Leave,
    /// Add `Vary: Accept-Encoding`, nothing else.
    Vary,
    /// Code the body (and add `Vary`).
    Code,
}

#[cfg(feature = "compress")]
impl Policy {
    fn level(&self, coding: Coding) -> u32 {
        match coding {
            Coding::Zstd => self.levels[0],
            Coding::Br => self.levels[1],
            Coding::Gzip => self.levels[2],
            Coding::Identity => 0,
        }
    }

    /// Whether a file of a type that is `compressible` and of length `len`
    /// is compressed for a client that accepts a coding:
    /// [`compresses`](Self::compresses) with the type judged once.
    fn compresses_file(&self, compressible: bool, len: u64) -> bool {
        !self.codings.is_empty() && compressible && len >= self.min_size
    }

    /// Whether a body of this type and length is compressed for a client
    /// that accepts a coding (and so varies with `Accept-Encoding`).
    fn compresses(&self, content_type: Option<&HeaderValue>, len: Option<u64>) -> bool {
        // The type last: it is the one check that parses.
        !self.codings.is_empty()
            && len.is_none_or(|n| n >= self.min_size)
            && content_type
                .and_then(|v| v.to_str().ok())
                .is_some_and(is_compressible)
    }
}

#[cfg(feature = "compress")]
impl<H: Handler> Compress<H> {
    /// Wraps `inner` with the default policy: zstd, br and gzip at their
    /// [default levels](default_level), 1 KiB minimum, a 64 MiB cache.
    pub fn new(inner: H) -> Compress<H> {
        let policy = Policy {
            codings: Coding::ALL.to_vec(),
            levels: [
                default_level(Coding::Zstd),
                default_level(Coding::Br),
                default_level(Coding::Gzip),
            ],
            min_size: DEFAULT_MIN_SIZE,
            cache: Arc::new(Cache::new(DEFAULT_CACHE_BUDGET)),
        };
        Compress {
            inner,
            policy: Arc::new(policy),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Policy)) -> Self {
        let mut policy = (*self.policy).clone();
        change(&mut policy);
        self.policy = Arc::new(policy);
        self
    }

    /// One level for every coding, clamped to each one's range (gzip 1–9,
    /// brotli 0–11, zstd 1–22).
    pub fn level(self, level: u32) -> Self {
        self.with(|p| {
            p.levels = [
                clamp_level(Coding::Zstd, level),
                clamp_level(Coding::Br, level),
                clamp_level(Coding::Gzip, level),
            ]
        })
    }

    /// The level of one coding, clamped to its range.
    pub fn coding_level(self, coding: Coding, level: u32) -> Self {
        let level = clamp_level(coding, level);
        self.with(|p| match coding {
            Coding::Zstd => p.levels[0] = level,
            Coding::Br => p.levels[1] = level,
            Coding::Gzip => p.levels[2] = level,
            Coding::Identity => {}
        })
    }

    /// Bodies known to be shorter than `bytes` are sent as they are.
    /// Default 1024.
    pub fn min_size(self, bytes: u64) -> Self {
        self.with(|p| p.min_size = bytes)
    }

    /// The codings offered, in order of preference when the client's
    /// q-values tie. Default zstd, br, gzip. `Identity` in the list is
    /// ignored; an empty list turns compression off.
    pub fn codings(self, codings: &[Coding]) -> Self {
        let mut list: Vec<Coding> = Vec::with_capacity(3);
        for &c in codings {
            if c != Coding::Identity && !list.contains(&c) {
                list.push(c);
            }
        }
        self.with(|p| p.codings = list)
    }

    /// Bytes of coded static files kept in memory. Default 64 MiB; 0 keeps
    /// nothing (every static file is then coded as a stream on each
    /// request). Entries are keyed by the file's device, inode, size and
    /// modification time plus coding and level (so a changed file is never
    /// served stale), evicted least recently used first; a file whose
    /// identity length exceeds a quarter of the budget is coded as a
    /// stream and not kept. Each `Compress` value made with this method
    /// has a cache of its own; clones share it.
    pub fn cache_budget(self, bytes: usize) -> Self {
        self.with(|p| p.cache = Arc::new(Cache::new(bytes)))
    }

    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

#[cfg(feature = "compress")]
impl<H: Handler> Handler for Compress<H> {
    fn call(&self, mut req: Request) -> BoxFuture<Response> {
        // 1. Negotiate, and offer it (with the layer as the coder of
        // files) to whatever handler inside reads it.
        let accept = AcceptEncoding::from_headers(req.headers());
        let coding = match accept.negotiate(&self.policy.codings) {
            Negotiated::Use(coding) => coding,
            Negotiated::NotAcceptable => Coding::Identity,
        };
        let (method, if_none_match) = conditions(&req, coding);
        let coder: Arc<dyn FileCoder> = self.policy.clone();
        req.extensions_mut()
            .insert(Negotiation::new(coding, accept, coder));
        // 2. Call.
        let future = self.inner.call(req);
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let res = future.await;
            policy.respond(res, coding, &method, if_none_match)
        })
    }
}

/// What step 4 needs of the request once it is gone: the method, and the
/// `If-None-Match` lines when a coding was negotiated (the coded ETag is
/// checked against them).
#[cfg(feature = "compress")]
fn conditions(req: &Request, coding: Coding) -> (Method, Option<HeaderMap>) {
    let if_none_match = (coding != Coding::Identity)
        .then(|| {
            let mut fields = HeaderMap::new();
            for value in req.headers().get_all(header::IF_NONE_MATCH) {
                fields.append(header::IF_NONE_MATCH, value.clone());
            }
            fields
        })
        .filter(|fields| !fields.is_empty());
    (req.method().clone(), if_none_match)
}

#[cfg(feature = "compress")]
impl Policy {
    /// Steps 3 and 4 of the [module docs](self): a response a `ServeDir`
    /// settled (step 3) is returned as it is; any other gets step 4.
    fn respond(
        &self,
        mut res: Response,
        coding: Coding,
        method: &Method,
        if_none_match: Option<HeaderMap>,
    ) -> Response {
        // 3. Static files.
        if res.extensions_mut().remove::<Settled>().is_some() {
            return res;
        }
        // 4. Other responses.
        match self.step4(&res, coding) {
            Step4::Leave => return res,
            Step4::Vary => {
                add_vary(res.headers_mut());
                return res;
            }
            Step4::Code => add_vary(res.headers_mut()),
        }
        let level = self.level(coding);
        let (mut parts, body) = res.into_parts();
        let (body, exact) = match body.kind {
            Kind::Full(bytes) if bytes.len() <= ONE_SHOT_MAX => {
                match compress_slice(&bytes, coding, level) {
                    Ok(coded) => (Body::full(coded), true),
                    Err(e) => {
                        tracing::warn!("compression failed: {e}; sending identity");
                        return Response::from_parts(parts, Body::full(bytes));
                    }
                }
            }
            kind => (encode(Body { kind }, coding, level), false),
        };
        let headers = &mut parts.headers;
        headers.insert(header::CONTENT_ENCODING, content_encoding(coding));
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::ACCEPT_RANGES);
        if let Some(etag) = headers.get(header::ETAG) {
            match coded_etag(etag.as_bytes(), coding, !exact) {
                Some(coded) => {
                    headers.insert(header::ETAG, coded);
                }
                None => {
                    headers.remove(header::ETAG);
                }
            }
        }
        let get_or_head = method == Method::GET || method == Method::HEAD;
        if let (Some(fields), Some(etag), true) =
            (&if_none_match, headers.get(header::ETAG), get_or_head)
            && let Ok(etag) = etag.to_str()
            && evaluate_preconditions(method, fields, Some(etag), None) == Precondition::NotModified
        {
            return not_modified(parts);
        }
        Response::from_parts(parts, body)
    }

    /// What step 4 does with `res`, `coding` having been negotiated: a
    /// `304` gets `Vary` (the layer cannot tell whether its `200` would be
    /// negotiable), a negotiable response gets `Vary` and, unless the
    /// coding is identity, its body coded.
    fn step4(&self, res: &Response, coding: Coding) -> Step4 {
        let not_modified = res.status() == StatusCode::NOT_MODIFIED;
        if !not_modified && !self.negotiable(res) {
            return Step4::Leave;
        }
        if !not_modified && coding != Coding::Identity {
            return Step4::Code;
        }
        if vary_has_accept_encoding(res.headers()) {
            Step4::Leave
        } else {
            Step4::Vary
        }
    }

    /// Step 4's conditions (the length one with the body's known size).
    fn negotiable(&self, res: &Response) -> bool {
        let status = res.status();
        if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::PARTIAL_CONTENT
        {
            return false;
        }
        // Type and size first: most responses that are not negotiable are
        // so by their type, found with one lookup.
        let headers = res.headers();
        self.compresses(headers.get(header::CONTENT_TYPE), res.body().size_hint())
            && !headers.contains_key(header::CONTENT_ENCODING)
            && !headers.contains_key(header::CONTENT_RANGE)
            && !has_no_transform(headers)
    }

    /// Step 3: codes a static file's `200` body, through the cache.
    async fn encode_file(&self, res: Response, coding: Coding, file: FileIdentity) -> Response {
        if res.status() != StatusCode::OK {
            return res;
        }
        let (mut parts, body) = res.into_parts();
        let range = match body.kind {
            Kind::File(range) => range,
            kind => return Response::from_parts(parts, Body { kind }),
        };
        let level = self.level(coding);
        let key = Key {
            file,
            coding,
            level,
        };
        let whole = range.offset == 0 && range.len == file.size;
        let body = if let Some(bytes) = self.cache.get(&key) {
            Body::full(bytes)
        } else if whole && range.len <= self.cache.max_entry() as u64 {
            match compress_whole(range, coding, level).await {
                Ok(bytes) => {
                    self.cache.insert(key, bytes.clone());
                    Body::full(bytes)
                }
                Err(e) => {
                    tracing::warn!("compressing a file failed: {e}");
                    return crate::response::status(StatusCode::INTERNAL_SERVER_ERROR);
                }
            }
        } else {
            encode(
                Body {
                    kind: Kind::File(range),
                },
                coding,
                level,
            )
        };
        parts
            .headers
            .insert(header::CONTENT_ENCODING, content_encoding(coding));
        parts.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(parts, body)
    }
}

/// The layer as the coder of the files a `ServeDir` inside it serves
/// (`content_coding/layer.rs`).
#[cfg(feature = "compress")]
impl FileCoder for Policy {
    fn codes_file(&self, compressible: bool, len: u64) -> bool {
        self.compresses_file(compressible, len)
    }

    fn code_file(
        self: Arc<Self>,
        res: Response,
        coding: Coding,
        file: FileIdentity,
    ) -> BoxFuture<Response> {
        Box::pin(async move {
            let res = self.encode_file(res, coding, file).await;
            // A coded `200` has its `Content-Encoding`; anything else (a
            // `500` when coding failed) is final too.
            if res.status() == StatusCode::OK {
                res
            } else {
                Negotiation::settle(res)
            }
        })
    }
}

/// A whole file compressed in one go: inline when small, else on the
/// blocking pool.
#[cfg(feature = "compress")]
async fn compress_whole(
    range: crate::body::FileRange,
    coding: Coding,
    level: u32,
) -> std::io::Result<bytes::Bytes> {
    if range.len <= INLINE_MAX {
        return compress_file(&range.file, range.offset, range.len, coding, level);
    }
    tokio::task::spawn_blocking(move || {
        compress_file(&range.file, range.offset, range.len, coding, level)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// `Cache-Control` has the `no-transform` directive.
#[cfg(feature = "compress")]
fn has_no_transform(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .any(|v| list_has(v.as_bytes(), b"no-transform"))
}

/// The ETag of the `coding` representation of the one whose ETag is
/// `identity` (`"v1"` → `"v1-gzip"`, `W/"v1"` → `W/"v1-gzip"`), weak when
/// `weak` or when the identity one is. `None` when `identity` is not a
/// valid entity-tag.
#[cfg(feature = "compress")]
fn coded_etag(identity: &[u8], coding: Coding, weak: bool) -> Option<HeaderValue> {
    let tag = parse_single_tag(identity)?;
    let prefix = if weak || tag.weak { "W/" } else { "" };
    let mut out = Vec::with_capacity(tag.opaque.len() + 12);
    out.extend_from_slice(prefix.as_bytes());
    out.push(b'"');
    out.extend_from_slice(tag.opaque);
    out.push(b'-');
    out.extend_from_slice(coding.token().as_bytes());
    out.push(b'"');
    HeaderValue::from_bytes(&out).ok()
}

/// A `304` in place of a `200` whose head is `parts`: the same fields
/// minus those describing the content (RFC 9110 §15.4.5).
#[cfg(feature = "compress")]
fn not_modified(mut parts: http::response::Parts) -> Response {
    parts.status = StatusCode::NOT_MODIFIED;
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::CONTENT_RANGE,
        header::ACCEPT_RANGES,
        header::TRANSFER_ENCODING,
    ] {
        parts.headers.remove(name);
    }
    Response::from_parts(parts, Body::empty())
}

#[cfg(all(test, feature = "compress"))]
mod tests;
