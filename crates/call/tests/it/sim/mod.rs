//! Deterministic simulation of two stations' calls over a line that is cut and restored.
//!
//! Each seed builds `alpha` and `bravo`, each a `CallLine` with its own clock (skewed by
//! up to two seconds), joined by a simulated line with latency that delivers each
//! direction's steps exactly once and in order — also across cuts: what was sent while
//! the line was down arrives after it comes back, as with the real line. The line blips
//! (nobody notices), is cut (each end notices after its own delay) for seconds or, now
//! and then, ten minutes; a station restarts from what its record holds. Each station's
//! `answered_line_grace_ms` is 0 or up to 20 s (per seed, per station), so an answered
//! call may live through a cut at one end and not at the other. Operators at
//! both ends start, answer, decline and hang up at random, sometimes both starting at
//! the same instant (glare). Then the line heals and the run must settle. Everything
//! comes from the seed, so a failing seed replays exactly:
//!
//! ```text
//! HOTLINE_CALL_SEED=1234 cargo test -p hotline-call --test it sim
//! ```
//!
//! Checked after every step: an honest peer's steps are all accepted; at most one live
//! call per station; media runs exactly for the calls answered at that end; no call is
//! answered at one end and declined, missed, cancelled or failed at the other. Once
//! quiescent: both stations know every call, agree on its state, on who answered and (for
//! a call that never connected) on how it ended; every start is recorded at both ends;
//! no callee gave up waiting for a verdict.

mod invariants;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hotline_call::{Call, CallConfig, CallId, CallLine, Event, Operator, RecordEntry, Step};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEEDS_DEFAULT: u64 = 1_500;
const T0: u64 = 1_800_000_000_000;
const CHAOS_MS: u64 = 900_000;
const CALM_MS_MAX: u64 = 3_600_000;
const OPERATORS: [&str; 3] = ["ana", "bo", "cy"];

struct Node {
    name: &'static str,
    /// `None` while the station is down for a restart.
    line: Option<CallLine>,
    records: Vec<RecordEntry>,
    /// This station's clock minus the simulation's.
    offset_ms: i64,
    /// Whether this station believes the line is up.
    view_up: bool,
    /// When this station notices that the line was cut.
    notice_down_at: Option<u64>,
    restart_until: Option<u64>,
    media: BTreeSet<CallId>,
    /// This station's `answered_line_grace_ms`: 0 (every cut ends an answered call at
    /// once) or up to 20 s, chosen per seed and per station, as two lines may differ.
    grace_ms: u64,
    /// How often an answered call here lived through the line being down (its grace).
    outlived_cuts: u64,
}

impl Node {
    fn clock(&self, now: u64) -> u64 {
        now.saturating_add_signed(self.offset_ms)
    }

    fn config(&self) -> CallConfig {
        let peer = if self.name == "alpha" { "bravo" } else { "alpha" };
        let mut config = CallConfig::new(self.name, peer);
        config.ring_timeout_ms = 30_000;
        config.calls_history_max = 10_000;
        config.answered_line_grace_ms = self.grace_ms;
        config
    }

    fn persisted(&self) -> Vec<Call> {
        let mut latest: BTreeMap<CallId, Call> = BTreeMap::new();
        for entry in &self.records {
            if let Some(call) = &entry.call {
                latest.insert(entry.call_id, call.clone());
            }
        }
        latest.into_values().collect()
    }
}

struct Sim {
    rng: ChaCha8Rng,
    now: u64,
    nodes: [Node; 2],
    /// Steps in flight from each node, with the instant each may arrive.
    queues: [VecDeque<(u64, Step)>; 2],
    connected: bool,
    reconnect_at: Option<u64>,
    chaos: bool,
    next_action_at: u64,
    next_chaos_at: u64,
    id_counter: u64,
    latency_ms_max: u64,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let node = |name, offset_ms, grace_ms| Node {
            name,
            line: None,
            records: Vec::new(),
            offset_ms,
            view_up: false,
            notice_down_at: None,
            restart_until: None,
            media: BTreeSet::new(),
            grace_ms,
            outlived_cuts: 0,
        };
        let grace = |rng: &mut ChaCha8Rng| if rng.random_bool(0.5) { 0 } else { rng.random_range(1..=20_000) };
        let (alpha_grace, bravo_grace) = (grace(&mut rng), grace(&mut rng));
        let nodes = [
            node("alpha", rng.random_range(-2_000..=2_000), alpha_grace),
            node("bravo", rng.random_range(-2_000..=2_000), bravo_grace),
        ];
        let mut sim = Sim {
            latency_ms_max: rng.random_range(1..400),
            next_action_at: T0 + rng.random_range(0..3_000),
            next_chaos_at: T0 + rng.random_range(5_000..40_000),
            rng,
            now: T0,
            nodes,
            queues: [VecDeque::new(), VecDeque::new()],
            connected: true,
            reconnect_at: None,
            chaos: true,
            id_counter: 0,
        };
        for i in 0..2 {
            let config = sim.nodes[i].config();
            let mut line = CallLine::new(config).expect("config");
            line.line_up(sim.nodes[i].clock(T0));
            sim.nodes[i].line = Some(line);
            sim.nodes[i].view_up = true;
        }
        sim
    }

    /// Moves node `i`'s events out: steps onto the line, entries into the record.
    fn drain(&mut self, i: usize) {
        while let Some(event) = self.nodes[i].line.as_mut().and_then(CallLine::poll_event) {
            match event {
                Event::SendToPeer(step) => {
                    let last = self.queues[i].back().map_or(0, |(at, _)| *at);
                    let at = last.max(self.now + self.rng.random_range(1..=self.latency_ms_max));
                    self.queues[i].push_back((at, step));
                }
                Event::Record(entry) => self.nodes[i].records.push(entry),
                Event::StateChanged(_) => {}
                Event::StartMedia(call) => {
                    assert!(self.nodes[i].media.insert(call), "{}: media for {call} started twice", self.nodes[i].name)
                }
                Event::StopMedia(call) => {
                    assert!(
                        self.nodes[i].media.remove(&call),
                        "{}: media for {call} stopped, not running",
                        self.nodes[i].name
                    )
                }
            }
        }
    }

    fn new_id(&mut self, i: usize) -> CallId {
        self.id_counter += 1;
        let ms = self.nodes[i].clock(self.now);
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[6..].copy_from_slice(&self.rng.random::<[u8; 10]>());
        b[6] = 0x70 | (b[6] & 0x0f);
        b[8] = 0x80 | (b[8] & 0x3f);
        CallId::from_bytes(b).expect("v7")
    }

    fn operator(&mut self) -> Operator {
        Operator::new(OPERATORS[self.rng.random_range(0..OPERATORS.len())]).expect("name")
    }

    /// A random operator action at node `i` (a start if `start`). Refusals are part of
    /// the game.
    fn act(&mut self, i: usize, start: bool) {
        let id = self.new_id(i);
        let operator = self.operator();
        let clock = self.nodes[i].clock(self.now);
        let Some(line) = self.nodes[i].line.as_mut() else { return };
        let live = line.live_call().map(|c| c.id);
        let any = line.calls().nth(self.rng.random_range(0..line.calls().count().max(1))).map(|c| c.id);
        let target = if self.rng.random_bool(0.9) { live.or(any) } else { any };
        let choice = if start { 0 } else { self.rng.random_range(0..10) };
        let _ = match (choice, target) {
            (0..=3, _) | (_, None) => line.start(clock, id, operator),
            (4..=5, Some(t)) => line.answer(clock, t, operator),
            (6, Some(t)) => line.decline(clock, t, operator),
            (_, Some(t)) => line.hangup(clock, t, operator),
        };
        self.drain(i);
    }

    fn cut(&mut self, blip: bool) {
        self.connected = false;
        let outage_ms = match (blip, self.rng.random_range(0..10)) {
            (true, _) => self.rng.random_range(100..5_000),
            (false, 0) => self.rng.random_range(100_000..600_000),
            (false, _) => self.rng.random_range(500..60_000),
        };
        self.reconnect_at = Some(self.now + outage_ms);
        if !blip {
            for i in 0..2 {
                self.nodes[i].notice_down_at = Some(self.now + self.rng.random_range(0..3_000));
            }
        }
    }

    fn notice_down(&mut self, i: usize) {
        let clock = self.nodes[i].clock(self.now);
        let node = &mut self.nodes[i];
        node.notice_down_at = None;
        if node.view_up {
            node.view_up = false;
            if let Some(line) = node.line.as_mut() {
                line.line_down(clock);
            }
            self.drain(i);
        }
    }

    fn restart(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.line = None;
        node.view_up = false;
        node.media.clear();
        node.restart_until = Some(self.now + self.rng.random_range(500..20_000));
        self.connected = false;
        self.reconnect_at = None;
        let peer = 1 - i;
        self.nodes[peer].notice_down_at = Some(self.now + self.rng.random_range(0..3_000));
    }

    fn boot(&mut self, i: usize) {
        let clock = self.nodes[i].clock(self.now);
        let node = &mut self.nodes[i];
        node.restart_until = None;
        let line = CallLine::restore(node.config(), clock, node.persisted()).expect("restore");
        node.line = Some(line);
        self.drain(i);
        self.reconnect_at = Some(self.now + self.rng.random_range(100..2_000));
    }

    /// The line is back: each end that noticed the cut (or whose old connection the
    /// reconnect closes) sees it down, then both see it up.
    fn reconnect(&mut self) {
        self.reconnect_at = None;
        if self.nodes.iter().any(|n| n.line.is_none()) {
            return;
        }
        let blip = self.nodes.iter().all(|n| n.view_up && n.notice_down_at.is_none());
        for i in 0..2 {
            if !blip {
                self.notice_down(i);
                let clock = self.nodes[i].clock(self.now);
                let node = &mut self.nodes[i];
                node.view_up = true;
                let line = node.line.as_mut().expect("booted");
                if line.calls().any(|c| c.phase == hotline_call::Phase::Answered) {
                    node.outlived_cuts += 1;
                }
                line.line_up(clock);
            }
        }
        self.connected = true;
    }

    fn chaos_action(&mut self) {
        self.next_chaos_at = self.now + self.rng.random_range(2_000..60_000);
        let calm = self.connected && self.reconnect_at.is_none() && self.nodes.iter().all(|n| n.line.is_some());
        if !calm {
            return;
        }
        match self.rng.random_range(0..10) {
            0..=1 => self.cut(true),
            2..=6 => self.cut(false),
            7 => self.restart(0),
            8 => self.restart(1),
            _ => self.latency_ms_max = self.rng.random_range(1..2_000),
        }
    }

    fn deliver(&mut self) {
        if !self.connected {
            return;
        }
        for from in 0..2 {
            let to = 1 - from;
            while self.queues[from].front().is_some_and(|(at, _)| *at <= self.now) {
                let (_, step) = self.queues[from].pop_front().expect("checked");
                let clock = self.nodes[to].clock(self.now);
                let line = self.nodes[to].line.as_mut().expect("connected stations are up");
                let result = line.handle_peer_bytes(clock, &step.encode());
                assert_eq!(result, Ok(()), "{} rejected an honest {step:?}", self.nodes[to].name);
                self.drain(to);
            }
        }
    }

    fn next_time(&self) -> u64 {
        let mut t = u64::MAX;
        let mut consider = |x: u64| t = t.min(x);
        if self.chaos {
            consider(self.next_action_at);
            consider(self.next_chaos_at);
        }
        if self.connected {
            self.queues.iter().filter_map(|q| q.front()).for_each(|(at, _)| consider(*at));
        }
        self.reconnect_at.into_iter().for_each(&mut consider);
        for node in &self.nodes {
            node.notice_down_at.into_iter().chain(node.restart_until).for_each(&mut consider);
            if let Some(due) = node.line.as_ref().and_then(CallLine::poll_timeout) {
                consider(due.saturating_add_signed(-node.offset_ms));
            }
        }
        t.max(self.now)
    }

    fn step(&mut self) -> bool {
        let t = self.next_time();
        if t == u64::MAX {
            return false;
        }
        self.now = t;
        if self.chaos && self.now >= T0 + CHAOS_MS {
            self.chaos = false;
        }
        for i in 0..2 {
            if self.nodes[i].restart_until.is_some_and(|at| at <= t) {
                self.boot(i);
            }
            if self.nodes[i].notice_down_at.is_some_and(|at| at <= t) {
                self.notice_down(i);
            }
        }
        if self.reconnect_at.is_some_and(|at| at <= t) {
            self.reconnect();
        }
        if !self.chaos && !self.connected && self.reconnect_at.is_none() && self.nodes.iter().all(|n| n.line.is_some())
        {
            self.reconnect_at = Some(t + 100);
        }
        self.deliver();
        for i in 0..2 {
            let clock = self.nodes[i].clock(t);
            if let Some(line) = self.nodes[i].line.as_mut()
                && line.poll_timeout().is_some_and(|due| due <= clock)
            {
                line.handle_timeout(clock);
                self.drain(i);
            }
        }
        if self.chaos && t >= self.next_chaos_at {
            self.chaos_action();
        }
        if self.chaos && t >= self.next_action_at {
            self.next_action_at = t + self.rng.random_range(0..8_000);
            if self.rng.random_bool(0.15) {
                self.act(0, true); // Glare: both start at the same instant.
                self.act(1, true);
            } else {
                let i = self.rng.random_range(0..2);
                self.act(i, false);
            }
        }
        true
    }
}
