//! Proof verification exactly as RFC 9162 sections 2.1.3.2 and 2.1.4.2 write it.
//!
//! These two functions are what an auditor, a witness and `hotline verify` trust, so they
//! take nothing from the tree that built the proof: only the claimed sizes, hashes and
//! proof. They follow the RFC's step-by-step algorithms literally (the `fn`/`sn` bit
//! walks), and before hashing anything they compare the proof's length with the length
//! the sizes imply, so that a proof that is too short or too long is named as such
//! rather than reported as a mismatched root.

use super::{Hash, empty_root, node_hash};

/// Why an inclusion or consistency proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the old tree size {old_size} is larger than the new tree size {new_size}")]
    SizesReversed { old_size: u64, new_size: u64 },
    #[error("the proof has {found} hashes, but these sizes need exactly {expected}")]
    WrongLength { expected: usize, found: usize },
    #[error("the proof does not lead to the given root hash")]
    RootMismatch,
    #[error("the consistency proof does not lead to the old root hash")]
    OldRootMismatch,
    #[error("the consistency proof does not lead to the new root hash")]
    NewRootMismatch,
}

/// The number of hashes in the audit path of leaf `index` in a tree of `size`
/// (`index < size`): the levels where the paths to `index` and to the last leaf part
/// (inner), plus the complete left subtrees above them (border).
fn inclusion_proof_len(index: u64, size: u64) -> (u32, u32) {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    // `inner` is 64 for sizes above 2^63, where a plain shift would overflow.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

/// The number of hashes in the consistency proof between `0 < old_size < new_size`.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let (inner, border) = inclusion_proof_len(old_size - 1, new_size);
    let shift = old_size.trailing_zeros();
    // When the old tree is itself one complete subtree its root is not repeated in the
    // proof; otherwise the proof starts with the root of the largest complete subtree
    // that ends the old tree.
    let seed = usize::from(old_size != 1 << shift);
    seed + inner.saturating_sub(shift) as usize + border as usize
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` whose root is `root`
/// (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // Step 1.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = inclusion_proof_len(index, size);
    let expected = (inner + border) as usize;
    if proof.len() != expected {
        return Err(ProofError::WrongLength { expected, found: proof.len() });
    }
    // Steps 2 and 3.
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::WrongLength { expected, found: proof.len() });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5.
    if s_n != 0 {
        return Err(ProofError::WrongLength { expected, found: proof.len() });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `new_size` with `new_root` extends the tree of `old_size`
/// with `old_root` (RFC 9162 section 2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots. An old size of 0 needs an empty
/// proof and the empty-tree root as `old_root`: every tree extends the empty tree, but a
/// checkpoint that claims another root for size 0 is false and is refused.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesReversed { old_size, new_size });
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength { expected: 0, found: proof.len() });
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    let expected = consistency_proof_len(old_size, new_size);
    // Step 1 (an empty proof) is covered here: `expected` is at least 1 for these sizes.
    if proof.len() != expected {
        return Err(ProofError::WrongLength { expected, found: proof.len() });
    }
    // Step 2: an old tree that is one complete subtree starts the walk from its own root.
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof.iter());
    // Step 3.
    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    // Step 4.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5.
    let mut f_r = *path[0];
    let mut s_r = *path[0];
    // Step 6.
    for c in &path[1..] {
        if s_n == 0 {
            return Err(ProofError::WrongLength { expected, found: proof.len() });
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 7.
    if s_n != 0 {
        return Err(ProofError::WrongLength { expected, found: proof.len() });
    }
    if f_r != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if s_r != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MerkleTree, leaf_hash};

    fn tree(size: u64) -> MerkleTree {
        let mut tree = MerkleTree::new();
        for i in 0..size {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        tree
    }

    #[test]
    fn predicted_lengths_match_built_proofs() {
        let tree = tree(40);
        for size in 1..=40 {
            for index in 0..size {
                let (inner, border) = inclusion_proof_len(index, size);
                let built = tree.inclusion_proof(index, size).expect("proof");
                assert_eq!(built.len(), (inner + border) as usize, "index {index} size {size}");
            }
            for old in 1..size {
                let built = tree.consistency_proof(old, size).expect("proof");
                assert_eq!(built.len(), consistency_proof_len(old, size), "{old} -> {size}");
            }
        }
    }

    #[test]
    fn trivial_consistency_cases() {
        let tree = tree(9);
        let root = tree.root();
        let other = tree.root_at(8).expect("root");
        assert_eq!(verify_consistency(9, 9, &root, &root, &[]), Ok(()));
        assert_eq!(verify_consistency(9, 9, &root, &other, &[]), Err(ProofError::RootMismatch));
        assert_eq!(
            verify_consistency(9, 9, &root, &root, &[root]),
            Err(ProofError::WrongLength { expected: 0, found: 1 })
        );
        assert_eq!(verify_consistency(0, 9, &empty_root(), &root, &[]), Ok(()));
        assert_eq!(verify_consistency(0, 0, &empty_root(), &empty_root(), &[]), Ok(()));
        assert_eq!(verify_consistency(0, 9, &other, &root, &[]), Err(ProofError::OldRootMismatch));
        assert!(matches!(verify_consistency(3, 9, &other, &root, &[]), Err(ProofError::WrongLength { .. })));
        assert!(matches!(verify_consistency(10, 9, &other, &root, &[]), Err(ProofError::SizesReversed { .. })));
    }

    #[test]
    fn single_leaf_tree_has_an_empty_audit_path() {
        let leaf = leaf_hash(b"only");
        assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
        assert_eq!(verify_inclusion(&leaf, 1, 1, &[], &leaf), Err(ProofError::IndexOutOfRange { index: 1, size: 1 }));
        assert_eq!(verify_inclusion(&leaf, 0, 0, &[], &leaf), Err(ProofError::IndexOutOfRange { index: 0, size: 0 }));
    }
}
