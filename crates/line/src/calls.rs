//! Voice calls on a line, as the line task stores them: the line's `hotline_call::CallLine`
//! lives beside the task (like the notice index), and every input to it — an operator's
//! start, answer, decline or hang-up, a step from the peer, the line going up or down, a
//! timer — runs inside one store transaction that also writes what it produced: the
//! `call.*` record entries, each call's latest state (`calls` table), and the signed
//! `call_step` items for the peer in the outbox, pushed once the transaction commits.
//! So a call's evidence and its messages to the peer can never disagree after a crash.
//!
//! A transaction that fails leaves the `CallLine` ahead of the store; the task then drops
//! it (`None`) and the next input rebuilds it from the store, as a restart would.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_call::{Call, CallConfig, CallError, CallId, CallLine, Direction, Event, Operator, RecordEntry, Step};
use hotline_proto::Lane;
use hotline_store::{CallRow, StoreError};
use serde_json::{Value, json};

use crate::error::LineError;
use hotline_core::core::Journal;
use hotline_core::entry_kind::EntryKind;
use hotline_item::{Item, SignedItem};

/// Calls of one line restored at start-up (the live one, if any, and recent history).
#[allow(non_upper_case_globals)]
pub(crate) const calls_restored_max: i64 = 256;

/// One line's calls; `None` means "rebuild from the store before use".
pub(crate) type LiveCalls = Arc<Mutex<Option<CallLine>>>;

/// What an operator here does to a call.
#[derive(Debug)]
pub enum CallOp {
    Start,
    Answer(CallId),
    Decline(CallId),
    Hangup(CallId),
}

/// Who "we" are on this line, for the calls' entries and items.
pub(crate) struct CallEnds<'a> {
    pub(crate) local: &'a str,
    pub(crate) peer: &'a str,
    pub(crate) key: &'a hotline_identity::StationKey,
    /// The line's `call_ring_timeout_s`, in ms, for the calls we start.
    pub(crate) ring_timeout_ms: u64,
    /// The line's `call_line_grace_s`, in ms.
    pub(crate) line_grace_ms: u64,
}

fn ms(t: u64) -> String {
    hotline_core::rfc3339(t.min(i64::MAX as u64) as i64)
}

/// A call as the API, the event stream and the record show it (PRODUCT.md's shape).
pub fn call_json(call: &Call, peer: &str) -> Value {
    let ending = call.ending();
    json!({
        "id": call.id.to_string(),
        "peer": peer,
        "direction": match call.direction { Direction::Out => "out", Direction::In => "in" },
        "state": call.state().as_str(),
        "alerting": call.alerting(),
        "reason": ending.map(|e| e.reason.as_str()),
        "started": ms(call.started_ms),
        "answered": call.answered_ms.map(ms),
        "ended": ending.map(|e| ms(e.at_ms)),
        "started_by": call.started_by.as_str(),
        "answered_by": call.answered_by.as_ref().map(Operator::as_str),
        "ended_by": ending.and_then(|e| e.operator.as_ref()).map(Operator::as_str),
    })
}

fn config(ends: &CallEnds<'_>) -> CallConfig {
    CallConfig {
        ring_timeout_ms: ends.ring_timeout_ms,
        answered_line_grace_ms: ends.line_grace_ms,
        ..CallConfig::new(ends.local, ends.peer)
    }
}

/// The line's `CallLine`, rebuilt from the store if it is not in memory (start-up, or
/// after a rolled-back transaction). Restoring ends calls that were live (`restarted`),
/// which `drain` then records and tells the peer.
fn loaded<'l>(
    j: &Journal<'_>,
    ends: &CallEnds<'_>,
    live: &'l mut Option<CallLine>,
) -> Result<&'l mut CallLine, StoreError> {
    if live.is_none() {
        let rows = j.tx.calls_of(ends.peer, calls_restored_max)?;
        // A stored call that no longer reads (a newer build's stricter check) is left out
        // rather than stopping the line.
        let calls: Vec<Call> = rows.iter().filter_map(|r| serde_json::from_str(&r.call).ok()).collect();
        let now = j.now_ms.max(0) as u64;
        let line = match CallLine::restore(config(ends), now, calls) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(peer = %ends.peer, error = %e, "stored calls do not restore; starting with none");
                CallLine::new(config(ends)).map_err(|e| StoreError::Invariant(format!("call settings: {e}")))?
            }
        };
        *live = Some(line);
    }
    live.as_mut().ok_or_else(|| StoreError::Invariant("call line missing".into()))
}

/// Writes everything the call line produced: entries, call rows, signed steps for the
/// peer (into the outbox, and `outbound` for the task to push after the commit). The
/// first entry gets `envelope` (the peer's signed step that caused it), if any.
fn drain(
    j: &mut Journal<'_>,
    ends: &CallEnds<'_>,
    line: &mut CallLine,
    outbound: &mut Vec<(Lane, u64, Vec<u8>)>,
    mut envelope: Option<(&str, &str)>,
) -> Result<(), StoreError> {
    while let Some(event) = line.poll_event() {
        match event {
            Event::SendToPeer(step) => {
                let item = Item::CallStep {
                    from: ends.local.to_owned(),
                    to: ends.peer.to_owned(),
                    step: BASE64.encode(step.encode()),
                };
                let signed = SignedItem::sign(item, ends.key);
                outbound.push(crate::outbox::enqueue_control(j, ends.peer, &signed)?);
            }
            Event::Record(entry) => record(j, ends, &entry, envelope.take())?,
            Event::StateChanged(_) | Event::StartMedia(_) | Event::StopMedia(_) => {}
        }
    }
    Ok(())
}

fn record(
    j: &mut Journal<'_>,
    ends: &CallEnds<'_>,
    entry: &RecordEntry,
    envelope: Option<(&str, &str)>,
) -> Result<(), StoreError> {
    let Some(kind) = EntryKind::parse(entry.kind.as_str()) else {
        // Our own table lacks a kind the call crate writes: a build defect, not input.
        return Err(StoreError::Invariant(format!("no entry kind {}", entry.kind.as_str())));
    };
    let mut body = json!({
        "peer": ends.peer,
        "id": entry.call_id.to_string(),
        "direction": match entry.direction { Direction::Out => "out", Direction::In => "in" },
        "station": entry.station,
        "operator": entry.operator.as_ref().map(Operator::as_str),
        "reason": entry.reason.map(|r| r.as_str()),
        "call": entry.call.as_ref().map(|c| call_json(c, ends.peer)),
    });
    if let Some((text, sig)) = envelope {
        body["item"] = json!(text);
        body["sig"] = json!(sig);
    }
    j.append(kind, body)?;
    if let Some(call) = &entry.call {
        let text = serde_json::to_string(call).map_err(|e| StoreError::Invariant(format!("call state: {e}")))?;
        j.tx.upsert_call(&CallRow {
            id: call.id.to_string(),
            peer: ends.peer.to_owned(),
            live: call.is_live(),
            call: text,
            started_ms: call.started_ms.min(i64::MAX as u64) as i64,
            updated_ms: j.now_ms,
        })?;
    }
    Ok(())
}

/// An operator here starts, answers, declines or hangs up a call. A refusal by the call
/// line (line down, another call in progress) is still recorded (`call.refused`).
pub(crate) fn operate(
    j: &mut Journal<'_>,
    ends: &CallEnds<'_>,
    live: &LiveCalls,
    op: CallOp,
    by: &str,
    outbound: &mut Vec<(Lane, u64, Vec<u8>)>,
) -> Result<Result<Value, LineError>, StoreError> {
    let mut guard = live.lock().unwrap_or_else(|p| p.into_inner());
    let line = loaded(j, ends, &mut guard)?;
    let operator = match Operator::new(by) {
        Ok(o) => o,
        Err(e) => return Ok(Err(LineError::invalid("bad_request", format!("operator name: {e}")))),
    };
    let now = j.now_ms.max(0) as u64;
    let (id, result) = match op {
        CallOp::Start => {
            let uuid = uuid::Uuid::now_v7();
            let id = match CallId::from_bytes(*uuid.as_bytes()) {
                Ok(id) => id,
                Err(e) => return Ok(Err(LineError::Internal(format!("call id: {e}")))),
            };
            (id, line.start(now, id, operator))
        }
        CallOp::Answer(id) => (id, line.answer(now, id, operator)),
        CallOp::Decline(id) => (id, line.decline(now, id, operator)),
        CallOp::Hangup(id) => (id, line.hangup(now, id, operator)),
    };
    drain(j, ends, line, outbound, None)?;
    Ok(match result {
        Ok(()) => {
            line.call(id).map(|c| call_json(c, ends.peer)).ok_or_else(|| LineError::NotFound(format!("no call {id}")))
        }
        Err(e) => Err(line_error(e)),
    })
}

fn line_error(e: CallError) -> LineError {
    let message = e.to_string();
    match e {
        CallError::LineDown => LineError::LineDown(message),
        CallError::CallInProgress { .. } => LineError::CallInProgress(message),
        CallError::UnknownCall(_) => LineError::NotFound(message),
        CallError::DuplicateCallId(_)
        | CallError::WrongDirection { .. }
        | CallError::NotPossible { .. }
        | CallError::RingTimedOut(_) => LineError::Conflict(message),
    }
}

/// A call step from the peer (already signed and field-checked); a step the call line
/// refuses is recorded as refused and changes nothing.
pub(crate) fn peer_step(
    j: &mut Journal<'_>,
    ends: &CallEnds<'_>,
    live: &LiveCalls,
    signed: &SignedItem,
    outbound: &mut Vec<(Lane, u64, Vec<u8>)>,
) -> Result<(), StoreError> {
    let Item::CallStep { step, .. } = &signed.item else { return Ok(()) };
    let parsed =
        BASE64.decode(step).map_err(|e| e.to_string()).and_then(|raw| Step::parse(&raw).map_err(|e| e.to_string()));
    let mut guard = live.lock().unwrap_or_else(|p| p.into_inner());
    let line = loaded(j, ends, &mut guard)?;
    let refused = match parsed {
        Ok(step) => line.handle_peer(j.now_ms.max(0) as u64, step).err().map(|e| e.to_string()),
        Err(e) => Some(e),
    };
    if let Some(why) = refused {
        let why = hotline_item::peer_input::bounded_reason(&format!("call step refused: {why}"));
        j.append(
            EntryKind::LineItemRefused,
            json!({"peer": ends.peer, "why": why, "item": signed.text, "sig": signed.sig}),
        )?;
    }
    drain(j, ends, line, outbound, Some((&signed.text, &signed.sig)))
}

/// The line came up or went down: calls ringing or running react (a lost line fails a
/// ringing call and ends a talking one).
pub(crate) fn line_state(
    j: &mut Journal<'_>,
    ends: &CallEnds<'_>,
    live: &LiveCalls,
    up: bool,
    outbound: &mut Vec<(Lane, u64, Vec<u8>)>,
) -> Result<(), StoreError> {
    let mut guard = live.lock().unwrap_or_else(|p| p.into_inner());
    let line = loaded(j, ends, &mut guard)?;
    let now = j.now_ms.max(0) as u64;
    if up && !line.is_up() {
        line.line_up(now);
    } else if !up && line.is_up() {
        line.line_down(now);
    }
    drain(j, ends, line, outbound, None)
}

/// A call timer is due (a ring timed out, a verdict never came).
pub(crate) fn timeout(
    j: &mut Journal<'_>,
    ends: &CallEnds<'_>,
    live: &LiveCalls,
    outbound: &mut Vec<(Lane, u64, Vec<u8>)>,
) -> Result<(), StoreError> {
    let mut guard = live.lock().unwrap_or_else(|p| p.into_inner());
    let line = loaded(j, ends, &mut guard)?;
    line.handle_timeout(j.now_ms.max(0) as u64);
    drain(j, ends, line, outbound, None)
}

/// When the line's calls next need a timer (wall-clock ms), if they are in memory.
pub(crate) fn next_timeout_ms(live: &LiveCalls) -> Option<u64> {
    live.lock().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(CallLine::poll_timeout)
}

impl crate::LineTask {
    /// An operator's call operation, in one transaction with what it produces.
    pub(crate) async fn call_op(&mut self, op: CallOp, by: String) -> Result<serde_json::Value, LineError> {
        let ends = self.ends();
        let outcome = self
            .setup
            .core
            .write(move |j| {
                let mut outbound = Vec::new();
                let answer = operate(j, &ends.call_ends(), &ends.calls, op, &by, &mut outbound)?;
                Ok((answer, outbound))
            })
            .await;
        match outcome {
            Ok((answer, outbound)) => {
                for (lane, seq, payload) in outbound {
                    self.line.push(lane, seq, payload);
                }
                answer
            }
            Err(e) => {
                self.forget_calls();
                Err(LineError::from(e))
            }
        }
    }

    /// A call timer is due: the call line decides, in one transaction with its effects.
    pub(crate) async fn call_timeout(&mut self) -> Result<(), StoreError> {
        let ends = self.ends();
        let outbound = self
            .setup
            .core
            .write(move |j| {
                let mut outbound = Vec::new();
                timeout(j, &ends.call_ends(), &ends.calls, &mut outbound)?;
                Ok(outbound)
            })
            .await?;
        for (lane, seq, payload) in outbound {
            self.line.push(lane, seq, payload);
        }
        Ok(())
    }

    /// The calls in memory may be ahead of the store (a write failed): rebuild them.
    pub(crate) fn forget_calls(&self) {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
