//! The station's shared core: the store behind a lock, and the stream of new record
//! entries that the event stream and the console follow.
//!
//! All writes go through [`Core::write`], which runs on a blocking thread (SQLite and
//! fsync block), commits, adds the new entries' leaves to the in-memory Merkle tree and
//! publishes the entries while still holding the lock, so the tree always matches the
//! committed record and subscribers see entries in index order. Checkpoints are signed
//! here too, under the same lock, so a checkpoint's size and root always agree.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use hotline_audit::origin_of;
use hotline_identity::StationKey;
use hotline_record::checkpoint::Checkpoint;
use hotline_record::merkle::{Hash, MerkleTree, leaf_hash};
use hotline_record::note::NoteSigner;
use hotline_store::{Store, StoreError, Tx};
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::entry_kind::EntryKind;
use crate::{now_ms, rfc3339};

/// Entries a slow event-stream subscriber may fall behind before it re-reads the store.
#[allow(non_upper_case_globals)]
pub const event_backlog_max: usize = 4096;

/// How long writes must succeed before a storage failure counts as over.
#[allow(non_upper_case_globals)]
pub const storage_recovery_ms: i64 = 5000;

pub use crate::published::Published;

/// Gives a write access to the transaction and to the record, stamping each entry.
pub struct Journal<'t> {
    pub tx: &'t Tx<'t>,
    pub now_ms: i64,
    appended: Vec<Published>,
}

/// The text of a record entry: `body` (a JSON object) with the entry's `kind` and `at`.
pub fn entry_text(kind: &str, mut body: Value, at_ms: i64) -> String {
    if let Value::Object(map) = &mut body {
        map.insert("kind".into(), Value::from(kind));
        map.insert("at".into(), Value::from(rfc3339(at_ms)));
    }
    body.to_string()
}

impl Journal<'_> {
    /// Appends `body` (a JSON object) to the record as an entry of `kind`, adding the
    /// entry's kind and time. Returns the entry index.
    pub fn append(&mut self, kind: EntryKind, body: Value) -> Result<i64, StoreError> {
        let kind = kind.as_str();
        let text = entry_text(kind, body, self.now_ms);
        let idx = self.tx.append_entry(self.now_ms, kind, &text)?;
        self.appended.push(Published { idx, kind: kind.to_owned(), body: text });
        Ok(idx)
    }
}

/// The store and the Merkle tree over its entries, kept in step under one lock.
struct Inner {
    store: Store,
    tree: MerkleTree,
}

pub struct Core {
    pub name: String,
    pub lang: String,
    inner: Arc<Mutex<Inner>>,
    pub entries: broadcast::Sender<Published>,
    /// `Some(error)` while writes fail for want of disk (or the disk fails); back to
    /// `None` at the first write that succeeds. The watch raises and clears the storage
    /// alarm from it.
    pub storage: watch::Sender<Option<String>>,
    /// When a write last failed for want of disk (0: never).
    storage_failed_ms: AtomicI64,
    /// The operational counters (`/metrics`); committed entries count here.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Start-up reads the record on up to this many threads, each with its own connection.
#[allow(non_upper_case_globals)]
const startup_readers_max: usize = 4;
/// Below this many entries one thread reads them all (a connection costs more).
#[allow(non_upper_case_globals)]
const startup_entries_per_reader_min: i64 = 50_000;

/// The leaf hash of every entry, in index order. Reading and hashing every body is most of
/// a station's start-up (840 MB and a million SHA-256 for a million entries), so the
/// index range is split among several read connections, each hashing its own part (WAL
/// lets readers run side by side). The bodies, not a stored copy of their hashes, stay
/// the source: a body changed behind the station's back changes the tree, and the
/// start-up check against our signed checkpoints (and the peer's witness) notices.
fn leaf_hashes(store: &mut Store) -> Result<Vec<Hash>, StoreError> {
    let last = store.read(|tx| tx.last_entry_idx())?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, startup_readers_max);
    let readers = (last / startup_entries_per_reader_min).clamp(1, threads as i64);
    let (path, readers) = match store.path() {
        Some(path) if readers > 1 => (path, readers),
        _ => (PathBuf::new(), 1), // in memory, or too small to share out
    };
    let part = (last + readers - 1) / readers;
    let ranges: Vec<(i64, i64)> = (0..readers).map(|k| (k * part + 1, ((k + 1) * part).min(last))).collect();
    let parts: Vec<Result<Vec<Hash>, StoreError>> = std::thread::scope(|scope| {
        let path = &path;
        let others: Vec<_> = ranges
            .iter()
            .skip(1)
            .map(|&(from, to)| scope.spawn(move || read_leaves(&mut Store::open(path)?, from, to)))
            .collect();
        let mut parts = vec![read_leaves(store, 1, ranges.first().map_or(0, |r| r.1))];
        for handle in others {
            parts.push(handle.join().unwrap_or_else(|_| Err(StoreError::Invariant("a start-up reader failed".into()))));
        }
        parts
    });
    let mut leaves = Vec::with_capacity(last.max(0) as usize);
    for (part, &(from, to)) in parts.into_iter().zip(&ranges) {
        let part = part?;
        // A part that ends early would shift every later leaf to the wrong index.
        if part.len() as i64 != (to - from + 1).max(0) {
            return Err(StoreError::Corrupt(format!("the record lacks entries between {from} and {to}")));
        }
        leaves.extend(part);
    }
    // Entries appended while we read (a CLI command beside a starting station) come last.
    leaves.extend(read_leaves(store, leaves.len() as i64 + 1, i64::MAX)?);
    Ok(leaves)
}

/// Leaf hashes of the entries `from..=to`, which must follow each other from `from`.
fn read_leaves(store: &mut Store, from: i64, to: i64) -> Result<Vec<Hash>, StoreError> {
    let mut leaves = Vec::new();
    let mut gap = None;
    store.read(|tx| {
        tx.for_each_entry_body_in(from, to, |idx, body| {
            if idx != from + leaves.len() as i64 && gap.is_none() {
                gap = Some(idx);
            }
            leaves.push(leaf_hash(body.as_bytes()));
        })
    })?;
    match gap {
        Some(idx) => Err(StoreError::Corrupt(format!("the record skips to entry {idx}"))),
        None => Ok(leaves),
    }
}

impl Core {
    /// Wraps an open store, rebuilding the Merkle tree from every entry.
    pub fn new(name: String, lang: String, mut store: Store) -> Result<Arc<Core>, StoreError> {
        let mut tree = MerkleTree::new();
        for leaf in leaf_hashes(&mut store)? {
            tree.push(leaf);
        }
        let (entries, _) = broadcast::channel(event_backlog_max);
        let (storage, _) = watch::channel(None);
        Ok(Arc::new(Core {
            name,
            lang,
            inner: Arc::new(Mutex::new(Inner { store, tree })),
            entries,
            storage,
            storage_failed_ms: AtomicI64::new(0),
            metrics: Arc::default(),
        }))
    }

    /// Signs a checkpoint of the whole record if it grew since the last one (or if there is
    /// none); returns the latest checkpoint (size, note) either way.
    pub async fn checkpoint(&self, key: Arc<StationKey>) -> Result<Option<(u64, String)>, StoreError> {
        let inner = self.inner.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut guard = inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let Inner { store, tree } = &mut *guard;
            let latest = store.read(|tx| tx.latest_checkpoint())?;
            let size = tree.len();
            if size == 0 || latest.as_ref().is_some_and(|(s, _)| *s >= size) {
                return Ok(latest);
            }
            let checkpoint = Checkpoint::new(&origin_of(&key.verifier()), size, tree.root());
            let note = checkpoint
                .sign(&NoteSigner::from_station_key(&key))
                .map_err(|e| StoreError::Invariant(format!("cannot sign checkpoint: {e}")))?;
            let at = now_ms();
            store.write(|tx| tx.insert_checkpoint(size, &note, at))?;
            Ok(Some((size, note)))
        })
        .await;
        result.unwrap_or_else(|e| Err(StoreError::Invariant(format!("store task failed: {e}"))))
    }

    /// The consistency proof between two tree sizes of our record.
    pub async fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.with_tree(move |tree| {
            tree.consistency_proof(old_size, new_size)
                .map_err(|e| StoreError::Invariant(format!("consistency proof: {e}")))
        })
        .await
    }

    /// The root of our record at `size`.
    pub async fn root_at(&self, size: u64) -> Result<Hash, StoreError> {
        self.with_tree(move |tree| {
            tree.root_at(size).map_err(|e| StoreError::Invariant(format!("root at {size}: {e}")))
        })
        .await
    }

    async fn with_tree<T: Send + 'static>(
        &self,
        f: impl FnOnce(&MerkleTree) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        let result = tokio::task::spawn_blocking(move || {
            let guard = inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&guard.tree)
        })
        .await;
        result.unwrap_or_else(|e| Err(StoreError::Invariant(format!("store task failed: {e}"))))
    }

    /// Runs `f` in one transaction on a blocking thread, commits, then publishes.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Journal<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let entries = self.entries.clone();
        let metrics = self.metrics.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut guard = inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let Inner { store, tree } = &mut *guard;
            let mut appended = Vec::new();
            let value = store.write(|tx| {
                let mut journal = Journal { tx, now_ms: now_ms(), appended: Vec::new() };
                let value = f(&mut journal)?;
                appended = journal.appended;
                Ok(value)
            })?;
            for entry in appended {
                // The tree follows the committed record one leaf per entry, in order.
                assert_eq!(entry.idx, tree.len() as i64 + 1, "record entries must be appended in order");
                tree.push(leaf_hash(entry.body.as_bytes()));
                metrics.on_committed(&entry);
                // No subscribers is fine: the entry is in the store either way.
                let _ = entries.send(entry);
            }
            Ok(value)
        })
        .await;
        let result = result.unwrap_or_else(|e| Err(StoreError::Invariant(format!("store task failed: {e}"))));
        let now = now_ms();
        match &result {
            Err(e @ (StoreError::DiskFull | StoreError::Sqlite(_))) => {
                self.storage_failed_ms.store(now, Ordering::Relaxed);
                let failing = Some(e.to_string());
                self.storage.send_if_modified(|s| {
                    let changed = s.is_none();
                    *s = failing;
                    changed
                });
            }
            // A nearly full disk lets some writes through and not others: storage counts as
            // healthy again only after `storage_recovery_ms` without a failure.
            Ok(_) if now - self.storage_failed_ms.load(Ordering::Relaxed) >= storage_recovery_ms => {
                self.storage.send_if_modified(|s| s.take().is_some());
            }
            _ => {}
        }
        result
    }

    /// Runs `f` for reading on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut guard = inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            guard.store.read(f)
        })
        .await;
        result.unwrap_or_else(|e| Err(StoreError::Invariant(format!("store task failed: {e}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_with(entries: i64) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("station.db")).expect("open");
        store
            .write(|tx| {
                for i in 0..entries {
                    tx.append_entry(i, "test.entry", &format!("{{\"kind\":\"test.entry\",\"n\":{i}}}"))?;
                }
                Ok(())
            })
            .expect("append");
        (dir, store)
    }

    fn one_by_one(store: &mut Store) -> Vec<Hash> {
        let mut leaves = Vec::new();
        store.read(|tx| tx.for_each_entry_body(|_, body| leaves.push(leaf_hash(body.as_bytes())))).expect("read");
        leaves
    }

    /// Enough entries for several readers: the split read gives exactly the leaves of one
    /// reader going through the record in order.
    #[test]
    fn start_up_read_on_several_connections_equals_one_pass() {
        let entries = startup_entries_per_reader_min * 2 + 7;
        let (_dir, mut store) = record_with(entries);
        let leaves = leaf_hashes(&mut store).expect("leaves");
        assert_eq!(leaves.len() as i64, entries);
        assert!(leaves == one_by_one(&mut store), "the split read differs from one pass");
        let (_dir, mut small) = record_with(3);
        assert!(leaf_hashes(&mut small).expect("leaves") == one_by_one(&mut small));
    }

    /// An entry missing from the middle (the database edited behind the station's back)
    /// stops the start-up with a clear error, whichever reader meets it.
    #[test]
    fn a_missing_entry_is_refused_at_start_up() {
        let entries = startup_entries_per_reader_min * 2 + 7;
        for missing in [2, entries - 3] {
            let (dir, mut store) = record_with(entries);
            let db = rusqlite::Connection::open(dir.path().join("station.db")).expect("open");
            db.execute_batch(&format!(
                "DROP TRIGGER entries_append_only_delete; DELETE FROM entries WHERE idx = {missing};"
            ))
            .expect("delete");
            drop(db);
            let err = leaf_hashes(&mut store).expect_err("a gap must be refused");
            assert!(err.to_string().contains("entr"), "{err}");
        }
    }
}
