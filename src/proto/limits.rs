//! Every size budget the protocol core enforces, in one struct with defaults.
//!
//! Each field names its precedent, as h11 does for its single limit. A limit
//! that is exceeded is a [`ProtocolError`](super::ProtocolError) whose
//! [`status`](super::ProtocolError::status) tells the driver what to answer.

/// Size budgets for one connection's request parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head (request line, header fields, final CRLF), in
    /// bytes. Over it: 431. Default 16 KiB, as h11 (node.js uses 80 KiB,
    /// Tomcat 8 KiB, IIS 16 KiB).
    pub max_head_bytes: usize,
    /// Longest request-target, in bytes. Over it: 414. Default 8 KiB (RFC
    /// 9112 §3 recommends supporting at least 8000 octets of request line).
    pub max_target_bytes: usize,
    /// Most header field lines in one request. Over it: 431. Default 100, as
    /// hyper's `DEFAULT_MAX_HEADERS` (actix uses 96).
    pub max_headers: usize,
    /// Total bytes of chunk-size lines beyond the size itself (extensions and
    /// leading zeros) in one chunked body. Over it: 400. Default 16 KiB, as
    /// hyper's `CHUNKED_EXTENSIONS_LIMIT`.
    pub max_chunk_ext_bytes: usize,
    /// Largest trailer section of a chunked body. Over it: 431. Default
    /// 16 KiB, as hyper's `TRAILER_LIMIT`.
    pub max_trailer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16 * 1024,
            max_target_bytes: 8 * 1024,
            max_headers: 100,
            max_chunk_ext_bytes: 16 * 1024,
            max_trailer_bytes: 16 * 1024,
        }
    }
}
