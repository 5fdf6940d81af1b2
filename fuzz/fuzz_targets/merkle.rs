//! RFC 9162 proof verification (crates/record `merkle`) on structured input.
//!
//! The witness and the auditor trust `verify_inclusion` and `verify_consistency` with
//! sizes and hashes from the wire. Beyond "no panic" on any sizes up to 2^64 - 1: honest
//! proofs from a real tree verify; changing one bit of a proof, or the leaf index, makes
//! it fail; and a proof that verifies against the real roots is the honest proof (every
//! hash of a proof feeds the root, so another would be a SHA-256 collision).

#![no_main]

use arbitrary::Arbitrary;
use hotline_record::merkle::{Hash, MerkleTree, leaf_hash, verify_consistency, verify_inclusion};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Leaves in the real tree (at most 255).
    leaves: u8,
    /// The old size of the consistency proof, modulo `leaves + 1`.
    old: u8,
    /// The leaf of the inclusion proof, modulo `leaves`.
    index: u8,
    /// One proof hash to alter: (which hash, which byte, xor mask).
    flip: Option<(u8, u8, u8)>,
    /// A proof the fuzzer offers against the real tree's sizes and roots.
    forged: Vec<Hash>,
    /// Anything at all: sizes, index and hashes for the verifiers and the tree.
    wild_old: u64,
    wild_new: u64,
    wild_index: u64,
    wild_roots: (Hash, Hash),
}

fn flipped(proof: &[Hash], flip: Option<(u8, u8, u8)>) -> Option<Vec<Hash>> {
    let (which, byte, mask) = flip?;
    if proof.is_empty() {
        return None;
    }
    let mut proof = proof.to_vec();
    let which = usize::from(which) % proof.len();
    proof[which][usize::from(byte) % 32] ^= mask | 1;
    Some(proof)
}

fuzz_target!(|input: Input| {
    let n = u64::from(input.leaves);
    let mut tree = MerkleTree::new();
    for i in 0..n {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    let root = tree.root();

    if n > 0 {
        let index = u64::from(input.index) % n;
        let leaf = tree.leaf(index).expect("leaf inside the tree");
        let proof = tree.inclusion_proof(index, n).expect("proof inside the tree");
        assert_eq!(verify_inclusion(&leaf, index, n, &proof, &root), Ok(()));
        if let Some(bad) = flipped(&proof, input.flip) {
            assert!(verify_inclusion(&leaf, index, n, &bad, &root).is_err(), "an altered audit path verified");
        }
        if index + 1 < n {
            assert!(verify_inclusion(&leaf, index + 1, n, &proof, &root).is_err(), "a leaf verified at another index");
        }
        if verify_inclusion(&leaf, index, n, &input.forged, &root).is_ok() {
            assert_eq!(input.forged, proof, "a second audit path verified");
        }
    }

    let old = u64::from(input.old) % (n + 1);
    let old_root = tree.root_at(old).expect("old size inside the tree");
    let proof = tree.consistency_proof(old, n).expect("sizes inside the tree");
    assert_eq!(verify_consistency(old, n, &old_root, &root, &proof), Ok(()));
    if let Some(bad) = flipped(&proof, input.flip) {
        assert!(verify_consistency(old, n, &old_root, &root, &bad).is_err(), "an altered consistency proof verified");
    }
    if verify_consistency(old, n, &old_root, &root, &input.forged).is_ok() {
        assert_eq!(input.forged, proof, "a second consistency proof verified");
    }

    // Wild sizes: never a panic, and the tree answers only for sizes it has.
    let (a, b) = &input.wild_roots;
    let _ = verify_inclusion(a, input.wild_index, input.wild_new, &input.forged, b);
    let _ = verify_consistency(input.wild_old, input.wild_new, a, b, &input.forged);
    let _ = verify_consistency(input.wild_old, n, &old_root, &root, &input.forged);
    match tree.inclusion_proof(input.wild_index, input.wild_new) {
        Ok(p) => {
            let leaf = tree.leaf(input.wild_index).expect("leaf inside");
            let root_at = tree.root_at(input.wild_new).expect("size inside");
            assert_eq!(verify_inclusion(&leaf, input.wild_index, input.wild_new, &p, &root_at), Ok(()));
        }
        Err(_) => assert!(input.wild_new > n || input.wild_index >= input.wild_new),
    }
    match tree.consistency_proof(input.wild_old, input.wild_new) {
        Ok(p) => {
            let (r1, r2) = (tree.root_at(input.wild_old), tree.root_at(input.wild_new));
            let (r1, r2) = (r1.expect("old inside"), r2.expect("new inside"));
            assert_eq!(verify_consistency(input.wild_old, input.wild_new, &r1, &r2, &p), Ok(()));
        }
        Err(_) => assert!(input.wild_new > n || input.wild_old > input.wild_new),
    }
});
