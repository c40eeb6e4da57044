//! Unit tests of directory listings: reading through the handle, sorting,
//! the HTML and JSON renderings and their escaping, and `Accept`
//! negotiation.

use super::render::{Utc, href, human_size, json_string, unix_seconds};
use super::*;
use percent_encoding::percent_decode_str;
use std::fs::File;
use std::os::unix::fs::symlink;

use crate::serve_dir::resolve_path;

fn at(secs: i64) -> Option<SystemTime> {
    system_time(secs, 0)
}

fn entry(name: &str, kind: Kind, size: u64, modified: i64) -> Entry {
    Entry {
        name: name.into(),
        kind,
        size,
        modified: at(modified),
    }
}

fn file(name: &str) -> Entry {
    entry(name, Kind::File, 1, 0)
}

fn names(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

/// Every `href="..."` value in the page's body, in order.
fn hrefs(html: &str) -> Vec<&str> {
    html[html.find("<body>").unwrap()..]
        .split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect()
}

const HOSTILE: [&str; 8] = [
    "<script>alert(1)",
    "<img src=x onerror=alert(2)>",
    "a\"b'c.txt",
    "a&amp;b",
    "line\nbreak",
    "a?b#c d&e<f>.txt",
    "%41",
    "javascript:alert(1)",
];

#[test]
fn html_escapes_hostile_names() {
    let entries: Vec<Entry> = HOSTILE.iter().map(|n| file(n)).collect();
    let html = render_html(
        "/",
        &entries,
        SortOrder::default(),
        true,
        false,
        Forms::default(),
        None,
    );
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<img"));
    assert!(html.contains(">&lt;script&gt;alert(1)<"));
    assert!(html.contains(">&lt;img src=x onerror=alert(2)&gt;<"));
    assert!(html.contains("a&quot;b&#39;c.txt"));
    assert!(html.contains(">a&amp;amp;b<"));
    assert!(html.contains(">line\nbreak<"));
    assert!(html.contains(">a?b#c d&amp;e&lt;f&gt;.txt<"));
    // Outside the style, no raw `<`, `>`, `"` or `'` from a name
    // survives: every tag in the body is one of ours.
    let body = &html[html.find("<body>").unwrap()..];
    for tag in body.split('<').skip(1) {
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        let ours = [
            "body", "main", "h1", "/h1", "table", "thead", "/thead", "tr", "/tr", "th", "/th", "a",
            "/a", "p", "/p", "span", "/span", "tbody", "/tbody", "td", "/td", "time", "/time",
            "/table", "/main", "/body", "/html",
        ];
        assert!(ours.contains(&name.as_str()), "unexpected tag <{tag}");
    }
}

#[test]
fn hrefs_are_percent_encoded_and_round_trip() {
    let mut entries: Vec<Entry> = HOSTILE.iter().map(|n| file(n)).collect();
    entries.push(file("é ü.txt"));
    entries.push(entry("a dir", Kind::Dir, 0, 0));
    let html = render_html(
        "/x/",
        &entries,
        SortOrder::default(),
        true,
        false,
        Forms::default(),
        None,
    );
    let links: Vec<&str> = hrefs(&html)
        .into_iter()
        .filter(|h| !h.starts_with('?'))
        .collect();
    assert_eq!(
        links,
        [
            "%3Cscript%3Ealert%281%29",
            "%3Cimg%20src%3Dx%20onerror%3Dalert%282%29%3E",
            "a%22b%27c.txt",
            "a%26amp%3Bb",
            "line%0Abreak",
            "a%3Fb%23c%20d%26e%3Cf%3E.txt",
            "%2541",
            "javascript%3Aalert%281%29",
            "%C3%A9%20%C3%BC.txt",
            "a%20dir/",
        ]
    );
    for (link, entry) in links.iter().zip(&entries) {
        assert!(
            link.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%/".contains(&b))
        );
        let decoded = percent_decode_str(link.trim_end_matches('/'))
            .decode_utf8()
            .unwrap();
        assert_eq!(decoded, entry.name);
        // The server's own resolver reads the link back as the name
        // (names with control bytes are refused by it, so skipped).
        if !entry.name.contains('\n') {
            let resolved = resolve_path(&format!("/x/{link}")).unwrap();
            assert_eq!(
                resolved.segments().collect::<Vec<_>>(),
                ["x", entry.name.as_str()]
            );
        }
    }
}

#[test]
fn dot_names_are_never_linked() {
    let entries = vec![file(".."), file("."), file(""), file("a/b"), file("...")];
    let html = render_html(
        "/d/",
        &entries,
        SortOrder::default(),
        true,
        false,
        Forms::default(),
        None,
    );
    let links: Vec<&str> = hrefs(&html)
        .into_iter()
        .filter(|h| !h.starts_with('?'))
        .collect();
    assert_eq!(links, ["..."]);
    let json = render_json("/d/", &entries, false);
    assert_eq!(json.matches("\"name\"").count(), 1);
}

#[test]
fn parent_link_except_at_root() {
    let entries = [file("a")];
    let root = render_html(
        "/",
        &entries,
        SortOrder::default(),
        true,
        false,
        Forms::default(),
        None,
    );
    assert!(!root.contains("../"));
    let sub = render_html(
        "/sub/",
        &entries,
        SortOrder::default(),
        false,
        false,
        Forms::default(),
        None,
    );
    assert!(sub.contains("<a href=\"../\">../</a>"));
    // A chosen order is kept in links up and down, not in file links.
    let order = sort_order(Some("sort=size&order=desc"));
    let dirs = [entry("d", Kind::Dir, 0, 0), file("f")];
    let sub = render_html("/sub/", &dirs, order, false, false, Forms::default(), None);
    assert!(sub.contains("href=\"../?sort=size&amp;order=desc\""));
    assert!(sub.contains("href=\"d/?sort=size&amp;order=desc\""));
    assert!(sub.contains("href=\"f\""));
}

#[test]
fn page_shape() {
    let entries = [
        entry("docs", Kind::Dir, 0, 1_700_000_000),
        entry("big.bin", Kind::File, 1234, 951_782_400),
        entry("link", Kind::Symlink, 0, 0),
    ];
    let order = SortOrder::default();
    let html = render_html(
        "/a%20b/",
        &entries,
        order,
        false,
        true,
        Forms::default(),
        None,
    );
    assert!(html.starts_with("<!doctype html>\n"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<meta name=\"viewport\""));
    assert!(html.contains("<title>Index of /a b/</title>"));
    assert!(html.contains("prefers-color-scheme:dark"));
    assert!(html.contains("<a href=\"docs/\">docs/</a>"));
    assert!(html.contains("<td class=\"size\" title=\"1234 bytes\">1.2 KiB</td>"));
    assert!(html.contains("<time datetime=\"2000-02-29T00:00:00Z\">2000-02-29 00:00</time>"));
    assert!(html.contains("2023-11-14 22:13"));
    assert!(html.contains("(symlink)"));
    assert!(html.contains("only 3 are shown"));
    // Header links: the sorted column flips, the others start in their
    // own first order.
    let heads: Vec<&str> = hrefs(&html)
        .into_iter()
        .filter(|h| h.starts_with('?'))
        .collect();
    assert_eq!(
        heads,
        [
            "?sort=name&amp;order=desc",
            "?sort=size&amp;order=desc",
            "?sort=modified&amp;order=desc"
        ]
    );
    assert!(html.contains("aria-sort=\"ascending\"><a href=\"?sort=name&amp;order=desc\">Name"));
    let desc = sort_order(Some("sort=size&order=desc"));
    let html = render_html("/", &entries, desc, true, false, Forms::default(), None);
    assert!(html.contains("aria-sort=\"descending\"><a href=\"?sort=size&amp;order=asc\">Size"));
    assert!(!html.contains("only"));
    // No external resources, no scripts.
    assert!(!html.contains("http:") && !html.contains("https:") && !html.contains("<script"));
}

#[test]
fn sort_orders() {
    let q = |s: &str| sort_order(Some(s));
    let o = |key, descending| SortOrder { key, descending };
    assert_eq!(sort_order(None), SortOrder::default());
    assert_eq!(q(""), o(SortKey::Name, false));
    assert_eq!(q("sort=size"), o(SortKey::Size, false));
    assert_eq!(q("sort=modified&order=desc"), o(SortKey::Modified, true));
    assert_eq!(q("order=DESC&sort=Size"), o(SortKey::Size, true));
    assert_eq!(q("sort=bogus&order=sideways"), o(SortKey::Name, false));
    assert_eq!(q("sort=%73ize&x=%zz"), o(SortKey::Size, false));
    assert_eq!(q("sort=name&order=desc"), o(SortKey::Name, true));

    let base = vec![
        entry("b.txt", Kind::File, 10, 300),
        entry("A.txt", Kind::File, 30, 100),
        entry("zdir", Kind::Dir, 0, 50),
        entry("c.txt", Kind::File, 10, 300),
        entry("adir", Kind::Dir, 0, 400),
        entry("a.txt", Kind::File, 20, 200),
        entry("link", Kind::Symlink, 0, 500),
        Entry {
            modified: None,
            ..entry("old", Kind::File, 5, 0)
        },
    ];
    let sorted = |order: &str| {
        let mut e = base.clone();
        sort(&mut e, q(order));
        names(&e).into_iter().map(String::from).collect::<Vec<_>>()
    };
    assert_eq!(
        sorted(""),
        [
            "adir", "zdir", "A.txt", "a.txt", "b.txt", "c.txt", "link", "old"
        ]
    );
    assert_eq!(
        sorted("order=desc"),
        [
            "zdir", "adir", "old", "link", "c.txt", "b.txt", "a.txt", "A.txt"
        ]
    );
    // Ties (b/c at 10 bytes, dirs and the symlink at 0) go by name.
    assert_eq!(
        sorted("sort=size"),
        [
            "adir", "zdir", "link", "old", "b.txt", "c.txt", "a.txt", "A.txt"
        ]
    );
    assert_eq!(
        sorted("sort=size&order=desc"),
        [
            "adir", "zdir", "A.txt", "a.txt", "b.txt", "c.txt", "old", "link"
        ]
    );
    // Unknown times sort as oldest.
    assert_eq!(
        sorted("sort=modified"),
        [
            "zdir", "adir", "old", "A.txt", "a.txt", "b.txt", "c.txt", "link"
        ]
    );
    assert_eq!(
        sorted("sort=modified&order=desc"),
        [
            "adir", "zdir", "link", "b.txt", "c.txt", "a.txt", "A.txt", "old"
        ]
    );
}

#[test]
fn sizes_and_dates() {
    assert_eq!(human_size(0), "0 B");
    assert_eq!(human_size(1023), "1023 B");
    assert_eq!(human_size(1024), "1.0 KiB");
    assert_eq!(human_size(1234), "1.2 KiB");
    assert_eq!(human_size(1024 * 1024 - 1), "1.0 MiB");
    assert_eq!(human_size(5 << 30), "5.0 GiB");
    assert_eq!(human_size(u64::MAX), "16.0 EiB");

    let utc = |secs| at(secs).and_then(Utc::new).map(Utc::rfc3339);
    assert_eq!(utc(0).unwrap(), "1970-01-01T00:00:00Z");
    assert_eq!(utc(-1).unwrap(), "1969-12-31T23:59:59Z");
    assert_eq!(utc(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
    assert_eq!(utc(1_709_210_096).unwrap(), "2024-02-29T12:34:56Z");
    assert_eq!(utc(253_402_300_799).unwrap(), "9999-12-31T23:59:59Z");
    assert_eq!(utc(-62_167_219_200).unwrap(), "0000-01-01T00:00:00Z");
    assert_eq!(utc(253_402_300_800), None);
    assert_eq!(utc(-62_167_219_201), None);
    let half_before = system_time(-1, 500_000_000).unwrap();
    assert_eq!(unix_seconds(half_before), Some(-1));
    assert_eq!(system_time(0, 1_000_000_000), None);
    let t = at(1_709_210_096).and_then(Utc::new).unwrap();
    assert_eq!(t.short(), "2024-02-29 12:34");
}

#[test]
fn json_escaping() {
    let mut s = String::new();
    json_string(&mut s, "q\"b\\s\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}\u{2028}é/");
    // DEL and U+2028 are not escaped (RFC 8259 does not ask it; the
    // document is never parsed as JavaScript).
    assert_eq!(
        s,
        "\"q\\\"b\\\\s\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}\u{2028}é/\""
    );
    // Non-ASCII is written as UTF-8; `/` is not escaped (the document is
    // served as application/json, never inside a script).
    let mut s = String::new();
    json_string(&mut s, "</script>😀\u{0}");
    assert_eq!(s, r#""</script>😀\u0000""#);
}

#[test]
fn json_shape() {
    let entries = [
        entry("sub", Kind::Dir, 0, 0),
        entry("a \"b\"\\c\n.txt", Kind::File, 42, 951_782_400),
        Entry {
            modified: None,
            ..entry("l", Kind::Symlink, 0, 0)
        },
    ];
    let json = render_json("/a%20b/", &entries, true);
    assert!(json.starts_with("{\"path\":\"/a%20b/\",\"entries\":["));
    assert!(json.contains(
        "{\"name\":\"sub\",\"href\":\"sub/\",\"type\":\"dir\",\"size\":null,\"modified\":\"1970-01-01T00:00:00Z\"}"
    ));
    assert!(json.contains(
        "{\"name\":\"a \\\"b\\\"\\\\c\\n.txt\",\"href\":\"a%20%22b%22%5Cc%0A.txt\",\"type\":\"file\",\"size\":42,\"modified\":\"2000-02-29T00:00:00Z\"}"
    ));
    assert!(json.contains("\"type\":\"symlink\",\"size\":null,\"modified\":null}"));
    assert!(json.ends_with("],\"truncated\":true}\n"));
    assert_eq!(
        render_json("/", &[], false),
        "{\"path\":\"/\",\"entries\":[\n],\"truncated\":false}\n"
    );
}

#[test]
fn json_parses_back() {
    let mut entries: Vec<Entry> = HOSTILE.iter().map(|n| file(n)).collect();
    entries.push(file("ctl\u{1}\u{1f}\u{7f}\\\"é😀"));
    entries.push(entry("d", Kind::Dir, 0, -5));
    let json = render_json("/p/", &entries, false);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["path"], "/p/");
    assert_eq!(v["truncated"], false);
    let listed = v["entries"].as_array().unwrap();
    assert_eq!(listed.len(), entries.len());
    for (got, want) in listed.iter().zip(&entries) {
        assert_eq!(got["name"], want.name.as_str());
        assert_eq!(got["href"], href(want).as_str());
    }
    assert_eq!(listed[0]["size"], 1);
    assert_eq!(listed[9]["type"], "dir");
    assert_eq!(listed[9]["size"], serde_json::Value::Null);
    assert_eq!(listed[9]["modified"], "1969-12-31T23:59:55Z");
    let empty: serde_json::Value = serde_json::from_str(&render_json("/", &[], true)).unwrap();
    assert_eq!(empty["entries"].as_array().unwrap().len(), 0);
}

#[test]
fn accept_negotiation() {
    let yes = [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json; CHARSET=\"UTF-8\"",
        "text/html;q=0.5, application/json",
        "application/*",
        "*/*;q=0.1, application/json",
        "text/*;q=0.2, application/json;q=0.3",
        "text/html;q=0, */*",
        "application/json, text/html;q=abc",
        "application/json;q=1.000",
        "application/json;q=0.9;q=abc, text/html;q=0.8;;",
    ];
    let json = |accept: &str| wants_json(&Accept::parse([accept.as_bytes()]));
    for accept in yes {
        assert!(json(accept), "{accept}");
    }
    let no = [
        "",
        "text/html",
        "text/html,application/json;q=0.9",
        "application/json, text/html",
        "text/html, application/json",
        "*/*",
        "*",
        "application/json;q=abc",
        "application/json;q=1.5",
        "application/json;q=0.1234",
        "application/json;q=",
        "application/json;q=0",
        "application/json;q=0.5, text/*",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/json;q=0.5, application/json;q=0.9, */*;q=0.7",
        ",,;;==//",
        "application/json; charset=latin1",
    ];
    for accept in no {
        assert!(!json(accept), "{accept}");
    }
    // No field at all: HTML. So is a field on two lines that ties.
    assert!(!wants_json(&Accept::parse([])));
    assert!(!wants_json(&Accept::parse([
        &b"text/html"[..],
        b"application/json"
    ])));
    assert!(wants_json(&Accept::parse([
        &b"text/html;q=0.5"[..],
        b"application/json"
    ])));
}

/// A temp dir with two files, a subdirectory, a dotfile and symlinks.
fn tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("b.txt"), "hello").unwrap();
    std::fs::write(root.join("a b.txt"), "").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/inner"), "x").unwrap();
    std::fs::write(root.join(".env"), "KEY=1").unwrap();
    symlink("/etc/passwd", root.join("out")).unwrap();
    symlink("sub", root.join("subl")).unwrap();
    let mtime = UNIX_EPOCH + Duration::from_secs(951_782_400);
    File::options()
        .write(true)
        .open(root.join("b.txt"))
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    tmp
}

fn read(dir: &impl AsFd, hidden: bool, max: usize) -> (Vec<Entry>, bool) {
    let (mut entries, truncated) = read_entries(dir, hidden, max).unwrap();
    sort(&mut entries, SortOrder::default());
    (entries, truncated)
}

#[test]
fn reads_a_directory() {
    let tmp = tree();
    let dir = File::open(tmp.path()).unwrap();
    let (entries, truncated) = read(&dir, false, 100);
    assert!(!truncated);
    assert_eq!(names(&entries), ["sub", "a b.txt", "b.txt", "out", "subl"]);
    let by_name = |n: &str| entries.iter().find(|e| e.name == n).unwrap();
    assert_eq!(by_name("sub").kind, Kind::Dir);
    assert_eq!(by_name("sub").size, 0);
    assert_eq!(by_name("b.txt").kind, Kind::File);
    assert_eq!(by_name("b.txt").size, 5);
    assert_eq!(by_name("b.txt").modified, at(951_782_400));
    // Symlinks are listed as symlinks, never followed.
    assert_eq!(by_name("out").kind, Kind::Symlink);
    assert_eq!(by_name("subl").kind, Kind::Symlink);
    assert!(!by_name("subl").is_dir());
    assert_eq!(by_name("out").size, 0);

    let (entries, _) = read(&dir, true, 100);
    assert_eq!(
        names(&entries),
        ["sub", ".env", "a b.txt", "b.txt", "out", "subl"]
    );
    // Reading twice through the same handle gives the same listing.
    assert_eq!(read(&dir, true, 100).0, entries);

    // An O_PATH handle, as the root is held on Linux, works too.
    #[cfg(target_os = "linux")]
    {
        let path_fd = rustix::fs::open(
            tmp.path(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        assert_eq!(read(&path_fd, true, 100).0, entries);
    }

    // A regular file is not a directory.
    let not_dir = File::open(tmp.path().join("b.txt")).unwrap();
    let err = read_entries(&not_dir, false, 100).unwrap_err();
    assert_eq!(Errno::from_io_error(&err), Some(Errno::NOTDIR));
}

#[test]
fn reading_is_bounded() {
    let tmp = tree();
    let dir = File::open(tmp.path()).unwrap();
    // Six names in all, the dotfile included.
    let (entries, truncated) = read(&dir, true, 6);
    assert_eq!((entries.len(), truncated), (6, false));
    let (entries, truncated) = read(&dir, true, 3);
    assert_eq!((entries.len(), truncated), (3, true));
    let (entries, truncated) = read(&dir, false, 6);
    assert_eq!((entries.len(), truncated), (5, false));
    let (entries, truncated) = read(&dir, true, 0);
    assert_eq!((entries.len(), truncated), (0, true));
    let empty = tempfile::tempdir().unwrap();
    let (entries, truncated) = read(&File::open(empty.path()).unwrap(), true, 0);
    assert_eq!((entries.len(), truncated), (0, false));
}

async fn body(res: Response) -> String {
    let bytes = res.into_body().collect(1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn responses() {
    let tmp = tree();
    let dir = File::open(tmp.path()).unwrap();
    let header = |res: &Response, name: header::HeaderName| {
        res.headers()
            .get(name)
            .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
    };

    let root = resolve_path("/").unwrap();
    let res = response(
        &dir,
        &root,
        Shown {
            prefix: "",
            query: Some("sort=size&order=desc"),
            accept: Accept::default(),
            hidden: false,
            forms: Forms::default(),
            readme: false,
        },
    );
    assert_eq!(res.status(), StatusCode::OK);
    let html = "text/html; charset=utf-8";
    assert_eq!(header(&res, header::CONTENT_TYPE).as_deref(), Some(html));
    assert_eq!(header(&res, header::VARY).as_deref(), Some("Accept"));
    assert!(header(&res, header::CONTENT_SECURITY_POLICY).is_some());
    let page = body(res).await;
    assert!(page.contains("<title>Index of /</title>"));
    assert!(!page.contains("../") && !page.contains(".env"));
    let tmp_name = tmp.path().to_str().unwrap();
    assert!(!page.contains(tmp_name));
    let order = ["sub/", "b.txt", "a%20b.txt", "out", "subl"];
    let links: Vec<&str> = hrefs(&page)
        .into_iter()
        .filter(|h| !h.starts_with('?'))
        .map(|h| h.split('?').next().unwrap())
        .collect();
    assert_eq!(links, order);

    let sub = resolve_path("/a%20b/c/").unwrap();
    let accept = Accept::parse([&b"application/json"[..]]);
    let res = response(
        &dir,
        &sub,
        Shown {
            prefix: "",
            query: Some("order=desc"),
            accept,
            hidden: true,
            forms: Forms::default(),
            readme: false,
        },
    );
    let json = "application/json";
    assert_eq!(header(&res, header::CONTENT_TYPE).as_deref(), Some(json));
    let text = body(res).await;
    assert!(text.starts_with("{\"path\":\"/a%20b/c/\""));
    let at = |name: &str| text.find(&format!("\"name\":\"{name}\"")).unwrap();
    assert!(at("sub") < at("subl") && at("subl") < at("out") && at("b.txt") < at(".env"));
    assert!(!text.contains(tmp_name));

    let res = response(
        &dir,
        &sub,
        Shown {
            prefix: "",
            query: None,
            accept: Accept::default(),
            hidden: false,
            forms: Forms::default(),
            readme: false,
        },
    );
    assert!(body(res).await.contains("<a href=\"../\">../</a>"));

    let not_dir = File::open(tmp.path().join("b.txt")).unwrap();
    let res = response(
        &not_dir,
        &root,
        Shown {
            prefix: "",
            query: None,
            accept: Accept::default(),
            hidden: false,
            forms: Forms::default(),
            readme: false,
        },
    );
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body(res).await.contains(tmp_name));
}
