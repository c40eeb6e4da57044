//! Unit tests of folder downloads: the walk (order, what it skips,
//! symlinks, loops, depth, files that change), both formats read back,
//! the `?download=` query, `Content-Disposition`, and the writer's output
//! once the body is gone.

use super::walk::{Content, MAX_DEPTH, Visit};
use super::write::{dos_time, is_compressed};
use super::*;
use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::{Cursor, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// Records what the walk hands over: `name/` for a directory,
/// `name=content` for a file.
#[derive(Default)]
struct Record(Vec<String>);

impl Visit for Record {
    fn dir(&mut self, path: &str, meta: &Metadata) -> io::Result<()> {
        assert!(meta.is_dir());
        self.0.push(format!("{path}/"));
        Ok(())
    }

    fn file(&mut self, path: &str, meta: &Metadata, data: &mut Content) -> io::Result<()> {
        let mut content = String::new();
        data.read_to_string(&mut content)?;
        assert_eq!(content.len() as u64, meta.len());
        self.0.push(format!("{path}={content}"));
        Ok(())
    }
}

/// `tmp/root/` with `tmp/outside/secret.txt` next to it:
///
/// ```text
/// B.txt  a.txt  c/d.txt  c/e/  .hidden  .dotdir/x  .berth-upload-1
/// fifo  bad\xff  in.txt -> a.txt  indir -> c  loop -> .  up -> ..
/// escape.txt -> ../outside/secret.txt  abs.txt -> /abs/outside/secret.txt
/// ```
fn tree() -> (TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(root.join("c/e")).unwrap();
    std::fs::create_dir_all(root.join(".dotdir")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    for (name, content) in [
        ("B.txt", "big b"),
        ("a.txt", "a"),
        ("c/d.txt", "d"),
        (".hidden", "h"),
        (".dotdir/x", "x"),
        (".berth-upload-1", "temp"),
    ] {
        std::fs::write(root.join(name), content).unwrap();
    }
    std::fs::write(root.join(OsStr::from_bytes(b"bad\xff")), "bad").unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    symlink("a.txt", root.join("in.txt")).unwrap();
    symlink("c", root.join("indir")).unwrap();
    symlink(".", root.join("loop")).unwrap();
    symlink("..", root.join("up")).unwrap();
    symlink("../outside/secret.txt", root.join("escape.txt")).unwrap();
    symlink(outside.join("secret.txt"), root.join("abs.txt")).unwrap();
    (tmp, root)
}

fn walked(root: &Path, rel: &str, hidden: bool, follow_symlinks: bool) -> io::Result<Vec<String>> {
    let served = Root::open(root).unwrap();
    let (dir, _) = served.open_file(rel, false).unwrap();
    let mut record = Record::default();
    let policy = Policy {
        hidden,
        follow_symlinks,
    };
    walk(&served, &dir, rel, "top", policy, &mut record)?;
    Ok(record.0)
}

#[test]
fn the_walk_is_sorted_and_skips_hidden_temp_symlinks_and_special_files() {
    let (_tmp, root) = tree();
    assert_eq!(
        walked(&root, "", false, false).unwrap(),
        [
            "top/",
            "top/B.txt=big b",
            "top/a.txt=a",
            "top/c/",
            "top/c/d.txt=d",
            "top/c/e/"
        ]
    );
    // A subdirectory: its own name comes from the caller.
    assert_eq!(
        walked(&root, "c", false, false).unwrap(),
        ["top/", "top/d.txt=d", "top/e/"]
    );
}

#[test]
fn hidden_names_only_when_served_and_temp_files_never() {
    let (_tmp, root) = tree();
    assert_eq!(
        walked(&root, "", true, false).unwrap(),
        [
            "top/",
            "top/.dotdir/",
            "top/.dotdir/x=x",
            "top/.hidden=h",
            "top/B.txt=big b",
            "top/a.txt=a",
            "top/c/",
            "top/c/d.txt=d",
            "top/c/e/",
        ]
    );
}

#[test]
fn symlinks_followed_only_beneath_the_root_and_never_round_a_loop() {
    let (_tmp, root) = tree();
    let all = walked(&root, "", false, true).unwrap();
    assert_eq!(
        all,
        [
            "top/",
            "top/B.txt=big b",
            "top/a.txt=a",
            "top/c/",
            "top/c/d.txt=d",
            "top/c/e/",
            "top/in.txt=a",
            "top/indir/",
            "top/indir/d.txt=d",
            "top/indir/e/",
        ]
    );
    assert!(!all.iter().any(|e| e.contains("secret")), "{all:?}");
    // From a subdirectory, a symlink up to the root is followed (it stays
    // beneath it), but not round and round.
    std::fs::create_dir(root.join("s")).unwrap();
    symlink("..", root.join("s/up")).unwrap();
    let from_s = walked(&root, "s", false, true).unwrap();
    assert!(from_s.contains(&"top/up/a.txt=a".to_owned()), "{from_s:?}");
    assert!(!from_s.iter().any(|e| e.contains("up/s/")), "{from_s:?}");
}

#[test]
fn a_tree_deeper_than_the_limit_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let mut deep = tmp.path().to_path_buf();
    for _ in 0..MAX_DEPTH {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let entries = walked(tmp.path(), "", false, false).unwrap();
    assert_eq!(entries.len(), MAX_DEPTH + 1);
    std::fs::create_dir(deep.join("d")).unwrap();
    let err = walked(tmp.path(), "", false, false).unwrap_err();
    assert!(err.to_string().contains("levels deep"), "{err}");
}

/// Changes `victim` as the walk reaches it, with `change`.
struct Meddle<F: FnMut()> {
    victim: &'static str,
    change: F,
}

impl<F: FnMut()> Visit for Meddle<F> {
    fn dir(&mut self, _: &str, _: &Metadata) -> io::Result<()> {
        Ok(())
    }

    fn file(&mut self, path: &str, _: &Metadata, data: &mut Content) -> io::Result<()> {
        if path.ends_with(self.victim) {
            (self.change)();
        }
        io::copy(data, &mut io::sink()).map(drop)
    }
}

fn meddled(change: impl FnMut(&Path)) -> io::Error {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f.bin");
    std::fs::write(&file, vec![7; 100_000]).unwrap();
    let served = Root::open(tmp.path()).unwrap();
    let (dir, _) = served.open_file("", false).unwrap();
    let mut change = change;
    let mut meddle = Meddle {
        victim: "f.bin",
        change: || change(&file),
    };
    let policy = Policy {
        hidden: false,
        follow_symlinks: false,
    };
    walk(&served, &dir, "", "top", policy, &mut meddle).unwrap_err()
}

#[test]
fn a_file_that_changes_while_read_fails_the_walk() {
    let shrank = meddled(|f| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(f)
            .unwrap()
            .set_len(10)
            .unwrap()
    });
    assert_eq!(shrank.kind(), io::ErrorKind::UnexpectedEof, "{shrank}");
    let grew = meddled(|f| {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(f).unwrap();
        file.write_all(b"more").unwrap();
    });
    assert!(grew.to_string().contains("changed"), "{grew}");
}

/// Writes the tree at `root` with `writer`, returning what it wrote.
fn archive<W: Visit>(
    root: &Path,
    writer: W,
    finish: impl FnOnce(W) -> io::Result<Vec<u8>>,
) -> Vec<u8> {
    let served = Root::open(root).unwrap();
    let (dir, _) = served.open_file("", false).unwrap();
    let mut writer = writer;
    let policy = Policy {
        hidden: false,
        follow_symlinks: false,
    };
    walk(&served, &dir, "", "root", policy, &mut writer).unwrap();
    finish(writer).unwrap()
}

/// A small tree with a nested file, an empty directory, a non-ASCII name
/// and a compressible and an incompressible file.
fn sample() -> (TempDir, Vec<(String, Vec<u8>)>) {
    let tmp = tempfile::tempdir().unwrap();
    let files = vec![
        ("a.txt".to_owned(), b"hello ".repeat(1000)),
        ("sub/ünï cödé.txt".to_owned(), "ü".as_bytes().to_vec()),
        (
            "sub/pic.png".to_owned(),
            (0..=255u8).cycle().take(70_000).collect(),
        ),
    ];
    std::fs::create_dir_all(tmp.path().join("sub/empty")).unwrap();
    for (name, content) in &files {
        std::fs::write(tmp.path().join(name), content).unwrap();
    }
    (tmp, files)
}

#[test]
fn tar_gz_reads_back() {
    let (tmp, files) = sample();
    let bytes = archive(tmp.path(), TarGz::new(Vec::new()), TarGz::finish);
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(Cursor::new(bytes)));
    let mut seen = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        assert_eq!(entry.header().uid().unwrap(), 0);
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        seen.push((name, content));
    }
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "root/",
            "root/a.txt",
            "root/sub/",
            "root/sub/empty/",
            "root/sub/pic.png",
            "root/sub/ünï cödé.txt"
        ]
    );
    for (name, content) in &files {
        let (_, got) = seen
            .iter()
            .find(|(n, _)| *n == format!("root/{name}"))
            .unwrap();
        assert_eq!(got, content, "{name}");
    }
}

#[test]
fn zip_reads_back_with_pngs_stored() {
    let (tmp, files) = sample();
    let bytes = archive(tmp.path(), Zip::new(Vec::new()), Zip::finish);
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert_eq!(
        names,
        [
            "root/",
            "root/a.txt",
            "root/sub/",
            "root/sub/empty/",
            "root/sub/pic.png",
            "root/sub/ünï cödé.txt"
        ]
    );
    for (name, content) in &files {
        let mut entry = zip.by_name(&format!("root/{name}")).unwrap();
        let method = entry.compression();
        let mut got = Vec::new();
        entry.read_to_end(&mut got).unwrap();
        assert_eq!(&got, content, "{name}");
        let stored = name.ends_with(".png");
        assert_eq!(method == zip::CompressionMethod::Stored, stored, "{name}");
    }
}

#[test]
fn query_values() {
    assert!(requested(None).is_none());
    assert!(requested(Some("")).is_none());
    assert!(requested(Some("sort=size")).is_none());
    assert_eq!(
        requested(Some("download=tar.gz")).unwrap().ok(),
        Some(Format::TarGz)
    );
    assert_eq!(
        requested(Some("x=1&download=zip&download=no"))
            .unwrap()
            .ok(),
        Some(Format::Zip)
    );
    assert_eq!(
        requested(Some("download=tar%2Egz")).unwrap().ok(),
        Some(Format::TarGz)
    );
    for bad in ["download=rar", "download=", "download", "download=ZIP"] {
        let res = requested(Some(bad)).unwrap().unwrap_err();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[test]
fn content_dispositions() {
    let value = |name: &str| {
        content_disposition(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(value("docs.tar.gz"), "attachment; filename=\"docs.tar.gz\"");
    assert_eq!(value("a b.zip"), "attachment; filename=\"a b.zip\"");
    assert_eq!(
        value("q\"u\\o%te.zip"),
        "attachment; filename=\"q_u_o_te.zip\"; filename*=UTF-8''q%22u%5Co%25te.zip"
    );
    assert_eq!(
        value("dócs €.zip"),
        "attachment; filename=\"d_cs _.zip\"; filename*=UTF-8''d%C3%B3cs%20%E2%82%AC.zip"
    );
}

#[test]
fn zip_times_and_stored_types() {
    let t = dos_time(1_700_000_000); // 2023-11-14 22:13:20 UTC
    assert_eq!((t.year(), t.month(), t.day()), (2023, 11, 14));
    assert_eq!((t.hour(), t.minute(), t.second()), (22, 13, 20));
    assert_eq!(dos_time(0).year(), 1980);
    assert_eq!(dos_time(-5).year(), 1980);
    assert_eq!(dos_time(i64::MAX).year(), 1980);
    assert_eq!(dos_time(5_000_000_000).year(), 2107);
    assert!(is_compressed("top/a.JPG"));
    assert!(is_compressed("top/b.tar.gz"));
    assert!(!is_compressed("top/c.txt"));
    assert!(!is_compressed("top/d.png/readme"));
    assert!(!is_compressed("top/Makefile"));
}

#[test]
fn once_the_body_is_gone_writes_fail_then_are_discarded() {
    let (tx, rx) = mpsc::channel(1);
    drop(rx);
    let mut out = Out {
        tx,
        buf: BytesMut::new(),
        gone: false,
        discard: Arc::new(AtomicBool::new(false)),
    };
    let chunk = vec![0; CHUNK];
    let err = out.write_all(&chunk).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(out.write(&chunk).unwrap(), CHUNK);
    out.flush().unwrap();
}

#[tokio::test]
async fn serve_dir_answers_only_with_archives_on() {
    use crate::serve_dir::tests::{Tree, get, send};
    let tree = Tree::new();
    // Off: the query is ignored (the index file, as without it).
    let off = tree.serve();
    let res = get(&off, "/dir/?download=zip").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let on = tree.serve().archives(true);
    let res = get(&on, "/dir/?download=tar.gz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/gzip");
    assert_eq!(
        res.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"dir.tar.gz\""
    );
    assert_eq!(res.body().size_hint(), None);
    let body = res.into_body().collect(1 << 20).await.unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(Cursor::new(body)));
    let names: Vec<String> = tar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["dir/", "dir/index.html", "dir/page.html"]);
    // The root is `root`; HEAD has the head and an empty body.
    let res = send(&on, Method::HEAD, "/?download=zip").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"root.zip\""
    );
    assert!(res.into_body().collect(1).await.unwrap().is_empty());
    // Unknown format: 400; a file: the query is ignored; no slash: 301
    // with the query kept; OPTIONS: as before.
    let res = get(&on, "/dir/?download=rar").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = get(&on, "/hello.txt?download=zip").await;
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    let res = get(&on, "/dir?download=zip").await;
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(res.headers()[header::LOCATION], "/dir/?download=zip");
    let res = send(&on, Method::OPTIONS, "/dir/?download=zip").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // A hidden directory stays 404 unless hidden files are served.
    std::fs::create_dir(tree.root().join(".git")).unwrap();
    assert_eq!(
        get(&on, "/.git/?download=zip").await.status(),
        StatusCode::NOT_FOUND
    );
}
