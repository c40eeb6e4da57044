//! Creating listening sockets: address parsing, `SO_REUSEADDR`, backlog.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use rustix::net::{AddressFamily, sockopt};

use super::accept::{Bound, Listener};
use crate::{Error, platform};

/// Listen backlog; the kernel caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// What [`Server::bind`](crate::Server::bind) and
/// [`Server::try_bind`](crate::Server::try_bind) take: an address as text
/// (`"127.0.0.1:8080"`, `"[::1]:0"`, `"localhost:8080"`, every address a
/// name resolves to), a `SocketAddr`, an `(ip, port)` pair, or a list of
/// `SocketAddr`s.
pub trait BindAddrs {
    /// The addresses, resolved; an error names what could not be.
    fn resolve(self) -> Result<Vec<SocketAddr>, Error>;
}

impl BindAddrs for &str {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        resolve(self)
    }
}

impl BindAddrs for &String {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        resolve(self)
    }
}

impl BindAddrs for String {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        resolve(&self)
    }
}

impl BindAddrs for SocketAddr {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        Ok(vec![self])
    }
}

impl<I: Into<std::net::IpAddr>> BindAddrs for (I, u16) {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        Ok(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}

impl BindAddrs for Vec<SocketAddr> {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        Ok(self)
    }
}

impl BindAddrs for &[SocketAddr] {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        Ok(self.to_vec())
    }
}

impl<const N: usize> BindAddrs for [SocketAddr; N] {
    fn resolve(self) -> Result<Vec<SocketAddr>, Error> {
        Ok(self.to_vec())
    }
}

/// Resolves `addr` (`"127.0.0.1:8080"`, `"[::1]:0"`, `"localhost:8080"`).
pub(crate) fn resolve(addr: &str) -> Result<Vec<SocketAddr>, Error> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| Error::address(addr, Some(e)))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::address(addr, None));
    }
    Ok(addrs)
}

/// Binds a non-blocking listener with `SO_REUSEADDR` (so a restart does not
/// wait out TIME_WAIT).
///
/// With `reuse_port`, `SO_REUSEPORT` lets a second process bind the same
/// address while this one still listens: the kernel spreads new connections
/// across both, so a new berth can start before the old one drains (a
/// rolling restart that drops nothing).
/// Binds every address. An IPv6 wildcard (`[::]`) is dual-stack (it takes
/// IPv4 clients too), unless an IPv4 address with the same port is in the
/// same set: then each family gets its own socket.
pub(crate) fn bind_all(addrs: &[SocketAddr], reuse_port: bool) -> Result<Vec<Bound>, Error> {
    addrs
        .iter()
        .map(|&addr| {
            let v6only = addr.is_ipv6()
                && addrs
                    .iter()
                    .any(|other| other.is_ipv4() && other.port() == addr.port());
            bind(addr, reuse_port, v6only).map(|l| Bound {
                listener: Listener::Tcp(l),
                socket_file: None,
            })
        })
        .collect()
}

fn bind(addr: SocketAddr, reuse_port: bool, v6only: bool) -> Result<TcpListener, Error> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fail = |e: std::io::Error| Error::bind(addr, e);
    let fd = platform::tcp_socket(family).map_err(fail)?;
    sockopt::set_socket_reuseaddr(&fd, true).map_err(|e| fail(e.into()))?;
    if reuse_port {
        sockopt::set_socket_reuseport(&fd, true).map_err(|e| fail(e.into()))?;
    }
    if addr.is_ipv6() {
        // Set either way: the system default (`net.ipv6.bindv6only`) varies.
        sockopt::set_ipv6_v6only(&fd, v6only).map_err(|e| fail(e.into()))?;
    }
    rustix::net::bind(&fd, &addr).map_err(|e| fail(e.into()))?;
    rustix::net::listen(&fd, BACKLOG).map_err(|e| fail(e.into()))?;
    Ok(TcpListener::from(fd))
}
