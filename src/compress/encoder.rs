//! Streaming gzip, brotli and zstd encoders over a [`Body`].
//!
//! Every coding goes through one [`Encoder`]: bytes in with `write`, a sync
//! flush with `flush` (everything written so far becomes decodable output,
//! and the stream goes on), the end with `finish`. On top of it:
//!
//! - [`encode`]: a body whose chunks are the coded bytes of another,
//!   produced as the inner body yields. Whenever the inner body has nothing
//!   ready (it returns `Pending`, as a handler's stream does between two
//!   events), what was written since the last flush is flushed and sent,
//!   so each chunk a handler produces reaches the client without waiting
//!   for the next (Server-Sent Events stay live). Chunks that are ready back
//!   to back are compressed together, unflushed, which keeps the ratio of a
//!   file or a buffered body that of one-shot compression.
//! - [`compress_slice`] and [`compress_file`]: one-shot, for bodies whose
//!   coded form is kept (the [cache](super::cache)) or sent with a
//!   `Content-Length`.
//!
//! # Levels
//!
//! A level is the coding's own number, clamped to its range ([`clamp_level`]):
//! gzip 1–9, brotli 0–11, zstd 1–22. The defaults ([`default_level`]) aim at
//! on-the-fly use, output about as small as nginx's `gzip_comp_level 1` for
//! a small fraction of a millisecond per 64 KiB page:
//!
//! Measured on the benchmark's 64 KiB page.html (release build, this
//! project's 2-core VM; sizes exact, times per compression):
//!
//! | level | gzip (zlib-rs) | brotli | zstd |
//! |---|---|---|---|
//! | 1 | 26.1 KB, 0.21 ms | 21.2 KB, 0.39 ms | 20.7 KB, 0.17 ms |
//! | 2 | **20.2 KB, 0.31 ms** | 19.5 KB, 0.53 ms | 19.9 KB, 0.18 ms |
//! | 3 | 19.3 KB, 0.40 ms | 19.6 KB, 0.61 ms | **19.4 KB, 0.21 ms** |
//! | 4 | 19.4 KB, 0.64 ms | **19.4 KB, 0.87 ms** | 19.4 KB, 0.24 ms |
//! | 5 | 19.2 KB, 0.70 ms | 18.2 KB, 1.4 ms | 19.0 KB, 0.44 ms |
//! | 6 | 19.1 KB, 0.78 ms | 18.1 KB, 1.7 ms | 18.7 KB, 0.62 ms |
//! | 9 | 19.0 KB, 1.5 ms | 18.0 KB, 10 ms | 18.6 KB, 1.2 ms |
//!
//! - **gzip 2.** zlib-rs level 1 is a weaker "quick" mode (26 KB where
//!   zlib's level 1, nginx's `gzip_comp_level 1`, gives about 21 KB);
//!   level 2 is smaller than that for about 1.5 times level 1's time.
//! - **brotli 4.** The usual on-the-fly choice: on larger inputs (script
//!   bundles) its hasher gains more over 2 and 3 than on this page; 5 and
//!   up cost twice as much and more.
//! - **zstd 3.** zstd's own default: as small as brotli 4 in a quarter of
//!   the time, which is also why zstd comes first when q-values tie.
//!
//! Cached variants of static files are compressed once, so a higher level
//! costs little there; `--compress-level` sets one number for every coding.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use flate2::Compression;
use futures_core::Stream;

use super::Coding;
use crate::Body;
use crate::body::BoxError;

/// How much file is read per `read_at`.
pub(crate) const FILE_PIECE: usize = 64 * 1024;

/// Coded output at which [`encode`] hands a chunk on without flushing.
const OUTPUT_HIGH_WATER: usize = 32 * 1024;

/// Input [`encode`] consumes in one poll before yielding to the runtime,
/// so a body that is always ready (a file) and compresses to almost
/// nothing cannot hold the worker thread.
const INPUT_PER_POLL: usize = 256 * 1024;

/// Brotli's window for on-the-fly streams (4 MiB, the format's default);
/// one-shot compression sizes it to the input.
const BROTLI_WINDOW: u32 = 22;

/// The default level of each coding, for on-the-fly use: gzip 2 (zlib-rs
/// level 1 is a weak quick mode; level 2 is as small as zlib's level 1),
/// brotli 4, zstd 3. On a 64 KiB HTML page each gives 19–20 KB in 0.2 to
/// 0.9 ms (the measurements are in `encoder.rs`).
pub fn default_level(coding: Coding) -> u32 {
    match coding {
        Coding::Gzip => 2,
        Coding::Br => 4,
        Coding::Zstd => 3,
        Coding::Identity => 0,
    }
}

/// `level` within `coding`'s range: gzip 1–9, brotli 0–11, zstd 1–22.
pub fn clamp_level(coding: Coding, level: u32) -> u32 {
    match coding {
        Coding::Gzip => level.clamp(1, 9),
        Coding::Br => level.min(11),
        Coding::Zstd => level.clamp(1, 22),
        Coding::Identity => 0,
    }
}

/// One coding's streaming encoder, writing into a buffer the caller takes
/// from.
pub(crate) enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Br(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Encoder {
    /// An encoder for `coding` at `level` (clamped); `size`, when known, is
    /// the exact input length (zstd records it in the frame, brotli sizes
    /// its window to it). `None` for identity.
    pub(crate) fn new(
        coding: Coding,
        level: u32,
        size: Option<u64>,
    ) -> io::Result<Option<Encoder>> {
        let level = clamp_level(coding, level);
        Ok(Some(match coding {
            Coding::Identity => return Ok(None),
            Coding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                Compression::new(level),
            )),
            Coding::Br => {
                // The smallest window (10..=22 bits) holding the whole input.
                let window = size.map_or(BROTLI_WINDOW, |n| {
                    (64 - n.saturating_sub(1).leading_zeros()).clamp(10, BROTLI_WINDOW)
                });
                Encoder::Br(Box::new(brotli::CompressorWriter::new(
                    Vec::new(),
                    4096,
                    level,
                    window,
                )))
            }
            Coding::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), level as i32)?;
                if size.is_some() {
                    encoder.set_pledged_src_size(size)?;
                }
                Encoder::Zstd(encoder)
            }
        }))
    }

    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.write_all(data),
            Encoder::Br(e) => e.write_all(data),
            Encoder::Zstd(e) => e.write_all(data),
        }
    }

    /// Sync flush: all input so far becomes decodable output.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.flush(),
            Encoder::Br(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }

    fn output(&mut self) -> &mut Vec<u8> {
        match self {
            Encoder::Gzip(e) => e.get_mut(),
            Encoder::Br(e) => e.get_mut(),
            Encoder::Zstd(e) => e.get_mut(),
        }
    }

    /// The coded bytes produced so far, taken out of the buffer.
    pub(crate) fn take(&mut self) -> Bytes {
        Bytes::from(std::mem::take(self.output()))
    }

    /// Ends the stream; returns the coded bytes not taken yet.
    pub(crate) fn finish(self) -> io::Result<Bytes> {
        let out = match self {
            Encoder::Gzip(e) => e.finish()?,
            Encoder::Br(e) => e.into_inner(),
            Encoder::Zstd(e) => e.finish()?,
        };
        Ok(Bytes::from(out))
    }
}

/// `data` compressed with `coding` at `level`, in one go (identity: a copy).
pub fn compress_slice(data: &[u8], coding: Coding, level: u32) -> io::Result<Bytes> {
    let Some(mut encoder) = Encoder::new(coding, level, Some(data.len() as u64))? else {
        return Ok(Bytes::copy_from_slice(data));
    };
    encoder.write(data)?;
    encoder.finish()
}

/// `len` bytes of `file` from `offset`, read in 64 KiB pieces with
/// `read_at` and compressed with `coding` at `level` in one go. Blocking:
/// call it where blocking is allowed. A file that turns out shorter than
/// `len` is an `UnexpectedEof` error.
pub fn compress_file(
    file: &File,
    offset: u64,
    len: u64,
    coding: Coding,
    level: u32,
) -> io::Result<Bytes> {
    let mut encoder = Encoder::new(coding, level, Some(len))?;
    let mut buf = vec![0; FILE_PIECE.min(len as usize)];
    let mut identity = Vec::new();
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(buf.len() as u64) as usize;
        let got = match file.read_at(&mut buf[..want], offset + done) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match &mut encoder {
            Some(encoder) => encoder.write(&buf[..got])?,
            None => identity.extend_from_slice(&buf[..got]),
        }
        done += got as u64;
    }
    match encoder {
        Some(encoder) => encoder.finish(),
        None => Ok(Bytes::from(identity)),
    }
}

/// `body` coded with `coding` at `level`, as a stream of coded chunks.
/// Whenever `body` has nothing ready (its stream returns `Pending`), what
/// it gave since the last flush is flushed (a sync flush) and sent, so each
/// chunk a handler produces can be decoded by the client before the next
/// exists; chunks ready back to back are compressed together. Identity
/// returns `body` unchanged. The result has no known length, so it goes out
/// chunked (close-delimited to HTTP/1.0 peers).
///
/// ```
/// use berth::Body;
/// use berth::compress::{Coding, encode};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let coded = encode(Body::from("hello hello hello"), Coding::Gzip, 6);
/// assert_eq!(coded.size_hint(), None);
/// let bytes = coded.collect(1 << 20).await.unwrap();
/// assert_eq!(&bytes[..2], b"\x1f\x8b"); // gzip magic
/// # });
/// ```
pub fn encode(body: Body, coding: Coding, level: u32) -> Body {
    let size = body.size_hint();
    match Encoder::new(coding, level, size) {
        Ok(None) => body,
        Ok(Some(encoder)) => Body::stream(Encoding {
            inner: body,
            encoder: Some(encoder),
            unflushed: false,
        }),
        Err(e) => Body::stream(Failed(Some(e))),
    }
}

/// The stream behind [`encode`].
struct Encoding {
    inner: Body,
    /// `None` once finished (or failed).
    encoder: Option<Encoder>,
    /// Input written since the last flush.
    unflushed: bool,
}

impl Encoding {
    fn step(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BoxError>>> {
        let mut consumed = 0;
        loop {
            let Some(encoder) = self.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    encoder.write(&chunk)?;
                    self.unflushed |= !chunk.is_empty();
                    consumed += chunk.len();
                    if encoder.output().len() >= OUTPUT_HIGH_WATER {
                        return Poll::Ready(Some(Ok(encoder.take())));
                    }
                    if consumed >= INPUT_PER_POLL {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    self.encoder = None;
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Poll::Ready(None) => {
                    let rest = self.encoder.take().map(Encoder::finish).transpose()?;
                    return Poll::Ready(rest.filter(|b| !b.is_empty()).map(Ok));
                }
                Poll::Pending => {
                    // The producer paused: what it gave so far goes out now.
                    if self.unflushed {
                        encoder.flush()?;
                        self.unflushed = false;
                    }
                    let out = encoder.take();
                    if out.is_empty() {
                        return Poll::Pending;
                    }
                    return Poll::Ready(Some(Ok(out)));
                }
            }
        }
    }
}

impl Stream for Encoding {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.step(cx) {
            Poll::Ready(Some(Err(e))) => {
                this.encoder = None;
                Poll::Ready(Some(Err(e)))
            }
            other => other,
        }
    }
}

/// A stream that fails at once: an encoder could not be set up.
struct Failed(Option<io::Error>);

impl Stream for Failed {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.get_mut().0.take().map(|e| Err(e.into())))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Read;

    /// Decodes `data` coded with `coding`.
    pub(crate) fn decode(coding: Coding, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match coding {
            Coding::Gzip => {
                flate2::read::GzDecoder::new(data)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Coding::Br => {
                brotli::Decompressor::new(data, 4096)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Coding::Zstd => out = zstd::stream::decode_all(data).unwrap(),
            Coding::Identity => out = data.to_vec(),
        }
        out
    }

    /// Decodes as much of a possibly unfinished coded stream as possible.
    pub(crate) fn decode_prefix(coding: Coding, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        let mut reader: Box<dyn Read> = match coding {
            Coding::Gzip => Box::new(flate2::read::GzDecoder::new(data)),
            Coding::Br => Box::new(brotli::Decompressor::new(data, 4096)),
            Coding::Zstd => Box::new(zstd::stream::read::Decoder::new(data).unwrap()),
            Coding::Identity => return data.to_vec(),
        };
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    /// Text that compresses like a web page, `len` bytes.
    pub(crate) fn page(len: usize) -> Vec<u8> {
        let words = [
            "<p>berth",
            "serves",
            "files",
            "over",
            "HTTP/1.1",
            "with",
            "care</p>\n",
        ];
        let mut out = Vec::with_capacity(len + 16);
        let mut i = 0usize;
        while out.len() < len {
            out.extend_from_slice(words[i % words.len()].as_bytes());
            out.push(b' ');
            out.extend_from_slice(format!("{}", i * 7919 % 1000).as_bytes());
            i += 1;
        }
        out.truncate(len);
        out
    }

    #[test]
    fn one_shot_round_trips() {
        let text = page(100_000);
        for coding in Coding::ALL {
            for level in [0, 1, default_level(coding), 9, 30] {
                let coded = compress_slice(&text, coding, level).unwrap();
                assert!(coded.len() < text.len() / 2, "{coding:?} {level}");
                assert_eq!(decode(coding, &coded), text, "{coding:?} {level}");
            }
            let empty = compress_slice(b"", coding, 3).unwrap();
            assert_eq!(decode(coding, &empty), b"");
        }
        assert_eq!(compress_slice(b"abc", Coding::Identity, 3).unwrap(), "abc");
    }

    #[test]
    fn files_round_trip_in_pieces() {
        let text = page(300_000);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&text).unwrap();
        for coding in [Coding::Zstd, Coding::Br, Coding::Gzip, Coding::Identity] {
            let coded = compress_file(&file, 0, text.len() as u64, coding, 3).unwrap();
            assert_eq!(decode(coding, &coded), text, "{coding:?}");
            let part = compress_file(&file, 1000, 70_000, coding, 3).unwrap();
            assert_eq!(decode(coding, &part), &text[1000..71_000], "{coding:?}");
        }
        let err = compress_file(&file, 0, text.len() as u64 + 1, Coding::Gzip, 3).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn levels_clamp_to_each_range() {
        assert_eq!(clamp_level(Coding::Gzip, 0), 1);
        assert_eq!(clamp_level(Coding::Gzip, 11), 9);
        assert_eq!(clamp_level(Coding::Br, 0), 0);
        assert_eq!(clamp_level(Coding::Br, 22), 11);
        assert_eq!(clamp_level(Coding::Zstd, 0), 1);
        assert_eq!(clamp_level(Coding::Zstd, 40), 22);
        for coding in Coding::ALL {
            let level = default_level(coding);
            assert_eq!(clamp_level(coding, level), level);
        }
    }

    #[tokio::test]
    async fn encoded_bodies_round_trip() {
        let text = page(200_000);
        for coding in Coding::ALL {
            let bodies = [
                Body::from(text.clone()),
                Body::file(
                    {
                        let mut f = tempfile::tempfile().unwrap();
                        f.write_all(&text).unwrap();
                        f
                    },
                    0,
                    text.len() as u64,
                ),
                Body::stream(futures_iter(text.chunks(777).map(Bytes::copy_from_slice))),
                Body::empty(),
            ];
            for (i, body) in bodies.into_iter().enumerate() {
                let want: &[u8] = if i == 3 { b"" } else { &text };
                let coded = encode(body, coding, default_level(coding));
                assert_eq!(coded.size_hint(), None);
                let bytes = coded.collect(1 << 24).await.unwrap();
                assert_eq!(decode(coding, &bytes), want, "{coding:?} body {i}");
            }
        }
        let body = encode(Body::from("plain"), Coding::Identity, 3);
        assert_eq!(body.collect(100).await.unwrap(), "plain");
    }

    /// A stream over ready items.
    fn futures_iter<I>(items: I) -> impl Stream<Item = Result<Bytes, BoxError>> + Send + 'static
    where
        I: Iterator<Item = Bytes>,
    {
        let items: Vec<Bytes> = items.collect();
        let mut items = items.into_iter();
        futures_stream(move || items.next().map(Ok))
    }

    fn futures_stream<F>(next: F) -> impl Stream<Item = Result<Bytes, BoxError>> + Send + 'static
    where
        F: FnMut() -> Option<Result<Bytes, BoxError>> + Send + 'static + Unpin,
    {
        struct FromFn<F>(F);
        impl<F> Stream for FromFn<F>
        where
            F: FnMut() -> Option<Result<Bytes, BoxError>> + Unpin,
        {
            type Item = Result<Bytes, BoxError>;
            fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                Poll::Ready((self.get_mut().0)())
            }
        }
        FromFn(next)
    }

    #[tokio::test]
    async fn each_pause_of_the_producer_flushes() {
        for coding in Coding::ALL {
            let (tx, body) = Body::channel(1);
            let mut coded = encode(body, coding, default_level(coding));
            let mut received = Vec::new();
            for event in ["data: one\n\n", "data: two\n\n", "data: three\n\n"] {
                tx.send(event).await.unwrap();
                // The producer now pauses: the event must be decodable
                // from what came out, before the next is produced.
                let chunk = coded.next_chunk().await.unwrap().unwrap();
                received.extend_from_slice(&chunk);
                let decoded = decode_prefix(coding, &received);
                assert!(
                    decoded.ends_with(event.as_bytes()),
                    "{coding:?}: {:?}",
                    String::from_utf8_lossy(&decoded)
                );
            }
            drop(tx);
            while let Some(chunk) = coded.next_chunk().await {
                received.extend_from_slice(&chunk.unwrap());
            }
            assert_eq!(
                decode(coding, &received),
                b"data: one\n\ndata: two\n\ndata: three\n\n"
            );
        }
    }

    #[tokio::test]
    async fn producer_errors_pass_through() {
        let (tx, body) = Body::channel(1);
        let mut coded = encode(body, Coding::Gzip, 2);
        tx.send("x").await.unwrap();
        assert!(coded.next_chunk().await.unwrap().is_ok());
        tx.abort("boom").await;
        assert!(coded.next_chunk().await.unwrap().is_err());
        assert!(coded.next_chunk().await.is_none());
    }

    #[tokio::test]
    async fn compressible_files_do_not_hold_the_thread() {
        // 4 MiB of zeros codes to almost nothing: the stream must still
        // yield to the runtime between slices of input.
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![0u8; 4 << 20]).unwrap();
        let coded = encode(Body::file(file, 0, 4 << 20), Coding::Zstd, 3);
        let bytes = coded.collect(1 << 20).await.unwrap();
        assert_eq!(decode(Coding::Zstd, &bytes).len(), 4 << 20);
    }
}
