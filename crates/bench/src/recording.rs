//! The recorder's cost (`hotline-bench --recording`, #17): CPU and disk per recorded
//! call-hour, and ten calls recorded at once.
//!
//! Both parts drive `hotline_recording::Recorder` exactly as the station's recorder thread
//! does (`hotline-callmedia`'s `recorder.rs`: one thread and one file per call, every
//! packet pushed with its arrival time, the file synced every 2 s of call time), on the
//! disk of the data directory, with packets of Chromium's default voice bitrate
//! (32 kbit/s: 80 bytes every 20 ms, each way). What the station adds around it — the
//! media task's `try_send` into the recorder's queue — is a copy per packet.
//!
//! - **Call-hour, fast-forward**: one call of `call_hours` pushed as fast as the recorder
//!   takes it (call time runs from the packets, so it still syncs 1,800 times an hour):
//!   the thread's CPU time and the bytes on disk, per call-hour.
//! - **Simultaneous, in real time**: `calls` recorders on their own threads, each fed 50
//!   packets a second each way for `seconds`: the process's CPU over the run (as a share
//!   of one core and per call-hour, to hold against the fast-forward figure, which has no
//!   sleeping and waking in it), the bytes, and how late the busiest thread ever was.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hotline_recording::{CallInfo, Config, Direction, Recorder, SLOT_MS, SLOT_SAMPLES};
use serde::Serialize;

use crate::machine::{Machine, describe};

/// Bytes of one Opus packet at 32 kbit/s and 20 ms.
#[allow(non_upper_case_globals)]
const packet_bytes: usize = 80;

#[derive(Clone, Debug)]
pub struct RecordingOptions {
    pub call_hours: f64,
    pub calls: usize,
    pub seconds: u64,
}

#[derive(Debug, Serialize)]
pub struct FastForward {
    pub call_hours: f64,
    pub packets: u64,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub bytes: u64,
    pub cpu_s_per_call_hour: f64,
    pub mib_per_call_hour: f64,
}

#[derive(Debug, Serialize)]
pub struct Simultaneous {
    pub calls: usize,
    pub seconds: u64,
    pub packets: u64,
    pub cpu_s: f64,
    /// Of one core, over the run.
    pub cpu_percent: f64,
    pub cpu_s_per_call_hour: f64,
    pub bytes: u64,
    pub mib_per_call_hour: f64,
    /// The most any thread fell behind its packets' schedule.
    pub late_ms_max: f64,
    pub refused: u64,
}

#[derive(Debug, Serialize)]
pub struct RecordingReport {
    pub commit: String,
    pub machine: Machine,
    pub fast_forward: FastForward,
    pub simultaneous: Simultaneous,
    /// Simultaneous over fast-forward CPU per call-hour.
    pub cpu_ratio_live_to_fast_forward: f64,
}

/// CPU time (user + system) of this process, or of the calling thread.
fn cpu_s(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own and reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// A packet that the recorder takes as 20 ms of audio (TOC: hybrid, fullband, 20 ms, one
/// frame), its bytes varying as real ones do.
fn packet(i: u64, direction: u8) -> Vec<u8> {
    let mut p = vec![0x78u8; packet_bytes];
    for (k, b) in p.iter_mut().enumerate().skip(1) {
        *b = (i as u8).wrapping_mul(31).wrapping_add(k as u8).wrapping_add(direction);
    }
    p
}

fn info<'a>(call_id: &'a str) -> CallInfo<'a> {
    CallInfo { call_id, station: "alpha", peer: "bravo", start_time: "2026-12-04T00:00:00Z", start_ms: 0 }
}

/// Records `packets` slots of both directions, calling `pace(i)` before slot `i` (which
/// may sleep); returns the file's size, refusals, and the worst lateness `pace` reported.
fn record(path: &Path, packets: u64, mut pace: impl FnMut(u64) -> (u64, f64)) -> anyhow::Result<(u64, u64, f64)> {
    let call_id = uuid::Uuid::now_v7().to_string();
    let mut recorder = Recorder::create(path, &info(&call_id), Config::default(), 0).context("create")?;
    let (mut refused, mut late_ms_max) = (0, 0.0f64);
    let mut now_ms = 0;
    for i in 0..packets {
        let (at_ms, late_ms) = pace(i);
        now_ms = at_ms;
        late_ms_max = late_ms_max.max(late_ms);
        let rtp = (i as u32).wrapping_mul(SLOT_SAMPLES);
        for (direction, offset) in [(Direction::Ours, 0), (Direction::Theirs, 7)] {
            match recorder.push(
                direction,
                now_ms + offset,
                rtp.wrapping_add(offset as u32 * 1000),
                &packet(i, offset as u8),
            ) {
                Ok(()) => {}
                Err(hotline_recording::Error::Refused { .. }) => refused += 1,
                Err(e) => return Err(e).context("push"),
            }
        }
    }
    let finished = recorder.finish(now_ms + 200).context("finish")?;
    Ok((finished.summary.bytes, refused, late_ms_max))
}

pub fn run(base: &Path, options: &RecordingOptions) -> anyhow::Result<RecordingReport> {
    let dir = base.join("recordings");
    std::fs::create_dir_all(&dir)?;
    let slots_per_hour = 3600 * 1000 / SLOT_MS;

    eprintln!("recording: {} call-hour(s), fast-forward", options.call_hours);
    let packets = (options.call_hours * slots_per_hour as f64).round() as u64;
    let (cpu_before, wall) = (cpu_s(libc::RUSAGE_THREAD), Instant::now());
    let (bytes, _, _) = record(&dir.join("fast.opus"), packets, |i| (i * SLOT_MS, 0.0))?;
    let (cpu, wall_s) = (cpu_s(libc::RUSAGE_THREAD) - cpu_before, wall.elapsed().as_secs_f64());
    let fast_forward = FastForward {
        call_hours: options.call_hours,
        packets: packets * 2,
        wall_s,
        cpu_s: cpu,
        bytes,
        cpu_s_per_call_hour: cpu / options.call_hours,
        mib_per_call_hour: bytes as f64 / options.call_hours / (1024.0 * 1024.0),
    };

    eprintln!("recording: {} calls at once, {} s in real time", options.calls, options.seconds);
    let live_packets = options.seconds * 1000 / SLOT_MS;
    let (cpu_before, wall) = (cpu_s(libc::RUSAGE_SELF), Instant::now());
    let started = Instant::now() + Duration::from_millis(50);
    let threads: Vec<_> = (0..options.calls)
        .map(|n| {
            let path = dir.join(format!("live-{n}.opus"));
            std::thread::spawn(move || {
                record(&path, live_packets, |i| {
                    let due = started + Duration::from_millis(i * SLOT_MS);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    let late = Instant::now().saturating_duration_since(due).as_secs_f64() * 1000.0;
                    (started.elapsed().as_millis() as u64, late)
                })
            })
        })
        .collect();
    let (mut bytes, mut refused, mut late_ms_max) = (0, 0, 0.0f64);
    for t in threads {
        let (b, r, l) = t.join().map_err(|_| anyhow::anyhow!("a recorder thread panicked"))??;
        bytes += b;
        refused += r;
        late_ms_max = late_ms_max.max(l);
    }
    let (cpu, wall_s) = (cpu_s(libc::RUSAGE_SELF) - cpu_before, wall.elapsed().as_secs_f64());
    let call_hours = options.calls as f64 * options.seconds as f64 / 3600.0;
    let simultaneous = Simultaneous {
        calls: options.calls,
        seconds: options.seconds,
        packets: live_packets * 2 * options.calls as u64,
        cpu_s: cpu,
        cpu_percent: cpu / wall_s * 100.0,
        cpu_s_per_call_hour: cpu / call_hours,
        bytes,
        mib_per_call_hour: bytes as f64 / call_hours / (1024.0 * 1024.0),
        late_ms_max,
        refused,
    };
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
    Ok(RecordingReport {
        commit,
        machine: describe(base),
        cpu_ratio_live_to_fast_forward: simultaneous.cpu_s_per_call_hour / fast_forward.cpu_s_per_call_hour,
        fast_forward,
        simultaneous,
    })
}

pub fn render(r: &RecordingReport) -> String {
    let (f, s) = (&r.fast_forward, &r.simultaneous);
    format!(
        "## Call recording (commit {}, {} × {}, {} on {})\n\n\
         - per recorded call-hour (fast-forward, {} packets): {:.2} s CPU, {:.1} MiB on disk ({:.2} s wall)\n\
         - {} calls recorded at once for {} s: {:.2} % of one core, {:.2} s CPU and {:.1} MiB per call-hour, \
         worst lateness {:.1} ms, {} packets refused\n\
         - CPU per call-hour, simultaneous / fast-forward: {:.2}×\n",
        r.commit,
        r.machine.cores,
        r.machine.cpu_model,
        r.machine.filesystem,
        r.machine.device,
        f.packets,
        f.cpu_s_per_call_hour,
        f.mib_per_call_hour,
        f.wall_s,
        s.calls,
        s.seconds,
        s.cpu_percent,
        s.cpu_s_per_call_hour,
        s.mib_per_call_hour,
        s.late_ms_max,
        s.refused,
        r.cpu_ratio_live_to_fast_forward,
    )
}
