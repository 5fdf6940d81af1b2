//! The `process_*` metrics every Prometheus exporter offers (resident and virtual memory,
//! CPU seconds, open and allowed file descriptors, start time), read from Linux's `/proc`
//! on each scrape: an operations team's dashboards and alerts expect them by these names.
//!
//! Elsewhere (no `/proc`) they are left out rather than reported as zero, which a
//! dashboard would read as a process that uses nothing.

use std::fmt::Write as _;

/// Linux reports CPU times in `/proc` in USER_HZ ticks, which the kernel's user ABI fixes
/// at 100 per second on every architecture (`sysconf(_SC_CLK_TCK)`).
#[allow(non_upper_case_globals)]
const user_hz: f64 = 100.0;

/// The figures, each `None` when `/proc` did not give it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Process {
    pub resident_memory_bytes: Option<u64>,
    pub virtual_memory_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub start_time_seconds: Option<f64>,
}

/// `(utime + stime, starttime, vsize)` from `/proc/self/stat`: times in ticks, size in
/// bytes. The command name (field 2) is in parentheses and may hold spaces or `)`, so the
/// fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(u64, u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is index 0, so field N is index N - 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some((field(14)? + field(15)?, field(22)?, field(23)?))
}

/// The value, in kB, of a `/proc/self/status` line such as `VmRSS:  1234 kB`, in bytes.
fn parse_status_kb(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with(':')))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The soft limit of `Max open files` in `/proc/self/limits`.
fn parse_max_fds(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

/// The boot time (`btime`, seconds since the epoch) in `/proc/stat`.
fn parse_boot_time(stat: &str) -> Option<u64> {
    stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

impl Process {
    /// Reads this process's figures; on a system without `/proc`, none.
    pub(crate) fn read() -> Process {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let stat = read("/proc/self/stat").and_then(|s| parse_stat(&s));
        let status = read("/proc/self/status");
        let boot = read("/proc/stat").and_then(|s| parse_boot_time(&s));
        Process {
            resident_memory_bytes: status.as_deref().and_then(|s| parse_status_kb(s, "VmRSS")),
            virtual_memory_bytes: stat.map(|(_, _, vsize)| vsize),
            cpu_seconds: stat.map(|(ticks, _, _)| ticks as f64 / user_hz),
            open_fds: std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as u64),
            max_fds: read("/proc/self/limits").and_then(|l| parse_max_fds(&l)),
            start_time_seconds: stat.zip(boot).map(|((_, start, _), boot)| boot as f64 + start as f64 / user_hz),
        }
    }

    /// Appends the Prometheus text of every figure there is.
    pub(crate) fn write(&self, out: &mut String) {
        let mut one = |name: &str, kind: &str, help: &str, value: Option<String>| {
            if let Some(v) = value {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
            }
        };
        let int = |v: Option<u64>| v.map(|v| v.to_string());
        let real = |v: Option<f64>| v.map(|v| format!("{v:.2}"));
        one(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            int(self.resident_memory_bytes),
        );
        one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", int(self.virtual_memory_bytes));
        one(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            real(self.cpu_seconds),
        );
        one("process_open_fds", "gauge", "Number of open file descriptors.", int(self.open_fds));
        one("process_max_fds", "gauge", "Maximum number of open file descriptors.", int(self.max_fds));
        one(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            real(self.start_time_seconds),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_texts_parse_even_with_odd_command_names() {
        let stat = "4242 (hot line) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 \
                    123456 987654321 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat(stat), Some((300, 123456, 987654321)));
        assert_eq!(parse_stat("no parenthesis"), None);
        assert_eq!(parse_stat("1 (x) S 1"), None);
        let status = "Name:\thotline\nVmPeak:\t  9000 kB\nVmRSS:\t  2048 kB\nVmRSSX: 1 kB\n";
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(2048 * 1024));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        assert_eq!(parse_boot_time("cpu  1 2 3\nbtime 1764000000\nprocesses 5\n"), Some(1_764_000_000));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_memory_descriptors_and_a_start_time() {
        let p = Process::read();
        assert!(p.resident_memory_bytes.is_some_and(|b| b > 0), "{p:?}");
        assert!(p.virtual_memory_bytes >= p.resident_memory_bytes, "{p:?}");
        assert!(p.open_fds.is_some_and(|n| n >= 3), "{p:?}");
        assert!(p.max_fds.is_some_and(|n| n >= p.open_fds.unwrap_or(0)), "{p:?}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        // Started within the last day, not in the future (ticks round down).
        assert!(p.start_time_seconds.is_some_and(|t| t <= now + 1.0 && t > now - 86_400.0), "{p:?}");
        let mut out = String::new();
        p.write(&mut out);
        assert!(out.contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "), "{out}");
        assert!(out.contains("\nprocess_start_time_seconds "), "{out}");
    }
}
