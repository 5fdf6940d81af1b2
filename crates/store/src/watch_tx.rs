//! Typed operations for the watch: alarms, watch checks and the peer's presence.
//!
//! These tables are views kept beside the record: every change here is written in the
//! same transaction as the record entry that explains it, and a restarted station
//! rebuilds its watch (pending deadlines, open alarms, escalation progress) from them.

use rusqlite::{OptionalExtension, params};

use crate::tx::Tx;
use crate::{Direction, StoreError};

/// An alarm and where it is in its life: raised → acknowledged → cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmRow {
    pub id: String,
    /// One open alarm per key (see `hotline_watch::Cause::key`).
    pub key: String,
    pub cause: String,
    pub severity: String,
    pub peer: Option<String>,
    /// The cause's particulars as JSON (message id, precedence, direction, ...).
    pub detail: String,
    /// The alarm as operators read it, in the station's language.
    pub text: String,
    pub raised_ms: i64,
    pub acked_by: Option<String>,
    pub acked_ms: Option<i64>,
    /// `None` with `cleared_ms` set: the station cleared it when the cause ended.
    pub cleared_by: Option<String>,
    pub cleared_ms: Option<i64>,
    /// Escalation steps already notified.
    pub steps_done: i64,
}

impl AlarmRow {
    pub fn state(&self) -> &'static str {
        match (self.acked_ms, self.cleared_ms) {
            (_, Some(_)) => "cleared",
            (Some(_), None) => "acknowledged",
            (None, None) => "raised",
        }
    }
}

/// A watch check: ours to the peer (`out`) or the peer's to us (`in`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchCheckRow {
    pub id: String,
    pub peer: String,
    pub direction: Direction,
    pub sent_ms: i64,
    pub deadline_ms: i64,
    pub answered_ms: Option<i64>,
    pub answered_by: Option<String>,
    pub missed: bool,
}

impl WatchCheckRow {
    pub fn state(&self) -> &'static str {
        match (self.answered_ms, self.missed) {
            (Some(_), _) => "answered",
            (None, true) => "missed",
            (None, false) => "pending",
        }
    }
}

const ALARM_COLUMNS: &str =
    "id, key, cause, severity, peer, detail, text, raised_ms, acked_by, acked_ms, cleared_by, cleared_ms, steps_done";

fn alarm_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlarmRow> {
    Ok(AlarmRow {
        id: r.get(0)?,
        key: r.get(1)?,
        cause: r.get(2)?,
        severity: r.get(3)?,
        peer: r.get(4)?,
        detail: r.get(5)?,
        text: r.get(6)?,
        raised_ms: r.get(7)?,
        acked_by: r.get(8)?,
        acked_ms: r.get(9)?,
        cleared_by: r.get(10)?,
        cleared_ms: r.get(11)?,
        steps_done: r.get(12)?,
    })
}

const CHECK_COLUMNS: &str = "id, peer, direction, sent_ms, deadline_ms, answered_ms, answered_by, missed";

fn check_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WatchCheckRow> {
    Ok(WatchCheckRow {
        id: r.get(0)?,
        peer: r.get(1)?,
        direction: r.get(2)?,
        sent_ms: r.get(3)?,
        deadline_ms: r.get(4)?,
        answered_ms: r.get(5)?,
        answered_by: r.get(6)?,
        missed: r.get::<_, i64>(7)? != 0,
    })
}

impl Tx<'_> {
    // --- alarms ----------------------------------------------------------------------

    /// Records a raised alarm; `false` (and nothing written) if one with its key is open.
    pub fn insert_alarm(&self, a: &AlarmRow) -> Result<bool, StoreError> {
        if self.open_alarm(&a.key)?.is_some() {
            return Ok(false);
        }
        self.exec(
            &format!(
                "INSERT INTO alarms ({ALARM_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ),
            params![
                a.id,
                a.key,
                a.cause,
                a.severity,
                a.peer,
                a.detail,
                a.text,
                a.raised_ms,
                a.acked_by,
                a.acked_ms,
                a.cleared_by,
                a.cleared_ms,
                a.steps_done
            ],
        )?;
        Ok(true)
    }

    pub fn alarm(&self, id: &str) -> Result<Option<AlarmRow>, StoreError> {
        Ok(self
            .tx
            .query_row(&format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE id = ?1"), [id], alarm_from_row)
            .optional()?)
    }

    /// The open alarm with this key, if any.
    pub fn open_alarm(&self, key: &str) -> Result<Option<AlarmRow>, StoreError> {
        Ok(self
            .tx
            .query_row(
                &format!("SELECT {ALARM_COLUMNS} FROM alarms WHERE key = ?1 AND cleared_ms IS NULL"),
                [key],
                alarm_from_row,
            )
            .optional()?)
    }

    /// Alarms, open ones first, newest first; at most `limit`.
    pub fn alarms(&self, open_only: bool, limit: i64) -> Result<Vec<AlarmRow>, StoreError> {
        let filter = if open_only { "WHERE cleared_ms IS NULL" } else { "" };
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {ALARM_COLUMNS} FROM alarms {filter} ORDER BY cleared_ms IS NOT NULL, raised_ms DESC LIMIT ?1"
        ))?;
        let rows = st.query_map([limit], alarm_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks the alarm acknowledged; `false` if it was already acknowledged or cleared.
    pub fn ack_alarm(&self, id: &str, by: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE alarms SET acked_by = ?2, acked_ms = ?3 WHERE id = ?1 AND acked_ms IS NULL AND cleared_ms IS NULL",
            params![id, by, at_ms],
        )?;
        Ok(n == 1)
    }

    /// Marks the alarm cleared (by a person, or by the station when `by` is `None`);
    /// `false` if it was already cleared.
    pub fn clear_alarm(&self, id: &str, by: Option<&str>, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE alarms SET cleared_by = ?2, cleared_ms = ?3 WHERE id = ?1 AND cleared_ms IS NULL",
            params![id, by, at_ms],
        )?;
        Ok(n == 1)
    }

    /// A coalesced alarm's new text and detail (its count changed); `false` if it is not open.
    pub fn update_alarm(&self, id: &str, text: &str, detail: &str) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE alarms SET text = ?2, detail = ?3 WHERE id = ?1 AND cleared_ms IS NULL",
            params![id, text, detail],
        )?;
        Ok(n == 1)
    }

    pub fn set_alarm_steps(&self, id: &str, steps_done: i64) -> Result<(), StoreError> {
        self.exec("UPDATE alarms SET steps_done = max(steps_done, ?2) WHERE id = ?1", params![id, steps_done])?;
        Ok(())
    }

    // --- watch checks ----------------------------------------------------------------

    /// Records a watch check; `false` if one with this id exists (a repeated item).
    pub fn insert_watch_check(&self, c: &WatchCheckRow) -> Result<bool, StoreError> {
        let n = self.exec(
            &format!("INSERT OR IGNORE INTO watch_checks ({CHECK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![c.id, c.peer, c.direction, c.sent_ms, c.deadline_ms, c.answered_ms, c.answered_by, c.missed as i64],
        )?;
        Ok(n == 1)
    }

    pub fn watch_check(&self, id: &str) -> Result<Option<WatchCheckRow>, StoreError> {
        Ok(self
            .tx
            .query_row(&format!("SELECT {CHECK_COLUMNS} FROM watch_checks WHERE id = ?1"), [id], check_from_row)
            .optional()?)
    }

    /// Marks the check answered; `false` if it already was.
    pub fn answer_watch_check(&self, id: &str, by: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE watch_checks SET answered_ms = ?3, answered_by = ?2 WHERE id = ?1 AND answered_ms IS NULL",
            params![id, by, at_ms],
        )?;
        Ok(n == 1)
    }

    /// Marks the check missed; `false` if it was answered or already missed.
    pub fn miss_watch_check(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute("UPDATE watch_checks SET missed = 1 WHERE id = ?1 AND answered_ms IS NULL AND missed = 0", [id])?;
        Ok(n == 1)
    }

    /// Checks neither answered nor missed, oldest first.
    pub fn pending_watch_checks(&self) -> Result<Vec<WatchCheckRow>, StoreError> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {CHECK_COLUMNS} FROM watch_checks WHERE answered_ms IS NULL AND missed = 0 ORDER BY sent_ms"
        ))?;
        let rows = st.query_map([], check_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest check on `peer`'s line in `direction`.
    pub fn last_watch_check(&self, peer: &str, direction: Direction) -> Result<Option<WatchCheckRow>, StoreError> {
        Ok(self
            .tx
            .query_row(
                &format!(
                    "SELECT {CHECK_COLUMNS} FROM watch_checks WHERE peer = ?1 AND direction = ?2 \
                     ORDER BY sent_ms DESC LIMIT 1"
                ),
                params![peer, direction],
                check_from_row,
            )
            .optional()?)
    }

    /// Checks on `peer`'s line sent at or after `since_ms`, oldest first; at most `limit`.
    pub fn watch_checks_since(&self, peer: &str, since_ms: i64, limit: i64) -> Result<Vec<WatchCheckRow>, StoreError> {
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {CHECK_COLUMNS} FROM watch_checks WHERE peer = ?1 AND sent_ms >= ?2 ORDER BY sent_ms LIMIT ?3"
        ))?;
        let rows = st.query_map(params![peer, since_ms, limit], check_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // --- acknowledgment times and presence --------------------------------------------

    /// Messages of `precedence` on any line not yet acknowledged, oldest first, as (peer,
    /// id, direction, deadline_from_ms): what the watch needs to restore their deadlines.
    /// A deadline runs from the creation of our own messages and from when we received
    /// the peer's (its `created_ms` is its claim: a backdated message must not become
    /// overdue at our next start-up either). A partial index keeps this cheap however
    /// many messages the record holds.
    pub fn unacknowledged_messages(
        &self,
        precedence: &str,
    ) -> Result<Vec<(String, String, Direction, i64)>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT peer, id, direction,
                    CASE direction WHEN 'in' THEN coalesce(delivered_ms, created_ms) ELSE created_ms END
             FROM messages WHERE acked_ms IS NULL AND precedence = ?1 ORDER BY pos",
        )?;
        let rows = st.query_map(params![precedence], |r| {
            let direction: String = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, if direction == "in" { Direction::In } else { Direction::Out }, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// (direction, precedence, created_ms, acked_ms) of `peer`'s line's messages created
    /// at or after `since_ms`; `acked_ms` is `None` while unacknowledged.
    #[allow(clippy::type_complexity)]
    pub fn ack_times_since(
        &self,
        peer: &str,
        since_ms: i64,
    ) -> Result<Vec<(String, String, i64, Option<i64>)>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT direction, precedence, created_ms, acked_ms FROM messages WHERE peer = ?1 AND created_ms >= ?2",
        )?;
        let rows = st.query_map(params![peer, since_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn set_peer_presence(&self, peer: &str, on_watch: i64, since_ms: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO peer_presence (peer, on_watch, since_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT (peer) DO UPDATE SET on_watch = ?2, since_ms = ?3",
            params![peer, on_watch, since_ms],
        )?;
        Ok(())
    }

    /// What `peer` last reported: operators on watch, and since when.
    pub fn peer_presence(&self, peer: &str) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(self
            .tx
            .query_row("SELECT on_watch, since_ms FROM peer_presence WHERE peer = ?1", [peer], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }
}
