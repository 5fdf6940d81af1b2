//! `GET /metrics`: Prometheus text exposition of what a watch center's monitoring needs —
//! per line: state, round trip, queue depth and the age of the oldest undelivered item.
//!
//! The format is a handful of gauges, written directly; a metrics registry would add a
//! dependency and global state for no gain at this size.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::state::AppState;
use crate::error::{ApiError, ErrorBody};
use hotline_core::now_ms;

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
    super::call_media::write_metrics(&state.media.counts(), &mut out);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

/// The watch: open alarms, who is on watch at both ends, and each line's responsiveness
/// over the last 24 hours (the API has 7 and 30 days too).
pub(super) async fn watch_metrics(state: &AppState, out: &mut String) -> Result<(), ApiError> {
    let alarms = state.core.read(|tx| tx.alarms(true, i64::MAX)).await?;
    let unrecorded = state.supervisor.unrecorded();
    let _ =
        writeln!(out, "# HELP hotline_alarms_open Alarms raised and not cleared.\n# TYPE hotline_alarms_open gauge");
    for severity in ["critical", "warning"] {
        let n = alarms.iter().chain(&unrecorded).filter(|a| a.severity == severity).count();
        let unacked =
            alarms.iter().chain(&unrecorded).filter(|a| a.severity == severity && a.acked_ms.is_none()).count();
        let _ = writeln!(out, "hotline_alarms_open{{severity=\"{severity}\"}} {n}");
        let _ = writeln!(out, "hotline_alarms_unacknowledged{{severity=\"{severity}\"}} {unacked}");
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
