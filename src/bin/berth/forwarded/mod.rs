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
use berth::syntax::{self, is_ows, is_tchar, trim_ows};
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
///
/// The one list split not done by `berth::syntax::elements`, which reads
/// left to right: the walk starts at the right end (the hop the nearest
/// proxy wrote) and may have only the line's right part to read. Each
/// element is then parsed left to right with `syntax::quoted_string`,
/// which rejects any split this got wrong.
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
        while self.peek().is_some_and(is_ows) {
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
    fn quoted_string(&mut self, out: Option<&mut Node>) -> Option<()> {
        let at = &self.s[self.i..];
        let (quoted, rest) = syntax::quoted_string(at)?;
        self.i += at.len() - rest.len();
        if let Some(out) = out {
            quoted.bytes().try_for_each(|b| out.push(b))?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests;
