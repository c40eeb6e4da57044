//! Where to open berth, said at start-up on stderr: behind a listener
//! bound to an unspecified address (`0.0.0.0`, `::`, RFC 4291 §2.5.2),
//! the address of each network interface it answers on, and with
//! `--qrcode` a QR code of the one a phone on the same network would open.
//!
//! # Which addresses, in which order
//!
//! [`open_urls`] is the pure part: from the TCP listeners and the
//! interface addresses (getifaddrs(3), through if-addrs) to URLs.
//!
//! - `0.0.0.0` answers on every IPv4 address; `::` on every IPv6 one and,
//!   being dual-stack, on every IPv4 one too, unless an IPv4 listener has
//!   the same port (then the server binds `::` IPv6-only: see
//!   `server/listen.rs`). Sockets passed by systemd are taken to follow
//!   the same rule.
//! - IPv6 link-local addresses (`fe80::/10`) are left out: they need a
//!   zone (`%eth0`) that browsers do not take in a URL.
//! - Other addresses come first, loopback last: what another device can
//!   open leads. IPv4 before IPv6 within each, then the order the system
//!   lists interfaces in. A URL given twice is shown once.
//! - Each URL is `scheme://address:port/`, IPv6 in brackets (RFC 3986
//!   §3.2.2), with the interface's name after it.
//!
//! # The QR code
//!
//! [`qr_choice`] takes the first URL that is not loopback (a specified
//! listener's own address counts too), else the first one. The code is
//! drawn with Unicode half blocks, two rows of modules per line, light
//! modules as blocks: right on the dark background most terminals have
//! (as `qrencode -t UTF8` draws it), with the quiet zone around it.
//!
//! # `-q`
//!
//! These are start-up lines like `serving … on …` and the note that
//! listings are off, which `-q` does not silence either: `-q` is about
//! the access log and log events.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

/// A URL to open, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUrl {
    /// `http://192.168.1.5:8080/`.
    pub url: String,
    /// The address in it.
    pub ip: IpAddr,
    /// The interface an unspecified listener's address was found on; `None`
    /// for a listener bound to that address itself.
    pub interface: Option<String>,
}

impl OpenUrl {
    /// A loopback address: only this machine can open it.
    pub fn loopback(&self) -> bool {
        self.ip.is_loopback()
    }
}

/// One address of one network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAddr {
    pub name: String,
    pub ip: IpAddr,
}

/// The addresses of this machine's interfaces, or why they are unknown.
pub fn interface_addrs() -> std::io::Result<Vec<InterfaceAddr>> {
    Ok(if_addrs::get_if_addrs()?
        .into_iter()
        .map(|i| InterfaceAddr {
            ip: i.ip(),
            name: printable(&i.name),
        })
        .collect())
}

/// `name` with control characters replaced, for a terminal.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The URLs `listeners` (the TCP sockets served) can be opened at, over
/// `scheme` (`http` or `https`): each specified address as it is, each
/// unspecified one as the `interfaces`' addresses it answers on; in the
/// order of the [module docs](self).
pub fn open_urls(
    scheme: &str,
    listeners: &[SocketAddr],
    interfaces: &[InterfaceAddr],
) -> Vec<OpenUrl> {
    let mut urls: Vec<OpenUrl> = Vec::new();
    let mut add = |ip: IpAddr, port: u16, interface: Option<&str>| {
        let url = format!("{scheme}://{}/", SocketAddr::new(ip, port));
        if !urls.iter().any(|u| u.url == url) {
            urls.push(OpenUrl {
                url,
                ip,
                interface: interface.map(str::to_owned),
            });
        }
    };
    for listener in listeners {
        let ip = listener.ip();
        if !ip.is_unspecified() {
            add(ip, listener.port(), None);
            continue;
        }
        let dual_stack = ip.is_ipv6()
            && !listeners
                .iter()
                .any(|other| other.is_ipv4() && other.port() == listener.port());
        for interface in interfaces {
            let answers = match interface.ip {
                IpAddr::V4(_) => ip.is_ipv4() || dual_stack,
                IpAddr::V6(v6) => ip.is_ipv6() && !v6.is_unicast_link_local(),
            };
            if answers && !interface.ip.is_unspecified() {
                add(interface.ip, listener.port(), Some(&interface.name));
            }
        }
    }
    // Stable: listener and interface order within each group.
    urls.sort_by_key(|u| (u.loopback(), u.ip.is_ipv6()));
    urls
}

/// The URL the QR code shows: the first one another device can open, else
/// the first one.
pub fn qr_choice(urls: &[OpenUrl]) -> Option<&OpenUrl> {
    urls.iter().find(|u| !u.loopback()).or(urls.first())
}

/// `url` as a QR code (error correction level L, the smallest: a screen
/// is not a worn label), light modules as blocks; `None` if it does not
/// fit in one.
pub fn qr_code(url: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::L).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// Writes the start-up lines about where to open berth to stderr: the
/// interface addresses behind unspecified listeners, then, with `qrcode`,
/// the QR code. `interfaces` is [`interface_addrs`]'s answer.
pub fn announce(
    scheme: &str,
    listeners: &[SocketAddr],
    interfaces: std::io::Result<Vec<InterfaceAddr>>,
    qrcode: bool,
) {
    let wildcard = listeners.iter().any(|a| a.ip().is_unspecified());
    let interfaces = match interfaces {
        Ok(found) => found,
        Err(e) => {
            if wildcard {
                eprintln!("berth: cannot list the network interfaces: {e}");
            }
            Vec::new()
        }
    };
    let urls = open_urls(scheme, listeners, &interfaces);
    let mut out = String::new();
    for u in urls.iter().filter(|u| u.interface.is_some()) {
        let name = u.interface.as_deref().unwrap_or_default();
        out.push_str(&format!("berth: open {} ({name})\n", u.url));
    }
    if qrcode {
        out.push_str(&qr_lines(&urls));
    }
    // One write, so the lines stay together.
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

/// The `--qrcode` lines: what the code opens, then the code.
fn qr_lines(urls: &[OpenUrl]) -> String {
    let Some(choice) = qr_choice(urls) else {
        return "berth: --qrcode: no TCP address to show\n".into();
    };
    let Some(code) = qr_code(&choice.url) else {
        return format!(
            "berth: --qrcode: {} does not fit in a QR code\n",
            choice.url
        );
    };
    let mut out = format!("berth: scan to open {}", choice.url);
    if choice.loopback() {
        out.push_str(
            " (loopback: other devices cannot open it; --bind 0.0.0.0 listens on every interface)",
        );
    }
    out.push('\n');
    out.push_str(&code);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, ip: &str) -> InterfaceAddr {
        InterfaceAddr {
            name: name.into(),
            ip: ip.parse().unwrap(),
        }
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    fn interfaces() -> Vec<InterfaceAddr> {
        vec![
            iface("lo", "127.0.0.1"),
            iface("lo", "::1"),
            iface("eth0", "192.168.1.5"),
            iface("eth0", "fe80::1"),
            iface("eth0", "2001:db8::5"),
            iface("wlan0", "10.0.0.7"),
        ]
    }

    fn urls(list: &[OpenUrl]) -> Vec<&str> {
        list.iter().map(|u| u.url.as_str()).collect()
    }

    #[test]
    fn ipv4_wildcard() {
        let open = open_urls("http", &addrs(&["0.0.0.0:8080"]), &interfaces());
        assert_eq!(
            urls(&open),
            [
                "http://192.168.1.5:8080/",
                "http://10.0.0.7:8080/",
                "http://127.0.0.1:8080/"
            ]
        );
        assert_eq!(open[0].interface.as_deref(), Some("eth0"));
        assert_eq!(open[1].interface.as_deref(), Some("wlan0"));
        assert!(open[2].loopback() && !open[0].loopback());
    }

    #[test]
    fn ipv6_wildcard_is_dual_stack_unless_ipv4_has_the_port() {
        let open = open_urls("https", &addrs(&["[::]:443"]), &interfaces());
        assert_eq!(
            urls(&open),
            [
                "https://192.168.1.5:443/",
                "https://10.0.0.7:443/",
                "https://[2001:db8::5]:443/",
                "https://127.0.0.1:443/",
                "https://[::1]:443/",
            ]
        );
        // `0.0.0.0` and `::` on one port: each its own family, once each.
        let both = open_urls("http", &addrs(&["0.0.0.0:80", "[::]:80"]), &interfaces());
        assert_eq!(
            urls(&both),
            [
                "http://192.168.1.5:80/",
                "http://10.0.0.7:80/",
                "http://[2001:db8::5]:80/",
                "http://127.0.0.1:80/",
                "http://[::1]:80/",
            ]
        );
        // Link-local IPv6 is never listed.
        assert!(!urls(&open).iter().any(|u| u.contains("fe80")));
    }

    #[test]
    fn specified_listeners_are_themselves() {
        let open = open_urls(
            "http",
            &addrs(&["127.0.0.1:8080", "192.168.1.5:9000"]),
            &interfaces(),
        );
        assert_eq!(
            urls(&open),
            ["http://192.168.1.5:9000/", "http://127.0.0.1:8080/"]
        );
        assert!(open.iter().all(|u| u.interface.is_none()));
        // No interfaces known: the wildcard gives nothing.
        assert!(open_urls("http", &addrs(&["0.0.0.0:80"]), &[]).is_empty());
    }

    #[test]
    fn the_qr_code_shows_what_a_phone_would_open() {
        let open = open_urls("http", &addrs(&["0.0.0.0:8080"]), &interfaces());
        assert_eq!(qr_choice(&open).unwrap().url, "http://192.168.1.5:8080/");
        let local = open_urls(
            "http",
            &addrs(&["0.0.0.0:8080"]),
            &[iface("lo", "127.0.0.1")],
        );
        assert_eq!(qr_choice(&local).unwrap().url, "http://127.0.0.1:8080/");
        assert_eq!(qr_choice(&[]), None);
        let lines = qr_lines(&local);
        assert!(lines.starts_with("berth: scan to open http://127.0.0.1:8080/ (loopback"));
        assert!(qr_lines(&[]).contains("no TCP address"));
    }

    #[test]
    fn qr_code_shape() {
        let code = qr_code("http://192.168.1.5:8080/").unwrap();
        let lines: Vec<&str> = code.lines().collect();
        // Version 2 (25 modules) and a quiet zone of 4 on each side: 33
        // columns, two module rows a line.
        let width = lines[0].chars().count();
        assert_eq!(width, 33);
        assert_eq!(lines.len(), 17);
        assert!(lines.iter().all(|l| l.chars().count() == width));
        // The quiet zone is light, so a block: the first line is all blocks.
        assert!(lines[0].chars().all(|c| c == '█'));
        assert!(code.contains('▀') || code.contains('▄'));
    }

    #[test]
    fn interface_names_are_printable() {
        assert_eq!(printable("eth0"), "eth0");
        assert_eq!(printable("e\u{1b}[31m"), "e?[31m");
    }
}
