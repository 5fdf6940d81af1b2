//! Notices on a line and the conflicts between them, as the line task stores them.
//!
//! A notice is filed at one station and travels to the other as a signed `notice` item;
//! each amendment or cancellation is a new version of it. Whenever a version is stored —
//! ours or theirs — the line's active notices are checked against it with
//! `hotline_notice::ConflictIndex`, in the same transaction, so a conflict is in the record
//! (`conflict.raised`) the moment the second notice is. Conflict ids are derived from the
//! two notice ids, so both stations name the same conflict alike.

use hotline_notice::{ConflictIndex, Limits, Separation, conflict, parse_notice};
use hotline_store::{ConflictRow, NoticeRow, StoreError};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::core::Journal;

/// The id both stations give the conflict between notices `a` and `b`.
pub fn conflict_id(a: &str, b: &str) -> String {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    let digest = Sha256::digest(format!("{first}|{second}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A notice version as the API shows it: the notice JSON with id, version, side, state.
pub fn notice_json(n: &NoticeRow, local: &str) -> Value {
    let mut v: Value = serde_json::from_str(&n.body).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("id".into(), json!(n.id));
        map.insert("version".into(), json!(n.version));
        map.insert("side".into(), json!(n.side));
        let acknowledged = n.acked_ms.is_some() && n.state != "cancelled";
        map.insert("state".into(), json!(if acknowledged { "acknowledged" } else { n.state.as_str() }));
        map.insert("acknowledged_by".into(), json!(n.acked_by));
        map.insert("acknowledged".into(), json!(n.acked_ms.map(crate::rfc3339)));
        let station = if n.side == "ours" { local } else { n.peer.as_str() };
        map.insert("station".into(), json!(station));
        map.insert("peer".into(), json!(n.peer));
        map.insert("updated".into(), json!(crate::rfc3339(n.created_ms)));
    }
    v
}

pub fn conflict_json(c: &ConflictRow) -> Value {
    let detail: Value = serde_json::from_str(&c.detail).unwrap_or(Value::Null);
    let state = if c.resolved_ms.is_some() {
        "resolved"
    } else if c.acked_ms.is_some() {
        "acknowledged"
    } else {
        "open"
    };
    json!({
        "id": c.id, "peer": c.peer, "notices": [c.a, c.b], "state": state, "detail": detail,
        "raised": crate::rfc3339(c.raised_ms), "acknowledged_by": c.acked_by,
        "acknowledged": c.acked_ms.map(crate::rfc3339), "resolved": c.resolved_ms.map(crate::rfc3339),
    })
}

/// Re-checks notice `changed` against the line's active notices: raises the conflicts it
/// now has and resolves those it no longer has.
pub fn detect_conflicts(j: &mut Journal<'_>, peer: &str, changed: &str) -> Result<(), StoreError> {
    let sep = Separation::default();
    let limits = Limits::default();
    let now = j.now_ms;
    let buffer_ms = sep.time_buffer.whole_milliseconds() as i64;
    let mut index = ConflictIndex::new(sep);
    for n in j.tx.latest_notices(peer)? {
        // Stored bodies were validated on the way in; one that no longer parses (a newer
        // build's stricter check) is left out rather than stopping the line.
        if n.state != "cancelled"
            && n.end_ms + buffer_ms >= now
            && let Ok(parsed) = parse_notice(&n.body, &limits)
        {
            index.insert(n.id.clone(), parsed);
        }
    }
    let changed_id = changed.to_owned();
    let now_conflicting =
        if index.get(&changed_id).is_some() { index.conflicts_of_id(&changed_id) } else { Vec::new() };
    for other in &now_conflicting {
        let (a, b) = if changed_id <= *other {
            (changed_id.clone(), other.clone())
        } else {
            (other.clone(), changed_id.clone())
        };
        let (Some(na), Some(nb)) = (index.get(&a), index.get(&b)) else { continue };
        let Some(close) = conflict(na, nb, &sep) else { continue };
        let detail = json!({
            "lateral_m": (close.lateral_m * 10.0).round() / 10.0,
            "vertical_gap_m": close.vertical_gap_m,
            "time_gap_s": close.time_gap.whole_seconds(),
        });
        let row = ConflictRow {
            id: conflict_id(&a, &b),
            peer: peer.to_owned(),
            a,
            b,
            detail: detail.to_string(),
            raised_ms: now,
            acked_by: None,
            acked_ms: None,
            resolved_ms: None,
        };
        if j.tx.raise_conflict(&row)? {
            j.append("conflict.raised", json!({"peer": peer, "conflict": conflict_json(&row)}))?;
        }
    }
    for c in j.tx.conflicts()? {
        let involved = c.a == changed_id || c.b == changed_id;
        let other = if c.a == changed_id { &c.b } else { &c.a };
        if c.peer == peer && involved && c.resolved_ms.is_none() && !now_conflicting.contains(other) {
            j.tx.resolve_conflict(&c.id, now)?;
            j.append("conflict.resolved", json!({"peer": peer, "id": c.id, "notices": [c.a, c.b]}))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_stations_name_a_conflict_alike() {
        assert_eq!(super::conflict_id("a", "b"), super::conflict_id("b", "a"));
        assert_ne!(super::conflict_id("a", "b"), super::conflict_id("a", "c"));
        assert_eq!(super::conflict_id("a", "b").len(), 32);
    }
}
