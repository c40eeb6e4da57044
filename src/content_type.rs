//! `Content-Type` for a file name: `mime_guess` plus a UTF-8 charset for
//! textual types.
//!
//! The common types come from a static table, so answering them allocates
//! nothing; rarer textual types build their value with one allocation.

use std::path::Path;

use http::HeaderValue;

const OCTET_STREAM: &str = "application/octet-stream";

/// `Content-Type` for a file name: `mime_guess`'s first guess for its
/// extension (case-insensitive), `application/octet-stream` when unknown,
/// with `; charset=utf-8` added for `text/*`, `application/javascript`,
/// `application/json`, `application/xml`, `image/svg+xml`,
/// `application/manifest+json` and other `+xml` / `+json` types.
pub fn content_type(path: &Path) -> HeaderValue {
    let Some(mime) = mime_guess::from_path(path).first_raw() else {
        return HeaderValue::from_static(OCTET_STREAM);
    };
    if let Some(value) = common(mime) {
        return HeaderValue::from_static(value);
    }
    if needs_charset(mime) {
        return HeaderValue::try_from(format!("{mime}; charset=utf-8"))
            .unwrap_or_else(|_| HeaderValue::from_static(OCTET_STREAM));
    }
    // `from_static` panics on bytes a header value cannot hold; mime_guess's
    // table never has them, but check rather than trust.
    if mime.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        HeaderValue::from_static(mime)
    } else {
        HeaderValue::from_static(OCTET_STREAM)
    }
}

/// The full header value for the types static sites serve most.
fn common(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "text/html" => "text/html; charset=utf-8",
        "text/css" => "text/css; charset=utf-8",
        "text/javascript" => "text/javascript; charset=utf-8",
        "application/javascript" => "application/javascript; charset=utf-8",
        "application/json" => "application/json; charset=utf-8",
        "text/plain" => "text/plain; charset=utf-8",
        "text/xml" => "text/xml; charset=utf-8",
        "application/xml" => "application/xml; charset=utf-8",
        "image/svg+xml" => "image/svg+xml; charset=utf-8",
        "application/manifest+json" => "application/manifest+json; charset=utf-8",
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        "image/x-icon" => "image/x-icon",
        "application/wasm" => "application/wasm",
        "application/pdf" => "application/pdf",
        "application/octet-stream" => OCTET_STREAM,
        _ => return None,
    })
}

fn needs_charset(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.ends_with("+xml")
        || mime.ends_with("+json")
        || matches!(
            mime,
            "application/javascript" | "application/json" | "application/xml"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(name: &str) -> String {
        content_type(Path::new(name)).to_str().unwrap().to_owned()
    }

    #[test]
    fn table() {
        let cases = [
            ("index.html", "text/html; charset=utf-8"),
            ("a/b/INDEX.HTM", "text/html; charset=utf-8"),
            ("style.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("mod.mjs", "application/javascript; charset=utf-8"),
            ("data.json", "application/json; charset=utf-8"),
            ("notes.txt", "text/plain; charset=utf-8"),
            ("feed.xml", "text/xml; charset=utf-8"),
            ("logo.svg", "image/svg+xml; charset=utf-8"),
            (
                "site.webmanifest",
                "application/manifest+json; charset=utf-8",
            ),
            ("feed.atom", "application/atom+xml; charset=utf-8"),
            ("page.xhtml", "application/xhtml+xml; charset=utf-8"),
            ("data.jsonld", "application/ld+json; charset=utf-8"),
            ("table.csv", "text/csv; charset=utf-8"),
            ("readme.md", "text/markdown; charset=utf-8"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.JPEG", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("favicon.ico", "image/x-icon"),
            ("app.wasm", "application/wasm"),
            ("doc.pdf", "application/pdf"),
            ("a.avif", "image/avif"),
            ("x.tar.gz", "application/gzip"),
            ("blob.bin", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
            ("x.unknownext", "application/octet-stream"),
            (".env", "application/octet-stream"),
            ("", "application/octet-stream"),
        ];
        for (name, want) in cases {
            assert_eq!(ct(name), want, "file {name:?}");
        }
    }

    #[test]
    fn charset_rule() {
        assert!(needs_charset("text/anything"));
        assert!(needs_charset("application/rss+xml"));
        assert!(needs_charset("application/geo+json"));
        assert!(!needs_charset("image/png"));
        assert!(!needs_charset("application/zip"));
    }
}
