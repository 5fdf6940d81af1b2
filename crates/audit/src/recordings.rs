//! Call recordings as the record states them: each station's signed `call_recorded`
//! item (docs/record-format.md, "Call recordings") says which file it holds of a call —
//! its SHA-256, size and duration — and, per speaker, a hash of the packets it recorded.
//! `call.recorded` is a station's statement about its own file; `call.recorded_by_peer`
//! the peer's statement, as the peer signed it.
//!
//! Held against each other ([`compare`], part of `cross_check`): each side's copy of the
//! other's statement must be the identical signed item, and the two stations' packet
//! hashes of a speaker agree when both relayed the same packets. Whether they agree is a
//! finding, not an error — audio lost on the way between the stations makes them differ,
//! honestly — and the CLI, given both stations' files, says where in time they first part.
//! Checking files against these statements needs the files, which this crate never
//! reads: the CLI does it with `hotline-recording`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::AuditError;
use crate::entry::Entry;
use crate::text::clean;
use crate::verify::Audited;

/// One speaker's packets in a recording, as the statement gives them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    pub packets_sha256: String,
    pub packets: u64,
}

/// A `call_recorded` item: the station `from` holds a recording of call `call`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRecordedItem {
    #[serde(rename = "type")]
    type_name: String,
    from: String,
    to: String,
    call: String,
    sha256: String,
    bytes: u64,
    duration_ms: u64,
    cut_off: bool,
    caller: Stream,
    callee: Stream,
    /// How long the station keeps the file (items before retention was stated lack it).
    #[serde(default)]
    retention_days: Option<u32>,
}

/// The station deleted its file of a recording (`call.recording_deleted`): by
/// retention, or a supervisor; the statement and its hashes stay in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// The entry (1-based) that says so.
    pub entry: u64,
    pub at_ms: i64,
    /// `retention`, or `supervisor NAME: REASON`.
    pub why: String,
}

/// A station's signed statement of its recording of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    pub call: String,
    /// The station whose recording it is (the item's signer).
    pub station: String,
    /// The other end of the call's line.
    pub peer: String,
    /// The entry (1-based) of the record it was read from.
    pub entry: u64,
    /// The file's SHA-256, lower-case hex.
    pub sha256: String,
    pub bytes: u64,
    pub duration_ms: u64,
    /// The recording had no proper end (the station stopped mid-call, or the disk failed).
    pub cut_off: bool,
    pub caller: Stream,
    pub callee: Stream,
    /// How long the station said it keeps the file, in days, if it said so.
    pub retention_days: Option<u32>,
    /// The station that made the call, from the record's `call.*` entries (`None` when
    /// the record holds none of them for this call).
    pub caller_station: Option<String>,
    /// Whether, and when, the station deleted the file since (its own recordings only).
    pub deleted: Option<Deletion>,
}

impl RecordedCall {
    /// Whether the speaker whose packets are `ours` in this station's file (its own
    /// operator, stream 0) is the caller.
    pub fn station_is_caller(&self) -> Option<bool> {
        self.caller_station.as_deref().map(|c| c == self.station)
    }
}

fn read(e: &Entry) -> Result<Option<(RecordedCall, &crate::item::SignedItem)>, AuditError> {
    let Some(signed) = e.signed.as_ref() else { return Ok(None) };
    let item: CallRecordedItem = serde_json::from_str(&signed.text)
        .map_err(|why| AuditError::entry(e.index, format!("is not a version 1 call_recorded item: {why}")))?;
    if item.type_name != "call_recorded" {
        return Err(AuditError::entry(
            e.index,
            format!("carries a {} item, not a call_recorded item", clean(&item.type_name)),
        ));
    }
    if !is_sha256_hex(&item.sha256)
        || !is_sha256_hex(&item.caller.packets_sha256)
        || !is_sha256_hex(&item.callee.packets_sha256)
    {
        return Err(AuditError::entry(e.index, "a call_recorded hash is not 64 lower-case hex digits"));
    }
    let recorded = RecordedCall {
        call: item.call,
        station: item.from,
        peer: item.to,
        entry: e.index,
        sha256: item.sha256,
        bytes: item.bytes,
        duration_ms: item.duration_ms,
        cut_off: item.cut_off,
        caller: item.caller,
        callee: item.callee,
        retention_days: item.retention_days,
        caller_station: None,
        deleted: None,
    };
    Ok(Some((recorded, signed)))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The statements of `kind` in a record, by call id (a later statement of a call
/// replaces an earlier one: a recording recovered after a crash is stated again).
fn statements<'a>(
    record: &'a Audited,
    kind: &str,
) -> Result<BTreeMap<String, (RecordedCall, &'a crate::item::SignedItem)>, AuditError> {
    let mut out = BTreeMap::new();
    let mut callers: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for e in record.entries.iter().filter(|e| e.kind == kind) {
        if let Some((mut recorded, signed)) = read(e)? {
            let peer = e.peer.clone().unwrap_or_default();
            let on_line = callers.entry(peer.clone()).or_insert_with(|| {
                let (calls, _) = crate::calls::calls_of(&record.entries, &record.station, &peer);
                calls.into_iter().map(|c| (c.id, c.caller)).collect()
            });
            recorded.caller_station = on_line.get(&recorded.call).cloned();
            out.insert(recorded.call.clone(), (recorded, signed));
        }
    }
    if kind == "call.recorded" {
        for (call, deletion) in deletions(record) {
            if let Some((recorded, _)) = out.get_mut(&call) {
                recorded.deleted = Some(deletion);
            }
        }
    }
    Ok(out)
}

/// The station's deletions of its own recordings' files, by call id.
fn deletions(record: &Audited) -> impl Iterator<Item = (String, Deletion)> + '_ {
    record.entries.iter().filter(|e| e.kind == "call.recording_deleted").filter_map(|e| {
        let body = e.call_body.as_ref()?;
        let why = match body["why"].as_str() {
            Some("supervisor") => format!(
                "by supervisor {}: {}",
                clean(body["by"].as_str().unwrap_or("?")),
                clean(body["reason"].as_str().unwrap_or(""))
            ),
            Some(other) => clean(other),
            None => "?".to_owned(),
        };
        Some((e.id.clone()?, Deletion { entry: e.index, at_ms: e.at_ms, why }))
    })
}

/// The station's own recordings, as its record states them: what `hotline verify
/// --recordings` checks the files against.
pub(crate) fn own(record: &Audited) -> Result<Vec<RecordedCall>, AuditError> {
    Ok(statements(record, "call.recorded")?.into_values().map(|(r, _)| r).collect())
}

/// Whether both stations' recordings of one speaker hold the same packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    Agree,
    Differ,
}

/// One call's recordings at the two stations of a cross-check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingMatch {
    pub call: String,
    /// A's statement of its own recording, if A recorded the call.
    pub a: Option<RecordedCall>,
    pub b: Option<RecordedCall>,
    /// The caller's and the callee's audio, when both recorded the call.
    pub caller: Option<Agreement>,
    pub callee: Option<Agreement>,
    /// Each holds the other's statement (identical, signed): the recording is witnessed.
    pub a_witnessed_by_b: bool,
    pub b_witnessed_by_a: bool,
}

/// Both records' recordings, call by call. An error when one side holds a statement the
/// other never made, or not the one it made.
pub(crate) fn compare(a: &Audited, b: &Audited) -> Result<Vec<RecordingMatch>, AuditError> {
    let own_a = statements(a, "call.recorded")?;
    let own_b = statements(b, "call.recorded")?;
    let peer_at_a = statements(a, "call.recorded_by_peer")?;
    let peer_at_b = statements(b, "call.recorded_by_peer")?;
    for (holder, held, maker, made) in [(a, &peer_at_a, b, &own_b), (b, &peer_at_b, a, &own_a)] {
        for (call, (stated, signed)) in held.iter().filter(|(_, (r, _))| r.station == maker.station) {
            match made.get(call) {
                Some((_, original)) if original.same_as(signed) => {}
                Some((original, _)) => {
                    return Err(AuditError::Mismatch(format!(
                        "{} entry {}: the recording of call {} it holds from {} is not the statement {} made (its entry {}): the item or its signature differs",
                        holder.station,
                        stated.entry,
                        clean(call),
                        maker.station,
                        maker.station,
                        original.entry
                    )));
                }
                None => {
                    return Err(AuditError::Mismatch(format!(
                        "{} entry {}: holds {}'s recording of call {}, which {}'s record never states",
                        holder.station,
                        stated.entry,
                        maker.station,
                        clean(call),
                        maker.station
                    )));
                }
            }
        }
    }
    let calls: std::collections::BTreeSet<&String> = own_a
        .iter()
        .filter(|(_, (r, _))| r.peer == b.station)
        .map(|(c, _)| c)
        .chain(own_b.iter().filter(|(_, (r, _))| r.peer == a.station).map(|(c, _)| c))
        .collect();
    let agree = |x: &Stream, y: &Stream| if x == y { Agreement::Agree } else { Agreement::Differ };
    Ok(calls
        .into_iter()
        .map(|call| {
            let ra = own_a.get(call).map(|(r, _)| r.clone());
            let rb = own_b.get(call).map(|(r, _)| r.clone());
            let (caller, callee) = match (&ra, &rb) {
                (Some(x), Some(y)) => (Some(agree(&x.caller, &y.caller)), Some(agree(&x.callee, &y.callee))),
                _ => (None, None),
            };
            RecordingMatch {
                call: call.clone(),
                caller,
                callee,
                a_witnessed_by_b: ra.is_some() && peer_at_b.contains_key(call),
                b_witnessed_by_a: rb.is_some() && peer_at_a.contains_key(call),
                a: ra,
                b: rb,
            }
        })
        .collect())
}

/// The cross-check report's section on recordings.
pub(crate) fn render(matches: &[RecordingMatch], a: &str, b: &str, out: &mut String) {
    if matches.is_empty() {
        return;
    }
    out.push_str(&format!("Call recordings ({} call(s)):\n", matches.len()));
    for m in matches {
        let held = |r: &Option<RecordedCall>, station: &str, witnessed: bool, witness: &str| match r {
            None => format!("{station} has no recording"),
            Some(r) => format!(
                "{station}: {} ms, {} bytes{}{}{}",
                r.duration_ms,
                r.bytes,
                if r.cut_off { ", cut off" } else { "" },
                r.deleted
                    .as_ref()
                    .map(|d| format!(", file deleted ({}, entry {})", d.why, d.entry))
                    .unwrap_or_default(),
                if witnessed { format!(", witnessed by {witness}") } else { format!(", not (yet) at {witness}") }
            ),
        };
        out.push_str(&format!(
            "  call {}: {}; {}\n",
            clean(&m.call),
            held(&m.a, a, m.a_witnessed_by_b, b),
            held(&m.b, b, m.b_witnessed_by_a, a)
        ));
        let speaker = |who: &str, agreement: Option<Agreement>, x: Option<&Stream>, y: Option<&Stream>| match (
            agreement, x, y,
        ) {
            (Some(Agreement::Agree), Some(x), _) => {
                format!("    the {who}'s audio: the same {} packet(s) in both recordings\n", x.packets)
            }
            (Some(Agreement::Differ), Some(x), Some(y)) => format!(
                "    the {who}'s audio DIFFERS: {a} recorded {} packet(s), {b} {} (give both stations' recordings to find where)\n",
                x.packets, y.packets
            ),
            _ => String::new(),
        };
        out.push_str(&speaker("caller", m.caller, m.a.as_ref().map(|r| &r.caller), m.b.as_ref().map(|r| &r.caller)));
        out.push_str(&speaker("callee", m.callee, m.a.as_ref().map(|r| &r.callee), m.b.as_ref().map(|r| &r.callee)));
    }
}
