//! `hotline transcript FILE`: the conversation on a line, for people, from a record that
//! has first been verified.
//!
//! After an incident the two sides read the conversation back, so the transcript shows
//! each message as the record proves it: in record order, with the sender's time both in
//! RFC 3339 UTC and as a military date-time group (the form watch officers log and read),
//! direction, precedence, author and body, then what this record shows happened to it
//! afterwards (sent, delivered, acknowledged by whom and when). Everything untrusted is
//! escaped before printing.

use std::collections::HashMap;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AuditError;
use crate::export::Export;
use crate::item::Item;
use crate::text::{clean, clean_with};
use crate::verify::{Audited, audit};

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

fn utc(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// Unix milliseconds as RFC 3339 UTC (`2026-11-24T15:30:00.123Z`), or a note when the
/// time is outside the years 1-9999.
pub fn rfc3339(ms: i64) -> String {
    utc(ms).and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_else(|| format!("(time {ms} ms out of range)"))
}

/// Unix milliseconds as a military date-time group in UTC: day, hour, minute, `Z`, month
/// abbreviation, two-digit year, e.g. `241530Z NOV 26`.
pub fn dtg(ms: i64) -> String {
    match utc(ms) {
        Some(t) => format!(
            "{:02}{:02}{:02}Z {} {:02}",
            t.day(),
            t.hour(),
            t.minute(),
            MONTHS[usize::from(u8::from(t.month())) - 1],
            t.year().rem_euclid(100)
        ),
        None => format!("(time {ms} ms out of range)"),
    }
}

/// What this record shows happened to a message after it was logged.
#[derive(Default)]
struct Later {
    sent_ms: Option<i64>,
    delivered_ms: Option<i64>,
    acknowledged: Option<(String, i64, i64)>,
}

/// The conversation on `line` (a peer's name), or on every line when `None`, from a
/// record that verifies.
pub fn transcript(export: &Export, line: Option<&str>) -> Result<String, AuditError> {
    let audited = audit(export)?;
    let lines: Vec<&str> = match line {
        Some(peer) if audited.peers.contains_key(peer) => vec![peer],
        Some(peer) => {
            let known: Vec<&str> = audited.peers.keys().map(String::as_str).collect();
            return Err(AuditError::NoSuchLine(format!(
                "the record of {} has no line to {:?} (its lines: {})",
                audited.station,
                clean(peer),
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            )));
        }
        None => audited.peers.keys().map(String::as_str).collect(),
    };
    let mut out = String::new();
    if lines.is_empty() {
        out.push_str(&format!("The record of {} has no lines.\n", audited.station));
    }
    for (n, peer) in lines.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        render_line(&audited, peer, &mut out);
    }
    Ok(out)
}

fn render_line(audited: &Audited, peer: &str, out: &mut String) {
    let here = audited.station.as_str();
    let mut later: HashMap<&str, Later> = HashMap::new();
    for entry in audited.entries.iter().filter(|e| e.peer.as_deref() == Some(peer)) {
        match (entry.kind.as_str(), &entry.signed) {
            ("message.sent", _) => {
                if let Some(id) = &entry.id {
                    later.entry(id).or_default().sent_ms.get_or_insert(entry.at_ms);
                }
            }
            ("message.delivered", _) => {
                if let Some(id) = &entry.id {
                    later.entry(id).or_default().delivered_ms.get_or_insert(entry.at_ms);
                }
            }
            ("message.acknowledged" | "message.acknowledged_by_peer", Some(signed)) => {
                if let Item::Ack { id, by, at_ms, .. } = &signed.item {
                    later.entry(id).or_default().acknowledged.get_or_insert((by.clone(), *at_ms, entry.at_ms));
                }
            }
            _ => {}
        }
    }
    let messages: Vec<_> = audited
        .entries
        .iter()
        .filter(|e| e.peer.as_deref() == Some(peer))
        .filter_map(|e| match (&e.signed, e.kind.as_str()) {
            (Some(s), "message.queued" | "message.received") => match &s.item {
                Item::Message { .. } => Some((e, &s.item)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    out.push_str(&format!(
        "Line {here} \u{2194} {peer}, from {here}'s record (verified): {} message(s), in record order\n",
        messages.len()
    ));
    for (n, (entry, item)) in messages.iter().enumerate() {
        let Item::Message { from, to, id, precedence, lang, body, reply_to, author, created_ms } = item else {
            continue;
        };
        out.push_str(&format!(
            "\n[{}] {}  {}  {from} \u{2192} {to}  {precedence}\n",
            n + 1,
            rfc3339(*created_ms),
            dtg(*created_ms)
        ));
        let reply = reply_to.as_deref().map(|r| format!(", in reply to {}", clean(r))).unwrap_or_default();
        out.push_str(&format!(
            "    by {} (lang {}), id {}{reply}; record entry {}\n",
            clean(author),
            clean(lang),
            clean(id),
            entry.index
        ));
        for body_line in clean_with(body, true).split('\n') {
            out.push_str(&format!("    | {body_line}\n"));
        }
        let state = later.get(id.as_str());
        let mut states = Vec::new();
        if entry.kind == "message.received" {
            states.push(format!("received here {}", rfc3339(entry.at_ms)));
        } else {
            states.push(format!("queued {}", rfc3339(entry.at_ms)));
            if let Some(ms) = state.and_then(|s| s.sent_ms) {
                states.push(format!("sent {}", rfc3339(ms)));
            }
            match state.and_then(|s| s.delivered_ms) {
                Some(ms) => states.push(format!("delivered {}", rfc3339(ms))),
                None => states.push("not delivered in this record".to_owned()),
            }
        }
        match state.and_then(|s| s.acknowledged.as_ref()) {
            Some((by, at_ms, _)) => {
                let station = if entry.kind == "message.received" { here } else { peer };
                states.push(format!("acknowledged by {} at {station} {}", clean(by), rfc3339(*at_ms)));
            }
            None => states.push("not acknowledged in this record".to_owned()),
        }
        out.push_str(&format!("    {}\n", states.join("; ")));
    }
    let (calls, refused) = crate::calls::calls_of(&audited.entries, here, peer);
    crate::calls::render(&calls, &refused, here, peer, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_groups() {
        // 2026-11-24T15:30:00Z
        assert_eq!(dtg(1_795_534_200_000), "241530Z NOV 26");
        assert_eq!(rfc3339(1_795_534_200_123), "2026-11-24T15:30:00.123Z");
        assert_eq!(dtg(0), "010000Z JAN 70");
        assert_eq!(dtg(946_684_799_999), "312359Z DEC 99");
        assert_eq!(dtg(946_684_800_000), "010000Z JAN 00");
        assert!(dtg(i64::MAX).contains("out of range"));
        assert!(rfc3339(i64::MIN).contains("out of range"));
    }
}
