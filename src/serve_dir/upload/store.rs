//! One uploaded file on its way into the tree: a temporary file created in
//! the target directory, written through a buffer, synced, and renamed to
//! its name only when complete; removed if anything stops it before that
//! (a body error, a full disk, the request dropped because the client went
//! away). A reader therefore sees the whole file or none of it.
//!
//! Everything here is relative to the target directory's handle, opened
//! beneath the root by [`Root::open_file`](super::super::open::Root) like
//! every file served, so no name is resolved from the root again and a
//! directory swapped for a symlink meanwhile cannot redirect a write.
//!
//! # The temporary file
//!
//! `.berth-upload-<pid>-<n>-<random>` ([`UPLOAD_TEMP_PREFIX`]), created
//! with `O_CREAT | O_EXCL | O_NOFOLLOW` (a name that exists, a symlink
//! included, is never opened: another name is tried), mode `0666` less the
//! umask. The name is hidden, and `ServeDir` never serves, lists or
//! accepts an upload of a name with that prefix, `hidden(true)` or not.
//!
//! # Into place
//!
//! The data is flushed and `fdatasync`ed (on the blocking pool, so no
//! runtime thread waits for the disk) before the rename: after a crash the
//! name holds the old file or the whole new one. The directory itself is
//! not synced, so a crash right after the answer may lose the new name.
//!
//! - A new name, on Linux: `renameat2(RENAME_NOREPLACE)`, atomic: of two
//!   uploads of one name, exactly one gets it, the other `EEXIST` (409).
//! - Elsewhere, or on a filesystem without `RENAME_NOREPLACE`: `linkat`
//!   (which fails with `EEXIST` as atomically) and `unlinkat` of the
//!   temporary name. On a filesystem without hard links either: a
//!   `fstatat` of the name, then `renameat`, which could replace a file
//!   created between the two (the one race left, on such filesystems
//!   only).
//! - Replacing (`overwrite`), after the attempt above found the name
//!   taken: `renameat`, which replaces atomically.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufWriter, Write};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::StatusCode;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::Refused;
use crate::platform::{self, Portable};
use crate::serve_dir::UPLOAD_TEMP_PREFIX;

/// The write buffer of one upload: what it holds in memory besides the
/// chunk being written.
const WRITE_BUFFER: usize = 128 * 1024;

/// How a file was put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stored {
    /// The name was new: `201 Created`.
    Created,
    /// An existing file was replaced: `204 No Content`.
    Replaced,
}

/// Whether `name` in `dir` may be written: `Ok` when it does not exist, or
/// is a regular file and `overwrite` is on. A symlink is `403` (nothing is
/// ever written through one, nor is one replaced), a directory or another
/// file `409`. Checked before the body is read, so a doomed upload is
/// refused without reading it; the rename decides again at the end.
pub(super) fn check_target(dir: &OwnedFd, name: &str, overwrite: bool) -> Result<(), Refused> {
    let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(write_error(e)),
    };
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Symlink => Err(Refused::new(
            StatusCode::FORBIDDEN,
            "the name is a symlink, which is never written through",
        )),
        FileType::RegularFile if overwrite => Ok(()),
        FileType::RegularFile => Err(write_error(Errno::EXIST)),
        FileType::Directory => Err(write_error(Errno::ISDIR)),
        _ => Err(Refused::new(
            StatusCode::CONFLICT,
            "the name is taken by something that is not a file",
        )),
    }
}

/// The status and reason for a failed filesystem call while writing.
pub(super) fn write_error(e: Errno) -> Refused {
    let (status, reason) = match e {
        Errno::NOSPC | Errno::DQUOT => (
            StatusCode::INSUFFICIENT_STORAGE,
            "no space left for the file",
        ),
        Errno::ACCESS | Errno::PERM | Errno::ROFS => {
            (StatusCode::FORBIDDEN, "the server may not write there")
        }
        Errno::EXIST => (StatusCode::CONFLICT, "a file of that name exists"),
        Errno::ISDIR | Errno::NOTEMPTY => (StatusCode::CONFLICT, "a directory has that name"),
        Errno::NAMETOOLONG => (StatusCode::BAD_REQUEST, "the name is too long"),
        Errno::FBIG => (StatusCode::PAYLOAD_TOO_LARGE, "the file is too large"),
        // The directory went away (or was swapped) during the upload.
        Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV => {
            (StatusCode::NOT_FOUND, "the directory is gone")
        }
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the file could not be written",
        ),
    };
    Refused::new(status, reason)
}

/// A temporary file being written in the target directory; dropped before
/// [`commit`](Self::commit) succeeds, it is removed.
pub(super) struct TempFile {
    dir: Arc<OwnedFd>,
    name: String,
    /// `None` once handed to the sync.
    file: Option<BufWriter<File>>,
    /// Set once the data has its final name: nothing to remove then.
    placed: bool,
}

impl TempFile {
    /// Creates a fresh temporary file in `dir` (see the module docs).
    pub(super) fn create(dir: &Arc<OwnedFd>) -> Result<TempFile, Errno> {
        let flags = OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW
            | OFlags::CLOEXEC
            | OFlags::NOCTTY;
        let mut tries = 0;
        loop {
            let name = temp_name();
            match rustix::fs::openat(&**dir, name.as_str(), flags, Mode::from_raw_mode(0o666)) {
                Ok(fd) => {
                    return Ok(TempFile {
                        dir: Arc::clone(dir),
                        name,
                        file: Some(BufWriter::with_capacity(WRITE_BUFFER, File::from(fd))),
                        placed: false,
                    });
                }
                Err(Errno::EXIST) if tries < 8 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Appends `bytes` (through the write buffer).
    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        let Some(file) = self.file.as_mut() else {
            return Err(Errno::BADF);
        };
        file.write_all(bytes).map_err(|e| io_errno(&e))
    }

    /// Flushes and syncs the data, then gives it `name` (see the module
    /// docs): `EEXIST` when the name is taken and `overwrite` is off.
    pub(super) async fn commit(mut self, name: &str, overwrite: bool) -> Result<Stored, Errno> {
        let file = self.file.take().ok_or(Errno::BADF)?;
        let file = file.into_inner().map_err(|e| io_errno(e.error()))?;
        // fdatasync can take as long as the disk needs to take the file:
        // not on a runtime thread.
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(|_| Errno::IO)?
            .map_err(|e| io_errno(&e))?;
        let stored = place(&self.dir, &self.name, name, overwrite)?;
        self.placed = true;
        Ok(stored)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.placed {
            // Close first: nothing more reaches the name's inode.
            self.file = None;
            let _ = rustix::fs::unlinkat(&*self.dir, self.name.as_str(), AtFlags::empty());
        }
    }
}

/// Gives the complete temporary file `temp` the name `name`, both in `dir`.
fn place(dir: &OwnedFd, temp: &str, name: &str, overwrite: bool) -> Result<Stored, Errno> {
    #[cfg(target_os = "linux")]
    if platform::fast_paths() {
        use rustix::fs::RenameFlags;
        match rustix::fs::renameat_with(dir, temp, dir, name, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(Stored::Created),
            Err(Errno::EXIST) => return replace(dir, temp, name, overwrite),
            // The filesystem has no RENAME_NOREPLACE: the portable way.
            Err(Errno::INVAL | Errno::NOSYS) => {}
            Err(e) => return Err(e),
        }
    }
    place_portable(dir, temp, name, overwrite)
}

/// [`place`] without `renameat2`: `linkat` and `unlinkat`, or a check and
/// `renameat` where hard links are missing.
pub(super) fn place_portable(
    dir: &OwnedFd,
    temp: &str,
    name: &str,
    overwrite: bool,
) -> Result<Stored, Errno> {
    platform::count(Portable::LinkRename);
    match rustix::fs::linkat(dir, temp, dir, name, AtFlags::empty()) {
        Ok(()) => {
            // The data has its name: a failure to drop the temporary one
            // is left to `Drop`, which tries again.
            rustix::fs::unlinkat(dir, temp, AtFlags::empty())?;
            Ok(Stored::Created)
        }
        Err(Errno::EXIST) => replace(dir, temp, name, overwrite),
        // No hard links on this filesystem: check, then rename.
        Err(Errno::PERM | Errno::OPNOTSUPP | Errno::MLINK) => {
            match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(_) => replace(dir, temp, name, overwrite),
                Err(Errno::NOENT) => {
                    rustix::fs::renameat(dir, temp, dir, name)?;
                    Ok(Stored::Created)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// `name` is taken: replaced by `temp` when `overwrite`, else `EEXIST`.
fn replace(dir: &OwnedFd, temp: &str, name: &str, overwrite: bool) -> Result<Stored, Errno> {
    if !overwrite {
        return Err(Errno::EXIST);
    }
    rustix::fs::renameat(dir, temp, dir, name)?;
    Ok(Stored::Replaced)
}

/// A fresh temporary name: the prefix, the process, a counter and 64
/// random bits (std's per-process random hash keys).
fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(n);
    format!(
        "{UPLOAD_TEMP_PREFIX}{:x}-{n:x}-{:016x}",
        std::process::id(),
        hasher.finish()
    )
}

fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_io_error(e).unwrap_or(Errno::IO)
}

#[cfg(test)]
impl TempFile {
    /// The temporary name.
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Sends the writes to `file` instead (a test's `/dev/full`); the
    /// temporary file stays, to be removed on drop.
    pub(super) fn write_to(&mut self, file: File) {
        self.file = Some(BufWriter::with_capacity(WRITE_BUFFER, file));
    }
}
