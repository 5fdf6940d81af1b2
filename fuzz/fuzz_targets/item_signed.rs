//! Arbitrary text as an item, signed with bravo's key: past the signature, into the item
//! parser and the peer-input field checks of every item kind (message, ack, receipt,
//! checkpoint, cosignature, notice, notice_ack, witness_refusal, watch_check,
//! watch_answer, presence, call_step).
//!
//! The envelope `{"item": TEXT, "sig": BASE64(sig over "hotline-item/v1\n" || TEXT)}` is
//! built here by hand, so any text reaches `SignedItem::open`, not only what the station's
//! encoder writes. Beyond "no panic": the item opens exactly when the text reads as an
//! `Item` from bravo to alpha that `peer_input::check` accepts (an independent oracle of
//! the same rules), an opened item keeps the text byte for byte and re-serialises to itself,
//! the same text signed by alpha never opens as bravo's, and what alpha's station does next
//! with an accepted checkpoint note, cosignature line or notice does not panic either.

#![no_main]

use std::sync::LazyLock;

use hotline_fuzz::item::{check_accepted, ends, envelope_for_text};
use hotline_fuzz::{LOCAL, PEER, alpha_key, bravo_key};
use hotline_identity::{StationKey, VerifierKey};
use hotline_record::{Checkpoint, verify_cosignature};
use hotline_item::{Item, SignedItem, peer_input};
use libfuzzer_sys::fuzz_target;

static ALPHA: LazyLock<StationKey> = LazyLock::new(alpha_key);
static BRAVO: LazyLock<StationKey> = LazyLock::new(bravo_key);
static BRAVO_VERIFIER: LazyLock<VerifierKey> = LazyLock::new(|| BRAVO.verifier());

/// What alpha's station reads out of an accepted item next: the peer's checkpoint note,
/// a cosignature line appended to a checkpoint note, a notice. Only "no panic" here; the
/// `note` and `notice` targets check these parsers in depth.
fn follow_up(item: &Item) {
    match item {
        Item::Checkpoint { note, .. } => {
            let _ = Checkpoint::open(note, &BRAVO_VERIFIER);
        }
        Item::Cosignature { line, .. } => {
            let note = "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n";
            let _ = verify_cosignature(&format!("{note}{line}\n"), &BRAVO_VERIFIER);
            let _ = verify_cosignature(&format!("{note}{line}"), &BRAVO_VERIFIER);
        }
        Item::Notice { notice, .. } => {
            let _ = hotline_notice::parse_notice(notice, &hotline_notice::Limits::default());
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let payload = envelope_for_text(text, &BRAVO);
    let opened = SignedItem::open(&payload, &BRAVO_VERIFIER, LOCAL);
    let expected = serde_json::from_str::<Item>(text)
        .ok()
        .filter(|item| ends(item) == (PEER.to_owned(), LOCAL.to_owned()))
        .map(|item| peer_input::check(&item));
    match (&opened, &expected) {
        (Ok(opened), Some(Ok(()))) => {
            assert_eq!(opened.text, text, "an opened item keeps the text as signed");
            check_accepted(opened, &BRAVO, &BRAVO_VERIFIER);
            follow_up(&opened.item);
        }
        (Err(_), None | Some(Err(_))) => {}
        (opened, expected) => panic!("open gave {opened:?}, the parser and checks say {expected:?}"),
    }
    let forged = envelope_for_text(text, &ALPHA);
    assert!(SignedItem::open(&forged, &BRAVO_VERIFIER, LOCAL).is_err(), "alpha's signature is not bravo's");
});
