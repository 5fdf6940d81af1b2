//! What the item targets and the seed generator share: the peer's envelope built by hand
//! around any text, the checks an accepted item must pass, and one valid item of every
//! kind, so that the committed seeds start the fuzzer past the signature and the parser.
//!
//! The peer (bravo) is the adversary: `SignedItem::open` with bravo's pinned key and alpha
//! as the local end is exactly what alpha's station runs on every item payload it receives.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_call::{CallId, Operator, Step, Verdict, Why};
use hotline_identity::{StationKey, VerifierKey};
use hotline_item::peer_input;
use hotline_item::{Item, ReceiptEntry, SignedItem};

use crate::{LOCAL, PEER};

/// Domain separation of item signatures, as `crates/item` defines it: a
/// fuzz-side copy on purpose, so a change there that breaks the wire shows up here.
pub const ITEM_SIGNATURE_CONTEXT: &[u8] = b"hotline-item/v1\n";

/// The envelope `{"item": TEXT, "sig": BASE64(sig over context || TEXT)}` that `key`
/// would send for `text`, whatever `text` is.
pub fn envelope_for_text(text: &str, key: &StationKey) -> Vec<u8> {
    let signed = [ITEM_SIGNATURE_CONTEXT, text.as_bytes()].concat();
    let sig = BASE64.encode(key.sign(&signed).to_bytes());
    serde_json::to_vec(&serde_json::json!({ "item": text, "sig": sig })).expect("a JSON object of two strings")
}

/// The `from` and `to` of an item, read from its JSON form (the station's own accessor
/// is private).
pub fn ends(item: &Item) -> (String, String) {
    let value = serde_json::to_value(item).expect("an item serialises");
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    (field("from"), field("to"))
}

/// What must hold for every item alpha accepted from bravo: the field checks pass, it
/// re-serialises to JSON that reads back as the same item, and the same item signed by
/// bravo through the station's own encoder opens again to it.
pub fn check_accepted(opened: &SignedItem, bravo: &StationKey, bravo_key: &VerifierKey) {
    assert_eq!(peer_input::check(&opened.item), Ok(()), "an opened item passed the field checks");
    assert_eq!(ends(&opened.item), (PEER.to_owned(), LOCAL.to_owned()), "an opened item is from bravo to alpha");
    let text = serde_json::to_string(&opened.item).expect("an accepted item serialises");
    let again: Item = serde_json::from_str(&text).expect("an accepted item's JSON reads back");
    assert_eq!(again, opened.item, "an accepted item re-serialises to itself");
    let resigned = SignedItem::sign(opened.item.clone(), bravo);
    let reopened = SignedItem::open(&resigned.envelope(), bravo_key, LOCAL).expect("a re-signed accepted item opens");
    assert_eq!(reopened.item, opened.item);
    let hash = opened.sha256_hex();
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
}

const MESSAGE_ID: &str = "01937a2c-0000-7000-8000-000000000001";
const NOTICE_ID: &str = "01937a2c-0000-7000-8000-000000000002";
const CHECK_ID: &str = "01937a2c-0000-7000-8000-000000000003";
/// 2026-11-24T15:30:00Z, in milliseconds.
const AT_MS: i64 = 1_795_534_200_000;

fn call_step(step: &Step) -> String {
    BASE64.encode(step.encode())
}

/// One valid item of every kind from bravo to alpha (several for kinds with variants),
/// named for the seed files. `checkpoint_note` is a checkpoint note signed by bravo and
/// `notice` a notice JSON, both made by the seed generator with the real signers.
pub fn valid_items(checkpoint_note: &str, notice: &str) -> Vec<(&'static str, Item)> {
    let (from, to) = (PEER.to_owned(), LOCAL.to_owned());
    let call = CallId::from_bytes([0x01, 0x93, 0x7a, 0x2c, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 9]).expect("v7");
    let operator = Operator::new("duty").expect("an operator name");
    let proof = vec![BASE64.encode([7u8; 32]), BASE64.encode([8u8; 32])];
    vec![
        (
            "message",
            Item::Message {
                from: from.clone(),
                to: to.clone(),
                id: MESSAGE_ID.into(),
                precedence: "FLASH".into(),
                lang: "en".into(),
                body: "radar contact, bearing 270 \"quoted\" \u{2014} ü".into(),
                reply_to: Some(MESSAGE_ID.into()),
                author: "op".into(),
                created_ms: AT_MS,
            },
        ),
        (
            "message-routine",
            Item::Message {
                from: from.clone(),
                to: to.clone(),
                id: MESSAGE_ID.into(),
                precedence: "ROUTINE".into(),
                lang: "uk-UA".into(),
                body: String::new(),
                reply_to: None,
                author: "duty.officer_2".into(),
                created_ms: 0,
            },
        ),
        ("ack", Item::Ack { from: from.clone(), to: to.clone(), id: MESSAGE_ID.into(), by: "op".into(), at_ms: AT_MS }),
        (
            "receipt",
            Item::Receipt {
                from: from.clone(),
                to: to.clone(),
                at_ms: AT_MS,
                messages: vec![ReceiptEntry { id: MESSAGE_ID.into(), item_sha256: "ab".repeat(32) }],
            },
        ),
        (
            "checkpoint",
            Item::Checkpoint { from: from.clone(), to: to.clone(), note: checkpoint_note.into(), old_size: 2, proof },
        ),
        (
            "cosignature",
            Item::Cosignature {
                from: from.clone(),
                to: to.clone(),
                size: 5,
                line: format!("\u{2014} {PEER} AAAAAA{}", BASE64.encode([3u8; 72])),
            },
        ),
        (
            "notice",
            Item::Notice {
                from: from.clone(),
                to: to.clone(),
                id: NOTICE_ID.into(),
                version: 1,
                state: "filed".into(),
                notice: notice.into(),
            },
        ),
        (
            "notice-ack",
            Item::NoticeAck {
                from: from.clone(),
                to: to.clone(),
                id: NOTICE_ID.into(),
                version: 2,
                by: "op".into(),
                at_ms: AT_MS,
            },
        ),
        (
            "witness-refusal",
            Item::WitnessRefusal {
                from: from.clone(),
                to: to.clone(),
                size: 5,
                reason: "checkpoint of 5 entries is not consistent with 7 cosigned".into(),
                critical: true,
            },
        ),
        (
            "watch-check",
            Item::WatchCheck {
                from: from.clone(),
                to: to.clone(),
                id: CHECK_ID.into(),
                sent_ms: AT_MS,
                deadline_ms: AT_MS + 120_000,
            },
        ),
        (
            "watch-answer",
            Item::WatchAnswer { from: from.clone(), to: to.clone(), id: CHECK_ID.into(), by: "op".into(), at_ms: AT_MS },
        ),
        ("presence", Item::Presence { from: from.clone(), to: to.clone(), on_watch: 3, since_ms: AT_MS }),
        (
            "call-ring",
            Item::CallStep {
                from: from.clone(),
                to: to.clone(),
                step: call_step(&Step::Ring {
                    call,
                    caller: operator.clone(),
                    started_ms: AT_MS as u64,
                    ring_timeout_ms: 30_000,
                }),
            },
        ),
        (
            "call-verdict",
            Item::CallStep {
                from: from.clone(),
                to: to.clone(),
                step: call_step(&Step::Verdict { call, verdict: Verdict::Cancelled(operator) }),
            },
        ),
        (
            "call-hangup",
            Item::CallStep { from, to, step: call_step(&Step::Hangup { call, why: Why::Operator(Operator::new("op").expect("name")) }) },
        ),
    ]
}
