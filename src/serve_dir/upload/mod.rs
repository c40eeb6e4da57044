//! Uploads into a [`ServeDir`](crate::ServeDir) (feature `upload`): `PUT` of one file,
//! `POST` of a `multipart/form-data` form with any number of files, and,
//! with [`Uploads::mkdir`], `POST` of a form naming a new folder. This
//! module owns the steps and the answers; the temporary file and its
//! rename are `store.rs`, the multipart form `multipart.rs`.
//!
//! # Steps
//!
//! 1. **Method and origin.** Only with [`ServeDir::uploads`](crate::ServeDir::uploads): `PUT` and
//!    `POST` come here; without it they stay `405` (`Allow: GET, HEAD,
//!    OPTIONS`). A request a browser sends from another site's page is
//!    `403` unless its origin is in [`Uploads::trusted_origins`]
//!    (cross-site request forgery; `origin.rs` has the rules).
//! 2. **Path.** The URL path is resolved exactly as for a read
//!    ([`resolve_path`]: percent-decoded once, `..`
//!    never above the root). Bad percent-encoding is `400`; a `..` above
//!    the root or a decoded `/`, `\`, NUL or control byte is `403`. A
//!    hidden segment (file or directory) is `403` unless
//!    [`ServeDir::hidden`](crate::ServeDir::hidden), and a name starting with `.berth-upload-`
//!    (the temporary files) is `403` always. `PUT` needs a file URL
//!    (`/dir/name`; `405` with `Allow: GET, HEAD, OPTIONS, POST` for
//!    `/dir/`), `POST` a directory URL (`/dir/`; `405` with `Allow: GET,
//!    HEAD, OPTIONS, PUT` for `/dir/name`). A `PUT` with `Content-Range`
//!    is `400` (RFC 9110 §14.5: partial PUT is not supported).
//! 3. **Size.** The request body's limit becomes [`Uploads::max_bytes`]
//!    (replacing the server's `max_body_bytes`, which is meant for small
//!    bodies); a declared `Content-Length` over it is `413` before
//!    anything is opened or written (RFC 9110 §15.5.14), and a body that
//!    goes over it while streaming is `413` with its temporary file
//!    removed. For a form, the limit is the whole body's.
//! 4. **Directory.** The target directory is opened beneath the root by
//!    the same `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (or
//!    `O_NOFOLLOW` walk) as every read, *never following a symlink*,
//!    whatever [`ServeDir::follow_symlinks`](crate::ServeDir::follow_symlinks) says: a missing directory, a
//!    file on the way, a symlinked directory or an escape is `404` (as a
//!    read of it is; not WebDAV's `409`, so a symlink is not told from a
//!    missing directory), permission denied `403`. Directories are not
//!    created on the way.
//! 5. **Name.** `fstatat` of the name in that directory, not following
//!    it: a symlink is `403`; a directory `409`; an existing file `409`
//!    unless [`Uploads::overwrite`]. Checked before the body is read, so a
//!    doomed upload costs nothing; the rename decides again at the end.
//! 6. **Body.** Streamed chunk by chunk through a buffered writer into a
//!    temporary file in the directory (`store.rs`), never collected:
//!    memory per upload is the write buffer and a chunk, whatever the
//!    size. A body error (client gone, `--body-timeout`, over the limit)
//!    or a failed write removes the temporary file: full disk or quota
//!    (`ENOSPC`, `EDQUOT`) is `507 Insufficient Storage`, permission or a
//!    read-only filesystem `403`. A request dropped midway (connection
//!    closed, HTTP/2 stream reset) removes it too.
//! 7. **Into place.** Synced, then renamed to its name: `201 Created` with
//!    `Location` (the file's URL, percent-encoded, under the nest prefix)
//!    for a new name, `204 No Content` for a replaced file, `409` if the
//!    name was taken meanwhile and overwriting is off (of two uploads of
//!    one new name, exactly one wins).
//!
//! # Forms
//!
//! `POST` of `multipart/form-data` to a directory stores every part that
//! has a non-empty `filename` (other fields are read and ignored), each
//! through steps 5 to 7 with the part's file name, which must be a plain
//! name (no `/`, `\`, NUL or control byte, not `.` or `..`: `403`; taken
//! as sent, not percent-decoded). Parts are stored one by one as they
//! arrive: when one fails, those before it stay stored, and the error
//! response lists them. At least one file is needed (`400`). The answer:
//! `303 See Other` to the directory when `Accept` prefers `text/html` over
//! JSON (a browser's form post: the listing shows the new files), else
//! `201 Created` (`200` when every file replaced one) with a JSON body,
//! `{"stored":[{"name":…,"location":…,"replaced":false}]}`, and
//! `Location` when one file was stored. Another `Content-Type` is `415`.
//!
//! With [`Uploads::mkdir`], `POST` of `application/x-www-form-urlencoded`
//! `mkdir=NAME` to a directory creates the folder NAME in it (a plain,
//! non-hidden name as above): `201` with `Location: …/NAME/`, or `303`
//! to the directory for a browser; `409` when the name exists.

mod multipart;
mod origin;
mod store;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use http::{HeaderValue, Method, StatusCode, header};
use rustix::fs::Mode;
use rustix::io::Errno;

use super::listing::prefers_html;
use super::open::{Root, error_status};
use super::{Inner, UPLOAD_TEMP_PREFIX, nested_path};
use crate::request::{RejectionKind, RequestExt};
use crate::response::{ErrorReason, status};
use crate::safe_path::{ResolveError, SEGMENT, is_plain_name, resolve_path};
use crate::{Body, Rejection, Request, Response};
use store::{Stored, TempFile, check_target, write_error};

/// What uploads a [`ServeDir`](super::ServeDir) accepts once
/// [`uploads`](super::ServeDir::uploads) turns them on; the steps are in
/// the [module docs](self).
///
/// ```no_run
/// use berth::ServeDir;
/// use berth::serve_dir::Uploads;
///
/// let site = ServeDir::new("./public")
///     .listing(true) // the listing shows an upload form
///     .uploads(Uploads { max_bytes: 100 << 20, ..Uploads::default() });
/// # let _ = site;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploads {
    /// Whether an upload may replace an existing file (atomically, by
    /// rename; answered `204`). Default `false`: `409 Conflict`.
    pub overwrite: bool,
    /// The most bytes one upload request may bring (a `PUT` body, or a
    /// whole form); more is `413`. Default 1 GiB.
    pub max_bytes: u64,
    /// Whether a form `POST` of `mkdir=NAME` creates a folder. Default
    /// `false`.
    pub mkdir: bool,
    /// Other sites' origins (`https://app.example`, as browsers send
    /// `Origin`) whose pages may upload; every other site's page is
    /// refused (step 1: cross-site request forgery). Default: none.
    pub trusted_origins: Vec<String>,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads {
            overwrite: false,
            max_bytes: 1 << 30,
            mkdir: false,
            trusted_origins: Vec::new(),
        }
    }
}

/// True for the methods uploads answer (step 1).
pub(super) fn is_upload_method(method: &Method) -> bool {
    method == Method::PUT || method == Method::POST
}

/// `Allow` where uploads are on: every method on some resource.
pub(super) const ALLOW_WITH_UPLOADS: HeaderValue =
    HeaderValue::from_static("GET, HEAD, OPTIONS, PUT, POST");

/// Why an upload (or one file of a form) was refused: a status and a
/// one-line reason for the client.
#[derive(Debug)]
pub(super) struct Refused {
    status: StatusCode,
    reason: Cow<'static, str>,
    /// `Allow`, for a `405`.
    allow: Option<HeaderValue>,
}

impl Refused {
    /// A refusal with a fixed reason.
    pub(super) fn new(status: StatusCode, reason: &'static str) -> Refused {
        Refused {
            status,
            reason: Cow::Borrowed(reason),
            allow: None,
        }
    }

    /// The response: the reason as plain text, marked as a bare error for
    /// [`Router::render_errors`](crate::Router::render_errors).
    fn into_response(self) -> Response {
        let reason: Arc<str> = self.reason.into();
        let mut res = status(self.status);
        *res.body_mut() = Body::from(format!("{reason}\n"));
        res.extensions_mut().insert(ErrorReason(Some(reason)));
        if let Some(allow) = self.allow {
            res.headers_mut().insert(header::ALLOW, allow);
        }
        res
    }
}

impl From<Rejection> for Refused {
    fn from(rejection: Rejection) -> Refused {
        Refused {
            status: rejection.status(),
            reason: Cow::Owned(rejection.to_string()),
            allow: None,
        }
    }
}

/// Steps 2 to 7 for `req`, a `PUT` or `POST` to a `ServeDir` with
/// uploads on (step 1 sent it here).
pub(super) async fn serve(inner: Arc<Inner>, req: Request) -> Response {
    let Some(uploads) = &inner.uploads else {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    };
    match handle(&inner, uploads, req).await {
        Ok(res) => res,
        Err(refused) => refused.into_response(),
    }
}

/// What every kind of upload needs: the options, the target directory's
/// URL path (with the nest prefix, ending in `/`), and whether hidden
/// names may be written.
struct Target<'a> {
    uploads: &'a Uploads,
    dir: Arc<OwnedFd>,
    dir_url: String,
    hidden: bool,
}

impl Target<'_> {
    /// Step 5's name rules for `name`, a plain name given by the client
    /// (a form's file name, a new folder's name).
    fn check_name(&self, name: &str) -> Result<(), Refused> {
        if !is_plain_name(name) {
            return Err(Refused::new(
                StatusCode::FORBIDDEN,
                "a name may not be empty, `.` or `..`, nor hold a separator or control byte",
            ));
        }
        if name.starts_with(UPLOAD_TEMP_PREFIX) || (name.starts_with('.') && !self.hidden) {
            return Err(hidden_refused());
        }
        Ok(())
    }

    /// The URL of `name` in the directory, percent-encoded.
    fn url_of(&self, name: &str, dir: bool) -> String {
        let mut url = self.dir_url.clone();
        url.extend(percent_encoding::utf8_percent_encode(name, SEGMENT));
        if dir {
            url.push('/');
        }
        url
    }

    /// Steps 5 to 7 for one file: `name` in the directory, its bytes from
    /// `source`.
    async fn store(&self, name: &str, mut source: Source<'_, '_>) -> Result<Stored, Refused> {
        let overwrite = self.uploads.overwrite;
        check_target(&self.dir, name, overwrite)?;
        let mut temp = TempFile::create(&self.dir).map_err(write_error)?;
        while let Some(chunk) = source.next().await? {
            temp.write(&chunk).map_err(write_error)?;
        }
        temp.commit(name, overwrite).await.map_err(write_error)
    }
}

/// Where one file's bytes come from.
enum Source<'a, 'r> {
    /// A `PUT`'s body.
    Body(&'a mut Body),
    /// A form's part.
    Part(multipart::Part<'a, 'r>),
}

impl Source<'_, '_> {
    /// The next chunk; `None` at the end.
    async fn next(&mut self) -> Result<Option<bytes::Bytes>, Refused> {
        match self {
            Source::Body(body) => match body.next_chunk().await {
                None => Ok(None),
                Some(Ok(chunk)) => Ok(Some(chunk)),
                Some(Err(e)) => Err(Rejection::from(e).into()),
            },
            Source::Part(part) => part.next().await,
        }
    }
}

fn hidden_refused() -> Refused {
    Refused::new(
        StatusCode::FORBIDDEN,
        "hidden names (starting with `.`) are not written",
    )
}

async fn handle(inner: &Inner, uploads: &Uploads, mut req: Request) -> Result<Response, Refused> {
    // 1. A page on another site may not upload (cross-site request
    // forgery through the visitor's browser and credentials).
    if origin::is_cross_site(req.uri(), req.headers(), &uploads.trusted_origins) {
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            "an upload from another site's page is refused",
        ));
    }
    // 2. Path.
    let path = resolve_path(req.uri().path()).map_err(|e| match e {
        ResolveError::BadEncoding => Refused::new(StatusCode::BAD_REQUEST, "bad percent-encoding"),
        ResolveError::ForbiddenByte | ResolveError::EscapesRoot => Refused::new(
            StatusCode::FORBIDDEN,
            "the path leaves the root or holds a separator or control byte",
        ),
    })?;
    if path.segments().any(|s| s.starts_with(UPLOAD_TEMP_PREFIX))
        || (path.is_hidden() && !inner.serve_hidden)
    {
        return Err(hidden_refused());
    }
    let put = req.method() == Method::PUT;
    let to_dir = path.has_trailing_slash() || path.is_root();
    if put == to_dir {
        let (reason, allow) = if put {
            (
                "PUT names a file, not a directory",
                "GET, HEAD, OPTIONS, POST",
            )
        } else {
            (
                "POST goes to a directory URL (ending in /)",
                "GET, HEAD, OPTIONS, PUT",
            )
        };
        let mut refused = Refused::new(StatusCode::METHOD_NOT_ALLOWED, reason);
        refused.allow = Some(HeaderValue::from_static(allow));
        return Err(refused);
    }
    // RFC 9110 §14.5: a server that allows PUT MUST answer a partial PUT
    // (one with Content-Range) with 400.
    if put && req.headers().contains_key(header::CONTENT_RANGE) {
        return Err(Refused::new(
            StatusCode::BAD_REQUEST,
            "a PUT with Content-Range (a partial PUT) is not supported",
        ));
    }
    // 3. Size.
    if req.body_mut().refuse_over(uploads.max_bytes) {
        return Err(Rejection::new(RejectionKind::TooLarge).into());
    }
    // 4. Directory.
    let root = inner
        .root
        .as_deref()
        .ok_or(Refused::new(StatusCode::NOT_FOUND, "no such directory"))?;
    let rel = path.as_str();
    let (dir_rel, name) = match put {
        true => rel.rsplit_once('/').unwrap_or(("", rel)),
        false => (rel, ""),
    };
    let dir = open_dir(root, dir_rel)?;
    // The directory's URL: the path's, up to its last `/` (no encoded
    // segment holds one).
    let url = path.to_url_path();
    let dir_url = match url.rfind('/') {
        Some(i) => format!("{}{}", nested_path(&req), &url[..=i]),
        None => format!("{}/", nested_path(&req)),
    };
    let target = Target {
        uploads,
        dir: Arc::new(dir),
        dir_url,
        hidden: inner.serve_hidden,
    };
    if put {
        return put_file(&target, name, req.into_body()).await;
    }
    let html = prefers_html(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if uploads.mkdir
        && content_type
            .get(..33)
            .is_some_and(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    {
        return mkdir(&target, req, html).await;
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        Refused::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST takes multipart/form-data (with a boundary)",
        )
    })?;
    multipart::store_form(&target, req.into_body(), boundary, html).await
}

/// Step 4: the directory `rel` beneath the root, never through a symlink.
fn open_dir(root: &Root, rel: &str) -> Result<OwnedFd, Refused> {
    let refused = |e: Errno| {
        let reason = match error_status(e) {
            StatusCode::NOT_FOUND => "no such directory",
            StatusCode::FORBIDDEN => "the server may not write there",
            _ => "the directory could not be opened",
        };
        Refused::new(error_status(e), reason)
    };
    let (dir, meta) = root.open_file(rel, false).map_err(refused)?;
    if !meta.is_dir() {
        return Err(refused(Errno::NOTDIR));
    }
    Ok(OwnedFd::from(dir))
}

/// `PUT`: steps 5 to 7 for the request's body.
async fn put_file(target: &Target<'_>, name: &str, mut body: Body) -> Result<Response, Refused> {
    let stored = target.store(name, Source::Body(&mut body)).await?;
    Ok(stored_response(stored, &target.url_of(name, false)))
}

/// `201` with `Location`, or `204`.
fn stored_response(stored: Stored, location: &str) -> Response {
    match stored {
        Stored::Replaced => status(StatusCode::NO_CONTENT),
        Stored::Created => created(location),
    }
}

fn created(location: &str) -> Response {
    let mut res = status(StatusCode::CREATED);
    if let Ok(location) = HeaderValue::try_from(location) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}

/// `303 See Other` to `location`: where a browser's form post lands.
fn see_other(location: &str) -> Response {
    let mut res = status(StatusCode::SEE_OTHER);
    if let Ok(location) = HeaderValue::try_from(location) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}

/// The most bytes of a `mkdir=NAME` form.
const MKDIR_FORM_BYTES: usize = 4096;

/// `POST` of `mkdir=NAME`: the folder NAME in the target directory.
async fn mkdir(target: &Target<'_>, req: Request, html: bool) -> Result<Response, Refused> {
    let form = req.form(MKDIR_FORM_BYTES).await?;
    let name = form.get("mkdir").ok_or(Refused::new(
        StatusCode::BAD_REQUEST,
        "the form has no `mkdir` field",
    ))?;
    target.check_name(name)?;
    rustix::fs::mkdirat(&*target.dir, name, Mode::from_raw_mode(0o777)).map_err(write_error)?;
    Ok(if html {
        see_other(&target.dir_url)
    } else {
        created(&target.url_of(name, true))
    })
}
