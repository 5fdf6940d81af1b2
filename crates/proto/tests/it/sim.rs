//! Deterministic simulation of two `Line`s over a hostile network and crashing disks.
//!
//! Each seed builds two stations, `alpha` and `bravo`, joined by a simulated network that
//! drops, duplicates, delays and reorders frames, cuts connections cleanly, half-open or
//! silently, partitions the path, and crashes either station (losing every write still in
//! flight; the station comes back from what its disk holds). Items are accepted on both
//! sides on random lanes throughout. After the chaos phase the network heals and the run
//! must converge. Everything — time included — comes from the seed, so a failing seed
//! replays exactly:
//!
//! ```text
//! HOTLINE_SIM_SEED=1234 cargo test -p hotline-proto --test it sim -- --nocapture
//! ```
//!
//! Checked on every seed:
//! - a receipt never leaves a station for an item that is not on its disk, and a sender
//!   never reports `Delivered` for an item the receiver does not have on disk;
//! - every item written by a receiver is the next one in sequence on its lane and equals
//!   what the sender accepted (no duplicate, no gap, no reordering, no corruption);
//! - after healing, every accepted item is on the receiver's disk and receipted.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use hotline_proto::{Event, Frame, FrameDecoder, LANES, Lane, Line, LineConfig, Restored};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEEDS_DEFAULT: u64 = 10_000;
const CHAOS_MS: u64 = 30_000;
const CALM_MS_MAX: u64 = 120_000;
const ITEMS_PER_SIDE: usize = 30;

#[derive(Default)]
struct Disk {
    /// Accepted outgoing items per lane; index = seq - 1.
    outbound: [Vec<Vec<u8>>; LANES],
    /// Highest receipted outgoing seq per lane.
    receipted: [u64; LANES],
    /// Received items per lane, index = seq - 1.
    inbound: [Vec<Vec<u8>>; LANES],
}

enum Write {
    Inbound { lane: Lane, seq: u64, payload: Vec<u8> },
    Receipted { lane: Lane, seq: u64 },
}

struct Side {
    name: &'static str,
    line: Option<Line>,
    disk: Disk,
    /// The connection epoch this side's line is attached to.
    conn: Option<u64>,
    /// Writes in flight to disk, with the time they complete. Lost on a crash.
    writes: Vec<(Instant, Write)>,
    /// When the last write issued completes: the disk is one log, so writes finish in order.
    disk_busy_until: Instant,
    restart_at: Option<Instant>,
}

struct Packet {
    dest: usize,
    epoch: u64,
    bytes: Vec<u8>,
}

struct Sim {
    rng: ChaCha8Rng,
    start: Instant,
    now: Instant,
    config: LineConfig,
    sides: [Side; 2],
    network: BinaryHeap<Reverse<(Instant, u64)>>,
    packets: std::collections::HashMap<u64, Packet>,
    packet_counter: u64,
    epoch: u64,
    /// Epochs whose frames silently vanish (a cut with no reset).
    blackholed: Vec<u64>,
    partition_until: Option<Instant>,
    drop_percent: u32,
    dup_percent: u32,
    delay_ms_max: u64,
    chaos: bool,
    next_chaos_at: Instant,
    next_dial_at: Option<Instant>,
    pushes: Vec<(Instant, usize, Lane, Vec<u8>)>,
}

fn other(side: usize) -> usize {
    1 - side
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        #[allow(clippy::disallowed_methods)] // The one clock read: a base for virtual time.
        let start = Instant::now();
        let config = LineConfig {
            window_items_max: rng.random_range(1..=16),
            pending_durable_items_max: rng.random_range(1..=8),
            ..LineConfig::default()
        };
        let mut pushes = Vec::new();
        for side in 0..2 {
            for n in 0..ITEMS_PER_SIDE {
                let at = start + Duration::from_millis(rng.random_range(0..CHAOS_MS));
                let lane = Lane::ALL[rng.random_range(0..LANES)];
                pushes.push((at, side, lane, format!("{side}-{n}-{}", rng.random::<u32>()).into_bytes()));
            }
        }
        pushes.sort_by_key(|p| Reverse(p.0));
        let side = |name| Side {
            name,
            line: None,
            disk: Disk::default(),
            conn: None,
            writes: Vec::new(),
            disk_busy_until: start,
            restart_at: None,
        };
        let mut sim = Sim {
            drop_percent: rng.random_range(0..10),
            dup_percent: rng.random_range(0..5),
            delay_ms_max: rng.random_range(1..200),
            next_chaos_at: start + Duration::from_millis(rng.random_range(100..3000)),
            rng,
            start,
            now: start,
            config,
            sides: [side("alpha"), side("bravo")],
            network: BinaryHeap::new(),
            packets: Default::default(),
            packet_counter: 0,
            epoch: 0,
            blackholed: Vec::new(),
            partition_until: None,
            chaos: true,
            next_dial_at: None,
            pushes,
        };
        for i in 0..2 {
            sim.boot(i);
        }
        sim
    }

    fn boot(&mut self, i: usize) {
        let peer = self.sides[other(i)].name;
        let side = &mut self.sides[i];
        let mut restored = Restored::default();
        for lane in Lane::ALL {
            let l = lane.index();
            restored.receipted[l] = side.disk.receipted[l];
            restored.pushed_last[l] = side.disk.outbound[l].len() as u64;
            restored.durable_next[l] = side.disk.inbound[l].len() as u64 + 1;
            for (n, payload) in side.disk.outbound[l].iter().enumerate().skip(side.disk.receipted[l] as usize) {
                restored.outbound.push((lane, n as u64 + 1, payload.clone()));
            }
        }
        side.line = Some(Line::new(self.config.clone(), side.name, peer, self.now, restored));
        side.conn = None;
        side.restart_at = None;
    }

    fn crash(&mut self, i: usize) {
        let side = &mut self.sides[i];
        if side.line.is_none() {
            return;
        }
        side.line = None;
        side.conn = None;
        side.writes.clear();
        side.restart_at = Some(self.now + Duration::from_millis(self.rng.random_range(10..5000)));
        // The peer's socket sees a reset at some point, or never (power cut).
        if self.rng.random_bool(0.5) {
            self.disconnect(other(i));
        }
    }

    fn disconnect(&mut self, i: usize) {
        let now = self.now;
        let side = &mut self.sides[i];
        if let Some(line) = side.line.as_mut() {
            line.disconnect(now);
        }
        side.conn = None;
    }

    fn dial(&mut self) {
        self.next_dial_at = None;
        if self.sides.iter().any(|s| s.line.is_none()) || self.partition_until.is_some() {
            return;
        }
        self.epoch += 1;
        let now = self.now;
        for side in &mut self.sides {
            let line = side.line.as_mut().expect("alive");
            line.disconnect(now);
            line.connect(now);
            side.conn = Some(self.epoch);
        }
    }

    fn chaos_action(&mut self) {
        self.next_chaos_at = self.now + Duration::from_millis(self.rng.random_range(100..4000));
        match self.rng.random_range(0..9) {
            0 => self.crash(0),
            1 => self.crash(1),
            2 => {
                // Clean cut: both sockets see the reset.
                self.disconnect(0);
                self.disconnect(1);
            }
            3 => {
                // Half-open: only one end notices.
                let i = self.rng.random_range(0..2);
                self.disconnect(i);
            }
            4 => self.blackholed.push(self.epoch),
            5 => {
                self.partition_until = Some(self.now + Duration::from_millis(self.rng.random_range(500..8000)));
                self.blackholed.push(self.epoch);
            }
            6 => self.drop_percent = self.rng.random_range(0..40),
            7 => self.dup_percent = self.rng.random_range(0..20),
            _ => self.delay_ms_max = self.rng.random_range(1..500),
        }
    }

    fn heal(&mut self) {
        self.chaos = false;
        self.drop_percent = 0;
        self.dup_percent = 0;
        self.delay_ms_max = 20;
        self.partition_until = None;
        for i in 0..2 {
            if self.sides[i].line.is_none() {
                self.boot(i);
            }
        }
    }

    fn send(&mut self, from: usize, bytes: Vec<u8>) {
        let Some(epoch) = self.sides[from].conn else {
            return;
        };
        let copies = if self.rng.random_range(0..100) < self.dup_percent { 2 } else { 1 };
        for _ in 0..copies {
            if self.rng.random_range(0..100) < self.drop_percent {
                continue;
            }
            let delay = Duration::from_micros(self.rng.random_range(100..self.delay_ms_max * 1000 + 200));
            self.packet_counter += 1;
            self.network.push(Reverse((self.now + delay, self.packet_counter)));
            self.packets.insert(self.packet_counter, Packet { dest: other(from), epoch, bytes: bytes.clone() });
        }
    }

    /// Runs a side's outputs dry, checking the receipt invariant on every frame sent.
    fn drain(&mut self, i: usize) {
        loop {
            let now = self.now;
            let Some(line) = self.sides[i].line.as_mut() else {
                return;
            };
            let mut bytes = Vec::new();
            if line.poll_transmit(now, &mut bytes) {
                let mut decoder = FrameDecoder::default();
                decoder.extend(&bytes);
                if let Ok(Some(Frame::Receipt { lane, seq })) = decoder.next_frame() {
                    let on_disk = self.sides[i].disk.inbound[lane.index()].len() as u64;
                    assert!(
                        seq <= on_disk,
                        "{} sent a receipt for {lane:?}#{seq} with only {on_disk} on disk",
                        self.sides[i].name
                    );
                }
                self.send(i, bytes);
                continue;
            }
            let Some(event) = line.poll_event() else {
                return;
            };
            match event {
                Event::Received { lane, seq, payload } => {
                    let done = self.write_done_at(i);
                    self.sides[i].writes.push((done, Write::Inbound { lane, seq, payload }));
                }
                Event::Delivered { lane, seq } => {
                    let peer_disk = self.sides[other(i)].disk.inbound[lane.index()].len() as u64;
                    assert!(
                        seq <= peer_disk,
                        "{} reports {lane:?}#{seq} delivered, peer has {peer_disk}",
                        self.sides[i].name
                    );
                    let done = self.write_done_at(i);
                    self.sides[i].writes.push((done, Write::Receipted { lane, seq }));
                }
                Event::Closed { .. } => {
                    // Flush the Close frame, then the socket is gone.
                    while let Some(line) = self.sides[i].line.as_mut() {
                        let mut bytes = Vec::new();
                        if !line.poll_transmit(now, &mut bytes) {
                            break;
                        }
                        self.send(i, bytes);
                    }
                    self.sides[i].conn = None;
                }
                Event::StateChanged { .. } | Event::Sent { .. } | Event::Rtt { .. } => {}
            }
        }
    }

    fn write_done_at(&mut self, i: usize) -> Instant {
        let fsync = Duration::from_micros(self.rng.random_range(50..5000));
        let side = &mut self.sides[i];
        side.disk_busy_until = side.disk_busy_until.max(self.now) + fsync;
        side.disk_busy_until
    }

    fn complete_write(&mut self, i: usize, write: Write) {
        let peer = other(i);
        let side = &mut self.sides[i];
        match write {
            Write::Inbound { lane, seq, payload } => {
                let l = lane.index();
                assert_eq!(seq, side.disk.inbound[l].len() as u64 + 1, "{}: {lane:?}#{seq} out of sequence", side.name);
                let sent = &self.sides[peer].disk.outbound[l];
                assert_eq!(Some(&payload), sent.get(seq as usize - 1), "{lane:?}#{seq} differs from what was sent");
                let side = &mut self.sides[i];
                side.disk.inbound[l].push(payload);
                side.line.as_mut().expect("alive").mark_durable(lane, seq);
            }
            Write::Receipted { lane, seq } => {
                let r = &mut side.disk.receipted[lane.index()];
                *r = (*r).max(seq);
            }
        }
    }

    fn converged(&self) -> bool {
        (0..2).all(|i| {
            let (s, p) = (&self.sides[i], &self.sides[other(i)]);
            (0..LANES).all(|l| {
                let n = s.disk.outbound[l].len();
                p.disk.inbound[l].len() == n && s.disk.receipted[l] == n as u64
            })
        })
    }

    /// The earliest moment anything is due.
    fn next_time(&self) -> Instant {
        let mut t = self.now + Duration::from_secs(1);
        let mut consider = |x: Instant| t = t.min(x);
        if let Some(Reverse((at, _))) = self.network.peek() {
            consider(*at);
        }
        for side in &self.sides {
            if let Some(line) = &side.line
                && let Some(at) = line.poll_timeout()
            {
                consider(at);
            }
            side.writes.iter().for_each(|(at, _)| consider(*at));
            if let Some(at) = side.restart_at {
                consider(at);
            }
        }
        if self.chaos {
            consider(self.next_chaos_at);
        }
        if let Some(at) = self.next_dial_at {
            consider(at);
        }
        if let Some(at) = self.partition_until {
            consider(at);
        }
        if let Some((at, ..)) = self.pushes.last() {
            consider(*at);
        }
        t.max(self.now)
    }

    fn step(&mut self) {
        self.now = self.next_time();
        let now = self.now;
        if self.chaos && now >= self.start + Duration::from_millis(CHAOS_MS) {
            self.heal();
        }
        if self.chaos && now >= self.next_chaos_at {
            self.chaos_action();
        }
        if self.partition_until.is_some_and(|t| now >= t) {
            self.partition_until = None;
        }
        for i in 0..2 {
            if self.sides[i].restart_at.is_some_and(|t| now >= t) {
                self.boot(i);
            }
        }
        while self.pushes.last().is_some_and(|p| p.0 <= now) {
            let (_, i, lane, payload) = self.pushes.pop().expect("checked");
            let side = &mut self.sides[i];
            // A crashed station accepts nothing; the operator retries later.
            if let Some(line) = side.line.as_mut() {
                side.disk.outbound[lane.index()].push(payload.clone());
                line.push(lane, side.disk.outbound[lane.index()].len() as u64, payload);
            } else {
                self.pushes.insert(0, (now + Duration::from_millis(100), i, lane, payload));
                self.pushes.sort_by_key(|p| Reverse(p.0));
            }
        }
        while self.network.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            let Reverse((_, id)) = self.network.pop().expect("checked");
            let packet = self.packets.remove(&id).expect("packet body");
            let lost = self.blackholed.contains(&packet.epoch) || self.partition_until.is_some();
            let dest = &mut self.sides[packet.dest];
            if lost || dest.conn != Some(packet.epoch) {
                continue;
            }
            if let Some(line) = dest.line.as_mut() {
                // Protocol errors close the connection; the Closed event handles the rest.
                let _ = line.handle_input(now, &packet.bytes);
            }
        }
        for i in 0..2 {
            let mut due = Vec::new();
            let writes = std::mem::take(&mut self.sides[i].writes);
            let (ready, later): (Vec<_>, Vec<_>) = writes.into_iter().partition(|(at, _)| *at <= now);
            self.sides[i].writes = later;
            due.extend(ready);
            // Writes complete in the order they were issued, as with one log file.
            for (_, write) in due {
                self.complete_write(i, write);
            }
            if let Some(line) = self.sides[i].line.as_mut()
                && line.poll_timeout().is_some_and(|t| t <= now)
            {
                line.handle_timeout(now);
            }
        }
        for i in 0..2 {
            self.drain(i);
        }
        let someone_unconnected = self.sides.iter().any(|s| s.line.is_some() && s.conn.is_none());
        if someone_unconnected && self.next_dial_at.is_none() {
            self.next_dial_at = Some(now + Duration::from_millis(self.rng.random_range(20..600)));
        }
        if self.next_dial_at.is_some_and(|t| now >= t) {
            self.dial();
            for i in 0..2 {
                self.drain(i);
            }
        }
    }
}

fn run_seed(seed: u64) {
    let mut sim = Sim::new(seed);
    let end = sim.start + Duration::from_millis(CHAOS_MS + CALM_MS_MAX);
    while sim.now < end {
        sim.step();
        if !sim.chaos && sim.pushes.is_empty() && sim.converged() {
            return;
        }
    }
    let lanes: Vec<String> = (0..2)
        .map(|i| {
            let (s, p) = (&sim.sides[i], &sim.sides[other(i)]);
            format!(
                "{}: sent {:?} receipted {:?}, peer has {:?}",
                s.name,
                s.disk.outbound.iter().map(Vec::len).collect::<Vec<_>>(),
                s.disk.receipted,
                p.disk.inbound.iter().map(Vec::len).collect::<Vec<_>>()
            )
        })
        .collect();
    if std::env::var("HOTLINE_SIM_DEBUG").is_ok() {
        for s in &sim.sides {
            eprintln!("{}: conn {:?} line {:#?}", s.name, s.conn, s.line);
        }
        eprintln!(
            "epoch {} blackholed {:?} dial {:?}",
            sim.epoch,
            sim.blackholed,
            sim.next_dial_at.map(|t| t - sim.start)
        );
    }
    panic!("did not converge {} s after healing: {}", CALM_MS_MAX / 1000, lanes.join("; "));
}

fn check_seed(seed: u64) -> Result<(), String> {
    std::panic::catch_unwind(|| run_seed(seed)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("seed {seed} failed: {msg}\nreplay: HOTLINE_SIM_SEED={seed} cargo test -p hotline-proto --test it sim")
    })
}

#[test]
fn every_accepted_item_is_delivered_exactly_once_in_order() {
    if let Ok(seed) = std::env::var("HOTLINE_SIM_SEED") {
        let seed: u64 = seed.parse().expect("HOTLINE_SIM_SEED must be a number");
        if let Err(e) = check_seed(seed) {
            panic!("{e}");
        }
        return;
    }
    let seeds: u64 = std::env::var("HOTLINE_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(SEEDS_DEFAULT);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (0..seeds).filter(|s| s % threads == t).filter_map(|s| check_seed(s).err()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("sim thread")).collect()
    });
    println!("simulation: {seeds} seeds, {} failed", failures.len());
    assert!(failures.is_empty(), "{} of {seeds} seeds failed; first:\n{}", failures.len(), failures[0]);
}
