//! Recorded calls: each station seals its own recording of a call and tells the other,
//! signed, what it holds, so each record keeps the other side's hashes too and an
//! auditor can compare the two recordings of a call without either station's files.
//!
//! Out: `accept_recording` (the recorder asks, once a recording is sealed) writes
//! `call.recorded` with our summary and sends it as a `call_recorded` item. In: `receive`
//! stores the peer's as `call.recorded_by_peer`, and how long the peer keeps its file
//! (ours is kept at least as long) — only for a call of this line; anything
//! else is refused with its reason and changes nothing (the item was checked field by
//! field in `hotline_item::peer_input`).

use super::*;
use crate::*;
use hotline_core::entry_kind::EntryKind;
use hotline_item::PacketStream;

/// A sealed recording of a call on this line, as the recorder summed it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub call: hotline_call::CallId,
    /// The file's SHA-256, lower-case hex.
    pub sha256: String,
    pub bytes: u64,
    pub duration_ms: u64,
    pub cut_off: bool,
    pub caller: PacketStream,
    pub callee: PacketStream,
}

fn body(peer: &str, call: &str, item: &Item, signed: &SignedItem) -> Value {
    let Item::CallRecorded { sha256, bytes, duration_ms, cut_off, caller, callee, retention_days, .. } = item else {
        return Value::Null;
    };
    let stream = |s: &PacketStream| json!({"packets_sha256": s.packets_sha256, "packets": s.packets});
    json!({"peer": peer, "id": call, "sha256": sha256, "bytes": bytes, "duration_ms": duration_ms,
           "cut_off": cut_off, "caller": stream(caller), "callee": stream(callee),
           "retention_days": retention_days, "item": signed.text, "sig": signed.sig})
}

fn stopped_body(peer: &str, call: &str, signed: &SignedItem) -> Value {
    let Item::CallRecordingStopped { stopped_ms, why, .. } = &signed.item else {
        return Value::Null;
    };
    json!({"peer": peer, "id": call, "why": why, "stopped_at": hotline_core::rfc3339(*stopped_ms),
           "item": signed.text, "sig": signed.sig})
}

impl LineTask {
    /// Records our sealed recording of a call on this line and sends its summary.
    pub(crate) async fn accept_recording(&mut self, recording: Recording) -> Result<(), LineError> {
        let ends = self.ends();
        let retention_days = self.setup.recording_retention_days;
        let outbound = self
            .setup
            .core
            .write(move |j| {
                let call = recording.call.to_string();
                match j.tx.call(&call)? {
                    Some(row) if row.peer == ends.peer => {}
                    _ => return Ok(Err(LineError::NotFound(format!("no call {call} on the line to {}", ends.peer)))),
                }
                j.tx.put_call_recording(&hotline_store::CallRecordingRow {
                    call: call.clone(),
                    sha256: recording.sha256.clone(),
                    bytes: recording.bytes,
                    duration_ms: recording.duration_ms,
                    cut_off: recording.cut_off,
                    recorded_ms: j.now_ms,
                    retention_days,
                    deleted_ms: None,
                    deleted_why: None,
                    peer_retention_days: None,
                })?;
                let item = Item::CallRecorded {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    call: call.clone(),
                    sha256: recording.sha256,
                    bytes: recording.bytes,
                    duration_ms: recording.duration_ms,
                    cut_off: recording.cut_off,
                    caller: recording.caller,
                    callee: recording.callee,
                    retention_days,
                };
                let signed = SignedItem::sign(item, &ends.key);
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                j.append(EntryKind::CallRecorded, body(&ends.peer, &call, &signed.item, &signed))?;
                Ok(Ok(outbound))
            })
            .await
            .map_err(LineError::from)??;
        let (lane, seq, payload) = outbound;
        self.line.push(lane, seq, payload);
        Ok(())
    }
}

impl LineTask {
    /// Our recorder could not write a call's recording: the record says when and why,
    /// and a critical alarm tells the operators (the call itself goes on). Only for a
    /// call of this line.
    pub(crate) async fn recording_stopped(
        &mut self,
        call: hotline_call::CallId,
        stopped_ms: i64,
        why: String,
    ) -> Result<(), LineError> {
        let ends = self.ends();
        let detail = format!("call {call}: {why}");
        let outbound = self
            .setup
            .core
            .write(move |j| {
                let call = call.to_string();
                match j.tx.call(&call)? {
                    Some(row) if row.peer == ends.peer => {}
                    _ => return Ok(Err(LineError::NotFound(format!("no call {call} on the line to {}", ends.peer)))),
                }
                let stop = hotline_store::RecordingStop { side: hotline_store::StopSide::Here, stopped_ms, why };
                j.tx.put_recording_stop(&call, &stop)?;
                let item = Item::CallRecordingStopped {
                    from: ends.local.clone(),
                    to: ends.peer.clone(),
                    call: call.clone(),
                    stopped_ms,
                    why: stop.why,
                };
                let signed = SignedItem::sign(item, &ends.key);
                let outbound = enqueue_control(j, &ends.peer, &signed)?;
                j.append(EntryKind::CallRecordingStopped, stopped_body(&ends.peer, &call, &signed))?;
                Ok(Ok(outbound))
            })
            .await
            .map_err(LineError::from)??;
        let (lane, seq, payload) = outbound;
        self.line.push(lane, seq, payload);
        self.setup.supervisor.recording_stopped(&self.setup.peer, &detail);
        Ok(())
    }
}

/// The peer sealed its recording of a call: kept only for a call of this line.
pub(super) fn receive(j: &mut Journal<'_>, ends: &Ends, signed: &SignedItem) -> Result<(), StoreError> {
    let Item::CallRecorded { call, retention_days, .. } = &signed.item else {
        return Err(not_routed("call_recorded"));
    };
    let peer = ends.peer.as_str();
    let known = j.tx.call(call)?.is_some_and(|row| row.peer == peer);
    if known {
        // Our own recording of the call is kept at least as long as the peer keeps its.
        j.tx.put_peer_recording_retention(call, *retention_days)?;
        j.append(EntryKind::CallRecordedByPeer, body(peer, call, &signed.item, signed))?;
    } else {
        j.append(
            EntryKind::LineItemRefused,
            json!({"peer": peer, "why": format!("a recording of unknown call {call}"), "item": signed.text}),
        )?;
    }
    Ok(())
}

/// The peer's recorder stopped recording a call of this line: recorded, and the same
/// critical alarm raised here, so the operators at both ends know the call's evidence is
/// one-sided from then on. A call of another line is refused and changes nothing.
pub(super) fn receive_stopped(
    j: &mut Journal<'_>,
    ends: &Ends,
    round: &mut Round,
    signed: &SignedItem,
) -> Result<(), StoreError> {
    let Item::CallRecordingStopped { call, why, .. } = &signed.item else {
        return Err(not_routed("call_recording_stopped"));
    };
    let peer = ends.peer.as_str();
    if j.tx.call(call)?.is_none_or(|row| row.peer != peer) {
        j.append(
            EntryKind::LineItemRefused,
            json!({"peer": peer, "why": format!("a stopped recording of unknown call {call}"), "item": signed.text}),
        )?;
        return Ok(());
    }
    // Kept by our clock: the peer's `stopped_ms` is its claim (in the entry, as it sent it).
    let stop =
        hotline_store::RecordingStop { side: hotline_store::StopSide::Peer, stopped_ms: j.now_ms, why: why.clone() };
    j.tx.put_recording_stop(call, &stop)?;
    j.append(EntryKind::CallRecordingStoppedByPeer, stopped_body(peer, call, signed))?;
    round.observed.push(Observed::RecordingStoppedByPeer { detail: format!("call {call}: {why}") });
    Ok(())
}
