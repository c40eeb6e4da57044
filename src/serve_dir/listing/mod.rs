//! Directory listings: the entries of a directory read through its open
//! handle, sorted, and rendered as an HTML page or as JSON. This module owns
//! the reading, the choice of format and the response; the order is
//! `sort.rs`, the page and the JSON document `render.rs`.
//!
//! # Reading
//!
//! [`read_entries`] lists a directory that was already opened beneath the
//! root (so containment was decided once, by the open): it reopens the
//! handle itself as `.` for reading and `lstat`s every entry relative to it
//! (`statat` with `AT_SYMLINK_NOFOLLOW`), so a symlink is listed as a
//! symlink and never followed, and no path is ever resolved from the root
//! again. `.` and `..` are never listed; neither are names that are not
//! UTF-8, which no request could name (the resolver refuses them). Names
//! starting with `.` are skipped unless hidden files are served; uploads'
//! temporary files (`.berth-upload-…`) always are. At most
//! `max_entries` names are read; the listing then says it is truncated.
//!
//! # Sorting
//!
//! `?sort=name|size|modified&order=asc|desc` ([`sort_order`]), by default
//! name ascending; unknown values fall back to the default. Directories come
//! first in every order; ties are broken by name, ascending. Names compare
//! case-insensitively first, then exactly.
//!
//! # Rendering
//!
//! [`render_html`] writes a self-contained page (inline CSS that follows
//! `prefers-color-scheme`, no scripts, no external resources); [`render_json`]
//! writes the same entries as JSON. Every name is HTML-escaped wherever it
//! appears in the page, and every link is the name percent-encoded (all but
//! RFC 3986 unreserved characters), relative to the directory (`name`,
//! `name/`, `../`), so the page works under any prefix and no filesystem
//! path ever appears. With uploads on, the page ends with an upload form
//! (and a new-folder form) posting to the directory itself; with archives
//! on, it links to the directory as a `.tar.gz` and a `.zip`. With
//! [`ServeDir::listing_readme`](super::ServeDir::listing_readme) (feature
//! `markdown`), the directory's `README.md` is rendered below it
//! (`readme/`). [`wants_json`] picks the format from `Accept`, and
//! [`response`] does all of it for [`ServeDir`](super::ServeDir).

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderValue, StatusCode, header};
use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::response::status;
use crate::safe_path::SafePath;
use crate::syntax::{Accept, MediaType};
use crate::{Body, Response};

#[cfg(feature = "markdown")]
mod readme;
mod render;
mod sort;

#[cfg(feature = "markdown")]
pub(crate) use readme::Readme;
pub(crate) use render::{render_html, render_json};
pub(crate) use sort::{SortKey, SortOrder, sort, sort_order};

/// Without `markdown` no README is ever rendered: a type with no values,
/// so the page's code is the same either way.
#[cfg(not(feature = "markdown"))]
#[derive(Debug)]
pub(crate) enum Readme {}

#[cfg(not(feature = "markdown"))]
impl Readme {
    fn find(_dir: &impl AsFd, _entries: &[Entry], _truncated: bool) -> Option<Readme> {
        None
    }

    pub(crate) fn style(&self) -> &'static str {
        match *self {}
    }

    pub(crate) fn section(&self) -> &str {
        match *self {}
    }
}

/// How many names [`response`] reads from one directory at most.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// What a directory entry is, as `lstat` sees it (symlinks not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link, whatever it points to.
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

impl Kind {
    fn from_file_type(t: FileType) -> Kind {
        match t {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        }
    }

    /// The `type` in JSON.
    fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Other => "other",
        }
    }
}

/// One directory entry as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The file name (one path component, UTF-8).
    pub name: String,
    /// What the entry is; a symlink is never resolved.
    pub kind: Kind,
    /// Size in bytes; `0` for directories and symlinks, whose `st_size`
    /// means nothing to a reader.
    pub size: u64,
    /// Last modification time, when known.
    pub modified: Option<SystemTime>,
}

impl Entry {
    /// True for a directory (not for a symlink to one).
    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    /// Whether the size column means anything for this entry.
    fn has_size(&self) -> bool {
        matches!(self.kind, Kind::File | Kind::Other)
    }
}

/// Reads the entries of `dir`, an already opened directory handle (a
/// read-only or `O_PATH` descriptor opened beneath the root).
///
/// The handle is reopened as `.` (a fresh read position, and `O_PATH`
/// handles work too) and each name is `lstat`ed relative to it. Hidden names
/// (starting with `.`) are skipped unless `show_hidden`. At most
/// `max_entries` names are read (hidden and non-UTF-8 ones count, as they
/// are read too); the `bool` is true when more were left unread. An entry
/// that vanishes between reading and `lstat` is skipped; one that cannot be
/// `lstat`ed for another reason is listed with the type the directory gave
/// and no size or time. The entries come in directory order: [`sort`](fn@sort) them.
pub(crate) fn read_entries(
    dir: &impl AsFd,
    show_hidden: bool,
    max_entries: usize,
) -> io::Result<(Vec<Entry>, bool)> {
    let dir = dir.as_fd();
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let mut names = Dir::new(rustix::fs::openat(dir, ".", flags, Mode::empty())?)?;
    let mut entries = Vec::new();
    let mut read = 0;
    while let Some(dirent) = names.read() {
        let dirent = dirent?;
        let raw = dirent.file_name().to_bytes();
        if raw == b"." || raw == b".." {
            continue;
        }
        if read == max_entries {
            return Ok((entries, true));
        }
        read += 1;
        let Ok(name) = std::str::from_utf8(raw) else {
            continue;
        };
        if name.starts_with('.') && (!show_hidden || name.starts_with(super::UPLOAD_TEMP_PREFIX)) {
            continue;
        }
        let entry = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => {
                let kind = Kind::from_file_type(FileType::from_raw_mode(st.st_mode));
                let size = match kind {
                    Kind::File | Kind::Other => int::<u64>(st.st_size).unwrap_or(0),
                    Kind::Dir | Kind::Symlink => 0,
                };
                let modified = match (int(st.st_mtime), int(st.st_mtime_nsec)) {
                    (Some(secs), Some(nanos)) => system_time(secs, nanos),
                    _ => None,
                };
                Entry {
                    name: name.to_owned(),
                    kind,
                    size,
                    modified,
                }
            }
            Err(Errno::NOENT) => continue,
            Err(_) => Entry {
                name: name.to_owned(),
                kind: Kind::from_file_type(dirent.file_type()),
                size: 0,
                modified: None,
            },
        };
        entries.push(entry);
    }
    Ok((entries, false))
}

/// `stat` fields differ in type between architectures; this converts any of
/// them, `None` when out of range.
fn int<T>(value: impl TryInto<T>) -> Option<T> {
    value.try_into().ok()
}

/// The time `secs` seconds and `nanos` nanoseconds after the epoch (`secs`
/// may be negative: the nanoseconds still count forwards, as in `stat`).
fn system_time(secs: i64, nanos: u32) -> Option<SystemTime> {
    if nanos >= 1_000_000_000 {
        return None;
    }
    let whole = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))?
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))?
    };
    whole.checked_add(Duration::from_nanos(nanos.into()))
}

/// True when `Accept` prefers the JSON listing to the HTML one: each gets
/// its quality by the one rule of [`Accept`] (the most specific matching
/// range), and JSON's must be strictly higher. No header, or a tie such as
/// `*/*`, means HTML. Both are looked up as UTF-8 (`charset=utf-8`), which
/// they are, so a range that asks for it (`application/json;
/// charset=utf-8`) matches and one that asks for another charset does not.
pub(crate) fn wants_json(accept: &Accept<'_>) -> bool {
    let quality = |media: &[u8]| MediaType::parse(media).map_or(0, |m| accept.quality(&m));
    quality(b"application/json; charset=utf-8") > quality(b"text/html; charset=utf-8")
}

/// True when `Accept` prefers `text/html` over `application/json`, as
/// [`wants_json`] weighs them, strictly (so not for `*/*` or no header):
/// a browser's navigation or form post.
#[cfg_attr(not(feature = "upload"), allow(dead_code))]
pub(crate) fn prefers_html(accept: Option<&str>) -> bool {
    let accept = Accept::parse(accept.map(str::as_bytes));
    let quality = |media: &[u8]| MediaType::parse(media).map_or(0, |m| accept.quality(&m));
    quality(b"text/html; charset=utf-8") > quality(b"application/json; charset=utf-8")
}

/// The listing of `dir` (the open handle of the directory at `path`) as a
/// response: JSON when `accept` [prefers it](wants_json), else HTML; either
/// sorted by `query` ([`sort_order`]). `show_hidden` lists dotfiles. Reading fails
/// with `403` when permission is denied and `500` otherwise; the body never
/// names a path.
///
/// How a listing is asked for: the nest prefix its URL has (shown in the
/// title), the query (sort order), `Accept` (HTML or JSON), and whether
/// hidden entries are listed.
pub(crate) struct Shown<'a> {
    pub(crate) prefix: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) accept: Accept<'a>,
    pub(crate) hidden: bool,
    /// The forms at the end of the HTML page.
    pub(crate) forms: Forms,
    /// Whether the HTML page shows the directory's README below the
    /// entries (`readme/`; never without the `markdown` feature).
    pub(crate) readme: bool,
}

/// What the HTML page offers besides its entries: forms (uploads on:
/// `upload`, and `mkdir` when new folders may be made) and download
/// links (archives on); none by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Forms {
    /// A `multipart/form-data` form posting files to the directory.
    pub(crate) upload: bool,
    /// A form posting `mkdir=NAME` to the directory.
    pub(crate) mkdir: bool,
    /// Links to the directory as a `.tar.gz` and a `.zip`
    /// (`?download=tar.gz`, `?download=zip`).
    pub(crate) archives: bool,
}

/// Headers: `Content-Type`, `Vary: Accept` (one URL, two formats),
/// `X-Content-Type-Options: nosniff`, and [`POLICY`] as the
/// `Content-Security-Policy`, since the page shows names (and a README)
/// chosen by whoever can write to the directory.
pub(crate) fn response(dir: &impl AsFd, path: &SafePath, shown: Shown<'_>) -> Response {
    let Shown {
        prefix,
        query,
        accept,
        hidden: show_hidden,
        forms,
        readme,
    } = shown;
    let (mut entries, truncated) = match read_entries(dir, show_hidden, MAX_ENTRIES) {
        Ok(read) => read,
        Err(e) => {
            let code = match Errno::from_io_error(&e) {
                Some(Errno::ACCESS | Errno::PERM) => StatusCode::FORBIDDEN,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            return status(code);
        }
    };
    let mut url_path = format!("{prefix}{}", path.to_url_path());
    if !url_path.ends_with('/') {
        url_path.push('/');
    }
    let order = sort_order(query);
    sort(&mut entries, order);
    let (body, content_type) = if wants_json(&accept) {
        (
            render_json(&url_path, &entries, truncated),
            "application/json",
        )
    } else {
        let readme = readme
            .then(|| Readme::find(dir, &entries, truncated))
            .flatten();
        let is_root = path.is_root();
        let html = render_html(
            &url_path,
            &entries,
            order,
            is_root,
            truncated,
            forms,
            readme.as_ref(),
        );
        (html, "text/html; charset=utf-8")
    };
    let mut res = Response::new(Body::from(body));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, POLICY);
    res
}

/// The listing's `Content-Security-Policy`: nothing is loaded or run but
/// the page's inline style, images from the site itself (a README's
/// `![shot](shot.png)`) and the empty `data:` icon; no script at all
/// (`default-src 'none'`); no `<base>` and no form posting elsewhere,
/// should markup ever get in. The page's own upload forms post to itself.
pub(crate) const POLICY: HeaderValue = HeaderValue::from_static(
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     base-uri 'none'; form-action 'self'",
);

#[cfg(test)]
mod tests;
