//! Property tests: for random trees, every proof the tree builds verifies against its
//! roots, every mutated proof fails, and the stored-subtree roots equal the RFC's MTH.

use hotline_record::merkle::{
    Hash, MerkleTree, empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

/// Largest random tree, in leaves.
const TREE_LEAVES_MAX: u64 = 300;

/// MTH straight from RFC 9162 section 2.1.1, with no stored subtrees.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// A tree of `size` distinct leaves (the seed varies the data between cases).
fn tree(size: u64, seed: u64) -> (MerkleTree, Vec<Hash>) {
    let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat())).collect();
    let mut tree = MerkleTree::new();
    for leaf in &leaves {
        tree.push(*leaf);
    }
    (tree, leaves)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// The ways a valid proof is broken: flip one bit of one hash, drop one, add one.
fn mutations(proof: &[Hash], hash_index: usize, bit: usize) -> Vec<Vec<Hash>> {
    let mut broken = Vec::new();
    if !proof.is_empty() {
        let index = hash_index % proof.len();
        let mut flipped = proof.to_vec();
        flipped[index][bit / 8 % 32] ^= 1 << (bit % 8);
        broken.push(flipped);
        let mut dropped = proof.to_vec();
        dropped.remove(index);
        broken.push(dropped);
    }
    let mut added = proof.to_vec();
    added.insert(hash_index % (proof.len() + 1), leaf_hash(b"extra"));
    broken.push(added);
    broken
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn roots_equal_the_naive_definition(size in 0..=TREE_LEAVES_MAX, seed in any::<u64>(), probe in 0..=TREE_LEAVES_MAX) {
        let (tree, leaves) = tree(size, seed);
        prop_assert_eq!(tree.root(), naive_root(&leaves));
        let probe = probe.min(size);
        prop_assert_eq!(tree.root_at(probe).expect("probe within tree"), naive_root(&leaves[..probe as usize]));
    }

    #[test]
    fn every_inclusion_proof_verifies(size in 1..=TREE_LEAVES_MAX, seed in any::<u64>()) {
        let (tree, leaves) = tree(size, seed);
        let root = tree.root_at(size).expect("root");
        for index in 0..size {
            let proof = tree.inclusion_proof(index, size).expect("proof");
            prop_assert_eq!(verify_inclusion(&leaves[index as usize], index, size, &proof, &root), Ok(()));
        }
    }

    #[test]
    fn every_consistency_proof_into_a_random_size_verifies(size in 1..=TREE_LEAVES_MAX, seed in any::<u64>()) {
        let (tree, _) = tree(size, seed);
        let new_root = tree.root_at(size).expect("root");
        for old_size in 0..=size {
            let old_root = tree.root_at(old_size).expect("old root");
            let proof = tree.consistency_proof(old_size, size).expect("proof");
            prop_assert_eq!(verify_consistency(old_size, size, &old_root, &new_root, &proof), Ok(()), "{} -> {}", old_size, size);
        }
    }

    #[test]
    fn sampled_consistency_pairs_verify(size in 1..=TREE_LEAVES_MAX, seed in any::<u64>(), pairs in prop::collection::vec((any::<u64>(), any::<u64>()), 32)) {
        let (tree, _) = tree(size, seed);
        for (a, b) in pairs {
            let (a, b) = (a % (size + 1), b % (size + 1));
            let (old_size, new_size) = (a.min(b), a.max(b));
            let proof = tree.consistency_proof(old_size, new_size).expect("proof");
            let old_root = tree.root_at(old_size).expect("old root");
            let new_root = tree.root_at(new_size).expect("new root");
            prop_assert_eq!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof), Ok(()));
        }
    }

    #[test]
    fn mutated_inclusion_proofs_fail(
        size in 1..=TREE_LEAVES_MAX, seed in any::<u64>(), index in any::<u64>(),
        hash_index in any::<usize>(), bit in any::<usize>(), other in any::<u64>(),
    ) {
        let (tree, leaves) = tree(size, seed);
        let index = index % size;
        let leaf = leaves[index as usize];
        let root = tree.root_at(size).expect("root");
        let proof = tree.inclusion_proof(index, size).expect("proof");
        for broken in mutations(&proof, hash_index, bit) {
            prop_assert!(verify_inclusion(&leaf, index, size, &broken, &root).is_err());
        }
        let other_index = other % (size + 1);
        if other_index != index {
            prop_assert!(verify_inclusion(&leaf, other_index, size, &proof, &root).is_err(), "index {} as {}", index, other_index);
        }
        // Another size, checked against that size's real root. (Against the same root a
        // size of the same depth is accepted: only the signed checkpoint binds the size.)
        let other_size = other % (size + 1);
        if other_size != size {
            let other_root = tree.root_at(other_size).expect("size within tree");
            prop_assert!(verify_inclusion(&leaf, index, other_size, &proof, &other_root).is_err(), "size {} as {}", size, other_size);
        }
    }

    #[test]
    fn mutated_consistency_proofs_fail(
        size in 2..=TREE_LEAVES_MAX, seed in any::<u64>(), old in any::<u64>(),
        hash_index in any::<usize>(), bit in any::<usize>(), other in any::<u64>(),
    ) {
        let (tree, _) = tree(size, seed);
        let old_size = 1 + old % (size - 1);
        let old_root = tree.root_at(old_size).expect("old root");
        let new_root = tree.root_at(size).expect("new root");
        let proof = tree.consistency_proof(old_size, size).expect("proof");
        for broken in mutations(&proof, hash_index, bit) {
            prop_assert!(verify_consistency(old_size, size, &old_root, &new_root, &broken).is_err());
        }
        // Other sizes, each with its real root: the proof belongs to one pair only.
        let other_old = other % size;
        if other_old != old_size {
            let other_root = tree.root_at(other_old).expect("root");
            prop_assert!(verify_consistency(other_old, size, &other_root, &new_root, &proof).is_err(), "old {} as {}", old_size, other_old);
        }
        let other_new = old_size + other % (size - old_size + 1);
        if other_new != size {
            let other_root = tree.root_at(other_new).expect("root");
            prop_assert!(verify_consistency(old_size, other_new, &old_root, &other_root, &proof).is_err(), "new {} as {}", size, other_new);
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Untrusted sizes and proofs of any length give an error, never a panic.
    #[test]
    fn arbitrary_inputs_never_panic(
        a in any::<u64>(), b in any::<u64>(), hashes in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        root in any::<[u8; 32]>(),
    ) {
        let _ = verify_inclusion(&root, a, b, &hashes, &root);
        let _ = verify_consistency(a.min(b), a.max(b), &root, &root, &hashes);
        let _ = verify_consistency(a, b, &root, &root, &hashes);
        let _ = verify_consistency(a >> 1, a, &root, &root, &hashes);
    }
}

/// The size the log is built for: a million entries, then proofs at many sizes. Ignored in
/// debug runs (two million SHA-256 calls); run with `cargo test --release -- --ignored`.
#[test]
#[ignore = "slow in debug builds; run with --release -- --ignored"]
fn a_million_entry_log_answers_proofs_quickly() {
    let size = 1_000_000u64;
    let started = std::time::Instant::now();
    let (tree, leaves) = tree(size, 7);
    let built = started.elapsed();
    let started = std::time::Instant::now();
    let root = tree.root();
    for step in 0..1_000u64 {
        let index = step * 997 % size;
        let proof = tree.inclusion_proof(index, size).expect("proof");
        assert_eq!(verify_inclusion(&leaves[index as usize], index, size, &proof, &root), Ok(()));
        let old_size = 1 + step * 991 % (size - 1);
        let old_root = tree.root_at(old_size).expect("root");
        let proof = tree.consistency_proof(old_size, size).expect("proof");
        assert_eq!(verify_consistency(old_size, size, &old_root, &root, &proof), Ok(()));
    }
    eprintln!("built 1,000,000 leaves in {built:?}; 1,000 proof pairs in {:?}", started.elapsed());
}
