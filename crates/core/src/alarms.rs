//! Alarms in the store and the record: one row per alarm, one entry per transition.
//!
//! An alarm is raised (`alarm.raised`), acknowledged by an operator (`alarm.acknowledged`,
//! which stops escalation) and cleared — by a person (`alarm.cleared` with `by`), or by the
//! station when its cause ends (`by` null, with the reason). The row and the entry are
//! written in one transaction, so the alarm list is always a view of the record. Causes
//! are `hotline_watch::Cause`; their particulars (message id, precedence, direction) are
//! kept as JSON so a restarted station rebuilds the exact cause and its alarm key.

use hotline_store::{AlarmRow, StoreError};
use hotline_watch::{Cause, Direction, Precedence};
use serde_json::{Value, json};

use crate::core::Journal;
use crate::entry_kind::EntryKind;
use crate::rfc3339;

/// The cause's particulars, as stored in `alarms.detail`.
pub fn cause_detail(cause: &Cause) -> Value {
    match cause {
        Cause::WatchCheckMissed { peer, direction } => json!({"peer": peer, "direction": direction.as_str()}),
        Cause::AckOverdue { peer, message, precedence, direction } => json!({
            "peer": peer, "message": message, "precedence": precedence.as_str(), "direction": direction.as_str()
        }),
        other => json!({"peer": other.peer()}),
    }
}

/// Rebuilds the cause of a stored alarm; `None` for a cause this build does not know.
pub fn cause_of(row: &AlarmRow) -> Option<Cause> {
    let detail: Value = serde_json::from_str(&row.detail).ok()?;
    let s = |k: &str| detail.get(k).and_then(Value::as_str).map(str::to_owned);
    let peer = || s("peer");
    let direction = || s("direction").as_deref().and_then(Direction::parse);
    Some(match row.cause.as_str() {
        "line_down" => Cause::LineDown { peer: peer()? },
        "watch_check_missed" => Cause::WatchCheckMissed { peer: peer()?, direction: direction()? },
        "ack_overdue" => Cause::AckOverdue {
            peer: peer()?,
            message: s("message")?,
            precedence: Precedence::parse(&s("precedence")?)?,
            direction: direction()?,
        },
        "peer_key_mismatch" => Cause::PeerKeyMismatch { peer: peer()? },
        "record_fork" => Cause::RecordFork { peer: peer()? },
        "storage" => Cause::Storage,
        "low_disk" => Cause::LowDisk,
        "nobody_on_watch" => Cause::NobodyOnWatch { peer: peer()? },
        "line_task_failed" => Cause::LineTaskFailed { peer: peer()? },
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
