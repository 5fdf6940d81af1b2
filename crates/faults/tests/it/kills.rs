//! SIGKILL of either station at 50 random instants (seeded) while both send, each time
//! restarted at once. Nothing accepted is lost or duplicated, and the records verify.
//!
//! Runs on two hosts in namespaces when it can, else on loopback.

use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

use crate::lossy::seed;
use crate::netns::Net;
use crate::topology::{loopback_pair, net_pair};
use crate::traffic::{Sender, finish};

/// How many SIGKILLs (`HOTLINE_SOAK=1`: ten times as many).
fn kills() -> u32 {
    if std::env::var_os("HOTLINE_SOAK").is_some_and(|v| v != "0") { 500 } else { 50 }
}

#[test]
fn fifty_sigkills_of_either_station_lose_and_duplicate_nothing() {
    let net = Net::create_or_explain("kills", "running it on loopback");
    let seed = seed("kills");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = match &net {
        Some(net) => net_pair(base.path(), net, None),
        None => loopback_pair(base.path()),
    };
    let topology = if net.is_some() { "netns" } else { "loopback" };
    alpha.start().expect("station starts");
    bravo.start().expect("station starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line never came up:\n{}", alpha.log_tail(30));
    let ab = Sender::start(alpha.client(), "alpha", "bravo", "kills", Duration::from_millis(50));
    let ba = Sender::start(bravo.client(), "bravo", "alpha", "kills", Duration::from_millis(50));
    let started = Instant::now();
    let (mut killed_alpha, mut killed_bravo) = (0, 0);
    for _ in 0..kills() {
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        let victim = if rng.random_bool(0.5) {
            killed_alpha += 1;
            &mut alpha
        } else {
            killed_bravo += 1;
            &mut bravo
        };
        victim.kill9();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
        victim.start().expect("station starts");
    }
    let elapsed = started.elapsed().as_secs();
    std::thread::sleep(Duration::from_secs(2));
    let (sent_ab, sent_ba) = (ab.finish(), ba.finish());
    let extra = format!(
        "topology={topology} kills={} kills_alpha={killed_alpha} kills_bravo={killed_bravo} seconds={elapsed} seed={seed}",
        killed_alpha + killed_bravo
    );
    finish("kills", base.path(), &mut alpha, &mut bravo, &sent_ab, &sent_ba, &extra);
    drop(net);
}
