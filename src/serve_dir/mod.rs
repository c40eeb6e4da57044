//! `ServeDir`: a [`Handler`] that serves the files beneath one directory.
//!
//! # Pipeline
//!
//! Each request goes through these steps, in this order; the first step
//! that produces a response ends it (sws `static_files`). Steps 1 to 5 are
//! here, the opening of step 3 is `open.rs`, steps 6 to 9 are
//! `representation.rs` (with the decisions in `conditional.rs` and
//! `range.rs`, and multipart bodies in `byteranges.rs`):
//!
//! 1. **Method.** `GET`, `HEAD` and `OPTIONS`; another standard method is
//!    `405` with `Allow: GET, HEAD, OPTIONS`, an unknown one `501`. `OPTIONS *` is answered here as in
//!    step 5. With [`ServeDir::uploads`] (feature `upload`), `PUT` and
//!    `POST` go to the [`upload`] steps instead, and `Allow` adds them. `HEAD` gets exactly the headers of the `GET` response without
//!    `Range` (see step 8): the driver takes `Content-Length` from the body
//!    and never reads or sends the body itself.
//! 2. **Path.** [`resolve_path`] on the raw URI path (the query is ignored;
//!    a path already in normal form is used as it is, without a copy):
//!    bad percent-encoding, a forbidden byte or a `..` above the root is
//!    `400`. A hidden segment (`.env`, `.git/`) is `404` unless
//!    [`ServeDir::hidden`] allows it; an upload's temporary file
//!    (`.berth-upload-…`) is `404` even then.
//! 3. **Open.** The file is opened *beneath* the root directory handle, in
//!    one race-free step: `openat2` with `RESOLVE_BENEATH |
//!    RESOLVE_NO_MAGICLINKS` (plus `RESOLVE_NO_SYMLINKS` unless
//!    [`ServeDir::follow_symlinks`]). Where `openat2` is unavailable (`ENOSYS`
//!    before Linux 5.6, `EPERM` from a seccomp filter, or a system other
//!    than Linux) a component-wise `openat` walk with `O_NOFOLLOW` takes
//!    its place (when following symlinks, the path is first canonicalized
//!    and must stay beneath the canonical root). Every file served, index files included, is opened
//!    this way. The open handle is then `fstat`ed; nothing is ever `stat`ed
//!    by path first. Missing, not a directory, refused symlink, escape
//!    attempt or name too long is `404`, and so is everything when the root
//!    itself could not be opened; permission denied is `403`; anything else
//!    is `500`.
//! 4. **Kind.** A directory requested without a trailing slash is `301` to
//!    the same path with one, keeping the query string (`/docs?v=2` →
//!    `/docs/?v=2`). A directory requested with one serves its index file
//!    (default `index.html`), opened as in step 3; without one, it is `404`
//!    (the spot where directory listings plug in: [`ServeDir::listing`],
//!    with the directory's README below it by
//!    [`ServeDir::listing_readme`], feature `markdown`). With
//!    [`ServeDir::archives`] (feature `archive`), a `GET` or `HEAD` of a
//!    directory with a trailing slash and `?download=tar.gz` or
//!    `?download=zip` is answered with the directory as an archive before
//!    any index file (`archive/`). A regular file requested
//!    with a trailing slash is `404` (as nginx does). FIFOs, sockets and
//!    devices are `404`. An index file requested by name (`/index.html`) is
//!    an ordinary file: served, never redirected.
//! 5. **OPTIONS.** `204 No Content` with `Allow: GET, HEAD, OPTIONS` for any
//!    file `GET` would serve (RFC 9110 §9.3.7), as static-web-server and
//!    most CORS middleware answer; no preconditions are evaluated for it.
//! 6. **Content coding and validators.** First the coding the file goes
//!    out in (`precompressed.rs`): identity, a precompressed sidecar
//!    (`FILE.br`... with [`ServeDir::precompressed`], opened as in step 3),
//!    or coded on the fly by a [`Compress`](crate::compress::Compress)
//!    layer around this handler, which offers its negotiation in the
//!    request's extensions (this handler never names the layer); a `GET`
//!    with `Range` always selects identity.
//!    `Vary: Accept-Encoding` when the choice depended on that header.
//!    Then the validators of the selected representation: a strong
//!    `ETag`, `"<size>-<mtime>-<inode>"` in hex (mtime in nanoseconds since
//!    the epoch), so any change of content through a write, a replacement
//!    by rename, or a `touch` gives a new tag, with the coding appended for
//!    a coded representation (`"…-gzip"`; a sidecar's tag is built from
//!    the sidecar's own metadata); and `Last-Modified` from the mtime
//!    (RFC 9110 §8.8).
//! 7. **Preconditions.** [`evaluate_preconditions`] (RFC 9110 §13.2.2, the
//!    steps are listed in `conditional.rs`): `304 Not Modified` with `ETag`
//!    and `Last-Modified` and no body, or `412 Precondition Failed`.
//! 8. **Range.** For `GET` only (RFC 9110 §14.2; `HEAD` ignores `Range`, so
//!    it gets the `200` headers): a single `Range` field, subject to
//!    [`if_range_matches`], goes through [`parse_range`]. One range is `206`
//!    with `Content-Range` and the file range as the body; several are `206`
//!    `multipart/byteranges`, read from the file in bounded pieces; none
//!    satisfiable is `416` with `Content-Range: bytes */LEN`; an ignored
//!    header (malformed, unknown unit, too many ranges, stale `If-Range`)
//!    or one asking for the whole of a file of at most 64 KiB falls through
//!    to step 9. See `range.rs` for the policy.
//! 9. **Response.** `200` with `Content-Type` from [`content_type`], the
//!    validators, `Accept-Ranges: bytes`, and the open file as the body
//!    (`Content-Length` follows from its size). A sidecar adds
//!    `Content-Encoding` and is the body; a coded representation has no
//!    `Accept-Ranges`; an on-the-fly one is coded by the layer.
//!
//! No step reads a whole file into memory: file bodies are ranges of the
//! open file that the driver reads piece by piece.
//!
//! Response bodies never contain filesystem paths; errors are the short
//! texts of [`crate::response::status`].
//!
//! # Blocking
//!
//! The filesystem calls (`openat2`/`openat`, `fstat`) are plain synchronous
//! syscalls made inside the handler's future, as nginx makes them without
//! `aio`: for a static tree they are answered from the dentry and page
//! caches in microseconds. Files are opened with `O_NONBLOCK` so that a FIFO
//! in the tree cannot block the worker in `open` waiting for a writer; the
//! flag has no effect on reads of regular files, the only kind ever served.

#[cfg(feature = "archive")]
mod archive;
mod byteranges;
mod listing;
mod open;
mod open_cache;
mod precompressed;
mod range;
mod representation;
#[cfg(feature = "upload")]
pub mod upload;

pub use crate::conditional::{Precondition, evaluate_preconditions};
pub use crate::content_type::content_type;
pub use crate::safe_path::{ResolveError, SafePath, resolve_path};
pub use range::{
    ByteRange, MAX_RANGE_SPECS, RangeOutcome, WHOLE_RANGE_AS_FULL, if_range_matches, parse_range,
};
#[cfg(feature = "upload")]
pub use upload::Uploads;

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, StatusCode, header};
use rustix::io::Errno;

use crate::content_coding::Negotiation;
use crate::handler::BoxFuture;
use crate::response::status;
use crate::syntax::Accept;
use crate::{Body, Handler, Request, Response};
use open::{Root, error_status};
use open_cache::{OpenCache, Opened};
use precompressed::Lookup;
use representation::{FileRepresentation, file_response};

/// Serves the files beneath one directory; see the [module docs](self) for
/// the steps each request goes through.
///
/// ```no_run
/// use berth::ServeDir;
///
/// let site = ServeDir::new("./public").index_file("index.html");
/// # let _ = site;
/// ```
#[derive(Debug, Clone)]
pub struct ServeDir {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    /// `None` when the root could not be opened: every open then fails.
    root: Option<Arc<Root>>,
    serve_hidden: bool,
    follow_symlinks: bool,
    /// Index file names, tried in order; names that are not a single plain
    /// component are dropped when configured.
    index_files: Vec<Box<str>>,
    /// Whether a directory without an index file gets a listing.
    listing: bool,
    /// Whether an HTML listing shows the directory's README.md.
    #[cfg(feature = "markdown")]
    listing_readme: bool,
    /// Whether precompressed sidecars (`FILE.br`...) are served.
    precompressed: bool,
    /// Open descriptors reused for a short window; `None`: open every time.
    open_cache: Option<Arc<OpenCache>>,
    /// `PUT` and `POST` write files; `None`: they are `405`.
    #[cfg(feature = "upload")]
    uploads: Option<Uploads>,
    /// `?download=tar.gz|zip` on a directory streams it as an archive.
    #[cfg(feature = "archive")]
    archives: bool,
}

/// The prefix of uploads' temporary files (`upload/store.rs`): a name
/// starting with it is never served, listed or uploaded to, even with
/// [`ServeDir::hidden`].
pub(crate) const UPLOAD_TEMP_PREFIX: &str = ".berth-upload-";

impl ServeDir {
    /// Serves the directory `root`. It is opened here, once; if that fails,
    /// every request that reaches the open step gets `404`.
    pub fn new(root: impl AsRef<Path>) -> ServeDir {
        let inner = Inner {
            root: Root::open(root.as_ref()).ok().map(Arc::new),
            serve_hidden: false,
            follow_symlinks: false,
            index_files: vec!["index.html".into()],
            listing: false,
            #[cfg(feature = "markdown")]
            listing_readme: false,
            precompressed: false,
            open_cache: None,
            #[cfg(feature = "upload")]
            uploads: None,
            #[cfg(feature = "archive")]
            archives: false,
        };
        ServeDir {
            inner: Arc::new(inner),
        }
    }

    /// Whether paths with a segment starting with `.` are served. Default
    /// `false`: such requests get `404`.
    pub fn hidden(mut self, serve_hidden: bool) -> Self {
        Arc::make_mut(&mut self.inner).serve_hidden = serve_hidden;
        self
    }

    /// Whether symlinks are followed. Default `false`: no symlink anywhere
    /// in the path is followed (`404`). With `true`, only symlinks whose
    /// target stays beneath the root are followed. With `openat2`
    /// (`RESOLVE_BENEATH`) a target that is absolute, or that climbs above
    /// the root on its way, is refused even if it ends up inside; the
    /// fallback walk judges only where the target ends up.
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        Arc::make_mut(&mut self.inner).follow_symlinks = follow;
        self
    }

    /// The file served for a directory requested with a trailing slash.
    /// Default `index.html`. A name that is not a single path component
    /// (empty, `.`, `..`, or containing `/` or NUL) disables index files.
    pub fn index_file(self, name: impl Into<String>) -> Self {
        self.index_files([name])
    }

    /// Index file names, tried in order (`index.html`, `index.htm`...).
    /// Names that are not a single path component are ignored; an empty
    /// list disables index files.
    pub fn index_files<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names = names
            .into_iter()
            .map(Into::into)
            .filter(|n| !n.is_empty() && n != "." && n != ".." && !n.contains(['/', '\0']))
            .map(String::into_boxed_str)
            .collect();
        Arc::make_mut(&mut self.inner).index_files = names;
        self
    }

    /// Whether precompressed copies are served: for a compressible file
    /// (see [`is_compressible`](crate::compress::is_compressible)), the
    /// best of `FILE.zst`, `FILE.br` and `FILE.gz` the client accepts, when
    /// it is a regular file no older than `FILE`, opened beneath the root
    /// like `FILE` itself. Default `false` (a lookup costs up to three
    /// `open`s per request; the `berth` binary turns it on). The rules are
    /// in step 6 of the [module docs](self).
    pub fn precompressed(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.inner).precompressed = on;
        self
    }

    /// Keeps opened files (descriptor and metadata) for `valid_for` and
    /// serves repeated requests from them, as nginx's `open_file_cache`
    /// does: three system calls fewer per request for a hot file. Within
    /// the window a replaced or deleted file is still served as it was.
    /// Default: off (`Duration::ZERO`).
    pub fn open_file_cache(mut self, valid_for: Duration) -> Self {
        Arc::make_mut(&mut self.inner).open_cache =
            (!valid_for.is_zero()).then(|| Arc::new(OpenCache::new(valid_for)));
        self
    }

    /// Whether a directory without an index file is answered with a listing
    /// (HTML, or JSON for `Accept: application/json`; sortable with
    /// `?sort=name|size|modified&order=asc|desc`). Default `false`: `404`.
    pub fn listing(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.inner).listing = on;
        self
    }

    /// Whether an HTML listing shows the directory's `README.md` (any
    /// ASCII case) rendered from Markdown below the entries, as GitHub
    /// does; the JSON listing never includes it. Raw HTML in it is shown
    /// as text and links to schemes other than `http`, `https` and
    /// `mailto` as their text, so a README cannot put script on the page
    /// (which forbids script anyway); a README that is a symlink, or over
    /// 1 MiB, is not rendered. The rules are in the listing's `readme`
    /// module. Needs [`listing`](Self::listing). Default `false`.
    #[cfg(feature = "markdown")]
    pub fn listing_readme(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.inner).listing_readme = on;
        self
    }

    /// Accepts uploads: `PUT /dir/name` stores one file, `POST` of a
    /// `multipart/form-data` form to `/dir/` stores each of its files
    /// (and the listing, when on, shows a form for it), under the same
    /// containment as reads, through a temporary file renamed into place
    /// when complete. The rules and answers are in the
    /// [`upload` module docs](upload). Default: off, `PUT` and
    /// `POST` are `405`.
    ///
    /// The request body may then bring up to
    /// [`Uploads::max_bytes`]; a server's or route's smaller
    /// [`body_limit`](crate::body_limit) in front of this handler must let
    /// upload requests through (the `berth` binary raises its own for
    /// `PUT` and `POST`).
    #[cfg(feature = "upload")]
    pub fn uploads(mut self, uploads: Uploads) -> Self {
        Arc::make_mut(&mut self.inner).uploads = Some(uploads);
        self
    }

    /// Folder downloads: `GET /dir/?download=tar.gz` or `?download=zip`
    /// streams the directory and everything beneath it as one archive
    /// (`200`, `application/gzip` or `application/zip`, `Content-Disposition:
    /// attachment; filename="dir.tar.gz"`, no length), and the listing
    /// (when on) links to both; another `download` value is `400`. The
    /// tree is walked through open handles beneath the root with this
    /// handler's [`hidden`](Self::hidden) and
    /// [`follow_symlinks`](Self::follow_symlinks) policy (FIFOs, devices
    /// and uploads' temporary files never go in), depth first with names
    /// sorted; a file that cannot be read or changes while it is read
    /// cuts the download short (an error, not a complete-looking
    /// archive). See step 4 of the [module docs](self). Default: off, the
    /// query is ignored.
    ///
    /// Memory per archive is bounded whatever the folder's size; each one
    /// being sent holds a thread of tokio's blocking pool while it
    /// streams.
    #[cfg(feature = "archive")]
    pub fn archives(mut self, on: bool) -> Self {
        Arc::make_mut(&mut self.inner).archives = on;
        self
    }

    /// True when this handler writes for `req` (uploads on, `PUT` or
    /// `POST`): the request goes to `upload/`, asynchronously.
    #[cfg(feature = "upload")]
    fn is_upload(&self, req: &Request) -> bool {
        self.inner.uploads.is_some() && upload::is_upload_method(req.method())
    }
}

impl Handler for ServeDir {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        #[cfg(feature = "upload")]
        if self.is_upload(&req) {
            return Box::pin(upload::serve(Arc::clone(&self.inner), req));
        }
        // The steps make no `.await`: they run here, and the future only
        // hands the response over (the request is not moved into it). A
        // compression layer further out offers its negotiation in the
        // request's extensions; a file's `200` it is to code goes back to
        // it, and file responses decided against what it would do on its
        // own are marked settled (`content_coding/layer.rs`).
        let negotiation = req.extensions().get::<Negotiation>();
        let (res, representation) = self.inner.serve(&req, negotiation);
        let res = match (negotiation, representation) {
            (Some(n), Some(FileRepresentation::Encode { coding, file })) => {
                return n.code_file(res, coding, file);
            }
            (Some(_), Some(FileRepresentation::Settled)) => Negotiation::settle(res),
            _ => res,
        };
        Box::pin(std::future::ready(res))
    }
}

impl Inner {
    fn serve(
        &self,
        req: &Request,
        negotiation: Option<&Negotiation>,
    ) -> (Response, Option<FileRepresentation>) {
        // Responses that are not a file's representation (errors,
        // redirects, listings, `OPTIONS`) go out with `None`.
        // 1. Method.
        let method = req.method();
        if method != Method::GET && method != Method::HEAD && method != Method::OPTIONS {
            // RFC 9110 §9.1: a method the server does not recognize at all
            // is 501; a known one this resource does not allow is 405.
            let known = [
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::PATCH,
                Method::TRACE,
                Method::CONNECT,
            ];
            if !known.contains(method) {
                return (status(StatusCode::NOT_IMPLEMENTED), None);
            }
            let mut res = status(StatusCode::METHOD_NOT_ALLOWED);
            res.headers_mut().insert(header::ALLOW, self.allow());
            return (res, None);
        }
        if method == Method::OPTIONS && req.uri().path() == "*" {
            return (self.options_response(), None);
        }
        // 2. Path (borrowed from the request when already normal).
        let Ok(path) = crate::safe_path::resolve(req.uri().path()) else {
            return (status(StatusCode::BAD_REQUEST), None);
        };
        if path.is_hidden() && (!self.serve_hidden || is_upload_temp(path.as_str())) {
            return (status(StatusCode::NOT_FOUND), None);
        }
        // 3. Open.
        let Some(root) = &self.root else {
            return (status(StatusCode::NOT_FOUND), None);
        };
        let opened = match self.open(root, path.as_str()) {
            Ok(opened) => opened,
            Err(e) => return (status(error_status(e)), None),
        };
        // 4. Kind.
        let (opened, name, rel) = if opened.meta().is_dir() {
            let path = path.into_owned();
            if !path.has_trailing_slash() {
                return (
                    redirect_to_dir(nested_path(req), &path, req.uri().query()),
                    None,
                );
            }
            #[cfg(feature = "archive")]
            if let Some(res) = self.archive(req, root, opened.file(), &path) {
                return (res, None);
            }
            match self.open_index(root, &path) {
                Ok(Some((index, name, rel))) => (index, name, Cow::Owned(rel)),
                Ok(None) => {
                    return (
                        self.directory_without_index(req, opened.file(), &path),
                        None,
                    );
                }
                Err(e) => return (status(error_status(e)), None),
            }
        } else if opened.meta().is_file() && !path.has_trailing_slash() {
            (opened, path.as_str(), Cow::Borrowed(path.as_str()))
        } else {
            return (status(StatusCode::NOT_FOUND), None);
        };
        // 5. OPTIONS.
        if method == Method::OPTIONS {
            return (self.options_response(), None);
        }
        // 6 to 9.
        let lookup = Lookup {
            root,
            rel: &rel,
            follow_symlinks: self.follow_symlinks,
            precompressed: self.precompressed,
        };
        file_response(req, negotiation, opened, Path::new(name), &lookup)
    }

    /// Step 4: the first index file present in the directory at `path`
    /// (with its name and its path beneath the root), or `None` when there
    /// is none (missing, or not a regular file).
    fn open_index(&self, root: &Root, path: &SafePath) -> Result<Option<OpenedIndex<'_>>, Errno> {
        for index in &self.index_files {
            let rel = if path.is_root() {
                index.to_string()
            } else {
                format!("{}/{index}", path.as_str())
            };
            match self.open(root, &rel) {
                Ok(opened) if opened.meta().is_file() => {
                    return Ok(Some((opened, &**index, rel)));
                }
                Ok(_) | Err(Errno::NOENT) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Step 4, a directory requested with a trailing slash that has no
    /// index file: its listing when listings are on (`OPTIONS` gets
    /// [`options_response`]), else `404`. `dir` is the directory's handle,
    /// opened beneath the root like every file.
    fn directory_without_index(&self, req: &Request, dir: &Arc<File>, path: &SafePath) -> Response {
        if !self.listing {
            return status(StatusCode::NOT_FOUND);
        }
        if req.method() == Method::OPTIONS {
            return self.options_response();
        }
        let shown = listing::Shown {
            prefix: nested_path(req),
            query: req.uri().query(),
            accept: Accept::from_headers(req.headers()),
            hidden: self.serve_hidden,
            forms: self.forms(),
            readme: self.readme(),
        };
        listing::response(dir, path, shown)
    }

    /// Step 4, a directory requested with a trailing slash: its archive
    /// when archives are on and a `GET` or `HEAD` asks for one with
    /// `?download=` (or the `400` for an unknown format); `None` to go on.
    #[cfg(feature = "archive")]
    fn archive(
        &self,
        req: &Request,
        root: &Arc<Root>,
        dir: &Arc<File>,
        path: &SafePath,
    ) -> Option<Response> {
        let method = req.method();
        if !self.archives || (method != Method::GET && method != Method::HEAD) {
            return None;
        }
        let format = match archive::requested(req.uri().query())? {
            Ok(format) => format,
            Err(bad_request) => return Some(bad_request),
        };
        let policy = archive::Policy {
            hidden: self.serve_hidden,
            follow_symlinks: self.follow_symlinks,
        };
        Some(archive::response(method, format, root, dir, path, policy))
    }

    /// `Allow`: [`ALLOW`], plus `PUT, POST` with uploads.
    fn allow(&self) -> HeaderValue {
        #[cfg(feature = "upload")]
        if self.uploads.is_some() {
            return upload::ALLOW_WITH_UPLOADS;
        }
        ALLOW
    }

    /// Step 5 (and `OPTIONS *`): `204` with `Allow`.
    fn options_response(&self) -> Response {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        res.headers_mut().insert(header::ALLOW, self.allow());
        res
    }

    /// What a listing offers: upload (and new folder) forms with uploads
    /// on, download links with archives on.
    fn forms(&self) -> listing::Forms {
        #[allow(unused_mut)]
        let mut forms = listing::Forms::default();
        #[cfg(feature = "upload")]
        if let Some(uploads) = &self.uploads {
            forms.upload = true;
            forms.mkdir = uploads.mkdir;
        }
        #[cfg(feature = "archive")]
        {
            forms.archives = self.archives;
        }
        forms
    }

    /// Whether a listing shows the README (feature `markdown`).
    fn readme(&self) -> bool {
        #[cfg(feature = "markdown")]
        if self.listing_readme {
            return true;
        }
        false
    }

    /// Step 3: opens `rel` beneath the root and `fstat`s the handle.
    /// With the open-file cache, a small file's content comes along.
    fn open(&self, root: &Root, rel: &str) -> Result<Opened, Errno> {
        if let Some(cached) = self.open_cache.as_ref().and_then(|c| c.get(rel)) {
            return Ok(cached);
        }
        let (file, meta) = root.open_file(rel, self.follow_symlinks)?;
        let file = Arc::new(file);
        Ok(match &self.open_cache {
            Some(cache) => cache.insert(rel, file, meta),
            None => Opened::uncached(file, meta),
        })
    }
}

/// An opened index file: handle, metadata and content (when cached), its
/// name, its path beneath root.
type OpenedIndex<'a> = (Opened, &'a str, String);

/// `Allow` for every resource `ServeDir` serves.
const ALLOW: HeaderValue = HeaderValue::from_static("GET, HEAD, OPTIONS");

/// The prefix a [`Router::nest`](crate::Router::nest) took off the path,
/// for URLs back to this handler ("" when not nested).
fn nested_path(req: &Request) -> &str {
    req.extensions()
        .get::<crate::NestedPath>()
        .map_or("", |p| p.as_str())
}

/// Step 4: `301` to the directory's URL with a trailing slash (under the
/// nest's prefix, if any), keeping the query string.
fn redirect_to_dir(prefix: &str, path: &SafePath, query: Option<&str>) -> Response {
    let mut location = format!("{prefix}{}", path.to_url_path());
    if !location.ends_with('/') {
        location.push('/');
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        location.push('?');
        location.push_str(query);
    }
    let Ok(location) = HeaderValue::try_from(location) else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut res = status(StatusCode::MOVED_PERMANENTLY);
    res.headers_mut().insert(header::LOCATION, location);
    res
}

/// True when some segment of `rel` (a [`SafePath`] string) is an
/// upload's temporary file (see [`UPLOAD_TEMP_PREFIX`]).
fn is_upload_temp(rel: &str) -> bool {
    rel.split('/').any(|s| s.starts_with(UPLOAD_TEMP_PREFIX))
}

#[cfg(test)]
mod tests;
