//! `multipart/byteranges` bodies (RFC 9110 §14.6): several ranges of one
//! open file, each as a part with its own `Content-Type` and
//! `Content-Range`, streamed from the file in bounded pieces.
//!
//! The body is
//!
//! ```text
//! --BOUNDARY CRLF
//! Content-Type: TYPE CRLF
//! Content-Range: bytes FIRST-LAST/LEN CRLF
//! CRLF
//! <bytes FIRST..=LAST of the file>
//! CRLF --BOUNDARY CRLF
//! ... one such part per range ...
//! CRLF --BOUNDARY-- CRLF
//! ```
//!
//! (RFC 2046 §5.1.1: the CRLF before each delimiter belongs to the
//! delimiter, not to the part.) The part heads are rendered up front (at
//! most [`MAX_RANGE_SPECS`](super::MAX_RANGE_SPECS) of them, about 100
//! bytes each), so the exact length of the whole body is known before the
//! first byte is read; see [`ByteRangesBody::content_length`]. File bytes
//! are read with `pread` into pieces of at most [`PIECE`] bytes, so memory
//! stays bounded whatever the file and range sizes. A file that shrinks
//! while being sent ends the stream with an error (the driver then cuts the
//! response short and closes).

use std::collections::VecDeque;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use futures_core::Stream;
use http::HeaderValue;

use super::ByteRange;
use crate::body::BoxError;

/// Largest piece of file data read at once and handed to the driver as one
/// chunk (the driver's own file reads use the same order of size).
const PIECE: usize = 64 * 1024;

/// A `multipart/byteranges` body being produced.
pub(crate) struct ByteRangesBody {
    file: Arc<File>,
    /// Parts not yet started: the rendered head and the range.
    parts: VecDeque<(Bytes, ByteRange)>,
    /// The part whose bytes are being sent: next offset, bytes left.
    current: Option<(u64, u64)>,
    /// The close delimiter, until it is sent.
    tail: Option<Bytes>,
    content_length: u64,
}

impl ByteRangesBody {
    /// The body for `ranges` (in the order to send them) of `file`, whose
    /// complete length is `complete_len` and type `content_type`, delimited
    /// by `boundary`.
    pub(crate) fn new(
        file: impl Into<Arc<File>>,
        ranges: &[ByteRange],
        complete_len: u64,
        content_type: &HeaderValue,
        boundary: &str,
    ) -> ByteRangesBody {
        let mut parts = VecDeque::with_capacity(ranges.len());
        let mut content_length = 0;
        for (i, range) in ranges.iter().enumerate() {
            let mut head = BytesMut::with_capacity(100 + boundary.len());
            if i > 0 {
                head.put_slice(b"\r\n");
            }
            head.put_slice(b"--");
            head.put_slice(boundary.as_bytes());
            head.put_slice(b"\r\nContent-Type: ");
            head.put_slice(content_type.as_bytes());
            head.put_slice(b"\r\nContent-Range: ");
            head.put_slice(content_range(*range, complete_len).as_bytes());
            head.put_slice(b"\r\n\r\n");
            content_length += head.len() as u64 + range.length();
            parts.push_back((head.freeze(), *range));
        }
        let tail = Bytes::from(format!("\r\n--{boundary}--\r\n"));
        content_length += tail.len() as u64;
        ByteRangesBody {
            file: file.into(),
            parts,
            current: None,
            tail: Some(tail),
            content_length,
        }
    }

    /// The exact number of bytes the body will have. Unused until `Body`
    /// can carry a stream of known length (see `mod.rs`, step 8): the body
    /// goes out chunked meanwhile.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn content_length(&self) -> u64 {
        self.content_length
    }

    /// The next chunk: part heads and file bytes packed together up to
    /// about [`PIECE`] bytes; `None` at the end.
    fn next_piece(&mut self) -> io::Result<Option<Bytes>> {
        let mut buf = BytesMut::new();
        while buf.len() < PIECE {
            if let Some((offset, left)) = &mut self.current {
                let n = (*left).min((PIECE - buf.len()) as u64) as usize;
                let start = buf.len();
                buf.resize(start + n, 0);
                // `read_exact_at` retries short reads and reports a file
                // that shrank as `UnexpectedEof`.
                self.file.read_exact_at(&mut buf[start..], *offset)?;
                *offset += n as u64;
                *left -= n as u64;
                if *left == 0 {
                    self.current = None;
                }
            } else if let Some((head, range)) = self.parts.pop_front() {
                buf.put_slice(&head);
                self.current = Some((range.first, range.length()));
            } else {
                if let Some(tail) = self.tail.take() {
                    buf.put_slice(&tail);
                }
                break;
            }
        }
        Ok((!buf.is_empty()).then(|| buf.freeze()))
    }
}

impl Stream for ByteRangesBody {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        Poll::Ready(match this.next_piece() {
            Ok(piece) => piece.map(Ok),
            Err(e) => {
                // Nothing more after an error.
                this.parts.clear();
                this.current = None;
                this.tail = None;
                Some(Err(e.into()))
            }
        })
    }
}

/// `bytes FIRST-LAST/LEN` (RFC 9110 §14.4).
pub(crate) fn content_range(range: ByteRange, complete_len: u64) -> String {
    format!("bytes {}-{}/{complete_len}", range.first, range.last)
}

/// A boundary for one response: 32 hex digits from the standard library's
/// randomly keyed hasher and a counter, so it is unpredictable and
/// differs between responses. RFC 2046 §5.1.1: at most 70 characters from
/// a safe set; ours are `[0-9a-z-]`.
pub(crate) fn new_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let state = std::collections::hash_map::RandomState::new();
    let mut hasher = state.build_hasher();
    hasher.write_u64(n);
    let high = hasher.finish();
    hasher.write_u64(high);
    let low = hasher.finish();
    format!("berth-{high:016x}{low:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(content: &[u8]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        file
    }

    fn collect(mut body: ByteRangesBody) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(piece) = body.next_piece()? {
            assert!(piece.len() <= PIECE + 200, "piece of {}", piece.len());
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }

    fn r(first: u64, last: u64) -> ByteRange {
        ByteRange { first, last }
    }

    #[test]
    fn exact_bytes() {
        let content: Vec<u8> = (0..=255).collect();
        let ranges = [r(0, 1), r(10, 12), r(255, 255)];
        let text = HeaderValue::from_static("text/plain");
        let body = ByteRangesBody::new(file_with(&content), &ranges, 256, &text, "B");
        let length = body.content_length();
        let out = collect(body).unwrap();
        let mut want =
            b"--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/256\r\n\r\n\x00\x01"
                .to_vec();
        want.extend(b"\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-12/256\r\n\r\n\x0a\x0b\x0c");
        want.extend(
            b"\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 255-255/256\r\n\r\n\xff",
        );
        want.extend(b"\r\n--B--\r\n");
        assert_eq!(
            out.escape_ascii().to_string(),
            want.escape_ascii().to_string()
        );
        assert_eq!(length, want.len() as u64);
    }

    #[test]
    fn large_ranges_come_in_bounded_pieces_and_the_length_is_exact() {
        let content: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let ranges = [r(0, 199_999), r(300_000, 300_000), r(400_000, 999_999)];
        let ty = HeaderValue::from_static("application/octet-stream");
        let boundary = new_boundary();
        let body = ByteRangesBody::new(file_with(&content), &ranges, 1_000_000, &ty, &boundary);
        let length = body.content_length();
        let out = collect(body).unwrap();
        assert_eq!(out.len() as u64, length);
        // Every range's bytes appear right after its head.
        for range in ranges {
            let head = format!("Content-Range: {}\r\n\r\n", content_range(range, 1_000_000));
            let at = out
                .windows(head.len())
                .position(|w| w == head.as_bytes())
                .unwrap()
                + head.len();
            let bytes = &content[range.first as usize..=range.last as usize];
            assert!(out[at..at + bytes.len()] == *bytes);
        }
        assert!(out.ends_with(format!("\r\n--{boundary}--\r\n").as_bytes()));
    }

    #[test]
    fn a_file_that_shrank_is_an_error() {
        let ty = HeaderValue::from_static("text/plain");
        let body = ByteRangesBody::new(file_with(b"short"), &[r(0, 1), r(3, 9)], 10, &ty, "B");
        let err = collect(body).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn boundaries_differ_and_are_safe() {
        let a = new_boundary();
        let b = new_boundary();
        assert_ne!(a, b);
        for boundary in [a, b] {
            assert!(boundary.len() <= 70);
            assert!(
                boundary
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            );
        }
    }
}
