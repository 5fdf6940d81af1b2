//! `GET /metrics`: Prometheus text exposition of what a watch center's monitoring needs —
//! per line: state, round trip, queue depth and the age of the oldest undelivered item;
//! the watch (alarms, who is on watch, responsiveness); the operations counters and
//! histograms (`hotline_core::metrics`: messages by precedence, bytes, connects, failed
//! logins, alarms raised, delivery and acknowledgment times); and `process_*`.
//!
//! The text is written directly: the counters already live in `hotline_core::metrics`
//! as atomics, and a metrics registry would add a dependency and global state for no
//! gain at this size. docs/grafana-dashboard.json reads these names.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use std::sync::atomic::{AtomicU64, Ordering};

use super::state::AppState;
use crate::error::{ApiError, ErrorBody};
use hotline_core::metrics::{Histogram, LineMetrics, Metrics, SEVERITIES};
use hotline_core::now_ms;
use hotline_item::Precedence;

/// Prometheus text metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain", body = String,
    description = "Prometheus text exposition format 0.0.4"), (status = 401, body = ErrorBody)))]
pub(super) async fn get_metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let mut out = String::new();
    let now = now_ms();
    let mut rows = Vec::new();
    for line in state.lines.values() {
        let status = line.status.borrow().clone();
        let peer = line.peer.clone();
        let (depth, oldest) = state.core.read(move |tx| tx.undelivered(&peer)).await?;
        rows.push((line.peer.clone(), status, depth, oldest));
    }
    let unacked = state.core.read(|tx| tx.unacked_incoming()).await?;
    let _ = writeln!(out, "# HELP hotline_line_up 1 if the line is up, else 0.\n# TYPE hotline_line_up gauge");
    for (peer, s, ..) in &rows {
        let _ =
            writeln!(out, "hotline_line_up{{peer=\"{peer}\"}} {}", u8::from(s.state == hotline_proto::LineState::Up));
    }
    let _ = writeln!(
        out,
        "# HELP hotline_line_state Line state: 0 connecting, 1 up, 2 down.\n# TYPE hotline_line_state gauge"
    );
    for (peer, s, ..) in &rows {
        let v = match s.state {
            hotline_proto::LineState::Connecting => 0,
            hotline_proto::LineState::Up => 1,
            hotline_proto::LineState::Down => 2,
        };
        let _ = writeln!(out, "hotline_line_state{{peer=\"{peer}\"}} {v}");
    }
    let _ = writeln!(
        out,
        "# HELP hotline_line_state_seconds Time in the current state.\n# TYPE hotline_line_state_seconds gauge"
    );
    for (peer, s, ..) in &rows {
        let _ =
            writeln!(out, "hotline_line_state_seconds{{peer=\"{peer}\"}} {:.3}", (now - s.since_ms) as f64 / 1000.0);
    }
    let _ = writeln!(
        out,
        "# HELP hotline_line_rtt_seconds Last heartbeat round trip.\n# TYPE hotline_line_rtt_seconds gauge"
    );
    for (peer, s, ..) in &rows {
        if let Some(rtt) = s.rtt_ms {
            let _ = writeln!(out, "hotline_line_rtt_seconds{{peer=\"{peer}\"}} {:.6}", rtt / 1000.0);
        }
    }
    let _ = writeln!(
        out,
        "# HELP hotline_queue_depth Items accepted and not yet delivered.\n# TYPE hotline_queue_depth gauge"
    );
    for (peer, _, depth, _) in &rows {
        let _ = writeln!(out, "hotline_queue_depth{{peer=\"{peer}\"}} {depth}");
    }
    let _ = writeln!(
        out,
        "# HELP hotline_oldest_undelivered_seconds Age of the oldest undelivered item (0 if none).\n# TYPE hotline_oldest_undelivered_seconds gauge"
    );
    for (peer, _, _, oldest) in &rows {
        let age = oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
        let _ = writeln!(out, "hotline_oldest_undelivered_seconds{{peer=\"{peer}\"}} {age:.3}");
    }
    let _ = writeln!(
        out,
        "# HELP hotline_unacknowledged_incoming Incoming messages no operator has acknowledged.\n# TYPE hotline_unacknowledged_incoming gauge"
    );
    let _ = writeln!(out, "hotline_unacknowledged_incoming {unacked}");
    watch_metrics(&state, &mut out).await?;
    operations_metrics(&state.core.metrics, &mut out);
    super::process::Process::read().write(&mut out);
    super::call_media::write_metrics(&state.media.counts(), &mut out);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

/// The watch: open alarms, who is on watch at both ends, and each line's responsiveness
/// over the last 24 hours (the API has 7 and 30 days too).
pub(super) async fn watch_metrics(state: &AppState, out: &mut String) -> Result<(), ApiError> {
    let alarms = state.core.read(|tx| tx.alarms(true, i64::MAX)).await?;
    let unrecorded = state.supervisor.unrecorded();
    // Each family in one group under its own HELP and TYPE, as the exposition format asks.
    family(out, "hotline_alarms_open", "gauge", "Alarms raised and not cleared.");
    for severity in SEVERITIES {
        let n = alarms.iter().chain(&unrecorded).filter(|a| a.severity == severity).count();
        let _ = writeln!(out, "hotline_alarms_open{{severity=\"{severity}\"}} {n}");
    }
    family(out, "hotline_alarms_unacknowledged", "gauge", "Alarms raised and not yet acknowledged.");
    for severity in SEVERITIES {
        let n = alarms.iter().chain(&unrecorded).filter(|a| a.severity == severity && a.acked_ms.is_none()).count();
        let _ = writeln!(out, "hotline_alarms_unacknowledged{{severity=\"{severity}\"}} {n}");
    }
    let here = state.presence.on_watch().len();
    let _ = writeln!(
        out,
        "# HELP hotline_on_watch Operators on watch here (live consoles).\n# TYPE hotline_on_watch gauge"
    );
    let _ = writeln!(out, "hotline_on_watch {here}");
    let _ = writeln!(
        out,
        "# HELP hotline_peer_on_watch Operators on watch at the peer, as it last reported.\n# TYPE hotline_peer_on_watch gauge"
    );
    let mut figures = Vec::new();
    for line in state.lines.values() {
        let peer = line.peer.clone();
        if let Some((n, _)) = state.core.read(move |tx| tx.peer_presence(&peer)).await? {
            let _ = writeln!(out, "hotline_peer_on_watch{{peer=\"{}\"}} {n}", line.peer);
        }
        figures.push((line.peer.clone(), super::responsiveness::of(state, &line.peer).await?.windows.last_24h));
    }
    let _ = writeln!(
        out,
        "# HELP hotline_watch_checks_24h Watch checks in the last 24 h by direction (out: the peer answers us) and result.\n# TYPE hotline_watch_checks_24h gauge"
    );
    for (peer, f) in &figures {
        for (direction, d) in [("out", &f.out), ("in", &f.inbound)] {
            let c = &d.watch_checks;
            for (result, n) in [("answered", c.answered), ("missed", c.missed), ("pending", c.pending)] {
                let _ = writeln!(
                    out,
                    "hotline_watch_checks_24h{{peer=\"{peer}\",direction=\"{direction}\",result=\"{result}\"}} {n}"
                );
            }
        }
    }
    let quantiles = |p50: Option<f64>, p95: Option<f64>, max: Option<f64>| [("0.5", p50), ("0.95", p95), ("1", max)];
    let _ = writeln!(
        out,
        "# HELP hotline_watch_check_answer_seconds_24h Time to answer a watch check, last 24 h.\n# TYPE hotline_watch_check_answer_seconds_24h gauge"
    );
    for (peer, f) in &figures {
        for (direction, d) in [("out", &f.out), ("in", &f.inbound)] {
            let c = &d.watch_checks;
            for (q, value) in quantiles(c.p50_s, c.p95_s, c.max_s) {
                if let Some(v) = value {
                    let _ = writeln!(
                        out,
                        "hotline_watch_check_answer_seconds_24h{{peer=\"{peer}\",direction=\"{direction}\",quantile=\"{q}\"}} {v}"
                    );
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP hotline_ack_seconds_24h Time from a message's creation to its acknowledgment, last 24 h.\n# TYPE hotline_ack_seconds_24h gauge"
    );
    for (peer, f) in &figures {
        for (direction, d) in [("out", &f.out), ("in", &f.inbound)] {
            for (precedence, s) in &d.time_to_acknowledge {
                for (q, value) in quantiles(s.p50_s, s.p95_s, s.max_s) {
                    if let Some(v) = value {
                        let _ = writeln!(
                            out,
                            "hotline_ack_seconds_24h{{peer=\"{peer}\",direction=\"{direction}\",precedence=\"{precedence}\",quantile=\"{q}\"}} {v}"
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Writes `# HELP` and `# TYPE` of one metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One histogram series: cumulative buckets, `+Inf`, sum and count, under `labels`.
fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    let (buckets, sum_s, count) = h.snapshot();
    for (bound, n) in buckets {
        let le = if bound.is_finite() { bound.to_string() } else { "+Inf".to_owned() };
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum_s:.3}\n{name}_count{{{labels}}} {count}");
}

/// Messages per line and precedence, one counter family.
fn by_precedence(out: &mut String, lines: &[(String, Arc<LineMetrics>)], name: &str, help: &str, pick: Pick4) {
    family(out, name, "counter", help);
    for (peer, m) in lines {
        for (p, c) in Precedence::ALL.iter().zip(pick(m)) {
            let _ =
                writeln!(out, "{name}{{peer=\"{peer}\",precedence=\"{}\"}} {}", p.as_str(), c.load(Ordering::Relaxed));
        }
    }
}

/// One counter per line.
fn per_line(out: &mut String, lines: &[(String, Arc<LineMetrics>)], name: &str, help: &str, pick: Pick1) {
    family(out, name, "counter", help);
    for (peer, m) in lines {
        let _ = writeln!(out, "{name}{{peer=\"{peer}\"}} {}", pick(m).load(Ordering::Relaxed));
    }
}

type Pick4 = fn(&LineMetrics) -> &[AtomicU64; 4];
type Pick1 = fn(&LineMetrics) -> &AtomicU64;

/// The counters and histograms counted where the events happen (`hotline_core::metrics`):
/// a `peer` label per line (at most `metric_lines_max`, then `_other`), precedence and
/// direction as closed sets.
pub(super) fn operations_metrics(metrics: &Metrics, out: &mut String) {
    let lines = metrics.lines();
    let help = "Messages accepted here for the peer (on disk, answered 202).";
    by_precedence(out, &lines, "hotline_messages_sent_total", help, |m| &m.messages_sent);
    let help = "Messages from the peer stored here (repeats not counted).";
    by_precedence(out, &lines, "hotline_messages_received_total", help, |m| &m.messages_received);
    let help = "Messages of ours the peer's signed receipt says are on its disk.";
    by_precedence(out, &lines, "hotline_messages_delivered_total", help, |m| &m.messages_delivered);
    let help = "Bytes of line frames written to the peer (inside TLS).";
    per_line(out, &lines, "hotline_line_sent_bytes_total", help, |m| &m.bytes_sent);
    let help = "Bytes of line frames read from the peer (inside TLS).";
    per_line(out, &lines, "hotline_line_received_bytes_total", help, |m| &m.bytes_received);
    let help = "Times the line came up; every one after the first is a reconnect.";
    per_line(out, &lines, "hotline_line_connects_total", help, |m| &m.connects);
    let name = "hotline_message_delivery_seconds";
    family(out, name, "histogram", "From a message accepted here to the peer's signed receipt for it.");
    for (peer, m) in &lines {
        for (p, h) in Precedence::ALL.iter().zip(&m.delivery) {
            histogram(out, name, &format!("peer=\"{peer}\",precedence=\"{}\"", p.as_str()), h);
        }
    }
    let name = "hotline_message_ack_seconds";
    let help = "Time to acknowledge: out, ours from creation until the peer's ack reached us; in, the peer's from arrival until our ack.";
    family(out, name, "histogram", help);
    for (peer, m) in &lines {
        histogram(out, name, &format!("peer=\"{peer}\",direction=\"out\""), &m.ack_out);
        histogram(out, name, &format!("peer=\"{peer}\",direction=\"in\""), &m.ack_in);
    }
    let name = "hotline_login_failures_total";
    family(out, name, "counter", "Failed logins (wrong password, unknown or disabled user).");
    let _ = writeln!(out, "{name} {}", metrics.logins_failed.load(Ordering::Relaxed));
    let name = "hotline_login_lockouts_total";
    family(out, name, "counter", "Lockouts after repeated failed logins (of a name or an address).");
    let _ = writeln!(out, "{name} {}", metrics.logins_locked.load(Ordering::Relaxed));
    let name = "hotline_alarms_raised_total";
    family(out, name, "counter", "Alarms raised, by severity.");
    for (severity, c) in SEVERITIES.iter().zip(&metrics.alarms_raised) {
        let _ = writeln!(out, "{name}{{severity=\"{severity}\"}} {}", c.load(Ordering::Relaxed));
    }
}
