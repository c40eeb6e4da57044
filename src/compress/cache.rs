//! A bounded in-memory cache of compressed variants of static files, so a
//! hot file is compressed once and then served from memory with a
//! `Content-Length`.
//!
//! - **Key.** The file's identity as `ServeDir` saw it on the open handle
//!   (device, inode, size, modification time in nanoseconds) plus the coding
//!   and level. The (device, inode) pair stands for the path: it names the
//!   same file whatever URL or hard link reached it, and a file replaced by
//!   a rename gets another inode. Any write that changes the size or the
//!   mtime gives a new key, so a stale entry is never served; it ages out.
//! - **Budget.** The sum of the entries' coded lengths stays within the
//!   byte budget given at construction (per-entry bookkeeping, about 100
//!   bytes, is not counted). An entry larger than a quarter of the budget
//!   is not kept at all, so one huge file cannot flush everything else.
//! - **Eviction.** Least recently used first: every hit moves the entry to
//!   the back of the order.
//!
//! One mutex guards the map; a hit is a hash lookup, a B-tree move and a
//! `Bytes` clone (a reference count), so the lock is held for well under a
//! microsecond. Two requests that miss on the same key at once both
//! compress it; the second insert just replaces the first.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bytes::Bytes;

use crate::content_coding::{Coding, FileIdentity};

/// What a cached variant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) file: FileIdentity,
    pub(crate) coding: Coding,
    pub(crate) level: u32,
}

/// The cache; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct Cache {
    budget: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Key, Entry>,
    /// Recency: tick of last use → key; the first is evicted first.
    order: BTreeMap<u64, Key>,
    tick: u64,
    used: usize,
}

#[derive(Debug)]
struct Entry {
    bytes: Bytes,
    tick: u64,
}

impl Cache {
    /// A cache holding at most `budget` bytes of coded data (0: nothing
    /// is kept).
    pub(crate) fn new(budget: usize) -> Cache {
        Cache {
            budget,
            state: Mutex::new(State::default()),
        }
    }

    /// The largest entry kept: a quarter of the budget.
    pub(crate) fn max_entry(&self) -> usize {
        self.budget / 4
    }

    /// The variant for `key`, marking it recently used.
    pub(crate) fn get(&self, key: &Key) -> Option<Bytes> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *state;
        state.tick += 1;
        let tick = state.tick;
        let entry = state.entries.get_mut(key)?;
        state.order.remove(&entry.tick);
        entry.tick = tick;
        state.order.insert(tick, *key);
        Some(entry.bytes.clone())
    }

    /// Keeps `bytes` as the variant for `key`, evicting the least recently
    /// used entries to stay within the budget. Too large an entry is not
    /// kept.
    pub(crate) fn insert(&self, key: Key, bytes: Bytes) {
        if bytes.len() > self.max_entry() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *state;
        if let Some(old) = state.entries.remove(&key) {
            state.order.remove(&old.tick);
            state.used -= old.bytes.len();
        }
        while state.used + bytes.len() > self.budget {
            let Some((_, victim)) = state.order.pop_first() else {
                break;
            };
            if let Some(old) = state.entries.remove(&victim) {
                state.used -= old.bytes.len();
            }
        }
        state.tick += 1;
        let tick = state.tick;
        state.used += bytes.len();
        state.order.insert(tick, key);
        state.entries.insert(key, Entry { bytes, tick });
    }

    /// Bytes of coded data held.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.state.lock().unwrap().used
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state.lock().unwrap().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ino: u64) -> Key {
        Key {
            file: FileIdentity {
                dev: 1,
                ino,
                size: 100,
                mtime_ns: 5,
            },
            coding: Coding::Gzip,
            level: 2,
        }
    }

    fn bytes(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    #[test]
    fn hits_and_misses() {
        let cache = Cache::new(1000);
        assert_eq!(cache.get(&key(1)), None);
        cache.insert(key(1), bytes(10));
        assert_eq!(cache.get(&key(1)).unwrap().len(), 10);
        // Any part of the key tells variants apart.
        let mut other = key(1);
        other.coding = Coding::Br;
        assert_eq!(cache.get(&other), None);
        other = key(1);
        other.level = 3;
        assert_eq!(cache.get(&other), None);
        other = key(1);
        other.file.mtime_ns += 1;
        assert_eq!(cache.get(&other), None);
        other = key(1);
        other.file.size += 1;
        assert_eq!(cache.get(&other), None);
        // Replacing an entry keeps the accounting right.
        cache.insert(key(1), bytes(20));
        assert_eq!(cache.used(), 20);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn budget_is_respected_least_recently_used_first() {
        let cache = Cache::new(1000);
        for ino in 0..4 {
            cache.insert(key(ino), bytes(250));
        }
        assert_eq!(cache.used(), 1000);
        // Use 0: now 1 is the oldest.
        assert!(cache.get(&key(0)).is_some());
        cache.insert(key(9), bytes(200));
        assert!(cache.used() <= 1000);
        assert_eq!(cache.get(&key(1)), None);
        for ino in [0, 2, 3, 9] {
            assert!(cache.get(&key(ino)).is_some(), "{ino}");
        }
        // Many inserts never exceed the budget.
        for ino in 100..400 {
            cache.insert(key(ino), bytes(1 + (ino as usize * 37) % 250));
            assert!(cache.used() <= 1000);
        }
    }

    #[test]
    fn large_entries_are_not_kept() {
        let cache = Cache::new(1000);
        cache.insert(key(1), bytes(251));
        assert_eq!(cache.len(), 0);
        cache.insert(key(1), bytes(250));
        assert_eq!(cache.len(), 1);
        let none = Cache::new(0);
        none.insert(key(1), bytes(1));
        assert_eq!(none.get(&key(1)), None);
    }
}
