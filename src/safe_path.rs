//! URL path → [`SafePath`]: a relative path that cannot leave the served root.
//!
//! Pure string work, no I/O, so it can be fuzzed and benchmarked on its own
//! (darkhttpd `make_safe_url`, sws `fs/path.rs`). The rules, in order, for
//! each `/`-separated segment of the raw request path:
//!
//! 1. Percent-decode the segment on its own, exactly once, so `%2f` stays
//!    inside its segment instead of becoming a separator. A `%` not followed
//!    by two hex digits, or bytes that are not UTF-8 after decoding, is
//!    [`ResolveError::BadEncoding`].
//! 2. A decoded segment containing `/`, `\`, NUL or any other ASCII control
//!    byte is [`ResolveError::ForbiddenByte`].
//! 3. Empty segments (from `//`) and `.` are skipped; `..` removes the
//!    previous segment, and `..` with nothing left to remove is
//!    [`ResolveError::EscapesRoot`]. Decoded dot segments (`%2e%2e`) are
//!    treated exactly like literal ones (RFC 3986 §5.2.4 on decoded text).
//!
//! Any other segment is kept as a name; `...` or `..foo` are ordinary (hidden)
//! names. The result therefore never contains an empty, `.` or `..` segment,
//! and no segment contains a separator or NUL.
//!
//! Whether hidden names may be served, and how symlinks are treated, is the
//! caller's policy ([`SafePath::is_hidden`], [`ServeDir`](crate::ServeDir)).
//!
//! Shared by [`ServeDir`](crate::ServeDir), which opens what it names, and
//! `BasicAuth`, which protects path prefixes as ServeDir reads them, so
//! neither imports the other; the public names are
//! `berth::serve_dir::{resolve_path, SafePath, ResolveError}`.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::syntax::percent_decode;

/// Bytes percent-encoded by [`SafePath::to_url_path`]: everything except
/// RFC 3986 `unreserved`, the `sub-delims`, `:` and `@` (the `pchar` set
/// minus `%`, which must be encoded to round-trip).
pub(crate) const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// A request path made safe: percent-decoded once, dot-segments removed,
/// never above the root.
///
/// Built only by [`resolve_path`]. Every segment is non-empty, is neither
/// `.` nor `..`, and contains no `/`, `\`, NUL or control byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafePath {
    /// The decoded segments joined by `/`; `""` for the root. Since no
    /// segment contains `/`, splitting this again gives back the segments.
    joined: String,
    /// The URL path ended with `/` (or with a dot segment, which names a
    /// directory: `/a/.` is `/a/`).
    trailing_slash: bool,
}

impl SafePath {
    /// The decoded segments, outermost first; none for the root.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.joined.split('/').filter(|s| !s.is_empty())
    }

    /// The segments joined into a relative path with no leading `/`; empty
    /// for the root (open it as `.`).
    pub fn relative(&self) -> PathBuf {
        PathBuf::from(&self.joined)
    }

    /// The same as [`relative`](Self::relative), borrowed as a string.
    pub(crate) fn as_str(&self) -> &str {
        &self.joined
    }

    /// True for the root itself (no segments).
    pub fn is_root(&self) -> bool {
        self.joined.is_empty()
    }

    /// True when the URL path ended with `/`.
    pub fn has_trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    /// True when some segment starts with `.` (a dotfile or dot directory).
    pub fn is_hidden(&self) -> bool {
        self.segments().any(|s| s.starts_with('.'))
    }

    /// The path as a path-absolute URL: `/`, the percent-encoded segments
    /// joined by `/`, and a final `/` when the request had one. It always
    /// starts with exactly one `/`, so it can never be read as `//host`.
    pub fn to_url_path(&self) -> String {
        let mut out = String::with_capacity(self.joined.len() + 2);
        out.push('/');
        for (i, seg) in self.segments().enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.extend(utf8_percent_encode(seg, SEGMENT));
        }
        if self.trailing_slash && !self.is_root() {
            out.push('/');
        }
        out
    }
}

/// Why a URL path was refused. All of them are answered with 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveError {
    /// A `%` not followed by two hex digits, or decoded bytes that are not
    /// UTF-8.
    BadEncoding,
    /// A decoded segment holds `/`, `\`, NUL or another control byte.
    ForbiddenByte,
    /// A `..` segment would climb above the root.
    EscapesRoot,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResolveError::BadEncoding => "bad percent-encoding in path",
            ResolveError::ForbiddenByte => "forbidden byte in path segment",
            ResolveError::EscapesRoot => "path climbs above the root",
        })
    }
}

impl std::error::Error for ResolveError {}

/// Turns the raw path of a request target (no query, normally starting with
/// `/`) into a [`SafePath`], following the rules in the module docs.
///
/// A path that does not start with `/` is read as if it did.
pub fn resolve_path(url_path: &str) -> Result<SafePath, ResolveError> {
    resolve(url_path).map(ResolvedPath::into_owned)
}

/// A [`SafePath`] that borrows the request's path when that is already in
/// normal form (the common case: nothing to decode or remove), so that
/// resolving it allocates nothing. Built only by [`resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedPath<'a> {
    /// As [`SafePath`]'s.
    joined: Cow<'a, str>,
    trailing_slash: bool,
    /// As [`SafePath::is_hidden`], found while resolving.
    hidden: bool,
}

impl ResolvedPath<'_> {
    /// As [`SafePath::as_str`].
    pub(crate) fn as_str(&self) -> &str {
        &self.joined
    }

    /// As [`SafePath::has_trailing_slash`].
    pub(crate) fn has_trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    /// As [`SafePath::is_hidden`].
    pub(crate) fn is_hidden(&self) -> bool {
        self.hidden
    }

    /// The owned [`SafePath`].
    pub(crate) fn into_owned(self) -> SafePath {
        SafePath {
            joined: self.joined.into_owned(),
            trailing_slash: self.trailing_slash,
        }
    }
}

/// [`resolve_path`], borrowing `url_path` when it is in normal form.
pub(crate) fn resolve(url_path: &str) -> Result<ResolvedPath<'_>, ResolveError> {
    let rest = url_path.strip_prefix('/').unwrap_or(url_path);
    match normal_form(rest) {
        Some(path) => Ok(path),
        None => resolve_segments(rest),
    }
}

/// `rest` (the path without its leading `/`) as it is, when the rules
/// would leave it unchanged but for one final `/`: no `%`, `\` or control
/// byte anywhere (nothing to decode, nothing forbidden), and no segment
/// that is empty (but the last), `.` or `..` (nothing to skip or remove).
/// `None` when any rule has work to do: [`resolve_segments`] applies them.
fn normal_form(rest: &str) -> Option<ResolvedPath<'_>> {
    let bytes = rest.as_bytes();
    let mut start = 0;
    let mut hidden = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'/' {
            if matches!(&bytes[start..i], b"" | b"." | b"..") {
                return None;
            }
            hidden |= bytes[start] == b'.';
            start = i + 1;
        } else if b == b'%' || is_forbidden(b) {
            return None;
        }
    }
    match &bytes[start..] {
        // Nothing after the last `/` (or an empty path): a directory.
        b"" => Some(ResolvedPath {
            joined: Cow::Borrowed(&rest[..rest.len().saturating_sub(1)]),
            trailing_slash: true,
            hidden,
        }),
        b"." | b".." => None,
        last => Some(ResolvedPath {
            joined: Cow::Borrowed(rest),
            trailing_slash: false,
            hidden: hidden || last.starts_with(b"."),
        }),
    }
}

/// The rules of the module docs, segment by segment.
fn resolve_segments(rest: &str) -> Result<ResolvedPath<'_>, ResolveError> {
    let mut joined = String::with_capacity(rest.len());
    let mut trailing_slash = false;
    for raw in rest.split('/') {
        let seg = decode(raw)?;
        if seg.bytes().any(is_forbidden) {
            return Err(ResolveError::ForbiddenByte);
        }
        let seg: &str = &seg;
        trailing_slash = matches!(seg, "" | "." | "..");
        match seg {
            "" | "." => {}
            ".." => match joined.rfind('/') {
                Some(i) => joined.truncate(i),
                None if !joined.is_empty() => joined.clear(),
                None => return Err(ResolveError::EscapesRoot),
            },
            name => {
                if !joined.is_empty() {
                    joined.push('/');
                }
                joined.push_str(name);
            }
        }
    }
    let hidden = joined.split('/').any(|s| s.starts_with('.'));
    Ok(ResolvedPath {
        joined: Cow::Owned(joined),
        trailing_slash,
        hidden,
    })
}

fn is_forbidden(b: u8) -> bool {
    b == b'/' || b == b'\\' || b.is_ascii_control()
}

/// True when `name` (already decoded, such as an uploaded file's name)
/// could be one segment of a [`SafePath`]: not empty, `.` or `..`, and
/// without `/`, `\`, NUL or another control byte (rule 2 and 3).
#[cfg_attr(not(feature = "upload"), allow(dead_code))]
pub(crate) fn is_plain_name(name: &str) -> bool {
    !matches!(name, "" | "." | "..") && !name.bytes().any(is_forbidden)
}

/// Percent-decodes one segment (rule 1); borrows when there is nothing to
/// decode.
fn decode(raw: &str) -> Result<Cow<'_, str>, ResolveError> {
    percent_decode(raw.as_bytes(), false).ok_or(ResolveError::BadEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    use ResolveError::*;

    /// `Ok((relative, trailing slash))` or the error.
    type Expect = Result<(&'static str, bool), ResolveError>;

    #[test]
    fn table() {
        let cases: &[(&str, Expect)] = &[
            ("/", Ok(("", true))),
            ("", Ok(("", true))),
            ("/a/b", Ok(("a/b", false))),
            ("/a/b/", Ok(("a/b", true))),
            ("/a//b", Ok(("a/b", false))),
            ("//a", Ok(("a", false))),
            ("/a/./b", Ok(("a/b", false))),
            ("/a/../b", Ok(("b", false))),
            ("/a/.", Ok(("a", true))),
            ("/a/b/..", Ok(("a", true))),
            ("/a/..", Ok(("", true))),
            ("/..", Err(EscapesRoot)),
            ("/../x", Err(EscapesRoot)),
            ("/a/../..", Err(EscapesRoot)),
            ("/a/../../b", Err(EscapesRoot)),
            ("/%2e%2e/etc/passwd", Err(EscapesRoot)),
            ("/a/%2E%2e/%2e./.%2E", Err(EscapesRoot)),
            ("/a/%2e/b", Ok(("a/b", false))),
            ("/%2E%2E%2Fetc", Err(ForbiddenByte)),
            ("/a%2fb", Err(ForbiddenByte)),
            ("/a%2Fb", Err(ForbiddenByte)),
            ("/a%5cb", Err(ForbiddenByte)),
            ("/a\\b", Err(ForbiddenByte)),
            ("/a%00b", Err(ForbiddenByte)),
            ("/a%0ab", Err(ForbiddenByte)),
            ("/a%7fb", Err(ForbiddenByte)),
            ("/%zz", Err(BadEncoding)),
            ("/%4", Err(BadEncoding)),
            ("/a%", Err(BadEncoding)),
            ("/%%32%65", Err(BadEncoding)),
            ("/%c3%28", Err(BadEncoding)),
            ("/%ff", Err(BadEncoding)),
            ("/caf%C3%A9", Ok(("café", false))),
            ("/café", Ok(("café", false))),
            ("/a%20b", Ok(("a b", false))),
            // decoded once: %25 becomes a literal '%', not a second escape
            ("/%252e%252e", Ok(("%2e%2e", false))),
            ("/...", Ok(("...", false))),
            ("/..foo/x", Ok(("..foo/x", false))),
            ("/.env", Ok((".env", false))),
            ("/a/.git/config", Ok(("a/.git/config", false))),
        ];
        for (input, want) in cases {
            let got = resolve_path(input).map(|p| (p.joined.clone(), p.has_trailing_slash()));
            let want = want.map(|(s, t)| (s.to_owned(), t));
            assert_eq!(got, want, "input {input:?}");
        }
    }

    #[test]
    fn accessors() {
        let p = resolve_path("/a/./b%20c/").unwrap();
        assert_eq!(p.segments().collect::<Vec<_>>(), ["a", "b c"]);
        assert_eq!(p.relative(), Path::new("a/b c"));
        assert!(p.has_trailing_slash());
        assert!(!p.is_hidden());
        assert!(!p.is_root());

        let root = resolve_path("/").unwrap();
        assert_eq!(root.segments().count(), 0);
        assert_eq!(root.relative(), Path::new(""));
        assert!(root.is_root());
        assert_eq!(root.to_url_path(), "/");
    }

    #[test]
    fn hidden() {
        assert!(resolve_path("/.env").unwrap().is_hidden());
        assert!(resolve_path("/a/.git/config").unwrap().is_hidden());
        assert!(resolve_path("/.well-known/x").unwrap().is_hidden());
        assert!(resolve_path("/...").unwrap().is_hidden());
        assert!(!resolve_path("/a/./b/../c.txt").unwrap().is_hidden());
        assert!(!resolve_path("/a.b").unwrap().is_hidden());
    }

    #[test]
    fn url_path() {
        let cases = [
            ("/", "/"),
            ("//", "/"),
            ("/a", "/a"),
            ("/a/", "/a/"),
            ("//evil.example/x", "/evil.example/x"),
            ("/%2F%2F", "ERR"),
            ("/a b/c", "/a%20b/c"),
            ("/caf%C3%A9/", "/caf%C3%A9/"),
            ("/100%25/?#", "/100%25/%3F%23"),
            ("/a;b=c,d@e:f", "/a;b=c,d@e:f"),
            ("/x/../y/.", "/y/"),
        ];
        for (input, want) in cases {
            match resolve_path(input) {
                Ok(p) => assert_eq!(p.to_url_path(), want, "input {input:?}"),
                Err(_) => assert_eq!(want, "ERR", "input {input:?}"),
            }
        }
    }

    fn tokens() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "/", "/", ".", "..", "%2e", "%2E", "%2f", "%5c", "%00", "%", "%zz", "a", "b", "%41",
        ]);
        prop::collection::vec(token, 0..24).prop_map(|t| format!("/{}", t.concat()))
    }

    fn check_invariants(p: &SafePath) {
        assert!(!p.relative().to_string_lossy().starts_with('/'));
        assert!(!p.as_str().starts_with('/') && !p.as_str().ends_with('/'));
        for seg in p.segments() {
            assert!(!seg.is_empty());
            assert!(seg != "." && seg != "..", "dot segment in {p:?}");
            assert!(!seg.contains(['/', '\\', '\0']), "bad byte in {p:?}");
        }
        let url = p.to_url_path();
        assert!(url.starts_with('/') && !url.starts_with("//"), "{url:?}");
        // The URL form resolves back to the same path.
        assert_eq!(resolve_path(&url).as_ref(), Ok(p));
    }

    /// The borrowing shortcut gives exactly what the full rules give.
    fn check_normal_form(input: &str) {
        let rest = input.strip_prefix('/').unwrap_or(input);
        if let Some(fast) = normal_form(rest) {
            assert!(matches!(fast.joined, Cow::Borrowed(_)));
            assert_eq!(Ok(fast), resolve_segments(rest), "input {input:?}");
        }
    }

    #[test]
    fn normal_form_agrees_with_the_rules() {
        for input in [
            "",
            "/",
            "//",
            "/a",
            "/a/",
            "/a//",
            "/a/b",
            "/a/b/",
            "/.",
            "/..",
            "/a/.",
            "/a/..",
            "/./a",
            "/a/./b",
            "/a/../b",
            "/.env",
            "/a/.git/x",
            "/...",
            "/..a",
            "/a\\b",
            "/a%20b",
            "/café/",
            "a/b",
            "a/",
            "/a\u{7f}",
            "/a\tb",
        ] {
            check_normal_form(input);
        }
        assert!(normal_form("a/b/").is_some());
        assert!(normal_form("4k.bin").is_some());
        assert!(normal_form("").is_some());
    }

    proptest! {
        #[test]
        fn borrowed_and_full_rules_agree(input in tokens()) {
            check_normal_form(&input);
        }

        #[test]
        fn borrowed_and_full_rules_agree_on_any_string(input in any::<String>()) {
            check_normal_form(&input);
        }

        #[test]
        fn never_escapes(input in tokens()) {
            if let Ok(p) = resolve_path(&input) {
                check_invariants(&p);
            }
        }

        #[test]
        fn any_string_is_handled(input in any::<String>()) {
            if let Ok(p) = resolve_path(&input) {
                check_invariants(&p);
            }
        }
    }
}
