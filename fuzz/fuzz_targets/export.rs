//! The export reader (crates/audit): `parse_export`, then `verify`, on arbitrary bytes.
//!
//! Beyond "no panic": an export that parses is byte for byte its own canonical text; one
//! that verifies has a summary that matches it and a transcript. Mutated entries would
//! mostly stop at the checkpoint whose root they break, so an export of alpha (whose key
//! the fuzzer holds: the audit fixture's seed) is also re-sealed: a fresh checkpoint over
//! the entries as they now are, signed by alpha and cosigned by bravo. The re-sealed
//! export must never fail on its checkpoint; it reaches the item signatures, and when it
//! verifies, the transcript and the cross-check against bravo's committed export.

#![no_main]

use std::sync::LazyLock;

use hotline_audit::{AuditError, Export, cross_check, parse_export, transcript, verify};
use hotline_fuzz::{PEER, alpha_key, bravo_key};
use hotline_identity::StationKey;
use hotline_record::merkle::{MerkleTree, leaf_hash};
use hotline_record::{Checkpoint, NoteSigner, cosign};
use libfuzzer_sys::fuzz_target;

static ALPHA: LazyLock<StationKey> = LazyLock::new(alpha_key);
static BRAVO: LazyLock<StationKey> = LazyLock::new(bravo_key);

/// Bravo's side of the conversation in the seeds, written by `examples/seedgen.rs`.
static BRAVO_EXPORT: LazyLock<Export> =
    LazyLock::new(|| parse_export(include_bytes!("../fixtures/bravo-export.json")).expect("the committed fixture"));

/// 2026-11-24T16:00:00Z, the cosignature time of re-sealed checkpoints.
const TIME_SECS: u64 = 1_795_536_000;

/// A verified export's summary says what the export holds, and it has a transcript.
fn check_verified(export: &Export) {
    let Ok(summary) = verify(export) else {
        return;
    };
    assert_eq!(summary.station, export.station);
    assert_eq!(summary.entries, export.entries.len() as u64);
    assert_eq!(summary.checkpoints, export.checkpoints.len());
    assert_eq!(summary.latest_checkpoint_size, summary.entries);
    assert!(summary.last_checkpoint_covers_all);
    assert_eq!(summary.peers.len(), export.peers.len());
    assert!(!summary.render().is_empty());
    let text = transcript(export, None).expect("a verified record has a transcript");
    assert!(!text.is_empty());
    for peer in &export.peers {
        transcript(export, Some(&peer.name)).expect("a listed peer's line has a transcript");
    }
}

/// Alpha's export with one fresh checkpoint over its entries, if it is alpha's.
fn reseal(export: &Export) -> Option<Export> {
    if export.key != ALPHA.verifier().to_string() {
        return None;
    }
    let mut tree = MerkleTree::new();
    for entry in &export.entries {
        tree.push(leaf_hash(entry.as_bytes()));
    }
    let checkpoint = Checkpoint::new(&export.origin, tree.len(), tree.root());
    let mut note = checkpoint.sign(&NoteSigner::from_station_key(&ALPHA)).ok()?;
    if export.peers.iter().any(|p| p.name == PEER && p.key == BRAVO.verifier().to_string()) {
        note.push_str(&cosign(&checkpoint, &NoteSigner::from_station_key(&BRAVO), TIME_SECS).ok()?);
    }
    Some(Export { checkpoints: vec![note], ..export.clone() })
}

fuzz_target!(|data: &[u8]| {
    let Ok(export) = parse_export(data) else {
        return;
    };
    assert_eq!(export.to_json().as_bytes(), data, "an export that parses is its own canonical text");
    check_verified(&export);

    let Some(sealed) = reseal(&export) else {
        return;
    };
    match verify(&sealed) {
        Err(e @ AuditError::Checkpoint { .. }) => panic!("a checkpoint made for these entries failed: {e}"),
        Err(_) => {}
        Ok(_) => {
            check_verified(&sealed);
            let _ = cross_check(&sealed, &BRAVO_EXPORT);
            let _ = cross_check(&BRAVO_EXPORT, &sealed);
        }
    }
});
