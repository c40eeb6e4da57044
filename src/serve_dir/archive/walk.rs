//! The walk behind an archive: a directory's tree, depth first, each
//! directory's names in byte order, read through open handles beneath the
//! root. See "Walk" in the [module docs](super) for the rules.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::super::listing::{Kind, read_entries};
use super::super::open::Root;

/// How deep beneath the archived directory the walk goes: a directory
/// more levels down ends the archive with an error.
pub(super) const MAX_DEPTH: usize = 64;

/// The most names one directory may hold; more ends the archive with an
/// error (a listing shows a part; an archive is whole or fails).
pub(super) const MAX_DIR_ENTRIES: usize = 1 << 20;

/// Flags for every file archived: as for a file served (`O_NONBLOCK`, so a
/// FIFO swapped in cannot block the open), never following a symlink.
const FILE_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY)
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOFOLLOW);

/// Flags for the directories beneath the archived one.
const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOFOLLOW);

/// What the walk includes: the [`ServeDir`](crate::ServeDir)'s own
/// policy for reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Names starting with `.` are included ([`ServeDir::hidden`](crate::ServeDir::hidden)).
    pub(crate) hidden: bool,
    /// Symlinks whose target stays beneath the root are followed
    /// ([`ServeDir::follow_symlinks`](crate::ServeDir::follow_symlinks)).
    pub(crate) follow_symlinks: bool,
}

/// What the walk hands each entry to: an archive writer, or a test's
/// recorder. `path` is the entry's name in the archive (`top/sub/name`,
/// no trailing `/`).
pub(super) trait Visit {
    /// A directory, before its entries.
    fn dir(&mut self, path: &str, meta: &Metadata) -> io::Result<()>;
    /// A regular file: its metadata (`meta.len()` bytes) and its content,
    /// which must be read to the end.
    fn file(&mut self, path: &str, meta: &Metadata, data: &mut Content) -> io::Result<()>;
}

/// A file's content as archived: exactly the length its metadata gave
/// when it was opened. A file that ends sooner fails the read (it shrank
/// while being read); one that grew is read only that far, and the walk
/// then refuses it as changed (see [`Content::check_unchanged`]).
#[derive(Debug)]
pub(crate) struct Content {
    file: File,
    left: u64,
}

impl Read for Content {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.left).map_or(buf.len(), |left| left.min(buf.len()));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was read",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

impl Content {
    /// After the content was read: the file's size and modification time
    /// must be those it was opened with, as GNU tar checks ("file changed
    /// as we read it"); otherwise the archive would hold a torn copy.
    fn check_unchanged(&self, before: &Metadata) -> io::Result<()> {
        if self.left != 0 {
            return Err(io::Error::other("the file was not read to its end"));
        }
        let now = self.file.metadata()?;
        if now.len() != before.len()
            || now.mtime() != before.mtime()
            || now.mtime_nsec() != before.mtime_nsec()
        {
            return Err(io::Error::other("the file changed while it was read"));
        }
        Ok(())
    }
}

/// Walks the directory `dir` (an open handle, at `rel` beneath `root`: a
/// [`SafePath`](crate::serve_dir::SafePath) string), handing `visit` the
/// directory itself as `top` and then everything beneath it that `policy`
/// lets in. Any error ends the walk: the archive must then be cut short.
pub(super) fn walk(
    root: &Root,
    dir: &File,
    rel: &str,
    top: &str,
    policy: Policy,
    visit: &mut impl Visit,
) -> io::Result<()> {
    let meta = dir.metadata()?;
    let mut walker = Walker {
        root,
        policy,
        visit,
        ancestors: Vec::new(),
        rel: rel.to_owned(),
        path: top.to_owned(),
    };
    walker.dir(dir.as_fd(), &meta, 0)
}

struct Walker<'a, V> {
    root: &'a Root,
    policy: Policy,
    visit: &'a mut V,
    /// `(dev, ino)` of the directories from the top down to the current
    /// one: a followed symlink back up to one of them is skipped.
    ancestors: Vec<(u64, u64)>,
    /// The current entry's path beneath the root (for followed symlinks,
    /// opened with the root's containment).
    rel: String,
    /// The current entry's path in the archive.
    path: String,
}

impl<V: Visit> Walker<'_, V> {
    fn dir(&mut self, fd: BorrowedFd<'_>, meta: &Metadata, depth: usize) -> io::Result<()> {
        self.visit.dir(&self.path, meta)?;
        let (mut entries, truncated) = read_entries(&fd, self.policy.hidden, MAX_DIR_ENTRIES)?;
        if truncated {
            return Err(io::Error::other(format!(
                "{}: more than {MAX_DIR_ENTRIES} entries",
                self.path
            )));
        }
        // Byte order, not the listing's: the same tree gives the same
        // archive wherever it is built.
        entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        self.ancestors.push((meta.dev(), meta.ino()));
        for entry in entries {
            let (rel_len, path_len) = (self.rel.len(), self.path.len());
            if !self.rel.is_empty() {
                self.rel.push('/');
            }
            self.rel.push_str(&entry.name);
            self.path.push('/');
            self.path.push_str(&entry.name);
            let done = match entry.kind {
                Kind::File => self.file_at(fd, &entry.name),
                Kind::Dir => self.dir_at(fd, &entry.name, depth),
                Kind::Symlink if self.policy.follow_symlinks => self.symlink(depth),
                // Symlinks not followed, FIFOs, sockets, devices.
                Kind::Symlink | Kind::Other => Ok(()),
            };
            self.rel.truncate(rel_len);
            self.path.truncate(path_len);
            done?;
        }
        self.ancestors.pop();
        Ok(())
    }

    /// A regular file named `name` in the directory `fd`, opened without
    /// following a symlink. One that vanished or changed kind since the
    /// directory was read is skipped.
    fn file_at(&mut self, fd: BorrowedFd<'_>, name: &str) -> io::Result<()> {
        let file = match rustix::fs::openat(fd, name, FILE_FLAGS, Mode::empty()) {
            Ok(fd) => File::from(fd),
            Err(e) if replaced(e) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let meta = file.metadata()?;
        self.file(file, &meta)
    }

    /// An opened file, archived if it is a regular file.
    fn file(&mut self, file: File, meta: &Metadata) -> io::Result<()> {
        if !meta.is_file() {
            return Ok(());
        }
        let mut content = Content {
            file,
            left: meta.len(),
        };
        self.visit.file(&self.path, meta, &mut content)?;
        content.check_unchanged(meta)
    }

    /// The directory `name` in the directory `fd`, opened without
    /// following a symlink; skipped if it vanished or changed kind.
    fn dir_at(&mut self, fd: BorrowedFd<'_>, name: &str, depth: usize) -> io::Result<()> {
        let dir = match rustix::fs::openat(fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => File::from(fd),
            Err(e) if replaced(e) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let meta = dir.metadata()?;
        self.subdir(&dir, &meta, depth)
    }

    /// An opened directory one level down: walked unless it is one of its
    /// own ancestors (a symlink loop) or too deep.
    fn subdir(&mut self, dir: &File, meta: &Metadata, depth: usize) -> io::Result<()> {
        if self.ancestors.contains(&(meta.dev(), meta.ino())) {
            return Ok(());
        }
        if depth + 1 > MAX_DEPTH {
            return Err(io::Error::other(format!(
                "{}: more than {MAX_DEPTH} levels deep",
                self.path
            )));
        }
        self.dir(dir.as_fd(), meta, depth + 1)
    }

    /// A symlink at `self.rel`, with symlinks followed: opened beneath the
    /// root exactly as a request for it would be (`openat2` with
    /// `RESOLVE_BENEATH`, or the fallback walk), so its target is
    /// archived only when it stays beneath the root. One that leads out,
    /// dangles or loops is skipped, as a request for it is `404`.
    fn symlink(&mut self, depth: usize) -> io::Result<()> {
        let (file, meta) = match self.root.open_file(&self.rel, true) {
            Ok(opened) => opened,
            Err(e) if replaced(e) || e == Errno::XDEV || e == Errno::NAMETOOLONG => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if meta.is_dir() {
            self.subdir(&file, &meta, depth)
        } else {
            self.file(file, &meta)
        }
    }
}

/// An open that failed because the entry is no longer what the directory
/// said (gone, now a symlink, a FIFO without a writer, a device): the
/// entry is skipped, as if read a moment later.
fn replaced(e: Errno) -> bool {
    matches!(
        e,
        Errno::NOENT | Errno::LOOP | Errno::NOTDIR | Errno::NXIO | Errno::NODEV
    )
}
