//! Which key a peer signed with at each point of a record.
//!
//! A station pins one key per peer, and a pinned key never changes in place: a key
//! change is a `line.removed` entry naming the old key, then a `line.added` with the new
//! one (docs/record-format.md). So a record whose peer changed its key holds items and
//! cosignatures by both keys, and the auditor must check each with the key that was
//! pinned when it was made. The export's header lists each peer once, with its last key;
//! the keys before it are read from the record's own `line.removed` entries, which the
//! Merkle tree and the station's signed checkpoints cover like every other entry. An
//! entry (or a checkpoint of tree size `n`) before a removal was made under the key that
//! removal names; after the last removal, under the header's key.
//!
//! Nothing here is believed without a check: a `line.removed` entry whose key does not
//! parse, is not canonical, or names another station than its `peer` fails the
//! verification at that entry.

use std::collections::BTreeMap;

use hotline_identity::VerifierKey;
use serde_json::Value;

use crate::AuditError;

/// The kind whose entries name a key that was pinned until then.
const LINE_REMOVED: &str = "line.removed";

/// The keys of the export's peers, over the record's history.
#[derive(Debug, Default)]
pub(crate) struct PeerKeys {
    /// The header's list: each peer's key after its last removal (or ever, if none).
    last: BTreeMap<String, VerifierKey>,
    /// Per peer, `(index of a line.removed entry, the key it says was pinned)`, by index.
    retired: BTreeMap<String, Vec<(u64, VerifierKey)>>,
}

impl PeerKeys {
    /// The header's peers and the keys the record's `line.removed` entries retire.
    /// `entries[i - 1]` is entry `i`. A peer the header does not list but a removal
    /// names is an error: the header must list every peer the record deals with.
    pub(crate) fn read(last: BTreeMap<String, VerifierKey>, entries: &[String]) -> Result<PeerKeys, AuditError> {
        let mut retired: BTreeMap<String, Vec<(u64, VerifierKey)>> = BTreeMap::new();
        for (i, text) in entries.iter().enumerate() {
            // Cheap filter first: the kind is compact JSON, and most entries are not removals.
            if !text.contains(LINE_REMOVED) {
                continue;
            }
            let index = i as u64 + 1;
            let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
                continue; // not JSON: reading the entry names that failure, in index order
            };
            if map.get("kind").and_then(Value::as_str) != Some(LINE_REMOVED) {
                continue;
            }
            let bad = |what: String| AuditError::entry(index, format!("{LINE_REMOVED}: {what}"));
            let (Some(peer), Some(key_text)) =
                (map.get("peer").and_then(Value::as_str), map.get("key").and_then(Value::as_str))
            else {
                return Err(bad("has no \"peer\" and \"key\" strings".to_owned()));
            };
            let key = VerifierKey::parse(key_text).map_err(|e| bad(format!("its key is not valid: {e}")))?;
            if key.to_string() != key_text {
                return Err(bad(format!("its key {key_text:?} is not in its canonical form")));
            }
            if key.name() != peer {
                return Err(bad(format!("its key is for {:?}, not for the removed peer {peer:?}", key.name())));
            }
            if !last.contains_key(peer) {
                return Err(bad(format!("names peer {peer:?}, which the export does not list")));
            }
            retired.entry(peer.to_owned()).or_default().push((index, key));
        }
        Ok(PeerKeys { last, retired })
    }

    /// Whether the export lists `name` as a peer.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.last.contains_key(name)
    }

    /// The key of `name` for what was made with `at` entries before it: an entry's own
    /// index less one, or a checkpoint's tree size. That is the key of the first removal
    /// after that point, or the header's key when there is none.
    pub(crate) fn key_at(&self, name: &str, at: u64) -> Option<&VerifierKey> {
        let retired = self.retired.get(name).and_then(|r| r.iter().find(|(index, _)| *index > at).map(|(_, k)| k));
        retired.or_else(|| self.last.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_identity::StationKey;

    fn removed(key: &VerifierKey) -> String {
        format!(r#"{{"kind":"line.removed","at":"2026-12-01T00:00:00Z","peer":"{}","key":"{key}"}}"#, key.name())
    }

    #[test]
    fn each_point_of_the_record_gets_the_key_pinned_then() {
        let old = StationKey::generate("bravo").expect("key").verifier();
        let new = StationKey::generate("bravo").expect("key").verifier();
        let other = r#"{"kind":"message.queued","at":"2026-12-01T00:00:00Z"}"#.to_owned();
        // Entries 1 and 2 under the old key, 3 removes it, 4 onwards under the new one.
        let entries = vec![other.clone(), other.clone(), removed(&old), other];
        let keys = PeerKeys::read(BTreeMap::from([("bravo".to_owned(), new.clone())]), &entries).expect("read");
        for (at, want) in [(0, &old), (1, &old), (2, &old), (3, &new), (4, &new)] {
            assert_eq!(keys.key_at("bravo", at).map(|k| k.to_string()), Some(want.to_string()), "at {at}");
        }
        assert!(keys.contains("bravo") && !keys.contains("charlie"));
        assert!(keys.key_at("charlie", 0).is_none());
    }

    #[test]
    fn a_removal_naming_a_wrong_or_unlisted_key_fails_at_its_entry() {
        let bravo = StationKey::generate("bravo").expect("key").verifier();
        let charlie = StationKey::generate("charlie").expect("key").verifier();
        let listed = BTreeMap::from([("bravo".to_owned(), bravo.clone())]);
        let mismatched = removed(&charlie).replace(r#""peer":"charlie""#, r#""peer":"bravo""#);
        for (entry, says) in [
            (mismatched, "not for the removed peer"),
            (removed(&charlie), "which the export does not list"),
            (r#"{"kind":"line.removed","at":"2026-12-01T00:00:00Z","peer":"bravo"}"#.to_owned(), "no \"peer\" and"),
            (removed(&bravo).replace(&bravo.to_string(), "bravo+00+AAAA"), "not valid"),
        ] {
            let err = PeerKeys::read(listed.clone(), &["{}".to_owned(), entry]).expect_err("refused");
            let text = err.to_string();
            assert!(text.contains("entry 2") && text.contains(says), "{text}");
        }
    }
}
