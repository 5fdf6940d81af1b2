//! The benchmark's results: one serialisable report, rendered as Markdown tables (printed,
//! and pasted into docs/benchmarks.md) and written as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::catchup::CatchUp;
use crate::delivery::LoadResult;
use crate::failover::Failover;
use crate::floor::Floor;
use crate::footprint::Footprint;
use crate::machine::Machine;
use crate::record::RecordResult;

/// One offered load on both systems, with the ratios the issue asks for.
#[derive(Clone, Debug, Serialize)]
pub struct LoadPair {
    pub rate_per_s: f64,
    /// The floor measured just before this load: the disk of a shared machine changes by
    /// the minute, so each load is held against its own.
    pub floor: Option<Floor>,
    pub hotline: Option<LoadResult>,
    pub jetstream: Option<LoadResult>,
    pub ours_over_floor_p50: Option<f64>,
    pub ours_over_floor_p99: Option<f64>,
    pub ours_over_jetstream_p50: Option<f64>,
    pub ours_over_jetstream_p99: Option<f64>,
}

impl LoadPair {
    pub fn new(rate: f64, hotline: Option<LoadResult>, jetstream: Option<LoadResult>, floor: Option<Floor>) -> Self {
        let ours = hotline.as_ref().map(|h| &h.latency);
        let js = jetstream.as_ref().map(|j| &j.latency);
        let floor_ref = floor.as_ref();
        LoadPair {
            rate_per_s: rate,
            ours_over_floor_p50: ours.zip(floor_ref).map(|(o, f)| o.p50_ms / f.floor_p50_ms),
            ours_over_floor_p99: ours.zip(floor_ref).map(|(o, f)| o.p99_ms / f.floor_p99_ms),
            ours_over_jetstream_p50: ours.zip(js).map(|(o, j)| o.p50_ms / j.p50_ms),
            ours_over_jetstream_p99: ours.zip(js).map(|(o, j)| o.p99_ms / j.p99_ms),
            floor,
            hotline,
            jetstream,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Goal {
    pub goal: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub quick: bool,
    pub hotline_bin: String,
    pub nats_server: Option<String>,
    pub message_body_bytes: usize,
    pub machine: Option<Machine>,
    pub floor: Option<Floor>,
    pub loads: Vec<LoadPair>,
    /// Hotline at 100 msg/s again after the catch-up, with its history in the outbox.
    pub after_history: Option<LoadResult>,
    pub catch_up: Option<CatchUp>,
    pub failover: Option<Failover>,
    pub footprint: Option<Footprint>,
    pub record: Option<RecordResult>,
    pub goals: Vec<Goal>,
}

fn f(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.2}×"))
}

fn load_row(out: &mut String, r: &LoadResult) {
    let l = &r.latency;
    let _ = writeln!(
        out,
        "| {} msg/s | {} | {}/{} | {} | {} | {} | {} | {} / {} | {} |",
        r.rate_per_s,
        r.system,
        r.completed,
        r.offered,
        f(l.p50_ms),
        f(l.p99_ms),
        f(l.p999_ms),
        f(l.max_ms),
        f(r.accept.p50_ms),
        f(r.accept.p99_ms),
        f(r.achieved_per_s),
    );
}

impl Report {
    /// Checks the goals against what was measured.
    pub fn judge(&mut self) {
        let mut goals = Vec::new();
        let at_100 = self.loads.iter().find(|p| p.rate_per_s == 100.0);
        if let (Some(p), Some(fl)) = (at_100.and_then(|p| p.hotline.as_ref()), at_100.and_then(|p| p.floor.as_ref())) {
            let p99 = p.latency.p99_ms;
            goals.push(Goal {
                goal: "p99 at 100 msg/s within 3 × floor (p99 floor, measured just before)".into(),
                measured: format!("{} ms vs 3 × {} = {} ms", f(p99), f(fl.floor_p99_ms), f(3.0 * fl.floor_p99_ms)),
                met: p99 <= 3.0 * fl.floor_p99_ms,
            });
        }
        if let Some((h, j)) = at_100.and_then(|p| p.hotline.as_ref().zip(p.jetstream.as_ref())) {
            goals.push(Goal {
                goal: "p99 at 100 msg/s below JetStream's p99".into(),
                measured: format!("{} ms vs {} ms", f(h.latency.p99_ms), f(j.latency.p99_ms)),
                met: h.latency.p99_ms < j.latency.p99_ms,
            });
        }
        if let Some(c) = &self.catch_up {
            goals.push(Goal {
                goal: "catch-up ≥ 20,000 msg/s".into(),
                measured: format!("{} msg/s", f(c.catchup_per_s)),
                met: c.catchup_per_s >= 20_000.0,
            });
        }
        if let Some(fo) = &self.failover {
            goals.push(Goal {
                goal: "failover < 2 s (primary listener killed)".into(),
                measured: format!("{} s median", f(fo.kill_median_s)),
                met: fo.kill_median_s < 2.0,
            });
        }
        if let Some(fp) = &self.footprint {
            goals.push(Goal {
                goal: format!("idle station with {} lines < 30 MB RSS", fp.lines_up),
                measured: format!("{} MiB ({} MB)", f(fp.hub_rss_mib), f(fp.hub_rss_mib * 1.048_576)),
                met: fp.hub_rss_mib * 1.048_576 < 30.0,
            });
        }
        if let Some(r) = &self.record {
            let mut starts = r.startup_s.clone();
            starts.sort_by(f64::total_cmp);
            let median = starts.get(starts.len() / 2).copied().unwrap_or(f64::NAN);
            goals.push(Goal {
                goal: format!("start-up < 1 s with {} entries", r.entries),
                measured: format!("{} s median", f(median)),
                met: median < 1.0,
            });
            goals.push(Goal {
                goal: format!("verify {} entries < 10 s", r.entries),
                measured: format!("{} s", f(r.verify_s)),
                met: r.verify_ok && r.verify_s < 10.0,
            });
        }
        self.goals = goals;
    }

    /// Markdown tables of everything measured.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Date: {}  \nCommand: `{}`", self.date, self.command);
        if let Some(m) = &self.machine {
            let _ = writeln!(
                out,
                "Machine: {}, {} cores, {:.1} GiB, Linux {}; data dir {} on {} ({}); load average {:.2} at start  \nhotline: {}; NATS: {}; message body {} bytes\n",
                m.cpu_model,
                m.cores,
                m.memory_gib,
                m.kernel,
                m.data_dir,
                m.filesystem,
                m.device,
                m.load_1m_at_start,
                self.hotline_bin,
                self.nats_server.as_deref().unwrap_or("not run"),
                self.message_body_bytes
            );
        }
        if let Some(fl) = &self.floor {
            let _ = writeln!(out, "### Floor\n\n| | p50 ms | p99 ms | n |\n|---|---|---|---|");
            let _ = writeln!(
                out,
                "| fdatasync, 256 B append | {} | {} | {} |",
                f(fl.fdatasync.p50_ms),
                f(fl.fdatasync.p99_ms),
                fl.fdatasync.n
            );
            let o = &fl.fdatasync_overwrite;
            let _ = writeln!(
                out,
                "| (reference) fdatasync, 256 B overwrite in place | {} | {} | {} |",
                f(o.p50_ms),
                f(o.p99_ms),
                o.n
            );
            let _ = writeln!(
                out,
                "| loopback TCP RTT | {} | {} | {} |",
                f(fl.loopback_rtt.p50_ms),
                f(fl.loopback_rtt.p99_ms),
                fl.loopback_rtt.n
            );
            let _ = writeln!(
                out,
                "| **floor** = 2 × fdatasync + RTT | **{}** | **{}** | |\n",
                f(fl.floor_p50_ms),
                f(fl.floor_p99_ms)
            );
        }
        if !self.loads.is_empty() {
            let _ = writeln!(
                out,
                "### Durable delivery latency (open loop, ms from the scheduled send)\n\n| load | system | done | p50 | p99 | p99.9 | max | accept p50 / p99 | achieved msg/s |\n|---|---|---|---|---|---|---|---|---|"
            );
            for p in &self.loads {
                for r in [&p.hotline, &p.jetstream].into_iter().flatten() {
                    load_row(&mut out, r);
                }
            }
            if let Some(r) = &self.after_history {
                let mut r = r.clone();
                let history = self.catch_up.as_ref().map_or(0, |c| c.messages);
                r.system = format!("hotline, after the catch-up ({history} messages of history)");
                load_row(&mut out, &r);
            }
            let _ = writeln!(
                out,
                "\n| load | floor p50 / p99 ms (fdatasync p50 / p99) just before | ours / floor p50 | ours / floor p99 | ours / JetStream p50 | ours / JetStream p99 |\n|---|---|---|---|---|---|"
            );
            for p in &self.loads {
                let floor = p.floor.as_ref().map_or_else(
                    || "–".to_owned(),
                    |fl| {
                        format!(
                            "{} / {} ({} / {})",
                            f(fl.floor_p50_ms),
                            f(fl.floor_p99_ms),
                            f(fl.fdatasync.p50_ms),
                            f(fl.fdatasync.p99_ms)
                        )
                    },
                );
                let _ = writeln!(
                    out,
                    "| {} msg/s | {floor} | {} | {} | {} | {} |",
                    p.rate_per_s,
                    opt(p.ours_over_floor_p50),
                    opt(p.ours_over_floor_p99),
                    opt(p.ours_over_jetstream_p50),
                    opt(p.ours_over_jetstream_p99)
                );
            }
            let _ = writeln!(out);
        }
        if let Some(c) = &self.catch_up {
            let _ = writeln!(
                out,
                "### Catch-up\n\n| | |\n|---|---|\n| messages queued while bravo was stopped | {} |\n| queueing via HTTP ({} in flight) | {} s, {} msg/s |\n| bravo start → line up | {} s |\n| line up → all delivered | {} s |\n| **catch-up rate** | **{} msg/s** |\n",
                c.messages,
                c.queue_concurrency,
                f(c.queue_s),
                f(c.queue_per_s),
                f(c.bravo_start_to_line_up_s),
                f(c.line_up_to_all_delivered_s),
                f(c.catchup_per_s)
            );
        }
        if let Some(fo) = &self.failover {
            let _ = writeln!(
                out,
                "### Failover (primary → backup address)\n\n| cut | cut → line not up s | cut → up on backup s | remote after |\n|---|---|---|---|"
            );
            for t in &fo.trials {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    t.mode,
                    f(t.cut_to_not_up_s),
                    f(t.cut_to_up_s),
                    t.remote_after
                );
            }
            let _ = writeln!(out);
        }
        if let Some(fp) = &self.footprint {
            let _ = writeln!(
                out,
                "### Footprint (idle station, {} lines up, {} s window)\n\n| | |\n|---|---|\n| RSS | {} MiB (peak {} MiB) |\n| CPU | {} % of one core |\n| threads | {} |\n| RSS of a one-line peer (mean) | {} MiB |\n",
                fp.lines_up,
                f(fp.idle_window_s),
                f(fp.hub_rss_mib),
                f(fp.hub_rss_peak_mib),
                f(fp.hub_cpu_percent),
                fp.hub_threads,
                f(fp.peer_rss_mib_mean)
            );
        }
        if let Some(r) = &self.record {
            let starts: Vec<String> = r.startup_s.iter().map(|s| f(*s)).collect();
            let _ = writeln!(
                out,
                "### Record ({} entries, {} signed)\n\n| | |\n|---|---|\n| build via `Core::write`, signing | {} s, {} entries/s |\n| database | {} MiB |\n| start-up to /healthz | {} s |\n| RSS after start | {} MiB |\n| `hotline log export` | {} s, {} MiB |\n| `hotline verify` | {} s ({}) |\n",
                r.entries,
                r.signed_entries,
                f(r.build_s),
                f(r.build_entries_per_s),
                f(r.db_mib),
                starts.join(", "),
                f(r.rss_after_start_mib),
                f(r.export_s),
                f(r.export_mib),
                f(r.verify_s),
                if r.verify_ok { "OK" } else { "FAILED" }
            );
        }
        if !self.goals.is_empty() {
            let _ = writeln!(out, "### Goals\n\n| goal | measured | met |\n|---|---|---|");
            for g in &self.goals {
                let _ = writeln!(out, "| {} | {} | {} |", g.goal, g.measured, if g.met { "yes" } else { "**no**" });
            }
        }
        out
    }
}
