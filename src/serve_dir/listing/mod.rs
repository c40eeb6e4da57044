//! Directory listings: the entries of a directory read through its open
//! handle, sorted, and rendered as an HTML page or as JSON.
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
//! starting with `.` are skipped unless hidden files are served. At most
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
//! path ever appears. [`wants_json`] picks the format from `Accept`, and
//! [`response`] does all of it for [`ServeDir`](super::ServeDir).

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderValue, StatusCode, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::resolve::SafePath;
use crate::request::QueryMap;
use crate::response::status;
use crate::{Body, Response};

/// How many names [`response`] reads from one directory at most.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// Bytes percent-encoded in links: everything but RFC 3986 `unreserved`.
const HREF: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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
/// and no size or time. The entries come in directory order: [`sort`] them.
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
        if name.starts_with('.') && !show_hidden {
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

/// The column a listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// File name.
    Name,
    /// Size in bytes.
    Size,
    /// Modification time.
    Modified,
}

impl SortKey {
    fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Modified => "modified",
        }
    }

    /// The order a column is first sorted in when its header is clicked:
    /// names A to Z, sizes and times largest / newest first.
    fn first_descending(self) -> bool {
        self != SortKey::Name
    }
}

/// A sort order: a column and a direction. The default is name, ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortOrder {
    /// The column.
    pub key: SortKey,
    /// Largest / newest / Z first.
    pub descending: bool,
}

impl Default for SortOrder {
    fn default() -> SortOrder {
        SortOrder {
            key: SortKey::Name,
            descending: false,
        }
    }
}

impl SortOrder {
    /// The query string selecting this order, `?sort=size&order=desc`.
    fn query(self) -> String {
        let order = if self.descending { "desc" } else { "asc" };
        format!("?sort={}&order={order}", self.key.as_str())
    }

    /// The order the header link of `key` switches to: the other direction
    /// for the current column, the column's first direction for another.
    fn toggled(self, key: SortKey) -> SortOrder {
        let descending = if key == self.key {
            !self.descending
        } else {
            key.first_descending()
        };
        SortOrder { key, descending }
    }
}

/// The sort order asked for by a query string (without the `?`):
/// `sort=name|size|modified` and `order=asc|desc`, ASCII case-insensitive.
/// Missing or unknown values are the default (name, ascending); this never
/// fails.
pub(crate) fn sort_order(query: Option<&str>) -> SortOrder {
    let mut order = SortOrder::default();
    let Some(query) = query else {
        return order;
    };
    let query = QueryMap::parse(query);
    let is = |name: &str, value: &str| {
        query
            .get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
    };
    if is("sort", "size") {
        order.key = SortKey::Size;
    } else if is("sort", "modified") {
        order.key = SortKey::Modified;
    }
    order.descending = is("order", "desc");
    order
}

/// Sorts `entries` by `order`, directories first, ties by name ascending.
pub(crate) fn sort(entries: &mut [Entry], order: SortOrder) {
    entries.sort_by(|a, b| {
        let by_key = match order.key {
            SortKey::Name => cmp_names(&a.name, &b.name),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Modified => a.modified.cmp(&b.modified),
        };
        let by_key = if order.descending {
            by_key.reverse()
        } else {
            by_key
        };
        b.is_dir()
            .cmp(&a.is_dir())
            .then(by_key)
            .then_with(|| cmp_names(&a.name, &b.name))
    });
}

/// Case-insensitive, then exact (so the order is total).
fn cmp_names(a: &str, b: &str) -> Ordering {
    let fold = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<Vec<_>>();
    fold(a).cmp(&fold(b)).then_with(|| a.cmp(b))
}

/// Names that could not be linked to safely; never produced by
/// [`read_entries`], refused here too in case entries come from elsewhere.
fn listable(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The relative link to an entry: the percent-encoded name, with `/` for a
/// directory.
fn href(entry: &Entry) -> String {
    let mut out: String = utf8_percent_encode(&entry.name, HREF).collect();
    if entry.is_dir() {
        out.push('/');
    }
    out
}

/// Writes `text` HTML-escaped, for element content and quoted attributes.
fn escape_html(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `1234` → `1.2 KiB`; below 1 KiB, `512 B`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // 1023.95 would print as "1024.0": move up a unit instead.
    while value >= 1023.95 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A UTC calendar time, for years 0 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Utc {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Utc {
    /// `None` for a time outside years 0–9999, which neither format writes.
    fn new(time: SystemTime) -> Option<Utc> {
        let secs = unix_seconds(time)?;
        let days = secs.div_euclid(86_400);
        let of_day = u32::try_from(secs.rem_euclid(86_400)).ok()?;
        let (year, month, day) = civil_from_days(days);
        if !(0..=9999).contains(&year) {
            return None;
        }
        Some(Utc {
            year,
            month,
            day,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        })
    }

    /// `2024-05-06 07:08`, as shown in the page.
    fn short(self) -> String {
        let Utc {
            year,
            month,
            day,
            hour,
            minute,
            ..
        } = self;
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}")
    }

    /// `2024-05-06T07:08:09Z` (RFC 3339), for JSON and `<time datetime>`.
    fn rfc3339(self) -> String {
        let Utc {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = self;
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }
}

/// Whole seconds since the epoch, rounded down (so before 1970 too).
fn unix_seconds(time: SystemTime) -> Option<i64> {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok(),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).ok()?;
            let secs = secs.checked_add(i64::from(d.subsec_nanos() > 0))?;
            Some(-secs)
        }
    }
}

/// Year, month, day of the `days`th day after 1970-01-01 in the proleptic
/// Gregorian calendar (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are small and positive by construction.
    let small = |v: i64| u32::try_from(v).unwrap_or(0);
    (year, small(month), small(day))
}

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;\
--line:#d1d9e0;--link:#0969da;--hover:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;\
--muted:#9198a1;--line:#3d444d;--link:#4493f8;--hover:#151b23}}
body{margin:0;background:var(--bg);color:var(--fg);\
font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.25rem;font-weight:600;margin:0 0 1rem;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse}
th,td{padding:.35rem .6rem;text-align:left;border-bottom:1px solid var(--line)}
th{white-space:nowrap}
td:first-child{overflow-wrap:anywhere}
.size,.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.size{text-align:right}
.time,.tag,.note{color:var(--muted)}
.tag{font-size:.85em}
tbody tr:hover{background:var(--hover)}
a{color:var(--link);text-decoration:none}
a:hover,a:focus-visible{text-decoration:underline}
";

/// Renders the HTML page for the directory at `url_path` (its URL path as
/// [`SafePath::to_url_path`] gives it, ending with `/`; shown decoded in the
/// title). `entries` are shown in the order given (sort them first); `order`
/// marks the sorted column and builds the header links. A `../` link leads
/// up unless `is_root`; a note says so when the listing is `truncated`.
pub(crate) fn render_html(
    url_path: &str,
    entries: &[Entry],
    order: SortOrder,
    is_root: bool,
    truncated: bool,
) -> String {
    let mut title = String::new();
    escape_html(
        &mut title,
        &format!(
            "Index of {}",
            percent_decode_str(url_path).decode_utf8_lossy()
        ),
    );
    // Links into subdirectories and up keep a sort order that was chosen.
    let keep = if order == SortOrder::default() {
        String::new()
    } else {
        order.query().replace('&', "&amp;")
    };

    let mut out = String::with_capacity(2048 + entries.len() * 200);
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    out.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    let _ = writeln!(out, "<title>{title}</title>\n<style>\n{STYLE}</style>");
    out.push_str("</head>\n<body>\n<main>\n");
    let _ = writeln!(out, "<h1>{title}</h1>");
    out.push_str("<table>\n<thead>\n<tr>");
    for (key, label, class) in [
        (SortKey::Name, "Name", ""),
        (SortKey::Size, "Size", " class=\"size\""),
        (SortKey::Modified, "Modified", ""),
    ] {
        let link = order.toggled(key).query().replace('&', "&amp;");
        let (sorted, arrow) = match (order.key == key, order.descending) {
            (false, _) => ("", ""),
            (true, false) => (
                " aria-sort=\"ascending\"",
                " <span aria-hidden=\"true\">▲</span>",
            ),
            (true, true) => (
                " aria-sort=\"descending\"",
                " <span aria-hidden=\"true\">▼</span>",
            ),
        };
        let _ = write!(
            out,
            "<th scope=\"col\"{class}{sorted}><a href=\"{link}\">{label}</a>{arrow}</th>"
        );
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    if !is_root {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"../{keep}\">../</a></td><td class=\"size\"></td><td class=\"time\"></td></tr>"
        );
    }
    for entry in entries.iter().filter(|e| listable(&e.name)) {
        out.push_str("<tr><td><a href=\"");
        out.push_str(&href(entry));
        if entry.is_dir() {
            out.push_str(&keep);
        }
        out.push_str("\">");
        escape_html(&mut out, &entry.name);
        if entry.is_dir() {
            out.push('/');
        }
        out.push_str("</a>");
        if entry.kind == Kind::Symlink {
            out.push_str(" <span class=\"tag\">(symlink)</span>");
        }
        out.push_str("</td>");
        if entry.has_size() {
            let _ = write!(
                out,
                "<td class=\"size\" title=\"{} bytes\">{}</td>",
                entry.size,
                human_size(entry.size)
            );
        } else {
            out.push_str("<td class=\"size\">—</td>");
        }
        match entry.modified.and_then(Utc::new) {
            Some(t) => {
                let _ = write!(
                    out,
                    "<td class=\"time\"><time datetime=\"{}\">{}</time></td>",
                    t.rfc3339(),
                    t.short()
                );
            }
            None => out.push_str("<td class=\"time\"></td>"),
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    if truncated {
        let _ = writeln!(
            out,
            "<p class=\"note\">This directory has too many entries to list; only {} are shown.</p>",
            entries.len()
        );
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Writes `text` as a JSON string, quotes included.
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // The rest of C0 must be escaped; DEL and the JavaScript line
            // separators are escaped too, harmlessly.
            c if c < ' ' || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Renders the listing as JSON, in the order given:
///
/// ```json
/// {"path":"/a%20b/","entries":[
///   {"name":"x y.txt","href":"x%20y.txt","type":"file","size":123,
///    "modified":"2024-05-06T07:08:09Z"},
///   {"name":"sub","href":"sub/","type":"dir","size":null,"modified":null}
/// ],"truncated":false}
/// ```
///
/// `path` is `url_path` as given (percent-encoded), `name` the decoded file
/// name, `href` the link relative to `path`. `type` is `file`, `dir`,
/// `symlink` or `other`; `size` is `null` for directories and symlinks;
/// `modified` is UTC RFC 3339, or `null` when unknown or outside years
/// 0–9999.
pub(crate) fn render_json(url_path: &str, entries: &[Entry], truncated: bool) -> String {
    let mut out = String::with_capacity(64 + entries.len() * 120);
    out.push_str("{\"path\":");
    json_string(&mut out, url_path);
    out.push_str(",\"entries\":[");
    for (i, entry) in entries.iter().filter(|e| listable(&e.name)).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("\n{\"name\":");
        json_string(&mut out, &entry.name);
        out.push_str(",\"href\":");
        json_string(&mut out, &href(entry));
        let _ = write!(out, ",\"type\":\"{}\",\"size\":", entry.kind.as_str());
        if entry.has_size() {
            let _ = write!(out, "{}", entry.size);
        } else {
            out.push_str("null");
        }
        out.push_str(",\"modified\":");
        match entry.modified.and_then(Utc::new) {
            Some(t) => json_string(&mut out, &t.rfc3339()),
            None => out.push_str("null"),
        }
        out.push('}');
    }
    let _ = writeln!(out, "\n],\"truncated\":{truncated}}}");
    out
}

/// A `qvalue` (RFC 9110 §12.4.2) in thousandths; `None` when malformed.
fn parse_q(value: &str) -> Option<u16> {
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// True when the `Accept` header prefers `application/json` over
/// `text/html`: the quality each gets from its most specific matching media
/// range (`type/subtype`, then `type/*`, then `*/*`; the first of equally
/// specific ones), and JSON strictly higher. A range with a malformed `q`
/// is ignored. No header, or a tie such as `*/*`, means HTML.
pub(crate) fn wants_json(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    // (specificity, quality) of the best match so far, for JSON and HTML.
    let mut best = [(0u8, 0u16); 2];
    let targets = [("application", "json"), ("text", "html")];
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        let Some((ty, sub)) = media.split_once('/') else {
            continue;
        };
        let (ty, sub) = (ty.trim(), sub.trim());
        let mut q = Some(1000);
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = parse_q(value.trim());
                break; // later parameters are accept-ext
            }
        }
        let Some(q) = q else {
            continue;
        };
        for ((want_ty, want_sub), slot) in targets.iter().zip(&mut best) {
            let specificity = if !ty.eq_ignore_ascii_case(want_ty) {
                u8::from(ty == "*" && sub == "*")
            } else if sub.eq_ignore_ascii_case(want_sub) {
                3
            } else {
                2 * u8::from(sub == "*")
            };
            if specificity > slot.0 {
                *slot = (specificity, q);
            }
        }
    }
    best[0].1 > best[1].1
}

/// The listing of `dir` (the open handle of the directory at `path`) as a
/// response: JSON when `accept` [prefers it](wants_json), else HTML; either
/// sorted by `query` ([`sort_order`]). `show_hidden` lists dotfiles. Reading fails
/// with `403` when permission is denied and `500` otherwise; the body never
/// names a path.
///
/// Headers: `Content-Type`, `Vary: Accept` (one URL, two formats),
/// `X-Content-Type-Options: nosniff`, and a `Content-Security-Policy` that
/// allows nothing but the page's inline style, since the page shows names
/// chosen by whoever can write to the directory.
pub(crate) fn response(
    dir: &impl AsFd,
    path: &SafePath,
    query: Option<&str>,
    accept: Option<&str>,
    show_hidden: bool,
) -> Response {
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
    let mut url_path = path.to_url_path();
    if !url_path.ends_with('/') {
        url_path.push('/');
    }
    let order = sort_order(query);
    sort(&mut entries, order);
    let (body, content_type) = if wants_json(accept) {
        (
            render_json(&url_path, &entries, truncated),
            "application/json",
        )
    } else {
        let html = render_html(&url_path, &entries, order, path.is_root(), truncated);
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
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    );
    res
}

#[cfg(test)]
mod tests;
