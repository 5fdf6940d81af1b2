//! The station and its lines as the console's board shows them, and `/healthz`.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::responsiveness::{self, BothWays};
use super::state::AppState;
use super::watch::CheckAnswer;
use crate::error::{ApiError, ErrorBody};
use hotline_core::rfc3339;

/// `/healthz`: the station serves.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while it answers at all.
    #[schema(example = "ok")]
    status: String,
    station: String,
}

/// Liveness: answers 200 while the station serves.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub(super) async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health { status: "ok".into(), station: state.core.name.clone() })
}

/// This station, as `GET /api/v1/station` shows it.
#[derive(Serialize, ToSchema)]
pub struct StationAnswer {
    name: String,
    /// Our verifier key, `NAME+KEYHASH+BASE64`.
    key: String,
    /// The station's language (`en`, `ru`).
    lang: String,
    lines: Vec<StationLine>,
}

/// A line of the station: whom it pins and where it dials.
#[derive(Serialize, ToSchema)]
pub struct StationLine {
    peer: String,
    /// The peer's pinned verifier key.
    key: String,
    /// Primary first.
    addrs: Vec<String>,
}

/// This station: name, public key, language, lines.
#[utoipa::path(get, path = "/api/v1/station", responses((status = 200, body = StationAnswer), (status = 401, body = ErrorBody)))]
pub(super) async fn get_station(State(state): State<AppState>) -> Json<StationAnswer> {
    let lines = state
        .lines
        .values()
        .map(|l| StationLine { peer: l.peer.clone(), key: l.key.to_string(), addrs: l.addrs.clone() })
        .collect();
    Json(StationAnswer {
        name: state.core.name.clone(),
        key: state.key.verifier().to_string(),
        lang: state.core.lang.clone(),
        lines,
    })
}

/// The line's state as the line task reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LineStateName {
    Up,
    Connecting,
    Down,
}

/// Operators on watch at the peer, as it last reported.
#[derive(Serialize, ToSchema)]
pub struct PeerOnWatch {
    count: i64,
    #[schema(format = DateTime)]
    since: String,
}

/// A line card: its state, the watch, what waits, and the keys to compare.
#[derive(Serialize, ToSchema)]
pub struct LineCard {
    peer: String,
    state: LineStateName,
    /// Since when the line is in this state.
    #[schema(format = DateTime)]
    since: String,
    /// The last heartbeat round trip.
    rtt_ms: Option<f64>,
    /// The address of the connection the line runs on.
    remote: Option<String>,
    /// Our latest watch check to the peer.
    last_watch_check: Option<CheckAnswer>,
    /// The peer's latest watch check to us.
    last_watch_check_received: Option<CheckAnswer>,
    peer_on_watch: Option<PeerOnWatch>,
    responsiveness_24h: BothWays,
    /// Items accepted and not yet delivered.
    undelivered: i64,
    #[schema(format = DateTime)]
    oldest_undelivered: Option<String>,
    /// The peer's pinned verifier key.
    key: String,
    /// 12 groups of 5 digits, the same at both ends: read it aloud with the peer.
    safety_number: String,
    /// Primary first.
    addrs: Vec<String>,
}

/// Every line with its state, since when, and the last heartbeat round trip.
#[utoipa::path(get, path = "/api/v1/lines", responses((status = 200, body = [LineCard]), (status = 401, body = ErrorBody)))]
pub(super) async fn get_lines(State(state): State<AppState>) -> Result<Json<Vec<LineCard>>, ApiError> {
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
        let figures = responsiveness::of(&state, &line.peer).await?;
        out.push(LineCard {
            peer: line.peer.clone(),
            state: match status.state {
                hotline_proto::LineState::Up => LineStateName::Up,
                hotline_proto::LineState::Connecting => LineStateName::Connecting,
                hotline_proto::LineState::Down => LineStateName::Down,
            },
            since: rfc3339(status.since_ms),
            rtt_ms: status.rtt_ms,
            remote: status.remote.clone(),
            last_watch_check: last_out.as_ref().map(CheckAnswer::from),
            last_watch_check_received: last_in.as_ref().map(CheckAnswer::from),
            peer_on_watch: presence.map(|(count, since)| PeerOnWatch { count, since: rfc3339(since) }),
            responsiveness_24h: figures.windows.last_24h,
            undelivered,
            oldest_undelivered: oldest_ms.map(rfc3339),
            key: line.key.to_string(),
            // Both operators can read this aloud to each other: the same at both ends.
            safety_number: hotline_identity::safety_number(&state.key.verifier(), &line.key).to_string(),
            addrs: line.addrs.clone(),
        });
    }
    Ok(Json(out))
}
