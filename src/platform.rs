//! The platform boundary: the Linux-only system calls berth makes, the
//! portable paths that replace them on other Unix systems, and a switch
//! that makes Linux take the portable paths too, so that the code other
//! systems run is compiled and tested on Linux.
//!
//! | Linux fast path | where | portable path |
//! |---|---|---|
//! | `openat2(RESOLVE_BENEATH)` | `serve_dir/open.rs` | the component-wise `openat(O_NOFOLLOW)` walk (also Linux's own fallback before 5.6 or under seccomp) |
//! | `O_PATH` directory handles | `serve_dir/open.rs` | `O_RDONLY \| O_DIRECTORY` (needs read permission, not only search) |
//! | `sendfile`, head sent with `MSG_MORE` | `server/h1/outbox.rs` | the file read into the write buffer in pieces and written (as for TLS) |
//! | `accept4(SOCK_NONBLOCK \| SOCK_CLOEXEC)` | `server/tcp.rs` via `platform::accept` | `accept`, then `FD_CLOEXEC` and `FIONBIO` |
//! | `socket(SOCK_NONBLOCK \| SOCK_CLOEXEC)` | `server/listen.rs` via `platform::tcp_socket` | `socket`, then `FD_CLOEXEC` and `FIONBIO` |
//! | `renameat2(RENAME_NOREPLACE)` | `serve_dir/upload/store.rs` | `linkat` then `unlinkat` (a check then `renameat` where hard links are missing) |
//!
//! Everything else berth calls is POSIX (`pread`, `recv` with `MSG_PEEK`,
//! `openat`, `fstatat`, `readdir`) or goes through mio and tokio, which
//! use kqueue where Linux has epoll. Each fast path is compiled only for
//! `target_os = "linux"`; its portable replacement is compiled everywhere,
//! and on Linux it runs when [`force_portable`] is on.
//!
//! The switch and the counters are for tests (`tests/portable.rs`), hidden
//! from the documentation: they are process-wide, so a test binary that
//! turns the switch on should leave it on.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rustix::net::{AddressFamily, SocketAddrAny, SocketType, ipproto};

/// Set by [`force_portable`].
static FORCED: AtomicBool = AtomicBool::new(false);

/// Whether the Linux fast paths may be used: yes, unless
/// [`force_portable`] is on. (Other systems have none: every call is
/// behind `#[cfg(target_os = "linux")]`.)
#[cfg(target_os = "linux")]
#[inline]
pub(crate) fn fast_paths() -> bool {
    !FORCED.load(Ordering::Relaxed)
}

/// Makes this process take the portable paths (no `openat2`, no `O_PATH`,
/// no `sendfile` or `MSG_MORE`, no `accept4` or `SOCK_NONBLOCK`) from now
/// on, as it would on a Unix system other than Linux, and count them in
/// [`portable_counts`]. For tests: it applies to every server and
/// `ServeDir` in the process, and a `ServeDir` created before it keeps an
/// `O_PATH` root handle (which the portable open still works from).
#[doc(hidden)]
pub fn force_portable(on: bool) {
    FORCED.store(on, Ordering::Relaxed);
}

/// How often each portable path ran while [`force_portable`] was on.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortableCounts {
    /// Files and directories opened by the component-wise walk instead of
    /// `openat2`.
    pub walk_opens: u64,
    /// File bodies large enough for `sendfile` on plain TCP, written
    /// through the write buffer instead.
    pub buffered_files: u64,
    /// Connections accepted with `accept` and `fcntl`/`ioctl` instead of
    /// `accept4`.
    pub accepts: u64,
    /// Listening sockets created without `SOCK_NONBLOCK | SOCK_CLOEXEC`.
    pub listeners: u64,
    /// Uploaded files given their name by `linkat` and `unlinkat` instead
    /// of `renameat2(RENAME_NOREPLACE)`.
    pub link_renames: u64,
}

/// The portable paths [`PortableCounts`] counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Portable {
    WalkOpen,
    BufferedFile,
    Accept,
    Listener,
    #[cfg_attr(not(feature = "upload"), allow(dead_code))]
    LinkRename,
}

static COUNTS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

/// Counts one use of a portable path, while [`force_portable`] is on (a
/// system without the fast paths runs them all the time and counts
/// nothing).
#[inline]
pub(crate) fn count(path: Portable) {
    if FORCED.load(Ordering::Relaxed) {
        COUNTS[path as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// The counts so far (they only grow).
#[doc(hidden)]
pub fn portable_counts() -> PortableCounts {
    let get = |path: Portable| COUNTS[path as usize].load(Ordering::Relaxed);
    PortableCounts {
        walk_opens: get(Portable::WalkOpen),
        buffered_files: get(Portable::BufferedFile),
        accepts: get(Portable::Accept),
        listeners: get(Portable::Listener),
        link_renames: get(Portable::LinkRename),
    }
}

/// Accepts one connection from `listener`, non-blocking and close-on-exec.
pub(crate) fn accept(listener: impl AsFd) -> io::Result<(OwnedFd, Option<SocketAddrAny>)> {
    #[cfg(target_os = "linux")]
    if fast_paths() {
        use rustix::net::SocketFlags;
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        return Ok(rustix::net::acceptfrom_with(listener, flags)?);
    }
    let (fd, addr) = rustix::net::acceptfrom(listener)?;
    nonblocking_cloexec(&fd)?;
    count(Portable::Accept);
    Ok((fd, addr))
}

/// A new TCP socket of `family`, non-blocking and close-on-exec.
pub(crate) fn tcp_socket(family: AddressFamily) -> io::Result<OwnedFd> {
    socket(family, SocketType::STREAM, ipproto::TCP)
}

/// A new UDP socket of `family`, non-blocking and close-on-exec (the QUIC
/// endpoints').
#[cfg_attr(not(feature = "http3"), allow(dead_code))]
pub(crate) fn udp_socket(family: AddressFamily) -> io::Result<OwnedFd> {
    socket(family, SocketType::DGRAM, ipproto::UDP)
}

fn socket(
    family: AddressFamily,
    kind: SocketType,
    protocol: rustix::net::Protocol,
) -> io::Result<OwnedFd> {
    #[cfg(target_os = "linux")]
    if fast_paths() {
        use rustix::net::SocketFlags;
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        return Ok(rustix::net::socket_with(
            family,
            kind,
            flags,
            Some(protocol),
        )?);
    }
    let fd = rustix::net::socket(family, kind, Some(protocol))?;
    nonblocking_cloexec(&fd)?;
    count(Portable::Listener);
    Ok(fd)
}

/// What `SOCK_NONBLOCK | SOCK_CLOEXEC` give at creation, set afterwards.
/// berth never forks, so the moment without `FD_CLOEXEC` leaks nothing.
fn nonblocking_cloexec(fd: &OwnedFd) -> io::Result<()> {
    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(fd, true)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both paths give a non-blocking, close-on-exec socket (the switch is
    /// not touched: unit tests share the process with the fast paths).
    #[test]
    fn portable_sockets_are_nonblocking_and_cloexec() {
        let check = |fd: &OwnedFd| {
            let fd_flags = rustix::io::fcntl_getfd(fd).unwrap();
            assert!(fd_flags.contains(rustix::io::FdFlags::CLOEXEC));
            let fl = rustix::fs::fcntl_getfl(fd).unwrap();
            assert!(fl.contains(rustix::fs::OFlags::NONBLOCK));
        };
        let listener = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        nonblocking_cloexec(&listener).unwrap();
        check(&listener);
        let fast = tcp_socket(AddressFamily::INET).unwrap();
        check(&fast);
    }
}
