//! Steady traffic from one station to the other, a ledger of what each send got back,
//! and the end-of-scenario check: every accepted message delivered exactly once and in
//! order per precedence lane, nothing refused stored, and both records verifying.
//!
//! A send is `accepted` (202), `refused` (any other HTTP status: it must never arrive), or
//! `no answer` (the station died or the connection broke mid-request: it may arrive at most
//! once, never twice). Message bodies are `LABEL-FROM-NNNNN`, so the number gives the send
//! order and the check needs nothing but the receiver's exported record.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::station::{Answer, Client, Station, hotline};

pub const PRECEDENCES: [&str; 4] = ["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"];

/// The precedence of the `n`th message: mostly ROUTINE, some of every other lane.
pub fn precedence_of(n: u64) -> &'static str {
    match n % 10 {
        0 => "FLASH",
        1 => "IMMEDIATE",
        2 | 3 => "PRIORITY",
        _ => "ROUTINE",
    }
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Accepted { id: String },
    Refused { status: u16, body: Value },
    NoAnswer { error: String },
}

#[derive(Clone, Debug)]
pub struct Sent {
    pub body: String,
    /// When the request was made, since the sender started.
    pub at: Instant,
    pub outcome: Outcome,
}

impl Sent {
    pub fn accepted(&self) -> bool {
        matches!(self.outcome, Outcome::Accepted { .. })
    }
}

/// Sends one message; the building block of every sender.
pub fn send_one(client: &Client, to: &str, label: &str, from: &str, n: u64) -> Sent {
    let body = format!("{label}-{from}-{n:05}");
    let precedence = precedence_of(n);
    let at = Instant::now();
    let answer = client.call(
        "POST",
        &format!("/api/v1/lines/{to}/messages"),
        Some(json!({"body": body, "precedence": precedence})),
        Duration::from_secs(10),
    );
    let outcome = match answer {
        Answer::Http(202, v) => Outcome::Accepted { id: v["id"].as_str().unwrap_or_default().to_owned() },
        Answer::Http(status, body) => Outcome::Refused { status, body },
        Answer::NoAnswer(error) => Outcome::NoAnswer { error },
    };
    Sent { body, at, outcome }
}

/// A thread sending a message every `interval` until stopped.
pub struct Sender {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Vec<Sent>>>,
}

impl Sender {
    pub fn start(client: Client, from: &str, to: &str, label: &str, interval: Duration) -> Sender {
        let stop = Arc::new(AtomicBool::new(false));
        let (from, to, label) = (from.to_owned(), to.to_owned(), label.to_owned());
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut sent = Vec::new();
            let mut next = Instant::now();
            let mut n = 0;
            while !flag.load(Ordering::Relaxed) {
                n += 1;
                sent.push(send_one(&client, &to, &label, &from, n));
                next += interval;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
            sent
        });
        Sender { stop, handle: Some(handle) }
    }

    pub fn finish(mut self) -> Vec<Sent> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().expect("joined once").join().expect("sender thread panicked")
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What one direction's check found.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub attempted: usize,
    pub accepted: usize,
    pub refused: usize,
    pub no_answer: usize,
    pub delivered: usize,
    pub duplicated: usize,
    pub lost: usize,
    /// Sends without an answer whose message arrived (once): allowed, counted apart.
    pub no_answer_arrived: usize,
}

impl Counts {
    pub fn add(self, o: Counts) -> Counts {
        Counts {
            attempted: self.attempted + o.attempted,
            accepted: self.accepted + o.accepted,
            refused: self.refused + o.refused,
            no_answer: self.no_answer + o.no_answer,
            delivered: self.delivered + o.delivered,
            duplicated: self.duplicated + o.duplicated,
            lost: self.lost + o.lost,
            no_answer_arrived: self.no_answer_arrived + o.no_answer_arrived,
        }
    }
}

/// Waits until `receiver` lists every message `sent` accepted from `from` (or `timeout`).
pub fn wait_arrived(receiver: &Station, from: &str, sent: &[Sent], timeout: Duration) -> bool {
    let want: Vec<&str> = sent.iter().filter(|s| s.accepted()).map(|s| s.body.as_str()).collect();
    let deadline = Instant::now() + timeout;
    loop {
        let got: std::collections::HashSet<String> = receiver
            .messages(from)
            .expect("list messages")
            .iter()
            .filter(|m| m["direction"] == "in")
            .filter_map(|m| m["body"].as_str().map(String::from))
            .collect();
        let missing = want.iter().filter(|b| !got.contains(**b)).count();
        if missing == 0 {
            return true;
        }
        if Instant::now() > deadline {
            println!("{}: still missing {missing} of {} messages from {from}", receiver.name, want.len());
            return false;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits until `sender` shows every accepted message as delivered (or acknowledged).
pub fn wait_delivered_state(sender: &Station, to: &str, sent: &[Sent], timeout: Duration) -> usize {
    let want: std::collections::HashSet<&str> = sent.iter().filter(|s| s.accepted()).map(|s| s.body.as_str()).collect();
    let deadline = Instant::now() + timeout;
    loop {
        let delivered = sender
            .messages(to)
            .expect("list messages")
            .iter()
            .filter(|m| m["direction"] == "out" && (m["state"] == "delivered" || m["state"] == "acknowledged"))
            .filter(|m| m["body"].as_str().is_some_and(|b| want.contains(b)))
            .count();
        if delivered == want.len() || Instant::now() > deadline {
            return delivered;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The messages `receiver_export` holds from `from` with bodies starting `LABEL-FROM-`,
/// in the order the receiver stored them: (precedence, body).
fn received_in_order(export: &Value, from: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in export["entries"].as_array().expect("entries") {
        let entry: Value = serde_json::from_str(entry.as_str().expect("entry text")).expect("entry JSON");
        if entry["kind"] != "message.received" {
            continue;
        }
        let item: Value = serde_json::from_str(entry["item"].as_str().expect("item text")).expect("item JSON");
        if item["from"] != from {
            continue;
        }
        out.push((
            item["precedence"].as_str().unwrap_or_default().to_owned(),
            item["body"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    out
}

/// Checks one direction against the receiver's export; panics on any duplicate, loss,
/// reordering within a lane, or refused message that arrived.
pub fn check_direction(label: &str, from: &str, to: &str, sent: &[Sent], receiver_export: &Value) -> Counts {
    let prefix = format!("{label}-{from}-");
    let received: Vec<(String, String)> =
        received_in_order(receiver_export, from).into_iter().filter(|(_, b)| b.starts_with(&prefix)).collect();
    let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, body) in &received {
        *copies.entry(body.as_str()).or_default() += 1;
    }
    let by_body: BTreeMap<&str, &Sent> = sent.iter().map(|s| (s.body.as_str(), s)).collect();
    let mut counts = Counts { attempted: sent.len(), ..Counts::default() };
    let mut problems = Vec::new();
    for s in sent {
        let n = copies.get(s.body.as_str()).copied().unwrap_or(0);
        match &s.outcome {
            Outcome::Accepted { .. } => {
                counts.accepted += 1;
                match n {
                    0 => {
                        counts.lost += 1;
                        problems.push(format!("{} accepted but never arrived", s.body));
                    }
                    1 => counts.delivered += 1,
                    _ => {
                        counts.delivered += 1;
                        counts.duplicated += n - 1;
                        problems.push(format!("{} arrived {n} times", s.body));
                    }
                }
            }
            Outcome::Refused { status, body } => {
                counts.refused += 1;
                if n > 0 {
                    problems.push(format!("{} was refused ({status} {body}) yet arrived {n} times", s.body));
                }
            }
            Outcome::NoAnswer { .. } => {
                counts.no_answer += 1;
                if n == 1 {
                    counts.no_answer_arrived += 1;
                } else if n > 1 {
                    counts.duplicated += n - 1;
                    problems.push(format!("{} (sent without an answer) arrived {n} times", s.body));
                }
            }
        }
    }
    for body in copies.keys() {
        if !by_body.contains_key(body) {
            problems.push(format!("{body} arrived but was never sent"));
        }
    }
    // In order per precedence lane: the send numbers of what arrived only go up.
    for precedence in PRECEDENCES {
        let numbers: Vec<u64> = received
            .iter()
            .filter(|(p, _)| p == precedence)
            .filter_map(|(_, b)| b.rsplit('-').next()?.parse().ok())
            .collect();
        if let Some(w) = numbers.windows(2).find(|w| w[0] >= w[1]) {
            problems.push(format!("{from}->{to} {precedence}: message {} arrived after {}", w[1], w[0]));
        }
    }
    println!(
        "FAULTS DETAIL scenario={label} direction={from}->{to} attempted={} accepted={} refused={} no_answer={} delivered={} duplicated={} lost={} no_answer_arrived={}",
        counts.attempted,
        counts.accepted,
        counts.refused,
        counts.no_answer,
        counts.delivered,
        counts.duplicated,
        counts.lost,
        counts.no_answer_arrived
    );
    assert!(
        problems.is_empty(),
        "{label} {from}->{to}:\n{}",
        problems.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    counts
}

/// The end of a two-way scenario: waits for every accepted message to arrive and show
/// delivered, stops both stations cleanly, exports both records, checks both directions
/// and runs `hotline verify A B`. Prints the scenario's result line and returns the sum
/// with both exports (alpha's, bravo's).
pub fn finish(
    label: &str,
    base: &Path,
    a: &mut Station,
    b: &mut Station,
    sent_ab: &[Sent],
    sent_ba: &[Sent],
    extra: &str,
) -> (Counts, Value, Value) {
    let arrive = Duration::from_secs(120);
    let ok_b = wait_arrived(b, &a.name, sent_ab, arrive);
    let ok_a = wait_arrived(a, &b.name, sent_ba, arrive);
    let delivered_ab = wait_delivered_state(a, &b.name, sent_ab, Duration::from_secs(60));
    let delivered_ba = wait_delivered_state(b, &a.name, sent_ba, Duration::from_secs(60));
    if !(ok_a && ok_b) {
        println!("--- {} log (tail) ---\n{}", a.name, a.log_tail(60));
        println!("--- {} log (tail) ---\n{}", b.name, b.log_tail(60));
    }
    assert!(a.stop(), "{} did not stop cleanly on SIGTERM:\n{}", a.name, a.log_tail(30));
    assert!(b.stop(), "{} did not stop cleanly on SIGTERM:\n{}", b.name, b.log_tail(30));
    let export_a = a.export(base).expect("export the record");
    let export_b = b.export(base).expect("export the record");
    let read =
        |p: &Path| -> Value { serde_json::from_slice(&std::fs::read(p).expect("export file")).expect("export JSON") };
    let (json_a, json_b) = (read(&export_a), read(&export_b));
    let ab = check_direction(label, &a.name, &b.name, sent_ab, &json_b);
    let ba = check_direction(label, &b.name, &a.name, sent_ba, &json_a);
    let accepted_ab = sent_ab.iter().filter(|s| s.accepted()).count();
    let accepted_ba = sent_ba.iter().filter(|s| s.accepted()).count();
    assert_eq!(delivered_ab, accepted_ab, "{label}: {} shows {delivered_ab} of {accepted_ab} as delivered", a.name);
    assert_eq!(delivered_ba, accepted_ba, "{label}: {} shows {delivered_ba} of {accepted_ba} as delivered", b.name);
    let (ok, out, err) = hotline(&["verify", export_a.to_str().expect("path"), export_b.to_str().expect("path")], None);
    assert!(ok, "{label}: hotline verify A B failed:\n{out}\n{err}");
    let total = ab.add(ba);
    println!(
        "FAULTS RESULT scenario={label} sent={} delivered={} duplicated={} lost={} refused={} no_answer={} no_answer_arrived={} verify=ok{}{extra}",
        total.accepted,
        total.delivered,
        total.duplicated,
        total.lost,
        total.refused,
        total.no_answer,
        total.no_answer_arrived,
        if extra.is_empty() { "" } else { " " },
    );
    (total, json_a, json_b)
}
