//! Why: issue 4 asks how fast a station checks a new notice against 1,000,000 active
//! ones, how long its index takes to load and how much memory it holds, and how that
//! compares with PostGIS, which users would otherwise script it with. This is a plain
//! program (not a test, not criterion): it generates the same notices every run, measures
//! our `ConflictIndex`, starts its own PostgreSQL 15 + PostGIS on loopback (fsync on),
//! runs the same checks there, compares the answers and prints the figures.
//!
//! Run it (release build; about 5–10 minutes on 2 cores, 23 GB of memory is plenty):
//!
//! ```text
//! cargo bench -p hotline-notice --bench conflicts
//! ```
//!
//! Settings, all optional, by environment variable:
//!
//! - `HOTLINE_BENCH_NOTICES` (1000000) active notices; `HOTLINE_BENCH_QUERIES` (2000)
//!   new notices to check; `HOTLINE_BENCH_SEED` (0x5eed) the data.
//! - `HOTLINE_BENCH_POSTGIS=0` skips PostGIS (our figures only).
//! - `HOTLINE_BENCH_JSON` where the figures go as JSON (default
//!   `target/hotline-notice-bench.json`).
//!
//! PostGIS needs Debian's `postgresql-15-postgis-3`; as root, the benchmark runs
//! `initdb`/`pg_ctl` as the `postgres` user. The server and its directory are removed at
//! the end, on error and on Ctrl-C.

#[path = "../../tests/it/pg.rs"]
#[allow(dead_code)] // the oracle test uses other parts of it
mod pg;

mod generate;
mod measure;
mod postgis;

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hotline_notice::{ConflictIndex, Notice, Separation, area_distance_m};
use serde_json::json;

use measure::{Latency, Machine, load_average, resident_bytes, thread_cpu, us};

/// Stream of the query notices, mixed into the seed: the same distribution as the stored
/// notices, but other notices.
const QUERY_STREAM: u64 = 0x0e57_a11e_d000_0000;
/// Checks run once before timing, so both systems start warm.
const WARMUP_CHECKS: usize = 200;
/// Disagreements within this share of the lateral separation are allowed (as in the
/// oracle test): there the last digits of two geodesic algorithms decide.
const BAND_RELATIVE: f64 = 0.005;
/// Notices inserted and removed again to time the live (station) operations.
const LIVE_OPERATIONS: u64 = 2_000;

/// The server to stop if the user presses Ctrl-C.
static CLEANUP: Mutex<Option<(PathBuf, bool)>> = Mutex::new(None);

struct Config {
    notices: u64,
    queries: u64,
    seed: u64,
    postgis: bool,
    json_path: PathBuf,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl Config {
    fn from_env() -> Config {
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
        Config {
            notices: env_or("HOTLINE_BENCH_NOTICES", 1_000_000),
            queries: env_or("HOTLINE_BENCH_QUERIES", 2_000),
            seed: env_or("HOTLINE_BENCH_SEED", 0x5eed),
            postgis: std::env::var("HOTLINE_BENCH_POSTGIS").map_or(true, |v| v != "0"),
            json_path: std::env::var("HOTLINE_BENCH_JSON")
                .map(PathBuf::from)
                .unwrap_or_else(|_| target.join("hotline-notice-bench.json")),
        }
    }
}

fn main() -> ExitCode {
    if let Err(e) = ctrlc::set_handler(|| {
        if let Some(handle) = CLEANUP.lock().ok().and_then(|mut c| c.take()) {
            eprintln!("\ninterrupted: stopping the benchmark's PostgreSQL");
            pg::stop(&handle);
        }
        std::process::exit(130);
    }) {
        eprintln!("no Ctrl-C handler ({e}); an interrupted run may leave a PostgreSQL behind");
    }
    match run(&Config::from_env()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(bytes: f64) -> String {
    format!("{:.0} MiB", bytes / (1024.0 * 1024.0))
}

/// What our index did: load, memory, checks and the answers.
struct Ours {
    generate: Duration,
    load: Duration,
    resident_bytes: f64,
    latency: Latency,
    cpu: Latency,
    answers: Vec<Vec<u64>>,
}

fn run(cfg: &Config) -> Result<(), Box<dyn Error>> {
    let machine = Machine::read();
    let pid = std::process::id();
    println!("hotline-notice conflicts benchmark");
    println!(
        "machine: {} ({} MHz), {} logical cores, {:.1} GiB memory, Linux {}",
        machine.cpu_model,
        machine.cpu_mhz,
        machine.logical_cores,
        machine.memory_total_kb as f64 / 1024.0 / 1024.0,
        machine.kernel
    );
    println!("data: {} active notices, {} checks, seed {:#x}", cfg.notices, cfg.queries, cfg.seed);
    let sep = Separation::default();
    let threads = machine.logical_cores.max(1) as u64;

    let (index, ours) = measure_ours(cfg, &sep, threads)?;
    let queries: Vec<Notice> =
        generate::notices(cfg.seed ^ QUERY_STREAM, 0..cfg.queries, threads).into_iter().map(|(_, n)| n).collect();
    eprintln!("(pid {pid}: checks start now)");
    let (ours, mut report) = time_ours(&index, &queries, ours);

    let postgis = if cfg.postgis { Some(measure_postgis(cfg, &sep, &index, &queries, &ours)?) } else { None };
    let live = measure_live(cfg, index, &queries);

    println!();
    println!("== summary: {} active notices, one check = all conflicts of one new notice ==", cfg.notices);
    println!("ours    load {} | memory {} | {}", secs(ours.load), mib(ours.resident_bytes), ours.latency.line());
    println!("ours    CPU time per check (without preemption): {}", ours.cpu.line());
    if let Some(pg) = &postgis {
        println!("PostGIS load {} | {}", secs(pg.load_total), pg.latency.line());
        let (r50, r99) = (pg.latency.p50_us / ours.latency.p50_us, pg.latency.p99_us / ours.latency.p99_us);
        println!("ratio PostGIS/ours: p50 {r50:.1}x, p99 {r99:.1}x");
        println!(
            "agreement: {} of {} checks identical; {} notices differ, {} of them within {:.1} % of the {} m separation, {} outside it",
            pg.identical,
            queries.len(),
            pg.differ_in_band + pg.differ_outside,
            pg.differ_in_band,
            BAND_RELATIVE * 100.0,
            sep.lateral_m,
            pg.differ_outside
        );
        report["postgis"] = pg.json.clone();
        report["ratio_postgis_over_ours"] = json!({"p50": r50, "p99": r99});
    }
    let goal_p99 = ours.latency.p99_us < 1000.0;
    println!("goal p99 < 1 ms: {}", if goal_p99 { "met" } else { "MISSED" });
    if let Some(pg) = &postgis {
        let ten_x = pg.latency.p50_us >= 10.0 * ours.latency.p50_us && pg.latency.p99_us >= 10.0 * ours.latency.p99_us;
        println!("goal >= 10x faster than PostGIS (p50 and p99): {}", if ten_x { "met" } else { "MISSED" });
    }
    report["machine"] = serde_json::to_value(&machine)?;
    report["live_operations"] = live;
    if let Some(dir) = cfg.json_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&cfg.json_path, serde_json::to_string_pretty(&report)?)?;
    println!("figures written to {}", cfg.json_path.display());
    Ok(())
}

fn measure_ours(cfg: &Config, sep: &Separation, threads: u64) -> Result<(ConflictIndex<u64>, Ours), Box<dyn Error>> {
    let rss0 = resident_bytes();
    let t = Instant::now();
    let notices = generate::notices(cfg.seed, 0..cfg.notices, threads);
    let generate = t.elapsed();
    let circles = notices.iter().filter(|(_, n)| generate::radius_m(&n.area) > 0.0).count();
    let vertices: usize = notices.iter().map(|(_, n)| generate::vertices(&n.area)).sum();
    let no_band = notices.iter().filter(|(_, n)| n.altitude.is_none()).count();
    println!(
        "generated and validated in {}: {} polygons (mean {:.1} vertices), {} circles, {} without altitude band",
        secs(generate),
        notices.len() - circles,
        vertices as f64 / (notices.len() - circles).max(1) as f64,
        circles,
        no_band
    );
    let t = Instant::now();
    let index = ConflictIndex::bulk_load(*sep, notices);
    let load = t.elapsed();
    let resident = resident_bytes().saturating_sub(rss0) as f64;
    println!(
        "ours: bulk load {} ; resident memory {} ({:.0} bytes per notice, notices included)",
        secs(load),
        mib(resident),
        resident / cfg.notices.max(1) as f64
    );
    if index.len() as u64 != cfg.notices {
        return Err(format!("the index holds {} notices, not {}", index.len(), cfg.notices).into());
    }
    Ok((
        index,
        Ours {
            generate,
            load,
            resident_bytes: resident,
            latency: Latency::of(&[]),
            cpu: Latency::of(&[]),
            answers: Vec::new(),
        },
    ))
}

fn time_ours(index: &ConflictIndex<u64>, queries: &[Notice], mut ours: Ours) -> (Ours, serde_json::Value) {
    for q in queries.iter().take(WARMUP_CHECKS) {
        std::hint::black_box(index.conflicts_of(q));
    }
    let mut samples = Vec::with_capacity(queries.len());
    let mut cpu = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    println!("ours: load average before the checks: {}", load_average());
    for q in queries {
        let (t, c) = (Instant::now(), thread_cpu());
        let found = index.conflicts_of(q);
        samples.push(t.elapsed());
        cpu.push(thread_cpu().saturating_sub(c));
        answers.push(found);
    }
    ours.latency = Latency::of(&samples);
    ours.cpu = Latency::of(&cpu);
    ours.answers = answers;
    let total: usize = ours.answers.iter().map(Vec::len).sum();
    let most = ours.answers.iter().map(Vec::len).max().unwrap_or(0);
    println!("ours: {}", ours.latency.line());
    println!("ours: CPU time per check: {}", ours.cpu.line());
    println!(
        "ours: {total} conflicts found ({:.1} per check, at most {most})",
        total as f64 / queries.len().max(1) as f64
    );
    let report = json!({
        "notices": index.len(),
        "checks": queries.len(),
        "separation": {"lateral_m": index.separation().lateral_m, "vertical_m": index.separation().vertical_m,
                       "time_buffer_s": index.separation().time_buffer.whole_seconds()},
        "ours": {
            "generate_and_validate_s": ours.generate.as_secs_f64(),
            "bulk_load_s": ours.load.as_secs_f64(),
            "resident_bytes": ours.resident_bytes,
            "check": ours.latency,
            "check_thread_cpu": ours.cpu,
            "conflicts_found": total,
        },
    });
    (ours, report)
}

struct PostgisResult {
    load_total: Duration,
    latency: Latency,
    identical: usize,
    differ_in_band: usize,
    differ_outside: usize,
    json: serde_json::Value,
}

fn measure_postgis(
    cfg: &Config,
    sep: &Separation,
    index: &ConflictIndex<u64>,
    queries: &[Notice],
    ours: &Ours,
) -> Result<PostgisResult, Box<dyn Error>> {
    println!("PostGIS: starting PostgreSQL 15 + PostGIS on loopback ({})", postgis::SERVER_OPTIONS);
    let server = pg::Server::start_with(postgis::SERVER_OPTIONS)?;
    if let Ok(mut c) = CLEANUP.lock() {
        *c = Some(server.stop_handle());
    }
    let mut client = postgis::connect(server.port())?;
    let version: String = client.query_one("SELECT postgis_full_version()", &[])?.get(0);
    println!("PostGIS: {}", version.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    let load = postgis::load(&mut client, index, cfg.notices)?;
    let load_total = load.copy + load.index + load.analyze;
    println!(
        "PostGIS: COPY {} + GiST index {} + ANALYZE/CHECKPOINT {} = {} ; table {}, index {}",
        secs(load.copy),
        secs(load.index),
        secs(load.analyze),
        secs(load_total),
        mib(load.table_bytes as f64),
        mib(load.index_bytes as f64)
    );
    let prepared = postgis::Prepared::new(&mut client)?;
    if let Some(q) = queries.first() {
        println!("PostGIS plan of one check:\n{}", prepared.explain(&mut client, q, sep)?);
    }
    for q in queries.iter().take(WARMUP_CHECKS) {
        prepared.check(&mut client, q, sep)?;
    }
    let mut samples = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    for q in queries {
        let t = Instant::now();
        let found = prepared.check(&mut client, q, sep)?;
        samples.push(t.elapsed());
        answers.push(found);
    }
    drop(client);
    drop(server);
    if let Ok(mut c) = CLEANUP.lock() {
        *c = None;
    }
    let latency = Latency::of(&samples);
    println!("PostGIS: {}", latency.line());
    let (identical, differ_in_band, differ_outside) = compare(index, queries, &ours.answers, &answers, sep);
    let json = json!({
        "server_options": postgis::SERVER_OPTIONS,
        "version": version,
        "copy_s": load.copy.as_secs_f64(),
        "gist_index_s": load.index.as_secs_f64(),
        "analyze_checkpoint_s": load.analyze.as_secs_f64(),
        "load_total_s": load_total.as_secs_f64(),
        "table_bytes": load.table_bytes,
        "index_bytes": load.index_bytes,
        "check": latency,
        "agreement": {"identical_checks": identical, "differing_notices_in_band": differ_in_band,
                      "differing_notices_outside_band": differ_outside, "band_relative": BAND_RELATIVE},
    });
    Ok(PostgisResult { load_total, latency, identical, differ_in_band, differ_outside, json })
}

/// Compares the two answers of every check. A notice only one side reports counts as "in
/// band" when its lateral distance to the query is within `BAND_RELATIVE` of the
/// separation; time and altitude are whole minutes and metres, so they must match.
fn compare(
    index: &ConflictIndex<u64>,
    queries: &[Notice],
    ours: &[Vec<u64>],
    theirs: &[Vec<u64>],
    sep: &Separation,
) -> (usize, usize, usize) {
    let (mut identical, mut in_band, mut outside) = (0, 0, 0);
    for (k, q) in queries.iter().enumerate() {
        let (a, b) = (&ours[k], &theirs[k]);
        if a == b {
            identical += 1;
            continue;
        }
        let only_a = a.iter().filter(|id| b.binary_search(id).is_err()).map(|id| (id, "ours"));
        let only_b = b.iter().filter(|id| a.binary_search(id).is_err()).map(|id| (id, "PostGIS"));
        for (id, who) in only_a.chain(only_b) {
            let d = index.get(id).map_or(f64::NAN, |n| area_distance_m(&q.area, &n.area));
            if (d - sep.lateral_m).abs() <= BAND_RELATIVE * sep.lateral_m {
                in_band += 1;
            } else {
                outside += 1;
                if outside <= 5 {
                    println!("disagreement: check {k}, notice {id} only in {who}'s answer, our distance {d:.2} m");
                }
            }
        }
    }
    (identical, in_band, outside)
}

/// The station's live operations on the full index: file (insert), amend (insert under
/// the same id), cancel (remove) and expire (`remove_ended_before`).
fn measure_live(cfg: &Config, mut index: ConflictIndex<u64>, queries: &[Notice]) -> serde_json::Value {
    let n = LIVE_OPERATIONS.min(queries.len() as u64);
    let (mut inserts, mut amends, mut removes) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..n {
        let id = cfg.notices + k;
        let q = &queries[k as usize];
        let t = Instant::now();
        index.insert(id, q.clone());
        inserts.push(t.elapsed());
        let amended = &queries[(k as usize + 1) % queries.len()];
        let t = Instant::now();
        index.insert(id, amended.clone());
        amends.push(t.elapsed());
    }
    for k in 0..n {
        let t = Instant::now();
        index.remove(&(cfg.notices + k));
        removes.push(t.elapsed());
    }
    let cutoff = generate::NOW + time::Duration::hours(1);
    let cutoff_ms = (cutoff.unix_timestamp_nanos() / 1_000_000) as i64;
    let t = Instant::now();
    let expired = index.remove_ended_before(cutoff_ms);
    let expire = t.elapsed();
    let (li, la, lr) = (Latency::of(&inserts), Latency::of(&amends), Latency::of(&removes));
    println!("live: insert (file)  {}", li.line());
    println!("live: insert (amend) {}", la.line());
    println!("live: remove (cancel) {}", lr.line());
    println!(
        "live: remove_ended_before(now + 1 h) removed {} notices in {} ({} per notice)",
        expired.len(),
        secs(expire),
        us(expire.as_secs_f64() * 1e6 / expired.len().max(1) as f64)
    );
    // Freeing a million notices one by one takes seconds and measures nothing; the
    // process is about to exit.
    std::mem::forget(index);
    json!({"insert": li, "amend": la, "remove": lr,
           "expire": {"removed": expired.len(), "seconds": expire.as_secs_f64()}})
}
