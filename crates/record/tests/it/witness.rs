//! The witness cosigns only checkpoints that extend what it cosigned before, tells a fork
//! or rewritten history apart from plain bad input, and never changes state on a refusal.

use hotline_identity::StationKey;
use hotline_record::cosignature::verify_cosignature;
use hotline_record::merkle::{MerkleTree, ProofError, leaf_hash};
use hotline_record::{Checkpoint, CheckpointError, NoteError, NoteSigner, Witness, WitnessError};

const ORIGIN: &str = "hotline/alpha";

/// Alpha's log, with entry `rewritten` replaced when given (a rewritten history).
fn log(size: u64, rewritten: Option<u64>) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for i in 0..size {
        let entry = if Some(i) == rewritten { format!("rewritten {i}") } else { format!("entry {i}") };
        tree.push(leaf_hash(entry.as_bytes()));
    }
    tree
}

struct Setup {
    alpha: NoteSigner,
    bravo: Witness,
    bravo_signer: NoteSigner,
}

fn setup() -> Setup {
    let alpha_key = StationKey::from_seed("alpha", &[1; 32]).expect("alpha key");
    let bravo_key = StationKey::from_seed("bravo", &[2; 32]).expect("bravo key");
    Setup {
        alpha: NoteSigner::from_station_key(&alpha_key),
        bravo: Witness::new(NoteSigner::from_station_key(&bravo_key)),
        bravo_signer: NoteSigner::from_station_key(&bravo_key),
    }
}

fn signed(alpha: &NoteSigner, tree: &MerkleTree, size: u64) -> String {
    Checkpoint::new(ORIGIN, size, tree.root_at(size).expect("root")).sign(alpha).expect("signed")
}

#[test]
fn cosigns_a_growing_log_and_the_cosignature_verifies() {
    let Setup { alpha, mut bravo, bravo_signer } = setup();
    let tree = log(40, None);
    let first = signed(&alpha, &tree, 3);
    let line = bravo.cosign_if_consistent(&first, &[], &alpha.verifier(), 1_000).expect("first checkpoint");
    assert_eq!(line.checkpoint.size, 3);
    assert_eq!(verify_cosignature(&format!("{first}{}", line.line), &bravo.verifier()), Ok(1_000));
    assert_eq!(bravo.verifier(), bravo_signer.verifier());

    let proof = tree.consistency_proof(3, 40).expect("proof");
    let second = signed(&alpha, &tree, 40);
    let line = bravo.cosign_if_consistent(&second, &proof, &alpha.verifier(), 1_010).expect("grown");
    let cosigned = format!("{second}{}", line.line);
    assert_eq!(verify_cosignature(&cosigned, &bravo.verifier()), Ok(1_010));
    // The log's signature still opens the cosigned note; the cosignature is ignored there.
    assert_eq!(Checkpoint::open(&cosigned, &alpha.verifier()).map(|c| c.size), Ok(40));
    assert_eq!(bravo.last_cosigned(ORIGIN).map(|c| c.size), Some(40));

    // The same checkpoint again is cosigned again, with the new time.
    let again = bravo.cosign_if_consistent(&second, &[], &alpha.verifier(), 1_020).expect("same");
    assert_eq!(verify_cosignature(&format!("{second}{}", again.line), &bravo.verifier()), Ok(1_020));
}

#[test]
fn refuses_forks_rewrites_and_backwards_sizes_without_changing_state() {
    let Setup { alpha, mut bravo, .. } = setup();
    let honest = log(20, None);
    let rewritten = log(30, Some(5));
    bravo.cosign_if_consistent(&signed(&alpha, &honest, 10), &[], &alpha.verifier(), 1).expect("first");
    let before = bravo.last_cosigned(ORIGIN).cloned();

    let backwards = bravo.cosign_if_consistent(&signed(&alpha, &honest, 9), &[], &alpha.verifier(), 2);
    assert!(matches!(backwards, Err(WitnessError::SizeWentBackwards { cosigned_size: 10, new_size: 9, .. })));
    assert!(!backwards.unwrap_err().is_critical());

    let fork = bravo.cosign_if_consistent(&signed(&alpha, &rewritten, 10), &[], &alpha.verifier(), 3);
    assert!(matches!(fork, Err(WitnessError::Fork { size: 10, .. })));
    assert!(fork.unwrap_err().is_critical());

    // The rewritten log's own proof from its own size 10 does not start from what bravo saw.
    let proof = rewritten.consistency_proof(10, 30).expect("proof");
    let inconsistent = bravo.cosign_if_consistent(&signed(&alpha, &rewritten, 30), &proof, &alpha.verifier(), 4);
    assert!(matches!(inconsistent, Err(WitnessError::Inconsistent { cosigned_size: 10, new_size: 30, .. })));
    assert!(inconsistent.unwrap_err().is_critical());

    // A proof of the wrong length for an honest checkpoint is still a failed proof.
    let short = &honest.consistency_proof(10, 20).expect("proof")[1..];
    let result = bravo.cosign_if_consistent(&signed(&alpha, &honest, 20), short, &alpha.verifier(), 5);
    assert!(matches!(result, Err(WitnessError::Inconsistent { reason: ProofError::WrongLength { .. }, .. })));

    assert_eq!(bravo.last_cosigned(ORIGIN).cloned(), before);
}

#[test]
fn refuses_bad_signatures_and_bad_input_as_not_critical() {
    let Setup { alpha, mut bravo, bravo_signer } = setup();
    let tree = log(5, None);
    let note = signed(&alpha, &tree, 5);
    // Signed by someone else (here, the witness itself).
    let wrong_key = bravo.cosign_if_consistent(&signed(&bravo_signer, &tree, 5), &[], &alpha.verifier(), 1);
    assert_eq!(wrong_key, Err(WitnessError::Checkpoint(CheckpointError::Note(NoteError::NoKnownSignature))));
    // The size changed after signing: the log's signature no longer holds.
    let altered = note.replacen("\n5\n", "\n6\n", 1);
    let result = bravo.cosign_if_consistent(&altered, &[], &alpha.verifier(), 1);
    assert!(matches!(result, Err(WitnessError::Checkpoint(CheckpointError::Note(NoteError::InvalidSignature { .. })))));
    // A proof for a first checkpoint means the log and witness disagree on history so far.
    let proof = tree.consistency_proof(2, 5).expect("proof");
    let result = bravo.cosign_if_consistent(&note, &proof, &alpha.verifier(), 1);
    assert!(matches!(result, Err(WitnessError::NothingCosignedYet { .. })));
    // A time the cosignature format cannot carry.
    let result = bravo.cosign_if_consistent(&note, &[], &alpha.verifier(), u64::MAX);
    assert!(matches!(result, Err(WitnessError::Cosignature(_))));
    for error in [wrong_key.unwrap_err(), result.unwrap_err()] {
        assert!(!error.is_critical(), "{error}");
    }
    assert_eq!(bravo.last_cosigned(ORIGIN), None);
}

#[test]
fn restored_state_is_enforced_after_a_restart() {
    let Setup { alpha, mut bravo, .. } = setup();
    let honest = log(12, None);
    bravo.restore(Checkpoint::new(ORIGIN, 8, honest.root_at(8).expect("root"))).expect("restore");
    let rewritten = log(12, Some(2));
    let proof = rewritten.consistency_proof(8, 12).expect("proof");
    let result = bravo.cosign_if_consistent(&signed(&alpha, &rewritten, 12), &proof, &alpha.verifier(), 9);
    assert!(result.is_err_and(|e| e.is_critical()));
    let proof = honest.consistency_proof(8, 12).expect("proof");
    let line = bravo.cosign_if_consistent(&signed(&alpha, &honest, 12), &proof, &alpha.verifier(), 9).expect("honest");
    assert_eq!(line.time_secs, 9);
}
