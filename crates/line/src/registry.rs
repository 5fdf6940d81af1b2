//! The station's lines while it serves: a registry that lines join and leave without a
//! restart. The API, the accept loop and the watch all read it; only the station's line
//! administration (`hotline_station::lines`) changes it.
//!
//! Readers take a snapshot (an `Arc` of the whole map) and work on that, so a lookup
//! never holds the lock across an `.await`, and a line added or removed meanwhile shows
//! up in the next snapshot. The accept loop compares snapshots by pointer to know when to
//! rebuild its TLS configuration (which pins exactly the registered peers' keys).

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::LineHandle;

/// Every line of the station, by peer name; cheap to clone (all clones share one map).
#[derive(Clone, Default)]
pub struct Lines {
    current: Arc<RwLock<Arc<BTreeMap<String, LineHandle>>>>,
}

impl From<BTreeMap<String, LineHandle>> for Lines {
    fn from(map: BTreeMap<String, LineHandle>) -> Lines {
        Lines { current: Arc::new(RwLock::new(Arc::new(map))) }
    }
}

impl From<Arc<BTreeMap<String, LineHandle>>> for Lines {
    fn from(map: Arc<BTreeMap<String, LineHandle>>) -> Lines {
        Lines { current: Arc::new(RwLock::new(map)) }
    }
}

impl Lines {
    /// The lines as they are now; later changes make a new map, never change this one.
    pub fn snapshot(&self) -> Arc<BTreeMap<String, LineHandle>> {
        // A writer that panicked left a whole map behind (it swaps one `Arc`): use it.
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The line to `peer`, if there is one now.
    pub fn get(&self, peer: &str) -> Option<LineHandle> {
        self.snapshot().get(peer).cloned()
    }

    pub fn contains_key(&self, peer: &str) -> bool {
        self.snapshot().contains_key(peer)
    }

    /// Every line now, in peer order.
    pub fn values(&self) -> std::vec::IntoIter<LineHandle> {
        self.snapshot().values().cloned().collect::<Vec<_>>().into_iter()
    }

    /// Every peer now, in order.
    pub fn keys(&self) -> std::vec::IntoIter<String> {
        self.snapshot().keys().cloned().collect::<Vec<_>>().into_iter()
    }

    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    pub fn is_empty(&self) -> bool {
        self.snapshot().is_empty()
    }

    /// The line whose pinned key is `key` (an incoming connection's proven key).
    pub fn by_key(&self, key: &[u8; 32]) -> Option<LineHandle> {
        self.snapshot().values().find(|l| l.key.key_bytes() == key).cloned()
    }

    /// Adds or replaces the line to `handle.peer`; returns the one it replaced.
    pub fn insert(&self, handle: LineHandle) -> Option<LineHandle> {
        self.update(|map| map.insert(handle.peer.clone(), handle))
    }

    /// Takes the line to `peer` out; returns it.
    pub fn remove(&self, peer: &str) -> Option<LineHandle> {
        self.update(|map| map.remove(peer))
    }

    /// Copies the map, changes the copy and publishes it: snapshots already taken stay
    /// as they were (lines change rarely; reads are many).
    fn update<T>(&self, change: impl FnOnce(&mut BTreeMap<String, LineHandle>) -> T) -> T {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let mut map = BTreeMap::clone(&current);
        let out = change(&mut map);
        *current = Arc::new(map);
        out
    }
}
