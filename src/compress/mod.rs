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
//! The parts: `negotiate.rs` picks the coding from `Accept-Encoding`
//! (RFC 9110 §12.5.3), `encoder.rs` codes bodies (streaming or one-shot),
//! `cache.rs` keeps coded variants of static files. Precompressed
//! sidecars (`FILE.br` next to `FILE`) are `ServeDir`'s business (see its
//! `precompressed.rs`); this layer never touches a response that already
//! has a `Content-Encoding`.
//!
//! # Steps
//!
//! For each request:
//!
//! 1. **Negotiate** the coding from `Accept-Encoding` among the layer's
//!    codings ([`Compress::codings`]; default zstd, br, gzip). When the
//!    client excludes identity and accepts none of them, identity is sent
//!    anyway (never `406`; see rule 7 on [`AcceptEncoding`] for why). The
//!    result goes into the request's extensions, where `ServeDir` finds it;
//!    a `ServeDir` wrapped directly gets it handed over as a value instead
//!    (and hands its representation back the same way), which spares the
//!    two extension maps per request; its steps are synchronous, so the
//!    file is served within `call` and a settled response is returned as
//!    a ready future.
//! 2. **Call** the inner handler.
//! 3. **Static files.** A response `ServeDir` built with the negotiation in
//!    hand has its representation settled already: `ServeDir` knows the
//!    file's type and size, so it applies this policy itself, chooses the
//!    ETag of the coded representation, and evaluates `If-None-Match`
//!    and the other preconditions against it (so a `304` is right for the
//!    representation the client holds). All the layer does is code the
//!    body: from the cache (`cache.rs`) on a hit, else compressed whole
//!    (on the blocking pool above 128 KiB) and cached; a file larger than
//!    a quarter of the cache budget is coded as a stream instead, chunked.
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
//! The layer and the encoders (`encoder.rs`: zstd, brotli, gzip) are gone;
//! negotiation ([`negotiate`], [`AcceptEncoding`]) and [`is_compressible`]
//! stay, because `ServeDir` serves precompressed sidecars with them. The
//! request-side plumbing `ServeDir` shares with the layer (`Negotiation`,
//! `Policy`, the cache) stays compiled, but nothing builds it.
#![cfg_attr(not(feature = "compress"), allow(dead_code))]

mod cache;
#[cfg(feature = "compress")]
pub(crate) mod encoder;
mod negotiate;

#[cfg(feature = "compress")]
pub use encoder::{clamp_level, compress_file, compress_slice, default_level, encode};
pub use negotiate::{AcceptEncoding, Coding, Negotiated, negotiate};

pub(crate) use cache::FileIdentity;

#[cfg(feature = "compress")]
use std::any::Any;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};
#[cfg(feature = "compress")]
use http::{Method, StatusCode};

#[cfg(feature = "compress")]
use crate::body::Kind;
#[cfg(feature = "compress")]
use crate::handler::BoxFuture;
#[cfg(feature = "compress")]
use crate::serve_dir::{Precondition, evaluate_preconditions};
#[cfg(feature = "compress")]
use crate::{Body, Handler, Request, Response, ServeDir};
use cache::Cache;
#[cfg(feature = "compress")]
use cache::Key;

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

/// The layer's settings, shared with `ServeDir` through the request's
/// extensions.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    codings: Vec<Coding>,
    /// Levels of zstd, br and gzip, in that order, clamped.
    levels: [u32; 3],
    min_size: u64,
    cache: Arc<Cache>,
}

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
    pub(crate) fn compresses_file(&self, compressible: bool, len: u64) -> bool {
        !self.codings.is_empty() && compressible && len >= self.min_size
    }

    /// Whether a body of this type and length is compressed for a client
    /// that accepts a coding (and so varies with `Accept-Encoding`).
    pub(crate) fn compresses(&self, content_type: Option<&HeaderValue>, len: Option<u64>) -> bool {
        !self.codings.is_empty()
            && content_type
                .and_then(|v| v.to_str().ok())
                .is_some_and(is_compressible)
            && len.is_none_or(|n| n >= self.min_size)
    }
}

/// Set by [`Compress`] on each request: the coding it negotiated and its
/// policy, so `ServeDir` can settle the representation of a file itself.
#[derive(Debug, Clone)]
pub(crate) struct Negotiation {
    pub(crate) coding: Coding,
    /// The request's `Accept-Encoding`, parsed (for sidecars).
    pub(crate) accept: AcceptEncoding,
    pub(crate) policy: Arc<Policy>,
}

/// Set by `ServeDir` on the responses it built with a [`Negotiation`]:
/// their representation is settled, and the layer only codes the body.
#[derive(Debug, Clone)]
pub(crate) enum FileRepresentation {
    /// Send as is (identity, a sidecar, a 304...).
    Settled,
    /// A `200` whose file body is to be coded with `coding`; the ETag is
    /// already the coded one.
    Encode { coding: Coding, file: FileIdentity },
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
        let policy = Arc::clone(&self.policy);
        let accept = AcceptEncoding::from_headers(req.headers());
        let coding = match accept.negotiate(&policy.codings) {
            Negotiated::Use(coding) => coding,
            Negotiated::NotAcceptable => Coding::Identity,
        };
        let negotiation = Negotiation {
            coding,
            accept,
            policy: Arc::clone(&policy),
        };
        // Directly over a `ServeDir` (the common stack), the negotiation
        // and the representation are handed over as values, and the file
        // is served right here (its steps are synchronous): a settled
        // response is boxed alone, without the request or the coding
        // machinery. Any other handler (which may pass the request on to
        // a `ServeDir`) gets both through the extensions. Same steps
        // either way.
        // (An upload is not a file's representation: it goes the other way.)
        if let Some(files) = (&self.inner as &dyn Any)
            .downcast_ref::<ServeDir>()
            .filter(|files| !files.is_upload(&req))
        {
            let (res, representation) = files.serve_negotiated(&req, &negotiation);
            if let Some(FileRepresentation::Settled) = representation {
                return Box::pin(std::future::ready(res));
            }
            let (method, if_none_match) = conditions(&req, coding);
            drop(req);
            return Box::pin(async move {
                policy
                    .respond(res, representation, coding, &method, if_none_match)
                    .await
            });
        }
        let (method, if_none_match) = conditions(&req, coding);
        req.extensions_mut().insert(negotiation);
        let future = self.inner.call(req);
        Box::pin(async move {
            let mut res = future.await;
            let representation = res.extensions_mut().remove::<FileRepresentation>();
            policy
                .respond(res, representation, coding, &method, if_none_match)
                .await
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
    /// Steps 3 and 4 of the [module docs](self); `representation` is what
    /// `ServeDir` settled (step 3), `None` for other responses.
    async fn respond(
        &self,
        mut res: Response,
        representation: Option<FileRepresentation>,
        coding: Coding,
        method: &Method,
        if_none_match: Option<HeaderMap>,
    ) -> Response {
        // 3. Static files.
        match representation {
            Some(FileRepresentation::Settled) => return res,
            Some(FileRepresentation::Encode { coding, file }) => {
                return self.encode_file(res, coding, file).await;
            }
            None => {}
        }
        // 4. Other responses.
        if res.status() == StatusCode::NOT_MODIFIED {
            add_vary(res.headers_mut());
            return res;
        }
        if !self.negotiable(&res) {
            return res;
        }
        add_vary(res.headers_mut());
        if coding == Coding::Identity {
            return res;
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
        headers.insert(header::CONTENT_ENCODING, token_value(coding));
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

    /// Step 4's conditions (the length one with the body's known size).
    fn negotiable(&self, res: &Response) -> bool {
        let status = res.status();
        if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::PARTIAL_CONTENT
        {
            return false;
        }
        let headers = res.headers();
        if headers.contains_key(header::CONTENT_ENCODING)
            || headers.contains_key(header::CONTENT_RANGE)
            || has_no_transform(headers)
        {
            return false;
        }
        self.compresses(headers.get(header::CONTENT_TYPE), res.body().size_hint())
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
            .insert(header::CONTENT_ENCODING, token_value(coding));
        parts.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(parts, body)
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

/// Whether a `Content-Type` value names a type worth compressing: `text/*`
/// (event streams included), JSON, JavaScript, XML and their `+json` /
/// `+xml` relatives, SVG, wasm, uncompressed fonts (`font/ttf`,
/// `font/otf`, `application/vnd.ms-fontobject`), and a few other textual
/// `application/` types (YAML, TOML, GraphQL, SQL, shell, form data,
/// `x-ndjson`). Images, audio, video, archives, `woff`/`woff2` and
/// `application/octet-stream` are not. Parameters are ignored; the
/// comparison is case-insensitive.
///
/// ```
/// use berth::compress::is_compressible;
///
/// assert!(is_compressible("text/html; charset=utf-8"));
/// assert!(is_compressible("application/ld+json"));
/// assert!(is_compressible("image/svg+xml"));
/// assert!(!is_compressible("image/png"));
/// assert!(!is_compressible("application/zip"));
/// ```
pub fn is_compressible(content_type: &str) -> bool {
    /// `application/` subtypes worth compressing, besides `+json`, `+xml`
    /// and `+yaml` ones.
    const APPLICATION: [&str; 23] = [
        "json",
        "javascript",
        "x-javascript",
        "ecmascript",
        "xml",
        "wasm",
        "x-ndjson",
        "ndjson",
        "yaml",
        "x-yaml",
        "toml",
        "graphql",
        "sql",
        "x-sh",
        "x-csh",
        "x-httpd-php",
        "x-www-form-urlencoded",
        "vnd.ms-fontobject",
        "x-font-ttf",
        "x-font-otf",
        "x-tex",
        "rtf",
        "postscript",
    ];
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .as_bytes();
    // The type most responses that are not text carry: answer it first.
    if essence.eq_ignore_ascii_case(b"application/octet-stream") {
        return false;
    }
    let Some(slash) = essence.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (kind, subtype) = (&essence[..slash], &essence[slash + 1..]);
    let is = |name: &[u8], want: &str| name.eq_ignore_ascii_case(want.as_bytes());
    let any = |names: &[&str]| names.iter().any(|n| is(subtype, n));
    let ends_with = |suffix: &str| {
        subtype.len() > suffix.len() && is(&subtype[subtype.len() - suffix.len()..], suffix)
    };
    if is(kind, "text") {
        !subtype.is_empty()
    } else if is(kind, "image") {
        any(&["svg+xml", "x-icon", "vnd.microsoft.icon"])
    } else if is(kind, "font") {
        any(&["ttf", "otf", "sfnt", "collection"])
    } else if is(kind, "application") {
        ends_with("+json") || ends_with("+xml") || ends_with("+yaml") || any(&APPLICATION)
    } else {
        false
    }
}

/// `Cache-Control` has the `no-transform` directive.
#[cfg(feature = "compress")]
fn has_no_transform(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .any(|d| d.trim_ascii().eq_ignore_ascii_case(b"no-transform"))
}

/// Adds `Accept-Encoding` to `Vary` unless it (or `*`) is there already.
pub(crate) fn add_vary(headers: &mut HeaderMap) {
    let present = headers
        .get_all(header::VARY)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .any(|t| t == b"*" || t.eq_ignore_ascii_case(b"accept-encoding"));
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

/// `Content-Encoding` for `coding`.
pub(crate) fn token_value(coding: Coding) -> HeaderValue {
    HeaderValue::from_static(coding.token())
}

/// The ETag of the `coding` representation of the one whose ETag is
/// `identity` (`"v1"` → `"v1-gzip"`, `W/"v1"` → `W/"v1-gzip"`), weak when
/// `weak` or when the identity one is. `None` when `identity` is not a
/// valid entity-tag.
#[cfg(feature = "compress")]
pub(crate) fn coded_etag(identity: &[u8], coding: Coding, weak: bool) -> Option<HeaderValue> {
    let identity = identity.trim_ascii();
    let (was_weak, quoted) = match identity.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, identity),
    };
    let opaque = quoted.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if opaque.contains(&b'"') {
        return None;
    }
    let prefix = if weak || was_weak { "W/" } else { "" };
    let mut out = Vec::with_capacity(identity.len() + 8);
    out.extend_from_slice(prefix.as_bytes());
    out.push(b'"');
    out.extend_from_slice(opaque);
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
