//! What a line task writes when the line produces events: one transaction per round.
//!
//! Received items are opened (signature, sender, recipient) and stored with their record
//! entries — messages, acknowledgments, receipts, notices, checkpoints to witness and
//! cosignatures — and every control item the round answers with (a signed receipt, a
//! cosignature or a refusal) goes into the outbox in the same transaction, for the line
//! task to push once it commits. A payload that does not open is stored as refused, so
//! the lane moves on and nothing the peer sent is silently dropped.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_audit::origin_of;
use hotline_proto::Event;
use hotline_record::checkpoint::Checkpoint;
use hotline_record::cosignature::verify_cosignature;
use hotline_record::merkle::Hash;
use hotline_record::note::NoteSigner;
use hotline_record::witness::Witness;
use hotline_store::{Direction, MessageRow, NoticeRow, StoreError, WatchCheckRow};
use hotline_watch::Cause;
use serde_json::json;

use super::{Ends, Observed, Round};
use hotline_core::core::Journal;
use hotline_core::entry_kind::EntryKind;
use hotline_core::views::message_json;
use hotline_core::{alarms, texts};
use hotline_item::peer_input::{bounded_reason, check_window_ms_max, check_window_ms_min};
use hotline_item::{Item, ReceiptEntry, SignedItem, receipt_messages_max};

/// Signs `item`, writes it to the outbox on the control lane, and lists it for pushing
/// after the commit.
fn send_control(j: &mut Journal<'_>, ends: &Ends, round: &mut Round, item: Item) -> Result<SignedItem, StoreError> {
    let signed = SignedItem::sign(item, &ends.key);
    round.outbound.push(super::enqueue_control(j, &ends.peer, &signed)?);
    Ok(signed)
}

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
            Event::Sent { lane, seq } => {
                if let Some(id) = j.tx.mark_sent(peer, lane, seq, now)?
                    && let Some(m) = j.tx.message(&id)?
                {
                    j.append(EntryKind::MessageSent, json!({"peer": peer, "id": id, "message": message_json(&m)}))?;
                }
            }
            Event::Delivered { lane, seq } => {
                for id in j.tx.mark_receipted(peer, lane, seq, now)? {
                    if let Some(m) = j.tx.message(&id)? {
                        j.append(
                            EntryKind::MessageDelivered,
                            json!({"peer": peer, "id": id, "message": message_json(&m)}),
                        )?;
                    }
                }
            }
            Event::Received { lane, seq, payload } => {
                j.tx.insert_inbox(peer, lane, seq, now)?;
                match SignedItem::open(&payload, &ends.peer_key, &ends.local) {
                    Ok(signed) => store_item(j, ends, &mut round, &mut stored_messages, signed)?,
                    Err(why) => {
                        let why = bounded_reason(&why);
                        let text = String::from_utf8_lossy(&payload).into_owned();
                        j.append(
                            EntryKind::LineItemRefused,
                            json!({"peer": peer, "lane": lane as u8, "seq": seq, "why": why, "payload": text}),
                        )?;
                    }
                }
            }
            Event::Rtt { .. } | Event::Closed { .. } => {}
        }
    }
    // One signed receipt per round for the messages it stored: the peer's proof that we
    // have them, in our own words.
    for chunk in stored_messages.chunks(receipt_messages_max) {
        let item =
            Item::Receipt { from: ends.local.clone(), to: ends.peer.clone(), at_ms: now, messages: chunk.to_vec() };
        let signed = send_control(j, ends, &mut round, item)?;
        j.append(EntryKind::ReceiptSent, json!({"peer": peer, "item": signed.text, "sig": signed.sig}))?;
    }
    Ok(round)
}

fn store_item(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    stored_messages: &mut Vec<ReceiptEntry>,
    signed: SignedItem,
) -> Result<(), StoreError> {
    let peer = ends.peer.as_str();
    match &signed.item {
        Item::Message { id, precedence, lang, body, reply_to, author, created_ms, .. } => {
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
                round.observed.push(Observed::Message {
                    id: id.clone(),
                    precedence: precedence.clone(),
                    created_ms: j.now_ms,
                });
                j.append(
                    EntryKind::MessageReceived,
                    json!({"peer": peer, "id": id, "message": message_json(&row), "item": signed.text, "sig": signed.sig}),
                )?;
            } else {
                // Same id again (a peer that lost its outbox and re-sent): suppressed.
                j.append(
                    EntryKind::MessageDuplicate,
                    json!({"peer": peer, "id": id, "item": signed.text, "sig": signed.sig}),
                )?;
            }
            stored_messages.push(ReceiptEntry { id: id.clone(), item_sha256: signed.sha256_hex() });
        }
        Item::Ack { id, by, at_ms, .. } => {
            let ours = j.tx.message(id)?.is_some_and(|m| m.direction == Direction::Out && m.peer == peer);
            if ours {
                j.tx.set_acked(id, by, *at_ms)?;
                round.observed.push(Observed::Acknowledged { id: id.clone() });
                let m = j.tx.message(id)?;
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
        }
        Item::Receipt { .. } => {
            j.append(EntryKind::ReceiptReceived, json!({"peer": peer, "item": signed.text, "sig": signed.sig}))?;
        }
        Item::NoticeAck { id, version, by, at_ms, .. } => {
            let ours = j.tx.latest_notice(id)?.is_some_and(|n| n.side == "ours" && n.peer == peer);
            if ours && j.tx.ack_notice(id, *version, by, *at_ms)? {
                j.append(
                    EntryKind::NoticeAcknowledgedByPeer,
                    json!({"peer": peer, "id": id, "version": version, "by": by, "item": signed.text, "sig": signed.sig}),
                )?;
            } else if !ours {
                j.append(
                    EntryKind::LineItemRefused,
                    json!({"peer": peer, "why": format!("acknowledgment for unknown notice {id}"), "item": signed.text}),
                )?;
            }
        }
        Item::Notice { id, version, state, notice, .. } => {
            let limits = hotline_notice::Limits::default();
            let known_state = matches!(state.as_str(), "filed" | "amended" | "cancelled");
            let stored = j.tx.latest_notice(id)?;
            let stale = stored.as_ref().is_some_and(|n| n.side != "theirs" || n.version >= *version);
            // A new notice needs room: a peer cannot make us hold (and check) without end.
            let full = stored.is_none()
                && !hotline_core::notices::has_room(&ends.notices, hotline_core::notices::Side::Theirs);
            match hotline_notice::parse_notice(notice, &limits) {
                Ok(_) if full => {
                    let why = format!(
                        "notice {id} refused: the line holds the most active notices of {peer} ({})",
                        hotline_core::notices::active_notices_max
                    );
                    j.append(
                        EntryKind::LineItemRefused,
                        json!({"peer": peer, "why": why, "item": signed.text, "sig": signed.sig}),
                    )?;
                }
                Ok(parsed) if known_state && !stale => {
                    let row = NoticeRow {
                        id: id.clone(),
                        version: *version,
                        peer: peer.to_owned(),
                        side: "theirs".into(),
                        state: state.clone(),
                        body: notice.clone(),
                        end_ms: (parsed.end.unix_timestamp_nanos() / 1_000_000) as i64,
                        created_ms: j.now_ms,
                        acked_by: None,
                        acked_ms: None,
                    };
                    j.tx.insert_notice(&row)?;
                    j.append(
                        EntryKind::NoticeReceived,
                        json!({"peer": peer, "id": id, "version": version, "state": state,
                               "notice": hotline_core::notices::notice_json(&row, &ends.local),
                               "summary": hotline_core::notices::summary(&ends.lang, notice),
                               "item": signed.text, "sig": signed.sig}),
                    )?;
                    let names = hotline_core::notices::Names { local: &ends.local, lang: &ends.lang };
                    hotline_core::notices::detect_conflicts(j, &names, peer, id, &ends.notices)?;
                }
                other => {
                    let why = match other {
                        Err(e) => format!("notice {id} v{version} is invalid: {e}"),
                        Ok(_) if !known_state => format!("notice {id} v{version} has unknown state {state:?}"),
                        Ok(_) => format!("notice {id} v{version} is older than the version stored"),
                    };
                    j.append(
                        EntryKind::LineItemRefused,
                        json!({"peer": peer, "why": why, "item": signed.text, "sig": signed.sig}),
                    )?;
                }
            }
        }
        Item::Checkpoint { note, old_size, proof, .. } => witness(j, ends, round, note, *old_size, proof)?,
        Item::WatchCheck { id, sent_ms, deadline_ms, .. } => {
            // The peer's clock and its choice of deadline are claims: we give the window it
            // asks for (bounded), counted from when the check reached us, so a check sent
            // with a past deadline cannot record us as having missed it.
            let window_ms = (deadline_ms - sent_ms).clamp(check_window_ms_min, check_window_ms_max);
            let deadline_ms = &(j.now_ms + window_ms);
            let row = WatchCheckRow {
                id: id.clone(),
                peer: peer.to_owned(),
                direction: "in".into(),
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
        }
        Item::WatchAnswer { id, by, at_ms, .. } => {
            let check = j.tx.watch_check(id)?.filter(|c| c.peer == peer && c.direction == "out");
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
        }
        Item::Presence { on_watch, since_ms, .. } => {
            let since_ms = &(*since_ms).min(j.now_ms);
            j.tx.set_peer_presence(peer, i64::from(*on_watch), *since_ms)?;
            j.append(
                EntryKind::PresenceReceived,
                json!({"peer": peer, "on_watch": on_watch, "since": hotline_core::rfc3339(*since_ms),
                       "item": signed.text, "sig": signed.sig}),
            )?;
            round.observed.push(Observed::Presence { on_watch: *on_watch, since_ms: *since_ms });
        }
        Item::CallStep { .. } => {
            super::calls::peer_step(j, &ends.call_ends(), &ends.calls, &signed, &mut round.outbound)?
        }
        Item::Cosignature { size, line, .. } => {
            round.witness_answered = true;
            let ours = j.tx.checkpoint(*size)?;
            let verified = ours
                .as_deref()
                .map(|note| format!("{note}{line}"))
                .map(|note| verify_cosignature(&note, &ends.peer_key));
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
        }
        Item::WitnessRefusal { size, reason, critical, .. } => {
            round.witness_answered = true;
            if *critical {
                round.witness_critical = true;
                let cause = Cause::RecordFork { peer: peer.to_owned() };
                let text =
                    texts::render(&ends.lang, &hotline_i18n::texts::alarm_cosignature_refused(peer, *size, reason));
                let row = alarms::new_row(&cause, text, j.now_ms);
                let evidence =
                    json!({"cosignature_refused": true, "size": size, "item": signed.text, "sig": signed.sig});
                round.alarms.extend(alarms::record_raised(j, &row, evidence)?);
            } else {
                tracing::info!(peer = %peer, size, %reason, "the peer did not cosign our checkpoint; it will be offered again");
            }
        }
    }
    Ok(())
}

/// We witness the peer's checkpoint: cosign it only if it extends the last one we
/// cosigned for that peer; otherwise refuse, and raise a critical alarm if the proof
/// shows a rewritten or forked history.
fn witness(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    note: &str,
    old_size: u64,
    proof: &[String],
) -> Result<(), StoreError> {
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
