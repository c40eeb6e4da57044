//! A listing written out: the self-contained HTML page and the JSON
//! document, with the escaping, links, sizes and UTC times they share.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use time::UtcDateTime;

use super::{Entry, Forms, Kind, Readme, SortKey, SortOrder};

/// Bytes percent-encoded in links: everything but RFC 3986 `unreserved`.
const HREF: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Names that could not be linked to safely; never produced by
/// [`read_entries`](super::read_entries), refused here too in case entries
/// come from elsewhere.
fn listable(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The relative link to an entry: the percent-encoded name, with `/` for a
/// directory.
pub(super) fn href(entry: &Entry) -> String {
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
pub(super) fn human_size(bytes: u64) -> String {
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

/// A UTC calendar time, for years 0 to 9999 (the calendar is the `time`
/// crate's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Utc(UtcDateTime);

impl Utc {
    /// `None` for a time outside years 0–9999, which neither format writes.
    pub(super) fn new(time: SystemTime) -> Option<Utc> {
        let t = UtcDateTime::from_unix_timestamp(unix_seconds(time)?).ok()?;
        (0..=9999).contains(&t.year()).then_some(Utc(t))
    }

    /// `2024-05-06 07:08`, as shown in the page.
    pub(super) fn short(self) -> String {
        let mut text = self.rfc3339();
        text.truncate("2024-05-06T07:08".len());
        text.replace_range(10..11, " ");
        text
    }

    /// `2024-05-06T07:08:09Z` (RFC 3339), for JSON and `<time datetime>`.
    pub(super) fn rfc3339(self) -> String {
        let t = self.0;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// Whole seconds since the epoch, rounded down (so before 1970 too).
pub(super) fn unix_seconds(time: SystemTime) -> Option<i64> {
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
form{margin:1rem 0 0;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
";

/// Renders the HTML page for the directory at `url_path` (its URL path as
/// [`SafePath::to_url_path`](crate::serve_dir::SafePath::to_url_path) gives
/// it, ending with `/`; shown decoded in the title). `entries` are shown in
/// the order given (sort them first); `order` marks the sorted column and
/// builds the header links. A `../` link leads up unless `is_root`; a note
/// says so when the listing is `truncated`. Download links (`forms.archives`)
/// go under the title; the forms come after the entries, posting to the
/// page's own URL (no `action`), so they work under any prefix. A `readme`
/// goes last (its style in the head).
pub(crate) fn render_html(
    url_path: &str,
    entries: &[Entry],
    order: SortOrder,
    is_root: bool,
    truncated: bool,
    forms: Forms,
    readme: Option<&Readme>,
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
    out.push_str(readme.map_or("", Readme::style));
    out.push_str("</head>\n<body>\n<main>\n");
    let _ = writeln!(out, "<h1>{title}</h1>");
    if forms.archives {
        // Relative to the page's own URL, so they work under any prefix.
        out.push_str(
            "<p class=\"note\">Download this folder: \
             <a href=\"?download=tar.gz\" download>.tar.gz</a> · \
             <a href=\"?download=zip\" download>.zip</a></p>\n",
        );
    }
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
    if forms.upload {
        out.push_str(
            "<form method=\"post\" enctype=\"multipart/form-data\">\
             <input type=\"file\" name=\"file\" multiple required aria-label=\"Files to upload\">\
             <button type=\"submit\">Upload</button></form>\n",
        );
    }
    if forms.mkdir {
        out.push_str(
            "<form method=\"post\">\
             <input type=\"text\" name=\"mkdir\" required placeholder=\"Folder name\" aria-label=\"New folder name\">\
             <button type=\"submit\">New folder</button></form>\n",
        );
    }
    out.push_str(readme.map_or("", Readme::section));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Writes `text` as a JSON string, quotes included, escaped by serde_json
/// (`"`, `\` and the C0 controls, as RFC 8259 requires; the rest as UTF-8).
pub(super) fn json_string(out: &mut String, text: &str) {
    // Serializing a `str` cannot fail.
    out.push_str(&serde_json::to_string(text).unwrap_or_default());
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
