//! Entries and the signed items inside them (docs/record-format.md, "Entries" and
//! "Items"), read the way an auditor must: nothing is believed until its signature by the
//! right station's key has been checked.
//!
//! An entry's own text is covered by the Merkle tree, so it is parsed only to learn its
//! kind and time and to find the item it carries. Any entry that carries a signed item —
//! the envelope members `item` and `sig` — has it checked, whatever its kind: the item
//! names its sender and receiver, one of them must be this station and the other a listed
//! peer, and the signature must be the sender's. That covers notices, notice
//! acknowledgments and item types added after this build without a list to keep up to
//! date. The kinds the auditor reasons about (messages, acknowledgments, receipts,
//! notices) must moreover carry an item of their own type, in their own direction, whose
//! fields agree with the entry.

use hotline_identity::VerifierKey;
use serde_json::{Map, Value};

use crate::AuditError;
use crate::item::{Item, NOTICE_STATES, PRECEDENCES, SignedItem, decode_sig};

/// Who signs the item of a kind: this station, or the peer named in the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signer {
    Station,
    Peer,
}

/// The kinds that must carry a signed item, its type and who signs it. Other kinds are
/// checked too when they carry one, by what the item itself says (see [`read_entry`]).
pub(crate) fn signed_kind(kind: &str) -> Option<(&'static str, Signer)> {
    Some(match kind {
        "message.queued" => ("message", Signer::Station),
        "message.received" => ("message", Signer::Peer),
        "message.acknowledged" => ("ack", Signer::Station),
        "message.acknowledged_by_peer" => ("ack", Signer::Peer),
        "receipt.sent" => ("receipt", Signer::Station),
        "receipt.received" => ("receipt", Signer::Peer),
        "notice.filed" | "notice.amended" | "notice.cancelled" => ("notice", Signer::Station),
        "notice.received" => ("notice", Signer::Peer),
        "notice.acknowledged" => ("notice_ack", Signer::Station),
        "notice.acknowledged_by_peer" => ("notice_ack", Signer::Peer),
        "call.recorded" => ("call_recorded", Signer::Station),
        "call.recorded_by_peer" => ("call_recorded", Signer::Peer),
        "call.recording_stopped" => ("call_recording_stopped", Signer::Station),
        "call.recording_stopped_by_peer" => ("call_recording_stopped", Signer::Peer),
        _ => return None,
    })
}

/// An entry that has been read and whose item (if any) verified.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// 1-based.
    pub index: u64,
    pub kind: String,
    /// Unix milliseconds of `at`.
    pub at_ms: i64,
    pub peer: Option<String>,
    /// The top-level `id` member, if a string.
    pub id: Option<String>,
    /// The `item` member's text, whatever the kind (for `message.duplicate`, whose item
    /// receipts may name).
    pub item_text: Option<String>,
    pub signed: Option<SignedItem>,
    /// For `call.*` entries, the whole entry (its `call` member is the call's state).
    pub call_body: Option<Value>,
}

/// The keys an entry's item may be signed with.
pub(crate) struct Keys<'a> {
    pub station: &'a VerifierKey,
    /// Each peer's key at each point of the record (a key change retires the old one).
    pub peers: &'a crate::peer_keys::PeerKeys,
}

/// Reads entry `index` and its signed item, if it carries one (a `sig` member) or its
/// kind must: everything but the item signature (see [`check_signature`]).
pub(crate) fn read_entry(index: u64, text: &str, keys: &Keys<'_>) -> Result<Entry, AuditError> {
    let bad = |what: String| AuditError::entry(index, what);
    if let Some(offset) = whitespace_outside_strings(text) {
        return Err(bad(format!("is not compact JSON (whitespace outside a string at byte {offset})")));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("is not JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(bad("is not a JSON object".to_owned()));
    };
    let kind = match map.get("kind") {
        Some(Value::String(kind)) if !kind.is_empty() => kind.clone(),
        Some(_) => return Err(bad("\"kind\" is not a non-empty string".to_owned())),
        None => return Err(bad("has no \"kind\"".to_owned())),
    };
    let at_ms = match map.get("at") {
        Some(Value::String(at)) => parse_utc(at)
            .ok_or_else(|| bad(format!("{kind}: \"at\" {at:?} is not an RFC 3339 UTC time ending in Z")))?,
        _ => return Err(bad(format!("{kind}: has no \"at\" time string"))),
    };
    // Other members are read leniently: kinds this build does not know may use them
    // differently, and the Merkle tree covers their text anyway. `item` and `sig` are
    // the exception: they are the signed-item envelope in every kind.
    let text_member = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    let (peer, id, item_text) = (text_member("peer"), text_member("id"), text_member("item"));
    let call_body = kind.starts_with("call.").then(|| Value::Object(map.clone()));
    let mut entry = Entry { index, kind, at_ms, peer, id, item_text, signed: None, call_body };
    let expected = signed_kind(&entry.kind);
    if expected.is_some() || map.contains_key("sig") {
        let signed = read_signed(&entry, &map, expected, keys).map_err(|m| bad(format!("{}: {m}", entry.kind)))?;
        entry.signed = Some(signed);
    }
    Ok(entry)
}

/// Reads the signed item of an entry and finds the key that must have signed it; the
/// error is the rest of a sentence after the kind.
///
/// The signer is decided by the item's ends: an item `from` this station is ours (we
/// sent it, `to` a listed peer) and an item `to` this station is the peer's it is `from`.
/// An entry that names a `peer` must name that other end. For the kinds of
/// [`signed_kind`] the type and direction are fixed by the kind, and the entry's own
/// members must agree with the item.
fn read_signed(
    entry: &Entry,
    map: &Map<String, Value>,
    expected: Option<(&str, Signer)>,
    keys: &Keys<'_>,
) -> Result<SignedItem, String> {
    if expected.is_some() && entry.peer.is_none() {
        return Err("has no \"peer\"".to_owned());
    }
    if let Some(peer_name) = entry.peer.as_deref()
        && !keys.peers.contains(peer_name)
    {
        return Err(format!("names peer {peer_name:?}, which the export does not list"));
    }
    let (Some(Value::String(text)), Some(Value::String(sig))) = (map.get("item"), map.get("sig")) else {
        return Err("has no \"item\" and \"sig\" strings".to_owned());
    };
    let signature = decode_sig(sig)?;
    let item = Item::parse(text)?;
    let station = keys.station.name();
    let (from, to) = item.ends();
    if let Some((item_type, signer)) = expected {
        if item.type_name() != item_type {
            return Err(format!("item is of type {:?}, not {item_type:?}", item.type_name()));
        }
        let peer_name = entry.peer.as_deref().unwrap_or_default();
        let (from_name, to_name) = match signer {
            Signer::Station => (station, peer_name),
            Signer::Peer => (peer_name, station),
        };
        if from != from_name || to != to_name {
            return Err(format!("item is from {from:?} to {to:?}, not from {from_name} to {to_name}"));
        }
        check_item_fields(entry, map, &item)?;
    }
    let (other_end, signer) = if from == station {
        (to, keys.station)
    } else if to == station {
        let key =
            // The key pinned when the entry was made: the entry before it is `index - 1`.
            keys.peers.key_at(from, entry.index.saturating_sub(1)).ok_or_else(|| {
                format!("item is from {from:?}, which the export does not list")
            })?;
        (from, key)
    } else {
        return Err(format!("item is from {from:?} to {to:?}: neither end is this station, {station}"));
    };
    if !keys.peers.contains(other_end) {
        return Err(format!("item is from {from:?} to {to:?}, and {other_end:?} is not a listed peer"));
    }
    if let Some(peer_name) = entry.peer.as_deref()
        && peer_name != other_end
    {
        return Err(format!("item is from {from:?} to {to:?}, but the entry's peer is {peer_name:?}"));
    }
    Ok(SignedItem { text: text.clone(), sig: sig.clone(), item, signature, signer: signer.clone() })
}

/// Checks the item signature of an entry read by [`read_entry`], if it carries one. Kept
/// apart from reading because it is the expensive check: [`crate::verify`] runs it after
/// the cheap structural, tree and checkpoint checks.
pub(crate) fn check_signature(entry: &Entry) -> Result<(), AuditError> {
    let Some(signed) = &entry.signed else { return Ok(()) };
    if !signed.signature_verifies() {
        return Err(AuditError::entry(
            entry.index,
            format!("{}: item signature does not verify with {}'s key", entry.kind, signed.signer.name()),
        ));
    }
    Ok(())
}

/// The entry's own members that restate the item must agree with it (for the kinds of
/// [`signed_kind`], whose members this build knows).
fn check_item_fields(entry: &Entry, map: &Map<String, Value>, item: &Item) -> Result<(), String> {
    match item {
        Item::Message { id, precedence, reply_to, .. } => {
            if id.is_empty() {
                return Err("item has an empty message id".to_owned());
            }
            if !PRECEDENCES.contains(&precedence.as_str()) {
                return Err(format!("item precedence {precedence:?} is not one of {}", PRECEDENCES.join(", ")));
            }
            if reply_to.as_deref() == Some(id.as_str()) {
                return Err(format!("message {id} replies to itself"));
            }
            let message_id = map.get("message").and_then(|m| m.get("id")).and_then(Value::as_str);
            if message_id != Some(id.as_str()) {
                return Err(format!("\"message.id\" is {message_id:?}, but the item's id is {id:?}"));
            }
            check_same_id(entry, id)
        }
        Item::Ack { id, .. } => check_same_id(entry, id),
        Item::Receipt { messages, .. } => {
            for m in messages {
                let hex_ok = m.item_sha256.len() == 64
                    && m.item_sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !hex_ok {
                    return Err(format!(
                        "receipt names message {:?} with {:?}, not a lower-case hex SHA-256",
                        m.id, m.item_sha256
                    ));
                }
            }
            Ok(())
        }
        Item::Notice { id, version, state, notice, .. } => {
            if id.is_empty() {
                return Err("item has an empty notice id".to_owned());
            }
            if !NOTICE_STATES.contains(&state.as_str()) {
                return Err(format!("item state {state:?} is not one of {}", NOTICE_STATES.join(", ")));
            }
            // notice.filed, notice.amended and notice.cancelled name the state they record.
            if let Some(kind_state) = entry.kind.strip_prefix("notice.")
                && NOTICE_STATES.contains(&kind_state)
                && kind_state != state
            {
                return Err(format!("item state is {state:?}, but the entry records {kind_state:?}"));
            }
            if !matches!(serde_json::from_str::<Value>(notice), Ok(Value::Object(_))) {
                return Err(format!("item's notice {id} is not a JSON object"));
            }
            check_same_id(entry, id)?;
            check_same_version(map, *version)
        }
        Item::NoticeAck { id, version, .. } => {
            check_same_id(entry, id)?;
            check_same_version(map, *version)
        }
        Item::Other { .. } => Ok(()),
    }
}

fn check_same_id(entry: &Entry, item_id: &str) -> Result<(), String> {
    match &entry.id {
        Some(id) if id != item_id => Err(format!("\"id\" is {id:?}, but the item's id is {item_id:?}")),
        _ => Ok(()),
    }
}

fn check_same_version(map: &Map<String, Value>, item_version: u64) -> Result<(), String> {
    if item_version == 0 {
        return Err("item has version 0; notice versions start at 1".to_owned());
    }
    match map.get("version") {
        None => Ok(()),
        Some(v) if v.as_u64() == Some(item_version) => Ok(()),
        Some(v) => Err(format!("\"version\" is {v}, but the item's version is {item_version}")),
    }
}

/// Parses an RFC 3339 time in UTC written with `Z`, to Unix milliseconds.
pub(crate) fn parse_utc(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if !text.ends_with('Z') {
        return None;
    }
    let t = time::OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The byte offset of the first whitespace outside a JSON string, if any.
pub(crate) fn whitespace_outside_strings(text: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (offset, b) in text.bytes().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return Some(offset);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_whitespace_only_outside_strings() {
        assert_eq!(whitespace_outside_strings(r#"{"a":"b c","d":"\" e"}"#), None);
        assert_eq!(whitespace_outside_strings(r#"{"a": 1}"#), Some(5));
        assert_eq!(whitespace_outside_strings(r#"{"a":"\\" ,"b":1}"#), Some(9));
    }

    #[test]
    fn parses_utc_times_only() {
        assert_eq!(parse_utc("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_utc("1970-01-01T00:00:01+00:00"), None);
        assert_eq!(parse_utc("1970-01-01T01:00:01+01:00"), None);
        assert_eq!(parse_utc("yesterday"), None);
    }
}
