//! `cross_check` agrees with two honest records, names the initiator of every exchange,
//! counts what is still in flight, and names the entry where two records disagree.

use hotline_audit::{AuditError, cross_check};
use serde_json::json;

use crate::fixture::{Sim, Who, conversation};

#[test]
fn honest_records_agree_and_name_the_initiators() {
    let sim = conversation(Sim::seeded(), 6);
    let (a, b) = (sim.export(Who::Alpha), sim.export(Who::Bravo));
    let report = cross_check(&a, &b).expect("the records agree");
    assert_eq!(report, cross_check(&a, &b).expect("again"));
    // Rounds 0, 1, 3, 4 are opened by alpha and 2, 5 by bravo, in that order of time.
    let initiators: Vec<&str> = report.exchanges.iter().map(|e| e.initiator.as_str()).collect();
    assert_eq!(initiators, ["alpha", "alpha", "bravo", "alpha", "alpha", "bravo"]);
    // Even rounds have two replies, odd rounds one.
    let replies: Vec<usize> = report.exchanges.iter().map(|e| e.replies).collect();
    assert_eq!(replies, [2, 1, 2, 1, 2, 1]);
    assert!(report.exchanges[0].opening.starts_with("Round 0: planned air activity"));
    assert!(report.exchanges[0].opening.chars().count() <= 61);
    assert_eq!(report.exchanges[0].precedence, "ROUTINE");
    for flow in &report.flows {
        assert_eq!(flow.messages_sent, flow.messages_received);
        assert_eq!(flow.messages_in_flight, 0);
        assert_eq!(flow.acks_sent, flow.acks_arrived);
        assert_eq!(flow.receipts_sent, flow.receipts_arrived);
    }
    assert_eq!(report.flows[0].from, "alpha");
    assert_eq!(report.flows[0].messages_sent + report.flows[1].messages_sent, 6 + 6 + 3);
    let text = report.render();
    assert!(text.contains("1. alpha initiated") && text.contains("3. bravo initiated"), "{text}");
    println!("{text}");
}

#[test]
fn messages_in_flight_are_counted_not_refused() {
    let mut sim = conversation(Sim::seeded(), 2);
    let queued = sim.send(Who::Alpha, "FLASH", "still on the wire", None);
    let received = sim.send(Who::Bravo, "ROUTINE", "stored, receipt not back yet", None);
    sim.deliver(&received, false);
    let acked = sim.send(Who::Alpha, "IMMEDIATE", "acked, ack not back yet", None);
    sim.deliver(&acked, true);
    sim.ack(&acked, false);
    let _ = queued;
    let report = cross_check(&sim.export(Who::Alpha), &sim.export(Who::Bravo)).expect("agree");
    let [ab, ba] = &report.flows;
    assert_eq!(ab.messages_in_flight, 1);
    assert_eq!(ab.acks_sent, ab.acks_arrived + 1);
    assert_eq!(ba.messages_in_flight, 0);
    assert_eq!(ba.receipts_sent, ba.receipts_arrived + 1);
}

#[test]
fn a_message_received_but_never_logged_as_sent_is_named() {
    let mut sim = conversation(Sim::seeded(), 2);
    let id = sim.send_with(Who::Alpha, "FLASH", "never logged by alpha", None, false);
    sim.deliver(&id, false);
    let b = sim.export(Who::Bravo);
    let index = b.entries.iter().position(|e| e.contains("never logged")).expect("entry") + 1;
    let e = cross_check(&sim.export(Who::Alpha), &b).expect_err("refused").to_string();
    assert_eq!(
        e,
        format!(
            "bravo entry {index}: message.received {id} from alpha is not in alpha's record as message.queued: alpha never logged sending it"
        )
    );
}

#[test]
fn a_delivered_message_missing_at_the_receiver_is_named() {
    let mut sim = conversation(Sim::seeded(), 2);
    let id = sim.send(Who::Alpha, "FLASH", "lost", None);
    sim.log(Who::Alpha, "message.delivered", json!({"peer": "bravo", "id": id}));
    let e = cross_check(&sim.export(Who::Alpha), &sim.export(Who::Bravo)).expect_err("refused").to_string();
    assert!(e.contains(&format!("message {id} queued for bravo is logged delivered")), "{e}");
}

#[test]
fn an_acknowledgment_the_receiver_never_made_is_named() {
    let mut sim = conversation(Sim::seeded(), 2);
    let id = sim.send(Who::Alpha, "FLASH", "acked?", None);
    sim.deliver(&id, true);
    sim.ack(&id, true);
    // Drop bravo's own record of the acknowledgment.
    let mut b = sim.export(Who::Bravo);
    let at = b.entries.iter().rposition(|e| e.contains("\"message.acknowledged\"")).expect("ack");
    b.entries.remove(at);
    let rebuilt = rebuild(&sim, Who::Bravo, b.entries);
    let e = cross_check(&sim.export(Who::Alpha), &rebuilt).expect_err("refused").to_string();
    assert!(e.contains("is not in bravo's record as message.acknowledged"), "{e}");
}

#[test]
fn keys_must_agree_both_ways_and_each_side_must_verify() {
    let sim = conversation(Sim::seeded(), 2);
    let a = sim.export(Who::Alpha);
    let e = cross_check(&a, &a).expect_err("same station").to_string();
    assert!(e.contains("both exports are of station alpha"), "{e}");
    let other = Sim::new(
        hotline_identity::StationKey::from_seed("alpha", &[5; 32]).expect("key"),
        hotline_identity::StationKey::from_seed("bravo", &[2; 32]).expect("key"),
    );
    let e = cross_check(&other.export(Who::Alpha), &sim.export(Who::Bravo)).expect_err("keys").to_string();
    assert!(e.starts_with("alpha lists bravo with key") || e.starts_with("bravo lists alpha with key"), "{e}");
    let mut broken = sim.export(Who::Bravo);
    broken.entries.pop();
    let e = cross_check(&a, &broken).expect_err("side");
    assert!(matches!(&e, AuditError::Side { station, .. } if station == "bravo"), "{e}");
}

/// `who`'s export with `entries` instead of its own, re-signed by its own key (a station
/// rewriting its unwitnessed record: valid alone, caught only by the other side).
fn rebuild(sim: &Sim, who: Who, entries: Vec<String>) -> hotline_audit::Export {
    use hotline_record::merkle::{MerkleTree, leaf_hash};
    use hotline_record::{Checkpoint, NoteSigner};
    let side = sim.side(who);
    let mut tree = MerkleTree::new();
    for e in &entries {
        tree.push(leaf_hash(e.as_bytes()));
    }
    let note = Checkpoint::new(&side.origin(), tree.len(), tree.root())
        .sign(&NoteSigner::from_station_key(&side.key))
        .expect("signs");
    let peer = sim.side(who.other()).key.verifier();
    hotline_audit::Export::new(&side.key.verifier(), &[peer], entries, vec![note])
}
