//! The station's shared core: the store behind a lock, and the stream of new record
//! entries that the event stream and the console follow.
//!
//! All writes go through [`Core::write`], which runs on a blocking thread (SQLite and
//! fsync block), commits, adds the new entries' leaves to the in-memory Merkle tree and
//! publishes the entries while still holding the lock, so the tree always matches the
//! committed record and subscribers see entries in index order. Checkpoints are signed
//! here too, under the same lock, so a checkpoint's size and root always agree.

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

use crate::{now_ms, rfc3339};

/// Entries a slow event-stream subscriber may fall behind before it re-reads the store.
#[allow(non_upper_case_globals)]
pub const event_backlog_max: usize = 4096;

/// How long writes must succeed before a storage failure counts as over.
#[allow(non_upper_case_globals)]
pub const storage_recovery_ms: i64 = 5000;

/// A record entry as published to subscribers.
#[derive(Clone, Debug)]
pub struct Published {
    pub idx: i64,
    pub kind: String,
    /// The entry's JSON text.
    pub body: String,
}

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
    pub fn append(&mut self, kind: &str, body: Value) -> Result<i64, StoreError> {
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
}

impl Core {
    /// Wraps an open store, rebuilding the Merkle tree from every entry.
    pub fn new(name: String, lang: String, mut store: Store) -> Result<Arc<Core>, StoreError> {
        let mut tree = MerkleTree::new();
        let mut gap = None;
        store.read(|tx| {
            tx.for_each_entry_body(|idx, body| {
                if idx != tree.len() as i64 + 1 && gap.is_none() {
                    gap = Some(idx);
                }
                tree.push(leaf_hash(body.as_bytes()));
            })
        })?;
        if let Some(idx) = gap {
            return Err(StoreError::Corrupt(format!("the record skips to entry {idx}")));
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
                .map_err(|e| StoreError::Corrupt(format!("cannot sign checkpoint: {e}")))?;
            let at = now_ms();
            store.write(|tx| tx.insert_checkpoint(size, &note, at))?;
            Ok(Some((size, note)))
        })
        .await;
        result.unwrap_or_else(|e| Err(StoreError::Corrupt(format!("store task failed: {e}"))))
    }

    /// The consistency proof between two tree sizes of our record.
    pub async fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.with_tree(move |tree| {
            tree.consistency_proof(old_size, new_size)
                .map_err(|e| StoreError::Corrupt(format!("consistency proof: {e}")))
        })
        .await
    }

    /// The root of our record at `size`.
    pub async fn root_at(&self, size: u64) -> Result<Hash, StoreError> {
        self.with_tree(move |tree| tree.root_at(size).map_err(|e| StoreError::Corrupt(format!("root at {size}: {e}"))))
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
        result.unwrap_or_else(|e| Err(StoreError::Corrupt(format!("store task failed: {e}"))))
    }

    /// Runs `f` in one transaction on a blocking thread, commits, then publishes.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Journal<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let entries = self.entries.clone();
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
                // No subscribers is fine: the entry is in the store either way.
                let _ = entries.send(entry);
            }
            Ok(value)
        })
        .await;
        let result = result.unwrap_or_else(|e| Err(StoreError::Corrupt(format!("store task failed: {e}"))));
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
        result.unwrap_or_else(|e| Err(StoreError::Corrupt(format!("store task failed: {e}"))))
    }
}
