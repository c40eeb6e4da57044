//! `berth::Error`: failures to set up or run a server (binding, I/O).
//!
//! Protocol violations by clients are not `Error`s: they become responses
//! (see [`crate::proto::ProtocolError`]). The `Display` text is meant for
//! people and may change between versions.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// An error starting or running a server.
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// The address string did not parse or resolve.
    Address(String, Option<io::Error>),
    /// Binding or listening on an address failed.
    Bind(SocketAddr, io::Error),
    /// Another I/O failure.
    Io(io::Error),
    /// Binding a Unix domain socket failed.
    Unix(std::path::PathBuf, io::Error),
    /// A TLS certificate or key could not be loaded or used.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String),
}

impl Error {
    pub(crate) fn address(addr: &str, cause: Option<io::Error>) -> Self {
        Error {
            kind: Kind::Address(addr.to_owned(), cause),
        }
    }
    pub(crate) fn bind(addr: SocketAddr, cause: io::Error) -> Self {
        Error {
            kind: Kind::Bind(addr, cause),
        }
    }
    pub(crate) fn io(cause: io::Error) -> Self {
        Error {
            kind: Kind::Io(cause),
        }
    }
    pub(crate) fn unix(path: &std::path::Path, cause: io::Error) -> Self {
        Error {
            kind: Kind::Unix(path.to_owned(), cause),
        }
    }
    #[cfg(feature = "tls")]
    pub(crate) fn tls(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Tls(message.into()),
        }
    }

    /// True when the error came from binding a listening socket.
    pub fn is_bind(&self) -> bool {
        matches!(
            self.kind,
            Kind::Bind(..) | Kind::Address(..) | Kind::Unix(..)
        )
    }

    /// The underlying I/O error kind, if any.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match &self.kind {
            Kind::Bind(_, e) | Kind::Io(e) | Kind::Address(_, Some(e)) | Kind::Unix(_, e) => {
                Some(e.kind())
            }
            Kind::Address(_, None) | Kind::Tls(_) => None,
        }
    }

    /// A short hint for a person on how to fix the error, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        let Kind::Bind(_, e) = &self.kind else {
            return match &self.kind {
                Kind::Address(..) => Some("give an IP address such as 127.0.0.1, 0.0.0.0 or ::1"),
                _ => None,
            };
        };
        match e.kind() {
            io::ErrorKind::AddrInUse => {
                Some("another process listens there; stop it or pick another --port")
            }
            io::ErrorKind::PermissionDenied => {
                Some("ports below 1024 need privileges; use a port such as 8080")
            }
            io::ErrorKind::AddrNotAvailable => {
                Some("that address is not one of this machine's; try 127.0.0.1 or 0.0.0.0")
            }
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Address(addr, Some(e)) => write!(f, "invalid address {addr}: {e}"),
            Kind::Address(addr, None) => write!(f, "invalid address {addr}"),
            Kind::Bind(addr, e) => write!(f, "cannot listen on {addr}: {}", describe(e)),
            Kind::Io(e) => write!(f, "I/O error: {e}"),
            Kind::Unix(path, e) => write!(f, "cannot listen on {}: {e}", path.display()),
            Kind::Tls(message) => write!(f, "TLS: {message}"),
        }
    }
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::AddrInUse => "address already in use".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::AddrNotAvailable => "address not available".into(),
        _ => e.to_string(),
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Bind(_, e) | Kind::Io(e) | Kind::Address(_, Some(e)) | Kind::Unix(_, e) => {
                Some(e)
            }
            Kind::Address(_, None) | Kind::Tls(_) => None,
        }
    }
}
