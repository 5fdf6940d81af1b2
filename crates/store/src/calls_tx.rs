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
}
