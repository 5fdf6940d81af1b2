//! `hotline verify A B`: two stations' records held against each other.
//!
//! Each record verifying on its own proves only that its station has not rewritten it
//! since the peer witnessed it. The cross-check is what settles a dispute between the two:
//! each side's copy of every signed statement (message, acknowledgment, receipt) must be
//! byte for byte the one the other side logged, nothing may be received that was not
//! sent, nothing the sender was told is delivered may be missing at the receiver, and the
//! report states, from the signed messages themselves, who started each exchange.
//!
//! The two exports are usually taken a little apart in time, so what one side logged last
//! may not have reached the other yet: messages, acknowledgments and receipts still in
//! flight are counted, not refused. The one exception is a message the sender logged as
//! delivered, because delivery means the receiver had already written it to disk.

use std::collections::{HashMap, HashSet};

use sha2::{Digest as _, Sha256};

use crate::AuditError;
use crate::entry::Entry;
use crate::export::Export;
use crate::item::{Item, SignedItem};
use crate::recordings::RecordingMatch;
use crate::text::{clean, first_chars, hex};
use crate::transcript::{dtg, rfc3339};
use crate::verify::{Audited, Summary, audit};

/// How much of an exchange's opening message the report quotes, in characters.
#[allow(non_upper_case_globals)]
pub const exchange_opening_chars: usize = 60;

/// One direction of a line, as the two records show it together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub from: String,
    pub to: String,
    /// `message.queued` at `from` for `to`.
    pub messages_sent: usize,
    /// Of those, logged `message.received` at `to`.
    pub messages_received: usize,
    /// Sent, not (yet) received, and not logged delivered by `from`: in flight when the
    /// exports were taken.
    pub messages_in_flight: usize,
    /// `message.acknowledged` at `to` for messages from `from`.
    pub acks_sent: usize,
    /// Of those, logged `message.acknowledged_by_peer` at `from`.
    pub acks_arrived: usize,
    /// `receipt.sent` at `to` for `from`'s messages.
    pub receipts_sent: usize,
    /// Of those, logged `receipt.received` at `from`.
    pub receipts_arrived: usize,
}

/// An exchange: a message with no `reply_to` and every message that replies to it,
/// directly or through other replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The station that sent the opening message.
    pub initiator: String,
    pub responder: String,
    pub message_id: String,
    /// The opening message's `created_ms` (the sender's signed time).
    pub created_ms: i64,
    pub precedence: String,
    /// The first [`exchange_opening_chars`] characters of its body.
    pub opening: String,
    /// Messages in its thread after the opening one.
    pub replies: usize,
}

/// The outcome of a cross-check that found the records consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossReport {
    pub a: Summary,
    pub b: Summary,
    /// A → B, then B → A.
    pub flows: [Flow; 2],
    /// Every exchange, by the opening message's time (then station, then id).
    pub exchanges: Vec<Exchange>,
    /// Replies whose thread leads to a message neither record holds.
    pub orphan_replies: usize,
    /// Every call either station recorded, and whether the two recordings agree.
    pub recordings: Vec<RecordingMatch>,
}

impl CrossReport {
    /// The human report: keys, the flows each way, and who started each exchange.
    pub fn render(&self) -> String {
        let (a, b) = (&self.a, &self.b);
        let mut out = format!(
            "Cross-check of {} ({}) and {} ({}): the two records agree.\n",
            a.station, a.fingerprint, b.station, b.fingerprint
        );
        out.push_str(&format!(
            "  each lists the other with the key the other exports; {} has {} entries, {} has {}\n",
            a.station, a.entries, b.station, b.entries
        ));
        for f in &self.flows {
            out.push_str(&format!(
                "  {} \u{2192} {}: {} message(s) sent, {} received, {} in flight; {} acknowledged by {} ({} of the acks logged at {}); {} receipt(s) from {} ({} logged at {})\n",
                f.from,
                f.to,
                f.messages_sent,
                f.messages_received,
                f.messages_in_flight,
                f.acks_sent,
                f.to,
                f.acks_arrived,
                f.from,
                f.receipts_sent,
                f.to,
                f.receipts_arrived,
                f.from
            ));
        }
        out.push_str(&format!(
            "Exchanges ({}; a message with no reply_to starts one), by the opening message's signed time:\n",
            self.exchanges.len()
        ));
        for (n, e) in self.exchanges.iter().enumerate() {
            out.push_str(&format!(
                "  {}. {} initiated, {} ({}), {}: \"{}\" \u{2014} {} repl{}\n",
                n + 1,
                e.initiator,
                rfc3339(e.created_ms),
                dtg(e.created_ms),
                e.precedence,
                clean(&e.opening),
                e.replies,
                if e.replies == 1 { "y" } else { "ies" }
            ));
        }
        if self.orphan_replies > 0 {
            out.push_str(&format!(
                "  {} repl{} to messages neither record holds\n",
                self.orphan_replies,
                if self.orphan_replies == 1 { "y" } else { "ies" }
            ));
        }
        crate::recordings::render(&self.recordings, &a.station, &b.station, &mut out);
        out
    }
}

/// Verifies both exports, then checks them against each other as docs/record-format.md
/// describes; the error names the station and entry where the records disagree.
pub fn cross_check(a: &Export, b: &Export) -> Result<CrossReport, AuditError> {
    let side =
        |e: &Export| audit(e).map_err(|error| AuditError::Side { station: e.station.clone(), error: Box::new(error) });
    let (a, b) = (side(a)?, side(b)?);
    if a.station == b.station {
        return Err(AuditError::Mismatch(format!("both exports are of station {}: give one of each side", a.station)));
    }
    check_keys(&a, &b)?;
    check_keys(&b, &a)?;
    let forward = check_flow(&a, &b)?;
    let backward = check_flow(&b, &a)?;
    let (exchanges, orphan_replies) = exchanges(&a, &b);
    let recordings = crate::recordings::compare(&a, &b)?;
    Ok(CrossReport { a: a.summary, b: b.summary, flows: [forward, backward], exchanges, orphan_replies, recordings })
}

/// `lister` lists `listed` with the key `listed` exports.
fn check_keys(lister: &Audited, listed: &Audited) -> Result<(), AuditError> {
    match lister.peers.get(&listed.station) {
        None => Err(AuditError::Mismatch(format!(
            "{} does not list {} as a peer: these records are not two ends of one line",
            lister.station, listed.station
        ))),
        Some(key) if *key != listed.key => Err(AuditError::Mismatch(format!(
            "{} lists {} with key {key}, but {}'s export has key {}",
            lister.station, listed.station, listed.station, listed.key
        ))),
        Some(_) => Ok(()),
    }
}

/// The signed entries of `kind` on the line to `peer`, in record order.
fn signed<'a>(record: &'a Audited, kind: &'a str, peer: &'a str) -> impl Iterator<Item = (&'a Entry, &'a SignedItem)> {
    record
        .entries
        .iter()
        .filter(move |e| e.kind == kind && e.peer.as_deref() == Some(peer))
        .filter_map(|e| e.signed.as_ref().map(|s| (e, s)))
}

fn message_id(item: &Item) -> &str {
    match item {
        Item::Message { id, .. } | Item::Ack { id, .. } => id,
        _ => "",
    }
}

/// Messages from `s` (sender) to `r` (receiver), their acknowledgments by `r` and `r`'s
/// receipts for them.
fn check_flow(s: &Audited, r: &Audited) -> Result<Flow, AuditError> {
    let (sn, rn) = (s.station.as_str(), r.station.as_str());
    let queued: HashMap<&str, (&Entry, &SignedItem)> =
        signed(s, "message.queued", rn).map(|(e, si)| (message_id(&si.item), (e, si))).collect();
    let received: HashMap<&str, (&Entry, &SignedItem)> =
        signed(r, "message.received", sn).map(|(e, si)| (message_id(&si.item), (e, si))).collect();

    // Nothing is received that the sender did not log as sent, identically.
    for (e, si) in signed(r, "message.received", sn) {
        let id = message_id(&si.item);
        match queued.get(id) {
            None => {
                return Err(AuditError::Mismatch(format!(
                    "{rn} entry {}: message.received {} from {sn} is not in {sn}'s record as message.queued: {sn} never logged sending it",
                    e.index,
                    clean(id)
                )));
            }
            Some((qe, qs)) if !qs.same_as(si) => {
                return Err(AuditError::Mismatch(format!(
                    "{rn} entry {}: message.received {} differs from {sn}'s message.queued (entry {}): the item or its signature is not the same",
                    e.index,
                    clean(id),
                    qe.index
                )));
            }
            Some(_) => {}
        }
    }
    // Everything the sender was told is delivered is at the receiver.
    let mut delivered: HashMap<&str, u64> = HashMap::new();
    for e in s.entries.iter().filter(|e| e.kind == "message.delivered" && e.peer.as_deref() == Some(rn)) {
        if let Some(id) = e.id.as_deref() {
            delivered.entry(id).or_insert(e.index);
        }
    }
    let mut in_flight = 0;
    for (e, si) in signed(s, "message.queued", rn) {
        let id = message_id(&si.item);
        if received.contains_key(id) {
            continue;
        }
        if let Some(d) = delivered.get(id) {
            return Err(AuditError::Mismatch(format!(
                "{sn} entry {}: message {} queued for {rn} is logged delivered (entry {d}), but {rn}'s record has no message.received for it",
                e.index,
                clean(id)
            )));
        }
        in_flight += 1;
    }

    // Acknowledgments: the receiver acknowledges only what it received; the sender holds
    // exactly the receiver's signed acknowledgment.
    let mut acks_by_receiver: HashSet<(&str, &str)> = HashSet::new();
    let mut acks_sent = 0;
    for (e, si) in signed(r, "message.acknowledged", sn) {
        let id = message_id(&si.item);
        if !received.contains_key(id) {
            return Err(AuditError::Mismatch(format!(
                "{rn} entry {}: acknowledges message {}, which {rn}'s record does not show received from {sn}",
                e.index,
                clean(id)
            )));
        }
        acks_by_receiver.insert((&si.text, &si.sig));
        acks_sent += 1;
    }
    let mut acks_arrived = 0;
    for (e, si) in signed(s, "message.acknowledged_by_peer", rn) {
        let id = message_id(&si.item);
        if !queued.contains_key(id) {
            return Err(AuditError::Mismatch(format!(
                "{sn} entry {}: {rn} acknowledged message {}, which {sn} never logged sending to {rn}",
                e.index,
                clean(id)
            )));
        }
        if !acks_by_receiver.contains(&(si.text.as_str(), si.sig.as_str())) {
            return Err(AuditError::Mismatch(format!(
                "{sn} entry {}: the acknowledgment of message {} is not in {rn}'s record as message.acknowledged with the identical item and signature",
                e.index,
                clean(id)
            )));
        }
        acks_arrived += 1;
    }

    // Receipts: the receiver names only messages it logged, by the hash of the exact
    // item; the sender holds exactly the receiver's signed receipt.
    let mut stored: HashSet<(&str, String)> = received.iter().map(|(id, (_, si))| (*id, si.sha256_hex())).collect();
    for e in r.entries.iter().filter(|e| e.kind == "message.duplicate" && e.peer.as_deref() == Some(sn)) {
        if let (Some(id), Some(text)) = (e.id.as_deref(), e.item_text.as_deref()) {
            stored.insert((id, hex(&Sha256::digest(text.as_bytes()))));
        }
    }
    let mut receipts_by_receiver: HashSet<(&str, &str)> = HashSet::new();
    let mut receipts_sent = 0;
    for (e, si) in signed(r, "receipt.sent", sn) {
        if let Item::Receipt { messages, .. } = &si.item {
            for m in messages {
                if !stored.contains(&(m.id.as_str(), m.item_sha256.clone())) {
                    return Err(AuditError::Mismatch(format!(
                        "{rn} entry {}: the receipt names message {} (item SHA-256 {}), which {rn} did not log as received from {sn} with that item",
                        e.index,
                        clean(&m.id),
                        m.item_sha256
                    )));
                }
            }
        }
        receipts_by_receiver.insert((&si.text, &si.sig));
        receipts_sent += 1;
    }
    let mut receipts_arrived = 0;
    for (e, si) in signed(s, "receipt.received", rn) {
        if !receipts_by_receiver.contains(&(si.text.as_str(), si.sig.as_str())) {
            return Err(AuditError::Mismatch(format!(
                "{sn} entry {}: receipt.received is not in {rn}'s record as receipt.sent with the identical item and signature",
                e.index
            )));
        }
        receipts_arrived += 1;
    }

    Ok(Flow {
        from: sn.to_owned(),
        to: rn.to_owned(),
        messages_sent: queued.len(),
        messages_received: received.len(),
        messages_in_flight: in_flight,
        acks_sent,
        acks_arrived,
        receipts_sent,
        receipts_arrived,
    })
}

/// Every message either side sent to the other, by id: sender, receiver and the item.
fn exchanges(a: &Audited, b: &Audited) -> (Vec<Exchange>, usize) {
    let mut messages: HashMap<&str, (&str, &str, &Item)> = HashMap::new();
    for (s, r) in [(a, b), (b, a)] {
        for (_, si) in signed(s, "message.queued", &r.station) {
            messages.insert(message_id(&si.item), (&s.station, &r.station, &si.item));
        }
    }
    let reply_to = |item: &Item| match item {
        Item::Message { reply_to, .. } => reply_to.clone(),
        _ => None,
    };
    let mut replies: HashMap<&str, usize> = HashMap::new();
    let mut orphans = 0;
    for (_, _, item) in messages.values() {
        let Some(mut parent) = reply_to(item) else { continue };
        // Follow the thread up to its opening message; a chain longer than the number of
        // messages is a cycle, which signed but malicious items could make.
        let mut root = None;
        for _ in 0..=messages.len() {
            match messages.get_key_value(parent.as_str()) {
                Some((id, (_, _, up))) => match reply_to(up) {
                    Some(next) => parent = next,
                    None => {
                        root = Some(*id);
                        break;
                    }
                },
                None => break,
            }
        }
        match root {
            Some(id) => *replies.entry(id).or_default() += 1,
            None => orphans += 1,
        }
    }
    let mut list: Vec<Exchange> = messages
        .iter()
        .filter_map(|(id, (from, to, item))| match item {
            Item::Message { reply_to: None, precedence, body, created_ms, .. } => Some(Exchange {
                initiator: (*from).to_owned(),
                responder: (*to).to_owned(),
                message_id: (*id).to_owned(),
                created_ms: *created_ms,
                precedence: precedence.clone(),
                opening: first_chars(body, exchange_opening_chars),
                replies: replies.get(id).copied().unwrap_or(0),
            }),
            _ => None,
        })
        .collect();
    list.sort_by(|x, y| (x.created_ms, &x.initiator, &x.message_id).cmp(&(y.created_ms, &y.initiator, &y.message_id)));
    (list, orphans)
}
