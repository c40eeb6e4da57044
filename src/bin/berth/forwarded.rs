//! `--trusted-proxy`: which peers may say who the client is, and the
//! client address the access log shows when they do.
//!
//! Behind a reverse proxy every connection comes from the proxy, which
//! names the client in a `Forwarded` header ([RFC 7239]) or in the older
//! `X-Forwarded-For`. Any client can send those headers too, so they count
//! only when the peer is a trusted proxy ([`TrustedProxies`], parsed from
//! CIDRs such as `10.0.0.0/8` or bare addresses such as `::1`); from
//! anyone else they are ignored.
//!
//! Each proxy *appends* the address it received the request from, so the
//! list reads client-first and the right end is what the nearest proxy
//! wrote. [`TrustedProxies::client_ip`] walks it from the right, passing
//! over addresses that are themselves trusted proxies; the first untrusted
//! address is the client. A client may put anything at the left end (a
//! forged `X-Forwarded-For: 1.2.3.4`), but the walk stops before reaching
//! it, at the real address its proxy appended. The walk also stops, keeping
//! the last address it could vouch for, at anything it cannot read: a
//! malformed element, `unknown`, an obfuscated `_identifier` (RFC 7239
//! §6.2, §6.3), a hop without `for=`, or the bounds (64 elements, 8 KiB of
//! header, counted from the right).
//!
//! `Forwarded` is used when present, `X-Forwarded-For` otherwise: the
//! trusted proxies must therefore set or append the one berth reads, and
//! one that only appends `X-Forwarded-For` must drop a `Forwarded` header
//! sent by the client.
//!
//! [RFC 7239]: https://www.rfc-editor.org/rfc/rfc7239

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use berth::http::HeaderMap;
use berth::http::header::{self, HeaderName};
use ipnet::{IpNet, Ipv4Net};

/// At most this many bytes of forwarding headers are read, from the right.
const MAX_HEADER_BYTES: usize = 8 * 1024;

/// At most this many list elements (hops) are read, from the right.
const MAX_ELEMENTS: usize = 64;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose forwarding headers are believed: a set of IPv4 and
/// IPv6 networks.
///
/// Parsed from a comma-separated list of CIDRs or bare addresses (a /32 or
/// /128): `"10.0.0.0/8, 192.168.1.7, ::1, fd00::/8"`. An IPv4-mapped IPv6
/// network (`::ffff:10.0.0.0/104`) is stored as the IPv4 one, and peers are
/// compared in canonical form, so `::ffff:10.0.0.1` (an IPv4 client on a
/// dual-stack socket) matches `10.0.0.0/8`. Several lists (repeated flags)
/// `collect()` into one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

/// A `--trusted-proxy` value that is not an IP address or CIDR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidProxy {
    input: String,
    reason: String,
}

impl fmt::Display for InvalidProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid trusted proxy {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for InvalidProxy {}

impl FromStr for TrustedProxies {
    type Err = InvalidProxy;

    /// A comma-separated list of CIDRs and addresses.
    fn from_str(list: &str) -> Result<Self, InvalidProxy> {
        let nets = list.split(',').map(parse_net).collect::<Result<_, _>>()?;
        Ok(TrustedProxies { nets })
    }
}

impl FromIterator<TrustedProxies> for TrustedProxies {
    fn from_iter<I: IntoIterator<Item = TrustedProxies>>(lists: I) -> Self {
        TrustedProxies {
            nets: lists.into_iter().flat_map(|l| l.nets).collect(),
        }
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.nets.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

/// One entry: `ADDR` or `ADDR/PREFIX`, host bits clear.
fn parse_net(entry: &str) -> Result<IpNet, InvalidProxy> {
    let input = entry.trim();
    let fail = |reason: String| InvalidProxy {
        input: input.to_string(),
        reason,
    };
    if input.is_empty() {
        return Err(fail("empty entry (expected an IP address or CIDR)".into()));
    }
    let (addr, prefix) = match input.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (input, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| {
        fail("not an IP address or CIDR (e.g. 10.0.0.0/8, 192.168.1.7, ::1, fd00::/8)".into())
    })?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u8>() {
                Ok(len) if len <= max => len,
                _ => {
                    return Err(fail(format!(
                        "prefix length /{p} is longer than {max} bits"
                    )));
                }
            }
        }
        Some(p) => return Err(fail(format!("prefix length {p:?} is not a number"))),
    };
    let net =
        IpNet::new(addr, prefix).map_err(|_| fail(format!("prefix longer than {max} bits")))?;
    if net.trunc() != net {
        // `10.0.0.1/8` trusts 16 million addresses: probably a mistake.
        return Err(fail(format!(
            "host bits are set: write {} for the network or {addr} for this one address",
            net.trunc()
        )));
    }
    // An IPv4-mapped IPv6 network is the IPv4 network it maps.
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && let Ok(v4) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return Ok(IpNet::V4(v4));
    }
    Ok(net)
}

/// Which header lists the hops, and so how its elements are split and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// RFC 7239 `Forwarded`: `for=` parameters, quoted strings.
    Forwarded,
    /// `X-Forwarded-For`: comma-separated addresses.
    XForwardedFor,
}

impl TrustedProxies {
    /// No proxy configured: [`client_ip`](Self::client_ip) is the peer.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is in one of the networks (compared in canonical form:
    /// an IPv4-mapped IPv6 address as the IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client's address, for a request from `peer` with `headers`.
    ///
    /// `peer` itself unless it is a trusted proxy; then the right-most
    /// untrusted address in `Forwarded` (if the request has that header)
    /// or else `X-Forwarded-For`, all lines in order, read right to left.
    /// If every hop is trusted, the left-most; at an element that cannot
    /// be read (or past the bounds), the last address read before it (the
    /// peer when it is the right-most). Never panics.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.is_empty() || !self.contains(peer) {
            return peer;
        }
        let (name, syntax) = if headers.contains_key(header::FORWARDED) {
            (header::FORWARDED, Syntax::Forwarded)
        } else {
            (X_FORWARDED_FOR, Syntax::XForwardedFor)
        };
        let mut client = peer;
        let mut bytes_left = MAX_HEADER_BYTES;
        let mut elements_left = MAX_ELEMENTS;
        for line in headers.get_all(name).iter().rev() {
            let line = line.as_bytes();
            // Past the byte budget only the line's right end is read; the
            // element cut there is unreadable, which ends the walk.
            let window = &line[line.len() - line.len().min(bytes_left)..];
            let whole = window.len() == line.len();
            bytes_left -= window.len();
            for element in (RevElements {
                line: window,
                end: Some(window.len()),
                whole,
                syntax,
            }) {
                if elements_left == 0 {
                    return client;
                }
                elements_left -= 1;
                let hop = element.and_then(|element| match syntax {
                    Syntax::Forwarded => forwarded_for(element),
                    Syntax::XForwardedFor => x_forwarded_for(element),
                });
                let Some(ip) = hop else {
                    return client;
                };
                if !self.contains(ip) {
                    return ip;
                }
                client = ip;
            }
        }
        client
    }
}

/// The comma-separated elements of one header line, right to left. An
/// element yields `None` when its left edge is not found: an unterminated
/// quoted string, or a line cut by the byte budget (`whole == false`).
struct RevElements<'a> {
    line: &'a [u8],
    /// End (exclusive) of the next element; `None` once the start is done.
    end: Option<usize>,
    whole: bool,
    syntax: Syntax,
}

impl<'a> Iterator for RevElements<'a> {
    type Item = Option<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        let end = self.end?;
        let mut i = end;
        while i > 0 {
            match self.line[i - 1] {
                b',' => {
                    self.end = Some(i - 1);
                    return Some(Some(&self.line[i..end]));
                }
                // A comma inside a quoted string separates nothing.
                b'"' if self.syntax == Syntax::Forwarded => match opening_quote(self.line, i - 1) {
                    Some(open) => i = open,
                    None => {
                        self.end = None;
                        return Some(None);
                    }
                },
                _ => i -= 1,
            }
        }
        self.end = None;
        Some(self.whole.then_some(&self.line[..end]))
    }
}

/// The quote opening the quoted string that the quote at `close` ends:
/// the nearest quote to its left not escaped by a backslash (preceded by
/// an even number of them). The element is then parsed left to right,
/// which rejects any split this got wrong.
fn opening_quote(line: &[u8], close: usize) -> Option<usize> {
    let mut k = close;
    while k > 0 {
        k -= 1;
        if line[k] == b'"' {
            let backslashes = line[..k].iter().rev().take_while(|&&b| b == b'\\').count();
            if backslashes % 2 == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// An `X-Forwarded-For` element: an address, optionally bracketed (IPv6)
/// and with a port, as some proxies write it.
fn x_forwarded_for(element: &[u8]) -> Option<IpAddr> {
    let element = std::str::from_utf8(trim_ows(element)).ok()?;
    element.parse().ok().or_else(|| node(element.as_bytes()))
}

/// The address in a `Forwarded` element's `for=` parameter (RFC 7239 §4):
///
/// ```text
/// forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
/// forwarded-pair    = token "=" value
/// value             = token / quoted-string
/// ```
///
/// `None` when the element is malformed, has no `for=` or two of them
/// (§4: a parameter occurs at most once per element), or names no address.
/// Whitespace around `;` is tolerated.
fn forwarded_for(element: &[u8]) -> Option<IpAddr> {
    let mut p = Cursor {
        s: trim_ows(element),
        i: 0,
    };
    let mut found: Option<Node> = None;
    loop {
        p.skip_ows();
        match p.peek() {
            None => break,
            Some(b';') => {
                p.i += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = p.token()?;
        p.expect(b'=')?;
        let is_for = name.eq_ignore_ascii_case(b"for");
        if is_for && found.is_some() {
            return None;
        }
        let mut value = Node::default();
        if p.peek() == Some(b'"') {
            p.quoted_string(is_for.then_some(&mut value))?;
        } else {
            let token = p.token()?;
            if is_for {
                value.extend(token)?;
            }
        }
        if is_for {
            found = Some(value);
        }
        p.skip_ows();
        match p.peek() {
            None => break,
            Some(b';') => p.i += 1,
            Some(_) => return None,
        }
    }
    node(found?.as_bytes())
}

/// A `for=` value, unquoted: short by nature (`[` IPv6 `]:` port is at
/// most 53 bytes), so a fixed buffer; longer values are refused.
struct Node {
    bytes: [u8; 64],
    len: usize,
}

impl Default for Node {
    fn default() -> Self {
        Node {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl Node {
    fn push(&mut self, b: u8) -> Option<()> {
        *self.bytes.get_mut(self.len)? = b;
        self.len += 1;
        Some(())
    }

    fn extend(&mut self, bytes: &[u8]) -> Option<()> {
        bytes.iter().try_for_each(|&b| self.push(b))
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A `node` (RFC 7239 §6) naming an address:
///
/// ```text
/// node     = nodename [ ":" node-port ]
/// nodename = IPv4address / "[" IPv6address "]" / "unknown" / obfnode
/// ```
///
/// `None` for `unknown`, an obfuscated name (`_…`) and anything malformed.
fn node(node: &[u8]) -> Option<IpAddr> {
    let node = std::str::from_utf8(node).ok()?;
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = v6.parse().ok()?;
        if !after.is_empty() {
            node_port(after.strip_prefix(':')?)?;
        }
        return Some(IpAddr::V6(ip));
    }
    let (v4, port) = match node.split_once(':') {
        Some((v4, port)) => (v4, Some(port)),
        None => (node, None),
    };
    let ip: Ipv4Addr = v4.parse().ok()?;
    if let Some(port) = port {
        node_port(port)?;
    }
    Some(IpAddr::V4(ip))
}

/// `node-port = port / obfport`: 1 to 5 digits, or `_` and
/// `ALPHA / DIGIT / "." / "_" / "-"`.
fn node_port(port: &str) -> Option<()> {
    let digits = (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit());
    let obfuscated = port.len() > 1
        && port.starts_with('_')
        && port
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    (digits || obfuscated).then_some(())
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// A left-to-right reader over one `Forwarded` element.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.i += 1)
    }

    /// `token = 1*tchar` (RFC 9110 §5.6.2).
    fn token(&mut self) -> Option<&'a [u8]> {
        let (s, start) = (self.s, self.i);
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        let end = self.i;
        (end > start).then(|| &s[start..end])
    }

    /// `quoted-string` (RFC 9110 §5.6.4), its content unescaped into `out`
    /// when given.
    fn quoted_string(&mut self, mut out: Option<&mut Node>) -> Option<()> {
        self.expect(b'"')?;
        loop {
            let b = match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => {
                    self.i += 1;
                    let b = self.peek()?;
                    if !(b == b'\t' || b == b' ' || b.is_ascii_graphic() || b >= 0x80) {
                        return None;
                    }
                    b
                }
                b @ (b'\t' | b' ' | 0x21..=0x7e | 0x80..) => b,
                _ => return None,
            };
            self.i += 1;
            if let Some(out) = out.as_deref_mut() {
                out.push(b)?;
            }
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth::http::HeaderValue;

    fn proxies(list: &str) -> TrustedProxies {
        list.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(fields: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    /// The client seen through the usual setup: a proxy at 10.0.0.1, and
    /// 10.0.0.0/8 and fd00::/8 trusted.
    fn client(fields: &[(&str, &str)]) -> IpAddr {
        proxies("10.0.0.0/8, fd00::/8").client_ip(ip("10.0.0.1"), &headers(fields))
    }

    fn xff(value: &str) -> IpAddr {
        client(&[("x-forwarded-for", value)])
    }

    fn fwd(value: &str) -> IpAddr {
        client(&[("forwarded", value)])
    }

    // ----- parsing the list -----

    #[test]
    fn parses_cidrs_and_bare_addresses() {
        let p = proxies("10.0.0.0/8, 192.168.1.7,::1 , fd00::/8,0.0.0.0/0");
        assert_eq!(
            p.to_string(),
            "10.0.0.0/8, 192.168.1.7/32, ::1/128, fd00::/8, 0.0.0.0/0"
        );
        assert!(p.contains(ip("10.255.0.3")));
        assert!(p.contains(ip("192.168.1.7")));
        assert!(p.contains(ip("::1")));
        assert!(p.contains(ip("fd12:3456::1")));
        assert!(!p.contains(ip("fe80::1")));
        let p = proxies("192.168.1.7");
        assert!(!p.contains(ip("192.168.1.8")));
        assert!(!p.contains(ip("::ffff:192.168.1.8")));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let p = proxies("10.0.0.0/8");
        assert!(p.contains(ip("::ffff:10.0.0.1")));
        assert!(!p.contains(ip("::ffff:11.0.0.1")));
        // Mapped networks are their IPv4 networks.
        assert_eq!(proxies("::ffff:10.0.0.0/104"), p);
        assert_eq!(proxies("::ffff:10.0.0.1").to_string(), "10.0.0.1/32");
        assert!(proxies("::ffff:10.0.0.1").contains(ip("10.0.0.1")));
        // An IPv6 network does not swallow IPv4 peers, nor the reverse.
        assert!(!proxies("::/0").contains(ip("::ffff:10.0.0.1")));
        assert!(!proxies("0.0.0.0/0").contains(ip("::1")));
        let headers = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(
            p.client_ip(ip("::ffff:10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn lists_collect() {
        let all: TrustedProxies = [proxies("10.0.0.0/8"), proxies("::1, 127.0.0.1")]
            .into_iter()
            .collect();
        assert_eq!(all, proxies("10.0.0.0/8, ::1, 127.0.0.1"));
        assert!(TrustedProxies::default().is_empty());
        assert!(!all.is_empty());
    }

    #[test]
    fn bad_entries_say_why() {
        let err = |s: &str| s.parse::<TrustedProxies>().unwrap_err().to_string();
        assert_eq!(
            err("10.0.0.0/33"),
            "invalid trusted proxy \"10.0.0.0/33\": prefix length /33 is longer than 32 bits"
        );
        assert!(err("::/129").contains("/129 is longer than 128 bits"));
        assert!(err("::/1290").contains("/1290 is longer than 128 bits"));
        assert_eq!(
            err("10.0.0.1/8"),
            "invalid trusted proxy \"10.0.0.1/8\": host bits are set: write 10.0.0.0/8 \
             for the network or 10.0.0.1 for this one address"
        );
        assert!(err("fd00::1/8").contains("write fd00::/8"));
        for bad in [
            "example.com",
            "10.0.0",
            "10.0.0.0.0",
            "fe80::1%eth0",
            "[::1]",
            "1.2.3.4:80",
        ] {
            assert!(err(bad).contains("not an IP address or CIDR"), "{bad}");
        }
        for bad in [
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/x",
            "10.0.0.0/ 8",
            "10.0.0.0/8/8",
        ] {
            assert!(err(bad).contains("not a number"), "{bad}");
        }
        assert!(err("").contains("empty entry"));
        assert!(err("10.0.0.0/8,,::1").contains("empty entry"));
        assert!(err("10.0.0.0/8,").contains("empty entry"));
    }

    // ----- who may speak -----

    #[test]
    fn untrusted_peers_cannot_set_the_client() {
        let p = proxies("10.0.0.0/8");
        let forged = headers(&[
            ("x-forwarded-for", "10.0.0.5"),
            ("forwarded", "for=192.0.2.1"),
        ]);
        assert_eq!(p.client_ip(ip("203.0.113.9"), &forged), ip("203.0.113.9"));
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("10.0.0.1"), &forged), ip("10.0.0.1"));
    }

    #[test]
    fn trusted_peer_without_headers_is_the_client() {
        assert_eq!(client(&[]), ip("10.0.0.1"));
        assert_eq!(client(&[("x-real-ip", "192.0.2.1")]), ip("10.0.0.1"));
    }

    // ----- X-Forwarded-For -----

    #[test]
    fn x_forwarded_for_walks_from_the_right() {
        assert_eq!(xff("203.0.113.7"), ip("203.0.113.7"));
        assert_eq!(xff("  203.0.113.7  "), ip("203.0.113.7"));
        // A chain of trusted proxies is passed over.
        assert_eq!(xff("203.0.113.7, 10.0.0.2, 10.0.0.3"), ip("203.0.113.7"));
        assert_eq!(xff("203.0.113.7,fd00::2,10.0.0.3"), ip("203.0.113.7"));
        // Every hop trusted: the left-most.
        assert_eq!(xff("10.0.0.9, 10.0.0.2"), ip("10.0.0.9"));
        // IPv6, bracketed or not, with ports.
        assert_eq!(xff("2001:db8::1"), ip("2001:db8::1"));
        assert_eq!(xff("[2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(xff("[2001:db8::1]:4711"), ip("2001:db8::1"));
        assert_eq!(xff("203.0.113.7:8080"), ip("203.0.113.7"));
        assert_eq!(xff("::ffff:203.0.113.7"), ip("::ffff:203.0.113.7"));
    }

    #[test]
    fn x_forwarded_for_reads_every_line_in_order() {
        let h = [
            ("x-forwarded-for", "192.0.2.1"),
            ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
            ("x-forwarded-for", "10.0.0.3"),
        ];
        assert_eq!(client(&h), ip("203.0.113.7"));
        let h = [
            ("x-forwarded-for", "192.0.2.1"),
            ("x-forwarded-for", "10.0.0.3"),
        ];
        assert_eq!(client(&h), ip("192.0.2.1"));
    }

    #[test]
    fn a_forged_x_forwarded_for_loses_to_what_the_proxy_appends() {
        // The client sends its own header; the proxy appends the address
        // it really saw, on the same line or a new one.
        assert_eq!(xff("6.6.6.6, 203.0.113.7"), ip("203.0.113.7"));
        let h = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.7"),
        ];
        assert_eq!(client(&h), ip("203.0.113.7"));
        // Forging a trusted hop does not help either.
        assert_eq!(xff("6.6.6.6, 10.0.0.7, 203.0.113.7"), ip("203.0.113.7"));
        // Nor does breaking the syntax at the left.
        for forged in ["\"", "[", "6.6.6.6 6.6.6.7", ",,,", "unknown", "x\\"] {
            assert_eq!(
                xff(&format!("{forged}, 203.0.113.7")),
                ip("203.0.113.7"),
                "{forged}"
            );
        }
        // Forged hops left of a trusted client are believed only as far as
        // trusted hops vouch for them: here 10.0.0.7 (a trusted machine)
        // is the client, and anything it claims is its own business.
        assert_eq!(xff("6.6.6.6, 10.0.0.7"), ip("6.6.6.6"));
    }

    #[test]
    fn x_forwarded_for_stops_at_what_it_cannot_read() {
        // Malformed at the right: the peer.
        for bad in [
            "203.0.113.7, garbage",
            "203.0.113.7,",
            "203.0.113.7, unknown",
            "203.0.113.7, _hidden",
            "203.0.113.7, 1.2.3.4.5",
            "203.0.113.7, 010.0.0.1",
            "203.0.113.7, 1.2.3.4:99999x",
            "203.0.113.7, [2001:db8::1",
            "203.0.113.7, 2001:db8::1]",
            "203.0.113.7, fe80::1%eth0",
            "203.0.113.7, 1.2.3.4 5.6.7.8",
            "",
            " ",
        ] {
            assert_eq!(xff(bad), ip("10.0.0.1"), "{bad:?}");
        }
        // Malformed past a trusted hop: that hop.
        assert_eq!(xff("203.0.113.7, junk, 10.0.0.2"), ip("10.0.0.2"));
        assert_eq!(xff("203.0.113.7,, 10.0.0.2"), ip("10.0.0.2"));
        let h = [
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-for", ""),
            ("x-forwarded-for", "10.0.0.2"),
        ];
        assert_eq!(client(&h), ip("10.0.0.2"));
    }

    // ----- Forwarded (RFC 7239) -----

    #[test]
    fn forwarded_rfc_7239_examples() {
        // §4 and §7.1.
        assert_eq!(fwd("for=\"_gazonk\""), ip("10.0.0.1"));
        assert_eq!(
            fwd("For=\"[2001:db8:cafe::17]:4711\""),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            fwd("for=192.0.2.60;proto=http;by=203.0.113.43"),
            ip("192.0.2.60")
        );
        assert_eq!(
            fwd("for=192.0.2.43, for=198.51.100.17"),
            ip("198.51.100.17")
        );
        assert_eq!(fwd("for=192.0.2.43, for=10.0.0.17"), ip("192.0.2.43"));
        assert_eq!(
            fwd("for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=unknown"),
            ip("10.0.0.1")
        );
        assert_eq!(
            fwd("for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=10.0.0.5"),
            ip("2001:db8:cafe::17")
        );
        // §6.3: an obfuscated port does not hide the address.
        assert_eq!(fwd("for=\"192.0.2.43:_abc-1\""), ip("192.0.2.43"));
        assert_eq!(fwd("for=\"[2001:db8::1]:_p\""), ip("2001:db8::1"));
    }

    #[test]
    fn forwarded_syntax() {
        assert_eq!(fwd("for=\"192.0.2.43:80\""), ip("192.0.2.43"));
        assert_eq!(fwd("FOR=192.0.2.43"), ip("192.0.2.43"));
        assert_eq!(fwd("by=10.0.0.1;for=192.0.2.43"), ip("192.0.2.43"));
        assert_eq!(fwd("for=192.0.2.43 ; proto=https"), ip("192.0.2.43"));
        assert_eq!(fwd(";for=192.0.2.43;;proto=https;"), ip("192.0.2.43"));
        assert_eq!(fwd("  for=192.0.2.43  ,  for=10.0.0.3  "), ip("192.0.2.43"));
        // Escapes in a quoted string are undone.
        assert_eq!(fwd(r#"for="\[2001:db8::1\]:80""#), ip("2001:db8::1"));
        // A comma or quote inside a quoted string separates nothing.
        assert_eq!(
            fwd(r#"for=192.0.2.43;host="a, for=6.6.6.6""#),
            ip("192.0.2.43")
        );
        assert_eq!(
            fwd(r#"for=192.0.2.43;ext="x\", for=6.6.6.6, \"", for=10.0.0.2"#),
            ip("192.0.2.43")
        );
        assert_eq!(fwd(r#"for=192.0.2.43;ext="a\\""#), ip("192.0.2.43"));
        // Every line, in order.
        let h = [
            ("forwarded", "for=192.0.2.43"),
            ("forwarded", "for=198.51.100.17;proto=https, for=10.0.0.9"),
            ("forwarded", "for=10.0.0.8"),
        ];
        assert_eq!(client(&h), ip("198.51.100.17"));
    }

    #[test]
    fn forwarded_stops_at_what_it_cannot_read() {
        for bad in [
            "for=unknown",
            "for=UNKNOWN",
            "for=\"unknown:80\"",
            "for=_hidden",
            "for=\"_hidden:80\"",
            // IPv6 must be bracketed and quoted.
            "for=[2001:db8::1]",
            "for=\"2001:db8::1\"",
            "for=\"[2001:db8::1]80\"",
            "for=\"[2001:db8::1]:\"",
            "for=\"192.0.2.43:123456\"",
            "for=\"192.0.2.43:\"",
            "for=\"192.0.2.43:_\"",
            "for=192.0.2.43:80",
            // No `for`, or two.
            "proto=https",
            "",
            "for=192.0.2.43;for=192.0.2.44",
            "for=192.0.2.43;For=192.0.2.43",
            // Not the grammar.
            "for = 192.0.2.43",
            "for=",
            "for=\"\"",
            "=192.0.2.43",
            "for=192.0.2.43 proto=http",
            "for=192.0.2.43;proto",
            "for=\"192.0.2.43",
            "for=192.0.2.43\"",
            "for=\"192.0.2.43\"x",
            "for=\"192.0.2.43\\\"",
            "for=192.0.2.43 for=192.0.2.44",
        ] {
            assert_eq!(fwd(bad), ip("10.0.0.1"), "{bad:?}");
            assert_eq!(
                fwd(&format!("for=203.0.113.7, {bad}")),
                ip("10.0.0.1"),
                "{bad:?} after a client"
            );
            assert_eq!(
                fwd(&format!("for=203.0.113.7, {bad}, for=10.0.0.2")),
                ip("10.0.0.2"),
                "{bad:?} before a trusted hop"
            );
        }
    }

    #[test]
    fn forwarded_elements_refuse_controls() {
        // HeaderValue refuses these already; the parser does not rely on it.
        assert_eq!(forwarded_for(b"for=192.0.2.43"), Some(ip("192.0.2.43")));
        assert_eq!(forwarded_for(b"for=\"192.0.2.43\x7f\""), None);
        assert_eq!(forwarded_for(b"for=\"192.0.2.43\n\""), None);
        assert_eq!(forwarded_for(b"for=\"\\\x00192.0.2.43\""), None);
        assert_eq!(forwarded_for(b"for=\"192.0.2.43\xff\""), None);
        assert_eq!(x_forwarded_for(b"192.0.2.43\xff"), None);
    }

    #[test]
    fn a_forged_forwarded_loses_to_what_the_proxy_appends() {
        let real = ip("203.0.113.7");
        assert_eq!(fwd("for=6.6.6.6, for=203.0.113.7"), real);
        let h = [
            ("forwarded", "for=6.6.6.6"),
            ("forwarded", "for=203.0.113.7;proto=https"),
        ];
        assert_eq!(client(&h), real);
        // Broken syntax on the client's side of the same line: the quote
        // left open would swallow the proxy's element if read from the
        // left; read from the right it cannot.
        for forged in [
            "for=\"6.6.6.6",
            "for=\"",
            "\"",
            "for=6.6.6.6;x=\"",
            "for=\"[::1]\\",
            "for=\"a\\\"",
            ";;;,,,",
            "for=6.6.6.6;for=6.6.6.7",
            "for=10.0.0.7\", for=6.6.6.6",
        ] {
            assert_eq!(fwd(&format!("{forged}, for=203.0.113.7")), real, "{forged}");
            assert_eq!(
                fwd(&format!("{forged}, for=\"203.0.113.7:4711\";proto=https")),
                real,
                "{forged}"
            );
        }
        // A client's X-Forwarded-For does not count when Forwarded is the
        // header in use.
        let h = [
            ("x-forwarded-for", "6.6.6.6"),
            ("forwarded", "for=203.0.113.7"),
        ];
        assert_eq!(client(&h), real);
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for() {
        let h = [
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=192.0.2.43"),
        ];
        assert_eq!(client(&h), ip("192.0.2.43"));
        // Even when it names no one: the walk stops there.
        let h = [
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=unknown"),
        ];
        assert_eq!(client(&h), ip("10.0.0.1"));
    }

    // ----- bounds -----

    #[test]
    fn at_most_64_elements() {
        let hops = |n| vec!["10.0.0.2"; n].join(", ");
        assert_eq!(
            xff(&format!("203.0.113.7, {}", hops(63))),
            ip("203.0.113.7")
        );
        assert_eq!(xff(&format!("203.0.113.7, {}", hops(64))), ip("10.0.0.2"));
        // Counted across lines too.
        let mut h = vec![("x-forwarded-for", "203.0.113.7")];
        h.extend(std::iter::repeat_n(("x-forwarded-for", "10.0.0.2"), 64));
        assert_eq!(client(&h), ip("10.0.0.2"));
        let fwd_hops = vec!["for=10.0.0.2"; 64].join(",");
        assert_eq!(fwd(&format!("for=203.0.113.7,{fwd_hops}")), ip("10.0.0.2"));
    }

    #[test]
    fn at_most_8_kib_from_the_right() {
        // A huge forged header cannot push the real client out: it is at
        // the right.
        let junk = "6.6.6.6, ".repeat(2000);
        assert_eq!(xff(&format!("{junk}203.0.113.7")), ip("203.0.113.7"));
        let junk = "for=\"6.6.6.6\", ".repeat(1000);
        assert_eq!(fwd(&format!("{junk}for=203.0.113.7")), ip("203.0.113.7"));
        // An element cut by the budget is not read: the walk ends at the
        // last trusted hop before it.
        let pad = "x".repeat(MAX_HEADER_BYTES);
        assert_eq!(xff(&format!("203.0.113.7{pad}, 10.0.0.2")), ip("10.0.0.2"));
        let exactly = format!("{}1.2.3.4, 10.0.0.2", " ".repeat(MAX_HEADER_BYTES - 17));
        assert_eq!(exactly.len(), MAX_HEADER_BYTES);
        assert_eq!(xff(&exactly), ip("1.2.3.4"));
        let over = format!(" {exactly}");
        assert_eq!(xff(&over), ip("10.0.0.2"));
        // Across lines (11 + pad + 8 + 8 bytes): the line that does not
        // fit is cut.
        let lines = |pad: usize| {
            let middle = format!("{}10.0.0.3", " ".repeat(pad));
            client(&[
                ("x-forwarded-for", "203.0.113.7"),
                ("x-forwarded-for", &middle),
                ("x-forwarded-for", "10.0.0.2"),
            ])
        };
        assert_eq!(lines(MAX_HEADER_BYTES - 27), ip("203.0.113.7"));
        assert_eq!(lines(MAX_HEADER_BYTES - 26), ip("10.0.0.3"));
        assert_eq!(lines(MAX_HEADER_BYTES), ip("10.0.0.2"));
        let middle = format!("{}for=10.0.0.3", " ".repeat(MAX_HEADER_BYTES));
        let h = [
            ("forwarded", "for=203.0.113.7"),
            ("forwarded", middle.as_str()),
            ("forwarded", "for=10.0.0.2"),
        ];
        assert_eq!(client(&h), ip("10.0.0.2"));
    }

    // ----- never panics -----

    #[test]
    fn every_cut_of_a_tricky_header_is_handled() {
        let p = proxies("10.0.0.0/8, fd00::/8");
        let peer = ip("10.0.0.1");
        let samples = [
            r#"for=192.0.2.43;host="a, \"b\\", for="[2001:db8::1]:4711";proto=https , For=_x, for=10.0.0.2"#,
            "203.0.113.7, [2001:db8::1]:80, fd00::1, 10.0.0.3:1, unknown, ::ffff:10.0.0.1",
        ];
        for sample in samples {
            for name in ["forwarded", "x-forwarded-for"] {
                for i in 0..=sample.len() {
                    for part in [&sample[..i], &sample[i..]] {
                        let h = headers(&[(name, part)]);
                        let got = p.client_ip(peer, &h);
                        assert!(
                            got == peer || part.contains(&got.to_string()),
                            "{got} from {part:?}"
                        );
                    }
                }
            }
        }
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_headers_never_panic(
                lines in proptest::collection::vec(
                    proptest::collection::vec(
                        prop_oneof![
                            Just(b'"'), Just(b'\\'), Just(b','), Just(b';'), Just(b'='),
                            Just(b' '), Just(b'['), Just(b']'), Just(b':'), Just(b'.'),
                            Just(b'_'), 0x21u8..0x7f, 0x80u8..=0xff,
                            Just(b'1'), Just(b'0'), Just(b'f'),
                        ],
                        0..40,
                    ),
                    0..5,
                ),
                forwarded in any::<bool>(),
            ) {
                let p = proxies("10.0.0.0/8, fd00::/8, 1.0.0.0/8");
                let name = if forwarded { "forwarded" } else { "x-forwarded-for" };
                let mut map = HeaderMap::new();
                for line in &lines {
                    if let Ok(value) = HeaderValue::from_bytes(line) {
                        map.append(HeaderName::from_static(name), value);
                    }
                }
                let _ = p.client_ip(ip("10.0.0.1"), &map);
                let _ = p.client_ip(ip("::ffff:1.2.3.4"), &map);
            }
        }
    }
}
