//! Typed operations for voice calls: each call's latest state, kept beside the record
//! (written in the same transaction as the `call.*` entry that changed it) so a restarted
//! station rebuilds its calls without replaying the record.

use rusqlite::params;

use crate::StoreError;
use crate::tx::Tx;

/// A call as stored: its line, whether it still holds the line, and its state as JSON
/// (opaque here: the station's call crate reads it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRow {
    pub id: String,
    pub peer: String,
    pub live: bool,
    pub call: String,
    pub started_ms: i64,
    pub updated_ms: i64,
}

/// This station's sealed recording of a call, as its `call.recorded` entry states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecordingRow {
    pub call: String,
    /// The file's SHA-256, lower-case hex.
    pub sha256: String,
    pub bytes: u64,
    pub duration_ms: u64,
    pub cut_off: bool,
    pub recorded_ms: i64,
}

fn call_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        id: r.get(0)?,
        peer: r.get(1)?,
        live: r.get::<_, i64>(2)? != 0,
        call: r.get(3)?,
        started_ms: r.get(4)?,
        updated_ms: r.get(5)?,
    })
}

impl Tx<'_> {
    pub fn upsert_call(&self, c: &CallRow) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO calls (id, peer, live, call, started_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET live = ?3, call = ?4, updated_ms = ?6",
            params![c.id, c.peer, c.live as i64, c.call, c.started_ms, c.updated_ms],
        )?;
        Ok(())
    }

    /// The newest `limit` calls of the line to `peer`, oldest first (what a line task
    /// restores: its live call, if any, and recent history).
    pub fn calls_of(&self, peer: &str, limit: i64) -> Result<Vec<CallRow>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, peer, live, call, started_ms, updated_ms FROM \
             (SELECT * FROM calls WHERE peer = ?1 ORDER BY started_ms DESC, id DESC LIMIT ?2) ORDER BY started_ms, id",
        )?;
        let rows = st.query_map(params![peer, limit], call_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// At most `limit` calls of every line, newest first; only live ones with `live_only`.
    pub fn calls(&self, live_only: bool, limit: i64) -> Result<Vec<CallRow>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, peer, live, call, started_ms, updated_ms FROM calls WHERE live >= ?1 \
             ORDER BY started_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![live_only as i64, limit], call_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn call(&self, id: &str) -> Result<Option<CallRow>, StoreError> {
        use rusqlite::OptionalExtension as _;
        Ok(self
            .tx
            .query_row(
                "SELECT id, peer, live, call, started_ms, updated_ms FROM calls WHERE id = ?1",
                [id],
                call_from_row,
            )
            .optional()?)
    }

    /// Keeps a call's recording (a recording stated again, after a crash, replaces it).
    pub fn put_call_recording(&self, r: &CallRecordingRow) -> Result<(), StoreError> {
        let (bytes, duration_ms) = (i64::try_from(r.bytes), i64::try_from(r.duration_ms));
        let (Ok(bytes), Ok(duration_ms)) = (bytes, duration_ms) else {
            return Err(StoreError::Invariant("a recording's size or duration is out of range".into()));
        };
        self.exec(
            "INSERT INTO call_recordings (call, sha256, bytes, duration_ms, cut_off, recorded_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call) DO UPDATE SET sha256 = ?2, bytes = ?3, \
             duration_ms = ?4, cut_off = ?5, recorded_ms = ?6",
            params![r.call, r.sha256, bytes, duration_ms, r.cut_off as i64, r.recorded_ms],
        )?;
        Ok(())
    }

    pub fn call_recording(&self, call: &str) -> Result<Option<CallRecordingRow>, StoreError> {
        use rusqlite::OptionalExtension as _;
        Ok(self
            .tx
            .query_row(
                "SELECT call, sha256, bytes, duration_ms, cut_off, recorded_ms FROM call_recordings WHERE call = ?1",
                [call],
                |r| {
                    Ok(CallRecordingRow {
                        call: r.get(0)?,
                        sha256: r.get(1)?,
                        bytes: r.get::<_, i64>(2)?.max(0) as u64,
                        duration_ms: r.get::<_, i64>(3)?.max(0) as u64,
                        cut_off: r.get::<_, i64>(4)? != 0,
                        recorded_ms: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }
}
