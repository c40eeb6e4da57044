//! A short-lived cache of open files (nginx's `open_file_cache`): a hot file
//! is opened and `fstat`ed once per validity window instead of on every
//! request, saving `openat2`, `statx` and `close` (three of the six system
//! calls a small-file request costs).
//!
//! Entries are keyed by the resolved relative path (hashed with FxHash; see
//! `State::entries` for why that is safe here) and hold the shared
//! descriptor and its metadata, and for small files (up to
//! [`SMALL_FILE_MAX`]) their content too, within a byte budget
//! ([`CONTENT_BUDGET`]): such a file is then answered from memory, without
//! the `pread` per request. When a window ends and the file is opened
//! again, content kept from before is reused only if the file is still the
//! same one with the same size and modification time; otherwise it is read
//! anew. Within the window a replaced file is still
//! served from the old descriptor, and an in-place change may be seen with
//! stale metadata (a short read then closes that connection): that is the
//! trade nginx makes too, and why the window is short and opt-in.
//!
//! A hit hands out the entry itself (one reference count): nothing is
//! copied per request.

use std::borrow::Cow;
use std::fs::{File, Metadata};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rustc_hash::FxHashMap;

use super::representation::FileFacts;

/// Most entries kept; when full, the cache starts over (simple and bounded).
const MAX_ENTRIES: usize = 1024;
/// Largest file whose content is kept in memory (the driver copies bodies
/// up to 16 KiB into its write buffer; a bit more still saves the read).
pub(super) const SMALL_FILE_MAX: u64 = 32 * 1024;
/// Most content bytes kept at once (1024 entries × 32 KiB).
pub(super) const CONTENT_BUDGET: usize = 32 * 1024 * 1024;

#[derive(Debug)]
pub(super) struct OpenCache {
    valid_for: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Hashed with FxHash (rustc's, from `rustc-hash`), a few instructions
    /// per 8 bytes of the path where SipHash costs a hundred-odd for a
    /// short one. Its weakness, keys chosen to collide, does not apply:
    /// only paths that opened as files beneath the root are ever inserted
    /// (at most [`MAX_ENTRIES`]), and a client cannot create those; a
    /// lookup of any other path is one probe sequence like any miss.
    entries: FxHashMap<Box<str>, Arc<Entry>>,
    /// Content bytes held by `entries`.
    content_bytes: usize,
}

/// One cached open file, shared by every request served from it.
#[derive(Debug)]
pub(super) struct Entry {
    file: Arc<File>,
    meta: Metadata,
    opened: Instant,
    content: Option<Bytes>,
    /// Formatted on first use (the name is needed for the type).
    facts: OnceLock<FileFacts>,
}

/// An open file as the pipeline uses it: the descriptor and its metadata,
/// and with the cache, the whole content when the file is small and the
/// formatted validators and type.
#[derive(Debug)]
pub(super) enum Opened {
    /// From the cache: one reference count, nothing copied.
    Cached(Arc<Entry>),
    /// Opened for this request alone.
    Fresh { file: Arc<File>, meta: Metadata },
}

impl Opened {
    /// A file opened without the cache.
    pub(super) fn uncached(file: Arc<File>, meta: Metadata) -> Opened {
        Opened::Fresh { file, meta }
    }

    pub(super) fn file(&self) -> &Arc<File> {
        match self {
            Opened::Cached(entry) => &entry.file,
            Opened::Fresh { file, .. } => file,
        }
    }

    pub(super) fn meta(&self) -> &Metadata {
        match self {
            Opened::Cached(entry) => &entry.meta,
            Opened::Fresh { meta, .. } => meta,
        }
    }

    /// The whole content of a small file, kept by the cache.
    pub(super) fn content(&self) -> Option<&Bytes> {
        match self {
            Opened::Cached(entry) => entry.content.as_ref(),
            Opened::Fresh { .. } => None,
        }
    }

    /// The file's [`FileFacts`] for the name `name`: the cache's (formatted
    /// on first use), or formatted now.
    pub(super) fn facts(&self, name: &Path) -> Cow<'_, FileFacts> {
        match self {
            Opened::Cached(entry) => {
                Cow::Borrowed(entry.facts.get_or_init(|| FileFacts::of(&entry.meta, name)))
            }
            Opened::Fresh { meta, .. } => Cow::Owned(FileFacts::of(meta, name)),
        }
    }
}

/// Same file, same size, same modification time (to the nanosecond).
fn unchanged(old: &Metadata, new: &Metadata) -> bool {
    old.dev() == new.dev()
        && old.ino() == new.ino()
        && old.len() == new.len()
        && old.mtime() == new.mtime()
        && old.mtime_nsec() == new.mtime_nsec()
}

/// Reads all of a small file, or `None` if it is not `len` bytes long now.
fn read_small(file: &File, len: u64) -> Option<Bytes> {
    let len = usize::try_from(len).ok()?;
    let mut buf = BytesMut::zeroed(len);
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut buf[filled..], filled as u64) {
            Ok(0) => return None,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(buf.freeze())
}

impl OpenCache {
    pub(super) fn new(valid_for: Duration) -> Self {
        OpenCache {
            valid_for,
            state: Mutex::new(State::default()),
        }
    }

    /// The cached descriptor for `rel`, if opened less than the window ago.
    pub(super) fn get(&self, rel: &str) -> Option<Opened> {
        let state = self.state.lock().ok()?;
        let entry = state.entries.get(rel)?;
        (entry.opened.elapsed() < self.valid_for).then(|| Opened::Cached(Arc::clone(entry)))
    }

    /// Records a freshly opened file and returns it with its content when
    /// it is small enough to keep (reused from the previous entry if the
    /// file has not changed, read now otherwise).
    pub(super) fn insert(&self, rel: &str, file: Arc<File>, meta: Metadata) -> Opened {
        let Ok(mut state) = self.state.lock() else {
            return Opened::uncached(file, meta);
        };
        let state = &mut *state;
        let previous = state.entries.remove(rel);
        if let Some(old) = &previous {
            state.content_bytes -= old.content.as_ref().map_or(0, Bytes::len);
        }
        if state.entries.len() >= MAX_ENTRIES {
            let valid_for = self.valid_for;
            state.entries.retain(|_, e| e.opened.elapsed() < valid_for);
            if state.entries.len() >= MAX_ENTRIES {
                state.entries.clear();
            }
            state.content_bytes = state
                .entries
                .values()
                .map(|e| e.content.as_ref().map_or(0, Bytes::len))
                .sum();
        }
        let small = meta.is_file() && meta.len() <= SMALL_FILE_MAX;
        let same = previous
            .as_ref()
            .is_some_and(|old| unchanged(&old.meta, &meta));
        // The old entry may still be in use by responses: copy from it.
        let (content, facts) = match &previous {
            Some(old) if same => (
                old.content.clone().filter(|_| small),
                old.facts
                    .get()
                    .cloned()
                    .map_or_else(OnceLock::new, OnceLock::from),
            ),
            _ => (None, OnceLock::new()),
        };
        let content = match content {
            Some(kept) => Some(kept),
            None if small && state.content_bytes + meta.len() as usize <= CONTENT_BUDGET => {
                read_small(&file, meta.len())
            }
            None => None,
        };
        state.content_bytes += content.as_ref().map_or(0, Bytes::len);
        let entry = Arc::new(Entry {
            file,
            meta,
            opened: Instant::now(),
            content,
            facts,
        });
        state.entries.insert(rel.into(), Arc::clone(&entry));
        Opened::Cached(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let meta = file.metadata().unwrap();
        let cache = OpenCache::new(Duration::from_millis(50));
        cache.insert("f", file.clone(), meta.clone());
        assert!(cache.get("f").is_some());
        assert!(cache.get("g").is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("f").is_none());
    }

    #[test]
    fn stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let meta = file.metadata().unwrap();
        let cache = OpenCache::new(Duration::from_secs(60));
        for i in 0..MAX_ENTRIES * 2 {
            cache.insert(&i.to_string(), file.clone(), meta.clone());
        }
        let state = cache.state.lock().unwrap();
        assert!(state.entries.len() <= MAX_ENTRIES);
        assert!(state.content_bytes <= CONTENT_BUDGET);
    }

    #[test]
    fn small_files_keep_their_content_until_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "first").unwrap();
        let cache = OpenCache::new(Duration::ZERO);
        let open = || {
            let file = Arc::new(File::open(&path).unwrap());
            let meta = file.metadata().unwrap();
            (file, meta)
        };
        let (file, meta) = open();
        let first = cache.insert("f", file, meta).content().unwrap().clone();
        assert_eq!(&first[..], b"first");
        // Reopened, unchanged: the same bytes, not read again.
        let (file, meta) = open();
        let again = cache.insert("f", file, meta).content().unwrap().clone();
        assert_eq!(again.as_ptr(), first.as_ptr());
        // Changed (other size): read anew.
        std::fs::write(&path, "second!").unwrap();
        let (file, meta) = open();
        assert_eq!(
            &cache.insert("f", file, meta).content().unwrap()[..],
            b"second!"
        );
        assert_eq!(cache.state.lock().unwrap().content_bytes, 7);
    }

    #[test]
    fn large_files_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![7u8; SMALL_FILE_MAX as usize + 1]).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let meta = file.metadata().unwrap();
        let cache = OpenCache::new(Duration::from_secs(60));
        assert!(cache.insert("big", file, meta).content().is_none());
        assert!(cache.get("big").unwrap().content().is_none());
    }
}
