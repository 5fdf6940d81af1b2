//! `hotline verify FILE`: everything docs/record-format.md says one export must satisfy,
//! with the first failure named by entry index or checkpoint number.
//!
//! The order is: format and version, the station's key and origin, the peers' keys; every
//! entry's shape, time and item (type, direction, fields) while the Merkle tree is rebuilt
//! from the entries' exact text; every checkpoint (note shape, the station's signature,
//! origin, size, root) and every cosignature on it; that the last checkpoint covers every
//! entry; and last, every item signature. Signatures are checked with the parsing, on
//! every core (they are most of the cost: one Ed25519 verification per signed entry), but
//! a bad one is named last, because an entry changed after it was checkpointed is better
//! named by the checkpoint whose root it breaks, which also says which range of entries
//! the change is in. A verified record is kept as
//! [`Audited`] so that the cross-check and the transcript work only from checked facts.

use std::collections::{BTreeMap, HashMap};

use hotline_identity::{VerifierKey, check_station_name};
use hotline_record::cosignature::{cosignature_key_hash, verify_cosignature};
use hotline_record::merkle::{Hash, MerkleTree, leaf_hash};
use hotline_record::note::parse_note;
use hotline_record::{Checkpoint, CheckpointError};

use crate::AuditError;
use crate::entry::{Entry, Keys, check_signature, read_entry};
use crate::export::{EXPORT_FORMAT, EXPORT_VERSION, Export, origin_of};
use crate::text::clean;
use crate::transcript::rfc3339;

/// Threads that read entries at once (at most; fewer on a smaller machine).
#[allow(non_upper_case_globals)]
const entry_threads_max: usize = 16;

/// What the parallel pass learns of one entry: the entry, its Merkle leaf, and whether its
/// item signature (if it carries one) verifies.
struct ReadEntry {
    entry: Entry,
    leaf: Hash,
    signature_ok: bool,
}

/// Reads, hashes and checks the signature of every entry, on all cores: one Ed25519
/// verification per signed entry is most of the cost of verifying a record, and parsing
/// is most of the rest. Entries are split into contiguous chunks and each chunk stops at
/// its first bad entry, so walking the chunks in order meets the failures in index order,
/// exactly as a single pass would. The signature results are only looked at last (see
/// the module's order).
///
/// The chunks come back as they are, to be consumed one after the other: flattening them
/// into one vector first would hold every entry twice.
fn read_entries(texts: &[String], keys: &Keys<'_>) -> Vec<Vec<Result<ReadEntry, AuditError>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, entry_threads_max);
    let chunk = texts.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .chunks(chunk)
            .enumerate()
            .map(|(k, part)| {
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for (i, text) in part.iter().enumerate() {
                        let index = (k * chunk + i) as u64 + 1;
                        let read = read_entry(index, text, keys).map(|entry| ReadEntry {
                            signature_ok: check_signature(&entry).is_ok(),
                            leaf: leaf_hash(text.as_bytes()),
                            entry,
                        });
                        let failed = read.is_err();
                        out.push(read);
                        if failed {
                            break;
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(part) => part,
                // A thread that panicked read nothing: never report that as verified.
                Err(_) => vec![Err(AuditError::Format("an entry-reading thread failed".to_owned()))],
            })
            .collect()
    })
}

/// What a peer has witnessed of this record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerWitness {
    pub name: String,
    /// The peer's key fingerprint (key hash in hex).
    pub fingerprint: String,
    /// How many of the export's checkpoints carry the peer's cosignature.
    pub cosigned_checkpoints: usize,
    /// The largest tree size the peer cosigned, if any.
    pub largest_cosigned_size: Option<u64>,
    /// The time (POSIX seconds) of the cosignature on that checkpoint.
    pub latest_cosignature_secs: Option<u64>,
}

/// What a verified export holds, for the one-screen summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub station: String,
    /// The station's key fingerprint (key hash in hex).
    pub fingerprint: String,
    pub origin: String,
    pub entries: u64,
    /// Entries per kind.
    pub kinds: BTreeMap<String, u64>,
    pub checkpoints: usize,
    /// The tree size of the last checkpoint.
    pub latest_checkpoint_size: u64,
    /// One per listed peer, in the export's (name) order.
    pub peers: Vec<PeerWitness>,
    /// Unix milliseconds of the first and last entries' `at`.
    pub first_entry_ms: Option<i64>,
    pub last_entry_ms: Option<i64>,
    /// The last checkpoint's size is the number of entries (always true of a record that
    /// verified; kept so that the summary says so).
    pub last_checkpoint_covers_all: bool,
    /// Per line: how many calls, how many answered, and a sentence per station that
    /// called without an answer.
    pub calls: Vec<(String, usize, usize, Vec<String>)>,
}

impl Summary {
    /// A human summary that fits on one screen.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(&mut out, format!("Record of station {} (key fingerprint {})", self.station, self.fingerprint));
        let calls_lines: Vec<String> = self
            .calls
            .iter()
            .map(|(peer, n, answered, unanswered)| {
                let tail = if unanswered.is_empty() { String::new() } else { format!("; {}", unanswered.join("; ")) };
                format!("  calls         {n} on the line to {peer}, {answered} answered{tail}")
            })
            .collect();
        line(&mut out, format!("  origin        {}", self.origin));
        let span = match (self.first_entry_ms, self.last_entry_ms) {
            (Some(first), Some(last)) => format!(", {} .. {}", rfc3339(first), rfc3339(last)),
            _ => String::new(),
        };
        line(&mut out, format!("  entries       {}{span}", self.entries));
        for calls in calls_lines {
            line(&mut out, calls);
        }
        let covers = if self.last_checkpoint_covers_all { "covers every entry" } else { "does NOT cover every entry" };
        line(
            &mut out,
            format!("  checkpoints   {}, latest of size {} ({covers})", self.checkpoints, self.latest_checkpoint_size),
        );
        for peer in &self.peers {
            let witnessed = match (peer.largest_cosigned_size, peer.latest_cosignature_secs) {
                (Some(size), secs) => {
                    let when = secs
                        .and_then(|s| i64::try_from(s).ok())
                        .map(|s| format!(" at {}", rfc3339(s.saturating_mul(1000))))
                        .unwrap_or_default();
                    let behind = self.entries.saturating_sub(size);
                    let tail = if behind == 0 {
                        "every entry".to_owned()
                    } else if behind == 1 {
                        "all but the last entry".to_owned()
                    } else {
                        format!("all but the last {behind} entries")
                    };
                    format!(
                        "{} cosigned checkpoint(s), up to size {size}{when}: {tail} witnessed",
                        peer.cosigned_checkpoints
                    )
                }
                (None, _) => "no cosigned checkpoint: nothing witnessed".to_owned(),
            };
            line(&mut out, format!("  witness {} ({}): {witnessed}", peer.name, peer.fingerprint));
        }
        if self.peers.is_empty() {
            line(&mut out, "  no peers: nothing witnessed".to_owned());
        }
        line(&mut out, "  entries by kind:".to_owned());
        let kinds: Vec<String> = self.kinds.iter().map(|(k, n)| format!("{:<30}{n:>7}", clean(k))).collect();
        for pair in kinds.chunks(2) {
            line(&mut out, format!("    {}", pair.join("    ")));
        }
        line(&mut out, "OK: every key, entry, item signature, checkpoint and cosignature verifies.".to_owned());
        out
    }
}

/// A record that verified, with its entries read, for the cross-check and transcript.
pub(crate) struct Audited {
    pub station: String,
    pub key: VerifierKey,
    pub peers: BTreeMap<String, VerifierKey>,
    pub entries: Vec<Entry>,
    pub summary: Summary,
}

/// Checks everything docs/record-format.md lists for one export and summarises it; the
/// error names the first entry or checkpoint that fails.
pub fn verify(export: &Export) -> Result<Summary, AuditError> {
    audit(export).map(|a| a.summary)
}

pub(crate) fn audit(export: &Export) -> Result<Audited, AuditError> {
    if export.format != EXPORT_FORMAT || export.version != EXPORT_VERSION {
        return Err(AuditError::Format(format!(
            "the export is {:?} version {}, but this build reads only \"{EXPORT_FORMAT}\" version {EXPORT_VERSION}",
            export.format, export.version
        )));
    }
    let key = read_key(&export.key, "the station's key")?;
    check_station_name(&export.station).map_err(|_| {
        AuditError::Header(format!("the station name {:?} is not a valid station name", export.station))
    })?;
    if key.name() != export.station {
        return Err(AuditError::Header(format!(
            "the station's key is for {:?}, but the export is of station {:?}",
            key.name(),
            export.station
        )));
    }
    let origin = origin_of(&key);
    if export.origin != origin {
        return Err(AuditError::Header(format!(
            "the origin is {:?}, but the station's key makes it {origin:?}",
            export.origin
        )));
    }
    let peers = read_peers(export)?;

    let peer_keys = crate::peer_keys::PeerKeys::read(peers.clone(), &export.entries)?;
    let keys = Keys { station: &key, peers: &peer_keys };
    let mut entries = Vec::with_capacity(export.entries.len());
    let mut signatures_ok = Vec::with_capacity(export.entries.len());
    let mut tree = MerkleTree::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut message_ids: HashMap<String, u64> = HashMap::new();
    for read in read_entries(&export.entries, &keys).into_iter().flatten() {
        let ReadEntry { entry, leaf, signature_ok } = read?;
        let index = entry.index;
        if matches!(entry.kind.as_str(), "message.queued" | "message.received")
            && let Some(signed) = &entry.signed
            && let crate::item::Item::Message { id, .. } = &signed.item
            && let Some(first) = message_ids.insert(id.clone(), index)
        {
            return Err(AuditError::entry(
                index,
                format!("{}: message id {} was already logged by entry {first}", entry.kind, crate::text::clean(id)),
            ));
        }
        *kinds.entry(entry.kind.clone()).or_default() += 1;
        tree.push(leaf);
        entries.push(entry);
        signatures_ok.push(signature_ok);
    }
    if entries.len() != export.entries.len() {
        return Err(AuditError::Format("not every entry was read".to_owned()));
    }

    let mut witnesses: Vec<PeerWitness> = peers
        .values()
        .map(|p| PeerWitness {
            name: p.name().to_owned(),
            fingerprint: p.fingerprint(),
            cosigned_checkpoints: 0,
            largest_cosigned_size: None,
            latest_cosignature_secs: None,
        })
        .collect();
    let mut previous: Option<(usize, u64)> = None;
    for (i, note) in export.checkpoints.iter().enumerate() {
        let number = i + 1;
        let size = check_checkpoint(number, note, export, &key, &peer_keys, &tree, previous, &mut witnesses)?;
        previous = Some((number, size));
    }
    let entry_count = export.entries.len() as u64;
    let Some((last_number, latest_size)) = previous else {
        return Err(AuditError::Format(
            "the export has no checkpoint: nothing signs its entries (the exporter signs one at export time)"
                .to_owned(),
        ));
    };
    if latest_size != entry_count {
        return Err(AuditError::Checkpoint {
            number: last_number,
            size: Some(latest_size),
            what: format!("the last checkpoint covers {latest_size} entries, but the export has {entry_count}"),
        });
    }
    // The first entry whose signature failed, named as `check_signature` names it.
    if let Some(bad) = entries.iter().zip(&signatures_ok).find(|(_, ok)| !**ok).map(|(e, _)| e) {
        check_signature(bad)?;
        return Err(AuditError::entry(bad.index, "item signature does not verify".to_owned()));
    }
    let summary = Summary {
        station: export.station.clone(),
        fingerprint: key.fingerprint(),
        origin,
        entries: entry_count,
        kinds,
        checkpoints: export.checkpoints.len(),
        latest_checkpoint_size: latest_size,
        peers: witnesses,
        first_entry_ms: entries.first().map(|e| e.at_ms),
        last_entry_ms: entries.last().map(|e| e.at_ms),
        last_checkpoint_covers_all: latest_size == entry_count,
        calls: peers
            .keys()
            .filter_map(|peer| {
                let (calls, refused) = crate::calls::calls_of(&entries, &export.station, peer);
                let answered = calls.iter().filter(|c| c.answered()).count();
                let unanswered = crate::calls::unanswered(&calls, &refused, &export.station);
                (!calls.is_empty() || !refused.is_empty()).then(|| (peer.clone(), calls.len(), answered, unanswered))
            })
            .collect(),
    };
    Ok(Audited { station: export.station.clone(), key, peers, entries, summary })
}

/// Parses a verifier key and insists on its canonical text (the parser itself tolerates
/// surrounding space and upper-case hex, which would give one key two texts).
fn read_key(text: &str, what: &str) -> Result<VerifierKey, AuditError> {
    let key = VerifierKey::parse(text).map_err(|e| AuditError::Header(format!("{what} is not valid: {e}")))?;
    if key.to_string() != text {
        return Err(AuditError::Header(format!(
            "{what} {text:?} is not written in its canonical form {:?}",
            key.to_string()
        )));
    }
    Ok(key)
}

fn read_peers(export: &Export) -> Result<BTreeMap<String, VerifierKey>, AuditError> {
    let mut peers = BTreeMap::new();
    let mut last: Option<&str> = None;
    for peer in &export.peers {
        check_station_name(&peer.name)
            .map_err(|_| AuditError::Header(format!("peer name {:?} is not a valid station name", peer.name)))?;
        let key = read_key(&peer.key, &format!("the key of peer {}", peer.name))?;
        if key.name() != peer.name {
            return Err(AuditError::Header(format!("peer {} is listed with a key for {:?}", peer.name, key.name())));
        }
        if peer.name == export.station {
            return Err(AuditError::Header(format!("the station {} lists itself as a peer", peer.name)));
        }
        if last.is_some_and(|l| l >= peer.name.as_str()) {
            return Err(AuditError::Header(format!(
                "peer {} is out of order or listed twice: peers are listed once each, in ascending order of name",
                peer.name
            )));
        }
        last = Some(&peer.name);
        peers.insert(peer.name.clone(), key);
    }
    Ok(peers)
}

/// Checks checkpoint `number` and returns its size.
#[allow(clippy::too_many_arguments)]
fn check_checkpoint(
    number: usize,
    note: &str,
    export: &Export,
    key: &VerifierKey,
    peers: &crate::peer_keys::PeerKeys,
    tree: &MerkleTree,
    previous: Option<(usize, u64)>,
    witnesses: &mut [PeerWitness],
) -> Result<u64, AuditError> {
    let fail = |size: Option<u64>, what: String| AuditError::Checkpoint { number, size, what };
    let parsed = parse_note(note).map_err(|e| fail(None, format!("is not a signed note: {e}")))?;
    let checkpoint =
        Checkpoint::parse_body(&parsed.text).map_err(|e| fail(None, format!("is not a checkpoint: {e}")))?;
    let size = checkpoint.size;
    let fail = |what: String| AuditError::Checkpoint { number, size: Some(size), what };

    // Signature lines: the station's first, then one cosignature per listed peer at most,
    // in ascending order of peer name, and nothing else.
    let mut lines = parsed.signatures.iter();
    match lines.next() {
        Some(first) if first.name == key.name() && first.key_hash == key.key_hash() => {}
        Some(first) => {
            return Err(fail(format!(
                "the first signature line is by {:?}, not by the station's key ({})",
                first.name,
                key.fingerprint()
            )));
        }
        None => return Err(fail("has no signature".to_owned())),
    }
    let mut cosigners: Vec<&VerifierKey> = Vec::new();
    for line in lines {
        let hash = crate::text::hex(&line.key_hash);
        // The key pinned when the checkpoint was made: after its `size` entries.
        let Some(peer) = peers.key_at(&line.name, size) else {
            return Err(fail(format!(
                "carries a signature by {:?} (key hash {hash}), which is not a listed peer: unknown key",
                line.name
            )));
        };
        if line.key_hash != cosignature_key_hash(peer.name(), peer.key_bytes()) {
            return Err(fail(format!(
                "carries a signature line by {} with key hash {hash}, which is not {}'s cosignature key: unknown key",
                line.name, line.name
            )));
        }
        if cosigners.last().is_some_and(|last| last.name() >= peer.name()) {
            return Err(fail(format!(
                "the cosignature by {} is out of order or repeated: one per peer, in ascending order of name",
                line.name
            )));
        }
        cosigners.push(peer);
    }

    Checkpoint::open(note, key).map_err(|e| match e {
        CheckpointError::Note(hotline_record::NoteError::InvalidSignature { .. }) => {
            fail(format!("the signature by {} does not verify: the checkpoint was altered", key.name()))
        }
        other => fail(format!("does not open with the station's key: {other}")),
    })?;
    if checkpoint.origin != export.origin {
        return Err(fail(format!("its origin is {:?}, not the export's {:?}", checkpoint.origin, export.origin)));
    }
    if !checkpoint.extensions.is_empty() {
        return Err(fail(format!(
            "has {} extension line(s), which version 1 does not use",
            checkpoint.extensions.len()
        )));
    }
    if let Some((previous_number, previous_size)) = previous
        && size <= previous_size
    {
        return Err(fail(format!(
            "the tree size goes backwards or repeats: checkpoint {previous_number} already has size {previous_size}"
        )));
    }
    let root_here: Hash = tree
        .root_at(size)
        .map_err(|_| fail(format!("claims {size} entries, but the export has only {}", tree.len())))?;
    if root_here != checkpoint.root {
        let since = previous
            .map(|(n, s)| {
                format!(" (checkpoint {n} matches entries 1..{s}, so the difference is in entries {}..{size})", s + 1)
            })
            .unwrap_or_default();
        return Err(fail(format!("root does not match the entries{since}")));
    }
    for peer in cosigners {
        let secs = verify_cosignature(note, peer)
            .map_err(|e| fail(format!("cosignature by {} does not verify: {e}", peer.name())))?;
        if let Some(w) = witnesses.iter_mut().find(|w| w.name == peer.name()) {
            w.cosigned_checkpoints += 1;
            w.largest_cosigned_size = Some(size);
            w.latest_cosignature_secs = Some(secs);
        }
    }
    Ok(size)
}
