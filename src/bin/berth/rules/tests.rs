//! Unit tests of rules: parsing and its one-line errors, glob captures,
//! targets, routing and header rules.

use super::*;

fn rules(toml: &str) -> Result<Rules, String> {
    let table: toml::Table = toml.parse().map_err(|e| format!("{e}"))?;
    parse(&table["rules"])
}

fn glob(text: &str) -> Pattern {
    Pattern::glob(text).unwrap()
}

/// `$1`, `$2`... of `pattern` for `path` (`None`: no match).
fn caps(pattern: &Pattern, path: &str) -> Option<Vec<String>> {
    let groups = pattern.regex_captures_len();
    let c = pattern.captures(path)?;
    let template = (1..groups)
        .map(|i| format!("[${{{i}}}]"))
        .collect::<String>();
    let t = Template::parse(&template, pattern).unwrap();
    let out = t.expand(Some(&c));
    Some(
        out.split_terminator(']')
            .map(|s| s.trim_start_matches('[').to_string())
            .collect(),
    )
}

#[test]
fn globs_match_as_globset_says() {
    let assets = glob("/assets/**");
    for path in ["/assets/a.js", "/assets/x/y.css", "/assets/"] {
        assert!(assets.is_match(path), "{path}");
    }
    for path in ["/assets", "/assetsx/a", "/x/assets/a"] {
        assert!(!assets.is_match(path), "{path}");
    }
    let old = glob("/old/*");
    assert!(old.is_match("/old/a.html"));
    assert!(!old.is_match("/old/a/b"));
    let png = glob("**/*.png");
    assert!(png.is_match("/a/b/c.png") && png.is_match("/c.png"));
    assert!(!png.is_match("/c.pngx"));
    let alt = glob("/{en,fr}/?.[ch]tml");
    assert!(alt.is_match("/en/a.html") && !alt.is_match("/fr/b.chtml"));
    assert!(alt.is_match("/fr/b.ctml"));
    assert!(!alt.is_match("/de/a.html"));
    // A literal `*` or `.` stays literal.
    let lit = glob(r"/a\*b.c");
    assert!(lit.is_match("/a*b.c") && !lit.is_match("/axb.c") && !lit.is_match("/a*bxc"));
    // Non-ASCII literals (escaped as bytes by globset).
    let cafe = glob("/café/*");
    assert_eq!(caps(&cafe, "/café/menü"), Some(vec!["men%C3%BC".into()]));
}

#[test]
fn each_star_and_double_star_captures_in_order() {
    assert_eq!(
        caps(&glob("/old/*"), "/old/a.html"),
        Some(vec!["a.html".into()])
    );
    assert_eq!(caps(&glob("/old/*"), "/old/"), Some(vec![String::new()]));
    assert_eq!(
        caps(&glob("/a/**/b/*.js"), "/a/x/y/b/app.js"),
        Some(vec!["x/y".into(), "app".into()])
    );
    // `**/` that matched nothing took no part: empty.
    assert_eq!(
        caps(&glob("/a/**/b/*.js"), "/a/b/app.js"),
        Some(vec![String::new(), "app".into()])
    );
    assert_eq!(caps(&glob("/**"), "/x/y"), Some(vec!["x/y".into()]));
    assert_eq!(caps(&glob("**"), "/x/y"), Some(vec!["/x/y".into()]));
    assert_eq!(
        caps(&glob("**/*.png"), "/a/b/c.png"),
        Some(vec!["/a/b".into(), "c".into()])
    );
    // Each takes as much as it can, left to right (as in a regex).
    assert_eq!(
        caps(&glob("/{docs,guide}/*-*"), "/guide/a-b-c"),
        Some(vec!["a-b".into(), "c".into()])
    );
    // `?` and classes do not capture.
    assert_eq!(caps(&glob("/v?/[a-z]*"), "/v2/xy"), Some(vec!["y".into()]));
}

#[test]
fn the_globset_regex_format_is_as_with_captures_expects() {
    // `with_captures` relies on these shapes; a globset that emits others
    // must fail here, not silently capture the wrong thing.
    let regex = |g: &str| {
        globset::GlobBuilder::new(g)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .unwrap()
            .regex()
            .to_string()
    };
    assert_eq!(regex("/old/*"), "(?-u)^/old/[^/]*$");
    assert_eq!(regex("/a/**"), "(?-u)^/a/.*$");
    assert_eq!(regex("/a/**/b"), "(?-u)^/a(?:/|/.*/)b$");
    assert_eq!(regex("**/b"), "(?-u)^(?:/?|.*/)b$");
    assert_eq!(regex(r"/a.\*"), r"(?-u)^/a\.\*$");
    assert_eq!(
        with_captures_of("/a/**/b/*"),
        "(?-u)^/a(?:/|/(.*)/)b/([^/]*)$"
    );
}

fn with_captures_of(glob: &str) -> String {
    let compiled = globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .unwrap();
    pattern::with_captures(compiled.regex())
}

#[test]
fn regex_captures_by_number_and_name() {
    let p = Pattern::regex(r"^/blog/(\d{4})/(?<slug>[^/]+)$").unwrap();
    let t = Template::parse("/posts/$1-${slug}/$slug.html", &p).unwrap();
    let c = p.captures("/blog/2024/hello world").unwrap();
    assert_eq!(
        t.expand(Some(&c)),
        "/posts/2024-hello%20world/hello%20world.html"
    );
    assert!(p.captures("/blog/24/x").is_none());
}

#[test]
fn captures_are_percent_encoded_but_slashes() {
    let p = Pattern::regex("^/r/(.*)$").unwrap();
    let t = Template::parse("/n/$1", &p).unwrap();
    let c = p.captures("/r/a b/c?d#e%f\\g/é").unwrap();
    assert_eq!(t.expand(Some(&c)), "/n/a%20b/c%3Fd%23e%25f%5Cg/%C3%A9");
    let t = Template::parse("/n/$$1/$1$$", &p).unwrap();
    let c = p.captures("/r/x").unwrap();
    assert_eq!(t.expand(Some(&c)), "/n/$1/x$");
}

#[test]
fn templates_name_only_groups_the_pattern_has() {
    let p = glob("/old/*");
    for (target, needle) in [
        ("/new/$2", "$2"),
        ("/new/${name}", "${name}"),
        ("/new/$name", "${name}"),
        ("/new/${1", "unclosed"),
        ("/new/$-", "names no capture"),
        ("/new/$", "names no capture"),
    ] {
        let err = Template::parse(target, &p).unwrap_err();
        assert!(err.contains(needle), "{target}: {err}");
    }
    assert!(Template::parse("/new/${1}x$1", &p).is_ok());
}

/// The one-line error for a config holding `rule`.
fn error(rule: &str) -> String {
    let err = rules(&format!("[[rules]]\n{rule}")).unwrap_err();
    assert!(!err.contains('\n'), "{err}");
    err
}

#[test]
fn bad_rules_are_named_in_one_line() {
    for (rule, needle) in [
        (
            "path = \"/a\"\nredirect = \"/b\"\nstauts = 301",
            "unknown key `stauts`",
        ),
        ("redirect = \"/b\"", "exactly one of `path`"),
        (
            "path = \"/a\"\nregex = \"a\"\nredirect = \"/b\"",
            "exactly one of `path`",
        ),
        ("path = \"/a\"", "exactly one of `headers`"),
        (
            "path = \"/a\"\nredirect = \"/b\"\nrewrite = \"/c\"",
            "exactly one of `headers`",
        ),
        (
            "path = \"/a\"\nrewrite = \"/b\"\nstatus = 301",
            "`status` goes with `redirect`",
        ),
        ("path = \"/a\"\nredirect = \"/b\"\nstatus = 303", "not 303"),
        (
            "path = \"/a\"\nredirect = \"/b\"\nstatus = \"301\"",
            "not a string",
        ),
        ("path = \"a/*\"\nredirect = \"/b\"", "starts with /"),
        (
            "path = \"/a/[z-a]\"\nredirect = \"/b\"",
            "rule 1 (path \"/a/[z-a]\")",
        ),
        ("path = \"/a/{b\"\nredirect = \"/b\"", "rule 1"),
        ("regex = \"(\"\nredirect = \"/b\"", "invalid regex"),
        ("path = 1\nredirect = \"/b\"", "`path` must be a string"),
        (
            "path = \"/a/*\"\nredirect = \"b/$1\"",
            "starting with one /",
        ),
        (
            "path = \"/a/*\"\nredirect = \"//evil.example/$1\"",
            "starting with one /",
        ),
        (
            "path = \"/a/*\"\nredirect = \"javascript:alert(1)\"",
            "starting with one /",
        ),
        (
            "path = \"/a/*\"\nredirect = \"https://$1/\"",
            "may not pick the host",
        ),
        (
            "path = \"/a/*\"\nredirect = \"https://x$1.example/\"",
            "may not pick the host",
        ),
        ("path = \"/a/*\"\nredirect = \"https:///x\"", "give a host"),
        (
            "path = \"/a/*\"\nredirect = \"/b c\"",
            "not allowed in a URI",
        ),
        (
            "path = \"/a/*\"\nredirect = \"/b%zz\"",
            "not allowed in a URI",
        ),
        (
            "path = \"/a/*\"\nrewrite = \"/b/../$1\"",
            "no . or .. segments",
        ),
        ("path = \"/a/*\"\nrewrite = \"/b/$1?x=1\"", "path only"),
        ("path = \"/a/*\"\nrewrite = \"b/$1\"", "starting with /"),
        (
            "path = \"/a/*\"\nheaders = \"x\"",
            "`headers` must be a table",
        ),
        ("path = \"/a/*\"\nheaders = {}", "`headers` is empty"),
        (
            "path = \"/a/*\"\nheaders = { \"Content-Length\" = \"1\" }",
            "sets this header itself",
        ),
        (
            "path = \"/a/*\"\nheaders = { \"Bad Name\" = \"1\" }",
            "not a valid header name",
        ),
        (
            "path = \"/a/*\"\nheaders = { \"X\" = 1 }",
            "string or strings",
        ),
        (
            "path = \"/a/*\"\nheaders = { \"X\" = \"a\\u0001\" }",
            "control characters",
        ),
        (
            "path = \"/a/*\"\nheaders = { \"X-A\" = \"1\", \"x-a\" = \"2\" }",
            "given twice",
        ),
    ] {
        let err = error(rule);
        assert!(err.starts_with("rule 1"), "{rule}: {err}");
        assert!(err.contains(needle), "{rule}: {err}");
    }
    let err = rules("rules = 1").unwrap_err();
    assert!(err.contains("array of tables"), "{err}");
    let err = rules("rules = [1]").unwrap_err();
    assert!(err.contains("rule 1 must be a table"), "{err}");
    // The second rule is named as such.
    let err = rules(
        "[[rules]]\npath = \"/a\"\nredirect = \"/b\"\n[[rules]]\nregex = \"^/c\"\nredirect = \"c\"",
    )
    .unwrap_err();
    assert!(err.starts_with("rule 2 (regex \"^/c\")"), "{err}");
}

const SITE: &str = r#"
[[rules]]
path = "/assets/**"
headers = { "Cache-Control" = "public, max-age=31536000, immutable", "X-A" = "1" }

[[rules]]
path = "/old/*"
redirect = "/new/$1"

[[rules]]
path = "/old/*"
rewrite = "/never"

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
path = "/**"
headers = { "X-A" = ["2", "3"] }
"#;

#[test]
fn the_first_redirect_or_rewrite_wins() {
    let r = rules(SITE).unwrap();
    let route = |path: &str, query| r.route(path, query);
    let moved = StatusCode::MOVED_PERMANENTLY;
    assert_eq!(
        route("/old/a.html", None),
        Route::Redirect(moved, "/new/a.html".into())
    );
    // The request's query is kept, unless the target has its own.
    assert_eq!(
        route("/old/a", Some("x=1")),
        Route::Redirect(moved, "/new/a?x=1".into())
    );
    assert_eq!(
        route("/old/a", Some("")),
        Route::Redirect(moved, "/new/a".into())
    );
    assert_eq!(
        route("/moved", Some("q")),
        Route::Redirect(
            StatusCode::PERMANENT_REDIRECT,
            "https://other.example/here?q".into()
        )
    );
    assert_eq!(
        route("/docs/intro", None),
        Route::Rewrite("/documentation/intro.html".into())
    );
    assert_eq!(
        route("/docs/a b", None),
        Route::Rewrite("/documentation/a%20b.html".into())
    );
    assert_eq!(
        route("/app/users/42", None),
        Route::Rewrite("/app/index.html".into())
    );
    assert_eq!(route("/assets/a.js", None), Route::Pass);
    assert_eq!(route("/docs/a/b", None), Route::Pass);
    // A capture that would start the path with `//` cannot leave the host.
    assert_eq!(
        route("//evil.example/legacy", None),
        Route::Redirect(StatusCode::FOUND, "/evil.example".into())
    );
    assert_eq!(
        route("/x/legacy", None),
        Route::Redirect(StatusCode::FOUND, "/x".into())
    );
}

#[test]
fn locations_keep_the_query_before_a_fragment() {
    assert_eq!(location("/a#top".into(), Some("x=1")), "/a?x=1#top");
    assert_eq!(location("/a?y=2#top".into(), Some("x=1")), "/a?y=2#top");
    assert_eq!(location("///a".into(), Some("x")), "/a?x");
    assert_eq!(location("https://h/a".into(), None), "https://h/a");
}

#[test]
fn rule_paths_are_the_paths_serve_dir_resolves() {
    let path = |p: &str| rule_path(&Uri::try_from(p).unwrap());
    assert_eq!(path("/%6Fld/a%20b?q=1").as_deref(), Some("/old/a b"));
    assert_eq!(path("/a/../old/./x").as_deref(), Some("/old/x"));
    assert_eq!(path("//old//x/").as_deref(), Some("/old/x/"));
    assert_eq!(path("/").as_deref(), Some("/"));
    assert_eq!(path("/..").as_deref(), None);
    assert_eq!(path("/a%2fb").as_deref(), None);
    assert_eq!(path("/%ff").as_deref(), None);
}

#[test]
fn header_rules_apply_in_order_below_400() {
    let r = rules(SITE).unwrap();
    let mut res = Response::from_status(StatusCode::OK);
    res.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-cache"));
    r.set_headers("/assets/app.js", &mut res);
    let headers = res.headers();
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // The later rule replaces the earlier one's X-A, with both its values.
    let xa: Vec<_> = headers.get_all("x-a").iter().collect();
    assert_eq!(xa, ["2", "3"]);
    let mut res = Response::from_status(StatusCode::NOT_FOUND);
    r.set_headers("/assets/missing.js", &mut res);
    assert!(res.headers().get("cache-control").is_none());
    assert!(res.headers().get("x-a").is_none());
    assert!(r.any_headers("/anything"));
    let only = rules("[[rules]]\npath = \"/a/*\"\nheaders = { X = \"1\" }").unwrap();
    assert!(!only.any_headers("/b/x"));
}

#[test]
fn the_readme_examples_are_valid_rules() {
    let readme = include_str!("../../../../README.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .filter(|block| block.contains("[[rules]]"))
        .collect();
    assert!(blocks.len() >= 2, "{}", blocks.len());
    for block in &blocks {
        let r = rules(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert!(!r.is_empty());
    }
    let all = blocks.iter().find(|b| b.contains("/shop/**")).unwrap();
    let r = rules(all).unwrap();
    let moved = StatusCode::MOVED_PERMANENTLY;
    assert_eq!(
        r.route("/old/a.html", None),
        Route::Redirect(moved, "/new/a.html".into())
    );
    assert_eq!(
        r.route("/blog/2024/hello", None),
        Route::Redirect(StatusCode::PERMANENT_REDIRECT, "/posts/2024-hello".into())
    );
    assert_eq!(
        r.route("/shop/a/b", None),
        Route::Redirect(moved, "https://shop.example/a/b".into())
    );
    assert_eq!(
        r.route("/docs/intro", None),
        Route::Rewrite("/documentation/intro.html".into())
    );
    assert_eq!(
        r.route("/app/x/y", None),
        Route::Rewrite("/app/index.html".into())
    );
}
