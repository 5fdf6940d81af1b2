//! The station and its lines as the console's board shows them, and `/healthz`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::state::AppState;
use super::watch;
use crate::error::{ApiError, ErrorBody};
use hotline_core::rfc3339;

/// Liveness: answers 200 while the station serves.
#[utoipa::path(get, path = "/healthz", responses((status = 200)))]
pub(super) async fn healthz(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ok", "station": state.core.name}))
}

/// This station: name, public key, language, lines.
#[utoipa::path(get, path = "/api/v1/station", responses((status = 200), (status = 401, body = ErrorBody)))]
pub(super) async fn get_station(State(state): State<AppState>) -> Json<Value> {
    let lines: Vec<Value> =
        state.lines.values().map(|l| json!({"peer": l.peer, "key": l.key.to_string(), "addrs": l.addrs})).collect();
    Json(
        json!({"name": state.core.name, "key": state.key.verifier().to_string(), "lang": state.core.lang, "lines": lines}),
    )
}

/// Every line with its state, since when, and the last heartbeat round trip.
#[utoipa::path(get, path = "/api/v1/lines", responses((status = 200), (status = 401, body = ErrorBody)))]
pub(super) async fn get_lines(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for line in state.lines.values() {
        let status = line.status.borrow().clone();
        let peer = line.peer.clone();
        let (undelivered, oldest_ms, last_out, last_in, presence) = state
            .core
            .read(move |tx| {
                let (undelivered, oldest_ms) = tx.undelivered(&peer)?;
                let last_out = tx.last_watch_check(&peer, hotline_store::Direction::Out)?;
                let last_in = tx.last_watch_check(&peer, hotline_store::Direction::In)?;
                Ok((undelivered, oldest_ms, last_out, last_in, tx.peer_presence(&peer)?))
            })
            .await?;
        let peer_on_watch = presence.map(|(n, since)| json!({"count": n, "since": rfc3339(since)}));
        let figures = watch::responsiveness(&state, &line.peer).await?;
        out.push(json!({
            "peer": line.peer,
            "state": status.state.as_str(),
            "since": rfc3339(status.since_ms),
            "rtt_ms": status.rtt_ms,
            "remote": status.remote,
            "last_watch_check": last_out.as_ref().map(watch::check_json),
            "last_watch_check_received": last_in.as_ref().map(watch::check_json),
            "peer_on_watch": peer_on_watch,
            "responsiveness_24h": figures["windows"]["24h"],
            "undelivered": undelivered,
            "oldest_undelivered": oldest_ms.map(rfc3339),
            "key": line.key.to_string(),
            // Both operators can read this aloud to each other: the same at both ends.
            "safety_number": hotline_identity::safety_number(&state.key.verifier(), &line.key).to_string(),
            "addrs": line.addrs,
        }));
    }
    Ok(Json(Value::Array(out)))
}
