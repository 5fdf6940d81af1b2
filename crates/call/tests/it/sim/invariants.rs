//! What the simulation checks, after every step and once the run has settled, and the
//! test that runs the seeds (with the replay command of any that fails).

use hotline_call::{Call, CallId, CallLine, CallState, Final, Phase, Reason, RecordKind};

use super::{CALM_MS_MAX, SEEDS_DEFAULT, Sim, T0};

/// Finals that say the call never connected.
fn never_connected(call: &Call) -> bool {
    call.ending().is_some_and(|e| e.state != Final::Ended)
}

impl Sim {
    fn line(&self, i: usize) -> Option<&CallLine> {
        self.nodes[i].line.as_ref()
    }

    /// The invariants that hold at every instant.
    fn check_always(&self) {
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(line) = self.line(i) else { continue };
            let live = line.calls().filter(|c| c.is_live()).count();
            assert!(live <= 1, "{}: {live} live calls", node.name);
            let answered: Vec<CallId> = line.calls().filter(|c| c.phase == Phase::Answered).map(|c| c.id).collect();
            let media: Vec<CallId> = node.media.iter().copied().collect();
            assert_eq!(media, answered, "{}: media runs for exactly the answered calls", node.name);
        }
        // The latest calls of each end against the other end (all of them are compared
        // once the run settles; here the recent ones keep every step cheap).
        for i in 0..2 {
            let (Some(here), Some(there)) = (self.line(i), self.line(1 - i)) else { continue };
            for call in here.calls().rev().take(4) {
                let Some(other) = there.call(call.id) else { continue };
                assert!(
                    !(never_connected(call) && other.answered_ms.is_some()),
                    "call {}: {} at {}, answered at {}",
                    call.id,
                    call.state().as_str(),
                    self.nodes[i].name,
                    self.nodes[1 - i].name
                );
            }
        }
    }

    fn settled(&self) -> bool {
        !self.chaos
            && self.connected
            && self.queues.iter().all(|q| q.is_empty())
            && (0..2).all(|i| self.line(i).is_some_and(|l| l.is_up() && l.poll_timeout().is_none()))
    }

    /// Once quiescent, both ends agree on every call.
    fn check_settled(&self) {
        let (Some(alpha), Some(bravo)) = (self.line(0), self.line(1)) else { unreachable!("settled") };
        let ids = |line: &CallLine| line.calls().map(|c| c.id).collect::<std::collections::BTreeSet<_>>();
        assert_eq!(ids(alpha), ids(bravo), "both stations know the same calls");
        for a in alpha.calls() {
            let b = bravo.call(a.id).expect("same ids");
            let both = format!("call {}: alpha {a:?}\nbravo {b:?}", a.id);
            assert_eq!(a.state(), b.state(), "{both}");
            assert_ne!(a.state(), CallState::Superseded, "a superseded call is settled by its caller: {both}");
            assert_eq!(a.answered_by, b.answered_by, "{both}");
            if never_connected(a) {
                let (ea, eb) = (a.ending().expect("ended"), b.ending().expect("ended"));
                assert_eq!((ea.by, &ea.operator, ea.reason), (eb.by, &eb.operator, eb.reason), "{both}");
            }
            for call in [a, b] {
                assert_ne!(
                    call.ending().map(|e| e.reason),
                    Some(Reason::NoVerdict),
                    "an honest caller answers: {both}"
                );
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            let peer = &self.nodes[1 - i];
            for started in node.records.iter().filter(|e| e.kind == RecordKind::Started) {
                assert!(
                    peer.records.iter().any(|e| e.call_id == started.call_id),
                    "{} started {} and {} has no record of it",
                    node.name,
                    started.call_id,
                    peer.name
                );
            }
        }
    }
}

/// How often each kind of record entry (with its reason) was written, over both stations:
/// proof that the seeds reach the races they are meant to.
type Coverage = std::collections::BTreeMap<String, u64>;

fn coverage(sim: &Sim) -> Coverage {
    let mut counts = Coverage::new();
    for node in &sim.nodes {
        for e in &node.records {
            let reason = e.reason.map(|r| format!(" ({})", r.as_str())).unwrap_or_default();
            *counts.entry(format!("{}{reason}", e.kind.as_str())).or_default() += 1;
        }
        *counts.entry("an answered call outlived a cut".to_owned()).or_default() += node.outlived_cuts;
    }
    counts
}

fn run_seed(seed: u64) -> Coverage {
    let mut sim = Sim::new(seed);
    let end = T0 + super::CHAOS_MS + CALM_MS_MAX;
    while sim.now < end {
        if !sim.step() {
            break;
        }
        sim.check_always();
        if sim.settled() {
            sim.check_settled();
            return coverage(&sim);
        }
    }
    panic!("did not settle within {} s after the chaos", CALM_MS_MAX / 1000);
}

fn check_seed(seed: u64) -> Result<Coverage, String> {
    std::panic::catch_unwind(|| run_seed(seed)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("seed {seed} failed: {msg}\nreplay: HOTLINE_CALL_SEED={seed} cargo test -p hotline-call --test it sim")
    })
}

#[test]
fn both_stations_agree_on_every_call_whatever_the_line_and_the_operators_do() {
    if let Ok(seed) = std::env::var("HOTLINE_CALL_SEED") {
        let seed: u64 = seed.parse().expect("HOTLINE_CALL_SEED must be a number");
        match check_seed(seed) {
            Ok(counts) => println!("seed {seed}: {counts:#?}"),
            Err(e) => panic!("{e}"),
        }
        return;
    }
    let seeds: u64 = std::env::var("HOTLINE_CALL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(SEEDS_DEFAULT);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    #[allow(clippy::disallowed_methods)] // Only to report how long the seeds took.
    let started = std::time::Instant::now();
    let results: Vec<Result<Coverage, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || (0..seeds).filter(|s| s % threads == t).map(check_seed).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("sim thread")).collect()
    });
    let mut total = Coverage::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(counts) => counts.into_iter().for_each(|(k, n)| *total.entry(k).or_default() += n),
            Err(e) => failures.push(e),
        }
    }
    println!("call simulation: {seeds} seeds in {:.1} s, {} failed", started.elapsed().as_secs_f64(), failures.len());
    println!("{total:#?}");
    assert!(failures.is_empty(), "{} of {seeds} seeds failed; first:\n{}", failures.len(), failures[0]);
    if seeds >= 1_000 {
        for reached in [
            "call.answered",
            "call.declined (operator)",
            "call.missed (timeout)",
            "call.cancelled (operator)",
            "call.cancelled (glare)",
            "call.superseded (glare)",
            "call.stale (stale)",
            "call.failed (line_lost)",
            "call.failed (restarted)",
            "call.ended (operator)",
            "call.ended (line_lost)",
            "call.ended (restarted)",
            "call.refused (line_down)",
            "call.refused (call_in_progress)",
            "an answered call outlived a cut",
        ] {
            assert!(total.get(reached).is_some_and(|n| *n > 0), "no seed reached {reached}: {total:#?}");
        }
    }
}
