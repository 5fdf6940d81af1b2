//! Receipts: a station's signed word that it has the peer's messages on its disk.
//!
//! The line's own receipts (frames) drive delivery; these signed items are evidence. Out:
//! `send` signs one receipt per round for the messages the round stored (in the same
//! transaction, so the receipt never names what is not on disk). In: `receive` records
//! the peer's receipt.

use super::*;
use hotline_core::entry_kind::EntryKind;
use hotline_item::{ReceiptEntry, receipt_messages_max};

/// Signs the receipts for the messages a round stored.
pub(crate) fn send(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    stored_messages: &[ReceiptEntry],
) -> Result<(), StoreError> {
    let (now, peer) = (j.now_ms, ends.peer.as_str());
    // One signed receipt per round for the messages it stored: the peer's proof that we
    // have them, in our own words.
    for chunk in stored_messages.chunks(receipt_messages_max) {
        let item =
            Item::Receipt { from: ends.local.clone(), to: ends.peer.clone(), at_ms: now, messages: chunk.to_vec() };
        let signed = send_control(j, ends, round, item)?;
        j.append(EntryKind::ReceiptSent, json!({"peer": peer, "item": signed.text, "sig": signed.sig}))?;
    }
    Ok(())
}

/// The peer's signed receipt for our messages, kept as evidence.
pub(super) fn receive(j: &mut Journal<'_>, ends: &Ends, signed: &SignedItem) -> Result<(), StoreError> {
    let Item::Receipt { .. } = &signed.item else { return Err(not_routed("receipt")) };
    let peer = ends.peer.as_str();
    j.append(EntryKind::ReceiptReceived, json!({"peer": peer, "item": signed.text, "sig": signed.sig}))?;
    Ok(())
}
