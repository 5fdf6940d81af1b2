//! One call end to end on loopback: browser A → alpha's leg → alpha's relay → QUIC →
//! bravo's relay → bravo's leg → browser B, and back; with the recorder taps and the
//! latency each station adds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hotline_call::{CallId, Side};
use hotline_identity::StationKey;
use hotline_media::driver::run_call;
use hotline_media::{BrowserLeg, CallRoutes, Limits, PeerEndpoint, Relay};
use hotline_recording::Direction;

use crate::browser_sim::{BrowserSim, Report, payload};
use crate::link::{call_id, connect};

/// Ten seconds of audio each way would be 500; 200 keeps the suite quick.
const PACKETS: u16 = 200;

type Tapped = Arc<Mutex<Vec<(Direction, u32, usize, Instant)>>>;

struct Station {
    socket: tokio::net::UdpSocket,
    browser: BrowserSim,
    leg: BrowserLeg,
}

async fn station_with_browser() -> Station {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let local = socket.local_addr().expect("address");
    let mut browser = BrowserSim::new();
    let (leg, answer) =
        BrowserLeg::accept_offer(&browser.offer, local, Instant::now(), Limits::default()).expect("offer accepted");
    browser.accept_answer(&answer);
    Station { socket, browser, leg }
}

fn relay(call: CallId, side: Side, leg: BrowserLeg, tapped: Tapped) -> Relay<impl hotline_media::Tap> {
    let tap = move |direction: Direction, now: Instant, ts: u32, bytes: &[u8]| {
        tapped.lock().expect("tap lock").push((direction, ts, bytes.len(), now));
    };
    let mut relay = Relay::new(call, side, tap, Limits::default(), Instant::now());
    relay.join(leg);
    relay
}

/// Every packet `from` sent reached `to` intact and in order; returns the one-way delays.
fn delays(from: &Report, to: &Report, tag: u8) -> Vec<Duration> {
    assert_eq!(to.received.len(), from.sent.len(), "every packet crossed");
    from.sent
        .iter()
        .zip(&to.received)
        .map(|(sent, received)| {
            assert_eq!((sent.ts, sent.seq), (received.ts, received.seq), "in order");
            assert_eq!(received.payload, payload(tag, sent.seq), "intact");
            received.at - sent.at
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[test]
fn browser_to_browser_through_two_stations() {
    let _alone = crate::heavy();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(one_call_both_ways());
}

async fn one_call_both_ways() {
    let alpha_key = StationKey::generate("alpha").expect("key");
    let bravo_key = StationKey::generate("bravo").expect("key");
    let loopback = "127.0.0.1:0".parse().expect("address");
    let alpha = PeerEndpoint::bind(&alpha_key, vec![bravo_key.verifier()], loopback, CallRoutes::new()).expect("alpha");
    let bravo = PeerEndpoint::bind(&bravo_key, vec![alpha_key.verifier()], loopback, CallRoutes::new()).expect("bravo");
    let (alpha_link, bravo_link) = connect(&alpha, &bravo, &bravo_key).await;
    let call = call_id(5);
    assert!(alpha.routes().open(call, &bravo_key.verifier(), Side::Caller));
    assert!(bravo.routes().open(call, &alpha_key.verifier(), Side::Callee));

    let at_alpha = station_with_browser().await;
    let at_bravo = station_with_browser().await;
    let (alpha_tapped, bravo_tapped) = (Tapped::default(), Tapped::default());
    let alpha_relay = relay(call, Side::Caller, at_alpha.leg, alpha_tapped.clone());
    let bravo_relay = relay(call, Side::Callee, at_bravo.leg, bravo_tapped.clone());
    let (stop_alpha, alpha_stop) = tokio::sync::oneshot::channel();
    let (stop_bravo, bravo_stop) = tokio::sync::oneshot::channel();
    let alpha_task = tokio::spawn(run_call(at_alpha.socket, alpha_link, alpha_relay, alpha_stop));
    let bravo_task = tokio::spawn(run_call(at_bravo.socket, bravo_link, bravo_relay, bravo_stop));

    let stop = Arc::new(AtomicBool::new(false));
    let browser_a = at_alpha.browser.spawn(0xa1, PACKETS, 1_000, stop.clone());
    let browser_b = at_bravo.browser.spawn(0xb2, PACKETS, 40_000, stop.clone());
    // Connection, the packets at 20 ms, and time for the last ones to cross.
    tokio::time::sleep(Duration::from_millis(u64::from(PACKETS) * 20 + 1_500)).await;
    stop.store(true, Ordering::Relaxed);
    let report_a = tokio::task::spawn_blocking(move || browser_a.join().expect("browser A")).await.expect("join");
    let report_b = tokio::task::spawn_blocking(move || browser_b.join().expect("browser B")).await.expect("join");
    let _ = (stop_alpha.send(()), stop_bravo.send(()));
    // Whichever station stops first closes the QUIC connection; the other sees it lost.
    let (alpha_relay, _) = alpha_task.await.expect("alpha task").expect("alpha ran");
    let (bravo_relay, _) = bravo_task.await.expect("bravo task").expect("bravo ran");

    let mut one_way = delays(&report_a, &report_b, 0xa1);
    one_way.extend(delays(&report_b, &report_a, 0xb2));
    one_way.sort();
    let (p50, p99) = (percentile(&one_way, 0.50), percentile(&one_way, 0.99));
    // Browser to browser crosses two stations; the browsers' own str0m, the SRTP at both
    // ends and three loopback hops are included, so half is an upper bound per station.
    eprintln!(
        "browser→browser one way over {} packets: p50 {p50:?} p99 {p99:?}; per station at most p50 {:?} p99 {:?}",
        one_way.len(),
        p50 / 2,
        p99 / 2
    );
    // Not asserted: the simulated browsers' threads share two cores with everything
    // else; the station-to-station figure below is the one the goal is about.

    for (relay, tapped) in [(&alpha_relay, &alpha_tapped), (&bravo_relay, &bravo_tapped)] {
        let counts = relay.counts();
        assert_eq!(counts.ours.packets, u64::from(PACKETS), "{counts:?}");
        assert_eq!(counts.theirs.packets, u64::from(PACKETS), "{counts:?}");
        assert_eq!((counts.ours.lost, counts.theirs.lost, counts.theirs.late), (0, 0, 0), "{counts:?}");
        let tapped = tapped.lock().expect("tap lock");
        let ours = tapped.iter().filter(|(d, ..)| *d == Direction::Ours).count();
        let theirs = tapped.iter().filter(|(d, ..)| *d == Direction::Theirs).count();
        assert_eq!((ours, theirs), (usize::from(PACKETS), usize::from(PACKETS)), "the recorder saw both ways");
    }
    // alpha's recorder heard browser A as ours, with A's timestamps.
    let first_ours = alpha_tapped.lock().expect("tap lock").iter().find(|(d, ..)| *d == Direction::Ours).copied();
    assert_eq!(
        first_ours.map(|(_, ts, len, _)| (ts, len)),
        Some((report_a.sent[0].ts, report_a.sent[0].payload.len()))
    );

    // Station to station: from the packet's arrival at one station's browser socket to
    // its hand-over to the other station's browser leg (both taps), over the QUIC path.
    let mut crossing = tap_delays(&alpha_tapped, &bravo_tapped);
    crossing.extend(tap_delays(&bravo_tapped, &alpha_tapped));
    crossing.sort();
    let (p50, p99) = (percentile(&crossing, 0.50), percentile(&crossing, 0.99));
    eprintln!("RTP in at one station -> to the other's browser leg: p50 {p50:?} p99 {p99:?}");
    // Generous bounds: this is a debug build on two cores shared with other builds, so
    // the tail is the scheduler's; the release benchmark reports the real figure.
    assert!(p50 < Duration::from_millis(20), "station to station p50 {p50:?}");
    assert!(p99 < Duration::from_millis(250), "station to station p99 {p99:?}");
}

/// For each packet `from`'s recorder tapped as ours, how long until `to`'s tapped it as
/// theirs (matched by RTP timestamp).
fn tap_delays(from: &Tapped, to: &Tapped) -> Vec<Duration> {
    let from = from.lock().expect("tap lock");
    let to = to.lock().expect("tap lock");
    let theirs: std::collections::HashMap<u32, Instant> =
        to.iter().filter(|(d, ..)| *d == Direction::Theirs).map(|(_, ts, _, at)| (*ts, *at)).collect();
    from.iter()
        .filter(|(d, ..)| *d == Direction::Ours)
        .filter_map(|(_, ts, _, sent)| theirs.get(ts).map(|received| *received - *sent))
        .collect()
}
