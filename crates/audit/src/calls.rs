//! The calls in a record, as an auditor reads them: who called whom, when, who answered,
//! how long it lasted, and the attempts nobody answered — the question the seed's two
//! sides argued about in public ("alpha called 3 times, 09:02, 09:15, 09:40; not
//! answered"). Read from the `call.*` entries alone (each carries the call's state after
//! its step), so it needs nothing of the station's code.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::entry::Entry;
use crate::transcript::rfc3339;

/// One call on one line, as the record's last `call.*` entry about it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallFacts {
    pub id: String,
    /// The station that called.
    pub caller: String,
    pub started_by: String,
    /// When the caller's station recorded the start (our record's time of the first entry).
    pub first_seen_ms: i64,
    /// `answered`, `ended`, `declined`, `missed`, `cancelled`, `failed`, `ringing`, ...
    pub state: String,
    pub answered_by: Option<String>,
    pub answered_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub ended_by: Option<String>,
    pub reason: Option<String>,
}

impl CallFacts {
    /// Whether someone answered (the call connected).
    pub fn answered(&self) -> bool {
        self.answered_by.is_some()
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn time(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_str).and_then(crate::entry::parse_utc)
}

/// The calls on the line to `peer` in this record, in the order they started, and the
/// refused starts (line down, busy) as (time, operator).
pub(crate) fn calls_of(entries: &[Entry], here: &str, peer: &str) -> (Vec<CallFacts>, Vec<(i64, String)>) {
    let mut calls: BTreeMap<String, CallFacts> = BTreeMap::new();
    let mut order = Vec::new();
    let mut refused = Vec::new();
    for e in entries.iter().filter(|e| e.peer.as_deref() == Some(peer) && e.kind.starts_with("call.")) {
        let Some(body) = &e.call_body else { continue };
        if e.kind == "call.refused" {
            refused.push((e.at_ms, text(body, "operator").unwrap_or_default()));
            continue;
        }
        let Some(call) = body.get("call").filter(|c| c.is_object()) else { continue };
        let Some(id) = text(call, "id") else { continue };
        let caller = if text(call, "direction").as_deref() == Some("out") { here } else { peer };
        let facts = CallFacts {
            id: id.clone(),
            caller: caller.to_owned(),
            started_by: text(call, "started_by").unwrap_or_default(),
            first_seen_ms: calls.get(&id).map_or(e.at_ms, |c| c.first_seen_ms),
            state: text(call, "state").unwrap_or_default(),
            answered_by: text(call, "answered_by"),
            answered_ms: time(call, "answered"),
            ended_ms: time(call, "ended"),
            ended_by: text(call, "ended_by"),
            reason: text(call, "reason"),
        };
        if !calls.contains_key(&id) {
            order.push(id.clone());
        }
        calls.insert(id, facts);
    }
    (order.into_iter().filter_map(|id| calls.remove(&id)).collect(), refused)
}

fn hhmm(ms: i64) -> String {
    rfc3339(ms).get(11..16).unwrap_or("??:??").to_owned()
}

fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 60 { format!("{} min {} s", s / 60, s % 60) } else { format!("{s} s") }
}

/// One sentence per station that called without being answered, e.g. "alpha called 3
/// times, 09:02, 09:15, 09:40; not answered" (refused starts count: an attempt is evidence).
pub(crate) fn unanswered(calls: &[CallFacts], refused: &[(i64, String)], here: &str) -> Vec<String> {
    let mut by_caller: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for c in calls.iter().filter(|c| !c.answered() && c.state != "ringing") {
        by_caller.entry(c.caller.as_str()).or_default().push(c.first_seen_ms);
    }
    for (at, _) in refused {
        by_caller.entry(here).or_default().push(*at);
    }
    by_caller
        .into_iter()
        .map(|(caller, mut times)| {
            times.sort_unstable();
            let when: Vec<String> = times.iter().map(|t| hhmm(*t)).collect();
            let n = times.len();
            let count = if n == 1 { "once".to_owned() } else { format!("{n} times") };
            format!("{caller} called {count}, {}; not answered", when.join(", "))
        })
        .collect()
}

/// The transcript's section on calls.
pub(crate) fn render(calls: &[CallFacts], refused: &[(i64, String)], here: &str, peer: &str, out: &mut String) {
    if calls.is_empty() && refused.is_empty() {
        return;
    }
    out.push_str(&format!("\nCalls on the line {here} \u{2194} {peer}: {} call(s)\n", calls.len()));
    for (n, c) in calls.iter().enumerate() {
        let callee = if c.caller == here { peer } else { here };
        out.push_str(&format!(
            "\n({}) {}  {} \u{2192} {callee}, called by {}; call {}\n",
            n + 1,
            rfc3339(c.first_seen_ms),
            c.caller,
            crate::text::clean(&c.started_by),
            c.id
        ));
        let mut facts = Vec::new();
        match (&c.answered_by, c.answered_ms) {
            (Some(by), Some(at)) => facts.push(format!("answered by {} at {}", crate::text::clean(by), rfc3339(at))),
            _ => facts.push(format!("not answered ({})", c.state)),
        }
        if let Some(end) = c.ended_ms {
            let by = c.ended_by.as_deref().map(|b| format!(" by {}", crate::text::clean(b))).unwrap_or_default();
            let long = c.answered_ms.map(|a| format!(", after {}", duration(end - a))).unwrap_or_default();
            let why = c.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            facts.push(format!("{} at {}{by}{why}{long}", c.state, rfc3339(end)));
        }
        out.push_str(&format!("    {}\n", facts.join("; ")));
    }
    for (at, by) in refused {
        out.push_str(&format!(
            "\n(-) {}  {here} \u{2192} {peer}, called by {}; refused (line down or busy)\n",
            rfc3339(*at),
            crate::text::clean(by)
        ));
    }
    for sentence in unanswered(calls, refused, here) {
        out.push_str(&format!("\nUnanswered: {sentence}\n"));
    }
}
