//! The soak (`hotline-bench --soak`, #14): a hostile peer runs every attack of the
//! hostile-peer tests in a loop against a station that meanwhile delivers 100 msg/s to a
//! good peer, and the delivery is compared with the same run without the attacker.
//!
//! Three stations: alpha (under test) and bravo (the good peer) are real `hotline serve`
//! processes started by `hotline-testkit`; mallory (the attacker) is this process. Alpha
//! pins mallory's key on a line of its own, so mallory is a peer with a valid key that
//! speaks the real protocol (`hotline_proto::Line` over TLS, signed items) and sends what
//! it likes: oversized and malformed items of every kind, non-UUID ids, other origins,
//! a fork, backdated times, a flood of its own notices, stalls (it stops reading), and
//! handshakes it never finishes (from 127.0.0.2, so the per-address quota it runs into is
//! its own, as it would be on a real network). Both runs measure alpha → bravo delivery
//! open loop (`delivery::hotline_load`, from the scheduled send time to alpha's
//! `message.delivered`), and alpha's resident memory is sampled every few seconds.
//!
//! The verdict: p99 under attack within 2× of the baseline, no message lost, and memory
//! bounded (the second half of the attacked run no higher than the first half plus a
//! margin).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hotline_identity::{StationKey, VerifierKey};
use hotline_proto::{Event, Lane, Line, LineConfig, Restored};
use hotline_record::checkpoint::Checkpoint;
use hotline_record::note::NoteSigner;
use hotline_station::item::{Item, ReceiptEntry, SignedItem};
use hotline_testkit::Binary;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::watch;

use crate::api::{Api, operated, unoperated, wait_line_up};
use crate::delivery::{self, LoadResult};
use crate::footprint::memory;

/// How the soak runs.
#[derive(Clone, Debug, Serialize)]
pub struct SoakOptions {
    /// Length of each of the two runs (without, then with the attacker).
    pub minutes: f64,
    /// Good messages per second, alpha → bravo.
    pub rate_per_s: f64,
    /// Pause between two rounds of attacks (each round sends every attack once).
    pub round_pause_ms: u64,
}

/// What the attacker did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AttackCounts {
    pub rounds: u64,
    /// Rounds not sent because alpha had not yet taken the earlier ones (the protocol's
    /// window): alpha, not the attacker, sets the pace of what it reads.
    pub rounds_held_back: u64,
    pub items: u64,
    /// Items alpha acknowledged having read (receipted), by the end.
    pub items_receipted: u64,
    /// TLS sessions mallory opened (alpha drops some: a stall, a refused item stream).
    pub sessions: u64,
    pub dial_failures: u64,
    /// Times mallory stopped reading for a while.
    pub stalls: u64,
    /// TCP connections opened and never greeted (slow loris).
    pub loris: u64,
}

/// One sample of alpha's resident memory.
#[derive(Clone, Debug, Serialize)]
pub struct RssSample {
    pub run: &'static str,
    pub at_s: f64,
    pub rss_mib: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SoakReport {
    pub options: SoakOptions,
    pub baseline: LoadResult,
    pub attacked: LoadResult,
    /// p99 under attack over p99 without: the goal is at most 2.
    pub p99_ratio: f64,
    /// Messages offered and not delivered, both runs together: the goal is 0.
    pub lost: usize,
    pub attacks: AttackCounts,
    pub rss: Vec<RssSample>,
    pub rss_attacked_first_half_max_mib: f64,
    pub rss_attacked_second_half_max_mib: f64,
    /// Record entries alpha wrote during the attacked run, by kind (from its event
    /// stream): what the attacks made it record and refuse.
    pub attacked_entries: BTreeMap<String, u64>,
    pub bravo_line_up_after: bool,
    pub verdict: Vec<String>,
}

/// Message body size of the good traffic.
#[allow(non_upper_case_globals)]
const body_bytes: usize = 128;
/// How often alpha's memory is sampled.
#[allow(non_upper_case_globals)]
const rss_sample_ms: u64 = 5000;
/// Growth of the attacked run's second-half peak over its first half still called bounded.
#[allow(non_upper_case_globals)]
const rss_growth_mib_max: f64 = 64.0;
/// Every this many rounds the attacker stops reading for `stall_ms`.
#[allow(non_upper_case_globals)]
const stall_every_rounds: u64 = 50;
/// Items the attacker keeps waiting for alpha at most (about four rounds): beyond it a
/// round is held back, so the attacker's own memory stays bounded too.
#[allow(non_upper_case_globals)]
const attacker_items_waiting_max: u64 = 64;
#[allow(non_upper_case_globals)]
const stall_ms: u64 = 6000;
/// Handshakes opened and never finished, per second, and how long each is held.
#[allow(non_upper_case_globals)]
const loris_per_s: usize = 8;
#[allow(non_upper_case_globals)]
const loris_hold_ms: u64 = 2000;

pub async fn run(bin: &Binary, base: &Path, options: SoakOptions) -> anyhow::Result<SoakReport> {
    let base = base.join("soak");
    std::fs::create_dir_all(&base)?;
    let mut alpha = operated(bin, &base, "alpha")?;
    let mut bravo = unoperated(bin, &base, "bravo")?;
    let mallory = StationKey::generate("mallory").context("mallory's key")?;
    alpha.add_line("bravo", &bravo.key, &[bravo.line_addr()])?;
    bravo.add_line("alpha", &alpha.key, &[alpha.line_addr()])?;
    // Alpha pins mallory's key; nothing answers at the address it dials for mallory, so
    // every connection on that line is one mallory makes.
    alpha.add_line("mallory", &mallory.verifier().to_string(), &["127.0.0.1:9".to_owned()])?;
    alpha.start()?;
    bravo.start()?;
    wait_line_up(&alpha, "bravo", Duration::from_secs(30))?;
    let api = Api::of(&alpha)?;
    let text = delivery::body(body_bytes);
    let count = (options.rate_per_s * options.minutes * 60.0).round() as usize;
    let drain = Duration::from_secs(120);
    let pid = alpha.pid().context("alpha's pid")?;
    let alpha_key: VerifierKey = alpha.key.parse().context("alpha's key")?;

    // Warm-up: first connections and checkpoints; not counted.
    delivery::hotline_load(&api, "bravo", 50.0, 50, &text, drain).await?;
    let rss: Arc<Mutex<Vec<RssSample>>> = Arc::default();
    let started = Instant::now();

    eprintln!("soak: {} min at {} msg/s without the attacker", options.minutes, options.rate_per_s);
    let sampler = tokio::spawn(sample_rss(pid, "baseline", started, rss.clone()));
    let baseline = delivery::hotline_load(&api, "bravo", options.rate_per_s, count, &text, drain).await?;
    sampler.abort();

    eprintln!("soak: {} min at {} msg/s with every attack in a loop", options.minutes, options.rate_per_s);
    let attacked_from = started.elapsed().as_secs_f64();
    let (stop_tx, stop) = watch::channel(false);
    let attacker = Attacker {
        own: mallory,
        alpha: alpha_key,
        line_addr: alpha.line_addr(),
        round_pause: Duration::from_millis(options.round_pause_ms),
    };
    let line_port: u16 = alpha.line_addr().rsplit_once(':').and_then(|(_, p)| p.parse().ok()).context("line port")?;
    let mut events = api.events().await?;
    let kinds: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let counted = kinds.clone();
    let counter = tokio::spawn(async move {
        while let Ok(Some((kind, _))) = events.next().await {
            if let Ok(mut kinds) = counted.lock() {
                *kinds.entry(kind).or_default() += 1;
            }
        }
    });
    let loris = tokio::spawn(slow_loris(line_port, stop.clone()));
    let attack = tokio::spawn(attacker.run(stop.clone()));
    let sampler = tokio::spawn(sample_rss(pid, "attacked", started, rss.clone()));
    let attacked = delivery::hotline_load(&api, "bravo", options.rate_per_s, count, &text, drain).await?;
    sampler.abort();
    let _ = stop_tx.send(true);
    let mut attacks = attack.await.unwrap_or_default();
    attacks.loris = loris.await.unwrap_or_default();
    // Entries of the run's last moments may still be on their way on the stream.
    tokio::time::sleep(Duration::from_secs(1)).await;
    counter.abort();
    let attacked_entries = kinds.lock().map(|k| k.clone()).unwrap_or_default();
    let bravo_line_up_after = alpha.wait_line("bravo", "up", Duration::from_secs(10));
    alpha.stop();
    bravo.stop();

    let rss = rss.lock().map(|r| r.clone()).unwrap_or_default();
    let attacked_samples: Vec<&RssSample> = rss.iter().filter(|s| s.run == "attacked").collect();
    let middle = attacked_from + (started.elapsed().as_secs_f64() - attacked_from) / 2.0;
    let peak = |first: bool| {
        attacked_samples.iter().filter(|s| (s.at_s < middle) == first).map(|s| s.rss_mib).fold(f64::NAN, f64::max)
    };
    let (first_half, second_half) = (peak(true), peak(false));
    let lost = baseline.offered - baseline.completed + attacked.offered - attacked.completed;
    let p99_ratio = attacked.latency.p99_ms / baseline.latency.p99_ms;
    let mut verdict = Vec::new();
    verdict.push(format!(
        "p99 {:.1} ms under attack vs {:.1} ms without: {p99_ratio:.2}× (goal ≤ 2×){}",
        attacked.latency.p99_ms,
        baseline.latency.p99_ms,
        if p99_ratio <= 2.0 { "" } else { " — MISSED" }
    ));
    verdict.push(format!("{lost} messages lost (goal 0){}", if lost == 0 { "" } else { " — MISSED" }));
    // Too few samples to tell (NaN) is not a failure of the station.
    let bounded = second_half.is_nan() || first_half.is_nan() || second_half <= first_half + rss_growth_mib_max;
    verdict.push(format!(
        "alpha's RSS under attack: peak {first_half:.1} MiB in the first half, {second_half:.1} MiB in the second{}",
        if bounded { " (bounded)" } else { " — GROWING" }
    ));
    if !bravo_line_up_after {
        verdict.push("the line to bravo was not up after the attack — MISSED".into());
    }
    Ok(SoakReport {
        options,
        baseline,
        attacked,
        p99_ratio,
        lost,
        attacks,
        rss,
        rss_attacked_first_half_max_mib: first_half,
        rss_attacked_second_half_max_mib: second_half,
        attacked_entries,
        bravo_line_up_after,
        verdict,
    })
}

/// The soak's summary, for the terminal.
pub fn render(r: &SoakReport) -> String {
    let mut out = String::from("## Soak: every hostile-peer attack in a loop, 100 msg/s to a good peer\n\n");
    for (name, l) in [("without attacker", &r.baseline), ("under attack", &r.attacked)] {
        out.push_str(&format!(
            "- {name}: {} of {} delivered, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
            l.completed, l.offered, l.latency.p50_ms, l.latency.p99_ms, l.latency.max_ms
        ));
    }
    let a = &r.attacks;
    out.push_str(&format!(
        "- attacker: {} rounds ({} held back by alpha's window), {} items ({} receipted by alpha), {} sessions \
         ({} dials failed), {} stalls, {} unfinished handshakes\n",
        a.rounds, a.rounds_held_back, a.items, a.items_receipted, a.sessions, a.dial_failures, a.stalls, a.loris
    ));
    let kinds: Vec<String> = r.attacked_entries.iter().map(|(k, n)| format!("{k} {n}")).collect();
    out.push_str(&format!("- alpha's record during the attack: {}\n", kinds.join(", ")));
    let series: Vec<String> = r.rss.iter().map(|s| format!("{:.0}s {:.1}", s.at_s, s.rss_mib)).collect();
    out.push_str(&format!("- alpha RSS (MiB) over time: {}\n\n", series.join(", ")));
    for v in &r.verdict {
        out.push_str(&format!("{v}\n"));
    }
    out
}

async fn sample_rss(pid: u32, run: &'static str, started: Instant, into: Arc<Mutex<Vec<RssSample>>>) {
    loop {
        if let Ok((rss_mib, _, _)) = memory(pid)
            && let Ok(mut samples) = into.lock()
        {
            samples.push(RssSample { run, at_s: started.elapsed().as_secs_f64(), rss_mib });
        }
        tokio::time::sleep(Duration::from_millis(rss_sample_ms)).await;
    }
}

/// Opens `loris_per_s` TCP connections a second to alpha's line port from 127.0.0.2 and
/// never sends a byte on them; returns how many it opened.
async fn slow_loris(line_port: u16, stop: watch::Receiver<bool>) -> u64 {
    let target = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), line_port);
    let from = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 0);
    let mut opened = 0;
    while !*stop.borrow() {
        for _ in 0..loris_per_s {
            let Ok(socket) = tokio::net::TcpSocket::new_v4() else { continue };
            if socket.bind(from).is_err() {
                continue;
            }
            if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(500), socket.connect(target)).await {
                opened += 1;
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(loris_hold_ms)).await;
                    drop(stream);
                });
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    opened
}

/// Mallory: a peer with a pinned key that speaks the real protocol.
struct Attacker {
    own: StationKey,
    alpha: VerifierKey,
    line_addr: String,
    round_pause: Duration,
}

impl Attacker {
    async fn run(self, stop: watch::Receiver<bool>) -> AttackCounts {
        let mut counts = AttackCounts::default();
        // One `Line` for every session, so sequence numbers go on across reconnections
        // and alpha takes each new item as new.
        let mut line = Line::new(LineConfig::default(), "mallory", "alpha", Instant::now(), Restored::default());
        let mut fork_size = 5;
        while !*stop.borrow() {
            let dialed =
                hotline_station::line::net::dial(std::slice::from_ref(&self.line_addr), &self.own, &self.alpha).await;
            let Ok((stream, _, _)) = dialed.result else {
                counts.dial_failures += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            };
            counts.sessions += 1;
            line.connect(Instant::now());
            self.session(&mut line, stream, &mut counts, &mut fork_size, stop.clone()).await;
            line.disconnect(Instant::now());
        }
        counts.items_receipted = counts.items.saturating_sub(line.undelivered_items());
        counts
    }

    /// One connection: the protocol driven by the socket, its timers and the rounds of
    /// attacks, until alpha drops it or the soak ends.
    async fn session<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        line: &mut Line,
        stream: S,
        counts: &mut AttackCounts,
        fork_size: &mut u64,
        mut stop: watch::Receiver<bool>,
    ) {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let mut buf = vec![0u8; 64 * 1024];
        let mut next_round = tokio::time::Instant::now();
        let mut reading_again: Option<tokio::time::Instant> = None;
        loop {
            let mut out = Vec::new();
            while line.poll_transmit(Instant::now(), &mut out) {}
            if !out.is_empty()
                && !matches!(tokio::time::timeout(Duration::from_secs(5), writer.write_all(&out)).await, Ok(Ok(())))
            {
                return;
            }
            while let Some(event) = line.poll_event() {
                if let Event::Received { lane, seq, .. } = event {
                    line.mark_durable(lane, seq);
                }
            }
            let reading = reading_again.is_none_or(|at| tokio::time::Instant::now() >= at);
            let wake = line.poll_timeout().unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
            tokio::select! {
                n = reader.read(&mut buf), if reading => match n {
                    Ok(0) | Err(_) => return,
                    Ok(n) => { let _ = line.handle_input(Instant::now(), &buf[..n]); }
                },
                _ = tokio::time::sleep_until(next_round), if line.undelivered_items() >= attacker_items_waiting_max => {
                    counts.rounds_held_back += 1;
                    next_round = tokio::time::Instant::now() + self.round_pause;
                },
                _ = tokio::time::sleep_until(next_round), if line.undelivered_items() < attacker_items_waiting_max => {
                    counts.rounds += 1;
                    for (lane, payload) in round(&self.own, counts.rounds, fork_size) {
                        // The protocol caps a payload; an attack bigger than that is the
                        // frame decoder's to refuse, tested elsewhere.
                        if payload.len() <= hotline_proto::payload_bytes_max {
                            let seq = line.next_seq(lane);
                            line.push(lane, seq, payload);
                            counts.items += 1;
                        }
                    }
                    if counts.rounds.is_multiple_of(stall_every_rounds) {
                        counts.stalls += 1;
                        reading_again = Some(tokio::time::Instant::now() + Duration::from_millis(stall_ms));
                    }
                    next_round = tokio::time::Instant::now() + self.round_pause;
                },
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => line.handle_timeout(Instant::now()),
                _ = tokio::time::sleep(Duration::from_millis(200)), if !reading => {},
                _ = stop.changed() => return,
            }
        }
    }
}

fn signed(key: &StationKey, item: Item) -> Vec<u8> {
    SignedItem::sign(item, key).envelope()
}

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// One round: every attack of the hostile-peer tests once, signed with mallory's key.
fn round(key: &StationKey, round: u64, fork_size: &mut u64) -> Vec<(Lane, Vec<u8>)> {
    let (from, to) = ("mallory".to_owned(), "alpha".to_owned());
    let now = hotline_station::now_ms();
    let origin = format!("hotline/mallory/{}", key.verifier().fingerprint());
    let signer = NoteSigner::from_station_key(key);
    let hostile_id = format!("../notices/{}/ack#", uuid());
    let message = |id: String, body: String, created_ms: i64| Item::Message {
        from: from.clone(),
        to: to.clone(),
        id,
        precedence: "FLASH".into(),
        lang: "en".into(),
        body,
        reply_to: None,
        author: "op".into(),
        created_ms,
    };
    let checkpoint = |note: String, old_size: u64| Item::Checkpoint {
        from: from.clone(),
        to: to.clone(),
        note,
        old_size,
        proof: Vec::new(),
    };
    let start = hotline_station::rfc3339(now + 86_400_000);
    let end = hotline_station::rfc3339(now + 90_000_000);
    let notice = format!(
        r#"{{"kind":"air_operations","area":{{"type":"Point","coordinates":[30.5,50.4],"radius_m":20000}},"altitude":{{"min_m":0,"max_m":9000}},"start":"{start}","end":"{end}","title":"exercise {round}","remarks":"","lang":"en"}}"#
    );
    *fork_size += 1;
    let items = vec![
        // A size line of 20,000 and of 3,000 quotes: refused by size, and with a bounded quote.
        (Lane::Control, checkpoint(format!("{origin}\n{}\nAAAA\n\n— mallory AAAA\n", "\"".repeat(20_000)), 0)),
        (Lane::Control, checkpoint(format!("{origin}\n{}\nAAAA\n\n— mallory AAAA\n", "\"".repeat(3_000)), 0)),
        // Another origin, then the real one rewritten without a proof: a fork.
        (Lane::Control, checkpoint(Checkpoint::new("junk", 5, [7; 32]).sign(&signer).unwrap_or_default(), 0)),
        (
            Lane::Control,
            checkpoint(Checkpoint::new(&origin, *fork_size, [round as u8; 32]).sign(&signer).unwrap_or_default(), 5),
        ),
        // Ids that are URLs, and a receipt naming a 40 KB id.
        (Lane::Flash, message(hostile_id.clone(), "click me".into(), now)),
        (
            Lane::Control,
            Item::Ack { from: from.clone(), to: to.clone(), id: hostile_id.clone(), by: "op".into(), at_ms: 1 },
        ),
        (
            Lane::Control,
            Item::Receipt {
                from: from.clone(),
                to: to.clone(),
                at_ms: 1,
                messages: vec![ReceiptEntry { id: "x".repeat(40_000), item_sha256: "0".repeat(64) }],
            },
        ),
        // Backdated: a message "from yesterday", a watch check already past its deadline.
        (Lane::Flash, message(uuid(), format!("sent yesterday, round {round}"), now - 86_400_000)),
        (
            Lane::Control,
            Item::WatchCheck {
                from: from.clone(),
                to: to.clone(),
                id: uuid(),
                sent_ms: now - 3_600_000,
                deadline_ms: now - 3_300_000,
            },
        ),
        // A body over the limit, an unknown answer, an impossible presence, a bad notice.
        (Lane::Routine, message(uuid(), "x".repeat(64 * 1024 + 1), now)),
        (
            Lane::Control,
            Item::WatchAnswer { from: from.clone(), to: to.clone(), id: uuid(), by: "op".into(), at_ms: now },
        ),
        (
            Lane::Control,
            Item::Presence { from: from.clone(), to: to.clone(), on_watch: u32::MAX, since_ms: now + 86_400_000 },
        ),
        (
            Lane::Priority,
            Item::Notice {
                from: from.clone(),
                to: to.clone(),
                id: uuid(),
                version: 1,
                state: "filed".into(),
                notice: "{\"kind\":".repeat(1000),
            },
        ),
        // The peer's own overlapping notices (they raise nothing; there is a cap per side).
        (
            Lane::Priority,
            Item::Notice {
                from: from.clone(),
                to: to.clone(),
                id: uuid(),
                version: 1,
                state: "filed".into(),
                notice: notice.clone(),
            },
        ),
        (
            Lane::Priority,
            Item::Notice { from: from.clone(), to: to.clone(), id: uuid(), version: 1, state: "filed".into(), notice },
        ),
    ];
    let mut out: Vec<(Lane, Vec<u8>)> = items.into_iter().map(|(lane, item)| (lane, signed(key, item))).collect();
    // Bytes that are no signed item at all.
    out.push((Lane::Control, format!("not an item {round} \u{0}\u{1}").into_bytes()));
    out
}
