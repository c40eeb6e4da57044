//! The config file's `[[rules]]` and the cache policy, through the real
//! binary over sockets: redirects (captures, percent-encoding, no open
//! redirect), rewrites (and that they never leave ROOT), header rules over
//! the default `Cache-Control`, refusals at start-up.

mod support;

use std::path::Path;

use support::{Berth, Client, Resp, run_berth_to_exit, spawn_berth};

const REVALIDATE: &str = "max-age=0, must-revalidate";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const OUTSIDE: &str = "outside ROOT\n";

/// A fingerprinted-asset site in `site/`, `outside.txt` beside it.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    for (name, text) in [
        ("index.html", "<h1>home</h1>\n"),
        ("assets/app.3f2a.js", "run()\n"),
        ("app/index.html", "<h1>app</h1>\n"),
        ("documentation/intro.html", "<h1>intro</h1>\n"),
        ("new/page.html", "<h1>new</h1>\n"),
        ("files/a.txt", "a\n"),
        (".secret", "SECRET\n"),
    ] {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::write(dir.path().join("outside.txt"), OUTSIDE).unwrap();
    dir
}

const RULES: &str = r#"
[[rules]]
path = "/assets/**"
headers = { "Cache-Control" = "public, max-age=31536000, immutable" }

[[rules]]
path = "/old/*"
redirect = "/new/$1"

[[rules]]
regex = '^/docs/(?<name>[^/]+)$'
rewrite = "/documentation/${name}.html"

[[rules]]
path = "/app/**"
rewrite = "/app/index.html"

[[rules]]
path = "/moved"
redirect = "https://other.example/here"
status = 308

[[rules]]
regex = '^(.*)/legacy$'
redirect = "/$1"
status = 302

[[rules]]
regex = '^/r/(\.)x(\.)$'
rewrite = "/$1$2/$1$2/outside.txt"

[[rules]]
path = "/p/**"
rewrite = "/$1"
"#;

/// berth serving `site/` of `dir` with `config` as its config file and
/// `args`.
fn serve(dir: &Path, config: &str, args: &[&str]) -> Berth {
    std::fs::write(dir.join("berth.toml"), config).unwrap();
    let mut all = vec!["--port", "0", "-q", "--config", "berth.toml"];
    all.extend_from_slice(args);
    all.push("site");
    spawn_berth(&all, &[], dir)
}

fn get(b: &Berth, target: &str, headers: &str) -> Resp {
    let mut c = Client::connect(b.addr);
    c.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n"))
}

#[test]
fn redirects_fill_in_captures_and_stay_on_the_host() {
    let dir = site();
    let b = serve(dir.path(), RULES, &[]);
    let location = |target: &str| {
        let r = get(&b, target, "");
        (r.status, r.header("location").map(str::to_string))
    };
    let to = |status, location: &str| (status, Some(location.to_string()));
    assert_eq!(location("/old/page.html"), to(301, "/new/page.html"));
    // Matched on the decoded, normalized path; the query is kept.
    assert_eq!(
        location("/%6Fld/page.html?v=2"),
        to(301, "/new/page.html?v=2")
    );
    assert_eq!(location("/x/../old/page.html"), to(301, "/new/page.html"));
    // Captures are percent-encoded: the Location is one valid URI.
    assert_eq!(location("/old/a%20b%3Fc%25"), to(301, "/new/a%20b%3Fc%25"));
    assert_eq!(location("/old/caf%C3%A9"), to(301, "/new/caf%C3%A9"));
    // Only an absolute target written in the file leaves the host.
    assert_eq!(location("/moved"), to(308, "https://other.example/here"));
    // A capture cannot make a path target protocol-relative.
    assert_eq!(location("//evil.example/legacy"), to(302, "/evil.example"));
    assert_eq!(location("/%2Fevil.example/legacy").0, 400);
    // The redirect is followed to a file.
    let r = get(&b, "/new/page.html", "");
    assert_eq!((r.status, r.body_str()), (200, "<h1>new</h1>\n"));
    // HEAD gets the same redirect.
    let mut c = Client::connect(b.addr);
    c.send("HEAD /old/page.html HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read_head_response();
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/new/page.html"));
}

#[test]
fn rewrites_serve_another_path_and_never_leave_root() {
    let dir = site();
    let b = serve(dir.path(), RULES, &[]);
    let r = get(&b, "/docs/intro", "");
    assert_eq!((r.status, r.body_str()), (200, "<h1>intro</h1>\n"));
    assert_eq!(r.header("location"), None);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    for path in ["/app/", "/app/users/42", "/app/a/b/c?tab=1"] {
        let r = get(&b, path, "");
        assert_eq!((r.status, r.body_str()), (200, "<h1>app</h1>\n"), "{path}");
    }
    assert_eq!(get(&b, "/docs/missing", "").status, 404);
    // Captures that spell `..` are resolved beneath ROOT like any path:
    // `/../../outside.txt` climbs above it and is refused.
    let r = get(&b, "/r/.x.", "");
    assert_eq!(r.status, 400, "{r:?}");
    assert!(!r.body_str().contains(OUTSIDE.trim()));
    // `..` in the request is resolved before any rule sees it.
    for path in ["/p/../../outside.txt", "/p/%2e%2e/%2e%2e/outside.txt"] {
        let r = get(&b, path, "");
        assert_eq!(r.status, 400, "{path}: {r:?}");
    }
    // A rewrite into a hidden file is refused like a request for it.
    assert_eq!(get(&b, "/p/.secret", "").status, 404);
    let r = get(&b, "/p/files/a.txt", "");
    assert_eq!((r.status, r.body_str()), (200, "a\n"));
}

#[test]
fn cache_policy_by_default_and_with_rules() {
    let dir = site();
    let b = serve(
        dir.path(),
        RULES,
        &["--listing", "--header", "Cache-Control: private"],
    );
    // --header replaces every response's, and a rule replaces --header's.
    let r = get(&b, "/assets/app.3f2a.js", "");
    assert_eq!(r.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(
        get(&b, "/index.html", "").header("cache-control"),
        Some("private")
    );
    drop(b);

    let b = serve(dir.path(), RULES, &["--listing"]);
    let r = get(&b, "/index.html", "");
    assert_eq!(
        (r.status, r.header("cache-control")),
        (200, Some(REVALIDATE))
    );
    let etag = r.header("etag").unwrap().to_string();
    // A 304 carries the policy the 200 would (RFC 9110 §15.4.5).
    let r = get(&b, "/index.html", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(
        (r.status, r.header("cache-control")),
        (304, Some(REVALIDATE))
    );
    let r = get(&b, "/index.html", "Range: bytes=1-2\r\n");
    assert_eq!(
        (r.status, r.header("cache-control")),
        (206, Some(REVALIDATE))
    );
    // A fingerprinted asset and its 304: immutable.
    let r = get(&b, "/assets/app.3f2a.js", "");
    assert_eq!(r.header("cache-control"), Some(IMMUTABLE));
    let etag = r.header("etag").unwrap().to_string();
    let r = get(
        &b,
        "/assets/app.3f2a.js",
        &format!("If-None-Match: {etag}\r\n"),
    );
    assert_eq!(
        (r.status, r.header("cache-control")),
        (304, Some(IMMUTABLE))
    );
    // Errors and listings: never the file policy, never a rule's.
    for path in ["/assets/missing.js", "/nope.html", "/files/", "/.secret"] {
        let r = get(&b, path, "");
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}: {r:?}");
    }
    assert_eq!(get(&b, "/files/", "").status, 200);
    // A rewritten file gets the file policy.
    let r = get(&b, "/docs/intro", "");
    assert_eq!(r.header("cache-control"), Some(REVALIDATE));
    drop(b);

    // --cache-control replaces the default for files only.
    let b = serve(
        dir.path(),
        "",
        &["--listing", "--cache-control", "max-age=60"],
    );
    assert_eq!(
        get(&b, "/index.html", "").header("cache-control"),
        Some("max-age=60")
    );
    assert_eq!(
        get(&b, "/files/", "").header("cache-control"),
        Some("no-cache")
    );
    assert_eq!(
        get(&b, "/nope", "").header("cache-control"),
        Some("no-cache")
    );
}

#[test]
fn bad_rules_stop_berth_with_one_line_naming_the_rule() {
    let dir = site();
    for (rules, needles) in [
        (
            "[[rules]]\npath = \"/old/*\"\nredirect = \"/new/$2\"",
            &["berth.toml", "rule 1 (path \"/old/*\")", "$2"][..],
        ),
        (
            "[[rules]]\npath = \"/a\"\nheaders = { X = \"1\" }\n\
             [[rules]]\npath = \"/p/*\"\nrewrite = \"/../$1\"",
            &["rule 2 (path \"/p/*\")", ".."],
        ),
        (
            "[[rules]]\npath = \"/a/*\"\nredirect = \"https://$1.example/\"",
            &["rule 1", "host"],
        ),
        (
            "[[rules]]\nregex = \"(\"\nredirect = \"/b\"",
            &["rule 1 (regex \"(\")", "invalid regex"],
        ),
        ("rules = \"x\"", &["`rules` must be an array"]),
    ] {
        std::fs::write(dir.path().join("berth.toml"), rules).unwrap();
        let (code, stderr) =
            run_berth_to_exit(&["--config", "berth.toml", "site"], &[], dir.path());
        assert_eq!(code, Some(2), "{rules}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{rules}: {stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{rules}: {needle} in {stderr}");
        }
    }
}
