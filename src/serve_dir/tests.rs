//! Unit tests of `ServeDir`'s pipeline (methods, paths, kinds, symlinks,
//! the open-file cache), and the `Tree` fixture the sibling modules' tests
//! share.

use super::*;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
#[cfg(target_os = "linux")]
use std::sync::atomic::Ordering;
use std::time::{Duration, UNIX_EPOCH};

use tempfile::TempDir;

/// A temp dir holding `root/` (the tree served) and, next to it,
/// `outside/secret.txt`, which symlinks in `root/` try to reach.
pub(super) struct Tree {
    tmp: TempDir,
}

impl Tree {
    pub(super) fn new() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        let root = tmp.path().join("root");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "secret").unwrap();
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("hello.txt"), "hello").unwrap();
        std::fs::write(root.join("index.html"), "home").unwrap();
        std::fs::write(root.join("style.css"), "p{}").unwrap();
        std::fs::write(root.join(".env"), "KEY=1").unwrap();
        std::fs::create_dir(root.join("dir")).unwrap();
        std::fs::write(root.join("dir/index.html"), "dir home").unwrap();
        std::fs::write(root.join("dir/page.html"), "page").unwrap();
        std::fs::create_dir(root.join("noindex")).unwrap();
        std::fs::create_dir(root.join("space dir")).unwrap();
        symlink("../outside/secret.txt", root.join("escape.txt")).unwrap();
        symlink(outside.join("secret.txt"), root.join("abs.txt")).unwrap();
        symlink("hello.txt", root.join("link.txt")).unwrap();
        symlink("dir", root.join("linkdir")).unwrap();
        Tree { tmp }
    }

    pub(super) fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    pub(super) fn serve(&self) -> ServeDir {
        ServeDir::new(self.root())
    }
}

/// Forces the fallback walk for every open (the only way to open
/// elsewhere than on Linux).
pub(super) fn fallback(sd: ServeDir) -> ServeDir {
    #[cfg(target_os = "linux")]
    if let Some(root) = &sd.inner.root {
        root.no_openat2.store(true, Ordering::Relaxed);
    }
    sd
}

pub(super) async fn send(sd: &ServeDir, method: Method, uri: &str) -> Response {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    sd.call(req).await
}

pub(super) async fn get(sd: &ServeDir, uri: &str) -> Response {
    send(sd, Method::GET, uri).await
}

pub(super) async fn body(res: Response) -> String {
    let bytes = res.into_body().collect(1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub(super) fn header(res: &Response, name: header::HeaderName) -> Option<&str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Both open mechanisms, for tests that must hold for each.
fn both(tree: &Tree, configure: impl Fn(ServeDir) -> ServeDir) -> [ServeDir; 2] {
    [configure(tree.serve()), fallback(configure(tree.serve()))]
}

pub(super) const TEXT: Option<&str> = Some("text/plain; charset=utf-8");

#[tokio::test]
async fn serves_a_file() {
    let tree = Tree::new();
    let file = File::options()
        .write(true)
        .open(tree.root().join("hello.txt"));
    let mtime = UNIX_EPOCH + Duration::from_secs(784_111_777);
    file.unwrap().set_modified(mtime).unwrap();
    for sd in both(&tree, |s| s) {
        let res = get(&sd, "/hello.txt?x=1").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, header::CONTENT_TYPE), TEXT);
        let date = Some("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(header(&res, header::LAST_MODIFIED), date);
        assert_eq!(res.body().size_hint(), Some(5));
        assert_eq!(body(res).await, "hello");

        let res = send(&sd, Method::HEAD, "/hello.txt").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, header::CONTENT_TYPE), TEXT);
        assert_eq!(res.body().size_hint(), Some(5));

        let res = get(&sd, "/style.css").await;
        let css = Some("text/css; charset=utf-8");
        assert_eq!(header(&res, header::CONTENT_TYPE), css);
    }
}

#[tokio::test]
async fn index_files() {
    let tree = Tree::new();
    for sd in both(&tree, |s| s) {
        let res = get(&sd, "/").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header(&res, header::CONTENT_TYPE),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(body(res).await, "home");
        assert_eq!(body(get(&sd, "/dir/").await).await, "dir home");
        assert_eq!(body(get(&sd, "/dir/x/..").await).await, "dir home");
        assert_eq!(get(&sd, "/noindex/").await.status(), StatusCode::NOT_FOUND);
    }
    let sd = tree.serve().index_file("page.html");
    assert_eq!(body(get(&sd, "/dir/").await).await, "page");
    assert_eq!(get(&sd, "/").await.status(), StatusCode::NOT_FOUND);
    for bad in ["", ".", "..", "../hello.txt", "dir/index.html"] {
        let sd = tree.serve().index_file(bad);
        assert_eq!(
            get(&sd, "/").await.status(),
            StatusCode::NOT_FOUND,
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn directory_without_slash_redirects() {
    let tree = Tree::new();
    let sd = tree.serve();
    let cases = [
        ("/dir", "/dir/"),
        ("/dir?q=1", "/dir/?q=1"),
        ("/dir?a=1&b=%2F", "/dir/?a=1&b=%2F"),
        ("/dir?", "/dir/"),
        ("/x/../dir", "/dir/"),
        ("//dir", "/dir/"),
        ("/space%20dir", "/space%20dir/"),
    ];
    for (uri, location) in cases {
        let res = get(&sd, uri).await;
        assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY, "{uri}");
        assert_eq!(header(&res, header::LOCATION), Some(location), "{uri}");
    }
}

#[tokio::test]
async fn not_found() {
    let tree = Tree::new();
    for sd in both(&tree, |s| s) {
        for uri in [
            "/missing",
            "/dir/missing.html",
            "/hello.txt/x",
            "/hello.txt/",
        ] {
            assert_eq!(get(&sd, uri).await.status(), StatusCode::NOT_FOUND, "{uri}");
        }
        let long = format!("/{}", "a".repeat(300));
        assert_eq!(get(&sd, &long).await.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn hidden_files() {
    let tree = Tree::new();
    let sd = tree.serve();
    assert_eq!(get(&sd, "/.env").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&sd, "/%2eenv").await.status(), StatusCode::NOT_FOUND);
    let sd = tree.serve().hidden(true);
    let res = get(&sd, "/.env").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, "KEY=1");
}

#[tokio::test]
async fn open_file_cache_reuses_the_descriptor_within_its_window() {
    let tree = Tree::new();
    let sd = tree.serve().open_file_cache(Duration::from_millis(200));
    let body = |res: Response| async move { res.into_body().collect(1 << 20).await.unwrap() };
    assert_eq!(
        body(send(&sd, Method::GET, "/hello.txt").await).await,
        "hello"
    );
    // Replaced by rename: within the window the old file is still served.
    let fresh = tree.root().join("fresh.tmp");
    std::fs::write(&fresh, "new!!").unwrap();
    std::fs::rename(&fresh, tree.root().join("hello.txt")).unwrap();
    assert_eq!(
        body(send(&sd, Method::GET, "/hello.txt").await).await,
        "hello"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        body(send(&sd, Method::GET, "/hello.txt").await).await,
        "new!!"
    );
    // Without the cache every request opens the file anew.
    let direct = tree.serve();
    std::fs::write(&fresh, "newer").unwrap();
    std::fs::rename(&fresh, tree.root().join("hello.txt")).unwrap();
    assert_eq!(
        body(send(&direct, Method::GET, "/hello.txt").await).await,
        "newer"
    );
}

#[tokio::test]
async fn other_methods_are_405() {
    let tree = Tree::new();
    let sd = tree.serve();
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let res = send(&sd, method, "/hello.txt").await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(header(&res, header::ALLOW), Some("GET, HEAD, OPTIONS"));
    }
    let unknown = Method::from_bytes(b"BREW").unwrap();
    let res = send(&sd, unknown, "/hello.txt").await;
    assert_eq!(res.status(), StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn options_is_204_with_allow_where_get_would_serve() {
    let tree = Tree::new();
    let sd = tree.serve();
    for uri in ["/hello.txt", "/", "/dir/", "*"] {
        let res = send(&sd, Method::OPTIONS, uri).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{uri}");
        assert_eq!(header(&res, header::ALLOW), Some("GET, HEAD, OPTIONS"));
        assert!(res.body().is_empty());
    }
    for (uri, code) in [
        ("/missing", StatusCode::NOT_FOUND),
        ("/noindex/", StatusCode::NOT_FOUND),
        ("/.env", StatusCode::NOT_FOUND),
        ("/dir", StatusCode::MOVED_PERMANENTLY),
    ] {
        assert_eq!(
            send(&sd, Method::OPTIONS, uri).await.status(),
            code,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn bad_paths_are_400() {
    let tree = Tree::new();
    let sd = tree.serve();
    for uri in [
        "/../x",
        "/a/../../x",
        "/%2e%2e/outside/secret.txt",
        "/a%2fb",
        "/%zz",
        "/a%00",
    ] {
        let res = get(&sd, uri).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(!body(res).await.contains('/'));
    }
}

#[tokio::test]
async fn symlinks_not_followed_by_default() {
    let tree = Tree::new();
    for sd in both(&tree, |s| s) {
        for uri in [
            "/escape.txt",
            "/abs.txt",
            "/link.txt",
            "/linkdir/",
            "/linkdir/page.html",
        ] {
            assert_eq!(get(&sd, uri).await.status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }
}

#[tokio::test]
async fn symlinks_followed_only_beneath_root() {
    let tree = Tree::new();
    for sd in both(&tree, |s| s.follow_symlinks(true)) {
        for uri in ["/escape.txt", "/abs.txt"] {
            assert_eq!(get(&sd, uri).await.status(), StatusCode::NOT_FOUND, "{uri}");
        }
        assert_eq!(body(get(&sd, "/link.txt").await).await, "hello");
        assert_eq!(body(get(&sd, "/linkdir/page.html").await).await, "page");
        assert_eq!(body(get(&sd, "/linkdir/").await).await, "dir home");
    }
}

#[cfg(target_os = "linux")] // mknodat: not on macOS
#[tokio::test]
async fn special_files_are_404_and_do_not_block() {
    use rustix::fs::Mode;
    let tree = Tree::new();
    let root = tree.root();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("fifo"),
        rustix::fs::FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    for sd in both(&tree, |s| s) {
        for uri in ["/fifo", "/sock"] {
            let res = tokio::time::timeout(Duration::from_secs(5), get(&sd, uri)).await;
            assert_eq!(res.unwrap().status(), StatusCode::NOT_FOUND, "{uri}");
        }
    }
}

#[tokio::test]
async fn permission_denied_is_403() {
    use std::os::unix::fs::PermissionsExt;
    let tree = Tree::new();
    let file = tree.root().join("locked.txt");
    std::fs::write(&file, "x").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if File::open(&file).is_ok() {
        return; // running with CAP_DAC_OVERRIDE (root): nothing to test
    }
    for sd in both(&tree, |s| s) {
        let res = get(&sd, "/locked.txt").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(!body(res).await.contains("locked"));
    }
}

#[tokio::test]
async fn missing_root_is_404() {
    let tree = Tree::new();
    let sd = ServeDir::new(tree.tmp.path().join("nope"));
    assert_eq!(get(&sd, "/").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&sd, "/hello.txt").await.status(), StatusCode::NOT_FOUND);
    let sd = ServeDir::new(tree.root().join("hello.txt"));
    assert_eq!(get(&sd, "/").await.status(), StatusCode::NOT_FOUND);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn openat2_is_used_where_available() {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let flags = OFlags::PATH | OFlags::DIRECTORY;
    let probe = rustix::fs::openat2(
        rustix::fs::CWD,
        ".",
        flags,
        Mode::empty(),
        ResolveFlags::BENEATH,
    );
    let tree = Tree::new();
    let sd = tree.serve();
    assert_eq!(get(&sd, "/hello.txt").await.status(), StatusCode::OK);
    let no_openat2 = sd
        .inner
        .root
        .as_ref()
        .unwrap()
        .no_openat2
        .load(Ordering::Relaxed);
    assert_eq!(no_openat2, probe.is_err());
}
