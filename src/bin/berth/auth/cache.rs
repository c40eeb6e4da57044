//! The cache of successful verifications: keyed digests of user and
//! password, each trusted for a time so that a client sending the same
//! credentials on every request is not verified every time (see
//! [`BasicAuth::cache`](super::BasicAuth::cache) for the security trade-off).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::digest;

pub(super) struct Cache {
    /// Random, per process: the digests cannot be precomputed, nor compared
    /// across processes.
    key: [u8; 32],
    pub(super) ttl: Duration,
    pub(super) capacity: usize,
    /// Entry key → when the password verified. Not refreshed on a hit, so a
    /// password is verified again at least every `ttl`.
    pub(super) entries: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Cache {
    /// `None` when off (zero `ttl` or `capacity`) or when no random key
    /// can be had.
    pub(super) fn new(ttl: Duration, capacity: usize) -> Option<Cache> {
        if ttl.is_zero() || capacity == 0 {
            return None;
        }
        let mut key = [0u8; 32];
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key).is_err() {
            tracing::warn!("basic auth: no secure random key; verification cache off");
            return None;
        }
        Some(Cache {
            key,
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        })
    }

    pub(super) fn entry_key(&self, user: &[u8], password: &[u8]) -> [u8; 32] {
        digest(&[&self.key, user, password])
    }

    pub(super) fn hit(&self, key: &[u8; 32]) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).is_some_and(|at| at.elapsed() < self.ttl)
    }

    pub(super) fn insert(&self, key: [u8; 32]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, at| at.elapsed() < self.ttl);
            if entries.len() >= self.capacity
                && let Some(oldest) = entries.iter().min_by_key(|(_, at)| **at).map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, Instant::now());
    }
}
