//! Typed operations for call recordings: this station's sealed recording of each call as
//! its `call.recorded` entry states it (written in the same transaction), and what its
//! retention needs — how long we said we keep it, how long the peer said it keeps its
//! own, and when the file was deleted. The row, with the hashes, outlives the file: a
//! deleted recording stays provable (the peer's record holds the same hashes), only not
//! playable.

use rusqlite::{OptionalExtension as _, params};

use crate::StoreError;
use crate::tx::Tx;

/// One day, the unit of retention.
#[allow(non_upper_case_globals)]
const day_ms: i64 = 24 * 3600 * 1000;

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
    /// How long we said (in the `call_recorded` item) we keep the file.
    pub retention_days: u32,
    /// When the file was deleted (by retention or by a supervisor); `None` while kept.
    pub deleted_ms: Option<i64>,
    /// Why: `retention`, or `by supervisor NAME: REASON`.
    pub deleted_why: Option<String>,
    /// How long the peer said it keeps its own recording of the call, if it said so (read
    /// from its statement; not written by [`Tx::put_call_recording`]).
    pub peer_retention_days: Option<u32>,
}

impl CallRecordingRow {
    /// Until when the file is kept: as long as we said, and as long as the peer said.
    pub fn kept_until_ms(&self) -> i64 {
        let days = self.retention_days.max(self.peer_retention_days.unwrap_or(0));
        self.recorded_ms.saturating_add(i64::from(days).saturating_mul(day_ms))
    }
}

/// A recording whose retention has run out: kept for at least `kept_days` (ours or the
/// peer's, whichever is longer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueRecording {
    pub call: String,
    pub peer: String,
    pub sha256: String,
    pub bytes: u64,
    pub recorded_ms: i64,
    pub kept_days: u32,
}

/// Where a call's recording stopped: our recorder, or the peer's (as it said).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSide {
    Here,
    Peer,
}

impl StopSide {
    pub fn as_str(self) -> &'static str {
        match self {
            StopSide::Here => "here",
            StopSide::Peer => "peer",
        }
    }
}

/// A recording that stopped before its call ended: where, when (by this station's
/// clock), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingStop {
    pub side: StopSide,
    pub stopped_ms: i64,
    pub why: String,
}

fn recording_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallRecordingRow> {
    Ok(CallRecordingRow {
        call: r.get(0)?,
        sha256: r.get(1)?,
        bytes: r.get::<_, i64>(2)?.max(0) as u64,
        duration_ms: r.get::<_, i64>(3)?.max(0) as u64,
        cut_off: r.get::<_, i64>(4)? != 0,
        recorded_ms: r.get(5)?,
        retention_days: days(r.get(6)?),
        deleted_ms: r.get(7)?,
        deleted_why: r.get(8)?,
        peer_retention_days: r.get::<_, Option<i64>>(9)?.map(days),
    })
}

fn days(stored: i64) -> u32 {
    stored.clamp(0, i64::from(u32::MAX)) as u32
}

impl Tx<'_> {
    /// Keeps a call's recording (a recording stated again, after a crash, replaces it).
    pub fn put_call_recording(&self, r: &CallRecordingRow) -> Result<(), StoreError> {
        let (bytes, duration_ms) = (i64::try_from(r.bytes), i64::try_from(r.duration_ms));
        let (Ok(bytes), Ok(duration_ms)) = (bytes, duration_ms) else {
            return Err(StoreError::Invariant("a recording's size or duration is out of range".into()));
        };
        self.exec(
            "INSERT INTO call_recordings (call, sha256, bytes, duration_ms, cut_off, recorded_ms, retention_days) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (call) DO UPDATE SET sha256 = ?2, bytes = ?3, \
             duration_ms = ?4, cut_off = ?5, recorded_ms = ?6, retention_days = ?7",
            params![r.call, r.sha256, bytes, duration_ms, r.cut_off as i64, r.recorded_ms, r.retention_days],
        )?;
        Ok(())
    }

    pub fn call_recording(&self, call: &str) -> Result<Option<CallRecordingRow>, StoreError> {
        Ok(self
            .row(
                "SELECT r.call, r.sha256, r.bytes, r.duration_ms, r.cut_off, r.recorded_ms, r.retention_days, \
                        r.deleted_ms, r.deleted_why, p.days \
                 FROM call_recordings r LEFT JOIN peer_recording_retention p ON p.call = r.call WHERE r.call = ?1",
                [call],
                recording_from_row,
            )
            .optional()?)
    }

    /// The peer said it keeps its recording of `call` for `days`. A statement made again
    /// never shortens what an earlier one said: our retention follows the longest.
    pub fn put_peer_recording_retention(&self, call: &str, days: u32) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO peer_recording_retention (call, days) VALUES (?1, ?2) \
             ON CONFLICT (call) DO UPDATE SET days = MAX(days, ?2)",
            params![call, days],
        )?;
        Ok(())
    }

    /// At most `limit` recordings still kept whose retention ran out by `now_ms`, oldest
    /// first: kept at least as long as we said, and as long as the peer said it keeps
    /// its own.
    pub fn recordings_due(&self, now_ms: i64, limit: i64) -> Result<Vec<DueRecording>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT r.call, c.peer, r.sha256, r.bytes, r.recorded_ms, \
                    MAX(r.retention_days, COALESCE(p.days, 0)) AS kept_days \
             FROM call_recordings r JOIN calls c ON c.id = r.call \
             LEFT JOIN peer_recording_retention p ON p.call = r.call \
             WHERE r.deleted_ms IS NULL \
               AND r.recorded_ms + MAX(r.retention_days, COALESCE(p.days, 0)) * ?1 <= ?2 \
             ORDER BY r.recorded_ms LIMIT ?3",
        )?;
        let rows = st.query_map(params![day_ms, now_ms, limit], |r| {
            Ok(DueRecording {
                call: r.get(0)?,
                peer: r.get(1)?,
                sha256: r.get(2)?,
                bytes: r.get::<_, i64>(3)?.max(0) as u64,
                recorded_ms: r.get(4)?,
                kept_days: days(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A call's recording stopped at `side`; only the first stop of each side is kept.
    pub fn put_recording_stop(&self, call: &str, stop: &RecordingStop) -> Result<(), StoreError> {
        self.exec(
            "INSERT OR IGNORE INTO call_recording_stops (call, side, stopped_ms, why) VALUES (?1, ?2, ?3, ?4)",
            params![call, stop.side.as_str(), stop.stopped_ms, stop.why],
        )?;
        Ok(())
    }

    /// Where a call's recording stopped before the call ended, here first.
    pub fn recording_stops(&self, call: &str) -> Result<Vec<RecordingStop>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached("SELECT side, stopped_ms, why FROM call_recording_stops WHERE call = ?1 ORDER BY side")?;
        let rows = st.query_map([call], |r| {
            let side: String = r.get(0)?;
            Ok(RecordingStop {
                // The CHECK constraint allows only these two.
                side: if side == "here" { StopSide::Here } else { StopSide::Peer },
                stopped_ms: r.get(1)?,
                why: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks a call's recording deleted at `now_ms` for `why`; false when there is none,
    /// or it was deleted already.
    pub fn mark_recording_deleted(&self, call: &str, now_ms: i64, why: &str) -> Result<bool, StoreError> {
        let changed = self.exec(
            "UPDATE call_recordings SET deleted_ms = ?2, deleted_why = ?3 WHERE call = ?1 AND deleted_ms IS NULL",
            params![call, now_ms, why],
        )?;
        Ok(changed == 1)
    }
}
