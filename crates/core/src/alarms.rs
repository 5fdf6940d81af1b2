//! Alarms in the store and the record: one row per alarm, one entry per transition.
//!
//! An alarm is raised (`alarm.raised`), acknowledged by an operator (`alarm.acknowledged`,
//! which stops escalation) and cleared — by a person (`alarm.cleared` with `by`), or by the
//! station when its cause ends (`by` null, with the reason). The row and the entry are
//! written in one transaction, so the alarm list is always a view of the record. Causes
//! are `hotline_watch::Cause`; their particulars (precedence, direction) are kept as JSON
//! so a restarted station rebuilds the exact cause and its alarm key. An overdue-messages
//! alarm stands for several messages: its detail also holds their `count` and the ids of
//! the oldest (at most [`overdue_ids_max`]), and `alarm.updated` records a changed count.

use hotline_store::{AlarmRow, StoreError};
use hotline_watch::{Cause, Direction, Precedence};
use serde_json::{Value, json};

use crate::core::Journal;
use crate::entry_kind::EntryKind;
use crate::rfc3339;

/// Message ids an overdue-messages alarm lists in its detail (the count says how many
/// there are): the entry stays small however many messages the peer sent.
#[allow(non_upper_case_globals)]
pub const overdue_ids_max: usize = 20;

/// The cause's particulars, as stored in `alarms.detail`.
pub fn cause_detail(cause: &Cause) -> Value {
    match cause {
        Cause::WatchCheckMissed { peer, direction } => json!({"peer": peer, "direction": direction.as_str()}),
        Cause::AckOverdue { peer, precedence, direction } => json!({
            "peer": peer, "precedence": precedence.as_str(), "direction": direction.as_str()
        }),
        other => json!({"peer": other.peer()}),
    }
}

/// The detail of an overdue-messages alarm: the cause's particulars, how many messages
/// are overdue, and the oldest (`message`, kept for readers of one-message alarms) and
/// the first [`overdue_ids_max`] of their ids.
pub fn overdue_detail(cause: &Cause, count: usize, ids: &[String]) -> Value {
    let mut detail = cause_detail(cause);
    detail["count"] = json!(count);
    detail["message"] = json!(ids.first());
    detail["messages"] = json!(ids.iter().take(overdue_ids_max).collect::<Vec<_>>());
    detail
}

/// How many occurrences an alarm stands for, from its detail (1 unless coalesced).
pub fn count_of(row: &AlarmRow) -> usize {
    let detail: Value = serde_json::from_str(&row.detail).unwrap_or_default();
    detail.get("count").and_then(Value::as_u64).map_or(1, |n| n as usize)
}

/// Rebuilds the cause of a stored alarm; `None` for a cause this build does not know, or
/// whose key is not the cause's (an overdue alarm about one message, from before such
/// alarms were coalesced: left for a person to clear).
pub fn cause_of(row: &AlarmRow) -> Option<Cause> {
    let cause = parse_cause(row)?;
    (cause.key() == row.key).then_some(cause)
}

fn parse_cause(row: &AlarmRow) -> Option<Cause> {
    let detail: Value = serde_json::from_str(&row.detail).ok()?;
    let s = |k: &str| detail.get(k).and_then(Value::as_str).map(str::to_owned);
    let peer = || s("peer");
    let direction = || s("direction").as_deref().and_then(Direction::parse);
    Some(match row.cause.as_str() {
        "line_down" => Cause::LineDown { peer: peer()? },
        "watch_check_missed" => Cause::WatchCheckMissed { peer: peer()?, direction: direction()? },
        "ack_overdue" => Cause::AckOverdue {
            peer: peer()?,
            precedence: Precedence::parse(&s("precedence")?)?,
            direction: direction()?,
        },
        "peer_key_mismatch" => Cause::PeerKeyMismatch { peer: peer()? },
        "record_fork" => Cause::RecordFork { peer: peer()? },
        "storage" => Cause::Storage,
        "low_disk" => Cause::LowDisk,
        "nobody_on_watch" => Cause::NobodyOnWatch { peer: peer()? },
        "line_task_failed" => Cause::LineTaskFailed { peer: peer()? },
        "recording_stopped" => Cause::RecordingStopped { peer: peer()? },
        "peer_recording_stopped" => Cause::PeerRecordingStopped { peer: peer()? },
        _ => return None,
    })
}

/// A new alarm row for `cause`, raised at `raised_ms`.
pub fn new_row(cause: &Cause, text: String, raised_ms: i64) -> AlarmRow {
    AlarmRow {
        id: uuid::Uuid::now_v7().to_string(),
        key: cause.key(),
        cause: cause.name().to_owned(),
        severity: cause.severity().as_str().to_owned(),
        peer: cause.peer().map(str::to_owned),
        detail: cause_detail(cause).to_string(),
        text,
        raised_ms,
        acked_by: None,
        acked_ms: None,
        cleared_by: None,
        cleared_ms: None,
        steps_done: 0,
    }
}

/// The JSON shape of an alarm, shared by the API, the event stream and the record.
pub fn alarm_json(a: &AlarmRow) -> Value {
    json!({
        "id": a.id,
        "key": a.key,
        "cause": a.cause,
        "severity": a.severity,
        "peer": a.peer,
        "detail": serde_json::from_str::<Value>(&a.detail).unwrap_or(Value::Null),
        "text": a.text,
        "state": a.state(),
        "raised": rfc3339(a.raised_ms),
        "acknowledged_by": a.acked_by,
        "acknowledged": a.acked_ms.map(rfc3339),
        "cleared_by": a.cleared_by,
        "cleared": a.cleared_ms.map(rfc3339),
        "escalation_steps": a.steps_done,
    })
}

/// Writes a raised alarm and its entry, with `evidence` (for example the peer's signed
/// item) merged into the entry. Returns the row, or `None` if an alarm with the same key
/// is already open (then nothing is written).
pub fn record_raised(j: &mut Journal<'_>, row: &AlarmRow, evidence: Value) -> Result<Option<AlarmRow>, StoreError> {
    if !j.tx.insert_alarm(row)? {
        return Ok(None);
    }
    let mut body = json!({
        "alarm": alarm_json(row),
        "severity": row.severity,
        "cause": row.cause,
        "peer": row.peer,
        "message": row.text,
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, evidence) {
        body.extend(extra);
    }
    j.append(EntryKind::AlarmRaised, body)?;
    Ok(Some(row.clone()))
}

/// An operator acknowledged alarm `id`. `Ok(None)`: no such alarm.
pub fn acknowledge(j: &mut Journal<'_>, id: &str, by: &str) -> Result<Option<AlarmRow>, StoreError> {
    let Some(before) = j.tx.alarm(id)? else { return Ok(None) };
    if j.tx.ack_alarm(id, by, j.now_ms)? {
        let row = j.tx.alarm(id)?.unwrap_or(before);
        j.append(EntryKind::AlarmAcknowledged, json!({"alarm": alarm_json(&row), "by": by}))?;
        return Ok(Some(row));
    }
    Ok(Some(before))
}

/// Clears alarm `id`: by a person (`by`), or by the station with `reason`. `Ok(None)`:
/// no such alarm.
pub fn clear(j: &mut Journal<'_>, id: &str, by: Option<&str>, reason: &str) -> Result<Option<AlarmRow>, StoreError> {
    let Some(before) = j.tx.alarm(id)? else { return Ok(None) };
    if j.tx.clear_alarm(id, by, j.now_ms)? {
        let row = j.tx.alarm(id)?.unwrap_or(before);
        j.append(EntryKind::AlarmCleared, json!({"alarm": alarm_json(&row), "by": by, "reason": reason}))?;
        return Ok(Some(row));
    }
    Ok(Some(before))
}

/// The open alarm `key` now stands for `count` occurrences of its condition (overdue
/// messages): its text and detail change, and an `alarm.updated` entry says so. Its
/// escalation and acknowledgment are untouched. `Ok(None)`: no such alarm is open.
pub fn update(
    j: &mut Journal<'_>,
    key: &str,
    text: &str,
    detail: &Value,
    count: usize,
) -> Result<Option<AlarmRow>, StoreError> {
    let Some(open) = j.tx.open_alarm(key)? else { return Ok(None) };
    j.tx.update_alarm(&open.id, text, &detail.to_string())?;
    let row = j.tx.alarm(&open.id)?.unwrap_or(open);
    j.append(EntryKind::AlarmUpdated, json!({"alarm": alarm_json(&row), "count": count, "message": row.text}))?;
    Ok(Some(row))
}
