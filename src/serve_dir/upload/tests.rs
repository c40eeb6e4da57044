//! Unit tests of uploads: the temporary file and its rename, the status
//! of each failure (507 for a full disk, through `/dev/full`), the name
//! rules, and the choice of a browser's answer. End-to-end tests over
//! sockets are `tests/uploads.rs` and `tests/uploads_binary.rs`.

use std::os::fd::OwnedFd;
use std::os::unix::fs::symlink;
use std::sync::Arc;

use http::StatusCode;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::store::{Stored, TempFile, check_target, place_portable, write_error};
use crate::safe_path::is_plain_name;
use crate::serve_dir::UPLOAD_TEMP_PREFIX;
use crate::serve_dir::listing::prefers_html;

fn dir() -> (tempfile::TempDir, Arc<OwnedFd>) {
    let tmp = tempfile::tempdir().unwrap();
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(tmp.path(), flags, Mode::empty()).unwrap();
    (tmp, Arc::new(fd))
}

/// The names in the directory, sorted.
fn names(tmp: &tempfile::TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_temporary_file_becomes_the_name_only_when_committed() {
    let (tmp, dir) = dir();
    let mut temp = TempFile::create(&dir).unwrap();
    assert!(
        temp.name().starts_with(UPLOAD_TEMP_PREFIX),
        "{}",
        temp.name()
    );
    temp.write(b"hello, ").unwrap();
    temp.write(b"world").unwrap();
    // Not yet under its name; the temporary name holds nothing readable
    // yet (the bytes are in the write buffer).
    assert_eq!(names(&tmp), [temp.name().to_string()]);
    assert_eq!(temp.commit("a.txt", false).await, Ok(Stored::Created));
    assert_eq!(names(&tmp), ["a.txt"]);
    assert_eq!(
        std::fs::read(tmp.path().join("a.txt")).unwrap(),
        b"hello, world"
    );

    // Taken: refused without overwrite, and the temporary file goes.
    let mut temp = TempFile::create(&dir).unwrap();
    temp.write(b"second").unwrap();
    assert_eq!(temp.commit("a.txt", false).await, Err(Errno::EXIST));
    assert_eq!(names(&tmp), ["a.txt"]);
    assert_eq!(
        std::fs::read(tmp.path().join("a.txt")).unwrap(),
        b"hello, world"
    );
    // With overwrite: replaced.
    let mut temp = TempFile::create(&dir).unwrap();
    temp.write(b"third").unwrap();
    assert_eq!(temp.commit("a.txt", true).await, Ok(Stored::Replaced));
    assert_eq!(names(&tmp), ["a.txt"]);
    assert_eq!(std::fs::read(tmp.path().join("a.txt")).unwrap(), b"third");
}

#[test]
fn a_dropped_temporary_file_leaves_nothing() {
    let (tmp, dir) = dir();
    let mut temp = TempFile::create(&dir).unwrap();
    temp.write(&[7; 300 * 1024]).unwrap();
    let other = TempFile::create(&dir).unwrap();
    assert_ne!(temp.name(), other.name());
    assert_eq!(names(&tmp).len(), 2);
    drop(temp);
    drop(other);
    assert!(names(&tmp).is_empty(), "{:?}", names(&tmp));
}

#[test]
fn the_portable_rename_never_replaces_without_overwrite() {
    let (tmp, dir) = dir();
    let make = |name: &str, content: &str| {
        std::fs::write(tmp.path().join(name), content).unwrap();
    };
    make("t1", "one");
    assert_eq!(place_portable(&dir, "t1", "x", false), Ok(Stored::Created));
    make("t2", "two");
    assert_eq!(place_portable(&dir, "t2", "x", false), Err(Errno::EXIST));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("x")).unwrap(),
        "one"
    );
    assert_eq!(place_portable(&dir, "t2", "x", true), Ok(Stored::Replaced));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("x")).unwrap(),
        "two"
    );
    assert_eq!(names(&tmp), ["x"]);
}

#[test]
fn a_full_disk_is_507_and_the_temporary_file_goes() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full");
        return;
    };
    let (tmp, dir) = dir();
    let mut temp = TempFile::create(&dir).unwrap();
    temp.write_to(full);
    // More than the write buffer: the write reaches the "disk".
    let err = temp.write(&[0; 1 << 20]).unwrap_err();
    assert_eq!(err, Errno::NOSPC);
    assert_eq!(write_error(err).status, StatusCode::INSUFFICIENT_STORAGE);
    drop(temp);
    assert!(names(&tmp).is_empty(), "{:?}", names(&tmp));
}

#[test]
fn each_write_error_has_its_status() {
    for (errno, status) in [
        (Errno::NOSPC, StatusCode::INSUFFICIENT_STORAGE),
        (Errno::DQUOT, StatusCode::INSUFFICIENT_STORAGE),
        (Errno::ACCESS, StatusCode::FORBIDDEN),
        (Errno::PERM, StatusCode::FORBIDDEN),
        (Errno::ROFS, StatusCode::FORBIDDEN),
        (Errno::EXIST, StatusCode::CONFLICT),
        (Errno::ISDIR, StatusCode::CONFLICT),
        (Errno::NAMETOOLONG, StatusCode::BAD_REQUEST),
        (Errno::FBIG, StatusCode::PAYLOAD_TOO_LARGE),
        (Errno::NOENT, StatusCode::NOT_FOUND),
        (Errno::IO, StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        assert_eq!(write_error(errno).status, status, "{errno:?}");
    }
}

#[test]
fn targets_are_checked_without_following_them() {
    let (tmp, dir) = dir();
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    symlink("/etc/passwd", tmp.path().join("link")).unwrap();
    symlink("missing", tmp.path().join("dangling")).unwrap();
    let status =
        |name: &str, overwrite: bool| check_target(&dir, name, overwrite).map_err(|r| r.status);
    assert_eq!(status("new", false), Ok(()));
    assert_eq!(status("file", false), Err(StatusCode::CONFLICT));
    assert_eq!(status("file", true), Ok(()));
    assert_eq!(status("sub", true), Err(StatusCode::CONFLICT));
    assert_eq!(status("link", true), Err(StatusCode::FORBIDDEN));
    assert_eq!(status("dangling", false), Err(StatusCode::FORBIDDEN));
}

#[test]
fn plain_names() {
    for ok in ["a.txt", "a b", "café", "...", "..a", ".env", "100%"] {
        assert!(is_plain_name(ok), "{ok:?}");
    }
    for bad in ["", ".", "..", "a/b", "a\\b", "a\0b", "a\nb", "a\x7fb", "/"] {
        assert!(!is_plain_name(bad), "{bad:?}");
    }
}

#[test]
fn browsers_are_told_apart_from_other_clients() {
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    assert!(prefers_html(Some(browser)));
    assert!(prefers_html(Some("text/html")));
    for other in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("text/*, application/json"),
    ] {
        assert!(!prefers_html(other), "{other:?}");
    }
}
