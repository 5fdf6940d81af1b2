//! One file per item kind the line carries, each with its outgoing half (an operation of
//! the line task: sign the item, store it with its record entry and outbox row in one
//! transaction, push it to the `Line` after the commit) and its incoming half (what a
//! round stores when the peer's item arrives), as mini-redis keeps one file per command.
//! `receive.rs` routes arriving items here with `store_item`; calls are in `calls.rs`,
//! the outbox writes in `outbox.rs`.

mod ack;
mod checkpoint;
pub(crate) mod message;
mod notice;
mod notice_ack;
mod presence;
pub(crate) mod receipt;
pub(crate) mod recording;
mod watch_check;

use hotline_core::core::Journal;
use hotline_store::StoreError;
use serde_json::{Value, json};

use crate::outbox::enqueue_control;
use crate::{Ends, Round};
use hotline_item::{Item, ReceiptEntry, SignedItem};

/// Signs `item`, writes it to the outbox on the control lane, and lists it for pushing
/// after the commit.
pub(super) fn send_control(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    item: Item,
) -> Result<SignedItem, StoreError> {
    let signed = SignedItem::sign(item, &ends.key);
    round.outbound.push(crate::outbox::enqueue_control(j, &ends.peer, &signed)?);
    Ok(signed)
}

/// Stores one opened item from the peer, by kind.
pub(crate) fn store_item(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    stored_messages: &mut Vec<ReceiptEntry>,
    signed: SignedItem,
) -> Result<(), StoreError> {
    match &signed.item {
        Item::Message { .. } => message::receive(j, ends, round, stored_messages, &signed),
        Item::Ack { .. } => ack::receive(j, ends, round, &signed),
        Item::Receipt { .. } => receipt::receive(j, ends, &signed),
        Item::Notice { .. } => notice::receive(j, ends, &signed),
        Item::NoticeAck { .. } => notice_ack::receive(j, ends, &signed),
        Item::WatchCheck { .. } => watch_check::receive_check(j, ends, round, &signed),
        Item::WatchAnswer { .. } => watch_check::receive_answer(j, ends, round, &signed),
        Item::Presence { .. } => presence::receive(j, ends, round, &signed),
        Item::Checkpoint { .. } => checkpoint::receive(j, ends, round, &signed),
        Item::Cosignature { .. } => checkpoint::receive_cosignature(j, ends, round, &signed),
        Item::WitnessRefusal { .. } => checkpoint::receive_refusal(j, ends, round, &signed),
        Item::CallRecorded { .. } => recording::receive(j, ends, &signed),
        Item::CallRecordingStopped { .. } => recording::receive_stopped(j, ends, round, &signed),
        Item::CallStep { .. } => {
            crate::calls::peer_step(j, &ends.call_ends(), &ends.calls, &signed, &mut round.outbound)
        }
    }
}

/// `store_item` routed an item to the wrong kind's file: our defect, not the peer's.
fn not_routed(kind: &str) -> StoreError {
    StoreError::Invariant(format!("an item that is not a {kind} was routed to {kind}.rs"))
}
