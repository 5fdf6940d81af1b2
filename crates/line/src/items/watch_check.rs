//! Watch checks: "is anyone there?" — one station asks, an operator at the other answers
//! by a deadline, and both records show how long it took.
//!
//! Out: `send_watch_check` (scheduled by the watch, or on demand) and `answer_watch_check`
//! (an operator here answers the peer's). In: `receive_check` stores the peer's check with
//! a deadline counted from when it reached us (the peer's times are claims), and
//! `receive_answer` closes one of ours.

use super::*;
use crate::*;
use hotline_core::entry_kind::EntryKind;
use hotline_item::peer_input::{check_window_ms_max, check_window_ms_min};

impl LineTask {
    /// Sends a watch check: an operator at the peer must answer it by the line's deadline.
    pub(crate) async fn send_watch_check(&mut self) -> Result<WatchCheckRow, LineError> {
        let ends = self.ends();
        let deadline_ms = self.setup.supervisor.line_policy(&ends.peer).check_deadline_ms as i64;
        let (row, (lane, seq, payload)) = self
            .setup
            .core
            .write(move |j| {
                let row = WatchCheckRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    peer: ends.peer.clone(),
                    direction: Direction::Out,
                    sent_ms: j.now_ms,
                    deadline_ms: j.now_ms + deadline_ms,
                    answered_ms: None,
                    answered_by: None,
                    missed: false,
                };
                let item = Item::WatchCheck {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: row.id.clone(),
                    sent_ms: row.sent_ms,
                    deadline_ms: row.deadline_ms,
                };
                let signed = SignedItem::sign(item, &ends.key);
                j.tx.insert_watch_check(&row)?;
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                j.append(
                    EntryKind::WatchCheckSent,
                    json!({"peer": ends.peer, "id": row.id, "deadline": hotline_core::rfc3339(row.deadline_ms),
                           "item": signed.text, "sig": signed.sig}),
                )?;
                Ok((row, outbound))
            })
            .await?;
        self.line.push(lane, seq, payload);
        let (peer, id, sent) = (row.peer.clone(), row.id.clone(), row.sent_ms.max(0) as u64);
        self.setup.supervisor.observe(|w, _| {
            w.on_check_sent(&peer, &id, sent);
        });
        Ok(row)
    }

    /// An operator here answers the peer's watch check `id` (late answers are recorded
    /// as late, and still sent: they show someone is there).
    pub(crate) async fn answer_watch_check(&mut self, id: String, by: String) -> Result<WatchCheckRow, LineError> {
        let ends = self.ends();
        let (row, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(check) = j.tx.watch_check(&id)? else {
                    return Ok(Err(LineError::NotFound(format!("no watch check {id}"))));
                };
                if check.peer != ends.peer || check.direction != Direction::In {
                    return Ok(Err(LineError::Conflict(
                        "only the station a watch check was sent to answers it".into(),
                    )));
                }
                if check.answered_ms.is_some() {
                    return Ok(Ok((check, None)));
                }
                let at_ms = j.now_ms;
                j.tx.answer_watch_check(&id, &by, at_ms)?;
                let item = Item::WatchAnswer {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: id.clone(),
                    by: by.clone(),
                    at_ms,
                };
                let signed = SignedItem::sign(item, &ends.key);
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                let late = check.missed || at_ms > check.deadline_ms;
                j.append(
                    EntryKind::WatchCheckAnswered,
                    json!({"peer": ends.peer, "id": id, "direction": "in", "by": by,
                           "answered_in_ms": at_ms - check.sent_ms, "late": late,
                           "item": signed.text, "sig": signed.sig}),
                )?;
                let row = j.tx.watch_check(&id)?.unwrap_or(check);
                Ok(Ok((row, Some(outbound))))
            })
            .await
            .map_err(LineError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
        }
        let (peer, id) = (row.peer.clone(), row.id.clone());
        self.setup.supervisor.observe(|w, now| w.on_check_answered(&peer, &id, hotline_watch::Direction::In, now));
        Ok(row)
    }
}

/// The peer's watch check, for an operator here to answer.
pub(super) fn receive_check(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::WatchCheck { id, sent_ms, deadline_ms, .. } = &signed.item else { return Err(not_routed("watch_check")) };
    let peer = ends.peer.as_str();
    // The peer's clock and its choice of deadline are claims: we give the window it
    // asks for (bounded), counted from when the check reached us, so a check sent
    // with a past deadline cannot record us as having missed it.
    let window_ms = (deadline_ms - sent_ms).clamp(check_window_ms_min, check_window_ms_max);
    let deadline_ms = &(j.now_ms + window_ms);
    let row = WatchCheckRow {
        id: id.clone(),
        peer: peer.to_owned(),
        direction: Direction::In,
        sent_ms: j.now_ms.min(*sent_ms),
        deadline_ms: *deadline_ms,
        answered_ms: None,
        answered_by: None,
        missed: false,
    };
    if j.tx.insert_watch_check(&row)? {
        j.append(
            EntryKind::WatchCheckReceived,
            json!({"peer": peer, "id": id, "deadline": hotline_core::rfc3339(*deadline_ms),
                   "item": signed.text, "sig": signed.sig}),
        )?;
        round.observed.push(Observed::CheckReceived { id: id.clone(), deadline_ms: *deadline_ms });
    } else {
        j.append(
            EntryKind::LineItemRefused,
            json!({"peer": peer, "why": format!("watch check {id} already received"), "item": signed.text}),
        )?;
    }
    Ok(())
}

/// The peer answered one of our watch checks.
pub(super) fn receive_answer(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::WatchAnswer { id, by, at_ms, .. } = &signed.item else { return Err(not_routed("watch_answer")) };
    let peer = ends.peer.as_str();
    let check = j.tx.watch_check(id)?.filter(|c| c.peer == peer && c.direction == Direction::Out);
    match check {
        Some(check) if j.tx.answer_watch_check(id, by, j.now_ms)? => {
            let late = check.missed || j.now_ms > check.deadline_ms;
            j.append(
                EntryKind::WatchCheckAnswered,
                json!({"peer": peer, "id": id, "direction": "out", "by": by,
                       "answered_in_ms": j.now_ms - check.sent_ms, "answered_at_peer": hotline_core::rfc3339(*at_ms),
                       "late": late, "item": signed.text, "sig": signed.sig}),
            )?;
            round.observed.push(Observed::CheckAnswered { id: id.clone() });
        }
        other => {
            let why = match other {
                Some(_) => format!("watch check {id} was already answered"),
                None => format!("answer to unknown watch check {id}"),
            };
            j.append(
                EntryKind::LineItemRefused,
                json!({"peer": peer, "why": why, "item": signed.text, "sig": signed.sig}),
            )?;
        }
    }
    Ok(())
}
