//! `GET /metrics`: Prometheus text exposition of what a watch center's monitoring needs —
//! per line: state, round trip, queue depth and the age of the oldest undelivered item.
//!
//! The format is a handful of gauges, written directly; a metrics registry would add a
//! dependency and global state for no gain at this size.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::api::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::now_ms;

/// Prometheus text metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain"), (status = 401, body = ErrorBody)))]
pub async fn get_metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
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
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}
