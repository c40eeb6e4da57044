//! The chunked transfer coding decoder for request bodies (RFC 9112 §7.1).
//! The encoder lives in `serialize.rs`.
//!
//! ```text
//! chunked-body    = *chunk last-chunk trailer-section CRLF
//! chunk           = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size      = 1*HEXDIG
//! last-chunk      = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext       = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name  = token
//! chunk-ext-val   = token / quoted-string
//! trailer-section = *( field-line CRLF )
//! ```
//!
//! Size lines are consumed one byte at a time into a `State` (one match arm
//! per state and byte class, as hyper's `ChunkedState`), so a line split
//! across reads is never parsed twice. Chunk data is split zero-copy off the
//! front of the buffer. A trailer line stays in the buffer until its LF
//! arrives; a scan offset keeps the search linear and the trailer budget
//! bounds the wait. Line ends are CRLF only: a bare LF or a bare CR is an
//! error, never a line end, so berth cannot disagree with a stricter peer
//! about where a body stops.

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;

use super::error::{ErrorKind, ProtocolError};
use super::limits::Limits;
use super::syntax::parse_field_line;
use crate::syntax::{is_ows, is_qdtext, is_quotable, is_tchar};

/// One step of decoding.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// Body bytes, split zero-copy off the front of the buffer (never empty).
    Data(Bytes),
    /// The last chunk and the trailer section are complete; the trailers
    /// (possibly empty).
    End(HeaderMap),
    /// The buffer holds no further complete piece; feed more bytes and call
    /// again.
    NeedData,
}

/// Where the decoder stands in the chunked-body grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    SizeStart,     // start of a size line: a HEXDIG must come first
    Size,          // inside chunk-size
    ExtBws,        // BWS after the size or an ext value: BWS or `;` follow
    ExtNameStart,  // after `;`: BWS, then chunk-ext-name
    ExtName,       // inside chunk-ext-name
    ExtNameBws,    // BWS after chunk-ext-name: BWS, `=` or `;` follow
    ExtValueStart, // after `=`: BWS, then a token or a quoted-string
    ExtToken,      // inside a token chunk-ext-val
    ExtQuoted,     // inside a quoted-string chunk-ext-val
    ExtQuotedPair, // after a backslash inside a quoted-string
    ExtQuoteEnd,   // after the closing DQUOTE
    SizeLf,        // the size line's CR is read; its LF must follow
    Data,          // inside chunk-data; `size` bytes remain
    DataCr,        // after chunk-data: CR must follow
    DataLf,        // after chunk-data and CR: LF must follow
    Trailers,      // in the trailer section, at the start of a line
    Done,          // `End` has been returned
}

impl State {
    /// True in the states whose bytes are chunk-ext, charged to the budget.
    fn is_ext(self) -> bool {
        use State::*;
        matches!(
            self,
            ExtBws
                | ExtNameStart
                | ExtName
                | ExtNameBws
                | ExtValueStart
                | ExtToken
                | ExtQuoted
                | ExtQuotedPair
                | ExtQuoteEnd
        )
    }
}

/// Incremental decoder of one chunked request body.
///
/// Feed it the connection's receive buffer; it consumes bytes from the front
/// and never past the end of the body, so bytes of a pipelined next request
/// stay in the buffer. The same bytes give the same results however they are
/// split across calls.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    /// The size being read, then the chunk-data bytes still to come.
    size: u64,
    /// Significant hex digits of the size read so far.
    digits: u8,
    /// A zero has been read while the size is still zero.
    zero_seen: bool,
    /// Extension and leading-zero bytes of this body so far.
    ext_bytes: usize,
    max_ext_bytes: usize,
    /// Bytes of complete trailer field lines, CRLF included.
    trailer_bytes: usize,
    trailer_lines: usize,
    max_trailer_bytes: usize,
    max_trailer_lines: usize,
    /// Bytes of the pending trailer line already searched for LF.
    scanned: usize,
    trailers: HeaderMap,
    error: Option<ProtocolError>,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body, enforcing
    /// `max_chunk_ext_bytes`, `max_trailer_bytes` and `max_headers` (the
    /// latter for trailer lines).
    pub fn new(limits: &Limits) -> Self {
        ChunkedDecoder {
            state: State::SizeStart,
            size: 0,
            digits: 0,
            zero_seen: false,
            ext_bytes: 0,
            max_ext_bytes: limits.max_chunk_ext_bytes,
            trailer_bytes: 0,
            trailer_lines: 0,
            max_trailer_bytes: limits.max_trailer_bytes,
            max_trailer_lines: limits.max_headers,
            scanned: 0,
            trailers: HeaderMap::new(),
            error: None,
        }
    }

    /// Consumes bytes from the front of `buf` and returns the next step.
    ///
    /// After [`Decoded::End`] it returns `End` with empty trailers without
    /// touching `buf` (callers should stop calling). After an error it
    /// returns the same error forever.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, ProtocolError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let result = self.run(buf);
        if let Err(error) = result {
            self.error = Some(error);
        }
        result
    }

    /// True once [`Decoded::End`] has been returned.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn run(&mut self, buf: &mut BytesMut) -> Result<Decoded, ProtocolError> {
        loop {
            match self.state {
                State::Done => return Ok(Decoded::End(HeaderMap::new())),
                State::Data => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedData);
                    }
                    let n = usize::try_from(self.size).map_or(buf.len(), |r| r.min(buf.len()));
                    self.size -= n as u64;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                    return Ok(Decoded::Data(buf.split_to(n).freeze()));
                }
                State::Trailers => return self.trailers(buf),
                _ => {
                    let mut used = 0;
                    for &b in buf.iter() {
                        used += 1;
                        self.step(b)?;
                        if matches!(self.state, State::Data | State::Trailers) {
                            break;
                        }
                    }
                    buf.advance(used);
                    if !matches!(self.state, State::Data | State::Trailers) {
                        return Ok(Decoded::NeedData);
                    }
                }
            }
        }
    }

    /// Consumes one byte of a size line or of a chunk's CRLF.
    fn step(&mut self, b: u8) -> Result<(), ProtocolError> {
        use State::*;
        let ws = is_ows(b);
        let tchar = is_tchar(b);
        let next = match (self.state, b) {
            (SizeStart | Size, b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F') => {
                self.push_digit(b)?;
                Size
            }
            // RFC 9112 §7.1: chunk-size = 1*HEXDIG. No sign, no `0x`, no
            // whitespace, not empty.
            (SizeStart, b'\n') => return Err(ErrorKind::BareLf.into()),
            (SizeStart, _) => return Err(ErrorKind::BadChunk.into()),
            // RFC 9112 §7.1.1: BWS is allowed only before `;` and around
            // `=`; whitespace before CRLF is not in the grammar.
            (Size | ExtToken | ExtQuoteEnd, _) if ws => ExtBws,
            (ExtBws, _) if ws => ExtBws,
            (Size | ExtBws | ExtName | ExtNameBws | ExtToken | ExtQuoteEnd, b';') => ExtNameStart,
            (ExtNameStart, _) if ws => ExtNameStart,
            (ExtNameStart | ExtName, _) if tchar => ExtName,
            (ExtName | ExtNameBws, _) if ws => ExtNameBws,
            (ExtName | ExtNameBws, b'=') => ExtValueStart,
            (ExtValueStart, _) if ws => ExtValueStart,
            (ExtValueStart, b'"') => ExtQuoted,
            (ExtValueStart | ExtToken, _) if tchar => ExtToken,
            (ExtQuoted, b'"') => ExtQuoteEnd,
            (ExtQuoted, b'\\') => ExtQuotedPair,
            // RFC 9110 §5.6.4: qdtext, and the byte after a backslash.
            (ExtQuoted, _) if is_qdtext(b) => ExtQuoted,
            (ExtQuotedPair, _) if is_quotable(b) => ExtQuoted,
            (Size | ExtName | ExtToken | ExtQuoteEnd, b'\r') => SizeLf,
            (SizeLf, b'\n') if self.size == 0 => {
                self.scanned = 0;
                Trailers
            }
            (SizeLf, b'\n') => Data,
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => {
                self.digits = 0;
                self.zero_seen = false;
                SizeStart
            }
            // RFC 9112 §2.2: a CR not followed by LF is invalid.
            (SizeLf | DataLf, _) => return Err(ErrorKind::BareCr.into()),
            // berth accepts CRLF only as a line end (see CONFORMANCE.md).
            (_, b'\n') => return Err(ErrorKind::BareLf.into()),
            _ => return Err(ErrorKind::BadChunk.into()),
        };
        if next.is_ext() {
            self.charge_ext()?;
        }
        self.state = next;
        Ok(())
    }

    fn push_digit(&mut self, b: u8) -> Result<(), ProtocolError> {
        let Some(d) = char::from(b).to_digit(16) else {
            return Err(ErrorKind::BadChunk.into());
        };
        if self.size == 0 {
            // Leading zeros count toward the extension budget, so a peer
            // cannot send an endless size line of zeros. The first zero is
            // only leading once something follows it.
            if self.zero_seen {
                self.charge_ext()?;
            }
            if d == 0 {
                self.zero_seen = true;
                return Ok(());
            }
        }
        self.digits += 1;
        if self.digits > 16 {
            return Err(ErrorKind::ChunkSizeOverflow.into());
        }
        self.size = self
            .size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(d)))
            .ok_or(ErrorKind::ChunkSizeOverflow)?;
        Ok(())
    }

    fn charge_ext(&mut self) -> Result<(), ProtocolError> {
        self.ext_bytes = self.ext_bytes.saturating_add(1);
        if self.ext_bytes > self.max_ext_bytes {
            return Err(ErrorKind::ChunkExtensionsTooLarge.into());
        }
        Ok(())
    }

    /// Parses complete trailer lines off `buf` until the final CRLF or until
    /// a line is incomplete.
    fn trailers(&mut self, buf: &mut BytesMut) -> Result<Decoded, ProtocolError> {
        loop {
            let pending = buf.get(self.scanned..).unwrap_or_default();
            let Some(found) = memchr::memchr(b'\n', pending) else {
                self.scanned = buf.len();
                // Fail early only when the line, once complete, must exceed
                // the budget: it will cost at least `len + 1` bytes, unless
                // it is the lone CR of the final CRLF.
                let len = buf.len();
                let maybe_final = len == 0 || (len == 1 && buf[0] == b'\r');
                if !maybe_final
                    && self.trailer_bytes.saturating_add(len + 1) > self.max_trailer_bytes
                {
                    return Err(ErrorKind::TrailersTooLarge.into());
                }
                return Ok(Decoded::NeedData);
            };
            let lf = self.scanned + found;
            self.scanned = 0;
            if lf == 1 && buf[0] == b'\r' {
                buf.advance(2);
                self.state = State::Done;
                return Ok(Decoded::End(std::mem::take(&mut self.trailers)));
            }
            self.trailer_bytes = self.trailer_bytes.saturating_add(lf + 1);
            self.trailer_lines += 1;
            if self.trailer_bytes > self.max_trailer_bytes
                || self.trailer_lines > self.max_trailer_lines
            {
                return Err(ErrorKind::TrailersTooLarge.into());
            }
            if lf == 0 || buf[lf - 1] != b'\r' {
                return Err(ErrorKind::BareLf.into());
            }
            let line = buf.split_to(lf + 1).freeze().slice(..lf - 1);
            // RFC 9112 §5.2: a server MAY reject obs-fold; berth does, since
            // trailers are field lines like any other.
            if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                return Err(ErrorKind::ObsFold.into());
            }
            let (name, value) = parse_field_line(&line, 0..line.len())?;
            self.trailers.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NEXT: &[u8] = b"GET / HTTP/1.1\r\n";

    #[derive(Debug, PartialEq)]
    enum Outcome {
        /// Body and trailers as (name, value) pairs.
        Done(Vec<u8>, Vec<(String, Vec<u8>)>),
        /// Data so far; the input ended before the body did.
        Incomplete(Vec<u8>),
        Error(ErrorKind),
    }

    /// Feeds `pieces` in order; returns the outcome and what is left in the
    /// buffer.
    fn drive<'a>(
        limits: &Limits,
        pieces: impl IntoIterator<Item = &'a [u8]>,
    ) -> (Outcome, BytesMut) {
        let mut decoder = ChunkedDecoder::new(limits);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for piece in pieces {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Decoded::Data(data)) => {
                        assert!(!data.is_empty(), "empty Data");
                        assert!(!decoder.is_done());
                        body.extend_from_slice(&data);
                    }
                    Ok(Decoded::NeedData) => break,
                    Ok(Decoded::End(trailers)) => {
                        assert!(decoder.is_done());
                        let left = buf.clone();
                        let again = decoder.decode(&mut buf);
                        assert_eq!(again, Ok(Decoded::End(HeaderMap::new())));
                        assert_eq!(buf, left, "decode after End touched buf");
                        let trailers = trailers
                            .iter()
                            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                            .collect();
                        return (Outcome::Done(body, trailers), buf);
                    }
                    Err(error) => {
                        assert_eq!(decoder.decode(&mut buf), Err(error), "error not sticky");
                        return (Outcome::Error(error.kind()), buf);
                    }
                }
            }
        }
        (Outcome::Incomplete(body), buf)
    }

    /// Runs `input` whole, one byte at a time, and whole with a pipelined
    /// request after it; all three must agree, and the pipelined bytes must
    /// be left in the buffer.
    fn decode_with(limits: &Limits, input: &[u8]) -> Outcome {
        let (whole, _) = drive(limits, [input]);
        let (bytewise, _) = drive(limits, input.chunks(1));
        assert_eq!(whole, bytewise, "split changed the outcome of {input:?}");
        if !matches!(whole, Outcome::Incomplete(_)) {
            let (piped, left) = drive(limits, [&[input, NEXT].concat()[..]]);
            assert_eq!(whole, piped, "pipelining changed {input:?}");
            if matches!(whole, Outcome::Done(..)) {
                assert_eq!(&left[..], NEXT, "bytes after the body were consumed");
            }
        }
        whole
    }

    fn decode(input: &[u8]) -> Outcome {
        decode_with(&Limits::default(), input)
    }

    fn body(data: &[u8]) -> Outcome {
        Outcome::Done(data.to_vec(), Vec::new())
    }

    /// Asserts that each input fails with its kind under `limits`.
    fn fails(limits: &Limits, cases: &[(&[u8], ErrorKind)]) {
        for &(input, kind) in cases {
            let text = String::from_utf8_lossy(input);
            assert_eq!(decode_with(limits, input), Outcome::Error(kind), "{text:?}");
        }
    }

    #[test]
    fn bodies() {
        assert_eq!(decode(b"5\r\nhello\r\n0\r\n\r\n"), body(b"hello"));
        assert_eq!(decode(b"0\r\n\r\n"), body(b""));
        let two = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(decode(two), body(b"hello world"));
        let long = vec![b'x'; 0x1af];
        for size in [&b"1aF"[..], b"1Af", b"1af", b"1AF"] {
            let input = [size, b"\r\n", &long, b"\r\n0\r\n\r\n"].concat();
            assert_eq!(decode(&input), body(&long));
        }
        assert_eq!(decode(b"00005\r\nhello\r\n000\r\n\r\n"), body(b"hello"));
        // Data may contain CR, LF and anything else.
        assert_eq!(decode(b"4\r\n\r\n\n\r\r\n0\r\n\r\n"), body(b"\r\n\n\r"));
    }

    #[test]
    fn extensions_are_validated_and_ignored() {
        for ext in [
            &b";a"[..],
            b";a=b;c;d=e",
            b"; a",
            b" ;a",
            b" \t; \ta \t= \tb",
            b";a=\"quoted value\"",
            b";a=\"esc \\\" \\\\ \\\t \xff\";b",
            b";a=\"\" ;b=c",
        ] {
            let input = [b"5", ext, b"\r\nhello\r\n0", ext, b"\r\n\r\n"].concat();
            assert_eq!(decode(&input), body(b"hello"), "{ext:?}");
        }
        use ErrorKind::BadChunk;
        fails(
            &Limits::default(),
            &[
                (b"5;\r\n", BadChunk),
                (b"5;=b\r\n", BadChunk),
                (b"5;a=\r\n", BadChunk),
                (b"5;a b\r\n", BadChunk),
                (b"5;a=b c\r\n", BadChunk),
                (b"5;a=\"b\r\n", BadChunk),
                (b"5;a=\"b\"c\r\n", BadChunk),
                (b"5;a=\"\x01\"\r\n", BadChunk),
                (b"5;a=\"\\\x7f\"\r\n", BadChunk),
                (b"5;a@b\r\n", BadChunk),
                // Whitespace before CRLF is not in the grammar.
                (b"5;a=b \r\n", BadChunk),
                (b"5;a=\"b\" \r\n", BadChunk),
                (b"5;a \r\n", BadChunk),
            ],
        );
    }

    #[test]
    fn trailers() {
        let input = b"5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Two:  d e \r\nx-sum: f\r\n\r\n";
        let trailers = vec![
            ("x-sum".to_owned(), b"abc".to_vec()),
            ("x-sum".to_owned(), b"f".to_vec()),
            ("x-two".to_owned(), b"d e".to_vec()),
        ];
        assert_eq!(decode(input), Outcome::Done(b"hello".to_vec(), trailers));
    }

    #[test]
    fn syntax_errors() {
        use ErrorKind::*;
        fails(
            &Limits::default(),
            &[
                (b"5\nhello\r\n0\r\n\r\n", BareLf),
                (b"5\r\nhello\n0\r\n\r\n", BareLf),
                (b"5\r\nhello\r0\r\n\r\n", BareCr),
                (b"5\rhello\r\n0\r\n\r\n", BareCr),
                (b"5\r\nhelloX\r\n0\r\n\r\n", BadChunk),
                (b"5\r\nhello0\r\n\r\n", BadChunk),
                (b"+5\r\nhello\r\n0\r\n\r\n", BadChunk),
                (b"-5\r\nhello\r\n0\r\n\r\n", BadChunk),
                (b"0x5\r\nhello\r\n0\r\n\r\n", BadChunk),
                (b" 5\r\nhello\r\n0\r\n\r\n", BadChunk),
                (b"5 \r\nhello\r\n0\r\n\r\n", BadChunk),
                (b"5\t\r\nhello\r\n0\r\n\r\n", BadChunk),
                (b"\r\nhello\r\n0\r\n\r\n", BadChunk),
                (b"\n", BareLf),
                (b"g\r\n", BadChunk),
                (b"11111111111111111\r\n", ChunkSizeOverflow),
                (b"0000ffffffffffffffff0\r\n", ChunkSizeOverflow),
                (b"0\r\n\n", BareLf),
                (b"0\r\nX: a\n\r\n", BareLf),
                (b"0\r\n\r\r\n", BareCr),
                (b"0\r\nX: a\rb\r\n\r\n", BareCr),
                (b"0\r\nX: a\r\n b\r\n\r\n", ObsFold),
                (b"0\r\n\tX: a\r\n\r\n", ObsFold),
                (b"0\r\nX Y: a\r\n\r\n", BadHeaderName),
                (b"0\r\nX : a\r\n\r\n", SpaceBeforeColon),
                (b"0\r\nno colon\r\n\r\n", BadHeaderName),
                (b"0\r\nX: a\x00\r\n\r\n", BadHeaderValue),
            ],
        );
    }

    #[test]
    fn largest_size_parses() {
        let max = b"ffffffffffffffff\r\n";
        assert_eq!(decode(max), Outcome::Incomplete(Vec::new()));
        let input = b"0000FFFFFFFFFFFFFFFF;a=b\r\nxyz";
        assert_eq!(decode(input), Outcome::Incomplete(b"xyz".to_vec()));
        let mut decoder = ChunkedDecoder::new(&Limits::default());
        let mut buf = BytesMut::from(&max[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(Decoded::NeedData));
        assert_eq!((decoder.state, decoder.size), (State::Data, u64::MAX));
    }

    #[test]
    fn extension_budget() {
        let limits = Limits {
            max_chunk_ext_bytes: 10,
            ..Limits::default()
        };
        // ";a=bcdefgh" is 10 bytes; leading zeros count too, the last zero
        // of a last-chunk does not.
        let ok = b"1;a=bcdefgh\r\nx\r\n0\r\n\r\n";
        assert_eq!(decode_with(&limits, ok), body(b"x"));
        assert_eq!(
            decode_with(&limits, b"00000000001\r\nx\r\n0\r\n\r\n"),
            body(b"x")
        );
        assert_eq!(decode_with(&limits, b"00000000000\r\n\r\n"), body(b""));
        use ErrorKind::ChunkExtensionsTooLarge as Over;
        let spaces = [&b"5"[..], &[b' '; 100]].concat();
        fails(
            &limits,
            &[
                (b"1;a=bcdefgh\r\nx\r\n0;\r\n\r\n", Over),
                (b"1;a=bcdefghi\r\nx\r\n0\r\n\r\n", Over),
                (b"000000000001\r\nx\r\n0\r\n\r\n", Over),
                // An endless size line fails before its CRLF.
                (&[b'0'; 100], Over),
                (&spaces, Over),
            ],
        );
    }

    #[test]
    fn trailer_budget() {
        // "X: 12345\r\n" is 10 bytes.
        let limits = Limits {
            max_trailer_bytes: 20,
            max_headers: 2,
            ..Limits::default()
        };
        let two = b"0\r\nX: 12345\r\nY: 12345\r\n\r\n";
        assert!(matches!(decode_with(&limits, two), Outcome::Done(..)));
        use ErrorKind::TrailersTooLarge as Over;
        let endless = [&b"0\r\nX: "[..], &[b'a'; 100]].concat();
        fails(
            &limits,
            &[
                (b"0\r\nX: 12345\r\nY: 123456\r\n\r\n", Over),
                (b"0\r\nX: 1\r\nY: 2\r\nZ: 3\r\n\r\n", Over),
                // An incomplete line that cannot fit fails before its LF.
                (&endless, Over),
            ],
        );
        let none = Limits {
            max_trailer_bytes: 0,
            ..Limits::default()
        };
        assert_eq!(decode_with(&none, b"0\r\n\r\n"), body(b""));
        fails(&none, &[(b"0\r\nX: 1\r\n\r\n", Over)]);
    }

    /// A minimal chunked encoder for the round-trip property.
    fn encode(body: &[u8], sizes: &[usize], upper: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut sizes = sizes.iter().cycle();
        while !rest.is_empty() {
            let n = sizes.next().copied().unwrap_or(1).clamp(1, rest.len());
            let size = if upper {
                format!("{n:X}")
            } else {
                format!("{n:x}")
            };
            out.extend_from_slice(size.as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    proptest! {
        #[test]
        fn round_trip_at_any_split(
            data in proptest::collection::vec(any::<u8>(), 0..2000),
            sizes in proptest::collection::vec(1usize..600, 1..8),
            upper in any::<bool>(),
            mut cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let encoded = encode(&data, &sizes, upper);
            // Cuts fall before the last byte, so the final piece ends the
            // body and carries the next request with it.
            let mut points: Vec<usize> = cuts.drain(..).map(|i| i.index(encoded.len())).collect();
            points.push(0);
            points.sort_unstable();
            let full = [&encoded[..], NEXT].concat();
            points.push(full.len());
            let pieces: Vec<&[u8]> = points.windows(2).map(|w| &full[w[0]..w[1]]).collect();
            let (outcome, left) = drive(&Limits::default(), pieces);
            prop_assert_eq!(outcome, Outcome::Done(data, Vec::new()));
            prop_assert_eq!(&left[..], NEXT);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_ignore_splits(
            input in proptest::collection::vec(
                prop::sample::select(b"0123456789aAfFgx;= \t\"\\\r\n:X".to_vec()), 0..64),
        ) {
            let (whole, _) = drive(&Limits::default(), [&input[..]]);
            let (bytewise, _) = drive(&Limits::default(), input.chunks(1));
            prop_assert_eq!(whole, bytewise);
        }
    }
}
