//! Notices on a line and the conflicts between them, as the line task stores them.
//!
//! A notice is filed at one station and travels to the other as a signed `notice` item;
//! each amendment or cancellation is a new version of it. Whenever a version is stored —
//! ours or theirs — it is checked against the *other side's* active notices with
//! `hotline_notice::ConflictIndex`, in the same transaction, so a conflict is in the record
//! (`conflict.raised`) the moment the second notice is. Deconfliction is between the two
//! organizations: two of the peer's own notices that overlap are the peer's business, and
//! checking them against each other would let a peer flood us with K²/2 conflicts.
//! Conflict ids are derived from the two notice ids, so both stations name the same
//! conflict alike. A line holds at most `active_notices_max` active notices per side.

use hotline_notice::{ConflictIndex, Limits, Separation, conflict, parse_notice};
use hotline_store::{ConflictRow, NoticeRow, StoreError};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::core::Journal;
use crate::entry_kind::EntryKind;

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

/// Which station filed a notice, as the store keeps it (`side`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Ours,
    Theirs,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Theirs => "theirs",
        }
    }

    /// The stored text; anything but "ours" is the peer's (rows are written only here).
    pub fn of(row: &NoticeRow) -> Side {
        if row.side == "ours" { Side::Ours } else { Side::Theirs }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Ours => Side::Theirs,
            Side::Theirs => Side::Ours,
        }
    }
}

/// Most active notices of one side on one line: well above the benchmark's million, a
/// bound on what a peer can make us hold in memory and check against.
#[allow(non_upper_case_globals)]
pub const active_notices_max: usize = 2_000_000;

/// A line's active notices, one R-tree per side: a notice is checked against the other
/// side's only.
pub struct SideIndexes {
    pub ours: ConflictIndex<String>,
    pub theirs: ConflictIndex<String>,
}

impl SideIndexes {
    pub fn side(&self, side: Side) -> &ConflictIndex<String> {
        match side {
            Side::Ours => &self.ours,
            Side::Theirs => &self.theirs,
        }
    }

    pub fn side_mut(&mut self, side: Side) -> &mut ConflictIndex<String> {
        match side {
            Side::Ours => &mut self.ours,
            Side::Theirs => &mut self.theirs,
        }
    }

    /// The notice with `id`, whichever side filed it.
    pub fn get(&self, id: &str) -> Option<&hotline_notice::Notice> {
        let id = id.to_owned();
        self.ours.get(&id).or_else(|| self.theirs.get(&id))
    }
}

/// One line's active notices, kept in memory by the line task and updated with every
/// stored version, so a check is an index query, not a rebuild. `None` means "rebuild
/// from the store before use": the start, and after a transaction that may have changed
/// the index and then rolled back.
pub type LiveIndex = std::sync::Arc<std::sync::Mutex<Option<SideIndexes>>>;

/// Whether the line can take one more active notice on `side` (the API and the peer's
/// notices are refused past the bound, with a clear reason).
pub fn has_room(live: &LiveIndex, side: Side) -> bool {
    let guard = live.lock().unwrap_or_else(|p| p.into_inner());
    guard.as_ref().is_none_or(|i| i.side(side).len() < active_notices_max)
}

/// Notices are active until their end plus the time buffer: until then a new notice may
/// still come within the buffer of them.
fn active(n: &NoticeRow, now_ms: i64, buffer_ms: i64) -> bool {
    matches!(n.state.as_str(), "filed" | "amended") && n.end_ms + buffer_ms >= now_ms
}

fn loaded<'i>(
    j: &Journal<'_>,
    peer: &str,
    live: &'i mut Option<SideIndexes>,
) -> Result<&'i mut SideIndexes, StoreError> {
    if live.is_none() {
        let sep = Separation::default();
        let buffer_ms = sep.time_buffer.whole_milliseconds() as i64;
        let limits = Limits::default();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for n in j.tx.latest_notices(peer)?.into_iter().filter(|n| active(n, j.now_ms, buffer_ms)) {
            // Stored bodies were validated on the way in; one that no longer parses (a newer
            // build's stricter check) is left out rather than stopping the line.
            if let Ok(p) = parse_notice(&n.body, &limits) {
                match Side::of(&n) {
                    Side::Ours => ours.push((n.id, p)),
                    Side::Theirs => theirs.push((n.id, p)),
                }
            }
        }
        *live = Some(SideIndexes {
            ours: ConflictIndex::bulk_load(sep, ours),
            theirs: ConflictIndex::bulk_load(sep, theirs),
        });
    }
    Ok(live.get_or_insert_with(|| SideIndexes {
        ours: ConflictIndex::new(Separation::default()),
        theirs: ConflictIndex::new(Separation::default()),
    }))
}

/// Re-checks notice `changed` (its latest stored version) against the line's active
/// notices: updates the live index, raises the conflicts it now has and resolves those it
/// no longer has.
pub fn detect_conflicts(
    j: &mut Journal<'_>,
    names: &Names<'_>,
    peer: &str,
    changed: &str,
    live: &LiveIndex,
) -> Result<(), StoreError> {
    let sep = Separation::default();
    let buffer_ms = sep.time_buffer.whole_milliseconds() as i64;
    let now = j.now_ms;
    let mut guard = live.lock().unwrap_or_else(|p| p.into_inner());
    let index = loaded(j, peer, &mut guard)?;
    let changed_id = changed.to_owned();
    let latest = j.tx.latest_notice(changed)?;
    let side = latest.as_ref().map_or(Side::Theirs, Side::of);
    match latest {
        Some(n) if active(&n, now, buffer_ms) => match parse_notice(&n.body, &Limits::default()) {
            Ok(parsed) => index.side_mut(side).insert(changed_id.clone(), parsed),
            Err(_) => {
                index.side_mut(side).remove(&changed_id);
            }
        },
        _ => {
            index.side_mut(side).remove(&changed_id);
        }
    }
    // Only the other side's notices: deconfliction is between the two stations.
    let now_conflicting = match index.side(side).get(&changed_id) {
        Some(notice) => index.side(side.other()).conflicts_of(notice),
        None => Vec::new(),
    };
    let mut raised = Vec::new();
    for other in &now_conflicting {
        let (a, b) = if changed_id <= *other {
            (changed_id.clone(), other.clone())
        } else {
            (other.clone(), changed_id.clone())
        };
        let (Some(na), Some(nb)) = (index.get(&a), index.get(&b)) else { continue };
        let Some(close) = conflict(na, nb, &sep) else { continue };
        let station_of = |id: &str| -> Result<String, StoreError> {
            let ours = if id == changed_id { side == Side::Ours } else { side.other() == Side::Ours };
            Ok(if ours { names.local.to_owned() } else { peer.to_owned() })
        };
        let text = crate::texts::render(
            names.lang,
            &hotline_i18n::texts::conflict_raised(na, &station_of(&a)?, nb, &station_of(&b)?, &close),
        );
        let detail = json!({
            "text": text,
            "lateral_m": (close.lateral_m * 10.0).round() / 10.0,
            "vertical_gap_m": close.vertical_gap_m,
            "time_gap_s": close.time_gap.whole_seconds(),
        });
        raised.push(ConflictRow {
            id: conflict_id(&a, &b),
            peer: peer.to_owned(),
            a,
            b,
            detail: detail.to_string(),
            raised_ms: now,
            acked_by: None,
            acked_ms: None,
            resolved_ms: None,
        });
    }
    drop(guard);
    for row in raised {
        if j.tx.raise_conflict(&row)? {
            let text =
                serde_json::from_str::<Value>(&row.detail).ok().and_then(|d| d["text"].as_str().map(str::to_owned));
            j.append(EntryKind::ConflictRaised, json!({"peer": peer, "conflict": conflict_json(&row), "text": text}))?;
        }
    }
    resolve_gone(j, peer, &changed_id, &now_conflicting)
}

/// Who "we" are and in which language system texts are written.
pub struct Names<'a> {
    pub local: &'a str,
    pub lang: &'a str,
}

/// The notice's one-line summary in `lang` (kind, title, area, altitudes in metres and
/// flight levels, window in UTC and DTG), or `None` if the body does not parse.
pub fn summary(lang: &str, body: &str) -> Option<String> {
    let notice = parse_notice(body, &Limits::default()).ok()?;
    Some(crate::texts::render(lang, &hotline_i18n::texts::notice_summary(&notice)))
}

/// Resolves the open conflicts of notice `id` with any notice not in `still`.
fn resolve_gone(j: &mut Journal<'_>, peer: &str, id: &str, still: &[String]) -> Result<(), StoreError> {
    for c in j.tx.open_conflicts_of(peer, id)? {
        let other = if c.a == id { &c.b } else { &c.a };
        if !still.contains(other) {
            j.tx.resolve_conflict(&c.id, j.now_ms)?;
            j.append(EntryKind::ConflictResolved, json!({"peer": peer, "id": c.id, "notices": [c.a, c.b]}))?;
        }
    }
    Ok(())
}

/// Expires the line's notices whose end plus the time buffer has passed: each gets one
/// `notice.expired` entry (both stations write their own, from the same end time) and
/// leaves the live index, and its open conflicts are resolved. Returns how many expired.
pub fn expire_notices(
    j: &mut Journal<'_>,
    names: &Names<'_>,
    peer: &str,
    live: &LiveIndex,
) -> Result<usize, StoreError> {
    let local = names.local;
    let buffer_ms = Separation::default().time_buffer.whole_milliseconds() as i64;
    let now = j.now_ms;
    {
        let mut guard = live.lock().unwrap_or_else(|p| p.into_inner());
        let index = loaded(j, peer, &mut guard)?;
        index.ours.remove_ended_before(now - buffer_ms);
        index.theirs.remove_ended_before(now - buffer_ms);
    }
    let mut expired = 0;
    for n in j.tx.latest_notices(peer)? {
        if matches!(n.state.as_str(), "filed" | "amended")
            && n.end_ms + buffer_ms < now
            && j.tx.expire_notice(&n.id, now)?
        {
            expired += 1;
            let row = j.tx.latest_notice(&n.id)?.unwrap_or(n.clone());
            j.append(
                EntryKind::NoticeExpired,
                json!({"peer": peer, "id": n.id, "version": n.version, "notice": notice_json(&row, local),
                       "summary": summary(names.lang, &n.body)}),
            )?;
            resolve_gone(j, peer, &n.id, &[])?;
        }
    }
    Ok(expired)
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
