//! Why: the figures must mean the same thing on every run and machine: latency
//! percentiles from every single check (no averaging away the tail), resident memory from
//! the kernel's own count, and the machine they were taken on.

use std::time::Duration;

/// Latency percentiles of a set of timed operations, in microseconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

impl Latency {
    pub fn of(samples: &[Duration]) -> Latency {
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        // Nearest-rank percentile: the value at or below which p of the samples lie.
        let pct = |p: f64| {
            if us.is_empty() {
                return f64::NAN;
            }
            let rank = ((p * us.len() as f64).ceil() as usize).clamp(1, us.len());
            us[rank - 1]
        };
        Latency {
            count: us.len(),
            p50_us: pct(0.50),
            p90_us: pct(0.90),
            p99_us: pct(0.99),
            max_us: us.last().copied().unwrap_or(f64::NAN),
            mean_us: us.iter().sum::<f64>() / us.len().max(1) as f64,
        }
    }

    pub fn line(&self) -> String {
        format!(
            "p50 {} | p90 {} | p99 {} | max {} | mean {}  ({} checks)",
            us(self.p50_us),
            us(self.p90_us),
            us(self.p99_us),
            us(self.max_us),
            us(self.mean_us),
            self.count
        )
    }
}

/// Microseconds for people: "412 µs", "3.21 ms".
pub fn us(x: f64) -> String {
    if x >= 1000.0 { format!("{:.2} ms", x / 1000.0) } else { format!("{x:.0} µs") }
}

/// Resident set size of this process in bytes, from /proc/self/statm.
pub fn resident_bytes() -> u64 {
    let page = page_bytes();
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|f| f.parse::<u64>().ok()))
        .map_or(0, |pages| pages * page)
}

fn page_bytes() -> u64 {
    std::process::Command::new("getconf")
        .arg("PAGESIZE")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(4096)
}

/// CPU model, logical cores and memory, from /proc.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cpu_mhz: String,
    pub logical_cores: usize,
    pub memory_total_kb: u64,
    pub kernel: String,
}

impl Machine {
    pub fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        };
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_total_kb = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Machine {
            cpu_model: field("model name").unwrap_or_else(|| "unknown".into()),
            cpu_mhz: field("cpu MHz").unwrap_or_default(),
            logical_cores: cpuinfo.lines().filter(|l| l.starts_with("processor")).count(),
            memory_total_kb,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned(),
        }
    }
}

/// CPU time this thread has used. On a shared machine, wall-clock latency also counts
/// time other processes held the core; this does not, so both are reported.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The 1-minute load average, to show how busy the machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
