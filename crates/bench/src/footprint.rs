//! Footprint: resident memory and CPU of an idle station with many lines up (one hub with
//! a line to each of N other stations), read from `/proc`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hotline_testkit::Binary;
use serde::Serialize;

use crate::api::{lines_up, operated, unoperated};

#[derive(Clone, Debug, Serialize)]
pub struct Footprint {
    pub lines_up: usize,
    pub idle_window_s: f64,
    pub hub_rss_mib: f64,
    pub hub_rss_peak_mib: f64,
    /// CPU time over the idle window, as a percentage of one core.
    pub hub_cpu_percent: f64,
    pub hub_threads: u64,
    pub peer_rss_mib_mean: f64,
}

/// (VmRSS MiB, VmHWM MiB, threads) of a process.
pub fn memory(pid: u32) -> anyhow::Result<(f64, f64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(f64::NAN)
    };
    Ok((field("VmRSS:") / 1024.0, field("VmHWM:") / 1024.0, field("Threads:") as u64))
}

/// User + system CPU time of a process.
pub fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let rest = stat.rsplit_once(')').context("/proc/PID/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    // SAFETY: sysconf has no preconditions.
    let per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok(Duration::from_secs_f64(ticks as f64 / per_s))
}

pub async fn run(bin: &Binary, base: &Path, peers: usize, idle: Duration) -> anyhow::Result<Footprint> {
    let base = base.join("footprint");
    std::fs::create_dir_all(&base)?;
    let mut hub = operated(bin, &base, "hub")?;
    let mut others = Vec::new();
    for i in 0..peers {
        let s = unoperated(bin, &base, &format!("peer{i:02}"))?;
        hub.add_line(&s.name, &s.key, &[s.line_addr()])?;
        s.add_line("hub", &hub.key, &[hub.line_addr()])?;
        others.push(s);
    }
    hub.start()?;
    for s in &mut others {
        s.start()?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines_up(&hub) < peers {
        if Instant::now() > deadline {
            bail!("footprint: only {} of {peers} lines up after 60 s", lines_up(&hub));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let start-up work (first checkpoints, witnessing) finish before the idle window.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = hub.pid().context("hub pid")?;
    let cpu_before = cpu_time(pid)?;
    let started = Instant::now();
    tokio::time::sleep(idle).await;
    let window = started.elapsed();
    let cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    let (rss, peak, threads) = memory(pid)?;
    let lines_up = lines_up(&hub);
    let mut peer_rss = 0.0;
    for s in &others {
        peer_rss += memory(s.pid().context("pid")?)?.0;
    }
    for s in &mut others {
        s.stop();
    }
    hub.stop();
    Ok(Footprint {
        lines_up,
        idle_window_s: window.as_secs_f64(),
        hub_rss_mib: rss,
        hub_rss_peak_mib: peak,
        hub_cpu_percent: 100.0 * cpu.as_secs_f64() / window.as_secs_f64(),
        hub_threads: threads,
        peer_rss_mib_mean: peer_rss / peers.max(1) as f64,
    })
}
