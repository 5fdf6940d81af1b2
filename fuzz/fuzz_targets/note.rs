//! The signed-note, checkpoint, cosignature and key parsers (crates/record and
//! crates/identity) on arbitrary text.
//!
//! Beyond "no panic": a note that parses is written back byte for byte from its parts
//! (one note, one text); a checkpoint body that parses is its own `to_body`; verification
//! with the signed-note test vector's keys and the stations' keys only ever accepts
//! signatures by those keys; and whatever the text, signing it (as a note, a checkpoint,
//! a cosignature) and then verifying gives it back, and the witness cosigns a checkpoint
//! signed by the log only as the witness rules say.

#![no_main]

use std::sync::LazyLock;

use hotline_fuzz::{alpha_key, bravo_key};
use hotline_identity::{StationKey, VerifierKey};
use hotline_record::cosignature::cosignature_time_secs_max;
use hotline_record::merkle::empty_root;
use hotline_record::note::add_signature_lines;
use hotline_record::{
    Checkpoint, CheckpointError, NoteError, NoteSigner, Witness, WitnessError, cosign, parse_note, sign_note,
    verify_cosignature, verify_note,
};
use libfuzzer_sys::fuzz_target;

/// The keys of the C2SP signed-note test vector (../shared/testvectors/signed-note.md).
const PETER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

/// A fixed cosignature time, 2026-11-24T15:30:00Z.
const TIME_SECS: u64 = 1_795_534_200;

static ALPHA: LazyLock<StationKey> = LazyLock::new(alpha_key);
static BRAVO: LazyLock<StationKey> = LazyLock::new(bravo_key);
static KNOWN: LazyLock<Vec<VerifierKey>> = LazyLock::new(|| {
    vec![
        VerifierKey::parse(PETER).expect("test vector key"),
        VerifierKey::parse(ENOCH).expect("test vector key"),
        ALPHA.verifier(),
    ]
});

/// Parsed notes are written back exactly, and verification trusts only known keys.
fn parse_and_verify(text: &str) {
    let Ok(note) = parse_note(text) else {
        return;
    };
    let mut written = format!("{}\n", note.text);
    for signature in &note.signatures {
        written.push_str(&signature.to_line());
    }
    assert_eq!(written, text, "a parsed note is written back byte for byte");
    let known = &*KNOWN;
    if let Ok(verified) = verify_note(text, known) {
        assert_eq!(verified.text, note.text);
        assert!(!verified.verified.is_empty());
        for signature in &verified.verified {
            assert!(known.iter().any(|k| k.name() == signature.name && k.key_hash() == signature.key_hash));
        }
    }
    if let Ok(checkpoint) = Checkpoint::open(text, &ALPHA.verifier()) {
        assert_eq!(checkpoint.to_body(), note.text);
    }
    if let Ok(secs) = verify_cosignature(text, &BRAVO.verifier()) {
        assert!(secs <= cosignature_time_secs_max);
    }
}

/// Whatever the text, signing then verifying gives it back.
fn sign_and_verify(text: &str, alpha: &StationKey) {
    let signer = NoteSigner::from_station_key(alpha);
    match sign_note(text, &signer) {
        Ok(note) => {
            let verified = verify_note(&note, &[alpha.verifier()]).expect("our own signature verifies");
            assert_eq!(verified.text, text);
        }
        Err(NoteError::ControlCharacter { .. } | NoteError::TextWithoutFinalNewline) => {}
        Err(e) => panic!("signing {text:?} failed: {e}"),
    }
}

/// A checkpoint body that parses is its own text, signs, opens, and is cosigned by a
/// witness exactly when the witness's rules allow.
fn checkpoint(text: &str, alpha: &StationKey, bravo: &StationKey) {
    let Ok(checkpoint) = Checkpoint::parse_body(text) else {
        return;
    };
    assert_eq!(checkpoint.to_body(), text, "one text per checkpoint");
    let log = NoteSigner::from_station_key(alpha);
    let note = match checkpoint.sign(&log) {
        Ok(note) => note,
        // A body that parses may still hold something signing refuses; say which.
        Err(CheckpointError::Note(NoteError::ControlCharacter { .. })) => return,
        Err(e) => panic!("a parsed checkpoint does not sign: {e}"),
    };
    assert_eq!(Checkpoint::open(&note, &alpha.verifier()), Ok(checkpoint.clone()));
    let witness_signer = NoteSigner::from_station_key(bravo);
    let line = cosign(&checkpoint, &witness_signer, TIME_SECS).expect("cosigns");
    let cosigned = add_signature_lines(&note, &line).expect("a cosignature line is a signature line");
    assert_eq!(verify_cosignature(&cosigned, &bravo.verifier()), Ok(TIME_SECS));
    assert_eq!(Checkpoint::open(&cosigned, &alpha.verifier()), Ok(checkpoint.clone()));

    let mut witness = Witness::new(NoteSigner::from_station_key(bravo));
    let first = witness.cosign_if_consistent(&note, &[], &alpha.verifier(), TIME_SECS);
    match &first {
        Ok(line) => {
            assert_eq!(line.checkpoint, checkpoint);
            assert!(checkpoint.size > 0 || checkpoint.root == empty_root());
            let again = add_signature_lines(&note, &line.line).expect("appends");
            assert_eq!(verify_cosignature(&again, &bravo.verifier()), Ok(TIME_SECS));
            // The same checkpoint again is consistent with itself.
            assert!(witness.cosign_if_consistent(&note, &[], &alpha.verifier(), TIME_SECS + 1).is_ok());
        }
        Err(WitnessError::Inconsistent { .. }) => assert!(checkpoint.size == 0 && checkpoint.root != empty_root()),
        Err(e) => panic!("the witness refused a first checkpoint with an empty proof: {e}"),
    }
    // Bravo's key is not the log's key: nothing is cosigned.
    let mut witness = Witness::new(NoteSigner::from_station_key(bravo));
    assert!(witness.cosign_if_consistent(&note, &[], &bravo.verifier(), TIME_SECS).is_err());
}

/// Key texts: what parses prints back in its canonical form and parses to the same key.
fn keys(text: &str) {
    if let Ok(key) = VerifierKey::parse(text) {
        assert_eq!(VerifierKey::parse(&key.to_string()), Ok(key));
    }
    if let Ok(signer) = NoteSigner::from_private_text(text) {
        assert_eq!(VerifierKey::parse(&signer.verifier().to_string()), Ok(signer.verifier()));
    }
    if let Ok(key) = StationKey::from_private_text(text) {
        let again = StationKey::from_private_text(&key.to_private_text()).expect("own key text");
        assert_eq!(again.verifier(), key.verifier());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    parse_and_verify(text);
    if let Ok(note) = parse_note(text) {
        checkpoint(&note.text, &ALPHA, &BRAVO);
    }
    checkpoint(text, &ALPHA, &BRAVO);
    sign_and_verify(text, &ALPHA);
    keys(text);
});
