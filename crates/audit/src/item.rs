//! Signed items as the auditor reads them (docs/record-format.md, "Items"): the exact
//! text a station sent on the line, and what that text says.
//!
//! Every item, of whatever type, names its `type`, its sender (`from`) and its receiver
//! (`to`); that is all the verifier needs to know which station's key must have signed
//! it, so an item type this build has never heard of (a newer station's) is still
//! checked. The types version 1 defines and the auditor relies on — messages,
//! acknowledgments, receipts, notices and notice acknowledgments — are also read strictly,
//! field by field, because the cross-check and the transcript reason about their content.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_identity::{Signature, StationKey, VerifierKey};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::entry::whitespace_outside_strings;

/// Domain separation for item signatures (docs/record-format.md, "Items").
const ITEM_SIGNATURE_CONTEXT: &[u8] = b"hotline-item/v1\n";

/// The precedences a message may carry, lowest first.
pub(crate) const PRECEDENCES: [&str; 4] = ["ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH"];

/// The states a notice version may have.
pub(crate) const NOTICE_STATES: [&str; 3] = ["filed", "amended", "cancelled"];

/// The item types read field by field; any other type is read as [`Item::Other`].
const STRICT_TYPES: [&str; 5] = ["message", "ack", "receipt", "notice", "notice_ack"];

/// The bytes an item signature covers: `"hotline-item/v1\n" || item`.
pub fn item_signed_bytes(item: &str) -> Vec<u8> {
    [ITEM_SIGNATURE_CONTEXT, item.as_bytes()].concat()
}

/// The `sig` of an item: standard padded base64 of the Ed25519 signature by `key` over
/// [`item_signed_bytes`].
pub fn sign_item(item: &str, key: &StationKey) -> String {
    BASE64.encode(key.sign(&item_signed_bytes(item)).to_bytes())
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
    /// A version of a notice; `notice` is the notice JSON as filed.
    Notice {
        from: String,
        to: String,
        id: String,
        version: u64,
        state: String,
        notice: String,
    },
    /// An operator at `from` read version `version` of `to`'s notice `id`.
    NoticeAck {
        from: String,
        to: String,
        id: String,
        version: u64,
        by: String,
        at_ms: i64,
    },
    /// Any other type (checkpoints, cosignatures, witness refusals, and types added after
    /// this build): only `type`, `from` and `to` are read; the signature still covers
    /// every byte.
    #[serde(skip)]
    Other {
        type_name: String,
        from: String,
        to: String,
    },
}

impl Item {
    pub fn type_name(&self) -> &str {
        match self {
            Item::Message { .. } => "message",
            Item::Ack { .. } => "ack",
            Item::Receipt { .. } => "receipt",
            Item::Notice { .. } => "notice",
            Item::NoticeAck { .. } => "notice_ack",
            Item::Other { type_name, .. } => type_name,
        }
    }

    pub fn ends(&self) -> (&str, &str) {
        match self {
            Item::Message { from, to, .. }
            | Item::Ack { from, to, .. }
            | Item::Receipt { from, to, .. }
            | Item::Notice { from, to, .. }
            | Item::NoticeAck { from, to, .. }
            | Item::Other { from, to, .. } => (from, to),
        }
    }

    /// Reads an item's text: compact JSON, an object with string `type`, `from` and `to`,
    /// and for the [`STRICT_TYPES`] exactly the fields of its type. The error is the rest
    /// of a sentence.
    pub fn parse(text: &str) -> Result<Item, String> {
        if let Some(offset) = whitespace_outside_strings(text) {
            return Err(format!("item is not compact JSON (whitespace outside a string at byte {offset})"));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| format!("item is not JSON: {e}"))?;
        let Value::Object(map) = &value else {
            return Err("item is not a JSON object".to_owned());
        };
        let member = |name: &str| match map.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("item has no non-empty string {name:?}")),
        };
        let type_name = member("type")?;
        if STRICT_TYPES.contains(&type_name.as_str()) {
            return serde_json::from_value(value).map_err(|e| format!("item is not a version 1 {type_name} item: {e}"));
        }
        Ok(Item::Other { type_name, from: member("from")?, to: member("to")? })
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
    /// The key that must have made it: the key of the station the item is `from`.
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

    /// Whether the signature is `signer`'s over the text.
    pub fn signature_verifies(&self) -> bool {
        self.signer.verify(&item_signed_bytes(&self.text), &self.signature)
    }
}

/// Decodes `sig` to an Ed25519 signature; the error is the rest of a sentence.
pub(crate) fn decode_sig(sig: &str) -> Result<Signature, String> {
    let raw = BASE64.decode(sig).map_err(|_| "\"sig\" is not standard padded base64".to_owned())?;
    Signature::from_slice(&raw).map_err(|_| format!("\"sig\" is {} bytes, not an Ed25519 signature", raw.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_types_are_read_field_by_field_and_others_by_their_ends() {
        let notice =
            r#"{"type":"notice","from":"alpha","to":"bravo","id":"n1","version":2,"state":"amended","notice":"{}"}"#;
        assert!(matches!(Item::parse(notice), Ok(Item::Notice { version: 2, .. })));
        let extra = notice.replace("\"notice\":\"{}\"", "\"notice\":\"{}\",\"x\":1");
        assert!(Item::parse(&extra).is_err_and(|e| e.contains("not a version 1 notice item")));
        let check = r#"{"type":"watch_check","from":"bravo","to":"alpha","id":"w1","deadline_ms":5}"#;
        let item = Item::parse(check).expect("an unknown type is read by its ends");
        assert_eq!((item.type_name(), item.ends()), ("watch_check", ("bravo", "alpha")));
        assert!(Item::parse(r#"{"type":"watch_check","from":"bravo"}"#).is_err_and(|e| e.contains("\"to\"")));
        assert!(Item::parse(r#"{"from":"a","to":"b"}"#).is_err_and(|e| e.contains("\"type\"")));
        assert!(Item::parse(r#"{"type": "x"}"#).is_err_and(|e| e.contains("compact")));
        assert!(Item::parse("[]").is_err());
    }
}
