//! Acknowledgments: an operator at the receiving station has read a message.
//!
//! Out: `accept_ack` marks our received message acknowledged and signs an `ack` item for
//! the sender, in one transaction. In: `receive` marks one of *our* messages acknowledged
//! by the peer; an acknowledgment of anything else is refused and recorded.

use super::*;
use crate::*;
use hotline_core::entry_kind::EntryKind;

impl LineTask {
    pub(crate) async fn accept_ack(&mut self, id: String, by: String) -> Result<MessageRow, LineError> {
        let ends = self.ends();
        let (message, outbound) = self
            .setup
            .core
            .write(move |j| {
                let Some(message) = j.tx.message(&id)? else {
                    return Ok(Err(LineError::NotFound(format!("no message {id}"))));
                };
                if message.direction != Direction::In {
                    return Ok(Err(LineError::Conflict("only the receiving station acknowledges a message".into())));
                }
                if message.acked_ms.is_some() {
                    return Ok(Ok((message, None)));
                }
                let at_ms = j.now_ms;
                let item = Item::Ack {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    id: id.clone(),
                    by: by.clone(),
                    at_ms,
                };
                let signed = SignedItem::sign(item, &ends.key);
                j.tx.set_acked(&id, &by, at_ms)?;
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                let message = j.tx.message(&id)?.unwrap_or(message);
                j.append(
                    EntryKind::MessageAcknowledged,
                    json!({"peer": ends.peer, "id": id, "by": by, "message": message_json(&message),
                           "item": signed.text, "sig": signed.sig}),
                )?;
                Ok(Ok((message, Some(outbound))))
            })
            .await
            .map_err(LineError::from)??;
        if let Some((lane, seq, payload)) = outbound {
            self.line.push(lane, seq, payload);
            // From its arrival here (the peer's creation time is a claim) to this ack.
            if let (Some(arrived), Some(acked)) = (message.delivered_ms, message.acked_ms) {
                self.metrics.acknowledged(Direction::In, acked - arrived);
            }
        }
        let (peer, id) = (message.peer.clone(), message.id.clone());
        self.setup.supervisor.observe(|w, now| w.on_message_acknowledged(&peer, &id, now));
        Ok(message)
    }
}

/// The peer acknowledged one of our messages.
pub(super) fn receive(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::Ack { id, by, at_ms, .. } = &signed.item else { return Err(not_routed("ack")) };
    let peer = ends.peer.as_str();
    let ours = j.tx.message(id)?.is_some_and(|m| m.direction == Direction::Out && m.peer == peer);
    if ours {
        j.tx.set_acked(id, by, *at_ms)?;
        round.observed.push(Observed::Acknowledged { id: id.clone() });
        let m = j.tx.message(id)?;
        // Timed from our creation to our receipt of the ack: the peer's `at_ms` is a claim.
        if let Some(m) = &m {
            round.measured.push(Measured::AcknowledgedByPeer { ms: j.now_ms - m.created_ms });
        }
        j.append(
            EntryKind::MessageAcknowledgedByPeer,
            json!({"peer": peer, "id": id, "by": by, "message": m.as_ref().map(message_json),
                   "item": signed.text, "sig": signed.sig}),
        )?;
    } else {
        j.append(
            EntryKind::LineItemRefused,
            json!({"peer": peer, "why": format!("acknowledgment for unknown message {id}"), "item": signed.text, "sig": signed.sig}),
        )?;
    }
    Ok(())
}
