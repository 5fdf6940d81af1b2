//! A bad minute: 30 % packet loss on both paths (nftables `numgen random`), every byte
//! held 200 ms ± 100 ms by relays on both hosts, and now and then a relay stalls for a few
//! seconds or resets its connections — while both stations send steadily. On loopback
//! (no namespaces) the same relays run without the packet loss.
//!
//! `HOTLINE_SOAK=1` makes the minute ten; `HOTLINE_FAULT_SEED=N` replays a run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use crate::netns::{BACKUP, Net, PRIMARY};
use crate::relay::Relay;
use crate::station::{NS_LINE_PORT, Station, station};
use crate::traffic::{Sender, finish};

/// Port of the relays on each host's path addresses.
const RELAY_PORT: u16 = 9471;

/// The run's seed: `HOTLINE_FAULT_SEED` if set, else from the clock. Always printed.
pub fn seed(scenario: &str) -> u64 {
    let seed = std::env::var("HOTLINE_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
    });
    println!("FAULTS {scenario}: seed {seed} (replay with HOTLINE_FAULT_SEED={seed})");
    seed
}

/// How long the steady-traffic scenarios run: a minute in CI, ten with `HOTLINE_SOAK=1`.
pub fn steady_duration() -> Duration {
    if std::env::var_os("HOTLINE_SOAK").is_some_and(|v| v != "0") {
        Duration::from_secs(600)
    } else {
        Duration::from_secs(60)
    }
}

/// Runs traffic for `duration` while stalling or resetting a random relay every 10–20 s.
fn misbehave(relays: &[Relay], duration: Duration, rng: &mut ChaCha8Rng) -> (u32, u32) {
    let (mut stalls, mut resets) = (0, 0);
    let end = Instant::now() + duration;
    loop {
        let pause = Duration::from_millis(rng.random_range(10_000..20_000));
        if Instant::now() + pause >= end {
            std::thread::sleep(end.saturating_duration_since(Instant::now()));
            return (stalls, resets);
        }
        std::thread::sleep(pause);
        // Hit a relay that carries the line, if one does (idle relays make no fault).
        let busy: Vec<&Relay> = relays.iter().filter(|r| r.active() > 0).collect();
        let relay = if busy.is_empty() {
            &relays[rng.random_range(0..relays.len())]
        } else {
            busy[rng.random_range(0..busy.len())]
        };
        if rng.random_bool(0.5) {
            let hold = Duration::from_millis(rng.random_range(1000..4000));
            relay.stall(true);
            std::thread::sleep(hold);
            relay.stall(false);
            stalls += 1;
        } else {
            relay.reset_all();
            resets += 1;
        }
    }
}

fn run(
    label: &str,
    base: &std::path::Path,
    (mut alpha, mut bravo): (Station, Station),
    relays: Vec<Relay>,
    net: Option<&Net>,
    seed: u64,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    alpha.start().expect("station starts");
    bravo.start().expect("station starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(60)), "line never came up:\n{}", alpha.log_tail(30));
    let ab = Sender::start(alpha.client(), "alpha", "bravo", label, Duration::from_millis(200));
    let ba = Sender::start(bravo.client(), "bravo", "alpha", label, Duration::from_millis(200));
    let duration = steady_duration();
    let (stalls, resets) = misbehave(&relays, duration, &mut rng);
    let (sent_ab, sent_ba) = (ab.finish(), ba.finish());
    let connections: u64 = relays.iter().map(Relay::connections).sum();
    let line_ups = alpha.log_text().matches("line up").count();
    let dropped = net.map_or(String::new(), |n| format!(" loss_percent=30 packets_dropped={}", n.packets_dropped()));
    let extra = format!(
        "duration_s={} relay_delay_ms=100..300 stalls={stalls} resets={resets} relay_connections={connections} alpha_line_ups={line_ups}{dropped} seed={seed}",
        duration.as_secs()
    );
    finish(label, base, &mut alpha, &mut bravo, &sent_ab, &sent_ba, &extra);
    drop(relays);
}

#[test]
fn thirty_percent_loss_and_relay_delay_on_both_paths_for_a_minute() {
    let Some(net) = Net::create_or_explain("loss", "running the relay delay, stalls and resets on loopback") else {
        return relay_faults_on_loopback();
    };
    let seed = seed("loss");
    let base = tempfile::tempdir().expect("tempdir");
    let alpha = station(base.path(), "alpha", Some(&net.a));
    let bravo = station(base.path(), "bravo", Some(&net.b));
    let via = |host: &str| format!("{host}:{RELAY_PORT}");
    alpha.add_line("bravo", &bravo.key, &[via(PRIMARY.1), via(BACKUP.1)]).expect("line add");
    bravo.add_line("alpha", &alpha.key, &[via(PRIMARY.0), via(BACKUP.0)]).expect("line add");
    // Each host's relays listen on its path addresses and hand bytes to its own station.
    let station: SocketAddr = format!("127.0.0.1:{NS_LINE_PORT}").parse().expect("addr");
    let mut relays = Vec::new();
    for (i, (ns, host)) in
        [(&net.a, PRIMARY.0), (&net.a, BACKUP.0), (&net.b, PRIMARY.1), (&net.b, BACKUP.1)].into_iter().enumerate()
    {
        let listen: SocketAddr = via(host).parse().expect("addr");
        relays.push(Relay::start(Some(ns), listen, station, (100, 300), seed ^ i as u64));
    }
    net.lose(30);
    run("loss", base.path(), (alpha, bravo), relays, Some(&net), seed);
    drop(net);
}

/// Without namespaces: the relays' delay, stalls and resets on loopback, no packet loss.
fn relay_faults_on_loopback() {
    let seed = seed("relay_loopback");
    let base = tempfile::tempdir().expect("tempdir");
    let alpha = station(base.path(), "alpha", None);
    let bravo = station(base.path(), "bravo", None);
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let to = |port: u16| format!("127.0.0.1:{port}").parse().expect("addr");
    let to_bravo = Relay::start(None, any, to(bravo.line_port), (100, 300), seed);
    let to_alpha = Relay::start(None, any, to(alpha.line_port), (100, 300), seed ^ 1);
    alpha.add_line("bravo", &bravo.key, &[to_bravo.addr.to_string()]).expect("line add");
    bravo.add_line("alpha", &alpha.key, &[to_alpha.addr.to_string()]).expect("line add");
    run("relay_loopback", base.path(), (alpha, bravo), vec![to_bravo, to_alpha], None, seed);
}
