//! The tamper test of issue 3: thousands of seeded random mutations of honest export
//! files, every one of which must be refused by `parse_export` or `verify`.
//!
//! Byte-level mutations (bit flips, byte replacements, truncation) work on the file's
//! bytes directly; structural ones (delete, duplicate, swap, insert an entry; swap
//! signatures; replace a cosignature) are made on the parsed document and written back
//! with the canonical writer, which is what a forger with a JSON library would produce.
//! A mutation that happens to leave the bytes unchanged is drawn again, never counted.

use std::collections::BTreeMap;

use hotline_audit::{Export, parse_export, sign_item, verify};
use hotline_identity::StationKey;
use hotline_record::merkle::{MerkleTree, leaf_hash};
use hotline_record::note::parse_note;
use hotline_record::{Checkpoint, NoteSigner, cosign};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::fixture::{Sim, Who, conversation};

/// Mutations per export; two exports (alpha's and bravo's).
const MUTATIONS_PER_EXPORT: usize = 1_500;

const CLASSES: [&str; 11] = [
    "flip a bit",
    "replace a byte",
    "truncate the file",
    "delete an entry",
    "duplicate an entry",
    "swap two entries",
    "insert a forged entry",
    "rewrite an entry and re-sign every checkpoint",
    "swap two item signatures",
    "swap two checkpoint signature lines",
    "replace a cosignature by another key's",
];

struct Fixture {
    sim: Sim,
    charlie: NoteSigner,
    impostor: NoteSigner,
}

#[test]
fn every_mutation_is_detected() {
    let fixture = Fixture {
        sim: conversation(Sim::seeded(), 12),
        charlie: NoteSigner::from_station_key(&StationKey::from_seed("charlie", &[3; 32]).expect("key")),
        impostor: NoteSigner::from_station_key(&StationKey::from_seed("bravo", &[4; 32]).expect("key")),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_2026);
    let mut tried: BTreeMap<&str, usize> = BTreeMap::new();
    let mut detected: BTreeMap<&str, usize> = BTreeMap::new();
    let mut at_parse = 0;
    let mut undetected: Vec<String> = Vec::new();
    for who in [Who::Alpha, Who::Bravo] {
        let export = fixture.sim.export(who);
        let original = export.to_json().into_bytes();
        verify(&parse_export(&original).expect("honest parses")).expect("honest verifies");
        let mut done = 0;
        while done < MUTATIONS_PER_EXPORT {
            let class = rng.random_range(0..CLASSES.len());
            let Some(mutated) = mutate(&fixture, who, &export, &original, class, &mut rng) else { continue };
            if mutated == original {
                continue;
            }
            done += 1;
            *tried.entry(CLASSES[class]).or_default() += 1;
            match parse_export(&mutated) {
                Err(_) => {
                    at_parse += 1;
                    *detected.entry(CLASSES[class]).or_default() += 1;
                }
                Ok(parsed) => match verify(&parsed) {
                    Err(e) => {
                        assert!(!e.to_string().contains('\n'), "one sentence: {e}");
                        *detected.entry(CLASSES[class]).or_default() += 1;
                    }
                    Ok(_) => undetected.push(format!("{}: {}", CLASSES[class], String::from_utf8_lossy(&mutated))),
                },
            }
        }
    }
    let total: usize = tried.values().sum();
    let found: usize = detected.values().sum();
    println!(
        "tamper test: {total} mutations tried, {found} detected ({at_parse} by parse_export, {} by verify)",
        found - at_parse
    );
    for class in CLASSES {
        println!(
            "  {class:<48} {:>5} tried {:>5} detected",
            tried.get(class).unwrap_or(&0),
            detected.get(class).unwrap_or(&0)
        );
    }
    assert!(
        undetected.is_empty(),
        "{} undetected, first: {}",
        undetected.len(),
        &undetected[0][..undetected[0].len().min(2000)]
    );
    assert!(total >= 1_000);
    assert!(CLASSES.iter().all(|c| tried.get(c).is_some_and(|n| *n > 0)), "every class was tried");
}

fn mutate(f: &Fixture, who: Who, export: &Export, bytes: &[u8], class: usize, rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let mut e = export.clone();
    let n = e.entries.len();
    match class {
        0 => {
            let mut out = bytes.to_vec();
            let at = rng.random_range(0..out.len());
            out[at] ^= 1 << rng.random_range(0..8);
            return Some(out);
        }
        1 => {
            let mut out = bytes.to_vec();
            let at = rng.random_range(0..out.len());
            out[at] = rng.random();
            return Some(out);
        }
        2 => return Some(bytes[..rng.random_range(0..bytes.len())].to_vec()),
        3 => {
            e.entries.remove(rng.random_range(0..n));
        }
        4 => {
            let from = rng.random_range(0..n);
            let copy = e.entries[from].clone();
            e.entries.insert(rng.random_range(0..=n), copy);
        }
        5 => {
            let (i, j) = (rng.random_range(0..n), rng.random_range(0..n));
            e.entries.swap(i, j);
        }
        6 => {
            // A well-formed entry, its item signed with the station's own real key (the
            // strongest forger short of re-signing checkpoints), anywhere in the record.
            let side = f.sim.side(who);
            let peer = f.sim.side(who.other()).name();
            let item = format!(
                "{{\"type\":\"message\",\"from\":\"{}\",\"to\":\"{peer}\",\"id\":\"forged-{}\",\"precedence\":\"FLASH\",\"lang\":\"en\",\"body\":\"We called first.\",\"reply_to\":null,\"author\":\"op\",\"created_ms\":1795534200000}}",
                side.name(),
                rng.random::<u32>()
            );
            let id = item.split("\"id\":\"").nth(1)?.split('"').next()?.to_owned();
            let entry = serde_json::json!({"kind": "message.queued", "at": "2026-11-24T15:30:00Z", "peer": peer,
                "message": {"id": id}, "item": item, "sig": sign_item(&item, &side.key)});
            e.entries.insert(rng.random_range(0..=n), entry.to_string());
        }
        7 => {
            // The station rewrites an entry inside what its peer witnessed and re-signs
            // every checkpoint with its own key; the peer's cosignatures are kept.
            let side = f.sim.side(who);
            let at = rng.random_range(0..n);
            e.entries[at] = e.entries[at].replacen("\"at\":\"2026", "\"at\":\"2025", 1);
            let mut tree = MerkleTree::new();
            for entry in &e.entries {
                tree.push(leaf_hash(entry.as_bytes()));
            }
            let signer = NoteSigner::from_station_key(&side.key);
            for note in &mut e.checkpoints {
                let parsed = parse_note(note).ok()?;
                let size = Checkpoint::parse_body(&parsed.text).ok()?.size;
                let resigned = Checkpoint::new(&e.origin, size, tree.root_at(size).ok()?).sign(&signer).ok()?;
                let cosignatures: String = note.split_inclusive('\n').skip(parsed.text.lines().count() + 2).collect();
                *note = format!("{resigned}{cosignatures}");
            }
            // Only rewrites inside the cosigned part are forgeries the record can show;
            // the unwitnessed tail is the station's to sign as it likes.
            let cosigned_size = e
                .checkpoints
                .iter()
                .filter(|c| c.matches('\u{2014}').count() > 1)
                .filter_map(|c| c.lines().nth(1)?.parse::<usize>().ok())
                .max()?;
            if at >= cosigned_size {
                return None;
            }
        }
        8 => {
            let signed: Vec<usize> = (0..n).filter(|&i| e.entries[i].contains("\"sig\":")).collect();
            let (i, j) = (signed[rng.random_range(0..signed.len())], signed[rng.random_range(0..signed.len())]);
            let (mut a, mut b): (Value, Value) =
                (serde_json::from_str(&e.entries[i]).ok()?, serde_json::from_str(&e.entries[j]).ok()?);
            if a["sig"] == b["sig"] {
                return None;
            }
            std::mem::swap(&mut a["sig"], &mut b["sig"]);
            e.entries[i] = a.to_string();
            e.entries[j] = b.to_string();
        }
        9 => {
            // Swap a signature line (the station's or a cosignature) between two checkpoints.
            let c = e.checkpoints.len();
            let (i, j) = (rng.random_range(0..c), rng.random_range(0..c));
            let line_of = |note: &str, k: usize| -> Option<(String, String)> {
                let parsed = parse_note(note).ok()?;
                let lines: Vec<&str> = note[parsed.text.len() + 1..].split_inclusive('\n').collect();
                let line = lines.get(k % lines.len())?.to_string();
                Some((line, note.to_owned()))
            };
            let k = rng.random_range(0..2);
            let (li, ni) = line_of(&e.checkpoints[i], k)?;
            let (lj, nj) = line_of(&e.checkpoints[j], k)?;
            e.checkpoints[i] = ni.replacen(&li, &lj, 1);
            e.checkpoints[j] = nj.replacen(&lj, &li, 1);
        }
        10 => {
            let cosigned: Vec<usize> =
                (0..e.checkpoints.len()).filter(|&i| e.checkpoints[i].matches('\u{2014}').count() > 1).collect();
            let i = cosigned[rng.random_range(0..cosigned.len())];
            let note = e.checkpoints[i].clone();
            let parsed = parse_note(&note).ok()?;
            let checkpoint = Checkpoint::parse_body(&parsed.text).ok()?;
            let honest: String = note.split_inclusive('\n').next_back()?.to_owned();
            let time = rng.random_range(1..2_000_000_000);
            let replacement = match rng.random_range(0..3) {
                0 => cosign(&checkpoint, &f.charlie, time).ok()?,
                1 => cosign(&checkpoint, &f.impostor, time).ok()?,
                // The real peer's cosignature, but of another checkpoint.
                _ => {
                    let other = e.checkpoints[cosigned[rng.random_range(0..cosigned.len())]].clone();
                    other.split_inclusive('\n').next_back()?.to_owned()
                }
            };
            e.checkpoints[i] = note.replacen(&honest, &replacement, 1);
        }
        _ => return None,
    }
    Some(e.to_json().into_bytes())
}

/// The one-bit flips that could give an equal document: the ASCII case bit (0x20), which
/// turns the hex of a key hash into upper case (a form `VerifierKey::parse` accepts for
/// the same key). Tried exhaustively over the header (everything before the entries),
/// where the keys are; refused because a key must be in its canonical text.
#[test]
fn case_flips_in_the_header_are_refused() {
    let export = conversation(Sim::seeded(), 1).export(Who::Alpha);
    let original = export.to_json().into_bytes();
    let header = original.windows(11).position(|w| w == b"\"entries\":[").expect("entries member");
    let mut tried = 0;
    for at in 0..header {
        let mut mutated = original.clone();
        mutated[at] ^= 0x20;
        tried += 1;
        let result = parse_export(&mutated).and_then(|e| verify(&e));
        assert!(
            result.is_err(),
            "case flip at byte {at} was accepted: {}",
            String::from_utf8_lossy(&mutated[..header])
        );
    }
    println!("case flips in the header: {tried} tried, {tried} refused");
}
