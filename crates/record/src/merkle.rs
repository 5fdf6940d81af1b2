//! The Merkle tree over the station's log, with RFC 6962 / RFC 9162 hashing.
//!
//! The record is worth something only if an auditor can check, without trusting either
//! station, that an entry is in the log (an inclusion proof) and that a later log extends
//! an earlier one without rewriting it (a consistency proof). Both proofs are the ones
//! Certificate Transparency uses, so the same hashing and the same proof shapes let
//! standard tools check our logs and let us check theirs.
//!
//! [`MerkleTree`] keeps, for every level `k`, the hash of each complete subtree of `2^k`
//! leaves aligned on a multiple of `2^k`. Appending a leaf therefore costs amortized one
//! hash, and the root or a proof for any earlier size costs `O(log n)` hashes: every
//! range the RFC recursion visits is either such a complete subtree (a lookup) or the one
//! ragged right edge, which is split again. The tree holds about `2n` hashes (64 MB for a
//! million entries), which is what lets a station answer any proof without re-reading
//! its log.

mod verify;

pub use verify::{ProofError, verify_consistency, verify_inclusion};

use sha2::{Digest as _, Sha256};

/// A SHA-256 hash: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// Longest proof that [`verify_inclusion`] or [`verify_consistency`] accepts and that a
/// caller should accept from the wire, in hashes: enough for any tree below 2^63 leaves.
#[allow(non_upper_case_globals)]
pub const proof_hashes_max: usize = 64;

/// The root of the empty tree, `SHA-256("")` (RFC 9162 section 2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The leaf hash of a log entry, `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(entry);
    hasher.finalize().into()
}

/// The hash of an interior node, `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Why the tree could not produce a root or a proof for the sizes asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("tree size {size} was asked for, but the tree holds only {len} leaves")]
    SizeBeyondTree { size: u64, len: u64 },
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs old size {old_size} <= new size {new_size}")]
    SizesReversed { old_size: u64, new_size: u64 },
}

/// An append-only Merkle tree of leaf hashes.
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    /// `levels[k][i]` is the hash of leaves `i * 2^k .. (i + 1) * 2^k`; `levels[0]` holds
    /// the leaf hashes themselves. Only complete subtrees are stored, so every entry is
    /// final once written and the tree never recomputes a stored hash.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    pub fn new() -> MerkleTree {
        MerkleTree { levels: vec![Vec::new()] }
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`, if the tree has one.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// Appends one leaf hash (see [`leaf_hash`]) and completes every subtree it closes.
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        // A level with an even number of hashes has just completed a pair, which makes
        // one complete subtree on the level above.
        while self.levels[level].len().is_multiple_of(2) {
            let pair_start = self.levels[level].len() - 2;
            let parent = node_hash(&self.levels[level][pair_start], &self.levels[level][pair_start + 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.range_hash(0, self.len())
    }

    /// The root the tree had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        Ok(self.range_hash(0, size))
    }

    /// The RFC 9162 inclusion proof (audit path) of leaf `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// The RFC 9162 consistency proof from the tree of `old_size` to the tree of
    /// `new_size`; empty when `old_size` is 0 or equals `new_size`.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(TreeError::SizesReversed { old_size, new_size });
        }
        let mut proof = Vec::new();
        if old_size > 0 && old_size < new_size {
            self.subproof(old_size, 0, new_size, true, &mut proof);
        }
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.len() {
            return Err(TreeError::SizeBeyondTree { size, len: self.len() });
        }
        Ok(())
    }

    /// MTH of leaves `start..end` (RFC 9162 section 2.1.1), from stored complete subtrees.
    fn range_hash(&self, start: u64, end: u64) -> Hash {
        let width = end - start;
        if width == 0 {
            return empty_root();
        }
        if width.is_power_of_two() && start.is_multiple_of(width) {
            let level = width.trailing_zeros() as usize;
            // Every aligned complete subtree inside the tree was stored by `push`.
            return self.levels[level][(start >> level) as usize];
        }
        let split = largest_power_of_two_below(width);
        node_hash(&self.range_hash(start, start + split), &self.range_hash(start + split, end))
    }

    /// PATH(m, D[start:end]) of RFC 9162 section 2.1.3.1, with `m` absolute.
    fn path(&self, index: u64, start: u64, end: u64, proof: &mut Vec<Hash>) {
        let width = end - start;
        if width <= 1 {
            return;
        }
        let split = start + largest_power_of_two_below(width);
        if index < split {
            self.path(index, start, split, proof);
            proof.push(self.range_hash(split, end));
        } else {
            self.path(index, split, end, proof);
            proof.push(self.range_hash(start, split));
        }
    }

    /// SUBPROOF(m, D[start:end], b) of RFC 9162 section 2.1.4.1, with `m` absolute.
    fn subproof(&self, old_size: u64, start: u64, end: u64, complete: bool, proof: &mut Vec<Hash>) {
        if old_size == end {
            if !complete {
                proof.push(self.range_hash(start, end));
            }
            return;
        }
        let split = start + largest_power_of_two_below(end - start);
        if old_size <= split {
            self.subproof(old_size, start, split, complete, proof);
            proof.push(self.range_hash(split, end));
        } else {
            self.subproof(old_size, split, end, false, proof);
            proof.push(self.range_hash(start, split));
        }
    }
}

/// The largest power of two strictly below `n` (the RFC's `k`); `n` must be at least 2.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2, "a split needs at least two leaves");
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MTH straight from the RFC's definition, to compare against the stored subtrees.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = largest_power_of_two_below(n as u64) as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn split_points_follow_the_rfc() {
        let cases = [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1 << 40, 1 << 39)];
        for (n, k) in cases {
            assert_eq!(largest_power_of_two_below(n), k, "n = {n}");
        }
    }

    #[test]
    fn roots_match_the_definition_at_every_size() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MerkleTree::new();
        assert_eq!(tree.root(), empty_root());
        for leaf in &leaves {
            tree.push(*leaf);
        }
        for size in 0..=leaves.len() {
            assert_eq!(tree.root_at(size as u64), Ok(naive_root(&leaves[..size])), "size {size}");
        }
        assert_eq!(tree.root_at(71), Err(TreeError::SizeBeyondTree { size: 71, len: 70 }));
    }

    #[test]
    fn refuses_impossible_proof_requests() {
        let mut tree = MerkleTree::new();
        for i in 0u8..5 {
            tree.push(leaf_hash(&[i]));
        }
        assert!(matches!(tree.inclusion_proof(5, 5), Err(TreeError::IndexOutOfRange { .. })));
        assert!(matches!(tree.inclusion_proof(0, 6), Err(TreeError::SizeBeyondTree { .. })));
        assert!(matches!(tree.consistency_proof(4, 3), Err(TreeError::SizesReversed { .. })));
        assert_eq!(tree.consistency_proof(0, 5), Ok(Vec::new()));
        assert_eq!(tree.consistency_proof(5, 5), Ok(Vec::new()));
    }

    /// The well-known empty-tree and one-leaf values from RFC 6962 implementations.
    #[test]
    fn known_small_roots() {
        let hex = |h: Hash| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    }
}
