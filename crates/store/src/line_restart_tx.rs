//! Starting a line afresh when the peer it reaches is another station under the same name.
//!
//! A line's sequence state (the outbox and inbox positions per lane) and our witness
//! history of the peer's log belong to the one peer key they were made with. A peer whose
//! machine is rebuilt comes back with a new key, an empty record and sequence numbers from
//! 1; the supervisor removes its line and adds it again with the new key (a pinned key
//! never changes in place). Resumed with the old state, the line would refuse the new
//! station's first receipt ("only 0 were ever sent") and its checkpoints (another key),
//! and it would never come up. So the re-pinning transaction, the one that writes
//! `line.added`, also restarts the line's state:
//!
//! - our messages the old key never receipted are carried over: renumbered from 1 on
//!   their lanes, their `sent` mark cleared, so they reach the new station exactly once
//!   (its record is empty, so nothing is a duplicate there);
//! - our control items it never receipted (receipts, acknowledgments, witness answers,
//!   checkpoints about the old station's state) are dropped: the new station has none of
//!   what they speak of, and would refuse them as lies;
//! - receipted outbox rows and the inbox positions go: their history is in the record;
//! - our witness history of the old key's log is kept, under a retired peer name that no
//!   station can have (`PEER/retired@IDX`, IDX the `line.added` entry's index to come).

use rusqlite::params;

use crate::StoreError;
use crate::tx::Tx;

/// What restarting a line did, for the `line.added` entry to say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineRestart {
    /// Our messages carried over to the new key, oldest first on each lane.
    pub messages_carried: Vec<String>,
    /// Our unreceipted control items dropped.
    pub control_items_dropped: u64,
}

impl Tx<'_> {
    /// Restarts the sequence state of the line to `peer` (see the module). `retired` is
    /// the name the old witness history is kept under.
    pub fn restart_line(&self, peer: &str, retired: &str) -> Result<LineRestart, StoreError> {
        let control_items_dropped: i64 = self.row(
            "SELECT count(*) FROM outbox WHERE peer = ?1 AND lane = 0 AND receipted_ms IS NULL",
            [peer],
            |r| r.get(0),
        )?;
        self.exec("DELETE FROM outbox WHERE peer = ?1 AND (lane = 0 OR receipted_ms IS NOT NULL)", [peer])?;
        self.exec("DELETE FROM inbox WHERE peer = ?1", [peer])?;
        self.exec("UPDATE peer_checkpoints SET peer = ?2 WHERE peer = ?1", params![peer, retired])?;

        // Renumber what is left from 1 per lane, in the order it was accepted: first out
        // of the way (negative), then each to its rank, so no two rows ever share a key.
        let left: Vec<(u8, i64, Option<String>)> = {
            let mut st =
                self.tx.prepare("SELECT lane, seq, message_id FROM outbox WHERE peer = ?1 ORDER BY lane, seq")?;
            let rows = st.query_map([peer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        self.exec("UPDATE outbox SET seq = -seq WHERE peer = ?1", [peer])?;
        let mut messages_carried = Vec::new();
        let mut lane_now = None;
        let mut rank = 0i64;
        for (lane, seq, message_id) in left {
            if lane_now != Some(lane) {
                (lane_now, rank) = (Some(lane), 0);
            }
            rank += 1;
            self.exec(
                "UPDATE outbox SET seq = ?4 WHERE peer = ?1 AND lane = ?2 AND seq = ?3",
                params![peer, lane, -seq, rank],
            )?;
            if let Some(id) = message_id {
                // Sent to the old key, not to the station it reaches now.
                self.exec("UPDATE messages SET sent_ms = NULL WHERE id = ?1 AND delivered_ms IS NULL", [&id])?;
                messages_carried.push(id);
            }
        }
        Ok(LineRestart { messages_carried, control_items_dropped: control_items_dropped as u64 })
    }
}
