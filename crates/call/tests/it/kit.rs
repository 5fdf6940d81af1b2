//! A pair of stations for the focused tests: `alpha` and `bravo`, each a `CallLine` with
//! its record and outbox, joined by a line the test delivers by hand, and a log of every
//! event in a short text form for expect-style checks.

use std::collections::{BTreeMap, BTreeSet};

use hotline_call::{Call, CallConfig, CallId, CallLine, Event, Operator, RecordEntry, Step, Verdict, Why};

/// A wall-clock instant in 2027, so times look like real ones.
pub const T0: u64 = 1_800_000_000_000;

/// Call id `n`: a UUID v7 whose timestamp is `n`, so ids order as their numbers do.
pub fn id(n: u64) -> CallId {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&n.to_be_bytes()[2..]);
    b[6] = 0x70;
    b[8] = 0x80;
    CallId::from_bytes(b).expect("v7")
}

/// The number of a call made by [`id`].
pub fn number(call: CallId) -> u64 {
    let mut n = [0u8; 8];
    n[2..].copy_from_slice(&call.as_bytes()[..6]);
    u64::from_be_bytes(n)
}

pub fn op(name: &str) -> Operator {
    Operator::new(name).expect("operator name")
}

/// The defaults, but an answered call ends the moment the line goes down (the grace has
/// tests of its own, `races::an_answered_call_*`), so each test reads one cut at a time.
pub fn config(station: &str, peer: &str) -> CallConfig {
    CallConfig { answered_line_grace_ms: 0, ..CallConfig::new(station, peer) }
}

/// One station: its call line, what it recorded and what it has yet to deliver.
pub struct Station {
    pub name: &'static str,
    pub line: CallLine,
    pub records: Vec<RecordEntry>,
    /// Steps sent and not yet delivered, oldest first (the line keeps them across cuts).
    pub outbox: Vec<Step>,
    /// Calls whose media runs here.
    pub media: BTreeSet<CallId>,
    /// What happened here, each line with its place in the order of the whole test.
    pub log: Vec<(u64, String)>,
}

thread_local! {
    /// Orders the log lines of both stations of a test as they happened.
    static LOG_SEQ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn log_seq() -> u64 {
    LOG_SEQ.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

impl Station {
    pub fn with_config(name: &'static str, config: CallConfig) -> Station {
        let line = CallLine::new(config).expect("config");
        Station { name, line, records: Vec::new(), outbox: Vec::new(), media: BTreeSet::new(), log: Vec::new() }
    }

    /// Moves the line's events into the record, the outbox, the media set and the log.
    pub fn drain(&mut self) {
        while let Some(event) = self.line.poll_event() {
            let text = describe(&event);
            match event {
                Event::SendToPeer(step) => self.outbox.push(step),
                Event::Record(entry) => self.records.push(entry),
                Event::StateChanged(_) => {}
                Event::StartMedia(call) => assert!(self.media.insert(call), "{}: media started twice", self.name),
                Event::StopMedia(call) => {
                    assert!(self.media.remove(&call), "{}: media stopped, not started", self.name)
                }
            }
            if let Some(text) = text {
                self.log.push((log_seq(), format!("{}: {text}", self.name)));
            }
        }
    }

    /// The latest state of each call, as a restarted station reads it from its record.
    pub fn persisted(&self) -> Vec<Call> {
        let mut latest: BTreeMap<CallId, Call> = BTreeMap::new();
        for entry in &self.records {
            if let Some(call) = &entry.call {
                latest.insert(entry.call_id, call.clone());
            }
        }
        latest.into_values().collect()
    }

    /// The station restarts at `now`: a new line from the persisted calls, down.
    pub fn restart(&mut self, now: u64, peer: &str) {
        self.media.clear();
        self.line = CallLine::restore(config(self.name, peer), now, self.persisted()).expect("restore");
        self.log.push((log_seq(), format!("{}: restarted", self.name)));
        self.drain();
    }

    /// `state`, or `state (reason, by side)` for an ended call: the test's view of a call.
    pub fn state(&self, call: CallId) -> String {
        let Some(c) = self.line.call(call) else { return "unknown".into() };
        match c.ending() {
            Some(e) => format!("{} ({}, by {:?})", c.state().as_str(), e.reason.as_str(), e.by),
            None if c.alerting() => format!("{} (alerting)", c.state().as_str()),
            None => c.state().as_str().to_owned(),
        }
    }
}

fn why(why: &Why) -> String {
    match why {
        Why::Operator(name) => format!("operator {name}"),
        Why::LineLost => "line_lost".into(),
        Why::Restarted => "restarted".into(),
        Why::NoVerdict => "no_verdict".into(),
    }
}

/// A one-line description of an event; state changes are left out (records say it).
fn describe(event: &Event) -> Option<String> {
    Some(match event {
        Event::SendToPeer(step) => {
            let n = number(step.call());
            match step {
                Step::Ring { caller, .. } => format!("send ring #{n} from {caller}"),
                Step::Answer { operator, .. } => format!("send answer #{n} by {operator}"),
                Step::Leave { why: w, .. } => format!("send leave #{n} ({})", why(w)),
                Step::Connect { .. } => format!("send connect #{n}"),
                Step::Verdict { verdict, .. } => match verdict {
                    Verdict::Failed { by, why: w } => format!("send verdict #{n} failed ({}, by {by:?})", why(w)),
                    Verdict::Cancelled(name) => format!("send verdict #{n} cancelled by {name}"),
                    other => format!("send verdict #{n} {other:?}").to_lowercase(),
                },
                Step::Hangup { why: w, .. } => format!("send hangup #{n} ({})", why(w)),
            }
        }
        Event::Record(e) => {
            let who = match &e.operator {
                Some(name) => format!("{}/{name}", e.station),
                None => e.station.clone(),
            };
            let reason = e.reason.map(|r| format!(" ({})", r.as_str())).unwrap_or_default();
            format!("record {} #{} by {who}{reason}", e.kind.as_str(), number(e.call_id))
        }
        Event::StateChanged(_) => return None,
        Event::StartMedia(call) => format!("media on #{}", number(*call)),
        Event::StopMedia(call) => format!("media off #{}", number(*call)),
    })
}

/// Which station: 0 is alpha, 1 is bravo.
pub const ALPHA: usize = 0;
pub const BRAVO: usize = 1;

/// Two stations on one line, with the instant both clocks read.
pub struct Pair {
    pub now: u64,
    pub s: [Station; 2],
}

impl Pair {
    /// Both stations up, no calls, at [`T0`].
    pub fn new() -> Pair {
        Pair::with_grace(0)
    }

    /// As [`Pair::new`], with answered calls outliving a line cut by `grace_ms`.
    pub fn with_grace(grace_ms: u64) -> Pair {
        let station = |name: &'static str, peer: &str| {
            Station::with_config(name, CallConfig { answered_line_grace_ms: grace_ms, ..config(name, peer) })
        };
        let mut pair = Pair { now: T0, s: [station("alpha", "bravo"), station("bravo", "alpha")] };
        for s in &mut pair.s {
            s.line.line_up(T0);
        }
        pair
    }

    pub fn drain(&mut self) {
        self.s.iter_mut().for_each(Station::drain);
    }

    /// Delivers every step `from` has in its outbox to the other station, in order;
    /// each must be accepted (an honest peer's steps always are).
    pub fn deliver(&mut self, from: usize) {
        while !self.s[from].outbox.is_empty() {
            self.deliver_one(from);
        }
    }

    pub fn deliver_one(&mut self, from: usize) {
        let step = self.s[from].outbox.remove(0);
        let to = 1 - from;
        let bytes = step.encode();
        let result = self.s[to].line.handle_peer_bytes(self.now, &bytes);
        assert_eq!(result, Ok(()), "{} rejected {step:?}", self.s[to].name);
        self.s[to].drain();
    }

    /// Delivers both ways until nothing is left.
    pub fn settle(&mut self) {
        while self.s.iter().any(|s| !s.outbox.is_empty()) {
            self.deliver(ALPHA);
            self.deliver(BRAVO);
        }
    }

    /// Advances time to `until`, stopping at every timer either station asked for.
    pub fn run_until(&mut self, until: u64) {
        loop {
            let next = self.s.iter().filter_map(|s| s.line.poll_timeout()).filter(|t| *t <= until).min();
            let Some(t) = next else { break };
            self.now = self.now.max(t);
            for s in &mut self.s {
                if s.line.poll_timeout().is_some_and(|due| due <= self.now) {
                    s.line.handle_timeout(self.now);
                    s.drain();
                }
            }
        }
        self.now = until;
    }

    pub fn line_down(&mut self, which: usize) {
        self.s[which].line.line_down(self.now);
        self.s[which].drain();
    }

    pub fn line_up(&mut self) {
        for s in &mut self.s {
            s.line.line_up(self.now);
        }
    }

    pub fn restart(&mut self, which: usize) {
        let peer = self.s[1 - which].name;
        let now = self.now;
        self.s[which].restart(now, peer);
    }

    /// Both ends' view of `call`, one line.
    pub fn states(&self, call: CallId) -> String {
        format!("alpha {}; bravo {}", self.s[ALPHA].state(call), self.s[BRAVO].state(call))
    }

    /// The log since the last call, both stations interleaved in the order things happened.
    pub fn take_log(&mut self) -> String {
        let mut all: Vec<(u64, String)> = Vec::new();
        for s in &mut self.s {
            all.append(&mut s.log);
        }
        all.sort();
        all.into_iter().map(|(_, line)| line).collect::<Vec<_>>().join("\n")
    }
}
