//! Messages: an operator's words to the other station.
//!
//! Out: `accept_messages` signs a batch of sends, stores each with its outbox row and its
//! `message.queued` entry in one transaction (group commit), and pushes them after it.
//! The line's `Sent` and `Delivered` events mark them (`on_sent`, `on_delivered`). In:
//! `receive` stores the peer's message once (a repeat is recorded as a duplicate) and
//! lists it for the round's signed receipt (`receipt.rs`). The view is
//! `hotline_core::views::message_json`, shared with the API.

use super::*;
use crate::*;
use hotline_core::entry_kind::EntryKind;
use hotline_item::ReceiptEntry;

/// A message signed and encoded for the line, waiting for its transaction.
#[derive(Clone)]
struct Prepared {
    row: MessageRow,
    lane: Lane,
    payload: Vec<u8>,
    signed: SignedItem,
}

impl LineTask {
    /// Signs a new message for the line, without storing it.
    fn prepare_message(&self, ends: &Ends, m: NewMessage) -> Result<Prepared, LineError> {
        let lane = lane_for(m.precedence);
        let created_ms = now_ms();
        let row = MessageRow {
            id: uuid::Uuid::now_v7().to_string(),
            peer: ends.peer.clone(),
            direction: Direction::Out,
            precedence: m.precedence.as_str().to_owned(),
            lang: m.lang,
            body: m.body,
            reply_to: m.reply_to,
            author: m.author,
            created_ms,
            sent_ms: None,
            delivered_ms: None,
            acked_ms: None,
            acked_by: None,
        };
        let item = Item::Message {
            from: ends.local.clone(),
            to: ends.peer.clone(),
            id: row.id.clone(),
            precedence: row.precedence.clone(),
            lang: row.lang.clone(),
            body: row.body.clone(),
            reply_to: row.reply_to.clone(),
            author: row.author.clone(),
            created_ms,
        };
        let signed = SignedItem::sign(item, &ends.key);
        let payload = signed.envelope();
        if payload.len() > hotline_proto::payload_bytes_max {
            // A body within 64 KiB can still grow past the frame limit when every character
            // needs escaping twice (item, then envelope); refuse it here, not in the line.
            return Err(LineError::TooLarge(format!(
                "the message is {} bytes once encoded for the line; the limit is {} bytes (shorten it, or avoid control characters)",
                payload.len(),
                hotline_proto::payload_bytes_max
            )));
        }
        Ok(Prepared { row, lane, payload, signed })
    }

    /// Accepts a batch of sends in one transaction: each message is stored, queued in the
    /// outbox under the next sequence number of its lane and logged, in the order the
    /// sends arrived, exactly as one transaction per message would have done; one that
    /// replies to no message on this line is refused alone. Every sender gets its own
    /// answer after the commit.
    pub(crate) async fn accept_messages(
        &mut self,
        batch: Vec<(NewMessage, oneshot::Sender<Result<MessageRow, LineError>>)>,
    ) {
        debug_assert!(batch.len() <= accept_batch_max);
        let ends = self.ends();
        let mut prepared = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for (message, reply) in batch {
            match self.prepare_message(&ends, message) {
                Ok(p) => {
                    prepared.push(p);
                    replies.push(reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            }
        }
        if prepared.is_empty() {
            return;
        }
        let first_seq: Vec<u64> = Lane::ALL.iter().map(|&lane| self.line.next_seq(lane)).collect();
        let (stored, peer) = (prepared.clone(), ends.peer.clone());
        let outcome = self
            .setup
            .core
            .write(move |j| {
                let mut next = first_seq;
                for &lane in Lane::ALL.iter().filter(|&&lane| stored.iter().any(|p| p.lane == lane)) {
                    crate::outbox::check_seq(j, &peer, lane, next[lane.index()])?;
                }
                let mut seqs = Vec::with_capacity(stored.len());
                for p in &stored {
                    let row = &p.row;
                    if let Some(reply_to) = &row.reply_to
                        && j.tx.message(reply_to)?.is_none_or(|m| m.peer != row.peer)
                    {
                        seqs.push(None);
                        continue;
                    }
                    let seq = next[p.lane.index()];
                    next[p.lane.index()] += 1;
                    j.tx.insert_message(row)?;
                    j.tx.insert_outbox(&row.peer, p.lane, seq, &p.payload, Some(&row.id), row.created_ms)?;
                    j.append(
                        EntryKind::MessageQueued,
                        json!({"peer": row.peer, "message": message_json(row), "item": p.signed.text, "sig": p.signed.sig}),
                    )?;
                    seqs.push(Some(seq));
                }
                Ok(seqs)
            })
            .await;
        let seqs = match outcome {
            Ok(seqs) => seqs,
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(LineError::of_store(&e)));
                }
                return;
            }
        };
        for ((p, seq), reply) in prepared.into_iter().zip(seqs).zip(replies) {
            let Some(seq) = seq else {
                let _ = reply.send(Err(LineError::invalid("bad_reply_to", "reply_to names no message on this line")));
                continue;
            };
            let Prepared { row, lane, payload, .. } = p;
            self.line.push(lane, seq, payload);
            self.metrics.message_sent(&row.precedence);
            if let Some(precedence) = hotline_watch::Precedence::parse(&row.precedence) {
                let (peer, id, created_ms) = (row.peer.clone(), row.id.clone(), row.created_ms);
                self.setup.supervisor.observe(|w, _| {
                    w.on_message(&peer, &id, precedence, hotline_watch::Direction::Out, created_ms.max(0) as u64)
                });
            }
            let _ = reply.send(Ok(row));
        }
    }
}

/// The line sent our item `seq` on `lane` for the first time: a message's `sent` mark.
pub(crate) fn on_sent(j: &mut Journal<'_>, peer: &str, lane: Lane, seq: u64) -> Result<(), StoreError> {
    let now = j.now_ms;
    if let Some(id) = j.tx.mark_sent(peer, lane, seq, now)?
        && let Some(m) = j.tx.message(&id)?
    {
        j.append(EntryKind::MessageSent, json!({"peer": peer, "id": id, "message": message_json(&m)}))?;
    }
    Ok(())
}

/// The peer has everything on `lane` up to `seq` on its disk: those messages are delivered.
pub(crate) fn on_delivered(
    j: &mut Journal<'_>,
    peer: &str,
    round: &mut Round,
    lane: Lane,
    seq: u64,
) -> Result<(), StoreError> {
    let now = j.now_ms;
    for id in j.tx.mark_receipted(peer, lane, seq, now)? {
        if let Some(m) = j.tx.message(&id)? {
            round.measured.push(Measured::Delivered { precedence: m.precedence.clone(), ms: now - m.created_ms });
            j.append(EntryKind::MessageDelivered, json!({"peer": peer, "id": id, "message": message_json(&m)}))?;
        }
    }
    Ok(())
}

/// The peer's message, stored once and listed for the round's receipt.
pub(super) fn receive(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    stored_messages: &mut Vec<ReceiptEntry>,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::Message { id, precedence, lang, body, reply_to, author, created_ms, .. } = &signed.item else {
        return Err(not_routed("message"));
    };
    let peer = ends.peer.as_str();
    let row = MessageRow {
        id: id.clone(),
        peer: peer.to_owned(),
        direction: Direction::In,
        precedence: precedence.clone(),
        lang: lang.clone(),
        body: body.clone(),
        reply_to: reply_to.clone(),
        author: author.clone(),
        created_ms: *created_ms,
        sent_ms: Some(*created_ms),
        delivered_ms: Some(j.now_ms),
        acked_ms: None,
        acked_by: None,
    };
    if j.tx.insert_message(&row)? {
        // The deadline to acknowledge runs from when it reached us: the peer chooses
        // `created_ms`, and a backdated message must not arrive overdue.
        round.observed.push(Observed::Message { id: id.clone(), precedence: precedence.clone(), created_ms: j.now_ms });
        j.append(
            EntryKind::MessageReceived,
            json!({"peer": peer, "id": id, "message": message_json(&row), "item": signed.text, "sig": signed.sig}),
        )?;
    } else {
        // Same id again (a peer that lost its outbox and re-sent): suppressed.
        j.append(EntryKind::MessageDuplicate, json!({"peer": peer, "id": id, "item": signed.text, "sig": signed.sig}))?;
    }
    stored_messages.push(ReceiptEntry { id: id.clone(), item_sha256: signed.sha256_hex() });
    Ok(())
}
