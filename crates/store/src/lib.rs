//! The station's durable state.
//!
//! One SQLite database per station, in WAL mode with `synchronous=FULL`, so that a
//! committed transaction survives a power cut: "delivered" is only ever said about
//! something a commit has put on disk. Everything that must change together changes in one
//! transaction ([`Store::write`]): an accepted message, its outbox item and its record
//! entry; a received item, its inbox position, the message and its record entry.
//!
//! The record (`entries`) is the append-only list of everything that happened, and the
//! source of truth; message rows are a view written in the same transaction as the entry
//! that explains them. This crate stores entry bodies as opaque text: it knows nothing of
//! JSON, HTTP or the async runtime, and is driven from a blocking thread by the station.

mod accounts_tx;
mod backup;
mod calls_tx;
mod line_restart_tx;
mod recordings_tx;
mod rows;
mod schema;
mod tx;
mod watch_tx;

pub use accounts_tx::{TokenInfo, UserInfo, UserRow};
pub use backup::{
    BackupConfig, Snapshot, backup_busy_steps_max, backup_database, backup_step_pages, backup_step_pause_ms,
    integrity_check,
};
pub use calls_tx::CallRow;
pub use line_restart_tx::LineRestart;
pub use recordings_tx::{CallRecordingRow, DueRecording, RecordingStop, StopSide};
pub use rows::{ConflictRow, Direction, Entry, MessageRow, NoticeRow, Role, User};
pub use tx::Tx;
pub use watch_tx::{AlarmRow, WatchCheckRow};

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// Why a storage operation failed.
/// Prepared statements kept per connection.
#[allow(non_upper_case_globals)]
const prepared_statements_max: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the disk is full: nothing was written")]
    DiskFull,
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("the database was written by a newer hotline (schema version {found}, this build knows {known})")]
    NewerSchema { found: i64, known: i64 },
    /// Stored data contradicts itself: the disk (or someone editing the file) is at fault.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The station broke one of its own rules — a defect, not the disk's fault. Returned
    /// instead of panicking, so the task that asked (a line task, a request) lives on.
    #[error("internal error (a defect): {0}")]
    Invariant(String),
    /// The database stayed too busy for a long operation (an online backup); try again.
    #[error("the database is busy: {0}")]
    Busy(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && f.code == rusqlite::ErrorCode::DiskFull
        {
            return StoreError::DiskFull;
        }
        StoreError::Sqlite(e)
    }
}

/// An open station database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        Self::prepare(conn)
    }

    /// An in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(conn: Connection) -> Result<Store, StoreError> {
        // WAL lets readers run beside the writer; FULL makes every commit durable, which
        // is what a receipt promises. busy_timeout covers a CLI command (user add) run
        // while the station is serving.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Room for every statement the store runs (see `Tx::exec`).
        conn.set_prepared_statement_cache_capacity(prepared_statements_max);
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut store = Store { conn };
        schema::migrate(&mut store.conn)?;
        Ok(store)
    }

    /// The database file, or `None` for an in-memory database.
    pub fn path(&self) -> Option<PathBuf> {
        self.conn.path().filter(|p| !p.is_empty()).map(PathBuf::from)
    }

    /// Runs `f` in one transaction: all of it is committed (and synced), or none of it.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&Tx::new(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` for reading. Reads see the last committed state.
    pub fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        let value = f(&Tx::new(&tx))?;
        tx.commit()?;
        Ok(value)
    }
}

#[cfg(test)]
mod migration_tests;
#[cfg(test)]
mod tests;
