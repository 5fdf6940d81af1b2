//! What a line task writes when the line produces events: one transaction per round.
//!
//! State changes, "sent" marks and deliveries update the rows they concern; received items
//! are opened (signature, sender, recipient) and stored by kind (`items/`) with their
//! record entries, and every control item the round answers with (a signed receipt, a
//! cosignature or a refusal) goes into the outbox in the same transaction, for the line
//! task to push once it commits. A payload that does not open is stored as refused, so
//! the lane moves on and nothing the peer sent is silently dropped.

use hotline_proto::Event;
use hotline_store::StoreError;
use serde_json::json;

use crate::items::{self, message, receipt};
use crate::{Ends, Round};
use hotline_core::core::Journal;
use hotline_core::entry_kind::EntryKind;
use hotline_item::SignedItem;
use hotline_item::peer_input::{bounded_reason, kept_payload};

/// Writes one round of line events in one transaction.
pub(crate) fn store_events(
    j: &mut Journal<'_>,
    ends: &Ends,
    events: Vec<Event>,
    remote: Option<String>,
) -> Result<Round, StoreError> {
    let now = j.now_ms;
    let peer = ends.peer.as_str();
    let mut round = Round::default();
    let mut stored_messages = Vec::new();
    for event in events {
        match event {
            Event::StateChanged { state } => {
                j.append(EntryKind::LineState, json!({"peer": peer, "state": state.as_str(), "remote": remote}))?;
                let up = state == hotline_proto::LineState::Up;
                super::calls::line_state(j, &ends.call_ends(), &ends.calls, up, &mut round.outbound)?;
            }
            Event::Sent { lane, seq } => message::on_sent(j, peer, lane, seq)?,
            Event::Delivered { lane, seq } => message::on_delivered(j, peer, &mut round, lane, seq)?,
            Event::Received { lane, seq, payload } => {
                j.tx.insert_inbox(peer, lane, seq, now)?;
                match SignedItem::open(&payload, &ends.peer_key, &ends.local) {
                    Ok(signed) => items::store_item(j, ends, &mut round, &mut stored_messages, signed)?,
                    Err(why) => {
                        // Bounded: the peer chooses how big a refused payload is.
                        let mut entry = kept_payload(&payload);
                        entry.insert("peer".into(), peer.into());
                        entry.insert("lane".into(), (lane as u8).into());
                        entry.insert("seq".into(), seq.into());
                        entry.insert("why".into(), bounded_reason(&why).into());
                        j.append(EntryKind::LineItemRefused, serde_json::Value::Object(entry))?;
                    }
                }
            }
            Event::Rtt { .. } | Event::Closed { .. } => {}
        }
    }
    receipt::send(j, ends, &mut round, &stored_messages)?;
    Ok(round)
}
