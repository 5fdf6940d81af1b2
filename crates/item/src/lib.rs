//! Items: what travels on a line's lanes, signed by the station that sent it.
//!
//! The protocol carries opaque payloads; a station encodes each item as compact JSON with
//! `type`, `from` and `to`, signs `"hotline-item/v1\n" || item` with its station key, and
//! sends the envelope `{"item": "<item text>", "sig": "<base64>"}`. The receiver checks
//! the signature against the pinned peer key and keeps the item text and signature
//! exactly as received, so either side can later prove what the other said
//! (docs/record-format.md). A payload that does not open is still stored and receipted —
//! nothing the peer sent is dropped — and recorded as refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_identity::{Signature, StationKey, VerifierKey};
use hotline_proto::Lane;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

pub mod peer_input;
pub mod validate;

/// Precedence of a message, lowest first: ROUTINE, PRIORITY, IMMEDIATE, FLASH — one type
/// for the API, the line and the watch, parsed once where text comes in.
pub use hotline_watch::Precedence;

/// Domain separation for item signatures, so an item signature can never be mistaken for
/// a signed note, a cosignature or a TLS handshake signature made with the same key.
const ITEM_SIGNATURE_CONTEXT: &[u8] = b"hotline-item/v1\n";

/// The lane that carries messages of `precedence`.
pub fn lane_for(precedence: Precedence) -> Lane {
    match precedence {
        Precedence::Flash => Lane::Flash,
        Precedence::Immediate => Lane::Immediate,
        Precedence::Priority => Lane::Priority,
        Precedence::Routine => Lane::Routine,
    }
}

/// Largest message body, in bytes of UTF-8.
#[allow(non_upper_case_globals)]
pub const message_body_bytes_max: usize = 64 * 1024;
/// Most messages one signed receipt names: about 130 bytes each once escaped in the
/// envelope, so a full receipt stays far below the protocol's `payload_bytes_max`.
#[allow(non_upper_case_globals)]
pub const receipt_messages_max: usize = 256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptEntry {
    pub id: String,
    /// Hex SHA-256 of the message item's exact bytes.
    pub item_sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Item {
    /// A message from an operator at the sending station.
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
    /// An operator at the sending station acknowledged message `id` (which we sent).
    Ack { from: String, to: String, id: String, by: String, at_ms: i64 },
    /// The sending station has these messages of ours on its disk.
    Receipt { from: String, to: String, at_ms: i64, messages: Vec<ReceiptEntry> },
    /// A signed checkpoint of the sender's record, for us to witness, with the
    /// consistency proof from `old_size` (the last size we cosigned).
    Checkpoint { from: String, to: String, note: String, old_size: u64, proof: Vec<String> },
    /// The sender (a witness) cosigned the receiver's checkpoint of `size`.
    Cosignature { from: String, to: String, size: u64, line: String },
    /// A version of a notice filed at the sending station: `state` is `filed`, `amended`
    /// or `cancelled`; `notice` is the notice JSON (PRODUCT.md's shape).
    Notice { from: String, to: String, id: String, version: u64, state: String, notice: String },
    /// An operator at the sending station read version `version` of our notice `id`.
    NoticeAck { from: String, to: String, id: String, version: u64, by: String, at_ms: i64 },
    /// The witness refused to cosign our checkpoint of `size`.
    WitnessRefusal { from: String, to: String, size: u64, reason: String, critical: bool },
    /// A watch check: an operator at the receiving station must answer by `deadline_ms`
    /// (the sender's clock; both stations raise their alarm from this same instant).
    WatchCheck { from: String, to: String, id: String, sent_ms: i64, deadline_ms: i64 },
    /// An operator at the sending station answered our watch check `id`.
    WatchAnswer { from: String, to: String, id: String, by: String, at_ms: i64 },
    /// How many operators are on watch at the sending station, as of `since_ms`.
    Presence { from: String, to: String, on_watch: u32, since_ms: i64 },
    /// One step of a voice call (`hotline_call::Step`, its compact encoding in base64):
    /// ring, answer, leave, connect, verdict, hang up.
    CallStep { from: String, to: String, step: String },
    /// The sending station's recording of call `call` is sealed: its file's SHA-256, size
    /// and duration, and the packet hash of each speaker's direction (named by call side,
    /// so the same at both stations); `cut_off` when the recording had no proper end;
    /// `retention_days`, how long the sender keeps the file (the receiver keeps its own
    /// at least as long).
    CallRecorded {
        from: String,
        to: String,
        call: String,
        sha256: String,
        bytes: u64,
        duration_ms: u64,
        cut_off: bool,
        caller: PacketStream,
        callee: PacketStream,
        retention_days: u32,
    },
    /// The sending station's recorder could not write (or start) its recording of call
    /// `call` at `stopped_ms` (the sender's clock), for the reason `why`; the call went on.
    CallRecordingStopped { from: String, to: String, call: String, stopped_ms: i64, why: String },
}

/// One direction of a recorded call: SHA-256 over its packets (hotline-recording's
/// packet hash) and how many packets it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacketStream {
    pub packets_sha256: String,
    pub packets: u64,
}

impl Item {
    fn ends(&self) -> (&str, &str) {
        match self {
            Item::Message { from, to, .. }
            | Item::Ack { from, to, .. }
            | Item::Receipt { from, to, .. }
            | Item::Checkpoint { from, to, .. }
            | Item::Cosignature { from, to, .. }
            | Item::Notice { from, to, .. }
            | Item::NoticeAck { from, to, .. }
            | Item::WitnessRefusal { from, to, .. }
            | Item::WatchCheck { from, to, .. }
            | Item::WatchAnswer { from, to, .. }
            | Item::Presence { from, to, .. }
            | Item::CallStep { from, to, .. }
            | Item::CallRecorded { from, to, .. }
            | Item::CallRecordingStopped { from, to, .. } => (from, to),
        }
    }
}

/// An item with its exact text and the sender's signature.
#[derive(Clone, Debug)]
pub struct SignedItem {
    pub item: Item,
    pub text: String,
    /// Base64 Ed25519 signature over `ITEM_SIGNATURE_CONTEXT || text`.
    pub sig: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    item: String,
    sig: String,
}

fn signed_bytes(text: &str) -> Vec<u8> {
    [ITEM_SIGNATURE_CONTEXT, text.as_bytes()].concat()
}

impl SignedItem {
    pub fn sign(item: Item, key: &StationKey) -> SignedItem {
        // Serialising a plain enum of strings and integers cannot fail.
        let text = serde_json::to_string(&item).unwrap_or_default();
        let sig = BASE64.encode(key.sign(&signed_bytes(&text)).to_bytes());
        SignedItem { item, text, sig }
    }

    /// The bytes sent on the line.
    pub fn envelope(&self) -> Vec<u8> {
        serde_json::to_vec(&Envelope { item: self.text.clone(), sig: self.sig.clone() }).unwrap_or_default()
    }

    /// Opens a payload from `peer`: envelope, signature, item, and its `from`/`to`.
    pub fn open(payload: &[u8], peer: &VerifierKey, local: &str) -> Result<SignedItem, String> {
        let envelope: Envelope = serde_json::from_slice(payload).map_err(|e| format!("not an item envelope: {e}"))?;
        let raw = BASE64.decode(&envelope.sig).map_err(|_| "signature is not base64".to_owned())?;
        let signature = Signature::from_slice(&raw).map_err(|_| "signature is not 64 bytes".to_owned())?;
        if !peer.verify(&signed_bytes(&envelope.item), &signature) {
            return Err(format!("signature does not verify with {}'s key", peer.name()));
        }
        let item: Item = serde_json::from_str(&envelope.item).map_err(|e| format!("unreadable item: {e}"))?;
        let (from, to) = item.ends();
        if from != peer.name() || to != local {
            return Err(format!("item is from {from:?} to {to:?}, not from {} to {local}", peer.name()));
        }
        peer_input::check(&item)?;
        Ok(SignedItem { item, text: envelope.item, sig: envelope.sig })
    }

    /// Hex SHA-256 of the item text, as receipts name it.
    pub fn sha256_hex(&self) -> String {
        sha256_hex(self.text.as_bytes())
    }
}

/// Lower-case hex SHA-256 of `bytes`, as the record and receipts write hashes.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_receipt_fits_in_one_item_payload() {
        let key = StationKey::generate("bravo").expect("key");
        let messages = (0..receipt_messages_max)
            .map(|_| ReceiptEntry { id: uuid::Uuid::now_v7().to_string(), item_sha256: "f".repeat(64) })
            .collect();
        let item = Item::Receipt { from: "bravo".into(), to: "alpha".into(), at_ms: i64::MAX, messages };
        let payload = SignedItem::sign(item, &key).envelope();
        assert!(payload.len() < hotline_proto::payload_bytes_max / 2, "{} bytes", payload.len());
    }

    fn message(from: &str, to: &str) -> Item {
        Item::Message {
            from: from.into(),
            to: to.into(),
            id: "01937a2c-0000-7000-8000-000000000001".into(),
            precedence: "FLASH".into(),
            lang: "en".into(),
            body: "radar contact".into(),
            reply_to: None,
            author: "op".into(),
            created_ms: 1,
        }
    }

    #[test]
    fn a_signed_item_opens_only_with_the_senders_key_and_ends() {
        let alpha = StationKey::generate("alpha").expect("key");
        let other = StationKey::generate("alpha").expect("key");
        let signed = SignedItem::sign(message("alpha", "bravo"), &alpha);
        let payload = signed.envelope();
        let opened = SignedItem::open(&payload, &alpha.verifier(), "bravo").expect("opens");
        assert_eq!(opened.text, signed.text);
        assert_eq!(opened.item, signed.item);
        assert!(SignedItem::open(&payload, &other.verifier(), "bravo").is_err(), "wrong key");
        assert!(SignedItem::open(&payload, &alpha.verifier(), "charlie").is_err(), "wrong recipient");
        let mut tampered = payload.clone();
        let at = tampered.iter().position(|b| *b == b'r').expect("an r");
        tampered[at] = b'R';
        assert!(SignedItem::open(&tampered, &alpha.verifier(), "bravo").is_err(), "tampered text");
        assert!(SignedItem::open(b"not json", &alpha.verifier(), "bravo").is_err());
    }
}
