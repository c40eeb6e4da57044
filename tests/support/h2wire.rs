//! A raw HTTP/2 frame client for tests: builds any frame, valid or not, and
//! reads the server's frames one at a time, so a test can play attack and
//! malformed-sequence scenarios (rapid reset, CONTINUATION flood, PING and
//! SETTINGS floods, a client that never opens its window...) that the `h2`
//! crate's client refuses to send.
//!
//! Std only, blocking sockets. Every read is bounded by a deadline given by
//! the caller; a write is bounded by the socket's write timeout
//! ([`TIMEOUT`] unless changed on `conn.stream`). Nothing here sleeps.
//!
//! Three layers:
//! - encoders, one per frame type (`settings`, `headers`, `data`, ...), each
//!   returning the frame's bytes; concatenate them to send many in one write;
//! - HPACK: an encoder (literal without indexing, new name, no Huffman) and
//!   a complete decoder (static and dynamic table, Huffman), enough to read
//!   any response header block;
//! - [`Conn`]: one connection, which decodes every header block it reads
//!   (the dynamic table must see them all, in order) into [`Conn::blocks`].
//!
//! Encoders write what they are given: a stream id with the reserved bit, a
//! DATA frame on stream 0 or a PADDED flag with no pad length byte is sent
//! as asked. They never split: a payload over the peer's SETTINGS_MAX_FRAME_SIZE
//! (16384 unless raised) is a FRAME_SIZE_ERROR.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Connect, write and handshake timeout.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The client connection preface (RFC 9113 §3.4), sent before the first SETTINGS.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The largest payload a peer must accept before it raises SETTINGS_MAX_FRAME_SIZE.
pub const DEFAULT_MAX_FRAME: usize = 16_384;

/// Initial flow-control window of a connection and of each stream.
pub const DEFAULT_WINDOW: u32 = 65_535;

// ---- frame types, flags, error codes, settings (RFC 9113 §6, §7) ----

/// A frame type. `Unknown` carries any other type byte (which a receiver
/// must ignore, RFC 9113 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    Goaway,
    WindowUpdate,
    Continuation,
    Unknown(u8),
}

impl Kind {
    pub fn from_u8(b: u8) -> Kind {
        match b {
            0x0 => Kind::Data,
            0x1 => Kind::Headers,
            0x2 => Kind::Priority,
            0x3 => Kind::RstStream,
            0x4 => Kind::Settings,
            0x5 => Kind::PushPromise,
            0x6 => Kind::Ping,
            0x7 => Kind::Goaway,
            0x8 => Kind::WindowUpdate,
            0x9 => Kind::Continuation,
            other => Kind::Unknown(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Kind::Data => 0x0,
            Kind::Headers => 0x1,
            Kind::Priority => 0x2,
            Kind::RstStream => 0x3,
            Kind::Settings => 0x4,
            Kind::PushPromise => 0x5,
            Kind::Ping => 0x6,
            Kind::Goaway => 0x7,
            Kind::WindowUpdate => 0x8,
            Kind::Continuation => 0x9,
            Kind::Unknown(b) => b,
        }
    }
}

impl From<Kind> for u8 {
    fn from(k: Kind) -> u8 {
        k.to_u8()
    }
}

/// Frame flags (RFC 9113 §6). The meaning of a bit depends on the frame type.
pub mod flag {
    /// DATA, HEADERS.
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING.
    pub const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION.
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE.
    pub const PADDED: u8 = 0x8;
    /// HEADERS.
    pub const PRIORITY: u8 = 0x20;
}

/// Error codes of RST_STREAM and GOAWAY (RFC 9113 §7).
pub mod error {
    pub const NO_ERROR: u32 = 0x0;
    pub const PROTOCOL_ERROR: u32 = 0x1;
    pub const INTERNAL_ERROR: u32 = 0x2;
    pub const FLOW_CONTROL_ERROR: u32 = 0x3;
    pub const SETTINGS_TIMEOUT: u32 = 0x4;
    pub const STREAM_CLOSED: u32 = 0x5;
    pub const FRAME_SIZE_ERROR: u32 = 0x6;
    pub const REFUSED_STREAM: u32 = 0x7;
    pub const CANCEL: u32 = 0x8;
    pub const COMPRESSION_ERROR: u32 = 0x9;
    pub const CONNECT_ERROR: u32 = 0xa;
    pub const ENHANCE_YOUR_CALM: u32 = 0xb;
    pub const INADEQUATE_SECURITY: u32 = 0xc;
    pub const HTTP_1_1_REQUIRED: u32 = 0xd;

    /// The code's name, for assertion messages.
    pub fn name(code: u32) -> &'static str {
        #[rustfmt::skip]
        const NAMES: [&str; 14] = [
            "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
            "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
            "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
            "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
        ];
        NAMES.get(code as usize).copied().unwrap_or("UNKNOWN")
    }
}

/// SETTINGS parameter ids (RFC 9113 §6.5.2, RFC 8441).
pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
    pub const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;
}

// ---- encoders ----

/// Any frame: a 9-byte header and `payload`. `stream_id` is written as
/// given, reserved bit included; `kind` may be a [`Kind`] or any byte.
pub fn frame(kind: impl Into<u8>, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    assert!(
        len < 1 << 24,
        "frame payload of {len} bytes does not fit 24 bits"
    );
    let mut out = Vec::with_capacity(9 + len);
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    out.push(kind.into());
    out.push(flags);
    out.extend_from_slice(&stream_id.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An unknown (extension) frame type: the same as [`frame`].
pub fn unknown(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    frame(kind, flags, stream_id, payload)
}

/// SETTINGS with `params` (id, value), in order.
pub fn settings(params: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::with_capacity(params.len() * 6);
    for &(id, value) in params {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&value.to_be_bytes());
    }
    frame(Kind::Settings, 0, 0, &p)
}

pub fn settings_ack() -> Vec<u8> {
    frame(Kind::Settings, flag::ACK, 0, &[])
}

/// The fields of a PRIORITY frame or of a HEADERS frame's PRIORITY flag.
/// `weight` is the wire byte (the weight minus one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Priority {
    pub dependency: u32,
    pub exclusive: bool,
    pub weight: u8,
}

impl Priority {
    fn put(&self, out: &mut Vec<u8>) {
        let dep = self.dependency | if self.exclusive { 1 << 31 } else { 0 };
        out.extend_from_slice(&dep.to_be_bytes());
        out.push(self.weight);
    }
}

/// HEADERS carrying `block` with `flags` written as given (END_STREAM,
/// END_HEADERS; a PADDED or PRIORITY bit here adds no field: use
/// [`headers_ext`] for those).
pub fn headers(stream_id: u32, flags: u8, block: &[u8]) -> Vec<u8> {
    frame(Kind::Headers, flags, stream_id, block)
}

/// HEADERS with the optional priority fields and padding (`pad_len` zero
/// bytes), their flags added to `flags`.
pub fn headers_ext(
    stream_id: u32,
    flags: u8,
    block: &[u8],
    priority: Option<Priority>,
    pad_len: Option<u8>,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(block.len() + 6 + pad_len.unwrap_or(0) as usize);
    let mut flags = flags;
    if let Some(n) = pad_len {
        flags |= flag::PADDED;
        p.push(n);
    }
    if let Some(prio) = priority {
        flags |= flag::PRIORITY;
        prio.put(&mut p);
    }
    p.extend_from_slice(block);
    p.resize(p.len() + pad_len.unwrap_or(0) as usize, 0);
    frame(Kind::Headers, flags, stream_id, &p)
}

/// CONTINUATION with `flags` as given (END_HEADERS).
pub fn continuation(stream_id: u32, flags: u8, fragment: &[u8]) -> Vec<u8> {
    frame(Kind::Continuation, flags, stream_id, fragment)
}

/// DATA with `flags` as given (END_STREAM).
pub fn data(stream_id: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    frame(Kind::Data, flags, stream_id, payload)
}

/// DATA with PADDED: a pad length byte, `payload`, `pad_len` zero bytes.
pub fn data_padded(stream_id: u32, flags: u8, payload: &[u8], pad_len: u8) -> Vec<u8> {
    let mut p = Vec::with_capacity(1 + payload.len() + pad_len as usize);
    p.push(pad_len);
    p.extend_from_slice(payload);
    p.resize(p.len() + pad_len as usize, 0);
    frame(Kind::Data, flags | flag::PADDED, stream_id, &p)
}

pub fn rst_stream(stream_id: u32, code: u32) -> Vec<u8> {
    frame(Kind::RstStream, 0, stream_id, &code.to_be_bytes())
}

pub fn ping(payload: [u8; 8]) -> Vec<u8> {
    frame(Kind::Ping, 0, 0, &payload)
}

pub fn ping_ack(payload: [u8; 8]) -> Vec<u8> {
    frame(Kind::Ping, flag::ACK, 0, &payload)
}

pub fn window_update(stream_id: u32, increment: u32) -> Vec<u8> {
    frame(Kind::WindowUpdate, 0, stream_id, &increment.to_be_bytes())
}

pub fn goaway(last_stream_id: u32, code: u32, debug: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(8 + debug.len());
    p.extend_from_slice(&last_stream_id.to_be_bytes());
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(debug);
    frame(Kind::Goaway, 0, 0, &p)
}

pub fn priority(stream_id: u32, prio: Priority) -> Vec<u8> {
    let mut p = Vec::with_capacity(5);
    prio.put(&mut p);
    frame(Kind::Priority, 0, stream_id, &p)
}

/// A complete GET of `path` (authority `localhost`, scheme `http`) on
/// `stream_id`: one HEADERS with END_STREAM | END_HEADERS.
pub fn get(stream_id: u32, path: &str) -> Vec<u8> {
    let block = request_block("GET", "http", "localhost", path, &[]);
    headers(stream_id, flag::END_STREAM | flag::END_HEADERS, &block)
}

// ---- HPACK encoding (RFC 7541) ----

/// Appends `value` as an HPACK integer with an N-bit prefix (§5.1); `first`
/// holds the bits above the prefix.
pub fn hpack_int(out: &mut Vec<u8>, value: usize, prefix_bits: u8, first: u8) {
    let max = (1usize << prefix_bits) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// Appends a raw (not Huffman-coded) string literal (§5.2).
pub fn hpack_str(out: &mut Vec<u8>, s: &[u8]) {
    hpack_int(out, s.len(), 7, 0);
    out.extend_from_slice(s);
}

/// Appends one "literal header field without indexing, new name" (§6.2.2).
/// Names and values are written as given: no lowercasing, no validation.
pub fn hpack_literal(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(0x00);
    hpack_str(out, name);
    hpack_str(out, value);
}

/// A header block of `fields`, each a literal without indexing, so the
/// server's decoder state never changes.
pub fn header_block<N: AsRef<[u8]>, V: AsRef<[u8]>>(fields: &[(N, V)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in fields {
        hpack_literal(&mut out, n.as_ref(), v.as_ref());
    }
    out
}

/// A request's header block: the four pseudo-headers, then `extra`.
pub fn request_block(
    method: &str,
    scheme: &str,
    authority: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut fields = vec![
        (":method", method),
        (":scheme", scheme),
        (":authority", authority),
        (":path", path),
    ];
    fields.extend_from_slice(extra);
    header_block(&fields)
}

// ---- HPACK decoding (RFC 7541) ----

#[rustfmt::skip]
const STATIC_TABLE: [(&str, &str); 61] = [
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"), (":status", "200"),
    (":status", "204"), (":status", "206"), (":status", "304"), (":status", "400"),
    (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
];

/// Code lengths of the Huffman code (RFC 7541 Appendix B) for symbols
/// 0..=256 (256 is EOS), as `'a' + length - 5`. The code is canonical, so
/// the codes follow from the lengths alone (checked by the RFC examples in
/// the tests below).
const HUFFMAN_LENGTHS: &[u8] =
    b"isxxxxxxxtzxxzxxxxxxxxzxxxxxxxxxbffhibdgffdgdbbbaaabbbbbbbcdkbhfibcccccccccccccccccccc\
ccdcdioijbkabababbbaccbbbabcbaabccccckgjixprpprrrsrssssststtrstssssqrsrsstrqprrssqsrrt\
qrssqqrqsrssprrrsrrsvvporsruvvvwwvtuoqvwwvwtqqvvxwwwptpqrqqsrruuttvsvwvvwwwwwxwwwwwvz";

struct Huffman {
    /// (code, length) per symbol.
    codes: Vec<(u32, u8)>,
    /// Symbols by (length, symbol): the canonical order.
    sorted: Vec<u16>,
    /// Per length: the first code, the number of codes, the index in `sorted`.
    first: [u32; 31],
    count: [u32; 31],
    index: [usize; 31],
}

fn huffman() -> &'static Huffman {
    static TABLE: OnceLock<Huffman> = OnceLock::new();
    TABLE.get_or_init(|| {
        let lens: Vec<u8> = HUFFMAN_LENGTHS.iter().map(|c| c - b'a' + 5).collect();
        assert_eq!(lens.len(), 257);
        let mut sorted: Vec<u16> = (0..257).collect();
        sorted.sort_by_key(|&s| (lens[s as usize], s));
        let mut h = Huffman {
            codes: vec![(0, 0); 257],
            sorted,
            first: [0; 31],
            count: [0; 31],
            index: [0; 31],
        };
        let (mut code, mut prev) = (0u32, lens[h.sorted[0] as usize]);
        for (i, &s) in h.sorted.iter().enumerate() {
            let len = lens[s as usize];
            if i > 0 {
                code = (code + 1) << (len - prev);
            }
            prev = len;
            h.codes[s as usize] = (code, len);
            let l = len as usize;
            if h.count[l] == 0 {
                h.first[l] = code;
                h.index[l] = i;
            }
            h.count[l] += 1;
        }
        h
    })
}

/// Huffman-codes `s` (padded with ones), for tests that send coded strings.
pub fn huffman_encode(s: &[u8]) -> Vec<u8> {
    let h = huffman();
    let (mut acc, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for &b in s {
        let (code, len) = h.codes[b as usize];
        acc = (acc << len) | code as u64;
        bits += len as u32;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) as u8) | (0xff >> bits));
    }
    out
}

pub fn huffman_decode(data: &[u8]) -> Result<Vec<u8>, String> {
    let h = huffman();
    let (mut out, mut code, mut len) = (Vec::new(), 0u32, 0usize);
    for &byte in data {
        for shift in (0..8).rev() {
            code = (code << 1) | ((byte >> shift) & 1) as u32;
            len += 1;
            if len > 30 {
                return Err("invalid Huffman code".into());
            }
            if h.count[len] > 0 && code >= h.first[len] && code - h.first[len] < h.count[len] {
                let sym = h.sorted[h.index[len] + (code - h.first[len]) as usize];
                if sym == 256 {
                    return Err("EOS in a Huffman string".into());
                }
                out.push(sym as u8);
                code = 0;
                len = 0;
            }
        }
    }
    if len > 7 || code != (1 << len) - 1 {
        return Err("bad Huffman padding".into());
    }
    Ok(out)
}

/// An HPACK decoder: one per connection, fed every header block in order.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Newest entry first.
    pub table: VecDeque<(String, String)>,
    /// Current size by the §4.1 rule (name + value + 32 per entry).
    pub size: usize,
    /// The size limit the encoder last set (at most `limit`).
    pub max_size: usize,
    /// Our SETTINGS_HEADER_TABLE_SIZE: the most a size update may set.
    pub limit: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::with_limit(4096)
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    pub fn with_limit(limit: usize) -> Self {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            max_size: limit,
            limit,
        }
    }

    /// Decodes one complete header block. Non-UTF-8 bytes are replaced
    /// (lossy): tests compare text.
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < block.len() {
            let b = block[i];
            if b & 0x80 != 0 {
                let idx = read_int(block, &mut i, 7)?;
                out.push(self.entry(idx)?);
            } else if b & 0xe0 == 0x20 {
                let size = read_int(block, &mut i, 5)?;
                if size > self.limit {
                    return Err(format!("table size update to {size} over {}", self.limit));
                }
                self.max_size = size;
                self.evict(0);
            } else {
                // 01: with incremental indexing; 0000 / 0001: without / never.
                let indexing = b & 0xc0 == 0x40;
                let idx = read_int(block, &mut i, if indexing { 6 } else { 4 })?;
                let name = if idx == 0 {
                    read_str(block, &mut i)?
                } else {
                    self.entry(idx)?.0
                };
                let value = read_str(block, &mut i)?;
                if indexing {
                    self.insert(name.clone(), value.clone());
                }
                out.push((name, value));
            }
        }
        Ok(out)
    }

    fn entry(&self, idx: usize) -> Result<(String, String), String> {
        match idx {
            0 => Err("index 0".into()),
            1..=61 => {
                let (n, v) = STATIC_TABLE[idx - 1];
                Ok((n.to_string(), v.to_string()))
            }
            _ => self
                .table
                .get(idx - 62)
                .cloned()
                .ok_or(format!("index {idx} out of the table")),
        }
    }

    fn insert(&mut self, name: String, value: String) {
        let size = name.len() + value.len() + 32;
        if size > self.max_size {
            self.table.clear();
            self.size = 0;
            return;
        }
        self.evict(size);
        self.size += size;
        self.table.push_front((name, value));
    }

    /// Evicts the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            let Some((n, v)) = self.table.pop_back() else {
                break;
            };
            self.size -= n.len() + v.len() + 32;
        }
    }
}

fn read_int(b: &[u8], i: &mut usize, prefix_bits: u8) -> Result<usize, String> {
    let max = (1usize << prefix_bits) - 1;
    let mut v = (b[*i] as usize) & max;
    *i += 1;
    if v < max {
        return Ok(v);
    }
    let mut shift = 0;
    loop {
        let byte = *b.get(*i).ok_or("truncated integer")?;
        *i += 1;
        v += ((byte & 0x7f) as usize) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
        if shift > 28 {
            return Err("integer overflow".into());
        }
    }
}

fn read_str(b: &[u8], i: &mut usize) -> Result<String, String> {
    let first = *b.get(*i).ok_or("truncated string")?;
    let len = read_int(b, i, 7)?;
    let raw = b.get(*i..*i + len).ok_or("truncated string")?;
    *i += len;
    let bytes = if first & 0x80 != 0 {
        huffman_decode(raw)?
    } else {
        raw.to_vec()
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `:status` of a header block decoded with a fresh decoder: right for the
/// first response of a connection or one that uses no dynamic entry; use
/// [`Conn::status`] otherwise.
pub fn status_from_block(block: &[u8]) -> Option<u16> {
    let fields = Decoder::new().decode(block).ok()?;
    status_of(&fields)
}

fn status_of(fields: &[(String, String)]) -> Option<u16> {
    fields
        .iter()
        .find(|(n, _)| n == ":status")
        .and_then(|(_, v)| v.parse().ok())
}

// ---- frames read ----

/// One frame as read. `stream_id` has the reserved bit cleared.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: Kind,
    pub flags: u8,
    pub stream_id: u32,
    pub payload: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?}(stream {}, flags {:#04x}, {} bytes",
            self.kind,
            self.stream_id,
            self.flags,
            self.payload.len()
        )?;
        match self.kind {
            Kind::Goaway | Kind::RstStream => {
                let code = goaway_error_code(self)
                    .or(rst_error_code(self))
                    .unwrap_or(u32::MAX);
                write!(f, ", {}", error::name(code))?;
            }
            _ => {}
        }
        let shown = &self.payload[..self.payload.len().min(16)];
        write!(
            f,
            ": {shown:02x?}{})",
            if shown.len() < self.payload.len() {
                "..."
            } else {
                ""
            }
        )
    }
}

impl Frame {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    pub fn is_ack(&self) -> bool {
        matches!(self.kind, Kind::Settings | Kind::Ping) && self.has(flag::ACK)
    }

    pub fn end_stream(&self) -> bool {
        matches!(self.kind, Kind::Data | Kind::Headers) && self.has(flag::END_STREAM)
    }

    /// The header block fragment of a HEADERS, PUSH_PROMISE or
    /// CONTINUATION, without padding, priority or promised stream id.
    pub fn fragment(&self) -> Option<&[u8]> {
        let skip = match self.kind {
            Kind::Headers if self.has(flag::PRIORITY) => 5,
            Kind::Headers => 0,
            Kind::PushPromise => 4,
            Kind::Continuation => return Some(&self.payload),
            _ => return None,
        };
        self.unpadded(skip)
    }

    /// A DATA frame's data, without padding.
    pub fn data(&self) -> Option<&[u8]> {
        if self.kind != Kind::Data {
            return None;
        }
        self.unpadded(0)
    }

    fn unpadded(&self, skip: usize) -> Option<&[u8]> {
        let p = &self.payload[..];
        let (pad, p) = if self.has(flag::PADDED) {
            (*p.first()? as usize, &p[1..])
        } else {
            (0, p)
        };
        p.get(skip..p.len().checked_sub(pad)?)
    }
}

pub fn goaway_error_code(f: &Frame) -> Option<u32> {
    if f.kind != Kind::Goaway {
        return None;
    }
    Some(u32::from_be_bytes(f.payload.get(4..8)?.try_into().ok()?))
}

pub fn goaway_last_stream_id(f: &Frame) -> Option<u32> {
    if f.kind != Kind::Goaway {
        return None;
    }
    Some(u32::from_be_bytes(f.payload.get(0..4)?.try_into().ok()?) & 0x7fff_ffff)
}

/// A GOAWAY's debug data, as text.
pub fn goaway_debug(f: &Frame) -> Option<String> {
    if f.kind != Kind::Goaway {
        return None;
    }
    Some(String::from_utf8_lossy(f.payload.get(8..)?).into_owned())
}

pub fn rst_error_code(f: &Frame) -> Option<u32> {
    if f.kind != Kind::RstStream {
        return None;
    }
    Some(u32::from_be_bytes(f.payload.get(0..4)?.try_into().ok()?))
}

pub fn window_increment(f: &Frame) -> Option<u32> {
    if f.kind != Kind::WindowUpdate {
        return None;
    }
    Some(u32::from_be_bytes(f.payload.get(0..4)?.try_into().ok()?) & 0x7fff_ffff)
}

/// A SETTINGS frame's (id, value) pairs (a trailing partial one is dropped).
pub fn settings_params(f: &Frame) -> Vec<(u16, u32)> {
    if f.kind != Kind::Settings {
        return Vec::new();
    }
    f.payload
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect()
}

/// Parses one frame from the front of `buf`: the frame and its length on
/// the wire, or `None` while incomplete.
pub fn parse_frame(buf: &[u8]) -> Option<(Frame, usize)> {
    if buf.len() < 9 {
        return None;
    }
    let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
    if buf.len() < 9 + len {
        return None;
    }
    let frame = Frame {
        kind: Kind::from_u8(buf[3]),
        flags: buf[4],
        stream_id: u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff,
        payload: buf[9..9 + len].to_vec(),
    };
    Some((frame, 9 + len))
}

// ---- the connection ----

/// A byte stream whose reads can be bounded: TCP, a Unix socket, or (in a
/// test file) TLS, e.g.
/// `impl Transport for rustls::StreamOwned<ClientConnection, TcpStream>`
/// forwarding to `self.sock`.
pub trait Transport: Read + Write {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl Transport for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

/// A complete header block the connection read, decoded.
#[derive(Debug, Clone)]
pub struct HeaderBlock {
    pub stream_id: u32,
    /// From a PUSH_PROMISE rather than a HEADERS.
    pub push_promise: bool,
    pub end_stream: bool,
    /// Or the HPACK error (after which the decoder state is unreliable).
    pub fields: Result<Vec<(String, String)>, String>,
}

/// A response read by [`Conn::read_response`].
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    /// Every field of the final header block, pseudo-headers included.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// The first value of `name` (lowercase, as HTTP/2 sends it).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/2 connection. Reads are buffered, so a read that times out
/// mid-frame loses nothing; every header block read is decoded into
/// [`Conn::blocks`] whichever method read it.
pub struct Conn<S: Transport = TcpStream> {
    pub stream: S,
    buf: Vec<u8>,
    pub decoder: Decoder,
    /// Decoded header blocks, in the order read (clear it at will).
    pub blocks: Vec<HeaderBlock>,
    /// A HEADERS or PUSH_PROMISE awaiting its CONTINUATIONs.
    pending: Option<HeaderBlock>,
    pending_block: Vec<u8>,
    /// The server's first SETTINGS, once [`Conn::handshake`] read it.
    pub server_settings: Vec<(u16, u32)>,
    /// True once the peer closed (EOF) or reset the connection.
    pub closed: bool,
    /// The next stream id [`Conn::open_stream`] hands out.
    pub next_stream_id: u32,
    /// `:authority` of the requests made by [`Conn::get`] and [`Conn::request`].
    pub authority: String,
}

impl Conn<TcpStream> {
    /// Connects, sends the preface and an empty SETTINGS; waits for nothing.
    pub fn connect(addr: SocketAddr) -> Self {
        Self::connect_with(addr, &[])
    }

    /// Connects, sends the preface and a SETTINGS with `params`.
    pub fn connect_with(addr: SocketAddr, params: &[(u16, u32)]) -> Self {
        let mut conn = Self::connect_raw(addr);
        let mut hello = PREFACE.to_vec();
        hello.extend(settings(params));
        conn.send(&hello);
        conn
    }

    /// Connects and sends nothing (not even the preface).
    pub fn connect_raw(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_nodelay(true).expect("set_nodelay");
        stream
            .set_write_timeout(Some(TIMEOUT))
            .expect("set_write_timeout");
        let mut conn = Conn::new(stream);
        conn.authority = addr.to_string();
        conn
    }

    /// [`Conn::connect`], then reads the server's SETTINGS (panics unless
    /// it comes within [`TIMEOUT`]) and acknowledges it.
    pub fn handshake(addr: SocketAddr) -> Self {
        Self::handshake_with(addr, &[])
    }

    pub fn handshake_with(addr: SocketAddr, params: &[(u16, u32)]) -> Self {
        let mut conn = Self::connect_with(addr, params);
        let f = conn
            .read_until(|f| f.kind == Kind::Settings && !f.is_ack(), TIMEOUT)
            .unwrap_or_else(|e| panic!("waiting for the server's SETTINGS: {e}"))
            .expect("connection closed before the server's SETTINGS");
        conn.server_settings = settings_params(&f);
        conn.send(&settings_ack());
        conn
    }
}

impl<S: Transport> Conn<S> {
    /// A connection over `stream`, on which nothing has been sent yet.
    pub fn new(stream: S) -> Self {
        Conn {
            stream,
            buf: Vec::new(),
            decoder: Decoder::new(),
            blocks: Vec::new(),
            pending: None,
            pending_block: Vec::new(),
            server_settings: Vec::new(),
            closed: false,
            next_stream_id: 1,
            authority: "localhost".to_string(),
        }
    }

    /// Writes `bytes`; panics on error.
    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes)
            .unwrap_or_else(|e| panic!("send {} bytes: {e}", bytes.len()));
    }

    /// Writes `bytes`. A server that closes mid-flood makes this fail with
    /// a broken pipe or reset; one that stops reading makes it time out.
    pub fn try_send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// A new client stream id (1, 3, 5...).
    pub fn open_stream(&mut self) -> u32 {
        let id = self.next_stream_id;
        self.next_stream_id += 2;
        id
    }

    /// Sends a complete GET of `path` on a new stream; returns its id.
    pub fn get(&mut self, path: &str) -> u32 {
        self.request("GET", path, &[], None)
    }

    /// Sends a request on a new stream: HEADERS (END_STREAM unless a body
    /// follows), then the body as one DATA with END_STREAM.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> u32 {
        let id = self.open_stream();
        let block = request_block(method, "http", &self.authority, path, extra);
        let end = if body.is_none() { flag::END_STREAM } else { 0 };
        let mut out = headers(id, end | flag::END_HEADERS, &block);
        if let Some(b) = body {
            out.extend(data(id, flag::END_STREAM, b));
        }
        self.send(&out);
        id
    }

    /// The next frame: `Ok(None)` on a clean EOF between frames, `Err` of
    /// kind `TimedOut` when none is complete within `timeout` (what was
    /// received of it stays buffered), or the socket error.
    pub fn read_frame(&mut self, timeout: Duration) -> io::Result<Option<Frame>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((frame, used)) = parse_frame(&self.buf) {
                self.buf.drain(..used);
                self.observe(&frame);
                return Ok(Some(frame));
            }
            if self.closed {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "EOF inside a frame",
                    ))
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no complete frame in time",
                ));
            }
            let wait = (deadline - now).max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(wait))?;
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => self.closed = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    if is_closed_error(&e) {
                        self.closed = true;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Reads until a frame matches `pred` and returns it (the others are
    /// dropped, their header blocks still decoded); `Ok(None)` on EOF,
    /// `TimedOut` after `timeout`.
    pub fn read_until(
        &mut self,
        mut pred: impl FnMut(&Frame) -> bool,
        timeout: Duration,
    ) -> io::Result<Option<Frame>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_frame(left)? {
                Some(f) if pred(&f) => return Ok(Some(f)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    /// Every frame read within `duration`, stopping early at EOF or a
    /// socket error (`closed` tells which ended it).
    pub fn drain_for(&mut self, duration: Duration) -> Vec<Frame> {
        let deadline = Instant::now() + duration;
        let mut frames = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_frame(left) {
                Ok(Some(f)) => frames.push(f),
                _ => return frames,
            }
        }
    }

    /// The error code of the first GOAWAY read within `duration`, or `None`
    /// (EOF, reset or time out first).
    pub fn goaway_within(&mut self, duration: Duration) -> Option<u32> {
        let f = self
            .read_until(|f| f.kind == Kind::Goaway, duration)
            .ok()??;
        goaway_error_code(&f)
    }

    /// True when the server closes or resets the connection within
    /// `duration` (frames before that are read and dropped).
    pub fn closed_within(&mut self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_frame(left) {
                Ok(Some(_)) => {}
                Ok(None) => return true,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return false,
                Err(_) => return true,
            }
        }
    }

    /// Sends a PING and waits up to `timeout` for its ACK (frames before it
    /// are dropped): whether the server still answers on this connection.
    /// Not while a header block of ours is unfinished: a PING there is a
    /// connection error (RFC 9113 §6.10).
    pub fn ping_ok(&mut self, timeout: Duration) -> bool {
        let payload = *b"h2wire?!";
        if self.try_send(&ping(payload)).is_err() {
            return false;
        }
        let ack = |f: &Frame| f.kind == Kind::Ping && f.is_ack() && f.payload == payload;
        matches!(self.read_until(ack, timeout), Ok(Some(_)))
    }

    /// The final `:status` of `stream_id` among the blocks read so far.
    pub fn status(&self, stream_id: u32) -> Option<u16> {
        self.blocks
            .iter()
            .filter(|b| b.stream_id == stream_id && !b.push_promise)
            .filter_map(|b| status_of(b.fields.as_ref().ok()?))
            .find(|&s| s >= 200)
    }

    /// Reads the response on `stream_id` until its END_STREAM, giving back
    /// every DATA frame's length as WINDOW_UPDATEs (connection and stream)
    /// so a large body flows. Frames of other streams are dropped. Fails on
    /// RST_STREAM of the stream, a GOAWAY that excludes it, EOF or timeout.
    pub fn read_response(&mut self, stream_id: u32, timeout: Duration) -> io::Result<Response> {
        let deadline = Instant::now() + timeout;
        let mut res = Response::default();
        let first_block = self.blocks.len();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let f = self
                .read_frame(left)?
                .ok_or_else(|| other(format!("EOF before the end of stream {stream_id}")))?;
            let mine = f.stream_id == stream_id;
            match f.kind {
                Kind::Data => {
                    let n = f.payload.len() as u32;
                    if n > 0 {
                        let mut wu = window_update(0, n);
                        if !f.end_stream() {
                            wu.extend(window_update(f.stream_id, n));
                        }
                        let _ = self.try_send(&wu);
                    }
                    if mine {
                        res.body.extend_from_slice(f.data().unwrap_or(&[]));
                    }
                }
                Kind::RstStream if mine => {
                    let code = rst_error_code(&f).unwrap_or(u32::MAX);
                    return Err(other(format!(
                        "stream {stream_id} reset: {}",
                        error::name(code)
                    )));
                }
                Kind::Goaway if goaway_last_stream_id(&f).unwrap_or(0) < stream_id => {
                    return Err(other(format!("GOAWAY before stream {stream_id}: {f:?}")));
                }
                _ => {}
            }
            // A block ends on HEADERS or CONTINUATION; its END_STREAM is the HEADERS' flag.
            let ended = mine
                && matches!(f.kind, Kind::Headers | Kind::Continuation)
                && self.pending.is_none();
            let block = if ended {
                self.blocks[first_block..]
                    .last()
                    .filter(|b| !b.push_promise)
            } else {
                None
            };
            if let Some(block) = block.cloned() {
                let fields = block.fields.map_err(|e| other(format!("HPACK: {e}")))?;
                match status_of(&fields) {
                    Some(s) if s < 200 => {}
                    Some(s) => {
                        res.status = s;
                        res.headers = fields;
                    }
                    None => res.trailers = fields,
                }
                if block.end_stream {
                    return Ok(res);
                }
            } else if mine && f.kind == Kind::Data && f.end_stream() {
                return Ok(res);
            }
        }
    }

    /// Decodes header blocks as they complete.
    fn observe(&mut self, f: &Frame) {
        match f.kind {
            Kind::Headers | Kind::PushPromise => {
                let fragment = f.fragment().unwrap_or(&[]);
                self.pending_block = fragment.to_vec();
                self.pending = Some(HeaderBlock {
                    stream_id: f.stream_id,
                    push_promise: f.kind == Kind::PushPromise,
                    end_stream: f.end_stream(),
                    fields: Ok(Vec::new()),
                });
            }
            Kind::Continuation if self.pending.is_some() => {
                self.pending_block.extend_from_slice(&f.payload)
            }
            _ => return,
        }
        if f.has(flag::END_HEADERS) {
            let mut block = self.pending.take().expect("pending header block");
            block.fields = self
                .decoder
                .decode(&std::mem::take(&mut self.pending_block));
            self.blocks.push(block);
        }
    }
}

fn is_closed_error(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected
    )
}

fn other(msg: String) -> io::Error {
    io::Error::other(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn h2wire_huffman_matches_rfc7541() {
        // C.4.1 and C.6.1 strings.
        assert_eq!(
            huffman_encode(b"www.example.com"),
            hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")
        );
        assert_eq!(huffman_encode(b"no-cache"), hex("a8eb 1064 9cbf"));
        for s in [
            &b"custom-value"[..],
            b"Mon, 21 Oct 2013 20:13:21 GMT",
            b"\x00\xff~|\x7f",
        ] {
            assert_eq!(huffman_decode(&huffman_encode(s)).unwrap(), s);
        }
        assert!(
            huffman_decode(&[0xff, 0xff, 0xff, 0xff]).is_err(),
            "EOS must be refused"
        );
    }

    #[test]
    fn h2wire_decoder_rfc7541_c6_with_eviction() {
        let mut d = Decoder::with_limit(256);
        let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
        let c61 = hex(
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 \
                       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        );
        let loc = ("location", "https://www.example.com");
        assert_eq!(
            d.decode(&c61).unwrap(),
            pairs(&[
                (":status", "302"),
                ("cache-control", "private"),
                ("date", date1),
                loc
            ])
        );
        assert_eq!(d.size, 222);
        assert_eq!(
            d.decode(&hex("4883 640e ffc1 c0bf")).unwrap(),
            pairs(&[
                (":status", "307"),
                ("cache-control", "private"),
                ("date", date1),
                loc
            ])
        );
        let c63 = hex(
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab \
                       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f \
                       9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        );
        let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
        assert_eq!(
            d.decode(&c63).unwrap(),
            pairs(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                loc,
                ("content-encoding", "gzip"),
                ("set-cookie", cookie)
            ])
        );
        assert_eq!((d.size, d.table.len()), (215, 3));
    }

    #[test]
    fn h2wire_encoders_round_trip() {
        let block = request_block("GET", "http", "x", "/a", &[("user-agent", "t")]);
        let fields = Decoder::new().decode(&block).unwrap();
        assert_eq!(
            fields,
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":authority", "x"),
                (":path", "/a"),
                ("user-agent", "t")
            ])
        );
        let mut long = Vec::new();
        hpack_int(&mut long, 1337, 5, 0);
        assert_eq!(long, [31, 154, 10]); // RFC 7541 C.1.2

        let bytes = headers_ext(
            3,
            flag::END_HEADERS,
            &block,
            Some(Priority {
                dependency: 1,
                exclusive: true,
                weight: 15,
            }),
            Some(4),
        );
        let (f, used) = parse_frame(&bytes).unwrap();
        assert_eq!(
            (used, f.kind, f.stream_id, f.flags),
            (bytes.len(), Kind::Headers, 3, 0x2c)
        );
        assert_eq!(f.fragment().unwrap(), &block[..]);
        let (f, _) = parse_frame(&data_padded(5, flag::END_STREAM, b"hi", 3)).unwrap();
        assert_eq!((f.data().unwrap(), f.end_stream()), (&b"hi"[..], true));
        let (f, _) = parse_frame(&goaway(7, error::ENHANCE_YOUR_CALM, b"calm")).unwrap();
        assert_eq!(
            (goaway_last_stream_id(&f), goaway_error_code(&f)),
            (Some(7), Some(0xb))
        );
        let (f, _) = parse_frame(&settings(&[(setting::INITIAL_WINDOW_SIZE, 0)])).unwrap();
        assert_eq!(settings_params(&f), [(4, 0)]);
        assert_eq!(status_from_block(&[0x8d]), Some(404));
    }
}
