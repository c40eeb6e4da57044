//! `ServeDir`: a [`Handler`] that serves the files beneath one directory.
//!
//! # Pipeline
//!
//! Each request goes through these steps, in this order; the first step
//! that produces a response ends it (sws `static_files`):
//!
//! 1. **Method.** Only `GET` and `HEAD`; anything else is `405` with
//!    `Allow: GET, HEAD`. `HEAD` gets exactly the `GET` response: the driver
//!    takes `Content-Length` from the body and never sends the body itself.
//! 2. **Path.** [`resolve_path`] on the raw URI path (the query is ignored):
//!    bad percent-encoding, a forbidden byte or a `..` above the root is
//!    `400`. A hidden segment (`.env`, `.git/`) is `404` unless
//!    [`ServeDir::hidden`] allows it.
//! 3. **Open.** The file is opened *beneath* the root directory handle, in
//!    one race-free step: `openat2` with `RESOLVE_BENEATH |
//!    RESOLVE_NO_MAGICLINKS` (plus `RESOLVE_NO_SYMLINKS` unless
//!    [`ServeDir::follow_symlinks`]). Where `openat2` is unavailable (`ENOSYS`
//!    before Linux 5.6, or `EPERM` from a seccomp filter) a component-wise
//!    `openat` walk with `O_NOFOLLOW` takes its place (when following
//!    symlinks, the path is first canonicalized and must stay beneath the
//!    canonical root). Every file served, index files included, is opened
//!    this way. The open handle is then `fstat`ed; nothing is ever `stat`ed
//!    by path first. Missing, not a directory, refused symlink, escape
//!    attempt or name too long is `404`, and so is everything when the root
//!    itself could not be opened; permission denied is `403`; anything else
//!    is `500`.
//! 4. **Kind.** A directory requested without a trailing slash is `301` to
//!    the same path with one (the query is dropped). A directory requested
//!    with one serves its index file (default `index.html`), opened as in
//!    step 3, or `404` if there is none. A regular file requested with a
//!    trailing slash is `404` (as nginx does). FIFOs, sockets and devices are
//!    `404`.
//! 5. **Response.** `200` with `Content-Type` from [`content_type`],
//!    `Last-Modified` from the file's mtime, and the open file as the body
//!    (`Content-Length` follows from its size).
//!
//! Conditional requests, ranges and listings will slot in between steps 4
//! and 5.
//!
//! Response bodies never contain filesystem paths; errors are the short
//! texts of [`crate::response::status`].
//!
//! # Blocking
//!
//! The filesystem calls (`openat2`/`openat`, `fstat`) are plain synchronous
//! syscalls made inside the handler's future, as nginx makes them without
//! `aio`: for a static tree they are answered from the dentry and page
//! caches in microseconds. Files are opened with `O_NONBLOCK` so that a FIFO
//! in the tree cannot block the worker in `open` waiting for a writer; the
//! flag has no effect on reads of regular files, the only kind ever served.

mod resolve;

pub use crate::content_type::content_type;
pub use resolve::{ResolveError, SafePath, resolve_path};

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Method, StatusCode, header};
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::handler::BoxFuture;
use crate::response::status;
use crate::{Body, Handler, Request, Response};

/// Flags for every file we serve (see "Blocking" above for `O_NONBLOCK`).
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY)
    .union(OFlags::NONBLOCK);

/// Flags for the intermediate directories of the fallback walk: a handle
/// that only names the directory (needs search permission, not read).
const DIR_FLAGS: OFlags = OFlags::PATH
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// How often `openat2` is retried when it reports a concurrent rename or
/// mount (`EAGAIN`) before the request fails with 500.
const EAGAIN_RETRIES: usize = 4;

/// First second of the year 10000; `httpdate` cannot format it.
const YEAR_10000: u64 = 253_402_300_800;

/// Serves the files beneath one directory; see the [module docs](self) for
/// the steps each request goes through.
///
/// ```no_run
/// use berth::ServeDir;
///
/// let site = ServeDir::new("./public").index_file("index.html");
/// # let _ = site;
/// ```
#[derive(Debug, Clone)]
pub struct ServeDir {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    /// `None` when the root could not be opened: every open then fails.
    root: Option<Arc<Root>>,
    serve_hidden: bool,
    follow_symlinks: bool,
    /// `None` when the configured name is not a single plain component.
    index_file: Option<Box<str>>,
}

/// The served directory, held open.
#[derive(Debug)]
struct Root {
    /// `O_PATH | O_DIRECTORY` handle every open is relative to.
    fd: OwnedFd,
    /// The canonical path the handle was opened from; used only by the
    /// fallback walk when following symlinks.
    canonical: PathBuf,
    /// Set once `openat2` turned out to be unusable, so the fallback is used
    /// straight away from then on.
    no_openat2: AtomicBool,
}

impl Root {
    fn open(path: &Path) -> io::Result<Root> {
        let canonical = std::fs::canonicalize(path)?;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(&canonical, flags, Mode::empty())?;
        Ok(Root {
            fd,
            canonical,
            no_openat2: AtomicBool::new(false),
        })
    }
}

impl ServeDir {
    /// Serves the directory `root`. It is opened here, once; if that fails,
    /// every request that reaches the open step gets `404`.
    pub fn new(root: impl AsRef<Path>) -> ServeDir {
        let inner = Inner {
            root: Root::open(root.as_ref()).ok().map(Arc::new),
            serve_hidden: false,
            follow_symlinks: false,
            index_file: Some("index.html".into()),
        };
        ServeDir {
            inner: Arc::new(inner),
        }
    }

    /// Whether paths with a segment starting with `.` are served. Default
    /// `false`: such requests get `404`.
    pub fn hidden(mut self, serve_hidden: bool) -> Self {
        Arc::make_mut(&mut self.inner).serve_hidden = serve_hidden;
        self
    }

    /// Whether symlinks are followed. Default `false`: no symlink anywhere
    /// in the path is followed (`404`). With `true`, only symlinks whose
    /// target stays beneath the root are followed. With `openat2`
    /// (`RESOLVE_BENEATH`) a target that is absolute, or that climbs above
    /// the root on its way, is refused even if it ends up inside; the
    /// fallback walk judges only where the target ends up.
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        Arc::make_mut(&mut self.inner).follow_symlinks = follow;
        self
    }

    /// The file served for a directory requested with a trailing slash.
    /// Default `index.html`. A name that is not a single path component
    /// (empty, `.`, `..`, or containing `/` or NUL) disables index files.
    pub fn index_file(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        let plain = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
        Arc::make_mut(&mut self.inner).index_file = plain.then(|| name.into_boxed_str());
        self
    }
}

impl Handler for ServeDir {
    fn call(&self, req: Request) -> BoxFuture<Response> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { inner.serve(&req) })
    }
}

impl Inner {
    fn serve(&self, req: &Request) -> Response {
        // 1. Method.
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut res = status(StatusCode::METHOD_NOT_ALLOWED);
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return res;
        }
        // 2. Path.
        let Ok(path) = resolve_path(req.uri().path()) else {
            return status(StatusCode::BAD_REQUEST);
        };
        if path.is_hidden() && !self.serve_hidden {
            return status(StatusCode::NOT_FOUND);
        }
        // 3. Open.
        let Some(root) = &self.root else {
            return status(StatusCode::NOT_FOUND);
        };
        let (file, meta) = match self.open(root, path.as_str()) {
            Ok(opened) => opened,
            Err(e) => return status(error_status(e)),
        };
        // 4. Kind.
        if meta.is_dir() {
            drop(file);
            if !path.has_trailing_slash() {
                return redirect_to_dir(&path);
            }
            let Some(index) = &self.index_file else {
                return status(StatusCode::NOT_FOUND);
            };
            let rel = if path.is_root() {
                index.to_string()
            } else {
                format!("{}/{index}", path.as_str())
            };
            return match self.open(root, &rel) {
                Ok((file, meta)) if meta.is_file() => {
                    file_response(file, &meta, Path::new(&**index))
                }
                Ok(_) => status(StatusCode::NOT_FOUND),
                Err(e) => status(error_status(e)),
            };
        }
        if !meta.is_file() || path.has_trailing_slash() {
            return status(StatusCode::NOT_FOUND);
        }
        // 5. Response.
        file_response(file, &meta, Path::new(path.as_str()))
    }

    /// Step 3: opens `rel` beneath the root and `fstat`s the handle.
    fn open(&self, root: &Root, rel: &str) -> Result<(File, Metadata), Errno> {
        let file = File::from(open_beneath(root, rel, self.follow_symlinks)?);
        let meta = file.metadata().map_err(|e| io_errno(&e))?;
        Ok((file, meta))
    }
}

/// The one way files are opened: `openat2` beneath the root, or the
/// fallback walk where `openat2` cannot be used.
fn open_beneath(root: &Root, rel: &str, follow_symlinks: bool) -> Result<OwnedFd, Errno> {
    if !root.no_openat2.load(Ordering::Relaxed) {
        let path = if rel.is_empty() { "." } else { rel };
        let mut resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        if !follow_symlinks {
            resolve |= ResolveFlags::NO_SYMLINKS;
        }
        let mut attempts = 0;
        loop {
            match rustix::fs::openat2(&root.fd, path, FILE_FLAGS, Mode::empty(), resolve) {
                Err(Errno::AGAIN) if attempts < EAGAIN_RETRIES => attempts += 1,
                Err(Errno::NOSYS) => {
                    root.no_openat2.store(true, Ordering::Relaxed);
                    break;
                }
                Err(Errno::PERM) => {
                    // Maybe a seccomp filter, maybe a real refusal: the walk
                    // tells. If it succeeds, openat2 itself was blocked.
                    let fd = open_fallback(root, rel, follow_symlinks)?;
                    root.no_openat2.store(true, Ordering::Relaxed);
                    return Ok(fd);
                }
                result => return result,
            }
        }
    }
    open_fallback(root, rel, follow_symlinks)
}

/// The fallback for kernels without `openat2`. Without symlinks it is just
/// [`open_walk`]. With them, the path is canonicalized against the root's
/// canonical path, refused (`EXDEV`) unless it stays beneath it, and the
/// canonical remainder is then opened with the same no-symlink walk, so a
/// symlink swapped in after canonicalizing is refused, never followed.
fn open_fallback(root: &Root, rel: &str, follow_symlinks: bool) -> Result<OwnedFd, Errno> {
    if !follow_symlinks {
        return open_walk(root.fd.as_fd(), Path::new(rel));
    }
    let real = std::fs::canonicalize(root.canonical.join(rel)).map_err(|e| io_errno(&e))?;
    let inside = real
        .strip_prefix(&root.canonical)
        .map_err(|_| Errno::XDEV)?;
    open_walk(root.fd.as_fd(), inside)
}

/// Opens the relative path `rel` beneath `root` one component at a time,
/// following no symlink: each directory is opened with `openat(O_PATH |
/// O_DIRECTORY | O_NOFOLLOW)` relative to the one before, and the last
/// component with the file flags plus `O_NOFOLLOW` (a symlink there fails
/// with `ELOOP`, one in the middle with `ENOTDIR`). An empty path opens the
/// root itself. Anything but plain names (`..`, `/`) is refused with `EXDEV`.
fn open_walk(root: BorrowedFd<'_>, rel: &Path) -> Result<OwnedFd, Errno> {
    let mut names = rel.components().peekable();
    let mut dir: Option<OwnedFd> = None;
    loop {
        let at = dir.as_ref().map_or(root, |d| d.as_fd());
        let name = match names.next() {
            None => return rustix::fs::openat(at, ".", FILE_FLAGS, Mode::empty()),
            Some(Component::CurDir) => continue,
            Some(Component::Normal(name)) => name,
            Some(_) => return Err(Errno::XDEV),
        };
        if names.peek().is_none() {
            return rustix::fs::openat(at, name, FILE_FLAGS | OFlags::NOFOLLOW, Mode::empty());
        }
        dir = Some(rustix::fs::openat(at, name, DIR_FLAGS, Mode::empty())?);
    }
}

fn io_errno(e: &io::Error) -> Errno {
    Errno::from_io_error(e).unwrap_or(Errno::IO)
}

/// The status for a failed open (step 3).
fn error_status(e: Errno) -> StatusCode {
    match e {
        // Missing, a file used as a directory, a refused symlink, an escape
        // attempt, an over-long name, or a socket/device with no reader.
        Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV | Errno::NAMETOOLONG => {
            StatusCode::NOT_FOUND
        }
        Errno::NXIO | Errno::NODEV => StatusCode::NOT_FOUND,
        Errno::ACCESS | Errno::PERM => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Step 4: `301` to the directory's URL with a trailing slash.
fn redirect_to_dir(path: &SafePath) -> Response {
    let mut location = path.to_url_path();
    if !location.ends_with('/') {
        location.push('/');
    }
    let Ok(location) = HeaderValue::try_from(location) else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let mut res = status(StatusCode::MOVED_PERMANENTLY);
    res.headers_mut().insert(header::LOCATION, location);
    res
}

/// Step 5: `200` with the whole file.
fn file_response(file: File, meta: &Metadata, name: &Path) -> Response {
    let mut res = Response::new(Body::file(file, 0, meta.len()));
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type(name));
    if let Some(modified) = last_modified(meta) {
        headers.insert(header::LAST_MODIFIED, modified);
    }
    res
}

/// `Last-Modified`, when the mtime is one HTTP dates can express (1970 to
/// 9999; `httpdate` panics outside that range).
fn last_modified(meta: &Metadata) -> Option<HeaderValue> {
    http_date(meta.modified().ok()?)
}

fn http_date(mtime: SystemTime) -> Option<HeaderValue> {
    let secs = mtime.duration_since(UNIX_EPOCH).ok()?.as_secs();
    if secs >= YEAR_10000 {
        return None;
    }
    HeaderValue::try_from(httpdate::fmt_http_date(mtime)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::Duration;

    use tempfile::TempDir;

    /// A temp dir holding `root/` (the tree served) and, next to it,
    /// `outside/secret.txt`, which symlinks in `root/` try to reach.
    struct Tree {
        tmp: TempDir,
    }

    impl Tree {
        fn new() -> Tree {
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

        fn root(&self) -> PathBuf {
            self.tmp.path().join("root")
        }

        fn serve(&self) -> ServeDir {
            ServeDir::new(self.root())
        }
    }

    /// Forces the fallback walk for every open.
    fn fallback(sd: ServeDir) -> ServeDir {
        if let Some(root) = &sd.inner.root {
            root.no_openat2.store(true, Ordering::Relaxed);
        }
        sd
    }

    async fn send(sd: &ServeDir, method: Method, uri: &str) -> Response {
        let req = http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        sd.call(req).await
    }

    async fn get(sd: &ServeDir, uri: &str) -> Response {
        send(sd, Method::GET, uri).await
    }

    async fn body(res: Response) -> String {
        let bytes = res.into_body().collect(1 << 20).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn header(res: &Response, name: header::HeaderName) -> Option<&str> {
        res.headers().get(name).map(|v| v.to_str().unwrap())
    }

    /// Both open mechanisms, for tests that must hold for each.
    fn both(tree: &Tree, configure: impl Fn(ServeDir) -> ServeDir) -> [ServeDir; 2] {
        [configure(tree.serve()), fallback(configure(tree.serve()))]
    }

    const TEXT: Option<&str> = Some("text/plain; charset=utf-8");

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
            ("/dir?q=1", "/dir/"),
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
    async fn other_methods_are_405() {
        let tree = Tree::new();
        let sd = tree.serve();
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
            let res = send(&sd, method, "/hello.txt").await;
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
            assert_eq!(header(&res, header::ALLOW), Some("GET, HEAD"));
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

    #[tokio::test]
    async fn special_files_are_404_and_do_not_block() {
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

    #[test]
    fn http_dates_outside_1970_to_9999_are_skipped() {
        // httpdate panics on these; files can carry any mtime.
        assert_eq!(http_date(UNIX_EPOCH - Duration::from_secs(1)), None);
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(YEAR_10000)),
            None
        );
        let last = http_date(UNIX_EPOCH + Duration::from_secs(YEAR_10000 - 1)).unwrap();
        assert_eq!(last, "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(
            http_date(UNIX_EPOCH).unwrap(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn walk_directly() {
        let tree = Tree::new();
        let root = Root::open(&tree.root()).unwrap();
        let fd = root.fd.as_fd();
        let read = |fd: OwnedFd| std::io::read_to_string(File::from(fd)).unwrap();

        assert_eq!(
            read(open_walk(fd, Path::new("hello.txt")).unwrap()),
            "hello"
        );
        assert_eq!(
            read(open_walk(fd, Path::new("dir/page.html")).unwrap()),
            "page"
        );
        assert!(
            File::from(open_walk(fd, Path::new("")).unwrap())
                .metadata()
                .unwrap()
                .is_dir()
        );
        assert_eq!(
            open_walk(fd, Path::new("missing")).unwrap_err(),
            Errno::NOENT
        );
        assert_eq!(
            open_walk(fd, Path::new("hello.txt/x")).unwrap_err(),
            Errno::NOTDIR
        );
        assert_eq!(
            open_walk(fd, Path::new("link.txt")).unwrap_err(),
            Errno::LOOP
        );
        assert_eq!(
            open_walk(fd, Path::new("escape.txt")).unwrap_err(),
            Errno::LOOP
        );
        let through_link = open_walk(fd, Path::new("linkdir/page.html")).unwrap_err();
        assert!(
            matches!(through_link, Errno::NOTDIR | Errno::LOOP),
            "{through_link:?}"
        );
        assert_eq!(
            open_walk(fd, Path::new("../outside/secret.txt")).unwrap_err(),
            Errno::XDEV
        );
        assert_eq!(
            open_walk(fd, Path::new("/etc/passwd")).unwrap_err(),
            Errno::XDEV
        );

        // Following symlinks: only those that stay beneath the root.
        let follow = |rel: &str| open_fallback(&root, rel, true);
        assert_eq!(read(follow("link.txt").unwrap()), "hello");
        assert_eq!(read(follow("linkdir/page.html").unwrap()), "page");
        assert_eq!(follow("escape.txt").unwrap_err(), Errno::XDEV);
        assert_eq!(follow("abs.txt").unwrap_err(), Errno::XDEV);
        assert_eq!(follow("missing").unwrap_err(), Errno::NOENT);
        assert!(File::from(follow("").unwrap()).metadata().unwrap().is_dir());
    }

    #[tokio::test]
    async fn openat2_is_used_where_available() {
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

    #[test]
    fn error_statuses() {
        assert_eq!(error_status(Errno::NOENT), StatusCode::NOT_FOUND);
        assert_eq!(error_status(Errno::LOOP), StatusCode::NOT_FOUND);
        assert_eq!(error_status(Errno::XDEV), StatusCode::NOT_FOUND);
        assert_eq!(error_status(Errno::ACCESS), StatusCode::FORBIDDEN);
        assert_eq!(error_status(Errno::PERM), StatusCode::FORBIDDEN);
        assert_eq!(
            error_status(Errno::MFILE),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
