//! The portable paths, on Linux: with `berth::platform::force_portable`
//! on, berth serves files and sockets the way it does on a Unix system
//! without `openat2`, `O_PATH`, `sendfile`, `MSG_MORE` or `accept4` flags.
//! Each test checks the answers (large files intact, ranges, symlinks and
//! `..` refused) and, through `berth::platform::portable_counts`, that the
//! portable path is what produced them.
//!
//! The switch is process-wide, so every test here turns it on and none
//! turns it off; the tests run one at a time so that each can count
//! exactly what its own requests did.

mod support;

use std::os::unix::fs::symlink;
use std::sync::{Mutex, MutexGuard};

use berth::ServerConfig;
use berth::platform::{PortableCounts, force_portable, portable_counts};
use support::{
    BIG_LEN, HELLO_TXT, INDEX_HTML, OUTSIDE, Resp, SUB_INDEX_HTML, TestServer, big_content, get,
    start, start_serve_dir_with,
};

static SERIAL: Mutex<()> = Mutex::new(());

/// Portable paths on, other tests of this file kept out until the guard
/// drops; the counts to compare with at the end.
fn begin() -> (MutexGuard<'static, ()>, PortableCounts) {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    force_portable(true);
    (guard, portable_counts())
}

/// What the portable paths counted since `before`.
fn since(before: PortableCounts) -> PortableCounts {
    let now = portable_counts();
    PortableCounts {
        walk_opens: now.walk_opens - before.walk_opens,
        buffered_files: now.buffered_files - before.buffered_files,
        accepts: now.accepts - before.accepts,
        listeners: now.listeners - before.listeners,
        link_renames: now.link_renames - before.link_renames,
    }
}

fn request(path: &str, fields: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n{fields}\r\n").into_bytes()
}

fn fetch(server: &TestServer, path: &str) -> Resp {
    server.connect().request(get(path))
}

/// Neither the content of the file next to ROOT nor anything of
/// `/etc/passwd`.
fn assert_clean(path: &str, r: &Resp) {
    let body = String::from_utf8_lossy(&r.body);
    assert!(!body.contains(OUTSIDE.trim()), "{path}: outside content");
    assert!(!body.contains("root:x:0:0"), "{path}: /etc/passwd");
}

#[test]
fn a_large_file_arrives_intact_without_sendfile() {
    let (_serial, before) = begin();
    let server = start();
    let mut c = server.connect();
    let r = c.request(get("/big.bin"));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(BIG_LEN.to_string().as_str())
    );
    assert!(r.body == big_content(), "1 MiB body differs from the file");
    // The connection goes on after a buffered large body.
    assert_eq!(c.request(get("/hello.txt")).body_str(), HELLO_TXT);

    let counted = since(before);
    // The 1 MiB body (not the 13-byte one) would have been `sendfile`d.
    assert_eq!(counted.buffered_files, 1, "{counted:?}");
    assert!(counted.walk_opens >= 2, "{counted:?}");
    assert_eq!(counted.accepts, 1, "{counted:?}");
    assert_eq!(counted.listeners, 1, "{counted:?}");
}

#[test]
fn pipelined_large_files_stay_in_order() {
    let (_serial, before) = begin();
    let server = start();
    let mut c = server.connect();
    let one = get("/big.bin");
    c.send([one.as_slice(), &get("/hello.txt"), &one].concat());
    let big = big_content();
    assert!(c.read_response().body == big);
    assert_eq!(c.read_response().body_str(), HELLO_TXT);
    assert!(c.read_response().body == big);
    assert_eq!(since(before).buffered_files, 2);
}

#[test]
fn ranges_without_sendfile() {
    let (_serial, before) = begin();
    let server = start();
    let big = big_content();
    let mut c = server.connect();
    // Single ranges, large enough for `sendfile` (the first three) or not.
    for (range, first, last) in [
        ("bytes=0-", 0, BIG_LEN - 1),
        ("bytes=12345-654321", 12345, 654_321),
        ("bytes=-100000", BIG_LEN - 100_000, BIG_LEN - 1),
        ("bytes=500-599", 500, 599),
    ] {
        let r = c.request(request("/big.bin", &format!("Range: {range}\r\n")));
        assert_eq!(r.status, 206, "{range}");
        let want = format!("bytes {first}-{last}/{BIG_LEN}");
        assert_eq!(r.header("content-range"), Some(want.as_str()));
        assert!(r.body == big[first..=last], "{range}: wrong bytes");
    }
    assert_eq!(since(before).buffered_files, 3);

    // Several ranges: multipart, read in pieces (never `sendfile`).
    let r = c.request(request("/big.bin", "Range: bytes=0-99,200000-399999\r\n"));
    assert_eq!(r.status, 206);
    let find = |part: &[u8]| r.body.windows(part.len()).any(|w| w == part);
    assert!(find(&big[0..100]) && find(&big[200_000..400_000]));

    let r = c.request(request("/big.bin", "Range: bytes=2000000-\r\n"));
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{BIG_LEN}").as_str())
    );
    assert_eq!(since(before).buffered_files, 3);
}

#[test]
fn index_files_and_listings_open_through_the_walk() {
    let (_serial, before) = begin();
    let server = start_serve_dir_with(ServerConfig::default(), |s| s.listing(true));
    std::fs::create_dir(server.root.join("list")).unwrap();
    std::fs::write(server.root.join("list/a b.txt"), "a").unwrap();
    let mut c = server.connect();
    assert_eq!(c.request(get("/")).body_str(), INDEX_HTML);
    assert_eq!(c.request(get("/sub/")).body_str(), SUB_INDEX_HTML);
    let r = c.request(get("/sub"));
    assert_eq!((r.status, r.header("location")), (301, Some("/sub/")));
    let r = c.request(get("/list/"));
    assert_eq!(r.status, 200);
    assert!(r.body_str().contains("a%20b.txt"), "{}", r.body_str());
    // Each directory and each index file is an open of its own.
    assert!(since(before).walk_opens >= 6, "{:?}", since(before));
}

/// Symlinks in `server`'s ROOT: to the file next to ROOT (absolute and
/// relative), to a directory outside, to ROOT's parent, to `/etc/passwd`,
/// and two that stay inside.
fn links(server: &TestServer) {
    let (root, tmp) = (&server.root, server.tmp());
    std::fs::create_dir(tmp.join("outside")).unwrap();
    std::fs::write(tmp.join("outside/secret.txt"), OUTSIDE).unwrap();
    symlink(tmp.join("outside.txt"), root.join("abs.txt")).unwrap();
    symlink("../outside.txt", root.join("rel.txt")).unwrap();
    symlink("../outside", root.join("outdir")).unwrap();
    symlink("..", root.join("up")).unwrap();
    symlink("/etc/passwd", root.join("passwd")).unwrap();
    symlink("hello.txt", root.join("in.txt")).unwrap();
    symlink("sub", root.join("indir")).unwrap();
}

/// Paths through the symlinks of [`links`] that end outside ROOT.
const ESCAPING: [&str; 6] = [
    "/abs.txt",
    "/rel.txt",
    "/outdir/secret.txt",
    "/outdir/",
    "/up/outside.txt",
    "/passwd",
];

#[test]
fn symlinks_out_of_the_root_are_refused_by_the_walk() {
    let (_serial, before) = begin();
    let server = start();
    links(&server);
    for path in ESCAPING
        .iter()
        .chain(&["/up/root/hello.txt", "/in.txt", "/indir/"])
    {
        let r = fetch(&server, path);
        assert_eq!(r.status, 404, "{path} (symlinks are not followed)");
        assert_clean(path, &r);
    }
    let counted = since(before);
    assert!(counted.walk_opens >= 9, "{counted:?}");
    assert_eq!(counted.accepts, 9, "{counted:?}");
}

#[test]
fn followed_symlinks_must_end_inside_the_root() {
    let (_serial, before) = begin();
    let server = start_serve_dir_with(ServerConfig::default(), |s| s.follow_symlinks(true));
    links(&server);
    for path in ESCAPING {
        let r = fetch(&server, path);
        assert_eq!(r.status, 404, "{path}");
        assert_clean(path, &r);
    }
    assert_eq!(fetch(&server, "/in.txt").body_str(), HELLO_TXT);
    assert_eq!(fetch(&server, "/indir/").body_str(), SUB_INDEX_HTML);
    // Out through `..` and back in: `openat2` (RESOLVE_BENEATH) refuses
    // it, the walk judges where it ends. Inside either way.
    let r = fetch(&server, "/up/root/hello.txt");
    assert_eq!((r.status, r.body_str()), (200, HELLO_TXT));
    assert!(since(before).walk_opens >= 9, "{:?}", since(before));
}

#[test]
fn dot_dot_never_leaves_the_root() {
    let (_serial, before) = begin();
    let server = start();
    for path in [
        "/../outside.txt",
        "/%2e%2e/outside.txt",
        "/%2E%2E%2Foutside.txt",
        "/sub/../../outside.txt",
        "/sub/%2e%2e/%2e%2e/outside.txt",
        "/..%5coutside.txt",
        "/../../../../etc/passwd",
    ] {
        let r = fetch(&server, path);
        assert!(matches!(r.status, 400 | 404), "{path}: {}", r.status);
        assert_clean(path, &r);
    }
    // Dot segments that stay inside are resolved, then opened by the walk.
    let opens = since(before).walk_opens;
    assert_eq!(fetch(&server, "/sub/../hello.txt").body_str(), HELLO_TXT);
    assert_eq!(
        fetch(&server, "/sub/./index.html").body_str(),
        SUB_INDEX_HTML
    );
    assert!(since(before).walk_opens >= opens + 2);
    assert_eq!(since(before).accepts, 9);
}

/// A directory swapped with a symlink to outside while requests run: the
/// walk opens every directory with `O_NOFOLLOW` relative to the one before,
/// so it either holds the real directory or is refused; no answer is the
/// outside file.
#[cfg(target_os = "linux")] // renameat2(RENAME_EXCHANGE)
#[test]
fn swapping_a_directory_for_a_symlink_never_leaks_through_the_walk() {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let (_serial, before) = begin();
    let server = start();
    let (root, tmp) = (server.root.clone(), server.tmp().to_path_buf());
    std::fs::create_dir(tmp.join("outside")).unwrap();
    std::fs::write(tmp.join("outside/secret.txt"), OUTSIDE).unwrap();
    std::fs::create_dir(root.join("race")).unwrap();
    std::fs::write(root.join("race/secret.txt"), "inside race\n").unwrap();
    symlink("../outside", root.join("race_swap")).unwrap();

    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (a, b) = (root.join("race"), root.join("race_swap"));
            let mut swaps = 0u32;
            while !stop.load(Ordering::Relaxed) {
                renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).unwrap();
                swaps += 1;
            }
            swaps
        })
    };
    let (mut inside, mut refused) = (0u64, 0u64);
    let until = Instant::now() + Duration::from_millis(200);
    let mut c = server.connect();
    while Instant::now() < until {
        let r = c.request(get("/race/secret.txt"));
        assert_clean("/race/secret.txt", &r);
        match r.status {
            200 => {
                assert_eq!(r.body_str(), "inside race\n");
                inside += 1;
            }
            404 => refused += 1,
            other => panic!("/race/secret.txt: {other}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    assert!(swapper.join().unwrap() > 0);
    assert!(inside + refused > 0);
    assert!(since(before).walk_opens >= inside + refused);
}

#[cfg(feature = "upload")]
#[test]
fn uploads_take_their_name_by_link_and_never_through_a_symlink() {
    use berth::serve_dir::Uploads;
    let (_serial, before) = begin();
    let server = start_serve_dir_with(ServerConfig::default(), |files| {
        files.uploads(Uploads::default())
    });
    symlink(server.tmp(), server.root.join("away")).unwrap();
    let put = |path: &str, body: &str| {
        server.connect().request(format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    };
    let r = put("/sub/new.txt", "one");
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(put("/sub/new.txt", "two").status, 409);
    assert_eq!(
        std::fs::read_to_string(server.root.join("sub/new.txt")).unwrap(),
        "one"
    );
    assert_eq!(put("/away/x.txt", "pwned").status, 404);
    assert!(!server.tmp().join("x.txt").exists());
    let counted = since(before);
    // The second upload was refused before its body (the name exists).
    assert_eq!(counted.link_renames, 1, "{counted:?}");
    assert!(counted.walk_opens >= 3, "{counted:?}");
}
