//! Steps 6 to 9 of the [pipeline](super): the selected representation of a
//! regular file (RFC 9110 §3.2), its validators, the preconditions and
//! ranges evaluated against them, and the response that carries it.
//!
//! The decisions are made by pure functions elsewhere (the content coding
//! in `precompressed.rs`, [`evaluate_preconditions`] in `conditional.rs`,
//! [`parse_range`] and [`if_range_matches`] in `range.rs`); this file
//! gathers their inputs from the open file and the request and turns their
//! outcomes into responses. No step reads the file: bodies are ranges of the open file,
//! read piece by piece by the driver or by `byteranges.rs`.
//!
//! What a file's metadata and name give every response for it (validators,
//! type, the identity `200`'s whole header map) is [`FileFacts`], kept with
//! the open-file cache's entry: a hot file's `200` is then a clone of
//! ready-made values, not formatting and hashing.

use std::borrow::Cow;
use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::byteranges::{self, ByteRangesBody};
use super::open_cache::Opened;
use super::precompressed::{self, Coded, Lookup};
use super::{
    Precondition, RangeOutcome, content_type, evaluate_preconditions, if_range_matches, parse_range,
};
use crate::content_coding::{self, Coding, FileIdentity, Negotiation};
use crate::response::status;
use crate::{Body, Request, Response};

/// First second of the year 10000; `httpdate` cannot format it.
const YEAR_10000: u64 = 253_402_300_800;

/// Which request fields that steps 6 to 8 read are present, found in one
/// pass over the request's fields instead of a lookup per name (most
/// requests carry none of them, and then the steps are skipped).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Asked {
    /// `If-Match`, `If-None-Match`, `If-Modified-Since` or
    /// `If-Unmodified-Since` (RFC 9110 §13.1).
    pub(super) preconditions: bool,
    /// `Range` (RFC 9110 §14.2).
    pub(super) range: bool,
}

impl Asked {
    pub(super) fn of(headers: &HeaderMap) -> Asked {
        let mut asked = Asked::default();
        for name in headers.keys() {
            if *name == header::IF_MATCH
                || *name == header::IF_NONE_MATCH
                || *name == header::IF_MODIFIED_SINCE
                || *name == header::IF_UNMODIFIED_SINCE
            {
                asked.preconditions = true;
            } else if *name == header::RANGE {
                asked.range = true;
            }
        }
        asked
    }
}

/// What a compression layer that negotiated is to make of a file response
/// (the protocol is in `content_coding/layer.rs`).
#[derive(Debug)]
pub(super) enum FileRepresentation {
    /// A `200` to a request without `Range`: what the layer's own rule for
    /// other responses gives too (the type, the size and the coding were
    /// judged by the same policy, [`Negotiation::codes_file`]), so it may
    /// look at it and leaves it as it is. Not marked: the common answer
    /// carries no extension map.
    Agreed,
    /// Anything else (a `304`, a `412`, a `206`, the identity `200` a
    /// `Range` field chose): decided here against what the layer would do
    /// on its own, so marked [`Settled`](crate::content_coding::Settled).
    Settled,
    /// A `200` whose file body the layer codes with `coding`; the ETag is
    /// already the coded one.
    Encode { coding: Coding, file: FileIdentity },
}

/// Steps 6 to 9 for a regular file: content coding, validators,
/// preconditions, ranges, and the response, plus what a compression layer
/// that negotiated (`negotiation`) is to make of it. `lookup` says where
/// the file lies and whether sidecars are looked for.
pub(super) fn file_response(
    req: &Request,
    negotiation: Option<&Negotiation>,
    opened: Opened,
    name: &Path,
    lookup: &Lookup<'_>,
) -> (Response, Option<FileRepresentation>) {
    let facts = opened.facts(name);
    let meta = opened.meta();
    let asked = Asked::of(req.headers());
    // 6. Content coding.
    let selection =
        precompressed::select(req, asked, negotiation, lookup, meta, facts.compressible);
    let (mut res, representation) = match selection.coded {
        Coded::Identity => (identity(req, asked, &opened, facts), None),
        Coded::Sidecar(s) => {
            let res = coded(req, asked, s.file, &s.meta, s.coding, &facts, false);
            (res, None)
        }
        Coded::OnTheFly(coding) => {
            let res = coded(
                req,
                asked,
                opened.file().clone(),
                meta,
                coding,
                &facts,
                true,
            );
            let encode = FileRepresentation::Encode {
                coding,
                file: FileIdentity::of(meta),
            };
            (res, Some(encode))
        }
    };
    if selection.vary {
        content_coding::add_vary(res.headers_mut());
    }
    let ok = res.status() == StatusCode::OK;
    let ranged = asked.range && req.method() == Method::GET;
    let representation = negotiation.map(|_| match representation {
        // Only a `200` is coded (a `304` or `412` is settled as is).
        Some(encode) if ok => encode,
        _ if ok && !ranged => FileRepresentation::Agreed,
        _ => FileRepresentation::Settled,
    });
    (res, representation)
}

/// Steps 6 (validators) to 9 for the file as it is.
fn identity(req: &Request, asked: Asked, opened: &Opened, facts: Cow<'_, FileFacts>) -> Response {
    let file = opened.file();
    let etag = facts.etag.as_str();
    let modified = facts.last_modified.as_ref().map(|(t, _)| *t);

    // 7. Preconditions (RFC 9110 §13.2.2), when the request has any.
    if asked.preconditions {
        match evaluate_preconditions(req.method(), req.headers(), Some(etag), modified) {
            Precondition::Proceed => {}
            // RFC 9110 §15.4.5: the validators a 200 would carry, no body.
            Precondition::NotModified => return not_modified(facts.validators()),
            Precondition::Failed => return status(StatusCode::PRECONDITION_FAILED),
        }
    }

    // 8. Range (RFC 9110 §14.2: GET only).
    let len = opened.meta().len();
    let outcome = if asked.range && req.method() == Method::GET {
        requested_ranges(req, etag, modified, len)
    } else {
        RangeOutcome::Full
    };
    // A small file's copy kept by the open-file cache, when it has the
    // length the metadata gives.
    let content = opened.content().filter(|bytes| bytes.len() as u64 == len);
    let ranges = match outcome {
        RangeOutcome::Full => {
            // 9. Response: the ready-made fields, moved or cloned whole.
            let body = match content {
                Some(bytes) => Body::from(bytes.clone()),
                None => Body::file(Arc::clone(file), 0, len),
            };
            let mut res = Response::new(body);
            *res.headers_mut() = match facts {
                Cow::Borrowed(facts) => facts.full.clone(),
                Cow::Owned(facts) => facts.full,
            };
            return res;
        }
        RangeOutcome::Unsatisfiable => {
            let mut res = status(StatusCode::RANGE_NOT_SATISFIABLE);
            let headers = res.headers_mut();
            headers.extend(facts.validators());
            headers.insert(header::ACCEPT_RANGES, ACCEPT_RANGES);
            if let Ok(value) = HeaderValue::try_from(format!("bytes */{len}")) {
                headers.insert(header::CONTENT_RANGE, value);
            }
            return res;
        }
        RangeOutcome::Partial(ranges) => ranges,
    };
    let mut headers = facts.validators();
    headers.insert(header::ACCEPT_RANGES, ACCEPT_RANGES);
    let (body, content_type) = match ranges.as_slice() {
        &[range] => {
            let content_range = byteranges::content_range(range, len);
            if let Ok(value) = HeaderValue::try_from(content_range) {
                headers.insert(header::CONTENT_RANGE, value);
            }
            let body = match content {
                Some(bytes) => {
                    let end = range.first + range.length();
                    Body::from(bytes.slice(range.first as usize..end as usize))
                }
                None => Body::file(Arc::clone(file), range.first, range.length()),
            };
            (body, facts.content_type.clone())
        }
        ranges => {
            let boundary = byteranges::new_boundary();
            let parts = ByteRangesBody::new(
                Arc::clone(file),
                ranges,
                len,
                &facts.content_type,
                &boundary,
            );
            // The multipart length is exact, so it goes out with
            // Content-Length rather than chunked.
            let length = parts.content_length();
            let multipart = format!("multipart/byteranges; boundary={boundary}");
            let Ok(multipart) = HeaderValue::try_from(multipart) else {
                return status(StatusCode::INTERNAL_SERVER_ERROR);
            };
            (Body::sized_stream(length, parts), multipart)
        }
    };
    // 9. Response (the map is moved in whole: no rehashing).
    headers.insert(header::CONTENT_TYPE, content_type);
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::PARTIAL_CONTENT;
    *res.headers_mut() = headers;
    res
}

/// Steps 6 (validators) to 9 for a coded representation of the file: the
/// sidecar `file` with metadata `meta`, or (`on_the_fly`) the file itself,
/// to be coded by the `Compress` layer. No ranges: a `GET` with `Range`
/// selected identity in step 6.
fn coded(
    req: &Request,
    asked: Asked,
    file: Arc<File>,
    meta: &Metadata,
    coding: Coding,
    facts: &FileFacts,
    on_the_fly: bool,
) -> Response {
    // 6. Validators of their own (RFC 9110 §8.8.3: each representation its
    // own entity-tag).
    let etag = with_coding(etag(meta), coding);
    let last_modified = meta.modified().ok().and_then(|t| Some((t, http_date(t)?)));
    let mut validators = HeaderMap::with_capacity(4);
    if let Ok(value) = HeaderValue::try_from(&etag) {
        validators.insert(header::ETAG, value);
    }
    if let Some((_, value)) = &last_modified {
        validators.insert(header::LAST_MODIFIED, value.clone());
    }
    let modified = last_modified.map(|(t, _)| t);

    // 7. Preconditions (RFC 9110 §13.2.2), when the request has any.
    if asked.preconditions {
        match evaluate_preconditions(req.method(), req.headers(), Some(&etag), modified) {
            Precondition::Proceed => {}
            Precondition::NotModified => return not_modified(validators),
            Precondition::Failed => return status(StatusCode::PRECONDITION_FAILED),
        }
    }

    // 9. Response.
    let mut res = Response::new(Body::file(file, 0, meta.len()));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, facts.content_type.clone());
    headers.extend(validators);
    if !on_the_fly {
        headers.insert(
            header::CONTENT_ENCODING,
            content_coding::content_encoding(coding),
        );
    }
    res
}

/// RFC 9110 §15.4.5: a `304` carries the validators a `200` would, no
/// content.
fn not_modified(validators: HeaderMap) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::NOT_MODIFIED;
    *res.headers_mut() = validators;
    res
}

const ACCEPT_RANGES: HeaderValue = HeaderValue::from_static("bytes");

/// What a file's metadata and name give every response for it; kept with
/// the open-file cache's entry so a hot file's validators and type are
/// formatted once, not per request.
#[derive(Debug, Clone)]
pub(super) struct FileFacts {
    etag: String,
    etag_value: Option<HeaderValue>,
    last_modified: Option<(SystemTime, HeaderValue)>,
    content_type: HeaderValue,
    /// [`is_compressible`](crate::compress::is_compressible) of the type.
    pub(super) compressible: bool,
    /// The fields of the identity `200`: `ETag`, `Last-Modified`,
    /// `Accept-Ranges` and `Content-Type`.
    full: HeaderMap,
}

impl FileFacts {
    pub(super) fn of(meta: &Metadata, name: &Path) -> FileFacts {
        let etag = etag(meta);
        let content_type = content_type(name);
        let mut facts = FileFacts {
            etag_value: HeaderValue::try_from(&etag).ok(),
            etag,
            last_modified: meta.modified().ok().and_then(|t| Some((t, http_date(t)?))),
            compressible: content_type
                .to_str()
                .is_ok_and(content_coding::is_compressible),
            content_type,
            full: HeaderMap::new(),
        };
        let mut full = facts.validators();
        full.reserve(2);
        full.insert(header::ACCEPT_RANGES, ACCEPT_RANGES);
        full.insert(header::CONTENT_TYPE, facts.content_type.clone());
        facts.full = full;
        facts
    }

    /// `ETag` and `Last-Modified` (those that can be sent).
    fn validators(&self) -> HeaderMap {
        let mut validators = HeaderMap::with_capacity(6);
        if let Some(value) = &self.etag_value {
            validators.insert(header::ETAG, value.clone());
        }
        if let Some((_, value)) = &self.last_modified {
            validators.insert(header::LAST_MODIFIED, value.clone());
        }
        validators
    }
}

/// Step 8: the ranges a `GET` asks for, or [`RangeOutcome::Full`] when
/// there is no usable `Range` field: none, more than one field line, not
/// visible ASCII, or an `If-Range` that does not match.
fn requested_ranges(
    req: &Request,
    etag: &str,
    modified: Option<SystemTime>,
    len: u64,
) -> RangeOutcome {
    let headers = req.headers();
    let mut fields = headers.get_all(header::RANGE).iter();
    let (Some(range), None) = (fields.next(), fields.next()) else {
        return RangeOutcome::Full;
    };
    let Ok(range) = range.to_str() else {
        return RangeOutcome::Full;
    };
    let mut if_range = headers.get_all(header::IF_RANGE).iter();
    match (if_range.next(), if_range.next()) {
        (None, _) => {}
        (Some(value), None) => {
            // RFC 9110 §8.8.2.2: a modification date only validates strongly
            // once the second it names is over; a file written in the
            // current second could change again within it.
            let strong = modified.filter(|&t| {
                SystemTime::now()
                    .duration_since(t)
                    .is_ok_and(|age| age >= Duration::from_secs(1))
            });
            if !if_range_matches(value.as_bytes(), Some(etag), strong) {
                return RangeOutcome::Full;
            }
        }
        // Several If-Range lines: not a valid value, so the condition is
        // false (RFC 9110 §13.1.5 step 3).
        (Some(_), Some(_)) => return RangeOutcome::Full,
    }
    parse_range(range, len)
}

/// Step 6: the strong entity-tag `"<size>-<mtime>-<inode>"`, each in lower
/// hex, the mtime in nanoseconds since the epoch (two's complement for
/// dates before 1970). A write, truncation, `touch` or rename over the file
/// changes it; the one change it can miss is a rewrite that keeps the size
/// and lands within the filesystem's timestamp granularity (a few
/// milliseconds on ext4), the limit every mtime-based validator shares
/// (nginx uses whole seconds). Inode numbers keep two files of one
/// filesystem apart.
fn etag(meta: &Metadata) -> String {
    let nanos = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    format!("\"{:x}-{:x}-{:x}\"", meta.size(), nanos, meta.ino())
}

/// The ETag of a coded representation: the coding appended inside the
/// quotes (`"5-abc-1"` → `"5-abc-1-gzip"`).
fn with_coding(mut etag: String, coding: Coding) -> String {
    etag.pop();
    etag.push('-');
    etag.push_str(coding.token());
    etag.push('"');
    etag
}

/// `Last-Modified`, when the mtime is one HTTP dates can express (1970 to
/// 9999; `httpdate` panics outside that range).
fn http_date(mtime: SystemTime) -> Option<HeaderValue> {
    let secs = mtime.duration_since(UNIX_EPOCH).ok()?.as_secs();
    if secs >= YEAR_10000 {
        return None;
    }
    HeaderValue::try_from(httpdate::fmt_http_date(mtime)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Handler;
    use crate::serve_dir::tests::{TEXT, Tree, body, get, header};

    fn request(method: Method, uri: &str, fields: &[(&str, &str)]) -> Request {
        let mut req = http::Request::builder().method(method).uri(uri);
        for (name, value) in fields {
            req = req.header(*name, *value);
        }
        req.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn etag_follows_size_mtime_and_inode() {
        let tree = Tree::new();
        let sd = tree.serve();
        let path = tree.root().join("hello.txt");
        let meta = std::fs::metadata(&path).unwrap();
        let nanos = meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128;
        let want = format!("\"5-{nanos:x}-{:x}\"", meta.ino());
        let res = get(&sd, "/hello.txt").await;
        assert_eq!(header(&res, header::ETAG), Some(want.as_str()));
        assert_eq!(header(&res, header::ACCEPT_RANGES), Some("bytes"));
        // The index file gets validators too.
        assert!(header(&get(&sd, "/").await, header::ETAG).is_some());

        let file = File::options().write(true).open(&path).unwrap();
        file.set_modified(UNIX_EPOCH + Duration::new(1_000_000, 1))
            .unwrap();
        let touched = get(&sd, "/hello.txt").await;
        let etag = header(&touched, header::ETAG).unwrap();
        assert_eq!(
            etag,
            format!("\"5-{:x}-{:x}\"", 1_000_000_000_000_001u64, meta.ino())
        );
        // Replaced by rename: same size and mtime, another inode.
        let other = tree.root().join("hello.new");
        std::fs::write(&other, "hello").unwrap();
        File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(UNIX_EPOCH + Duration::new(1_000_000, 1))
            .unwrap();
        std::fs::rename(&other, &path).unwrap();
        let replaced = get(&sd, "/hello.txt").await;
        assert_ne!(header(&replaced, header::ETAG).unwrap(), etag);
    }

    #[tokio::test]
    async fn not_modified_and_precondition_failed() {
        let tree = Tree::new();
        let sd = tree.serve();
        let first = get(&sd, "/hello.txt").await;
        let etag = header(&first, header::ETAG).unwrap().to_string();
        let modified = header(&first, header::LAST_MODIFIED).unwrap().to_string();
        for method in [Method::GET, Method::HEAD] {
            let req = request(method, "/hello.txt", &[("if-none-match", &etag)]);
            let res = sd.call(req).await;
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
            assert_eq!(header(&res, header::ETAG), Some(etag.as_str()));
            assert_eq!(header(&res, header::LAST_MODIFIED), Some(modified.as_str()));
            assert_eq!(header(&res, header::CONTENT_TYPE), None);
            assert!(res.body().is_empty());
        }
        let req = request(Method::GET, "/hello.txt", &[("if-match", "\"nope\"")]);
        let res = sd.call(req).await;
        assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
        assert_eq!(body(res).await, "412 Precondition Failed\n");
        // Preconditions are not evaluated for OPTIONS, nor for redirects.
        let req = request(Method::OPTIONS, "/hello.txt", &[("if-match", "\"nope\"")]);
        assert_eq!(sd.call(req).await.status(), StatusCode::NO_CONTENT);
        let req = request(Method::GET, "/dir", &[("if-match", "\"nope\"")]);
        assert_eq!(sd.call(req).await.status(), StatusCode::MOVED_PERMANENTLY);
    }

    #[tokio::test]
    async fn ranges_through_the_handler() {
        let tree = Tree::new();
        let sd = tree.serve();
        let ranged =
            |method, range: &'static str| request(method, "/hello.txt", &[("range", range)]);

        let res = sd.call(ranged(Method::GET, "bytes=1-3")).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(header(&res, header::CONTENT_RANGE), Some("bytes 1-3/5"));
        assert_eq!(header(&res, header::CONTENT_TYPE), TEXT);
        assert_eq!(res.body().size_hint(), Some(3));
        assert_eq!(body(res).await, "ell");

        // HEAD ignores Range: the headers of a full GET.
        let res = sd.call(ranged(Method::HEAD, "bytes=1-3")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.body().size_hint(), Some(5));
        assert_eq!(header(&res, header::CONTENT_RANGE), None);

        let res = sd.call(ranged(Method::GET, "bytes=9-")).await;
        assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(header(&res, header::CONTENT_RANGE), Some("bytes */5"));

        let res = sd.call(ranged(Method::GET, "bytes=0-0,-1")).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        let ty = header(&res, header::CONTENT_TYPE).unwrap().to_string();
        let boundary = ty.strip_prefix("multipart/byteranges; boundary=").unwrap();
        let text = body(res).await;
        assert!(text.starts_with(&format!("--{boundary}\r\n")), "{text}");
        assert!(
            text.contains("Content-Range: bytes 0-0/5\r\n\r\nh\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Content-Range: bytes 4-4/5\r\n\r\no\r\n"),
            "{text}"
        );
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")), "{text}");

        // Two Range lines, or one that is not ASCII: ignored.
        let req = request(
            Method::GET,
            "/hello.txt",
            &[("range", "bytes=0-0"), ("range", "bytes=1-1")],
        );
        assert_eq!(sd.call(req).await.status(), StatusCode::OK);
        let mut req = ranged(Method::GET, "bytes=0-0");
        req.headers_mut().insert(
            header::RANGE,
            HeaderValue::from_bytes(b"bytes=0-0\xff").unwrap(),
        );
        assert_eq!(sd.call(req).await.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn if_range_with_a_fresh_date_is_weak() {
        let tree = Tree::new();
        let sd = tree.serve();
        let path = tree.root().join("hello.txt");
        let date = |res: &Response| header(res, header::LAST_MODIFIED).unwrap().to_string();
        let ranged = |if_range: &str| {
            request(
                Method::GET,
                "/hello.txt",
                &[("range", "bytes=0-0"), ("if-range", if_range)],
            )
        };
        // Modified just now: the date cannot validate strongly yet.
        let file = File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now()).unwrap();
        let fresh = date(&get(&sd, "/hello.txt").await);
        assert_eq!(sd.call(ranged(&fresh)).await.status(), StatusCode::OK);
        // An older date validates.
        file.set_modified(UNIX_EPOCH + Duration::from_secs(784_111_777))
            .unwrap();
        let old = date(&get(&sd, "/hello.txt").await);
        assert_eq!(
            sd.call(ranged(&old)).await.status(),
            StatusCode::PARTIAL_CONTENT
        );
        let two = request(
            Method::GET,
            "/hello.txt",
            &[
                ("range", "bytes=0-0"),
                ("if-range", &old),
                ("if-range", &old),
            ],
        );
        assert_eq!(sd.call(two).await.status(), StatusCode::OK);
    }

    #[test]
    fn http_dates_outside_1970_to_9999_are_skipped() {
        // httpdate panics on these; files can carry any mtime.
        assert_eq!(http_date(UNIX_EPOCH - Duration::from_secs(1)), None);
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(YEAR_10000)),
            None
        );
        let last = http_date(UNIX_EPOCH + Duration::from_secs(YEAR_10000 - 1)).unwrap();
        assert_eq!(last, "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(
            http_date(UNIX_EPOCH).unwrap(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
