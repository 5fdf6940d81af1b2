//! Typed operations inside one transaction.
//!
//! Every method maps to one or two SQL statements; none commits. The station composes
//! them inside [`crate::Store::write`] so that, for example, a message row, its outbox item
//! and its record entry appear together or not at all.

use hotline_proto::{LANES, Lane, Restored};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::StoreError;

use crate::rows::{
    ConflictRow, Entry, MESSAGE_COLUMNS, MessageRow, NoticeRow, Role, User, conflict_from_row, message_from_row,
    notice_from_row,
};

/// Operations inside one transaction.
pub struct Tx<'a> {
    pub(crate) tx: &'a Transaction<'a>,
}

impl<'a> Tx<'a> {
    /// Runs a statement from the connection's prepared-statement cache: the same few
    /// statements run for every message, and preparing them each time cost about a tenth
    /// of a receiving station's CPU (benchmark profile).
    pub(crate) fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    /// One row from a cached statement (see [`Tx::exec`]).
    pub(crate) fn row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.tx.prepare_cached(sql)?.query_row(params, f)
    }

    pub(crate) fn new(tx: &'a Transaction<'a>) -> Tx<'a> {
        Tx { tx }
    }

    /// The underlying transaction, for tests that must reach past the typed API.
    #[cfg(test)]
    pub(crate) fn raw(&self) -> &Transaction<'a> {
        self.tx
    }

    // --- operators, tokens, sessions -------------------------------------------------

    /// Adds an operator; `false` if the name is taken (nothing changes).
    pub fn add_user(&self, name: &str, role: Role, password_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "INSERT INTO users (name, role, password_hash, created_ms) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (name) DO NOTHING",
            params![name, role.as_str(), password_hash, now_ms],
        )?;
        Ok(n == 1)
    }

    /// Sets a new password hash and role for an existing operator.
    pub fn set_password(&self, name: &str, role: Role, password_hash: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE users SET role = ?2, password_hash = ?3 WHERE name = ?1",
            params![name, role.as_str(), password_hash],
        )?;
        Ok(())
    }

    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = self
            .tx
            .query_row(
                "SELECT name, role, password_hash FROM users WHERE name = ?1 AND removed_ms IS NULL AND disabled_ms IS NULL",
                [name],
                |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                },
            )
            .optional()?;
        row.map(|(name, role, password_hash)| {
            let role = crate::accounts_tx::parse_role(&name, role)?;
            Ok(User { name, role, password_hash })
        })
        .transpose()
    }

    /// A token without label or expiry (its id is a fresh UUID).
    pub fn add_token(&self, hash: &[u8; 32], user: &str, now_ms: i64) -> Result<(), StoreError> {
        self.add_token_with(hash, &uuid_v4(hash), user, None, None, now_ms)
    }

    /// The user of a token that is neither revoked nor expired at `now_ms` (and whose user
    /// is neither disabled nor removed).
    pub fn token_user(&self, hash: &[u8; 32], now_ms: i64) -> Result<Option<User>, StoreError> {
        let name: Option<String> = self
            .row(
                "SELECT user FROM tokens WHERE hash = ?1 AND revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?2)",
                params![&hash[..], now_ms],
                |r| r.get(0),
            )
            .optional()?;
        match name {
            Some(name) => self.user(&name),
            None => Ok(None),
        }
    }

    pub fn add_session(&self, hash: &[u8; 32], user: &str, now_ms: i64, expires_ms: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO sessions (hash, user, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![&hash[..], user, now_ms, expires_ms],
        )?;
        Ok(())
    }

    /// The user of a session that has not expired at `now_ms`.
    pub fn session_user(&self, hash: &[u8; 32], now_ms: i64) -> Result<Option<User>, StoreError> {
        let name: Option<String> = self
            .tx
            .query_row(
                "SELECT user FROM sessions WHERE hash = ?1 AND expires_ms > ?2",
                params![&hash[..], now_ms],
                |r| r.get(0),
            )
            .optional()?;
        match name {
            Some(name) => self.user(&name),
            None => Ok(None),
        }
    }

    pub fn delete_session(&self, hash: &[u8; 32]) -> Result<(), StoreError> {
        self.exec("DELETE FROM sessions WHERE hash = ?1", [&hash[..]])?;
        Ok(())
    }

    /// Users with a session that is still valid, and how many sessions each has.
    pub fn active_session_users(&self, now_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached("SELECT user, count(*) FROM sessions WHERE expires_ms > ?1 GROUP BY user ORDER BY user")?;
        let rows = st.query_map([now_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // --- the record ------------------------------------------------------------------

    /// Appends an entry to the record; returns its index (1-based, gap-free).
    pub fn append_entry(&self, at_ms: i64, kind: &str, body: &str) -> Result<i64, StoreError> {
        self.exec("INSERT INTO entries (at_ms, kind, body) VALUES (?1, ?2, ?3)", params![at_ms, kind, body])?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Entries with index greater than `after`, oldest first, at most `limit`.
    pub fn entries_after(&self, after: i64, limit: i64) -> Result<Vec<Entry>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached("SELECT idx, at_ms, kind, body FROM entries WHERE idx > ?1 ORDER BY idx LIMIT ?2")?;
        let rows = st.query_map(params![after, limit], |r| {
            Ok(Entry { idx: r.get(0)?, at_ms: r.get(1)?, kind: r.get(2)?, body: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The bodies of the entries of `kind` with index at most `up_to`, oldest first, at
    /// most `limit` (a full scan: for rare kinds read once, as an export's `line.removed`).
    pub fn entry_bodies_of_kind(&self, kind: &str, up_to: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let mut st =
            self.tx.prepare_cached("SELECT body FROM entries WHERE kind = ?1 AND idx <= ?2 ORDER BY idx LIMIT ?3")?;
        let rows = st.query_map(params![kind, up_to, limit], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn entry_count(&self) -> Result<i64, StoreError> {
        Ok(self.row("SELECT count(*) FROM entries", [], |r| r.get(0))?)
    }

    /// Every entry body in index order, for rebuilding the Merkle tree at start-up.
    pub fn for_each_entry_body(&self, f: impl FnMut(i64, &str)) -> Result<(), StoreError> {
        self.for_each_entry_body_in(1, i64::MAX, f)
    }

    /// The largest entry index (0 for an empty record).
    pub fn last_entry_idx(&self) -> Result<i64, StoreError> {
        Ok(self.tx.query_row("SELECT coalesce(max(idx), 0) FROM entries", [], |r| r.get(0))?)
    }

    /// As `for_each_entry_body`, for the entries with `from <= idx <= to`.
    pub fn for_each_entry_body_in(&self, from: i64, to: i64, mut f: impl FnMut(i64, &str)) -> Result<(), StoreError> {
        let mut st =
            self.tx.prepare_cached("SELECT idx, body FROM entries WHERE idx BETWEEN ?1 AND ?2 ORDER BY idx")?;
        let mut rows = st.query(params![from, to])?;
        while let Some(row) = rows.next()? {
            let idx: i64 = row.get(0)?;
            // Borrowed from SQLite's row buffer: no allocation per entry at start-up.
            let body = row.get_ref(1)?.as_str().map_err(|e| StoreError::Corrupt(format!("entry {idx}: {e}")))?;
            f(idx, body);
        }
        Ok(())
    }

    // --- checkpoints and witnessing --------------------------------------------------

    pub fn insert_checkpoint(&self, size: u64, note: &str, now_ms: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO checkpoints (size, note, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT (size) DO NOTHING",
            params![size as i64, note, now_ms],
        )?;
        Ok(())
    }

    /// All our checkpoints, smallest first: (size, note).
    pub fn checkpoints(&self) -> Result<Vec<(u64, String)>, StoreError> {
        let mut st = self.tx.prepare_cached("SELECT size, note FROM checkpoints ORDER BY size")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Our checkpoints of sizes `after < size <= up_to`, smallest first, at most `limit`:
    /// a page of them, for an export read in bounded transactions.
    pub fn checkpoints_between(&self, after: u64, up_to: u64, limit: i64) -> Result<Vec<(u64, String)>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT size, note FROM checkpoints WHERE size > ?1 AND size <= ?2 ORDER BY size LIMIT ?3",
        )?;
        let rows = st.query_map(params![after as i64, up_to as i64, limit], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        Ok(self.row("SELECT note FROM checkpoints WHERE size = ?1", [size as i64], |r| r.get(0)).optional()?)
    }

    pub fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        Ok(self
            .tx
            .query_row("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })
            .optional()?)
    }

    pub fn insert_cosignature(&self, size: u64, peer: &str, line: &str, now_ms: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO cosignatures (size, peer, line, received_ms) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (size, peer) DO NOTHING",
            params![size as i64, peer, line, now_ms],
        )?;
        Ok(())
    }

    /// Cosignature lines on our checkpoint of `size`, by peer name.
    pub fn cosignatures(&self, size: u64) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self.tx.prepare_cached("SELECT peer, line FROM cosignatures WHERE size = ?1 ORDER BY peer")?;
        let rows = st.query_map([size as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The largest of our tree sizes that `peer` has cosigned (0: none).
    pub fn last_cosigned_size(&self, peer: &str) -> Result<u64, StoreError> {
        let size: i64 =
            self.tx
                .query_row("SELECT coalesce(max(size), 0) FROM cosignatures WHERE peer = ?1", [peer], |r| r.get(0))?;
        Ok(size as u64)
    }

    /// As a witness: records a checkpoint `peer` sent, cosigned or refused.
    pub fn insert_peer_checkpoint(
        &self,
        peer: &str,
        size: u64,
        note: &str,
        cosigned: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO peer_checkpoints (peer, size, note, cosigned, received_ms) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT DO NOTHING",
            params![peer, size as i64, note, cosigned, now_ms],
        )?;
        Ok(())
    }

    /// As a witness: the last checkpoint of `peer` that we cosigned.
    pub fn last_witnessed(&self, peer: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT note FROM peer_checkpoints WHERE peer = ?1 AND cosigned = 1 ORDER BY size DESC LIMIT 1",
                [peer],
                |r| r.get(0),
            )
            .optional()?)
    }

    // --- notices and conflicts --------------------------------------------------------

    pub fn insert_notice(&self, n: &NoticeRow) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO notices (id, version, peer, side, state, body, end_ms, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![n.id, n.version as i64, n.peer, n.side, n.state, n.body, n.end_ms, n.created_ms],
        )?;
        Ok(())
    }

    /// Records an operator's acknowledgment of version `version` of notice `id`; `false`
    /// if that version does not exist or was already acknowledged.
    pub fn ack_notice(&self, id: &str, version: u64, by: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE notices SET acked_by = ?3, acked_ms = ?4 WHERE id = ?1 AND version = ?2 AND acked_ms IS NULL",
            params![id, version as i64, by, at_ms],
        )?;
        Ok(n == 1)
    }

    /// The latest version of every notice on the line to `peer`, oldest first.
    pub fn latest_notices(&self, peer: &str) -> Result<Vec<NoticeRow>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, version, peer, side, \
             CASE WHEN state != 'cancelled' AND id IN (SELECT id FROM notice_expiries) THEN 'expired' ELSE state END, \
             body, end_ms, created_ms, acked_by, acked_ms FROM notices n \
             WHERE peer = ?1 AND version = (SELECT max(version) FROM notices WHERE id = n.id) \
             ORDER BY created_ms, id",
        )?;
        let rows = st.query_map([peer], notice_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn latest_notice(&self, id: &str) -> Result<Option<NoticeRow>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT id, version, peer, side, \
                 CASE WHEN state != 'cancelled' AND id IN (SELECT id FROM notice_expiries) THEN 'expired' ELSE state END, \
                 body, end_ms, created_ms, acked_by, acked_ms FROM notices \
                 WHERE id = ?1 ORDER BY version DESC LIMIT 1",
                [id],
                notice_from_row,
            )
            .optional()?)
    }

    /// Marks notice `id` expired (its state reads `expired` from now on unless it was
    /// cancelled); `false` if it already was.
    pub fn expire_notice(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute("INSERT OR IGNORE INTO notice_expiries (id, expired_ms) VALUES (?1, ?2)", params![id, now_ms])?;
        Ok(n == 1)
    }

    /// Records a conflict; `false` if one with this id is already open.
    pub fn raise_conflict(&self, c: &ConflictRow) -> Result<bool, StoreError> {
        let open: Option<i64> = self
            .tx
            .query_row("SELECT 1 FROM conflicts WHERE id = ?1 AND resolved_ms IS NULL", [&c.id], |r| r.get(0))
            .optional()?;
        if open.is_some() {
            return Ok(false);
        }
        self.exec(
            "INSERT INTO conflicts (id, peer, a, b, detail, raised_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET detail = ?5, raised_ms = ?6, acked_by = NULL, acked_ms = NULL, resolved_ms = NULL",
            params![c.id, c.peer, c.a, c.b, c.detail, c.raised_ms],
        )?;
        Ok(true)
    }

    pub fn resolve_conflict(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self
            .exec("UPDATE conflicts SET resolved_ms = ?2 WHERE id = ?1 AND resolved_ms IS NULL", params![id, now_ms])?;
        Ok(n == 1)
    }

    pub fn ack_conflict(&self, id: &str, by: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE conflicts SET acked_by = ?2, acked_ms = ?3 WHERE id = ?1 AND acked_ms IS NULL",
            params![id, by, now_ms],
        )?;
        Ok(n == 1)
    }

    /// Conflicts, open ones first, then by time raised.
    pub fn conflicts(&self) -> Result<Vec<ConflictRow>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, peer, a, b, detail, raised_ms, acked_by, acked_ms, resolved_ms FROM conflicts \
             ORDER BY resolved_ms IS NOT NULL, raised_ms",
        )?;
        let rows = st.query_map([], conflict_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The open conflicts of notice `notice` on the line to `peer`.
    pub fn open_conflicts_of(&self, peer: &str, notice: &str) -> Result<Vec<ConflictRow>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, peer, a, b, detail, raised_ms, acked_by, acked_ms, resolved_ms FROM conflicts \
             WHERE peer = ?1 AND resolved_ms IS NULL AND a = ?2 \
             UNION ALL \
             SELECT id, peer, a, b, detail, raised_ms, acked_by, acked_ms, resolved_ms FROM conflicts \
             WHERE peer = ?1 AND resolved_ms IS NULL AND b = ?2 AND a != ?2",
        )?;
        let rows = st.query_map(params![peer, notice], conflict_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// At most `limit` conflicts, open ones first, then by time raised.
    pub fn conflicts_page(&self, limit: i64) -> Result<Vec<ConflictRow>, StoreError> {
        let mut st = self.tx.prepare_cached(
            "SELECT id, peer, a, b, detail, raised_ms, acked_by, acked_ms, resolved_ms FROM conflicts \
             ORDER BY resolved_ms IS NOT NULL, raised_ms LIMIT ?1",
        )?;
        let rows = st.query_map([limit], conflict_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn conflict(&self, id: &str) -> Result<Option<ConflictRow>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT id, peer, a, b, detail, raised_ms, acked_by, acked_ms, resolved_ms FROM conflicts WHERE id = ?1",
                [id],
                conflict_from_row,
            )
            .optional()?)
    }

    // --- outbox and inbox ------------------------------------------------------------

    /// The sequence number the next outgoing item on `lane` to `peer` gets.
    pub fn next_out_seq(&self, peer: &str, lane: Lane) -> Result<u64, StoreError> {
        let max: i64 = self.row(
            "SELECT coalesce(max(seq), 0) FROM outbox WHERE peer = ?1 AND lane = ?2",
            params![peer, lane as u8],
            |r| r.get(0),
        )?;
        Ok(max as u64 + 1)
    }

    /// Stores an outgoing item; `message_id` links it to its message row, if it is one.
    pub fn insert_outbox(
        &self,
        peer: &str,
        lane: Lane,
        seq: u64,
        payload: &[u8],
        message_id: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO outbox (peer, lane, seq, payload, message_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![peer, lane as u8, seq as i64, payload, message_id, now_ms],
        )?;
        Ok(())
    }

    /// The peer receipted everything on `lane` up to `seq`: marks those items and their
    /// messages delivered. Returns the ids of messages that became delivered now.
    pub fn mark_receipted(&self, peer: &str, lane: Lane, seq: u64, now_ms: i64) -> Result<Vec<String>, StoreError> {
        let ids = {
            let mut st = self.tx.prepare_cached(
                "SELECT message_id FROM outbox WHERE peer = ?1 AND lane = ?2 AND seq <= ?3 \
                 AND receipted_ms IS NULL AND message_id IS NOT NULL ORDER BY seq",
            )?;
            let rows = st.query_map(params![peer, lane as u8, seq as i64], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        self.exec(
            "UPDATE outbox SET receipted_ms = ?4 WHERE peer = ?1 AND lane = ?2 AND seq <= ?3 AND receipted_ms IS NULL",
            params![peer, lane as u8, seq as i64, now_ms],
        )?;
        for id in &ids {
            // A receipt also proves it was sent, should the sent mark have been lost.
            self.exec(
                "UPDATE messages SET delivered_ms = ?2, sent_ms = coalesce(sent_ms, ?2) \
                 WHERE id = ?1 AND delivered_ms IS NULL",
                params![id, now_ms],
            )?;
        }
        Ok(ids)
    }

    /// Item `seq` on `lane` left for the first time: marks its message sent. Returns the
    /// message id if that changed its state.
    pub fn mark_sent(&self, peer: &str, lane: Lane, seq: u64, now_ms: i64) -> Result<Option<String>, StoreError> {
        let id: Option<Option<String>> = self
            .tx
            .query_row(
                "SELECT message_id FROM outbox WHERE peer = ?1 AND lane = ?2 AND seq = ?3",
                params![peer, lane as u8, seq as i64],
                |r| r.get(0),
            )
            .optional()?;
        let Some(Some(id)) = id else { return Ok(None) };
        let n = self
            .tx
            .execute("UPDATE messages SET sent_ms = ?2 WHERE id = ?1 AND sent_ms IS NULL", params![id, now_ms])?;
        Ok((n == 1).then_some(id))
    }

    /// Records that received item `seq` on `lane` is written. Fails if that position is
    /// already taken, which the protocol never asks for.
    pub fn insert_inbox(&self, peer: &str, lane: Lane, seq: u64, now_ms: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO inbox (peer, lane, seq, received_ms) VALUES (?1, ?2, ?3, ?4)",
            params![peer, lane as u8, seq as i64, now_ms],
        )?;
        Ok(())
    }

    /// What a `Line` to `peer` needs to resume after a restart.
    pub fn restore_line(&self, peer: &str) -> Result<Restored, StoreError> {
        let mut restored = Restored::default();
        for lane in Lane::ALL {
            let l = lane as u8;
            let (pushed, receipted): (i64, i64) = self.row(
                "SELECT coalesce(max(seq), 0), coalesce(max(CASE WHEN receipted_ms IS NOT NULL THEN seq END), 0) \
                 FROM outbox WHERE peer = ?1 AND lane = ?2",
                params![peer, l],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let received: i64 = self.row(
                "SELECT coalesce(max(seq), 0) FROM inbox WHERE peer = ?1 AND lane = ?2",
                params![peer, l],
                |r| r.get(0),
            )?;
            restored.pushed_last[lane.index()] = pushed as u64;
            restored.receipted[lane.index()] = receipted as u64;
            restored.durable_next[lane.index()] = received as u64 + 1;
            let mut st = self
                .tx
                .prepare("SELECT seq, payload FROM outbox WHERE peer = ?1 AND lane = ?2 AND seq > ?3 ORDER BY seq")?;
            let rows =
                st.query_map(params![peer, l, receipted], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
            for (expected, row) in (receipted as u64 + 1..).zip(rows) {
                let (seq, payload) = row?;
                // Paired with the assertion in `Line::new`: check here, where a damaged
                // database can be reported as such instead of crashing the line.
                if seq as u64 != expected {
                    return Err(StoreError::Corrupt(format!(
                        "outbox to {peer} lane {l} skips from {expected} to {seq}"
                    )));
                }
                restored.outbound.push((lane, seq as u64, payload));
            }
        }
        debug_assert_eq!(restored.pushed_last.len(), LANES);
        Ok(restored)
    }

    /// Items accepted for `peer` and not yet receipted, and the creation time of the oldest.
    pub fn undelivered(&self, peer: &str) -> Result<(i64, Option<i64>), StoreError> {
        Ok(self.row(
            "SELECT count(*), min(created_ms) FROM outbox WHERE peer = ?1 AND receipted_ms IS NULL",
            [peer],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    // --- messages --------------------------------------------------------------------

    /// Inserts a message row; `false` if a message with this id exists (nothing changes).
    pub fn insert_message(&self, m: &MessageRow) -> Result<bool, StoreError> {
        let n = self.exec(
            &format!(
                "INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                 ON CONFLICT (id) DO NOTHING"
            ),
            params![
                m.id,
                m.peer,
                m.direction.as_str(),
                m.precedence,
                m.lang,
                m.body,
                m.reply_to,
                m.author,
                m.created_ms,
                m.sent_ms,
                m.delivered_ms,
                m.acked_ms,
                m.acked_by
            ],
        )?;
        Ok(n == 1)
    }

    pub fn message(&self, id: &str) -> Result<Option<MessageRow>, StoreError> {
        Ok(self
            .tx
            .query_row(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"), [id], message_from_row)
            .optional()?)
    }

    /// Messages on the line to `peer`, both directions, in the order this station stored
    /// them, after the message `after` (by id) if given.
    pub fn list_messages(&self, peer: &str, after: Option<&str>, limit: i64) -> Result<Vec<MessageRow>, StoreError> {
        let after_pos: i64 = match after {
            Some(id) => self
                .tx
                .query_row("SELECT pos FROM messages WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .unwrap_or(i64::MAX),
            None => 0,
        };
        let mut st = self.tx.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE peer = ?1 AND pos > ?2 ORDER BY pos LIMIT ?3"
        ))?;
        let rows = st.query_map(params![peer, after_pos, limit], message_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records an operator acknowledgment; `false` if it was already acknowledged.
    pub fn set_acked(&self, id: &str, by: &str, at_ms: i64) -> Result<bool, StoreError> {
        let n = self.exec(
            "UPDATE messages SET acked_ms = ?2, acked_by = ?3 WHERE id = ?1 AND acked_ms IS NULL",
            params![id, at_ms, by],
        )?;
        Ok(n == 1)
    }

    /// Unacknowledged incoming messages, for the console's pinned list and metrics.
    pub fn unacked_incoming(&self) -> Result<i64, StoreError> {
        Ok(self
            .tx
            .query_row("SELECT count(*) FROM messages WHERE direction = 'in' AND acked_ms IS NULL", [], |r| r.get(0))?)
    }
}

/// A version 4 UUID from the first 16 bytes of a token's hash: the hash is SHA-256 of a
/// random secret, so these bytes are random, and the id reveals nothing of the secret.
fn uuid_v4(hash: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
