//! The real proofs of Google's Argon 2020 CT log must verify, and every single-byte
//! change to them must not: this is what says our verifier is RFC 6962 and not merely
//! self-consistent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_record::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};

/// Size of the older tree in `consistency.json`, and its root (from the vector's README).
const OLD_SIZE: u64 = 3_654_490;
const OLD_ROOT_B64: &str = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=";

struct Vectors {
    size: u64,
    root: Hash,
    leaf_input: Vec<u8>,
    leaf_index: u64,
    audit_path: Vec<Hash>,
    consistency: Vec<Hash>,
    old_root: Hash,
}

fn json(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/vectors/ct-argon2020/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn hash(value: &serde_json::Value) -> Hash {
    let raw = BASE64.decode(value.as_str().expect("base64 string")).expect("base64");
    raw.try_into().expect("32-byte hash")
}

fn load() -> Vectors {
    let sth = json("sth.json");
    let entries = json("entries.json");
    let proof = json("proof.json");
    let consistency = json("consistency.json");
    Vectors {
        size: sth["tree_size"].as_u64().expect("tree_size"),
        root: hash(&sth["sha256_root_hash"]),
        leaf_input: BASE64.decode(entries["entries"][0]["leaf_input"].as_str().expect("leaf")).expect("base64"),
        leaf_index: proof["leaf_index"].as_u64().expect("leaf_index"),
        audit_path: proof["audit_path"].as_array().expect("audit_path").iter().map(hash).collect(),
        consistency: consistency["consistency"].as_array().expect("consistency").iter().map(hash).collect(),
        old_root: hash(&serde_json::Value::String(OLD_ROOT_B64.to_owned())),
    }
}

#[test]
fn real_inclusion_and_consistency_proofs_verify() {
    let v = load();
    assert_eq!((v.size, v.leaf_index, v.audit_path.len(), v.consistency.len()), (961_984_013, 10_000, 30, 30));
    let leaf = leaf_hash(&v.leaf_input);
    assert_eq!(verify_inclusion(&leaf, v.leaf_index, v.size, &v.audit_path, &v.root), Ok(()));
    assert_eq!(verify_consistency(OLD_SIZE, v.size, &v.old_root, &v.root, &v.consistency), Ok(()));
}

/// Calls `check` with `hash` changed in each byte position in turn (xor 0x01).
fn for_each_byte_change(hash: &Hash, mut check: impl FnMut(&Hash)) -> usize {
    for position in 0..32 {
        let mut changed = *hash;
        changed[position] ^= 0x01;
        check(&changed);
    }
    32
}

#[test]
fn every_single_byte_change_to_the_inclusion_proof_is_rejected() {
    let v = load();
    let leaf = leaf_hash(&v.leaf_input);
    let mut tried = 0;
    for index in 0..v.audit_path.len() {
        tried += for_each_byte_change(&v.audit_path[index], |changed| {
            let mut path = v.audit_path.clone();
            path[index] = *changed;
            assert!(verify_inclusion(&leaf, v.leaf_index, v.size, &path, &v.root).is_err(), "proof hash {index}");
        });
    }
    tried += for_each_byte_change(&v.root, |root| {
        assert!(verify_inclusion(&leaf, v.leaf_index, v.size, &v.audit_path, root).is_err());
    });
    tried += for_each_byte_change(&leaf, |leaf| {
        assert!(verify_inclusion(leaf, v.leaf_index, v.size, &v.audit_path, &v.root).is_err());
    });
    for position in 0..v.leaf_input.len() {
        let mut input = v.leaf_input.clone();
        input[position] ^= 0x01;
        assert!(verify_inclusion(&leaf_hash(&input), v.leaf_index, v.size, &v.audit_path, &v.root).is_err());
        tried += 1;
    }
    assert!(tried > 2_000, "tried {tried}");
}

#[test]
fn wrong_index_or_size_or_length_rejects_the_inclusion_proof() {
    let v = load();
    let leaf = leaf_hash(&v.leaf_input);
    let check = |index: u64, size: u64, path: &[Hash]| verify_inclusion(&leaf, index, size, path, &v.root).is_err();
    for index in [0, 9_999, 10_001, 10_000 ^ 1, 10_000 + (1 << 20), v.size - 1, v.size, u64::MAX] {
        assert!(check(index, v.size, &v.audit_path), "index {index}");
    }
    // Sizes that change the depth of the tree change the proof's shape and are refused.
    // (A size of the same depth is not refused, see the test below.)
    for size in [0, 10_000, 10_001, 1 << 29, (1 << 30) + 1, v.size * 2, u64::MAX] {
        assert!(check(v.leaf_index, size, &v.audit_path), "size {size}");
    }
    let path = &v.audit_path;
    assert!(check(v.leaf_index, v.size, &path[..path.len() - 1]));
    assert!(check(v.leaf_index, v.size, &path[1..]));
    assert!(check(v.leaf_index, v.size, &[path.as_slice(), &[path[0]]].concat()));
    assert!(check(v.leaf_index, v.size, &[]));
}

#[test]
fn every_single_byte_change_to_the_consistency_proof_is_rejected() {
    let v = load();
    let check = |old_size: u64, new_size: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]| {
        verify_consistency(old_size, new_size, old_root, new_root, proof).is_err()
    };
    for index in 0..v.consistency.len() {
        for_each_byte_change(&v.consistency[index], |changed| {
            let mut proof = v.consistency.clone();
            proof[index] = *changed;
            assert!(check(OLD_SIZE, v.size, &v.old_root, &v.root, &proof), "proof hash {index}");
        });
    }
    for_each_byte_change(&v.old_root, |old_root| assert!(check(OLD_SIZE, v.size, old_root, &v.root, &v.consistency)));
    for_each_byte_change(&v.root, |root| assert!(check(OLD_SIZE, v.size, &v.old_root, root, &v.consistency)));
    for old_size in [0, 1, OLD_SIZE - 1, OLD_SIZE + 1, 1 << 21, 1 << 22, v.size, v.size + 1] {
        assert!(check(old_size, v.size, &v.old_root, &v.root, &v.consistency), "old size {old_size}");
    }
    for new_size in [OLD_SIZE, OLD_SIZE + 1, 1 << 29, (1 << 30) + 1, u64::MAX] {
        assert!(check(OLD_SIZE, new_size, &v.old_root, &v.root, &v.consistency), "new size {new_size}");
    }
    let proof = &v.consistency;
    assert!(check(OLD_SIZE, v.size, &v.old_root, &v.root, &proof[..proof.len() - 1]));
    assert!(check(OLD_SIZE, v.size, &v.old_root, &v.root, &proof[1..]));
    assert!(check(OLD_SIZE, v.size, &v.old_root, &v.root, &[proof.as_slice(), &[proof[0]]].concat()));
    assert!(check(OLD_SIZE, v.size, &v.old_root, &v.root, &[]));
    // Swapping the roots is not a proof either.
    assert!(check(OLD_SIZE, v.size, &v.root, &v.old_root, proof));
}

/// What a proof alone cannot show, stated so that nobody relies on it: an RFC 6962 audit
/// path depends on the tree size only through the tree's depth and its right edge, so
/// leaf 10000's path is the same for every size from 2^29 + 1 to 2^30 and the verifier
/// accepts it for any of them against the same root. The signed checkpoint is what binds
/// a size to a root; `Checkpoint::open` refuses a changed size (its signature fails).
#[test]
fn a_proof_does_not_bind_the_size_within_one_depth() {
    let v = load();
    let leaf = leaf_hash(&v.leaf_input);
    for size in [(1 << 29) + 1, v.size - 1, v.size + 1, 1 << 30] {
        assert_eq!(verify_inclusion(&leaf, v.leaf_index, size, &v.audit_path, &v.root), Ok(()), "size {size}");
    }
}
