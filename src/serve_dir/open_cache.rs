//! A short-lived cache of open files (nginx's `open_file_cache`): a hot file
//! is opened and `fstat`ed once per validity window instead of on every
//! request, saving `openat2`, `statx` and `close` (three of the six system
//! calls a small-file request costs).
//!
//! Entries are keyed by the resolved relative path and hold the shared
//! descriptor and its metadata. Within the window a replaced file is still
//! served from the old descriptor, and an in-place change may be seen with
//! stale metadata (a short read then closes that connection): that is the
//! trade nginx makes too, and why the window is short and opt-in.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most entries kept; when full, the cache starts over (simple and bounded).
const MAX_ENTRIES: usize = 1024;

#[derive(Debug)]
pub(super) struct OpenCache {
    valid_for: Duration,
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

#[derive(Debug)]
struct Entry {
    file: Arc<File>,
    meta: Metadata,
    opened: Instant,
}

impl OpenCache {
    pub(super) fn new(valid_for: Duration) -> Self {
        OpenCache {
            valid_for,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached descriptor for `rel`, if opened less than the window ago.
    pub(super) fn get(&self, rel: &str) -> Option<(Arc<File>, Metadata)> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(rel)?;
        (entry.opened.elapsed() < self.valid_for).then(|| (entry.file.clone(), entry.meta.clone()))
    }

    pub(super) fn insert(&self, rel: &str, file: &Arc<File>, meta: &Metadata) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(rel) {
            entries.retain(|_, e| e.opened.elapsed() < self.valid_for);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        let entry = Entry {
            file: file.clone(),
            meta: meta.clone(),
            opened: Instant::now(),
        };
        entries.insert(rel.into(), entry);
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
        cache.insert("f", &file, &meta);
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
            cache.insert(&i.to_string(), &file, &meta);
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
