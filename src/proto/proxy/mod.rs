//! The PROXY protocol header, versions 1 and 2, that a load balancer sends
//! before the first byte of HTTP to say whom the connection is really from
//! (HAProxy's `proxy-protocol.txt`, cited below as "spec §N").
//!
//! ```text
//! v1 = "PROXY" SP ( "TCP4" | "TCP6" ) SP src-ip SP dst-ip SP src-port SP dst-port CRLF
//!    / "PROXY" SP "UNKNOWN" [ SP *( any byte but CR, LF ) ] CRLF
//!                             ; at most 107 bytes, CRLF included (§2.1)
//! v2 = signature ver-cmd fam len[2] address-block[len]   ; 16 + len bytes (§2.2)
//!      signature = \r\n\r\n\0\r\nQUIT\n
//!      address-block = src-addr dst-addr [ src-port dst-port ] *TLV
//! ```
//!
//! This module owns the parse only: [`parse_proxy_header`] looks at the
//! bytes received so far and says "need more", "here is the header and its
//! length", or "this is not a PROXY header". It never consumes: the caller
//! peeks at the socket (`MSG_PEEK`), and on [`ProxyParse::Complete`] reads
//! exactly `consumed` bytes, so the first bytes of HTTP after the header stay
//! in the socket. The same bytes give the same result however they arrive:
//! every prefix of a header is [`ProxyParse::Incomplete`] until its last byte,
//! and once a prefix is an error every longer input is the same error.
//!
//! Errors come as early as the bytes allow (spec §2.1: abort "as soon as
//! possible so that the sender gets a chance to notice the anomaly"): a byte
//! that cannot continue `PROXY ` or the version 2 signature is rejected when
//! it arrives, so a plain HTTP request (`G`, `PO`, `PRI`, `PROP`) or a TLS
//! ClientHello (`\x16`) on a PROXY listener fails on its first bytes instead
//! of waiting for a timeout; a version 1 field is checked byte by byte and in
//! full at the space or CRLF that ends it; a version 2 version, command or
//! family is checked as soon as its byte is in, and the length at byte 16.
//!
//! There is deliberately no "no header" outcome. Spec §2: the receiver "MUST
//! be configured to only receive the protocol described in this
//! specification and MUST not try to guess whether the protocol header is
//! present", or any client could spoof its address; and it "SHOULD ensure
//! proper access filtering so that only trusted proxies are allowed", which
//! is the listener's job, not this parser's.
//!
//! Where the spec leaves a choice, berth takes the strict side:
//! - Version 1 addresses are the textual forms of their family (IPv4 dotted
//!   quad without leading zeros; IPv6 as RFC 4291 §2.2, including the
//!   `::ffff:192.0.2.1` form `inet_ntop` writes for mapped addresses); ports
//!   are `0`–`65535` without leading zeros (spec §2.1), `0` included.
//! - Version 2 `DGRAM` is an error: berth serves stream connections only, so
//!   a balancer claiming to relay a datagram one is misconfigured, and failing
//!   loudly beats silently logging the balancer's own address (spec §2.2 would
//!   also allow falling back to UNSPEC).
//! - Version 2 TLVs after the addresses are skipped, but their lengths must
//!   tile the rest of the block exactly (as HAProxy requires). `PP2_TYPE_CRC32C`
//!   is not verified (spec §2.2.3 requires it only of receivers that support
//!   it). The blocks of LOCAL and UNSPEC headers are skipped unread.
//! - A version 2 header longer than [`V2_MAX_HEADER_BYTES`] is an error.

use std::fmt;

// `core::net` holds the very address types the standard library re-exports;
// this layer names them from `core` because it never opens a socket.
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Longest version 1 header, CRLF included: the spec §2.1 worst case,
/// `PROXY UNKNOWN` with two full IPv6 addresses and two 5-digit ports.
pub const V1_MAX_BYTES: usize = 107;

/// Longest version 2 header berth accepts: the 16-byte fixed part and a
/// 1024-byte address block.
///
/// The wire allows up to 65535 block bytes, but the caller must buffer the
/// whole header before it consumes any of it, so the cap bounds that buffer
/// per pending connection. 1024 holds the largest address block (AF_UNIX,
/// 216 bytes) plus every registered TLV at a realistic size together: an SSL
/// TLV with version, cipher, algorithms and a 64-byte client CN (~150), a
/// 255-byte AUTHORITY (SNI), a 128-byte UNIQUE_ID, ALPN, CRC32C, NETNS and
/// the cloud balancers' custom TLVs (AWS's VPC endpoint id, Azure's link id),
/// about 850 in all.
pub const V2_MAX_HEADER_BYTES: usize = V2_FIXED_BYTES + 1024;

/// `PROXY` and the one space after it (spec §2.1).
const V1_PREFIX: &[u8] = b"PROXY ";

/// The version 2 signature (spec §2.2), built so that HTTP, TLS, SMTP and the
/// like reject it and it cannot be mistaken for them.
const V2_SIGNATURE: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";

/// Signature, version and command, family and protocol, block length.
const V2_FIXED_BYTES: usize = 16;

/// What the proxy said about the connection.
///
/// `source` and `destination` are both `Some` or both `None`. `None` means
/// the proxy gave no usable address (version 1 `UNKNOWN`, version 2 `LOCAL`,
/// `AF_UNSPEC`, `UNSPEC` protocol or `AF_UNIX`): the spec tells the receiver
/// to use the real connection's addresses then (spec §2.1, §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProxyHeader {
    /// The client the proxy accepted the connection from.
    pub source: Option<SocketAddr>,
    /// The address the client connected to, on the proxy.
    pub destination: Option<SocketAddr>,
}

impl ProxyHeader {
    /// A header with no addresses.
    const UNKNOWN: ProxyHeader = ProxyHeader {
        source: None,
        destination: None,
    };

    fn with(source: SocketAddr, destination: SocketAddr) -> ProxyHeader {
        ProxyHeader {
            source: Some(source),
            destination: Some(destination),
        }
    }
}

/// One look at the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyParse {
    /// A valid prefix of a header: call again once the buffer holds at least
    /// `at_least` bytes in all. Exact for version 2 once its 16-byte fixed
    /// part is in (the whole header's length); `buf.len() + 1` otherwise, so
    /// every byte is checked as it arrives.
    Incomplete {
        /// Total buffer length to wait for, always more than `buf.len()`.
        at_least: usize,
    },
    /// A complete, valid header: its first `consumed` bytes. Bytes after
    /// them are the proxied stream and must be left unread.
    Complete {
        /// What the header said.
        header: ProxyHeader,
        /// Length of the header in bytes.
        consumed: usize,
    },
}

/// Why the bytes are not a valid PROXY header. The connection must be
/// dropped (spec §2.1: "Any sequence which does not exactly match the
/// protocol must be discarded and cause the receiver to abort the
/// connection"). The names are stable; the `Display` text is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyError {
    /// The bytes start with neither `PROXY ` nor the version 2 signature.
    BadSignature,
    /// Version 1: no CRLF within the first 107 bytes.
    V1TooLong,
    /// Version 1: a LF not preceded by CR (spec §2.1: the receiver "must not
    /// tolerate a single CR or LF character to end the line").
    V1BareLf,
    /// Version 1: a CR not followed by LF.
    V1BareCr,
    /// Version 1: the protocol is not `TCP4`, `TCP6` or `UNKNOWN`.
    V1BadProtocol,
    /// Version 1: an empty field (two spaces in a row, a space before the
    /// CRLF), or a `TCP4`/`TCP6` line without exactly four fields after the
    /// protocol.
    V1BadFields,
    /// Version 1: an address is not in the textual form of the line's family.
    V1BadAddress,
    /// Version 1: a port is not a decimal in `0..=65535` without leading
    /// zeros.
    V1BadPort,
    /// Version 2: the version (the high nibble of this byte) is not 2.
    V2BadVersion(u8),
    /// Version 2: the command (the low nibble of this byte) is neither LOCAL
    /// (0) nor PROXY (1).
    V2BadCommand(u8),
    /// Version 2: an address family or transport protocol (the nibbles of
    /// this byte) the spec does not define.
    V2BadFamily(u8),
    /// Version 2: a PROXY header for a datagram (UDP or UNIX_DGRAM)
    /// connection, of this family byte.
    V2Datagram(u8),
    /// Version 2: the address block is shorter than the family's addresses.
    V2AddressTooShort {
        /// The family and protocol byte.
        family: u8,
        /// The announced block length.
        len: usize,
    },
    /// Version 2: the header is longer than [`V2_MAX_HEADER_BYTES`].
    V2TooLong {
        /// The announced length of the whole header.
        len: usize,
    },
    /// Version 2: the TLVs after the addresses do not fill the rest of the
    /// address block exactly.
    V2BadTlv,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ProxyError::BadSignature => {
                f.write_str("not a PROXY protocol header (no `PROXY ` or version 2 signature)")
            }
            ProxyError::V1TooLong => f.write_str("PROXY v1 header has no CRLF in 107 bytes"),
            ProxyError::V1BareLf => f.write_str("PROXY v1 header has a LF without CR"),
            ProxyError::V1BareCr => f.write_str("PROXY v1 header has a CR without LF"),
            ProxyError::V1BadProtocol => {
                f.write_str("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN")
            }
            ProxyError::V1BadFields => {
                f.write_str("PROXY v1 header has an empty, missing or extra field")
            }
            ProxyError::V1BadAddress => {
                f.write_str("PROXY v1 address is not a valid address of its family")
            }
            ProxyError::V1BadPort => {
                f.write_str("PROXY v1 port is not 0-65535 without leading zeros")
            }
            ProxyError::V2BadVersion(byte) => {
                write!(
                    f,
                    "PROXY v2 version is {} (byte {byte:#04x}), not 2",
                    byte >> 4
                )
            }
            ProxyError::V2BadCommand(byte) => write!(
                f,
                "PROXY v2 command is {} (byte {byte:#04x}), not LOCAL or PROXY",
                byte & 0x0f
            ),
            ProxyError::V2BadFamily(byte) => {
                write!(f, "PROXY v2 family/protocol byte {byte:#04x} is undefined")
            }
            ProxyError::V2Datagram(byte) => write!(
                f,
                "PROXY v2 header is for a datagram connection (byte {byte:#04x}); only streams are served"
            ),
            ProxyError::V2AddressTooShort { family, len } => write!(
                f,
                "PROXY v2 address block of {len} bytes is too short for family {family:#04x}"
            ),
            ProxyError::V2TooLong { len } => write!(
                f,
                "PROXY v2 header of {len} bytes is over the {V2_MAX_HEADER_BYTES}-byte limit"
            ),
            ProxyError::V2BadTlv => {
                f.write_str("PROXY v2 TLVs do not fill the rest of the address block")
            }
        }
    }
}

impl std::error::Error for ProxyError {}

/// Parses the PROXY header at the start of `buf`, version 1 or 2.
///
/// Looks only; consumes nothing. On [`ProxyParse::Incomplete`] call again
/// with the same bytes and more; on [`ProxyParse::Complete`] the header is
/// the first `consumed` bytes. An error is final: longer inputs give the
/// same error.
pub fn parse_proxy_header(buf: &[u8]) -> Result<ProxyParse, ProxyError> {
    // Spec §2.2: the two signatures differ in their first byte.
    match buf.first() {
        None => Ok(ProxyParse::Incomplete { at_least: 1 }),
        Some(b'P') if starts_like(buf, V1_PREFIX) => parse_v1(buf),
        Some(b'\r') if starts_like(buf, V2_SIGNATURE) => parse_v2(buf),
        Some(_) => Err(ProxyError::BadSignature),
    }
}

/// True if `buf` and `signature` agree on their common length.
fn starts_like(buf: &[u8], signature: &[u8]) -> bool {
    let n = buf.len().min(signature.len());
    buf[..n] == signature[..n]
}

/// The protocol field of a version 1 line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V1Family {
    Tcp4,
    Tcp6,
    Unknown,
}

const V1_FAMILIES: [(&[u8], V1Family); 3] = [
    (b"TCP4", V1Family::Tcp4),
    (b"TCP6", V1Family::Tcp6),
    (b"UNKNOWN", V1Family::Unknown),
];

/// Fields of a version 1 line after `PROXY `, in order.
const V1_PROTOCOL: usize = 0;
const V1_SRC_PORT: usize = 3;
const V1_DST_PORT: usize = 4;

/// Version 1 (spec §2.1). `buf` agrees with `PROXY ` so far.
///
/// One pass left to right over at most 107 bytes: every byte is checked
/// against its field as it arrives, and each field in full at the space or
/// CRLF that ends it, so the first bad byte decides the error whatever
/// follows it.
fn parse_v1(buf: &[u8]) -> Result<ProxyParse, ProxyError> {
    let line = &buf[..buf.len().min(V1_MAX_BYTES)];
    let mut family = None;
    let mut ips = [None; 2];
    let mut ports = [0; 2];
    let mut field = V1_PROTOCOL;
    let mut start = V1_PREFIX.len();
    for (i, &byte) in line.iter().enumerate().skip(V1_PREFIX.len()) {
        match byte {
            // Spec §2.1: the line ends at CRLF, and "must not tolerate a
            // single CR or LF character to end the line".
            b'\r' => match line.get(i + 1) {
                None => break, // the LF is yet to come (or past the limit)
                Some(b'\n') => {}
                Some(_) => return Err(ProxyError::V1BareCr),
            },
            b'\n' => {
                // A LF ends the line only right after a CR.
                if line.get(i.wrapping_sub(1)) != Some(&b'\r') {
                    return Err(ProxyError::V1BareLf);
                }
                let family = match family {
                    Some(family) => family,
                    None => end_protocol(&line[start..i - 1])?,
                };
                if family == V1Family::Unknown {
                    // Spec §2.1: for UNKNOWN "the receiver must ignore
                    // anything presented before the CRLF is found".
                    return complete(ProxyHeader::UNKNOWN, i + 1);
                }
                if field != V1_DST_PORT {
                    end_field(&line[start..i - 1])?;
                    return Err(ProxyError::V1BadFields);
                }
                ports[1] = end_port(&line[start..i - 1])?;
                let (Some(src), Some(dst)) = (ips[0], ips[1]) else {
                    return Err(ProxyError::V1BadFields); // unreachable: both parsed
                };
                let header = ProxyHeader::with(
                    SocketAddr::new(src, ports[0]),
                    SocketAddr::new(dst, ports[1]),
                );
                return complete(header, i + 1);
            }
            _ if family == Some(V1Family::Unknown) => {} // ignored up to CRLF
            b' ' => {
                // Spec §2.1: "exactly one space" between fields.
                let text = &line[start..i];
                match field {
                    V1_PROTOCOL => family = Some(end_protocol(text)?),
                    1 | 2 => ips[field - 1] = Some(end_address(family, text)?),
                    V1_SRC_PORT => ports[0] = end_port(text)?,
                    _ => return Err(ProxyError::V1BadFields), // a fifth field
                }
                field += 1;
                start = i + 1;
            }
            _ => check_partial(family, field, &line[start..=i])?,
        }
    }
    if line.len() == V1_MAX_BYTES {
        // Spec §2.1: "If the CRLF sequence is not found in the first 107
        // characters, the receiver should declare the line invalid."
        Err(ProxyError::V1TooLong)
    } else {
        Ok(ProxyParse::Incomplete {
            at_least: buf.len() + 1,
        })
    }
}

fn complete(header: ProxyHeader, consumed: usize) -> Result<ProxyParse, ProxyError> {
    Ok(ProxyParse::Complete { header, consumed })
}

/// Checks the unfinished field `text` (its last byte just arrived) as far as
/// it can be judged before it ends.
fn check_partial(family: Option<V1Family>, field: usize, text: &[u8]) -> Result<(), ProxyError> {
    let Some(&byte) = text.last() else {
        return Ok(());
    };
    match (field, family) {
        (V1_PROTOCOL, _) => {
            if V1_FAMILIES.iter().any(|(name, _)| name.starts_with(text)) {
                Ok(())
            } else {
                Err(ProxyError::V1BadProtocol)
            }
        }
        // A dotted quad is at most 15 bytes of digits and dots.
        (1 | 2, Some(V1Family::Tcp4))
            if text.len() <= 15 && (byte.is_ascii_digit() || byte == b'.') =>
        {
            Ok(())
        }
        // RFC 4291 §2.2: at most 45 bytes (`x:x:x:x:x:x:d.d.d.d`) of hex
        // digits, colons and the dots of an embedded IPv4 address.
        (1 | 2, Some(V1Family::Tcp6))
            if text.len() <= 45 && (byte.is_ascii_hexdigit() || byte == b':' || byte == b'.') =>
        {
            Ok(())
        }
        (1 | 2, _) => Err(ProxyError::V1BadAddress),
        _ => {
            // Spec §2.1: "Heading zeroes are not permitted".
            let leading_zero = text.len() > 1 && text[0] == b'0';
            if byte.is_ascii_digit() && text.len() <= 5 && !leading_zero {
                Ok(())
            } else {
                Err(ProxyError::V1BadPort)
            }
        }
    }
}

/// A field ended by a space or CRLF must not be empty (spec §2.1: "exactly
/// one space" between fields, none before the CRLF).
fn end_field(text: &[u8]) -> Result<&[u8], ProxyError> {
    if text.is_empty() {
        Err(ProxyError::V1BadFields)
    } else {
        Ok(text)
    }
}

fn end_protocol(text: &[u8]) -> Result<V1Family, ProxyError> {
    let text = end_field(text)?;
    V1_FAMILIES
        .iter()
        .find(|(name, _)| *name == text)
        .map(|&(_, family)| family)
        .ok_or(ProxyError::V1BadProtocol)
}

/// Spec §2.1: "The advertised protocol family dictates what format to use."
fn end_address(family: Option<V1Family>, text: &[u8]) -> Result<IpAddr, ProxyError> {
    let text = end_field(text)?;
    let text = std::str::from_utf8(text).map_err(|_| ProxyError::V1BadAddress)?;
    // `Ipv4Addr`'s parser rejects leading zeros ("to avoid any possible
    // confusion with octal numbers", spec §2.1); `Ipv6Addr`'s takes the
    // RFC 4291 §2.2 forms, which is what `inet_ntop` senders write.
    let ip = match family {
        Some(V1Family::Tcp4) => text.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
        Some(V1Family::Tcp6) => text.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        _ => None,
    };
    ip.ok_or(ProxyError::V1BadAddress)
}

/// Spec §2.1: "a decimal integer in the range [0..65535] inclusive", without
/// leading zeros.
fn end_port(text: &[u8]) -> Result<u16, ProxyError> {
    let text = end_field(text)?;
    if text.len() > 5 || (text.len() > 1 && text[0] == b'0') {
        return Err(ProxyError::V1BadPort);
    }
    let mut value: u32 = 0;
    for &byte in text {
        if !byte.is_ascii_digit() {
            return Err(ProxyError::V1BadPort);
        }
        value = value * 10 + u32::from(byte - b'0');
    }
    u16::try_from(value).map_err(|_| ProxyError::V1BadPort)
}

/// How a version 2 address block is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V2Block {
    /// Skipped unread: LOCAL, or an UNSPEC family or protocol.
    Ignored,
    /// TCP over IPv4: 4 + 4 address bytes, 2 + 2 port bytes.
    Inet,
    /// TCP over IPv6: 16 + 16 address bytes, 2 + 2 port bytes.
    Inet6,
    /// UNIX stream: 108 + 108 path bytes, no port; no `SocketAddr`.
    Unix,
}

impl V2Block {
    /// Bytes of addresses at the start of the block; TLVs follow.
    fn address_len(self) -> usize {
        match self {
            V2Block::Ignored => 0,
            V2Block::Inet => 12,
            V2Block::Inet6 => 36,
            V2Block::Unix => 216,
        }
    }
}

const V2_LOCAL: u8 = 0x0;
const V2_PROXY: u8 = 0x1;

/// Version 2 (spec §2.2). `buf` agrees with the signature so far.
fn parse_v2(buf: &[u8]) -> Result<ProxyParse, ProxyError> {
    // Each byte of the fixed part is checked as soon as it is in.
    if let Some(&ver_cmd) = buf.get(12) {
        // "The highest four bits contains the version. [...] it must always
        // be sent as \x2 and the receiver must only accept this value."
        if ver_cmd >> 4 != 2 {
            return Err(ProxyError::V2BadVersion(ver_cmd));
        }
        // Other commands "are unassigned [...] Receivers must drop
        // connections presenting unexpected values here."
        if !matches!(ver_cmd & 0x0f, V2_LOCAL | V2_PROXY) {
            return Err(ProxyError::V2BadCommand(ver_cmd));
        }
    }
    if let (Some(&ver_cmd), Some(&fam)) = (buf.get(12), buf.get(13)) {
        v2_block(ver_cmd, fam)?;
    }
    let Some(&[.., ver_cmd, fam, len_hi, len_lo]) = buf.first_chunk::<V2_FIXED_BYTES>() else {
        return Ok(ProxyParse::Incomplete {
            at_least: buf.len() + 1,
        });
    };
    let block = v2_block(ver_cmd, fam)?;
    // "the length of the protocol header in bytes is always exactly 16 +
    // this value", and "Receivers MUST always consider this field to skip
    // the appropriate number of bytes".
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    let total = V2_FIXED_BYTES + len;
    if total > V2_MAX_HEADER_BYTES {
        return Err(ProxyError::V2TooLong { len: total });
    }
    let too_short = ProxyError::V2AddressTooShort { family: fam, len };
    if len < block.address_len() {
        return Err(too_short);
    }
    let Some(block_bytes) = buf.get(V2_FIXED_BYTES..total) else {
        return Ok(ProxyParse::Incomplete { at_least: total });
    };
    let (addresses, tlvs) = block_bytes
        .split_at_checked(block.address_len())
        .ok_or(too_short)?;
    let header = match block {
        V2Block::Ignored => return complete(ProxyHeader::UNKNOWN, total),
        V2Block::Unix => ProxyHeader::UNKNOWN,
        V2Block::Inet => {
            let (src, dst, ports) = split_ips::<4>(addresses).ok_or(too_short)?;
            inet_header(
                Ipv4Addr::from(src).into(),
                Ipv4Addr::from(dst).into(),
                ports,
            )
        }
        V2Block::Inet6 => {
            let (src, dst, ports) = split_ips::<16>(addresses).ok_or(too_short)?;
            inet_header(
                Ipv6Addr::from(src).into(),
                Ipv6Addr::from(dst).into(),
                ports,
            )
        }
    };
    check_tlvs(tlvs)?;
    complete(header, total)
}

/// Reads the family and protocol byte (spec §2.2), knowing the command.
fn v2_block(ver_cmd: u8, fam: u8) -> Result<V2Block, ProxyError> {
    const UNSPEC: u8 = 0x0;
    const INET: u8 = 0x1;
    const INET6: u8 = 0x2;
    const UNIX: u8 = 0x3;
    const STREAM: u8 = 0x1;
    const DGRAM: u8 = 0x2;
    let (family, protocol) = (fam >> 4, fam & 0x0f);
    // Other families and protocols "must be rejected as invalid by
    // receivers".
    if family > UNIX || protocol > DGRAM {
        return Err(ProxyError::V2BadFamily(fam));
    }
    // LOCAL: "the receiver [...] must use the real connection endpoints and
    // discard the protocol block including the family which is ignored".
    if ver_cmd & 0x0f == V2_LOCAL {
        return Ok(V2Block::Ignored);
    }
    Ok(match (family, protocol) {
        // UNSPEC: "The receiver should ignore address information."
        (UNSPEC, _) | (_, UNSPEC) => V2Block::Ignored,
        (_, DGRAM) => return Err(ProxyError::V2Datagram(fam)),
        (INET, STREAM) => V2Block::Inet,
        (INET6, STREAM) => V2Block::Inet6,
        _ => V2Block::Unix,
    })
}

/// Splits a TCP address block into source and destination addresses and
/// the port bytes; `None` if it is shorter than `2 * N + 4` bytes (which the
/// caller has already ruled out).
fn split_ips<const N: usize>(addresses: &[u8]) -> Option<([u8; N], [u8; N], [u8; 4])> {
    let (src, rest) = addresses.split_first_chunk::<N>()?;
    let (dst, rest) = rest.split_first_chunk::<N>()?;
    let ports = rest.first_chunk::<4>()?;
    Some((*src, *dst, *ports))
}

/// "the addresses are followed by the source and destination ports
/// represented on 2 bytes each in network byte order".
fn inet_header(src: IpAddr, dst: IpAddr, ports: [u8; 4]) -> ProxyHeader {
    let [s_hi, s_lo, d_hi, d_lo] = ports;
    ProxyHeader::with(
        SocketAddr::new(src, u16::from_be_bytes([s_hi, s_lo])),
        SocketAddr::new(dst, u16::from_be_bytes([d_hi, d_lo])),
    )
}

/// Walks the TLVs after the addresses (spec §2.2: one type byte, a 2-byte
/// big-endian length, that many value bytes), which must end exactly at the
/// end of the block.
fn check_tlvs(mut rest: &[u8]) -> Result<(), ProxyError> {
    while !rest.is_empty() {
        let Some((&[_kind, hi, lo], after)) = rest.split_first_chunk::<3>() else {
            return Err(ProxyError::V2BadTlv);
        };
        let Some(next) = after.get(usize::from(u16::from_be_bytes([hi, lo]))..) else {
            return Err(ProxyError::V2BadTlv);
        };
        rest = next;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
