//! The two archive formats, each a [`Visit`] that writes what the walk
//! hands it into any [`Write`], as it comes: a `.tar.gz` (tar's GNU
//! headers, through a gzip encoder) and a `.zip` (zip's streaming mode:
//! local headers, then the data, then a data descriptor with the sizes
//! and CRC, and the central directory at the end). Neither seeks nor
//! holds a file's content: memory is the encoders' state, whatever the
//! sizes (and, for zip, one central-directory record per entry).

use std::fs::Metadata;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;

use flate2::Compression;
use flate2::write::GzEncoder;
use time::UtcDateTime;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::walk::{Content, Visit};

/// The deflate level of both formats: the `berth` binary's default gzip
/// level for responses, which keeps a download near the disk's speed
/// while still shrinking text several times.
const LEVEL: u32 = 2;

/// The permission bits archived: the file's own, without set-id or sticky
/// bits.
fn permissions(meta: &Metadata) -> u32 {
    meta.mode() & 0o777
}

/// A `.tar.gz` written into `W`.
pub(super) struct TarGz<W: Write> {
    tar: tar::Builder<GzEncoder<W>>,
}

impl<W: Write> TarGz<W> {
    pub(super) fn new(out: W) -> Self {
        TarGz {
            tar: tar::Builder::new(GzEncoder::new(out, Compression::new(LEVEL))),
        }
    }

    /// Writes tar's end (two zero blocks) and gzip's trailer; the writer
    /// back.
    pub(super) fn finish(self) -> io::Result<W> {
        self.tar.into_inner()?.finish()
    }

    /// A GNU header for an entry of `kind`: size, permissions and
    /// modification time from `meta`; owner 0, no owner names, so the
    /// archive tells nothing about the server's accounts.
    fn header(kind: tar::EntryType, meta: &Metadata, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(size);
        header.set_mode(permissions(meta));
        header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
        header.set_uid(0);
        header.set_gid(0);
        header
    }
}

impl<W: Write> Visit for TarGz<W> {
    fn dir(&mut self, path: &str, meta: &Metadata) -> io::Result<()> {
        let mut header = Self::header(tar::EntryType::Directory, meta, 0);
        self.tar
            .append_data(&mut header, format!("{path}/"), io::empty())
    }

    fn file(&mut self, path: &str, meta: &Metadata, data: &mut Content) -> io::Result<()> {
        let mut header = Self::header(tar::EntryType::Regular, meta, meta.len());
        self.tar.append_data(&mut header, path, data)
    }
}

/// A `.zip` written into `W`, in zip's streaming mode.
pub(super) struct Zip<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
}

impl<W: Write> Zip<W> {
    pub(super) fn new(out: W) -> Self {
        Zip {
            zip: ZipWriter::new_stream(out),
        }
    }

    /// Writes the central directory and its end; the writer back.
    pub(super) fn finish(self) -> io::Result<W> {
        Ok(self.zip.finish()?.into_inner())
    }

    fn options(meta: &Metadata) -> SimpleFileOptions {
        SimpleFileOptions::default()
            .last_modified_time(dos_time(meta.mtime()))
            .unix_permissions(permissions(meta))
    }
}

impl<W: Write> Visit for Zip<W> {
    fn dir(&mut self, path: &str, meta: &Metadata) -> io::Result<()> {
        let options = Self::options(meta).compression_method(CompressionMethod::Stored);
        Ok(self.zip.add_directory(format!("{path}/"), options)?)
    }

    fn file(&mut self, path: &str, meta: &Metadata, data: &mut Content) -> io::Result<()> {
        let options = if is_compressed(path) {
            Self::options(meta).compression_method(CompressionMethod::Stored)
        } else {
            Self::options(meta)
                .compression_method(CompressionMethod::Deflated)
                .compression_level(Some(i64::from(LEVEL)))
        };
        // zip64 extra fields when the sizes may not fit 32 bits; the
        // content is exactly `meta.len()` bytes (`Content`).
        let options = options.large_file(meta.len() >= u64::from(u32::MAX));
        self.zip.start_file(path, options)?;
        io::copy(data, &mut self.zip)?;
        Ok(())
    }
}

/// The DOS date and time zip stores, in UTC (zip has no time zone; the
/// range is 1980 to 2107, clamped to its ends).
pub(super) fn dos_time(unix_seconds: i64) -> DateTime {
    let Ok(t) = UtcDateTime::from_unix_timestamp(unix_seconds) else {
        return DateTime::default();
    };
    let year = t.year();
    if year < 1980 {
        return DateTime::default();
    }
    let Ok(year) = u16::try_from(year) else {
        return DateTime::default();
    };
    DateTime::from_date_and_time(
        year,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .or_else(|_| DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58))
    .unwrap_or_default()
}

/// Files already compressed by their format, by extension: stored in a
/// zip as they are, since deflate would only cost time.
pub(super) fn is_compressed(path: &str) -> bool {
    const EXTENSIONS: [&str; 35] = [
        "7z", "apk", "avif", "br", "bz2", "docx", "epub", "flac", "gif", "gz", "heic", "jar",
        "jpeg", "jpg", "m4a", "m4v", "mkv", "mov", "mp3", "mp4", "odt", "ogg", "opus", "png",
        "pptx", "rar", "tgz", "webm", "webp", "woff", "woff2", "xlsx", "xz", "zip", "zst",
    ];
    let Some((_, ext)) = path.rsplit_once('.') else {
        return false;
    };
    ext.len() <= 5 && EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
}
