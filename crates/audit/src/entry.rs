//! Entries and the signed items inside them (docs/record-format.md, "Entries" and
//! "Items"), read the way an auditor must: nothing is believed until its signature by the
//! right station's key has been checked.
//!
//! An entry's own text is covered by the Merkle tree, so it is parsed only to learn its
//! kind and time and to find the item it carries; the item is what the other station can
//! be held to, so its direction, type and signature are checked against the kind.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_identity::{Signature, StationKey, VerifierKey};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::AuditError;

/// Domain separation for item signatures (docs/record-format.md, "Items").
const ITEM_SIGNATURE_CONTEXT: &[u8] = b"hotline-item/v1\n";

/// The precedences a message may carry, lowest first.
pub(crate) const PRECEDENCES: [&str; 4] = ["ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH"];

/// The bytes an item signature covers: `"hotline-item/v1\n" || item`.
pub fn item_signed_bytes(item: &str) -> Vec<u8> {
    [ITEM_SIGNATURE_CONTEXT, item.as_bytes()].concat()
}

/// The `sig` of an item: standard padded base64 of the Ed25519 signature by `key` over
/// [`item_signed_bytes`].
pub fn sign_item(item: &str, key: &StationKey) -> String {
    BASE64.encode(key.sign(&item_signed_bytes(item)).to_bytes())
}

/// Who signs the item of a kind: this station, or the peer named in the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signer {
    Station,
    Peer,
}

/// The kinds with a signed item, their item type and who signs it.
pub(crate) fn signed_kind(kind: &str) -> Option<(&'static str, Signer)> {
    Some(match kind {
        "message.queued" => ("message", Signer::Station),
        "message.received" => ("message", Signer::Peer),
        "message.acknowledged" => ("ack", Signer::Station),
        "message.acknowledged_by_peer" => ("ack", Signer::Peer),
        "receipt.sent" => ("receipt", Signer::Station),
        "receipt.received" => ("receipt", Signer::Peer),
        _ => return None,
    })
}

/// One message named by a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiptMessage {
    pub id: String,
    pub item_sha256: String,
}

/// The signed item types that record entries carry, as version 1 defines them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Item {
    Message {
        from: String,
        to: String,
        id: String,
        precedence: String,
        lang: String,
        body: String,
        reply_to: Option<String>,
        author: String,
        created_ms: i64,
    },
    Ack {
        from: String,
        to: String,
        id: String,
        by: String,
        at_ms: i64,
    },
    Receipt {
        from: String,
        to: String,
        at_ms: i64,
        messages: Vec<ReceiptMessage>,
    },
}

impl Item {
    fn type_name(&self) -> &'static str {
        match self {
            Item::Message { .. } => "message",
            Item::Ack { .. } => "ack",
            Item::Receipt { .. } => "receipt",
        }
    }

    fn ends(&self) -> (&str, &str) {
        match self {
            Item::Message { from, to, .. } | Item::Ack { from, to, .. } | Item::Receipt { from, to, .. } => (from, to),
        }
    }
}

/// A signed item as an entry carries it: the exact text, the signature text, and what
/// the text says.
#[derive(Debug, Clone)]
pub(crate) struct SignedItem {
    pub text: String,
    pub sig: String,
    pub item: Item,
    /// `sig`, decoded.
    pub signature: Signature,
    /// The key that must have made it.
    pub signer: VerifierKey,
}

impl SignedItem {
    /// Hex SHA-256 of the item text, as receipts name a message.
    pub fn sha256_hex(&self) -> String {
        Sha256::digest(self.text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Same text and same signature: the same statement by the same station.
    pub fn same_as(&self, other: &SignedItem) -> bool {
        self.text == other.text && self.sig == other.sig
    }
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
}

/// The keys an entry's item may be signed with.
pub(crate) struct Keys<'a> {
    pub station: &'a VerifierKey,
    pub peers: &'a BTreeMap<String, VerifierKey>,
}

/// Reads entry `index` and its item, if its kind has one: everything but the item
/// signature (see [`check_signature`]).
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
    // differently, and the Merkle tree covers their text anyway.
    let text_member = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    let (peer, id, item_text) = (text_member("peer"), text_member("id"), text_member("item"));
    let mut entry = Entry { index, kind, at_ms, peer, id, item_text, signed: None };
    if let Some((item_type, signer)) = signed_kind(&entry.kind) {
        let signed =
            read_signed(&entry, &map, item_type, signer, keys).map_err(|m| bad(format!("{}: {m}", entry.kind)))?;
        entry.signed = Some(signed);
    }
    Ok(entry)
}

/// Checks the item of a signed kind; the error is the rest of a sentence after the kind.
fn read_signed(
    entry: &Entry,
    map: &Map<String, Value>,
    item_type: &str,
    signer: Signer,
    keys: &Keys<'_>,
) -> Result<SignedItem, String> {
    let peer_name = entry.peer.as_deref().ok_or("has no \"peer\"")?;
    let peer_key =
        keys.peers.get(peer_name).ok_or_else(|| format!("names peer {peer_name:?}, which the export does not list"))?;
    let (Some(Value::String(text)), Some(Value::String(sig))) = (map.get("item"), map.get("sig")) else {
        return Err("has no \"item\" and \"sig\" strings".to_owned());
    };
    let (from_name, to_name, key) = match signer {
        Signer::Station => (keys.station.name(), peer_name, keys.station),
        Signer::Peer => (peer_name, keys.station.name(), peer_key),
    };
    let raw = BASE64.decode(sig).map_err(|_| "\"sig\" is not standard padded base64".to_owned())?;
    let signature =
        Signature::from_slice(&raw).map_err(|_| format!("\"sig\" is {} bytes, not an Ed25519 signature", raw.len()))?;
    if let Some(offset) = whitespace_outside_strings(text) {
        return Err(format!("item is not compact JSON (whitespace outside a string at byte {offset})"));
    }
    let item: Item =
        serde_json::from_str(text).map_err(|e| format!("item is not a version 1 {item_type} item: {e}"))?;
    if item.type_name() != item_type {
        return Err(format!("item is of type {:?}, not {item_type:?}", item.type_name()));
    }
    let (from, to) = item.ends();
    if from != from_name || to != to_name {
        return Err(format!("item is from {from:?} to {to:?}, not from {from_name} to {to_name}"));
    }
    check_item_fields(entry, map, &item)?;
    Ok(SignedItem { text: text.clone(), sig: sig.clone(), item, signature, signer: key.clone() })
}

/// Checks the item signature of a signed entry read by [`read_entry`]. Kept apart from
/// reading because it is the expensive check: [`crate::verify`] runs it after the cheap
/// structural, tree and checkpoint checks.
pub(crate) fn check_signature(entry: &Entry) -> Result<(), AuditError> {
    let Some(signed) = &entry.signed else { return Ok(()) };
    if !signed.signer.verify(&item_signed_bytes(&signed.text), &signed.signature) {
        return Err(AuditError::entry(
            entry.index,
            format!("{}: item signature does not verify with {}'s key", entry.kind, signed.signer.name()),
        ));
    }
    Ok(())
}

/// The entry's own members that restate the item must agree with it.
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
    }
}

fn check_same_id(entry: &Entry, item_id: &str) -> Result<(), String> {
    match &entry.id {
        Some(id) if id != item_id => Err(format!("\"id\" is {id:?}, but the item's id is {item_id:?}")),
        _ => Ok(()),
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
