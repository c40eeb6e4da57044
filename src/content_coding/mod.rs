//! Content codings (RFC 9110 §8.4) and their negotiation (§12.5.3): what
//! the [`Compress`](crate::compress::Compress) layer and `ServeDir` (its
//! precompressed sidecars) both need, in the types layer so that neither
//! imports the other. The public names are `berth::compress::{Coding,
//! AcceptEncoding, Negotiated, negotiate, is_compressible}`.
//!
//! - This file: [`Coding`], [`is_compressible`], the `Vary` and
//!   `Content-Encoding` fields both set, and [`FileIdentity`].
//! - `accept.rs`: [`AcceptEncoding`] and [`negotiate`], the rules of
//!   `Accept-Encoding`.
//! - `layer.rs`: how a `Compress` layer and a `ServeDir` inside it talk
//!   through the request and the response ([`Negotiation`]).

mod accept;
mod layer;

pub use accept::{AcceptEncoding, Negotiated, negotiate};
pub(crate) use layer::Negotiation;
#[cfg(feature = "compress")]
pub(crate) use layer::{FileCoder, Settled};

use http::header::{self, HeaderMap, HeaderValue};

use crate::syntax::{MediaType, elements_of};

/// A content coding berth can produce (RFC 9110 §8.4.1), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// Zstandard, `zstd` (RFC 8878).
    Zstd,
    /// Brotli, `br` (RFC 7932).
    Br,
    /// gzip, `gzip` (RFC 1952); `x-gzip` is accepted as the same.
    Gzip,
    /// No coding.
    Identity,
}

impl Coding {
    /// The codings berth produces, in its default order of preference.
    pub const ALL: [Coding; 3] = [Coding::Zstd, Coding::Br, Coding::Gzip];

    /// The token as sent in `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Zstd => "zstd",
            Coding::Br => "br",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }

    /// The file-name extension of a precompressed copy (`.zst`, `.br`,
    /// `.gz`); `None` for identity.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Coding::Zstd => Some("zst"),
            Coding::Br => Some("br"),
            Coding::Gzip => Some("gz"),
            Coding::Identity => None,
        }
    }

    /// The coding a token names (case-insensitive; `x-gzip` is gzip), if
    /// berth knows it.
    pub fn from_token(token: &[u8]) -> Option<Coding> {
        [
            (&b"zstd"[..], Coding::Zstd),
            (b"br", Coding::Br),
            (b"gzip", Coding::Gzip),
            (b"x-gzip", Coding::Gzip),
            (b"identity", Coding::Identity),
        ]
        .into_iter()
        .find(|(name, _)| token.eq_ignore_ascii_case(name))
        .map(|(_, coding)| coding)
    }
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
    // The type most responses that are not text carry: answered before
    // the value is parsed.
    const OCTETS: &str = "application/octet-stream";
    if let Some((essence, rest)) = content_type.split_at_checked(OCTETS.len())
        && essence.eq_ignore_ascii_case(OCTETS)
        && matches!(
            rest.trim_start_matches([' ', '\t']).bytes().next(),
            None | Some(b';')
        )
    {
        return false;
    }
    let Some(media) = MediaType::parse(content_type.as_bytes()) else {
        return false;
    };
    let (kind, subtype) = (media.ty(), media.subtype());
    let is = |name: &[u8], want: &str| name.eq_ignore_ascii_case(want.as_bytes());
    let any = |names: &[&str]| names.iter().any(|n| is(subtype, n));
    let suffix = |names: &[&str]| {
        media
            .suffix()
            .is_some_and(|s| names.iter().any(|n| is(s, n)))
    };
    if is(kind, "text") {
        true
    } else if is(kind, "image") {
        any(&["svg+xml", "x-icon", "vnd.microsoft.icon"])
    } else if is(kind, "font") {
        any(&["ttf", "otf", "sfnt", "collection"])
    } else if is(kind, "application") {
        suffix(&["json", "xml", "yaml"]) || any(&APPLICATION)
    } else {
        false
    }
}

/// Whether `Vary` names `Accept-Encoding` (or is `*`).
pub(crate) fn vary_has_accept_encoding(headers: &HeaderMap) -> bool {
    elements_of(headers.get_all(header::VARY))
        .any(|t| t == b"*" || t.eq_ignore_ascii_case(b"accept-encoding"))
}

/// Adds `Accept-Encoding` to `Vary` unless it (or `*`) is there already.
pub(crate) fn add_vary(headers: &mut HeaderMap) {
    if !vary_has_accept_encoding(headers) {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

/// `Content-Encoding` for `coding`.
pub(crate) fn content_encoding(coding: Coding) -> HeaderValue {
    HeaderValue::from_static(coding.token())
}

/// The identity of a regular file's content, from `fstat` on the handle
/// being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileIdentity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) size: u64,
    /// Nanoseconds since the epoch (negative before 1970).
    pub(crate) mtime_ns: i128,
}

impl FileIdentity {
    pub(crate) fn of(meta: &std::fs::Metadata) -> FileIdentity {
        use std::os::unix::fs::MetadataExt;
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        }
    }
}

#[cfg(test)]
mod tests;
