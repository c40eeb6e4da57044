//! Opening files beneath the served root: the containment mechanism every
//! file `ServeDir` serves goes through (main files, index files, and
//! anything later such as listings or precompressed sidecars). See step 3 of
//! the [pipeline](super) for the rules.
//!
//! The path given is already safe ([`resolve_path`](super::resolve_path):
//! decoded, no `..`, no separators inside segments); this module makes sure
//! the *filesystem* cannot lead outside the root either, whatever symlinks
//! it holds or how they change while a request is served.
//!
//! On Linux the open is one `openat2` call, and directories are `O_PATH`
//! handles; elsewhere (and on Linux with [`platform::force_portable`]) it
//! is the component-wise walk Linux falls back to when `openat2` is
//! missing, with directories opened read-only.

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};

use http::StatusCode;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::platform::{self, Portable};

/// Flags for every file we serve (see "Blocking" in the [module docs](super)
/// for `O_NONBLOCK`).
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY)
    .union(OFlags::NONBLOCK);

/// Flags for the root and the intermediate directories of the fallback
/// walk: on Linux a handle that only names the directory (`O_PATH`, needs
/// search permission, not read); elsewhere, where `O_PATH` is missing or
/// means something else, a read-only directory handle.
fn dir_flags() -> OFlags {
    let flags = OFlags::DIRECTORY.union(OFlags::CLOEXEC);
    #[cfg(target_os = "linux")]
    if platform::fast_paths() {
        return flags.union(OFlags::PATH);
    }
    flags.union(OFlags::RDONLY)
}

/// How often `openat2` is retried when it reports a concurrent rename or
/// mount (`EAGAIN`) before the request fails with 500.
#[cfg(target_os = "linux")]
const EAGAIN_RETRIES: usize = 4;

/// The served directory, held open.
#[derive(Debug)]
pub(super) struct Root {
    /// Directory handle every open is relative to (see [`dir_flags`]).
    pub(super) fd: OwnedFd,
    /// The canonical path the handle was opened from; used only by the
    /// fallback walk when following symlinks.
    canonical: PathBuf,
    /// Set once `openat2` turned out to be unusable, so the fallback is used
    /// straight away from then on.
    #[cfg(target_os = "linux")]
    pub(super) no_openat2: AtomicBool,
}

impl Root {
    /// Opens and canonicalizes the root directory.
    pub(super) fn open(path: &Path) -> io::Result<Root> {
        let canonical = std::fs::canonicalize(path)?;
        let fd = rustix::fs::open(&canonical, dir_flags(), Mode::empty())?;
        Ok(Root {
            fd,
            canonical,
            #[cfg(target_os = "linux")]
            no_openat2: AtomicBool::new(false),
        })
    }

    /// Opens `rel` (a [`SafePath`](super::SafePath) as a string; empty for
    /// the root itself) beneath the root and `fstat`s the handle.
    pub(super) fn open_file(
        &self,
        rel: &str,
        follow_symlinks: bool,
    ) -> Result<(File, Metadata), Errno> {
        let file = File::from(open_beneath(self, rel, follow_symlinks)?);
        let meta = file.metadata().map_err(|e| io_errno(&e))?;
        Ok((file, meta))
    }
}

/// The one way files are opened: `openat2` beneath the root, or the
/// fallback walk where `openat2` cannot be used (not Linux, a kernel
/// without it, a seccomp filter refusing it, or the portable paths forced).
fn open_beneath(root: &Root, rel: &str, follow_symlinks: bool) -> Result<OwnedFd, Errno> {
    #[cfg(target_os = "linux")]
    if platform::fast_paths()
        && !root.no_openat2.load(Ordering::Relaxed)
        && let Some(result) = open_openat2(root, rel, follow_symlinks)
    {
        return result;
    }
    platform::count(Portable::WalkOpen);
    open_fallback(root, rel, follow_symlinks)
}

/// `openat2` with `RESOLVE_BENEATH`; `None` when it turned out to be
/// unusable (the fallback is then used, from now on).
#[cfg(target_os = "linux")]
fn open_openat2(root: &Root, rel: &str, follow_symlinks: bool) -> Option<Result<OwnedFd, Errno>> {
    use rustix::fs::ResolveFlags;
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
                return None;
            }
            Err(Errno::PERM) => {
                // Maybe a seccomp filter, maybe a real refusal: the walk
                // tells. If it succeeds, openat2 itself was blocked.
                let fd = open_fallback(root, rel, follow_symlinks);
                if fd.is_ok() {
                    root.no_openat2.store(true, Ordering::Relaxed);
                }
                return Some(fd);
            }
            result => return Some(result),
        }
    }
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
        dir = Some(rustix::fs::openat(
            at,
            name,
            dir_flags() | OFlags::NOFOLLOW,
            Mode::empty(),
        )?);
    }
}

fn io_errno(e: &io::Error) -> Errno {
    Errno::from_io_error(e).unwrap_or(Errno::IO)
}

/// The status for a failed open (step 3).
pub(super) fn error_status(e: Errno) -> StatusCode {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve_dir::tests::Tree;

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
