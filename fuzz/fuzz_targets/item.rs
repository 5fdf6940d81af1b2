//! Arbitrary bytes as an item payload from the peer: `SignedItem::open` with bravo's
//! pinned key at alpha, exactly what alpha's station runs on every payload it receives.
//!
//! Without bravo's secret key the fuzzer cannot sign, so this target mostly exercises the
//! envelope parser, the base64 and signature decoding and the strict signature check on
//! hostile input; the committed seeds are real envelopes of every item kind, so mutations
//! that keep the signed text (the envelope's whitespace, escapes, field order) reach the
//! item parser and the field checks too. Beyond "no panic": whatever opens passes the
//! field checks, is from bravo to alpha, and re-serialises to itself (`check_accepted`);
//! and nothing opens with alpha's own key in bravo's place.

#![no_main]

use std::sync::LazyLock;

use hotline_fuzz::item::check_accepted;
use hotline_fuzz::{LOCAL, alpha_key, bravo_key};
use hotline_identity::{StationKey, VerifierKey};
use hotline_item::SignedItem;
use libfuzzer_sys::fuzz_target;

static BRAVO: LazyLock<StationKey> = LazyLock::new(bravo_key);
static BRAVO_VERIFIER: LazyLock<VerifierKey> = LazyLock::new(|| BRAVO.verifier());
static ALPHA_VERIFIER: LazyLock<VerifierKey> = LazyLock::new(|| alpha_key().verifier());

fuzz_target!(|data: &[u8]| {
    if let Ok(opened) = SignedItem::open(data, &BRAVO_VERIFIER, LOCAL) {
        check_accepted(&opened, &BRAVO, &BRAVO_VERIFIER);
        assert!(SignedItem::open(data, &ALPHA_VERIFIER, LOCAL).is_err(), "bravo's signature is not alpha's");
    }
});
