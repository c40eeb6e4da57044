//! Unit tests of the README below a listing: the scheme check, the
//! Markdown filter against hostile input (every tag and attribute of the
//! output checked against what the writer may produce), and finding and
//! reading the file through the directory handle.

use std::fs::File;
use std::os::unix::fs::symlink;

use proptest::prelude::*;

use super::*;
use crate::serve_dir::listing::{SortOrder, read_entries, sort};

fn render(markdown: &str) -> String {
    let mut out = String::new();
    render_markdown(&mut out, markdown);
    out
}

/// A tag of the output: its name (`/p` for an end tag) and attributes,
/// values as written (entities not decoded).
#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
}

/// Every tag in `html`, read as a browser would tokenize this writer's
/// output (attribute values always double-quoted). Panics on anything
/// else, such as a `<` that starts no tag.
fn elements(html: &str) -> Vec<Element> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end_tag = rest.starts_with('/');
        let body = rest.trim_start_matches('/');
        let name_len = body
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(body.len());
        assert!(name_len > 0, "a `<` that starts no tag: {rest:?}");
        let mut element = Element {
            name: format!("{}{}", if end_tag { "/" } else { "" }, &body[..name_len]),
            attrs: Vec::new(),
        };
        let mut attrs = &body[name_len..];
        loop {
            attrs = attrs.trim_start();
            if let Some(after) = attrs.strip_prefix("/>").or(attrs.strip_prefix('>')) {
                rest = after;
                break;
            }
            let name_len = attrs
                .find(['=', ' ', '/', '>'])
                .expect("an unterminated tag");
            let name = attrs[..name_len].to_owned();
            attrs = &attrs[name_len..];
            let value = match attrs.strip_prefix("=\"") {
                Some(quoted) => {
                    let close = quoted.find('"').expect("an unterminated value");
                    attrs = &quoted[close + 1..];
                    quoted[..close].to_owned()
                }
                None => String::new(),
            };
            element.attrs.push((name, value));
        }
        found.push(element);
    }
    found
}

/// What pulldown-cmark's writer emits with berth's options.
const TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "input",
    "sup",
    "div",
];

/// Asserts that every tag of `html` is one the writer makes from Markdown,
/// with only the attributes it writes, and that every `href` and `src` is
/// safe once its entities are decoded.
fn assert_harmless(html: &str) {
    for element in elements(html) {
        let name = element.name.trim_start_matches('/');
        assert!(TAGS.contains(&name), "<{}> in {html}", element.name);
        for (attr, value) in &element.attrs {
            let allowed = match attr.as_str() {
                "href" | "src" => {
                    let url = value
                        .replace("&#x27;", "'")
                        .replace("&quot;", "\"")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&");
                    assert!(!url.contains("&#"), "an entity left in {value:?}");
                    safe_url(&url)
                }
                "alt" | "title" | "class" | "id" | "start" => true,
                "style" => value.starts_with("text-align: "),
                "type" => value == "checkbox",
                "disabled" | "checked" => value.is_empty(),
                _ => false,
            };
            assert!(allowed, "{attr}={value:?} on <{}> in {html}", element.name);
        }
    }
}

#[test]
fn schemes() {
    for safe in [
        "",
        "docs/",
        "./a b",
        "#usage",
        "?q=1",
        "//example.com/x",
        "/abs",
        "http://example.com/",
        "HTTPS://example.com/",
        "mailto:a@example.com",
        "MailTo:a@example.com",
        "a/javascript:alert(1)",
        "java%0ascript:alert(1)",
        "%6Aavascript:alert(1)",
        "ｊavascript:alert(1)",
        "1http://x",
        "javascript",
    ] {
        assert!(safe_url(safe), "{safe:?}");
    }
    for unsafe_ in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "\u{1}javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\r\njavascript:alert(1)",
        "javascript\t:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "DATA:image/svg+xml,x",
        "file:///etc/passwd",
        "blob:https://x/y",
        "x-evil+1.0:thing",
        "ftp://example.com/",
    ] {
        assert!(!safe_url(unsafe_), "{unsafe_:?}");
    }
}

/// The issue's hostile README, and its variations.
const HOSTILE: &str = "# Title

<script>alert(1)</script>

<img src=x onerror=alert(1)>

Inline <img src=x onerror=alert(2)> and <b onclick=alert(3)>bold</b>.

<iframe src=\"https://evil.example/\"></iframe>

[one](javascript:alert(1))
[two](JaVaScRiPt&#58;alert(1))
[three](&#x6A;avascript:alert(1))
[four](<java\tscript:alert(1)>)
[five](<&#1;javascript:alert(1)>)
[six](vbscript:msgbox(1))
[seven][ref]

[ref]: javascript:alert(7)

![pic](data:text/html,<script>alert(1)</script>)
![pic2](DATA:image/svg+xml;base64,PHN2Zz4=)

<javascript:alert(1)>

Code: `<script>alert(1)</script>` and

```html
<iframe src=\"x\"></iframe>
```

[link \"title\"](https://example.com/ \"t\\\"itle onmouseover=alert(1)\")
";

#[test]
fn hostile_markdown_is_inert() {
    let html = render(HOSTILE);
    assert_harmless(&html);
    let lower = html.to_ascii_lowercase();
    for needle in ["<script", "<iframe", "<b ", "onerror=alert(1)>", "data:"] {
        if needle == "data:" {
            assert!(!lower.contains("src=\"data:"), "{needle} in {html}");
        } else {
            assert!(!lower.contains(needle), "{needle} in {html}");
        }
    }
    // Raw HTML is shown, escaped: blocks as code, inline as text.
    assert!(html.contains("<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
    // Dropped links keep their text; the autolink is its text.
    for text in ["one", "two", "three", "four", "five", "six", "seven"] {
        assert!(html.contains(&format!("{text}\n")) || html.contains(&format!("{text}</p>")));
    }
    assert!(html.contains("<p>javascript:alert(1)</p>"), "{html}");
    assert!(!html.contains("<a href=\"javascript"));
    // A dropped image is its alt text.
    assert!(html.contains("<p>pic\npic2</p>"), "{html}");
    // The title stays inside its attribute.
    assert!(html.contains("title=\"t&quot;itle onmouseover=alert(1)\""));
}

#[test]
fn safe_markdown_renders() {
    let html = render(
        "# Hi\n\nSee [docs](docs/), [site](https://example.com/?a=1&b=2), \
         <https://example.com/auto>, <a@example.com>, ![shot](img/shot.png \"Shot\").\n\n\
         | a | b |\n|:--|--:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~old~~ text[^1]\n\n\
         [^1]: A note.\n",
    );
    assert_harmless(&html);
    assert!(html.contains("<h1>Hi</h1>"));
    assert!(html.contains("<a href=\"docs/\">docs</a>"));
    assert!(html.contains("<a href=\"https://example.com/?a=1&amp;b=2\">site</a>"));
    assert!(html.contains("<a href=\"https://example.com/auto\">"));
    assert!(html.contains("<a href=\"mailto:a@example.com\">a@example.com</a>"));
    assert!(html.contains("<img src=\"img/shot.png\" alt=\"shot\" title=\"Shot\" />"));
    assert!(html.contains("<table>") && html.contains("style=\"text-align: right\""));
    assert!(html.contains("type=\"checkbox\" checked=\"\""));
    assert!(html.contains("<del>old</del>"));
    assert!(html.contains("class=\"footnote-definition\""));
    // Heading attributes are not an extension here: the text stays text.
    let html = render("# Head {#x .y onclick=z}\n");
    assert!(html.contains("<h1>Head {#x .y onclick=z}</h1>"), "{html}");
}

/// Pieces hostile READMEs are made of, to be put together at random.
const PIECES: &[&str] = &[
    "<script>",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<iframe src=x>",
    "javascript:",
    "JaVaScRiPt&#58;",
    "&#x6A;avascript:",
    "data:text/html,",
    "vbscript:",
    "[",
    "]",
    "(",
    ")",
    "![",
    "<",
    ">",
    "\"",
    "'",
    "`",
    "```",
    "\n",
    "\n\n",
    "    ",
    "\t",
    "&#1;",
    "&amp;",
    "\\",
    "*",
    "_",
    "[r]: ",
    "[r]",
    "[^1]",
    "[^1]: ",
    "| a |\n|---|\n",
    "- [ ] ",
    "> ",
    "# ",
    "alert(1)",
    "https://x/",
    "a@b.c",
    "<!-- ",
    " -->",
    "<?php ",
    "<![CDATA[",
    "{#id .class}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the README, the output's tags and attributes are only
    /// those the writer makes, and every URL in it is safe.
    #[test]
    fn any_readme_is_inert(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..40)) {
        let markdown: String = pieces.concat();
        assert_harmless(&render(&markdown));
    }
}

fn file(name: &str) -> Entry {
    Entry {
        name: name.into(),
        kind: Kind::File,
        size: 1,
        modified: None,
    }
}

#[test]
fn which_file() {
    let dir = |name: &str, kind| Entry { kind, ..file(name) };
    assert_eq!(
        choose(&[file("a"), file("README.md")], false),
        Some("README.md")
    );
    assert_eq!(choose(&[file("readme.md")], false), Some("readme.md"));
    assert_eq!(choose(&[file("Readme.MD")], false), Some("Readme.MD"));
    // The exact name wins wherever it is.
    let both = [file("readme.md"), file("ReadMe.md"), file("README.md")];
    assert_eq!(choose(&both, false), Some("README.md"));
    let two = [file("readme.md"), file("ReadMe.md")];
    assert_eq!(choose(&two, false), Some("readme.md"));
    // Only a regular file.
    for kind in [Kind::Dir, Kind::Symlink, Kind::Other] {
        assert_eq!(choose(&[dir("README.md", kind)], false), None);
    }
    assert_eq!(
        choose(&[file("README.markdown"), file("README")], false),
        None
    );
    assert_eq!(choose(&[], false), None);
    // A truncated listing may have left it unread.
    assert_eq!(choose(&[file("a")], true), Some("README.md"));
}

/// The README found in the directory at `path`, as the listing finds it.
fn find(path: &std::path::Path) -> Option<Readme> {
    let dir = File::open(path).unwrap();
    let (mut entries, truncated) = read_entries(&dir, false, 100).unwrap();
    sort(&mut entries, SortOrder::default());
    Readme::find(&dir, &entries, truncated)
}

#[test]
fn found_and_read_through_the_handle() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    assert_eq!(find(root), None);

    std::fs::write(root.join("readme.md"), b"\xef\xbb\xbf# Hello\n\xff").unwrap();
    let readme = find(root).unwrap();
    assert!(readme.style().starts_with("<style>"));
    let section = readme.section();
    assert!(
        section.starts_with(
            "<section class=\"readme\">\n<h2><a href=\"readme.md\">readme.md</a></h2>"
        )
    );
    // The byte-order mark is dropped, a bad byte is U+FFFD.
    assert!(
        section.contains("<h1>Hello</h1>\n<p>\u{fffd}</p>"),
        "{section}"
    );

    // Exactly the limit is rendered, one byte more is not.
    let limit = usize::try_from(MAX_README_BYTES).unwrap();
    std::fs::write(root.join("readme.md"), "a".repeat(limit)).unwrap();
    assert!(find(root).unwrap().section().contains("<p>aaaa"));
    std::fs::write(root.join("readme.md"), "a".repeat(limit + 1)).unwrap();
    let section = find(root).unwrap().section().to_owned();
    assert!(section.contains("larger than 1 MiB"), "{section}");
    assert!(!section.contains("aaaa"));
    std::fs::remove_file(root.join("readme.md")).unwrap();

    // A symlink is not followed, even to a file beside it.
    std::fs::write(root.join("notes.md"), "# Notes\n").unwrap();
    symlink("notes.md", root.join("README.md")).unwrap();
    assert_eq!(find(root), None);
    // Nor is one to a file outside.
    std::fs::remove_file(root.join("README.md")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.md"), "# Secret\n").unwrap();
    symlink(outside.path().join("secret.md"), root.join("README.md")).unwrap();
    assert_eq!(find(root), None);
    // Read by name, the open refuses it too.
    let dir = File::open(root).unwrap();
    let err = read(&dir, "README.md").unwrap_err();
    assert_eq!(
        rustix::io::Errno::from_io_error(&err),
        Some(rustix::io::Errno::LOOP)
    );
    std::fs::remove_file(root.join("README.md")).unwrap();

    // A directory of that name is not a README.
    std::fs::create_dir(root.join("README.md")).unwrap();
    assert_eq!(find(root), None);
    assert_eq!(read(&dir, "README.md").unwrap(), None);
}

#[tokio::test]
async fn in_the_html_listing_only() {
    use crate::serve_dir::listing::{Forms, Shown, response};
    use crate::serve_dir::resolve_path;
    use crate::syntax::Accept;

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("README.md"),
        "# Read me\n<script>x</script>\n",
    )
    .unwrap();
    let dir = File::open(tmp.path()).unwrap();
    let root = resolve_path("/").unwrap();
    let listing = |accept, readme| {
        let res = response(
            &dir,
            &root,
            Shown {
                prefix: "",
                query: None,
                accept,
                hidden: false,
                forms: Forms::default(),
                readme,
            },
        );
        let policy = res.headers()[http::header::CONTENT_SECURITY_POLICY].clone();
        assert_eq!(policy, crate::serve_dir::listing::POLICY);
        async move {
            let bytes = res.into_body().collect(1 << 20).await.unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        }
    };
    let page = listing(Accept::default(), true).await;
    let style = page.find(".readme{").unwrap();
    let head_end = page.find("</head>").unwrap();
    let table_end = page.find("</table>").unwrap();
    let section = page.find("<section class=\"readme\">").unwrap();
    assert!(style < head_end && table_end < section, "{page}");
    assert!(page[section..].starts_with(
        "<section class=\"readme\">\n<h2><a href=\"README.md\">README.md</a></h2>\n\
         <article>\n<h1>Read me</h1>\n<pre><code>&lt;script&gt;x&lt;/script&gt;\n"
    ));
    assert!(page.ends_with("</article>\n</section>\n</main>\n</body>\n</html>\n"));
    assert!(!page.contains("<script"));
    // Off, or as JSON: no README.
    let page = listing(Accept::default(), false).await;
    assert!(!page.contains("readme") && !page.contains("Read me"));
    let json = listing(Accept::parse([&b"application/json"[..]]), true).await;
    assert!(json.contains("\"name\":\"README.md\"") && !json.contains("Read me"));
}
