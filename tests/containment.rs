//! Containment: no request, however encoded, and no symlink, however
//! placed, makes `ServeDir` serve anything from outside ROOT.
//!
//! Every test builds the same tree in a temporary directory:
//!
//! ```text
//! <tmp>/outside.txt                 SENTINEL
//! <tmp>/outside/secret.txt          SENTINEL
//! <tmp>/outside/index.html          SENTINEL
//! <tmp>/root/                       the served ROOT
//!   index.html, hello.txt, sub/page.html (sub/ has no index)
//!   link_out_file  -> ../outside/secret.txt      (relative, to a file outside)
//!   abs_out        -> <tmp>/outside/secret.txt   (absolute, to a file outside)
//!   link_out_dir   -> ../outside                 (a directory outside)
//!   up             -> ..                         (ROOT's parent)
//!   etc_passwd     -> /etc/passwd
//!   chain          -> link_out_file              (inside, then out)
//!   out_and_back   -> ../root/hello.txt          (leaves ROOT on its way)
//!   symidx/index.html -> ../../outside/index.html (an index file pointing out)
//!   loop_a -> loop_b, loop_b -> loop_a, self_loop -> self_loop
//!   link_in        -> hello.txt                  (stays inside)
//!   linkdir_in     -> sub                        (a directory inside)
//!   list/          no index: file.txt, .hidden, inner/, out_file -> outside
//!                  file, out_dir -> outside dir
//!   .git/config, a/.env, .well-known/x, .hidden_out -> outside file
//! ```
//!
//! Every response is checked for the SENTINEL, for the content of
//! `/etc/passwd` and for the temporary directory's absolute path (errors and
//! listings must never reveal one).
//!
//! Not tested, because it cannot be: a *hardlink* inside ROOT to a file
//! outside it is the same inode under a name inside ROOT. Nothing at open
//! time distinguishes it from an ordinary file (nginx, Caddy and darkhttpd
//! serve it too); keeping hardlinks out of ROOT is the operator's job, and
//! on most systems `fs.protected_hardlinks` stops users from linking files
//! they do not own.

mod support;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use berth::{Body, Handler, ServeDir, ServerConfig};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestCaseError, TestRunner};
use support::{Resp, TestServer, start_with};
use tempfile::TempDir;

/// The content of every file outside ROOT.
const SENTINEL: &str = "SENTINEL-outside-the-root-4f1c9e";
const HELLO: &str = "hello from inside\n";
const PAGE: &str = "sub page\n";

/// The tree described in the module docs.
struct Tree {
    tmp: TempDir,
}

impl Tree {
    fn new() -> Tree {
        let tmp = tempfile::tempdir().expect("tempdir");
        let t = tmp.path();
        let root = t.join("root");
        let w = |p: &Path, s: &str| std::fs::write(p, s).unwrap();
        let d = |p: &Path| std::fs::create_dir_all(p).unwrap();
        let l = |target: &Path, link: &str| symlink(target, root.join(link)).unwrap();

        d(&t.join("outside"));
        w(&t.join("outside.txt"), SENTINEL);
        w(&t.join("outside/secret.txt"), SENTINEL);
        w(&t.join("outside/index.html"), SENTINEL);

        d(&root.join("sub"));
        w(&root.join("index.html"), "<h1>home</h1>\n");
        w(&root.join("hello.txt"), HELLO);
        w(&root.join("sub/page.html"), PAGE);

        l(Path::new("../outside/secret.txt"), "link_out_file");
        l(&t.join("outside/secret.txt"), "abs_out");
        l(Path::new("../outside"), "link_out_dir");
        l(Path::new(".."), "up");
        l(Path::new("/etc/passwd"), "etc_passwd");
        l(Path::new("link_out_file"), "chain");
        l(Path::new("../root/hello.txt"), "out_and_back");
        d(&root.join("symidx"));
        l(Path::new("../../outside/index.html"), "symidx/index.html");
        l(Path::new("loop_b"), "loop_a");
        l(Path::new("loop_a"), "loop_b");
        l(Path::new("self_loop"), "self_loop");
        l(Path::new("hello.txt"), "link_in");
        l(Path::new("sub"), "linkdir_in");

        d(&root.join("list/inner"));
        w(&root.join("list/file.txt"), "listed file\n");
        w(&root.join("list/.hidden"), "hidden in list\n");
        l(Path::new("../../outside/secret.txt"), "list/out_file");
        l(Path::new("../../outside"), "list/out_dir");

        d(&root.join(".git"));
        w(&root.join(".git/config"), "[core]\n");
        d(&root.join("a"));
        w(&root.join("a/.env"), "KEY=1\n");
        d(&root.join(".well-known"));
        w(&root.join(".well-known/x"), "well known\n");
        l(Path::new("../outside/secret.txt"), ".hidden_out");
        Tree { tmp }
    }

    fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    /// A `ServeDir` on ROOT with listings on, configured by `f`.
    fn serve_dir(&self, f: impl FnOnce(ServeDir) -> ServeDir) -> ServeDir {
        support::portable_from_env();
        f(ServeDir::new(self.root()).listing(true))
    }

    /// A server answering with `serve_dir(f)`.
    fn server(&self, f: impl FnOnce(ServeDir) -> ServeDir) -> TestServer {
        start_with(ServerConfig::default(), self.serve_dir(f))
    }

    /// Panics when `body` holds anything it must never hold.
    fn assert_clean(&self, what: &str, body: &[u8]) {
        let body = String::from_utf8_lossy(body);
        assert!(!body.contains(SENTINEL), "{what}: outside content served");
        assert!(!body.contains("root:x:0:0"), "{what}: /etc/passwd served");
        let tmp = self.tmp.path().to_string_lossy();
        assert!(!body.contains(&*tmp), "{what}: absolute path revealed");
    }
}

/// Sends `GET target` (verbatim) on a new connection; checks the body.
fn fetch(tree: &Tree, server: &TestServer, target: &str) -> Resp {
    fetch_with(tree, server, target, "")
}

/// The same with extra header lines (each ending in `\r\n`).
fn fetch_with(tree: &Tree, server: &TestServer, target: &str, headers: &str) -> Resp {
    let mut c = server.connect();
    let r = c.request(format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n"));
    tree.assert_clean(target, &r.body);
    for (name, value) in &r.headers {
        tree.assert_clean(&format!("{target} header {name}"), value.as_bytes());
    }
    r
}

/// Asserts the status of `GET target` for each `(target, status)`.
fn expect(tree: &Tree, server: &TestServer, cases: &[(&str, u16)]) {
    for &(target, status) in cases {
        let r = fetch(tree, server, target);
        assert_eq!(
            r.status,
            status,
            "{target}: {:?}",
            String::from_utf8_lossy(&r.body)
        );
    }
}

/// The `href` values of an HTML page.
fn hrefs(html: &str) -> Vec<&str> {
    html.split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').expect("unterminated href")])
        .collect()
}

/// Asserts every link of a listing is relative and stays in or just above
/// the listed directory: `?query`, `../`, or one encoded name (`/` at most
/// at its end).
fn assert_relative_links(page: &str) {
    for href in hrefs(page) {
        if href == "data:," {
            continue; // the empty favicon
        }
        assert!(!href.starts_with('/'), "absolute link {href:?}");
        assert!(!href.contains("://") && !href.contains('\\'), "{href:?}");
        let path = href.split('?').next().unwrap();
        let name = path.strip_suffix('/').unwrap_or(path);
        assert!(!name.contains('/'), "link {href:?} is more than one name");
        assert!(name != ".", "{href:?}");
    }
}

// ---- encodings ----

#[test]
fn dot_dot_in_every_encoding_is_400() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    expect(
        &tree,
        &server,
        &[
            ("/../outside.txt", 400),
            ("/../../../../../../etc/passwd", 400),
            ("/sub/../../outside.txt", 400),
            ("/%2e%2e/outside.txt", 400),
            ("/%2E%2E/outside.txt", 400),
            ("/%2E%2e/outside.txt", 400),
            ("/.%2e/outside.txt", 400),
            ("/%2e./outside.txt", 400),
            ("/sub/%2e%2e/%2e%2e/outside.txt", 400),
            ("/..", 400),
            ("/%2e%2e", 400),
            ("/..%2foutside.txt", 400),
            ("/..%2Foutside.txt", 400),
            ("/%2f../outside.txt", 400),
            ("/sub%2f..%2f..%2foutside.txt", 400),
            ("/%2e%2e%2foutside.txt", 400),
            ("/..%5coutside.txt", 400),
            ("/..%5C..%5Coutside.txt", 400),
            ("/%5c..%5coutside.txt", 400),
            ("/..\\outside.txt", 400),
            ("/sub\\..\\..\\outside.txt", 400),
            ("/%00", 400),
            ("/hello.txt%00", 400),
            ("/hello.txt%00.html", 400),
            ("/..%00/outside.txt", 400),
            ("/%2e%2e%00/outside.txt", 400),
            // Overlong UTF-8 for '.', '/' and '\': not UTF-8 at all.
            ("/%c0%ae%c0%ae/outside.txt", 400),
            ("/%C0%AE%C0%AE/outside.txt", 400),
            ("/%e0%80%ae%e0%80%ae/outside.txt", 400),
            ("/%f0%80%80%ae%f0%80%80%ae/outside.txt", 400),
            ("/..%c0%af../outside.txt", 400),
            ("/..%c1%9c../outside.txt", 400),
            ("/%c0%2e%c0%2e/outside.txt", 400),
            // Not percent-encoding at all.
            ("/%u002e%u002e/outside.txt", 400),
            ("/%2/outside.txt", 400),
            ("/%", 400),
        ],
    );
}

#[test]
fn double_encoding_is_decoded_once() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    expect(
        &tree,
        &server,
        &[
            // `%252e%252e` is the literal name `%2e%2e`, which is missing.
            ("/%252e%252e/outside.txt", 404),
            ("/%252e%252e%252foutside.txt", 404),
            ("/sub/%252e%252e/%252e%252e/outside.txt", 404),
            ("/..%255c..%255coutside.txt", 404),
            ("/%25%32%65%25%32%65/outside.txt", 404),
            ("/%252E%252E", 404),
        ],
    );
    // And it is that name: a file called `%2e%2e` is what gets served.
    std::fs::create_dir(tree.root().join("%2e%2e")).unwrap();
    std::fs::write(tree.root().join("%2e%2e/outside.txt"), "literal\n").unwrap();
    let r = fetch(&tree, &server, "/%252e%252e/outside.txt");
    assert_eq!((r.status, r.body_str()), (200, "literal\n"));
    let r = fetch(&tree, &server, "/%25%32%65%25%32%65/outside.txt");
    assert_eq!((r.status, r.body_str()), (200, "literal\n"));
    // Its redirect keeps the name encoded, so following it leads back here.
    let r = fetch(&tree, &server, "/%252e%252e");
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/%252e%252e/"))
    );
}

#[test]
fn look_alikes_of_dot_dot_are_plain_names() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    expect(
        &tree,
        &server,
        &[
            ("/..;/outside.txt", 404),
            ("/sub/..;/..;/outside.txt", 404),
            ("/%ef%bc%8e%ef%bc%8e/outside.txt", 404), // U+FF0E fullwidth dots
            ("/%e2%80%a4%e2%80%a4/outside.txt", 404), // U+2024 one dot leader
            ("/.../outside.txt", 404),                // hidden name `...`
            ("/%3f/../../outside.txt", 400),          // `?` as a name, then out
            ("/%23/../outside.txt", 404),             // `#` as a name, then in
            ("/hello.txt.", 404),
            ("/hello.txt/", 404),
            ("/hello.txt/..", 200), // lexically `/`: the index
        ],
    );
}

#[test]
fn dot_and_empty_segments_are_normalized_inside_the_root() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    for target in [
        "/hello.txt",
        "//hello.txt",
        "///hello.txt",
        "/./hello.txt",
        "/.//./hello.txt",
        "/sub/./../hello.txt",
        "/sub//..//hello.txt",
        "/%2e/hello.txt",
        "/sub/%2e%2e/hello.txt",
        "/link_out_dir/../hello.txt", // `..` is lexical: the symlink is never opened
        "/hello%2etxt",
    ] {
        let r = fetch(&tree, &server, target);
        assert_eq!((r.status, r.body_str()), (200, HELLO), "{target}");
    }
    expect(
        &tree,
        &server,
        &[
            ("/sub//..//..//outside.txt", 400),
            ("/./../outside.txt", 400),
            ("/sub/./.././../outside.txt", 400),
            ("/sub/.", 200), // a dot segment names the directory: `/sub/`
            ("//sub", 301),
        ],
    );
    let r = fetch(&tree, &server, "//sub");
    assert_eq!(r.header("location"), Some("/sub/"));
}

#[test]
fn query_and_odd_request_targets() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    let r = fetch(&tree, &server, "/hello.txt?f=../../outside.txt");
    assert_eq!((r.status, r.body_str()), (200, HELLO));
    let r = fetch(&tree, &server, "/hello.txt?%2e%2e/%2e%2e/outside.txt");
    assert_eq!((r.status, r.body_str()), (200, HELLO));
    // Targets that are not origin-form: refused or resolved within ROOT.
    for target in [
        "../outside.txt",
        "outside.txt",
        "hello.txt",
        "*",
        "/hello.txt#/../../outside.txt",
        "/../outside.txt#x",
    ] {
        let r = fetch(&tree, &server, target);
        assert!(
            matches!(r.status, 400 | 404),
            "{target}: {} {:?}",
            r.status,
            r.body_str()
        );
    }
}

#[test]
fn absolute_form_targets_stay_inside() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    for target in [
        "http://x/../../etc/passwd",
        "http://x/../outside.txt",
        "http://x/%2e%2e/outside.txt",
        "http://x/%2e%2e%2foutside.txt",
        "http://x/..%5coutside.txt",
        "http://x/sub/../../outside.txt",
        "http://x/link_out_file",
        "http://x/link_out_dir/secret.txt",
        "http://x/%252e%252e/outside.txt",
        "http://x/..",
    ] {
        let r = fetch(&tree, &server, target);
        assert!(matches!(r.status, 400 | 404), "{target}: {}", r.status);
    }
    // The absolute form does reach files inside.
    let r = fetch(&tree, &server, "http://x/hello.txt");
    assert_eq!((r.status, r.body_str()), (200, HELLO));
}

#[test]
fn very_long_paths() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    // Many `..` within the target limit: still 400.
    let ups = format!("{}outside.txt", "/..".repeat(2000));
    expect(&tree, &server, &[(&ups, 400)]);
    // Going down and back up many times, then one step too many.
    let deep = format!("{}/../outside.txt", "/a/..".repeat(1200));
    expect(&tree, &server, &[(&deep, 400)]);
    let deep_in = format!("{}/hello.txt", "/a/..".repeat(1200));
    let r = fetch(&tree, &server, &deep_in);
    assert_eq!((r.status, r.body_str()), (200, HELLO));
    // A path longer than PATH_MAX, and a name longer than NAME_MAX: 404.
    let long_path = "/a".repeat(2100);
    let long_name = format!("/{}", "n".repeat(300));
    expect(&tree, &server, &[(&long_path, 404), (&long_name, 404)]);
    // Past the target limit (8 KiB by default): 414, not a crash.
    let too_long = format!("{}/outside.txt", "/..".repeat(3000));
    let r = fetch(&tree, &server, &too_long);
    assert_eq!(r.status, 414);
}

// ---- symlinks ----

/// Links that lead out of ROOT: 404 whether symlinks are followed or not.
const ESCAPING_LINKS: &[&str] = &[
    "/link_out_file",
    "/abs_out",
    "/link_out_dir",
    "/link_out_dir/",
    "/link_out_dir/secret.txt",
    "/link_out_dir/index.html",
    "/up/outside.txt",
    "/up/outside/secret.txt",
    "/etc_passwd",
    "/chain",
    "/symidx/",
    "/symidx/index.html",
    "/list/out_file",
    "/list/out_dir/",
    "/list/out_dir/secret.txt",
    "/loop_a",
    "/loop_b",
    "/loop_a/x",
    "/self_loop",
    "/self_loop/",
];

#[test]
fn symlinks_out_of_root_are_404_by_default() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    for target in ESCAPING_LINKS {
        expect(&tree, &server, &[(target, 404)]);
    }
    // Links that stay inside are not followed either.
    expect(
        &tree,
        &server,
        &[
            ("/link_in", 404),
            ("/linkdir_in", 404),
            ("/linkdir_in/", 404),
            ("/linkdir_in/page.html", 404),
            ("/out_and_back", 404),
            ("/up/root/hello.txt", 404),
        ],
    );
}

#[test]
fn symlinks_out_of_root_are_404_when_following() {
    let tree = Tree::new();
    let server = tree.server(|s| s.follow_symlinks(true));
    for target in ESCAPING_LINKS {
        expect(&tree, &server, &[(target, 404)]);
    }
    // Followed when they stay inside.
    let r = fetch(&tree, &server, "/link_in");
    assert_eq!((r.status, r.body_str()), (200, HELLO));
    let r = fetch(&tree, &server, "/linkdir_in/page.html");
    assert_eq!((r.status, r.body_str()), (200, PAGE));
    let r = fetch(&tree, &server, "/linkdir_in");
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/linkdir_in/"))
    );
    // A directory symlink inside ROOT gets its listing (sub/ has no index).
    let r = fetch(&tree, &server, "/linkdir_in/");
    assert_eq!(r.status, 200);
    assert!(r.body_str().contains("page.html"));
    // Leaving ROOT and coming back: openat2's RESOLVE_BENEATH refuses it
    // (404); the fallback walk judges only where it ends (200). Either way,
    // nothing from outside.
    for target in ["/out_and_back", "/up/root/hello.txt"] {
        let r = fetch(&tree, &server, target);
        match r.status {
            404 => {}
            200 => assert_eq!(r.body_str(), HELLO),
            other => panic!("{target}: {other}"),
        }
    }
}

#[test]
fn escaping_symlinks_with_other_methods_and_ranges() {
    let tree = Tree::new();
    let server = tree.server(|s| s.follow_symlinks(true).hidden(true));
    for target in ["/link_out_file", "/link_out_dir/secret.txt", "/symidx/"] {
        for method in ["HEAD", "OPTIONS"] {
            let mut c = server.connect();
            c.send(format!("{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n"));
            let r = if method == "HEAD" {
                c.read_head_response()
            } else {
                c.read_response()
            };
            assert_eq!(r.status, 404, "{method} {target}");
            tree.assert_clean(target, &r.body);
        }
        let r = fetch_with(&tree, &server, target, "Range: bytes=0-5\r\n");
        assert_eq!(r.status, 404, "{target} with Range");
        let r = fetch_with(&tree, &server, target, "Accept: application/json\r\n");
        assert_eq!(r.status, 404, "{target} as JSON");
    }
}

#[test]
fn hidden_symlink_out_is_404_even_with_everything_on() {
    let tree = Tree::new();
    let server = tree.server(|s| s.follow_symlinks(true).hidden(true));
    expect(
        &tree,
        &server,
        &[("/.hidden_out", 404), ("/%2ehidden_out", 404)],
    );
}

/// A directory swapped with a symlink to outside while requests run
/// (`renameat2(RENAME_EXCHANGE)`): every answer is the inside file or 404,
/// never the outside one. The open is one step, so there is no window.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_a_directory_for_a_symlink_never_leaks() {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use std::time::{Duration, Instant};
    let tree = Tree::new();
    let root = tree.root();
    std::fs::create_dir(root.join("race")).unwrap();
    std::fs::write(root.join("race/secret.txt"), "inside race\n").unwrap();
    symlink("../outside", root.join("race_swap")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (stop, root) = (stop.clone(), root.clone());
        std::thread::spawn(move || {
            let mut swaps = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (a, b) = (root.join("race"), root.join("race_swap"));
                renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).unwrap();
                swaps += 1;
            }
            swaps
        })
    };
    let mut seen = [0u32; 2];
    for follow in [false, true] {
        let sd = tree.serve_dir(|s| s.follow_symlinks(follow));
        let until = Instant::now() + Duration::from_millis(200);
        while Instant::now() < until {
            let (status, body) = call(&sd, "/race/secret.txt").await;
            tree.assert_clean("race", &body);
            match status {
                200 => {
                    assert_eq!(body, b"inside race\n");
                    seen[0] += 1;
                }
                404 => seen[1] += 1,
                other => panic!("race: status {other}"),
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(
        swaps > 10 && seen[0] > 0,
        "race not exercised: {swaps} swaps, {seen:?}"
    );
}

// ---- hidden files ----

#[test]
fn dotfiles_and_dot_directories_are_404_by_default() {
    let tree = Tree::new();
    let server = tree.server(|s| s);
    let missing = fetch(&tree, &server, "/.nothing-here");
    for target in [
        "/.git/config",
        "/.git/",
        "/.git",
        "/a/.env",
        "/.well-known/x",
        "/%2egit/config",
        "/%2Egit/config",
        "/a/%2eenv",
        "/sub/../.git/config",
        "/.git/../hello.txt/../.git/config",
        "/list/.hidden",
    ] {
        let r = fetch(&tree, &server, target);
        assert_eq!(r.status, 404, "{target}");
        // The same answer as for a name that does not exist: no oracle.
        assert_eq!(r.body, missing.body, "{target}");
    }
}

#[test]
fn dotfiles_are_served_with_hidden() {
    let tree = Tree::new();
    let server = tree.server(|s| s.hidden(true));
    for (target, body) in [
        ("/.git/config", "[core]\n"),
        ("/a/.env", "KEY=1\n"),
        ("/.well-known/x", "well known\n"),
        ("/%2ewell-known/x", "well known\n"),
        ("/list/.hidden", "hidden in list\n"),
    ] {
        let r = fetch(&tree, &server, target);
        assert_eq!((r.status, r.body_str()), (200, body), "{target}");
    }
    let r = fetch(&tree, &server, "/.git");
    assert_eq!((r.status, r.header("location")), (301, Some("/.git/")));
    let r = fetch(&tree, &server, "/.git/");
    assert_eq!(r.status, 200);
    assert!(r.body_str().contains("config"));
    // Still nothing above ROOT.
    expect(&tree, &server, &[("/.git/../../outside.txt", 400)]);
}

// ---- listings ----

#[test]
fn listings_show_only_what_is_inside() {
    let tree = Tree::new();
    for follow in [false, true] {
        let server = tree.server(|s| s.follow_symlinks(follow));
        let r = fetch(&tree, &server, "/list/");
        assert_eq!(r.status, 200, "follow {follow}");
        let page = r.body_str();
        for name in ["file.txt", "inner/", "out_file", "out_dir"] {
            assert!(page.contains(name), "{name} not listed: {page}");
        }
        // Nothing of what the symlinks point at: no names from outside,
        // no targets.
        for absent in [".hidden", "secret.txt", "outside", "index.html"] {
            assert!(!page.contains(absent), "{absent} listed: {page}");
        }
        // The symlink to a directory is not shown as a directory to enter.
        assert!(!page.contains("out_dir/"), "{page}");
        assert_relative_links(page);
        assert!(hrefs(page).contains(&"../"));

        let r = fetch_with(&tree, &server, "/list/", "Accept: application/json\r\n");
        assert_eq!(r.status, 200);
        let json = r.body_str();
        assert!(json.contains("\"name\":\"out_dir\""), "{json}");
        assert!(json.contains("\"type\":\"symlink\""), "{json}");
        for absent in [".hidden", "secret.txt", "outside"] {
            assert!(!json.contains(absent), "{absent} in {json}");
        }
        assert!(!json.contains("\"href\":\"/"), "absolute href: {json}");

        // The listing of a symlinked directory outside is never produced.
        expect(
            &tree,
            &server,
            &[
                ("/list/out_dir/", 404),
                ("/link_out_dir/", 404),
                ("/up/", 404),
            ],
        );
    }
}

#[test]
fn listing_of_root_has_no_parent_link_and_hidden_only_on_request() {
    let tree = Tree::new();
    std::fs::remove_file(tree.root().join("index.html")).unwrap();
    let server = tree.server(|s| s);
    let r = fetch(&tree, &server, "/");
    assert_eq!(r.status, 200);
    let page = r.body_str();
    assert!(!hrefs(page).iter().any(|h| h.starts_with("..")), "{page}");
    for hidden in [".git", ".well-known", ".hidden_out"] {
        assert!(!page.contains(hidden), "{hidden} listed: {page}");
    }
    assert!(page.contains("link_out_file") && page.contains("hello.txt"));
    assert_relative_links(page);

    let server = tree.server(|s| s.hidden(true));
    let page = fetch(&tree, &server, "/").body_str().to_owned();
    for hidden in [".git/", ".well-known/", ".hidden_out"] {
        assert!(page.contains(hidden), "{hidden} not listed: {page}");
    }
    assert_relative_links(&page);
    let page = fetch(&tree, &server, "/list/").body_str().to_owned();
    assert!(page.contains(".hidden"));
}

#[test]
fn listing_links_for_hostile_names_are_relative() {
    let tree = Tree::new();
    let dir = tree.root().join("names");
    std::fs::create_dir(&dir).unwrap();
    for name in [
        "a b.txt",
        "..a",
        "%2e%2e",
        "x\\y",
        "http:",
        "javascript:alert(1)",
        "?q",
        "#frag",
        "<b>",
        "\"quoted\"",
    ] {
        std::fs::write(dir.join(name), "x").unwrap();
    }
    std::fs::create_dir(dir.join("d:ir")).unwrap();
    let server = tree.server(|s| s);
    let r = fetch(&tree, &server, "/names/");
    assert_eq!(r.status, 200);
    let page = r.body_str();
    assert_relative_links(page);
    assert!(!page.contains("<b>"), "unescaped name: {page}");
    for href in hrefs(page).into_iter().filter(|h| *h != "data:,") {
        // A colon before any `/` would make the link a scheme, a leading
        // `#` or `?` would point back at the page.
        assert!(!href.split('/').next().unwrap().contains(':'), "{href:?}");
        assert!(!href.starts_with('#'), "{href:?}");
        assert!(!href.starts_with("?q"), "{href:?}");
    }
    assert!(hrefs(page).contains(&"%252e%252e"));
    // The `%2e%2e` entry's link leads to that file, not upwards.
    let r = fetch(&tree, &server, "/names/%252e%252e");
    assert_eq!((r.status, r.body_str()), (200, "x"));
}

// ---- the handler on its own ----

/// Calls `sd` for `uri` with `GET`; the status and the whole body. A URI
/// that `http` refuses gives status 0.
async fn call(sd: &ServeDir, uri: &str) -> (u16, Vec<u8>) {
    let Ok(req) = berth::http::Request::builder().uri(uri).body(Body::empty()) else {
        return (0, Vec::new());
    };
    let res = sd.call(req).await;
    let status = res.status().as_u16();
    let body = res.into_body().collect(1 << 20).await.expect("body");
    (status, body.to_vec())
}

/// The tokens random paths are made of.
const TOKENS: &[&str] = &[
    "/",
    "/",
    "/",
    ".",
    "..",
    "..",
    "%2e",
    "%2E",
    "%2f",
    "%2F",
    "%5c",
    "%00",
    "%25",
    "%",
    "a",
    "b",
    "sub",
    "link_out_dir",
    "link_out_file",
    "up",
    "chain",
    "outside.txt",
    "outside",
    "secret.txt",
    "root",
    "list",
    "out_dir",
    "symidx",
    "index.html",
    "linkdir_in",
    "hello.txt",
    ".git",
];

/// For any path built from [`TOKENS`], under every combination of options,
/// no response carries the content of a file outside ROOT (nor a path).
#[test]
fn random_paths_never_reach_outside() {
    let tree = Tree::new();
    let configs: Vec<ServeDir> = [(false, false), (true, false), (false, true), (true, true)]
        .into_iter()
        .map(|(follow, hidden)| tree.serve_dir(|s| s.follow_symlinks(follow).hidden(hidden)))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let strategy = prop::collection::vec(prop::sample::select(TOKENS), 0..16)
        .prop_map(|t| format!("/{}", t.concat()));
    let mut runner = TestRunner::new(PropConfig {
        cases: 1000,
        failure_persistence: None,
        ..PropConfig::default()
    });
    let served = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |path| {
            for sd in &configs {
                let (status, body) = runtime.block_on(call(sd, &path));
                let text = String::from_utf8_lossy(&body);
                let tmp = tree.tmp.path().to_string_lossy();
                if text.contains(SENTINEL) || text.contains(&*tmp) {
                    return Err(TestCaseError::fail(format!("{path}: {status} {text}")));
                }
                served.set(served.get() + u32::from(status == 200));
            }
            Ok(())
        })
        .unwrap();
    // The alphabet does reach files, so the property is not vacuous.
    assert!(served.get() > 0);
}
