//! The outbox, as the line's operations write to it: a control item at the next sequence
//! number of the control lane, and the check that the line's counters and the store's
//! agree before a batch of messages takes its numbers. Both run inside the caller's
//! transaction; the item goes to `Line::push` only after it commits.

use hotline_core::core::Journal;
use hotline_item::SignedItem;
use hotline_proto::Lane;
use hotline_store::StoreError;

/// Writes a signed item to the outbox on the control lane, at the next sequence number
/// the store holds for it, and returns what to `Line::push` once the transaction commits.
/// The line task is the only writer of its outbox, so the store's next number is the
/// line's (which `Line::push` asserts).
pub(crate) fn enqueue_control(
    j: &Journal<'_>,
    peer: &str,
    signed: &SignedItem,
) -> Result<(Lane, u64, Vec<u8>), StoreError> {
    let payload = signed.envelope();
    // Every field of a control item is bounded (peer text through `peer_input`), so this
    // holds by construction; were it ever broken, refusing here keeps the line task alive
    // where `Line::push` would assert.
    if payload.len() > hotline_proto::payload_bytes_max {
        return Err(StoreError::Invariant(format!(
            "a control item of {} bytes is over the line's limit of {} bytes",
            payload.len(),
            hotline_proto::payload_bytes_max
        )));
    }
    let seq = j.tx.next_out_seq(peer, Lane::Control)?;
    j.tx.insert_outbox(peer, Lane::Control, seq, &payload, None, j.now_ms)?;
    Ok((Lane::Control, seq, payload))
}

/// The line's counter and the store agree, or the outbox would get a gap.
pub(crate) fn check_seq(j: &Journal<'_>, peer: &str, lane: Lane, seq: u64) -> Result<(), StoreError> {
    let expected = j.tx.next_out_seq(peer, lane)?;
    if expected != seq {
        return Err(StoreError::Invariant(format!(
            "outbox to {peer} lane {lane:?}: store says {expected}, line says {seq}"
        )));
    }
    Ok(())
}
