//! What the figures were measured on: CPU, cores, kernel, memory, the data directory's
//! filesystem, and how busy the machine was.

use std::path::Path;

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
    pub memory_gib: f64,
    pub data_dir: String,
    pub filesystem: String,
    pub device: String,
    /// `/proc/loadavg`'s 1-minute figure when the run started: other work on the machine.
    pub load_1m_at_start: f64,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The filesystem type and device of the mount that holds `path` (longest mount point
/// that is a prefix of the canonical path, from `/proc/self/mountinfo`).
fn filesystem_of(path: &Path) -> (String, String) {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut best: Option<(usize, String, String)> = None;
    for line in read("/proc/self/mountinfo").lines() {
        // id parent major:minor root mount-point options ... - fstype source super-options
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else { continue };
        let (Some(mount), Some(fstype), Some(source)) = (fields.get(4), fields.get(dash + 1), fields.get(dash + 2))
        else {
            continue;
        };
        if canonical.starts_with(mount) && best.as_ref().is_none_or(|(len, ..)| mount.len() >= *len) {
            best = Some((mount.len(), (*fstype).to_owned(), (*source).to_owned()));
        }
    }
    best.map(|(_, t, s)| (t, s)).unwrap_or_else(|| ("unknown".into(), "unknown".into()))
}

pub fn describe(data_dir: &Path) -> Machine {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let memory_kib: f64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let (filesystem, device) = filesystem_of(data_dir);
    Machine {
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
        memory_gib: memory_kib / (1024.0 * 1024.0),
        data_dir: data_dir.display().to_string(),
        filesystem,
        device,
        load_1m_at_start: read("/proc/loadavg").split_whitespace().next().and_then(|l| l.parse().ok()).unwrap_or(0.0),
    }
}
