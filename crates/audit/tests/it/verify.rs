//! `verify` accepts honest records and names the entry or checkpoint of each kind of
//! failure docs/record-format.md and issue 3 list: bad signatures, unknown keys, sizes
//! that go backwards, roots that do not match, wrong format or version.

use hotline_audit::{AuditError, Export, parse_export, verify};
use hotline_identity::StationKey;
use hotline_record::merkle::MerkleTree;
use hotline_record::{Checkpoint, NoteSigner, cosign};

use crate::fixture::{Sim, Who, conversation};

fn honest() -> Sim {
    conversation(Sim::seeded(), 8)
}

fn error_of(export: &Export) -> String {
    let bytes = export.to_json();
    let result = parse_export(bytes.as_bytes()).and_then(|e| verify(&e));
    let error = result.expect_err("the export must be refused").to_string();
    assert!(!error.contains('\n'), "one sentence: {error}");
    error
}

#[test]
fn honest_exports_verify_on_both_sides_and_summarise() {
    let sim = conversation(
        Sim::new(StationKey::generate("alpha").expect("key"), StationKey::generate("bravo").expect("key")),
        8,
    );
    for who in [Who::Alpha, Who::Bravo] {
        let export = sim.export(who);
        let text = export.to_json();
        assert!(text.starts_with("{\"format\":\"hotline-record\",\"version\":1,\"station\":"), "compact");
        let parsed = parse_export(text.as_bytes()).expect("parses");
        assert_eq!(parsed, export);
        let summary = verify(&parsed).expect("verifies");
        assert_eq!(summary.station, sim.side(who).name());
        assert_eq!(summary.entries, sim.side(who).entries.len() as u64);
        assert_eq!(summary.latest_checkpoint_size, summary.entries);
        assert!(summary.last_checkpoint_covers_all);
        assert_eq!(summary.peers.len(), 1);
        let peer = &summary.peers[0];
        assert_eq!(peer.cosigned_checkpoints, 3);
        assert!(peer.largest_cosigned_size.is_some_and(|s| s < summary.entries));
        assert!(summary.kinds["message.queued"] > 0 && summary.kinds["receipt.received"] > 0);
        let screen = summary.render();
        assert!(screen.lines().count() < 25, "{screen}");
        assert!(screen.contains("OK:") && screen.contains("witness"), "{screen}");
        println!("{screen}");
    }
}

#[test]
fn format_version_and_canonical_form_are_checked() {
    let export = honest().export(Who::Alpha);
    let text = export.to_json();
    let wrong_format = text.replacen("hotline-record", "hotline-recorx", 1);
    let e = parse_export(wrong_format.as_bytes()).expect_err("format");
    assert!(e.to_string().contains("not a hotline record export"), "{e}");
    let wrong_version = text.replacen("\"version\":1", "\"version\":2", 1);
    let e = parse_export(wrong_version.as_bytes()).expect_err("version");
    assert!(e.to_string().contains("version 2"), "{e}");
    let spaced = text.replacen("\"version\":1", "\"version\": 1", 1);
    let e = parse_export(spaced.as_bytes()).expect_err("whitespace");
    assert!(e.to_string().contains("canonical"), "{e}");
    let escaped = text.replacen("hotline/alpha", "hotline\\/alpha", 1);
    assert!(parse_export(escaped.as_bytes()).is_err());
    let unknown = text.replacen("{\"format\"", "{\"extra\":1,\"format\"", 1);
    let e = parse_export(unknown.as_bytes()).expect_err("unknown member");
    assert!(e.to_string().contains("unknown field"), "{e}");
    let e = parse_export(&text.as_bytes()[..text.len() / 2]).expect_err("truncated");
    assert!(e.to_string().contains("truncated"), "{e}");
    // The key's hash in upper case parses as the same key, but is not its one text.
    let mut upper = export.clone();
    let (name, rest) = upper.key.split_once('+').expect("key");
    let (hash, b64) = rest.split_once('+').expect("key");
    upper.key = format!("{name}+{}+{b64}", hash.to_uppercase());
    if upper.key != export.key {
        assert!(error_of(&upper).contains("canonical"));
    }
}

#[test]
fn a_checkpoint_with_a_bad_signature_is_named() {
    let mut export = honest().export(Who::Alpha);
    let note = export.checkpoints[1].clone();
    // Change the signed size line, keeping the signature: the signature no longer holds.
    let lines: Vec<&str> = note.split('\n').collect();
    let forged =
        note.replacen(&format!("\n{}\n", lines[1]), &format!("\n{}\n", lines[1].parse::<u64>().expect("size") - 1), 1);
    export.checkpoints[1] = forged;
    let e = error_of(&export);
    assert!(e.starts_with("checkpoint 2 (size ") && e.contains("signature by alpha does not verify"), "{e}");
}

#[test]
fn an_unknown_key_is_named() {
    let sim = honest();
    let mut export = sim.export(Who::Alpha);
    // A cosignature by a station that is not a listed peer.
    let charlie = NoteSigner::from_station_key(&StationKey::from_seed("charlie", &[3; 32]).expect("key"));
    let note = export.checkpoints[0].clone();
    let checkpoint = Checkpoint::open(&note, &sim.alpha.key.verifier()).expect("opens");
    export.checkpoints[0] = format!("{note}{}", cosign(&checkpoint, &charlie, 1).expect("cosigns"));
    let e = error_of(&export);
    assert!(e.starts_with("checkpoint 1 (size") && e.contains("\"charlie\"") && e.contains("unknown key"), "{e}");

    // A cosignature under bravo's name by another key.
    let mut export = sim.export(Who::Alpha);
    let impostor = NoteSigner::from_station_key(&StationKey::from_seed("bravo", &[9; 32]).expect("key"));
    let note = export.checkpoints[0].clone();
    let honest_line = note.lines().last().expect("cosignature line").to_owned();
    let without = note.replacen(&format!("{honest_line}\n"), "", 1);
    export.checkpoints[0] = format!("{without}{}", cosign(&checkpoint, &impostor, 1).expect("cosigns"));
    assert!(error_of(&export).contains("unknown key"));

    // An export whose station key is not the one that signed.
    let mut export = sim.export(Who::Alpha);
    let other = StationKey::from_seed("alpha", &[7; 32]).expect("key").verifier();
    export.key = other.to_string();
    export.origin = hotline_audit::origin_of(&other);
    let e = error_of(&export);
    assert!(e.contains("item signature does not verify with alpha's key") || e.contains("checkpoint"), "{e}");
}

#[test]
fn a_tree_size_that_goes_backwards_is_named() {
    let mut export = honest().export(Who::Alpha);
    export.checkpoints.swap(1, 2);
    let e = error_of(&export);
    assert!(e.starts_with("checkpoint 3 (size ") && e.contains("goes backwards"), "{e}");
    let mut export = honest().export(Who::Alpha);
    let first = export.checkpoints[0].clone();
    export.checkpoints.insert(1, first);
    let e = error_of(&export);
    assert!(e.starts_with("checkpoint 2 (size ") && e.contains("repeats"), "{e}");
}

#[test]
fn a_root_that_does_not_match_the_entries_is_named() {
    let sim = honest();
    let mut export = sim.export(Who::Alpha);
    // The station re-signs checkpoint 2 over a history where entry 2 was different.
    let note = export.checkpoints[1].clone();
    let size = Checkpoint::open(&note, &sim.alpha.key.verifier()).expect("opens").size;
    let mut rewritten = MerkleTree::new();
    for (i, entry) in export.entries.iter().take(size as usize).enumerate() {
        let text = if i == 1 { entry.replace("admin", "root") } else { entry.clone() };
        rewritten.push(hotline_record::merkle::leaf_hash(text.as_bytes()));
    }
    let signer = NoteSigner::from_station_key(&sim.alpha.key);
    export.checkpoints[1] = Checkpoint::new(&export.origin, size, rewritten.root()).sign(&signer).expect("signs");
    let e = error_of(&export);
    assert!(e.starts_with(&format!("checkpoint 2 (size {size}): root does not match the entries")), "{e}");

    // An entry changed after the fact: every checkpoint from then on disagrees, and the
    // first one is named with the range the change is in.
    let mut export = sim.export(Who::Alpha);
    export.entries[1] = export.entries[1].replace("admin", "root");
    let e = error_of(&export);
    assert!(e.starts_with("checkpoint 1 (size ") && e.contains("root does not match"), "{e}");
}

#[test]
fn the_last_checkpoint_must_cover_every_entry() {
    let sim = honest();
    let mut export = sim.export(Who::Alpha);
    export.checkpoints.pop();
    let e = error_of(&export);
    assert!(
        e.contains("the last checkpoint covers") && e.contains(&format!("the export has {}", export.entries.len())),
        "{e}"
    );
    export.checkpoints.clear();
    assert!(error_of(&export).contains("no checkpoint"));
}

#[test]
fn an_item_signed_by_the_wrong_key_names_the_entry() {
    let mut sim = honest();
    // Bravo logs a message "from alpha" that bravo itself signed.
    let id = sim.send_with(Who::Alpha, "FLASH", "forged", None, false);
    let forged = hotline_audit::sign_item(&sim.messages[&id].text, &sim.bravo.key);
    sim.messages.get_mut(&id).expect("message").sig = forged;
    sim.deliver(&id, false);
    let export = sim.export(Who::Bravo);
    let index =
        export.entries.iter().position(|e| e.contains("forged") && e.contains("message.received")).expect("entry") + 1;
    let e = error_of(&export);
    assert_eq!(e, format!("entry {index}: message.received: item signature does not verify with alpha's key"));
}

#[test]
fn entries_must_have_kind_and_time() {
    let mut sim = honest();
    sim.log(Who::Alpha, "login", serde_json::json!({}));
    let mut export = sim.export(Who::Alpha);
    let last = export.entries.len();
    // Not re-signed: the shape is checked before the tree, so the entry is named.
    export.entries[last - 1] = export.entries[last - 1].replace("\"at\"", "\"time\"");
    let e = error_of(&export);
    assert_eq!(e, format!("entry {last}: login: has no \"at\" time string"));
    export.entries[last - 1] = "[1,2]".to_owned();
    assert_eq!(error_of(&export), format!("entry {last}: is not a JSON object"));
    export.entries[last - 1] = "{\"kind\": \"x\"}".to_owned();
    assert!(error_of(&export).contains("not compact JSON"));
}

#[test]
fn errors_are_matchable() {
    let mut export = honest().export(Who::Alpha);
    export.checkpoints.swap(0, 1);
    let bytes = export.to_json();
    let parsed = parse_export(bytes.as_bytes()).expect("parses");
    assert!(matches!(verify(&parsed), Err(AuditError::Checkpoint { number: 2, .. })));
}

/// The 1-based index of the last entry of `kind` in `export`.
fn last_of(export: &Export, kind: &str) -> usize {
    let needle = format!("\"kind\":\"{kind}\"");
    export.entries.iter().rposition(|e| e.contains(&needle)).expect("an entry of the kind") + 1
}

#[test]
fn a_tampered_notice_item_is_caught() {
    // Bravo logs alpha's notice with the title changed, under alpha's real signature.
    let mut sim = honest();
    let (text, sig) = sim.notice(Who::Alpha, "01937a2c-2222-7000-8000-000000000001", 1, "Sortie box A");
    let altered = text.replace("Sortie box A", "Sortie box B");
    assert_ne!(altered, text);
    sim.log(
        Who::Bravo,
        "notice.received",
        serde_json::json!({"peer": "alpha", "id": "01937a2c-2222-7000-8000-000000000001", "version": 1,
                           "state": "filed", "item": altered, "sig": sig}),
    );
    let export = sim.export(Who::Bravo);
    let e = error_of(&export);
    assert_eq!(
        e,
        format!(
            "entry {}: notice.received: item signature does not verify with alpha's key",
            last_of(&export, "notice.received")
        )
    );

    // Alpha's own notice.filed entry under a signature that is not alpha's.
    let mut sim = honest();
    let (text, _) = sim.notice(Who::Alpha, "01937a2c-2222-7000-8000-000000000002", 1, "Sortie box C");
    let forged = hotline_audit::sign_item(&text, &sim.bravo.key);
    sim.log(
        Who::Alpha,
        "notice.filed",
        serde_json::json!({"peer": "bravo", "id": "01937a2c-2222-7000-8000-000000000002", "version": 1,
                           "item": text, "sig": forged}),
    );
    let export = sim.export(Who::Alpha);
    assert_eq!(
        error_of(&export),
        format!(
            "entry {}: notice.filed: item signature does not verify with alpha's key",
            last_of(&export, "notice.filed")
        )
    );
}

#[test]
fn notice_entries_must_carry_their_own_item() {
    let mut sim = honest();
    let (text, sig) = sim.notice(Who::Bravo, "01937a2c-2222-7000-8000-000000000003", 1, "Exercise");
    // The filed item restated as an amendment: the state does not match the kind.
    sim.log(
        Who::Bravo,
        "notice.amended",
        serde_json::json!({"peer": "alpha", "id": "01937a2c-2222-7000-8000-000000000003", "version": 1,
                           "item": text, "sig": sig}),
    );
    let export = sim.export(Who::Bravo);
    let e = error_of(&export);
    assert!(e.ends_with("notice.amended: item state is \"filed\", but the entry records \"amended\""), "{e}");

    let mut sim = honest();
    sim.log(Who::Alpha, "notice.cancelled", serde_json::json!({"peer": "bravo", "id": "x", "version": 2}));
    let export = sim.export(Who::Alpha);
    let index = last_of(&export, "notice.cancelled");
    assert_eq!(error_of(&export), format!("entry {index}: notice.cancelled: has no \"item\" and \"sig\" strings"));
}

#[test]
fn any_entry_with_a_signed_item_is_verified_whatever_its_kind() {
    // A kind and an item type this build has never heard of, as the watch work adds them.
    let check = || {
        serde_json::json!({"type": "watch_check", "from": "bravo", "to": "alpha", "id": "w1",
                           "deadline_ms": 1_795_534_500_000_i64, "new_member": [1, 2]})
    };
    let mut sim = honest();
    let (text, sig) = sim.item(Who::Bravo, check());
    sim.log(Who::Alpha, "watch.check_received", serde_json::json!({"peer": "bravo", "item": text, "sig": sig}));
    // Ours, without a peer member: the item's ends say which line it is on.
    let (ours, our_sig) =
        sim.item(Who::Alpha, serde_json::json!({"type": "presence", "from": "alpha", "to": "bravo", "on_watch": 2}));
    sim.log(Who::Alpha, "presence.sent", serde_json::json!({"item": ours, "sig": our_sig}));
    verify(&sim.export(Who::Alpha)).expect("new kinds with honest items verify");

    // The same entries with a signature by the wrong station, ...
    let mut forged = honest();
    let (text, _) = forged.item(Who::Bravo, check());
    let wrong = hotline_audit::sign_item(&text, &forged.alpha.key);
    forged.log(Who::Alpha, "watch.check_received", serde_json::json!({"peer": "bravo", "item": text, "sig": wrong}));
    let export = forged.export(Who::Alpha);
    let index = last_of(&export, "watch.check_received");
    assert_eq!(
        error_of(&export),
        format!("entry {index}: watch.check_received: item signature does not verify with bravo's key")
    );

    // ... naming another peer than the item's sender, ...
    let mut sim = honest();
    let (text, sig) = sim.item(Who::Bravo, check());
    sim.log(Who::Alpha, "watch.check_received", serde_json::json!({"peer": "charlie", "item": text, "sig": sig}));
    let e = error_of(&sim.export(Who::Alpha));
    assert!(e.contains("names peer \"charlie\", which the export does not list"), "{e}");

    // ... from a station the export does not list, ...
    let mut sim = honest();
    let (text, sig) =
        sim.item(Who::Bravo, serde_json::json!({"type": "watch_check", "from": "charlie", "to": "alpha", "id": "w2"}));
    sim.log(Who::Alpha, "watch.check_received", serde_json::json!({"item": text, "sig": sig}));
    let e = error_of(&sim.export(Who::Alpha));
    assert!(e.contains("item is from \"charlie\", which the export does not list"), "{e}");

    // ... between two other stations, or with a signature that is not one.
    let mut sim = honest();
    let (text, sig) = sim.item(Who::Bravo, serde_json::json!({"type": "watch_check", "from": "bravo", "to": "delta"}));
    sim.log(Who::Alpha, "watch.check_received", serde_json::json!({"item": text, "sig": sig}));
    let e = error_of(&sim.export(Who::Alpha));
    assert!(e.contains("neither end is this station, alpha"), "{e}");
    let mut sim = honest();
    let (text, _) = sim.item(Who::Bravo, check());
    sim.log(Who::Alpha, "watch.check_received", serde_json::json!({"item": text, "sig": "AAAA"}));
    let e = error_of(&sim.export(Who::Alpha));
    assert!(e.contains("\"sig\" is 3 bytes, not an Ed25519 signature"), "{e}");
}
