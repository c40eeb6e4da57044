//! The README below a directory's HTML listing (feature `markdown`,
//! [`ServeDir::listing_readme`](crate::ServeDir::listing_readme)): which
//! file is shown, how it is read, and how its Markdown becomes HTML that
//! cannot run script. The JSON listing never includes it.
//!
//! # Which file
//!
//! `README.md` in any ASCII case (`readme.md`, `Readme.md`), as GitHub
//! shows them; the exact `README.md` wins when several are there. The name
//! is looked up among the entries the listing has just read, where `lstat`
//! said what each is: only a regular file counts, so a README that is a
//! symlink (to `/etc/passwd`, or anywhere) is never shown, whatever
//! [`ServeDir::follow_symlinks`](crate::ServeDir::follow_symlinks) says.
//! When the listing was truncated, `README.md` is tried by name.
//!
//! # Reading
//!
//! Through the directory's open handle, like the entries: `openat` of the
//! name with `O_NOFOLLOW` (a symlink swapped in after the `lstat` fails
//! the open) and `O_NONBLOCK` (a FIFO swapped in cannot block the worker),
//! then `fstat` of what was opened must say a regular file. Nothing is
//! resolved from the root again. At most [`MAX_README_BYTES`] are read: a
//! larger file is not rendered, and a note says so. Bytes that are not
//! UTF-8 become U+FFFD (lossy); a leading byte-order mark is dropped. A
//! README that cannot be read (permissions) is left out without a word.
//!
//! # Rendering, and why it cannot inject script
//!
//! pulldown-cmark parses CommonMark with GitHub's tables, strikethrough,
//! task lists and footnotes; its HTML writer escapes text and attribute
//! values. Between the two, [`render_markdown`] filters the events:
//!
//! - **Raw HTML is text.** A block of HTML (`<script>…`, `<iframe>`, a
//!   `<p align=center>` around badges) is shown as a code block of its
//!   source, inline HTML (`<img onerror=…>`, `<kbd>`) as escaped text.
//!   Nothing the README writes becomes a tag or an attribute.
//! - **Links and images only to safe places.** A destination is looked at
//!   as a browser's URL parser would (WHATWG URL, "scheme start state"):
//!   leading and trailing C0 controls and spaces stripped, tabs and line
//!   breaks removed anywhere, then a scheme is an ASCII letter followed by
//!   letters, digits, `+`, `-` or `.` up to a `:`. No scheme (a relative
//!   reference, RFC 3986 §4.2: `docs/`, `#usage`, `//host/x`) is kept, and
//!   so are `http`, `https` and `mailto` in any case. Anything else
//!   (`javascript:`, `data:`, `vbscript:`, `file:`…) is dropped: the link
//!   is shown as its text, the image as its alt text. pulldown-cmark
//!   hands over destinations with entities and backslash escapes already
//!   decoded (`JaVaScRiPt&#58;alert(1)` arrives as `JaVaScRiPt:alert(1)`),
//!   so the check sees the scheme the browser would; its writer then
//!   percent-encodes what is not URL-safe, which can only take a scheme
//!   away, never make one.
//! - **No extension that writes attributes from the text**: heading
//!   attributes (`{#id .class}`), math, metadata blocks and wiki links are
//!   off.
//!
//! The listing's `Content-Security-Policy` (`default-src 'none'`, no
//! `script-src`) forbids script on the page anyway, as a second line; its
//! `img-src 'self' data:` lets a README show images from the same site
//! (`![shot](shot.png)`) but loads none from other hosts (no tracking
//! pixels, no badges).

use std::io::{self, Read};
use std::os::fd::AsFd;

use pulldown_cmark::{CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd, html};
use rustix::fs::{FileType, Mode, OFlags};

use super::{Entry, Kind};

/// The largest README rendered (1 MiB): pulldown-cmark parses in linear
/// time, but a page is built in memory for each request.
pub(crate) const MAX_README_BYTES: u64 = 1 << 20;

/// The name looked for first, and tried by name when the listing was
/// truncated.
const README: &str = "README.md";

/// The style the README section adds to the page's `<head>`: its frame,
/// and Markdown's elements on the listing's colors.
const STYLE: &str = "<style>
.readme{margin:2rem 0 0;border:1px solid var(--line);border-radius:6px}
.readme>h2{font-size:.9rem;font-weight:600;margin:0;padding:.5rem 1rem;border-bottom:1px solid var(--line)}
.readme>article{padding:0 1rem;overflow-wrap:anywhere}
.readme img{max-width:100%}
.readme pre{overflow:auto;padding:.75rem;background:var(--hover);border-radius:6px}
.readme code{font:.875em/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.readme table{width:auto}
.readme blockquote{margin:0;padding:0 1rem;color:var(--muted);border-left:.25rem solid var(--line)}
</style>
";

/// A README ready to go below the listing: its section of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Readme {
    section: String,
}

impl Readme {
    /// The README of the directory `dir` (its open handle), whose entries
    /// the listing read (`truncated` when it stopped early); `None` when
    /// there is none to show. See the [module docs](self).
    pub(crate) fn find(dir: &impl AsFd, entries: &[Entry], truncated: bool) -> Option<Readme> {
        let name = choose(entries, truncated)?;
        let contents = read(dir, name).ok()??;
        Some(Readme::new(name, contents))
    }

    /// The section for README `name` with `contents`.
    fn new(name: &str, contents: Contents) -> Readme {
        // `name` is README.md in some ASCII case: nothing to escape or
        // percent-encode, in the link or the heading.
        let mut section = format!(
            "<section class=\"readme\">\n<h2><a href=\"{name}\">{name}</a></h2>\n<article>\n"
        );
        match contents {
            Contents::Text(text) => render_markdown(&mut section, &text),
            Contents::TooLarge => section.push_str(
                "<p class=\"note\">This README is larger than 1 MiB; it is not shown here.</p>\n",
            ),
        }
        section.push_str("</article>\n</section>\n");
        Readme { section }
    }

    /// The `<style>` element for the page's `<head>`.
    pub(crate) fn style(&self) -> &'static str {
        STYLE
    }

    /// The `<section>` that goes at the end of the page's `<main>`.
    pub(crate) fn section(&self) -> &str {
        &self.section
    }
}

/// The README's name among `entries`: a regular file named `README.md` in
/// any ASCII case, the exact name first; `README.md` itself when none is
/// listed but the listing was `truncated`.
fn choose(entries: &[Entry], truncated: bool) -> Option<&str> {
    let mut found = None;
    for entry in entries {
        if entry.kind == Kind::File && entry.name.eq_ignore_ascii_case(README) {
            if entry.name == README {
                return Some(README);
            }
            found.get_or_insert(entry.name.as_str());
        }
    }
    found.or(truncated.then_some(README))
}

/// What was read of a README.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Contents {
    /// The whole file, as UTF-8 (lossy), without a byte-order mark.
    Text(String),
    /// Over [`MAX_README_BYTES`]: not read.
    TooLarge,
}

/// Reads `name` beneath `dir` without following a symlink; `Ok(None)`
/// when it is not a regular file.
fn read(dir: &impl AsFd, name: &str) -> io::Result<Option<Contents>> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK;
    let fd = rustix::fs::openat(dir.as_fd(), name, flags, Mode::empty())?;
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Ok(None);
    }
    if u64::try_from(st.st_size).unwrap_or(u64::MAX) > MAX_README_BYTES {
        return Ok(Some(Contents::TooLarge));
    }
    // The file may grow between the `fstat` and the read: one byte past
    // the limit tells.
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_README_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_README_BYTES {
        return Ok(Some(Contents::TooLarge));
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(Some(Contents::Text(text.to_owned())))
}

/// Appends `markdown` rendered as HTML to `out`, raw HTML as text and
/// links and images to unsafe schemes as their text (see the
/// [module docs](self)).
pub(crate) fn render_markdown(out: &mut String, markdown: &str) {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    // For each link or image open, whether its tags were dropped (links
    // and images nest: an image inside a link, a link in an image's alt
    // text); their ends come in the reverse order.
    let mut dropped: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented))),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::CodeBlock)),
        Event::Start(Tag::Link {
            link_type,
            ref dest_url,
            ..
        }) => {
            // An email autolink's destination is an address (the writer
            // puts `mailto:` in front).
            let keep = link_type == LinkType::Email || safe_url(dest_url);
            dropped.push(!keep);
            keep.then_some(event)
        }
        Event::Start(Tag::Image { ref dest_url, .. }) => {
            let keep = safe_url(dest_url);
            dropped.push(!keep);
            keep.then_some(event)
        }
        Event::End(TagEnd::Link | TagEnd::Image) => (dropped.pop() != Some(true)).then_some(event),
        other => Some(other),
    });
    html::push_html(out, events);
}

/// True when `url` is a relative reference or an `http`, `https` or
/// `mailto` URL, judged as a browser parses a URL's scheme (WHATWG URL:
/// C0 controls and spaces trimmed, tabs and line breaks removed, then
/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"`, RFC 3986 §3.1).
pub(crate) fn safe_url(url: &str) -> bool {
    let trimmed = url.trim_matches(|c: char| c <= ' ');
    let mut chars = trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
    let mut scheme = String::new();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => scheme.push(c.to_ascii_lowercase()),
        // No scheme: a relative reference (or empty, the page itself).
        _ => return true,
    }
    for c in chars {
        match c {
            ':' => return matches!(scheme.as_str(), "http" | "https" | "mailto"),
            c if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') => {
                scheme.push(c.to_ascii_lowercase());
            }
            // Not a scheme character before any `:`: a relative path.
            _ => return true,
        }
    }
    true
}

#[cfg(test)]
mod tests;
