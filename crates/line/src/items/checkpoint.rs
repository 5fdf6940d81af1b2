//! Checkpoints: each station's signed record head, witnessed by the other.
//!
//! Out: `offer_checkpoint` sends our latest checkpoint with a consistency proof from the
//! size the peer last cosigned. In: `receive` witnesses the peer's checkpoint — cosigns it
//! only if it extends what we cosigned before for that peer's own origin, else refuses
//! (critically, with an alarm, when the proof shows a fork); `receive_cosignature` and
//! `receive_refusal` take the peer's answer to ours.

use super::*;
use crate::*;
use hotline_audit::origin_of;
use hotline_core::entry_kind::EntryKind;
use hotline_core::{alarms, texts};
use hotline_item::peer_input::bounded_reason;
use hotline_record::checkpoint::Checkpoint;
use hotline_record::cosignature::verify_cosignature;
use hotline_record::merkle::Hash;
use hotline_record::note::NoteSigner;
use hotline_record::witness::Witness;
use hotline_watch::Cause;

impl LineTask {
    /// Sends our latest checkpoint to the peer for witnessing, if it is newer than what the
    /// peer last cosigned and no other is outstanding. The proof runs from the last size
    /// the peer cosigned, which is what its witness state holds.
    pub(crate) async fn offer_checkpoint(&mut self) -> Result<(), StoreError> {
        if self.witness_pending || self.witness_blocked || self.line.state() != LineState::Up {
            return Ok(());
        }
        let Some((size, note)) = self.setup.checkpoints.borrow().clone() else { return Ok(()) };
        let peer = self.setup.peer.clone();
        let old_size = self.setup.core.read(move |tx| tx.last_cosigned_size(&peer)).await?;
        if old_size >= size {
            return Ok(());
        }
        let proof = if old_size == 0 { Vec::new() } else { self.setup.core.consistency_proof(old_size, size).await? };
        let ends = self.ends();
        let item = Item::Checkpoint {
            from: ends.local.clone(),
            to: ends.peer.clone(),
            note,
            old_size,
            proof: proof.iter().map(|h| BASE64.encode(h)).collect(),
        };
        let signed = SignedItem::sign(item, &ends.key);
        let (lane, seq, payload) = self.setup.core.write(move |j| enqueue_control(j, &ends.peer, &signed)).await?;
        self.line.push(lane, seq, payload);
        self.witness_pending = true;
        Ok(())
    }
}

/// We witness the peer's checkpoint: cosign it only if it extends the last one we
/// cosigned for that peer; otherwise refuse, and raise a critical alarm if the proof
/// shows a rewritten or forked history.
pub(super) fn receive(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::Checkpoint { note, old_size, proof, .. } = &signed.item else { return Err(not_routed("checkpoint")) };
    let (note, old_size) = (note.as_str(), *old_size);
    let peer = ends.peer.as_str();
    let mut witness = Witness::new(NoteSigner::from_station_key(&ends.key));
    let mut last_size = 0;
    if let Some(last) = j.tx.last_witnessed(peer)? {
        let restored = Checkpoint::open(&last, &ends.peer_key)
            .map_err(|e| StoreError::Corrupt(format!("stored checkpoint of {peer} does not open: {e}")))?;
        // A station before this check could be made to cosign another origin; such a
        // state is no history of the peer's log, so it is not what we extend.
        if restored.origin == origin_of(&ends.peer_key) {
            last_size = restored.size;
            witness.restore(restored).map_err(|e| StoreError::Corrupt(format!("witness state: {e}")))?;
        }
    }
    let opened = Checkpoint::open(note, &ends.peer_key);
    let size = opened.as_ref().map(|c| c.size).unwrap_or(0);
    // The witness keeps one log per peer: the peer's own, named by its key. A checkpoint
    // of any other origin would start a second log with no history to be consistent with.
    let origin = origin_of(&ends.peer_key);
    let wrong_origin = opened.as_ref().ok().filter(|c| c.origin != origin).map(|c| c.origin.clone());
    let proof: Result<Vec<Hash>, ()> =
        proof.iter().map(|p| BASE64.decode(p).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or(())).collect();
    let refuse = |j: &mut Journal<'_>, round: &mut Round, reason: String, critical: bool| -> Result<(), StoreError> {
        let reason = bounded_reason(&reason);
        j.tx.insert_peer_checkpoint(peer, size, note, false, j.now_ms)?;
        let item = Item::WitnessRefusal {
            from: ends.local.clone(),
            to: ends.peer.clone(),
            size,
            reason: reason.clone(),
            critical,
        };
        send_control(j, ends, round, item)?;
        if critical {
            let cause = Cause::RecordFork { peer: peer.to_owned() };
            let record_fork = texts::render(&ends.lang, &hotline_i18n::texts::alarm_record_fork(peer));
            let text = format!("{record_fork}: {reason}");
            let row = alarms::new_row(&cause, text, j.now_ms);
            round.alarms.extend(alarms::record_raised(j, &row, json!({"size": size, "checkpoint": note}))?);
        } else {
            tracing::info!(peer = %peer, size, %reason, "not cosigning the peer's checkpoint");
        }
        Ok(())
    };
    if let Some(other) = wrong_origin {
        let reason = format!("checkpoint origin {} is not {origin}", hotline_item::peer_input::quote(&other));
        j.append(EntryKind::LineItemRefused, json!({"peer": peer, "why": reason, "checkpoint": note}))?;
        return refuse(j, round, reason, false);
    }
    let Ok(proof) = proof else {
        return refuse(j, round, "the consistency proof holds a hash that is not 32 bytes of base64".into(), false);
    };
    if old_size != last_size {
        // Not evidence of a fork: the peer has not yet seen our last cosignature.
        return refuse(
            j,
            round,
            format!("proof is from size {old_size}, but we last cosigned size {last_size}"),
            false,
        );
    }
    let time_secs = (j.now_ms / 1000).max(0) as u64;
    match witness.cosign_if_consistent(note, &proof, &ends.peer_key, time_secs) {
        Ok(cosigned) => {
            j.tx.insert_peer_checkpoint(peer, cosigned.checkpoint.size, note, true, j.now_ms)?;
            let item = Item::Cosignature {
                from: ends.local.clone(),
                to: ends.peer.clone(),
                size: cosigned.checkpoint.size,
                line: cosigned.line.clone(),
            };
            // Kept in peer_checkpoints, not as a record entry (see the cosignature case).
            send_control(j, ends, round, item)?;
            Ok(())
        }
        Err(e) => {
            let critical = e.is_critical();
            refuse(j, round, e.to_string(), critical)
        }
    }
}

/// The peer cosigned one of our checkpoints: kept beside it.
pub(super) fn receive_cosignature(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::Cosignature { size, line, .. } = &signed.item else { return Err(not_routed("cosignature")) };
    let peer = ends.peer.as_str();
    round.witness_answered = true;
    let ours = j.tx.checkpoint(*size)?;
    let verified =
        ours.as_deref().map(|note| format!("{note}{line}")).map(|note| verify_cosignature(&note, &ends.peer_key));
    match verified {
        Some(Ok(_)) => {
            // Stored beside the checkpoint, not as a record entry: an entry would grow
            // the record, which needs a new checkpoint, which the peer cosigns, ...
            j.tx.insert_cosignature(*size, peer, line, j.now_ms)?;
        }
        other => {
            let why = match other {
                None => format!("no checkpoint of size {size} here"),
                Some(Err(e)) => e.to_string(),
                Some(Ok(_)) => String::new(),
            };
            j.append(
                EntryKind::LineItemRefused,
                json!({"peer": peer, "why": format!("bad cosignature: {why}"), "item": signed.text}),
            )?;
        }
    }
    Ok(())
}

/// The peer refused to cosign our checkpoint (critically: it saw a fork).
pub(super) fn receive_refusal(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::WitnessRefusal { size, reason, critical, .. } = &signed.item else {
        return Err(not_routed("witness_refusal"));
    };
    let peer = ends.peer.as_str();
    round.witness_answered = true;
    if *critical {
        round.witness_critical = true;
        let cause = Cause::RecordFork { peer: peer.to_owned() };
        let text = texts::render(&ends.lang, &hotline_i18n::texts::alarm_cosignature_refused(peer, *size, reason));
        let row = alarms::new_row(&cause, text, j.now_ms);
        let evidence = json!({"cosignature_refused": true, "size": size, "item": signed.text, "sig": signed.sig});
        round.alarms.extend(alarms::record_raised(j, &row, evidence)?);
    } else {
        tracing::info!(peer = %peer, size, %reason, "the peer did not cosign our checkpoint; it will be offered again");
    }
    Ok(())
}
