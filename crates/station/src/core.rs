//! The station's shared core: the store behind a lock, and the stream of new record
//! entries that the event stream and the console follow.
//!
//! All writes go through [`Core::write`], which runs on a blocking thread (SQLite and
//! fsync block), commits, and publishes the entries it appended while still holding the
//! lock, so subscribers always see entries in index order.

use std::sync::{Arc, Mutex};

use hotline_store::{Store, StoreError, Tx};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::{now_ms, rfc3339};

/// Entries a slow event-stream subscriber may fall behind before it re-reads the store.
#[allow(non_upper_case_globals)]
pub const event_backlog_max: usize = 4096;

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

impl Journal<'_> {
    /// Appends `body` (a JSON object) to the record as an entry of `kind`, adding the
    /// entry's kind and time. Returns the entry index.
    pub fn append(&mut self, kind: &str, mut body: Value) -> Result<i64, StoreError> {
        if let Value::Object(map) = &mut body {
            map.insert("kind".into(), Value::from(kind));
            map.insert("at".into(), Value::from(rfc3339(self.now_ms)));
        }
        let text = body.to_string();
        let idx = self.tx.append_entry(self.now_ms, kind, &text)?;
        self.appended.push(Published { idx, kind: kind.to_owned(), body: text });
        Ok(idx)
    }
}

pub struct Core {
    pub name: String,
    pub lang: String,
    store: Arc<Mutex<Store>>,
    pub entries: broadcast::Sender<Published>,
}

impl Core {
    pub fn new(name: String, lang: String, store: Store) -> Arc<Core> {
        let (entries, _) = broadcast::channel(event_backlog_max);
        Arc::new(Core { name, lang, store: Arc::new(Mutex::new(store)), entries })
    }

    /// Runs `f` in one transaction on a blocking thread, commits, then publishes.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Journal<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        let entries = self.entries.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut appended = Vec::new();
            let value = store.write(|tx| {
                let mut journal = Journal { tx, now_ms: now_ms(), appended: Vec::new() };
                let value = f(&mut journal)?;
                appended = journal.appended;
                Ok(value)
            })?;
            for entry in appended {
                // No subscribers is fine: the entry is in the store either way.
                let _ = entries.send(entry);
            }
            Ok(value)
        })
        .await;
        result.unwrap_or_else(|e| Err(StoreError::Corrupt(format!("store task failed: {e}"))))
    }

    /// Runs `f` for reading on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            store.read(f)
        })
        .await;
        result.unwrap_or_else(|e| Err(StoreError::Corrupt(format!("store task failed: {e}"))))
    }
}
