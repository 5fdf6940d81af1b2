//! A two-station conversation built in memory with real keys and signatures, so that the
//! audit is tested against records shaped exactly as docs/record-format.md says, without
//! running stations: each step writes the entries both stations would write.

use std::collections::HashMap;

use hotline_audit::{Export, rfc3339, sign_item};
use hotline_identity::StationKey;
use hotline_record::merkle::{MerkleTree, leaf_hash};
use hotline_record::{Checkpoint, NoteSigner, cosign};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// 2026-11-24T15:30:00Z.
pub const START_MS: i64 = 1_795_534_200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Alpha,
    Bravo,
}

impl Who {
    pub fn other(self) -> Who {
        match self {
            Who::Alpha => Who::Bravo,
            Who::Bravo => Who::Alpha,
        }
    }
}

pub struct Side {
    pub key: StationKey,
    pub entries: Vec<String>,
    pub tree: MerkleTree,
    /// Signed checkpoint notes with cosignature lines.
    pub checkpoints: Vec<String>,
}

impl Side {
    fn new(key: StationKey) -> Side {
        Side { key, entries: Vec::new(), tree: MerkleTree::new(), checkpoints: Vec::new() }
    }

    pub fn name(&self) -> &str {
        self.key.name()
    }

    pub fn origin(&self) -> String {
        hotline_audit::origin_of(&self.key.verifier())
    }
}

/// A signed message item and who sent it.
#[derive(Clone)]
pub struct Sent {
    pub from: Who,
    pub text: String,
    pub sig: String,
}

pub struct Sim {
    pub alpha: Side,
    pub bravo: Side,
    pub now_ms: i64,
    pub messages: HashMap<String, Sent>,
    next_id: u64,
}

impl Sim {
    pub fn new(alpha: StationKey, bravo: StationKey) -> Sim {
        let mut sim = Sim {
            alpha: Side::new(alpha),
            bravo: Side::new(bravo),
            now_ms: START_MS,
            messages: HashMap::new(),
            next_id: 0,
        };
        for who in [Who::Alpha, Who::Bravo] {
            sim.log(who, "station.created", json!({}));
            sim.log(who, "user.added", json!({"by": "admin", "user": "op", "role": "operator"}));
            let peer = sim.side(who.other()).name().to_owned();
            sim.log(who, "line.state", json!({"peer": peer, "state": "up", "remote": "127.0.0.1:4000"}));
        }
        sim
    }

    /// Deterministic keys, so that a failing mutation can be replayed.
    pub fn seeded() -> Sim {
        let alpha = StationKey::from_seed("alpha", &[1; 32]).expect("alpha key");
        let bravo = StationKey::from_seed("bravo", &[2; 32]).expect("bravo key");
        Sim::new(alpha, bravo)
    }

    pub fn side(&self, who: Who) -> &Side {
        match who {
            Who::Alpha => &self.alpha,
            Who::Bravo => &self.bravo,
        }
    }

    fn side_mut(&mut self, who: Who) -> &mut Side {
        match who {
            Who::Alpha => &mut self.alpha,
            Who::Bravo => &mut self.bravo,
        }
    }

    pub fn tick(&mut self, ms: i64) {
        self.now_ms += ms;
    }

    /// Appends an entry of `kind` with `body`'s members, as the station writes it.
    pub fn log(&mut self, who: Who, kind: &str, mut body: Value) {
        body["kind"] = json!(kind);
        body["at"] = json!(rfc3339(self.now_ms));
        let text = body.to_string();
        let side = self.side_mut(who);
        side.tree.push(leaf_hash(text.as_bytes()));
        side.entries.push(text);
    }

    pub fn item(&self, who: Who, item: Value) -> (String, String) {
        let text = item.to_string();
        let sig = sign_item(&text, &self.side(who).key);
        (text, sig)
    }

    /// An operator at `from` sends a message; returns its id. With `logged` false the
    /// sender signs it but never logs it (a forgery test).
    pub fn send_with(
        &mut self,
        from: Who,
        precedence: &str,
        body: &str,
        reply_to: Option<&str>,
        logged: bool,
    ) -> String {
        self.next_id += 1;
        let id = format!("01937a2c-0000-7000-8000-{:012x}", self.next_id);
        let to = self.side(from.other()).name().to_owned();
        let (text, sig) = self.item(
            from,
            json!({"type": "message", "from": self.side(from).name(), "to": to, "id": id, "precedence": precedence,
                   "lang": "en", "body": body, "reply_to": reply_to, "author": "op", "created_ms": self.now_ms}),
        );
        self.messages.insert(id.clone(), Sent { from, text: text.clone(), sig: sig.clone() });
        if logged {
            let message = json!({"id": id, "peer": to, "direction": "out", "state": "queued", "body": body});
            self.log(from, "message.queued", json!({"peer": to, "message": message, "item": text, "sig": sig}));
            self.tick(3);
            self.log(from, "message.sent", json!({"peer": to, "id": id, "message": {"id": id}}));
        }
        id
    }

    pub fn send(&mut self, from: Who, precedence: &str, body: &str, reply_to: Option<&str>) -> String {
        self.send_with(from, precedence, body, reply_to, true)
    }

    /// The receiver stores the message and sends a receipt; with `back` the receipt
    /// reaches the sender, which logs it and the delivery.
    pub fn deliver(&mut self, id: &str, back: bool) {
        let sent = self.messages[id].clone();
        let (from, to) = (sent.from, sent.from.other());
        let from_name = self.side(from).name().to_owned();
        let to_name = self.side(to).name().to_owned();
        self.tick(40);
        let message = json!({"id": id, "peer": from_name, "direction": "in", "state": "delivered"});
        self.log(
            to,
            "message.received",
            json!({"peer": from_name, "id": id, "message": message, "item": sent.text, "sig": sent.sig}),
        );
        let hash: String = Sha256::digest(sent.text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let (text, sig) = self.item(
            to,
            json!({"type": "receipt", "from": to_name, "to": from_name, "at_ms": self.now_ms,
                   "messages": [{"id": id, "item_sha256": hash}]}),
        );
        self.log(to, "receipt.sent", json!({"peer": from_name, "item": text, "sig": sig}));
        if back {
            self.tick(40);
            self.log(from, "receipt.received", json!({"peer": to_name, "item": text, "sig": sig}));
            self.log(from, "message.delivered", json!({"peer": to_name, "id": id, "message": {"id": id}}));
        }
    }

    /// An operator at the receiver acknowledges; with `back` the sender logs the ack.
    pub fn ack(&mut self, id: &str, back: bool) {
        let sent = self.messages[id].clone();
        let (from, to) = (sent.from, sent.from.other());
        let from_name = self.side(from).name().to_owned();
        let to_name = self.side(to).name().to_owned();
        self.tick(5_000);
        let (text, sig) = self.item(
            to,
            json!({"type": "ack", "from": to_name, "to": from_name, "id": id, "by": "watch-officer", "at_ms": self.now_ms}),
        );
        self.log(
            to,
            "message.acknowledged",
            json!({"peer": from_name, "id": id, "by": "watch-officer", "message": {"id": id}, "item": text, "sig": sig}),
        );
        if back {
            self.tick(40);
            self.log(
                from,
                "message.acknowledged_by_peer",
                json!({"peer": to_name, "id": id, "by": "watch-officer", "message": {"id": id}, "item": text, "sig": sig}),
            );
        }
    }

    /// An operator at `from` files (version 1) or amends (a later version) a notice: the
    /// filer logs `notice.filed` or `notice.amended`, the peer `notice.received`, each
    /// with the filer's signed `notice` item, as crates/station writes them. Returns the
    /// item text and signature.
    pub fn notice(&mut self, from: Who, id: &str, version: u64, title: &str) -> (String, String) {
        let to = from.other();
        let (from_name, to_name) = (self.side(from).name().to_owned(), self.side(to).name().to_owned());
        let state = if version == 1 { "filed" } else { "amended" };
        let notice = json!({"kind": "air_operations", "area": {"type": "Point", "coordinates": [30.5, 50.4],
            "radius_m": 20000}, "altitude": {"min_m": 0, "max_m": 9000}, "start": "2026-11-25T10:00:00Z",
            "end": "2026-11-25T12:00:00Z", "title": title, "remarks": "", "lang": "en"});
        let (text, sig) = self.item(
            from,
            json!({"type": "notice", "from": from_name, "to": to_name, "id": id, "version": version,
                   "state": state, "notice": notice.to_string()}),
        );
        let mut shown = notice.clone();
        shown["id"] = json!(id);
        shown["version"] = json!(version);
        self.tick(7);
        self.log(
            from,
            &format!("notice.{state}"),
            json!({"peer": to_name, "id": id, "version": version, "notice": shown, "item": text, "sig": sig}),
        );
        self.tick(40);
        self.log(
            to,
            "notice.received",
            json!({"peer": from_name, "id": id, "version": version, "state": state, "notice": shown,
                   "item": text, "sig": sig}),
        );
        (text, sig)
    }

    /// An operator at the receiver of `filer`'s notice acknowledges version `version`:
    /// `notice.acknowledged` there, `notice.acknowledged_by_peer` at the filer.
    pub fn notice_ack(&mut self, filer: Who, id: &str, version: u64) {
        let reader = filer.other();
        let (filer_name, reader_name) = (self.side(filer).name().to_owned(), self.side(reader).name().to_owned());
        self.tick(20_000);
        let (text, sig) = self.item(
            reader,
            json!({"type": "notice_ack", "from": reader_name, "to": filer_name, "id": id, "version": version,
                   "by": "watch-officer", "at_ms": self.now_ms}),
        );
        self.log(
            reader,
            "notice.acknowledged",
            json!({"peer": filer_name, "id": id, "version": version, "by": "watch-officer", "item": text, "sig": sig}),
        );
        self.tick(40);
        self.log(
            filer,
            "notice.acknowledged_by_peer",
            json!({"peer": reader_name, "id": id, "version": version, "by": "watch-officer", "item": text, "sig": sig}),
        );
    }

    /// `who` signs a checkpoint of its whole record and the peer cosigns it.
    pub fn checkpoint(&mut self, who: Who, cosigned: bool) {
        let now_secs = (self.now_ms / 1000) as u64;
        let witness = NoteSigner::from_station_key(&self.side(who.other()).key);
        let side = self.side_mut(who);
        let checkpoint = Checkpoint::new(&side.origin(), side.tree.len(), side.tree.root());
        let signer = NoteSigner::from_station_key(&side.key);
        let mut note = checkpoint.sign(&signer).expect("checkpoint signs");
        if cosigned {
            note.push_str(&cosign(&checkpoint, &witness, now_secs).expect("cosigns"));
        }
        side.checkpoints.push(note);
    }

    /// The export of `who`: a fresh checkpoint at export time, as the exporter signs one.
    pub fn export(&self, who: Who) -> Export {
        let side = self.side(who);
        let mut checkpoints = side.checkpoints.clone();
        let covered = checkpoints.last().and_then(|n| n.lines().nth(1)).and_then(|s| s.parse::<u64>().ok());
        if covered != Some(side.tree.len()) {
            let checkpoint = Checkpoint::new(&side.origin(), side.tree.len(), side.tree.root());
            checkpoints.push(checkpoint.sign(&NoteSigner::from_station_key(&side.key)).expect("signs"));
        }
        let peer = self.side(who.other()).key.verifier();
        Export::new(&side.key.verifier(), &[peer], side.entries.clone(), checkpoints)
    }
}

/// A conversation of `rounds` rounds: alpha opens exchanges, bravo replies, both
/// acknowledge, bravo opens some of its own; checkpoints every few rounds, cosigned.
pub fn conversation(mut sim: Sim, rounds: usize) -> Sim {
    for round in 0..rounds {
        sim.tick(60_000);
        let opener = if round % 3 == 2 { Who::Bravo } else { Who::Alpha };
        let precedence = ["ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH"][round % 4];
        let body = format!(
            "Round {round}: planned air activity in sector {}, FL{} — please confirm.",
            round * 7 % 40,
            100 + round
        );
        let id = sim.send(opener, precedence, &body, None);
        sim.deliver(&id, true);
        sim.ack(&id, true);
        let reply = sim.send(opener.other(), precedence, &format!("Round {round}: received, no conflict."), Some(&id));
        sim.deliver(&reply, true);
        if round % 2 == 0 {
            let again = sim.send(opener, "ROUTINE", "Thank you.", Some(&reply));
            sim.deliver(&again, true);
            sim.ack(&again, true);
        }
        if round % 4 == 1 {
            let id = format!("01937a2c-1111-7000-8000-{round:012x}");
            sim.notice(opener, &id, 1, &format!("Round {round}: sortie window"));
            sim.notice_ack(opener, &id, 1);
            sim.notice(opener, &id, 2, &format!("Round {round}: sortie window, extended"));
        }
        sim.log(Who::Alpha, "login", json!({"user": "op", "from": "10.0.0.1"}));
        if round % 3 == 1 {
            sim.checkpoint(Who::Alpha, true);
            sim.checkpoint(Who::Bravo, true);
        }
    }
    sim.tick(1_000);
    sim.log(Who::Alpha, "logout", json!({"user": "op"}));
    sim.log(Who::Bravo, "logout", json!({"user": "op"}));
    sim
}
