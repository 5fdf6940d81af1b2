//! The watch in the HTTP API: watch checks, alarms, and each line's responsiveness.
//!
//! Any operator on watch may answer a watch check or acknowledge an alarm — nothing waits
//! for one named person. Clearing an alarm by hand is a supervisor's decision (most clear
//! themselves when their cause ends). The responsiveness figures are computed in
//! `responsiveness.rs`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, response::IntoResponse, response::Response};
use hotline_store::{AlarmRow, Direction, Role, WatchCheckRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answers::{AlarmAnswer, Way, conform};
use super::responsiveness::{self, ResponsivenessAnswer, figures_rows_max, window_30d_ms};
use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use hotline_core::alarms::{self, alarm_json};
use hotline_core::{now_ms, rfc3339};
use hotline_line::Command;

/// Most alarms or checks returned by one listing.
#[allow(non_upper_case_globals)]
pub const watch_page_max: i64 = 500;

/// pending → answered, or missed (its deadline passed unanswered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    Pending,
    Answered,
    Missed,
}

/// A watch check: ours to the peer (`out`) or the peer's to us (`in`, answered here).
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckAnswer {
    pub id: String,
    pub peer: String,
    pub direction: Way,
    pub state: CheckState,
    #[schema(format = DateTime)]
    pub sent: String,
    #[schema(format = DateTime)]
    pub deadline: String,
    #[schema(format = DateTime)]
    pub answered: Option<String>,
    pub answered_by: Option<String>,
    /// Seconds from sending to the answer.
    pub answered_in_s: Option<f64>,
    /// Answered, but after its deadline.
    pub late: bool,
}

impl From<&WatchCheckRow> for CheckAnswer {
    fn from(c: &WatchCheckRow) -> CheckAnswer {
        CheckAnswer {
            id: c.id.clone(),
            peer: c.peer.clone(),
            direction: match c.direction {
                Direction::Out => Way::Out,
                Direction::In => Way::In,
            },
            state: match (c.answered_ms, c.missed) {
                (Some(_), _) => CheckState::Answered,
                (None, true) => CheckState::Missed,
                (None, false) => CheckState::Pending,
            },
            sent: rfc3339(c.sent_ms),
            deadline: rfc3339(c.deadline_ms),
            answered: c.answered_ms.map(rfc3339),
            answered_by: c.answered_by.clone(),
            answered_in_s: c.answered_ms.map(|a| (a - c.sent_ms) as f64 / 1000.0),
            late: c.missed && c.answered_ms.is_some(),
        }
    }
}

/// Run a watch check on the line now: an operator at the peer must answer it by the
/// line's deadline (default 5 minutes).
#[utoipa::path(post, path = "/api/v1/lines/{peer}/watch-check", params(("peer" = String, Path)),
    responses((status = 202, body = CheckAnswer, description = "Sent (or queued while the line is down)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_watch_check(
    State(state): State<AppState>,
    Path(peer): Path<String>,
) -> Result<Response, ApiError> {
    let line = state.line(&peer)?;
    let row = line.ask(|reply| Command::WatchCheck { reply }).await?;
    Ok((StatusCode::ACCEPTED, Json(CheckAnswer::from(&row))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ChecksQuery {
    /// Only this line's checks.
    peer: Option<String>,
    /// At most this many, newest first (default and maximum 500).
    limit: Option<i64>,
}

/// Watch checks both ways, newest first: ours to the peer (`out`) and the peer's to us
/// (`in`, to be answered here).
#[utoipa::path(get, path = "/api/v1/watch-checks", params(ChecksQuery),
    responses((status = 200, body = [CheckAnswer]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn get_watch_checks(
    State(state): State<AppState>,
    Query(q): Query<ChecksQuery>,
) -> Result<Json<Vec<CheckAnswer>>, ApiError> {
    let limit = q.limit.unwrap_or(watch_page_max).clamp(1, watch_page_max);
    let peers: Vec<String> = match q.peer {
        Some(p) => vec![state.line(&p)?.peer.clone()],
        None => state.lines.keys().collect(),
    };
    let since = now_ms() - window_30d_ms;
    let mut checks = state
        .core
        .read(move |tx| {
            let mut all = Vec::new();
            for p in &peers {
                all.extend(tx.watch_checks_since(p, since, figures_rows_max)?);
            }
            Ok(all)
        })
        .await?;
    checks.sort_by_key(|c| std::cmp::Reverse(c.sent_ms));
    checks.truncate(limit as usize);
    Ok(Json(checks.iter().map(CheckAnswer::from).collect()))
}

/// Answer the peer's watch check: "someone is here". Any operator may answer.
#[utoipa::path(post, path = "/api/v1/watch-checks/{id}/answer", params(("id" = String, Path)),
    responses((status = 200, body = CheckAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_watch_check_answer(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    Path(id): Path<String>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let lookup = id.clone();
    let check = state
        .core
        .read(move |tx| tx.watch_check(&lookup))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no watch check {id}")))?;
    if check.direction != Direction::In {
        return Err(ApiError::Conflict("this is our own watch check; the peer answers it".into()));
    }
    let line = state.line(&check.peer)?;
    let row = line.ask(|reply| Command::AnswerCheck { id, by: user.name.clone(), reply }).await?;
    Ok(Json(CheckAnswer::from(&row)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AlarmsQuery {
    /// `open` (default: raised or acknowledged) or `all`.
    state: Option<String>,
    /// At most this many (default and maximum 500).
    limit: Option<i64>,
}

/// Alarms, open ones first, newest first. An alarm the disk could not take yet is listed
/// with `"recorded": false`.
#[utoipa::path(get, path = "/api/v1/alarms", params(AlarmsQuery),
    responses((status = 200, body = [AlarmAnswer]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(super) async fn get_alarms(
    State(state): State<AppState>,
    Query(q): Query<AlarmsQuery>,
) -> Result<Json<Vec<AlarmAnswer>>, ApiError> {
    let open_only = match q.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => return Err(ApiError::bad("bad_request", format!("state {other:?} is not \"open\" or \"all\""))),
    };
    let limit = q.limit.unwrap_or(watch_page_max).clamp(1, watch_page_max);
    let rows = state.core.read(move |tx| tx.alarms(open_only, limit)).await?;
    let unrecorded = state.supervisor.unrecorded();
    let listed = unrecorded.iter().map(|a| (a, false)).chain(rows.iter().map(|a| (a, true)));
    let out = listed.map(|(a, recorded)| {
        let mut alarm: AlarmAnswer = conform(alarm_json(a))?;
        alarm.recorded = Some(recorded);
        Ok(alarm)
    });
    Ok(Json(out.collect::<Result<_, ApiError>>()?))
}

pub(super) async fn alarm_or_404(state: &AppState, id: &str) -> Result<AlarmRow, ApiError> {
    let lookup = id.to_owned();
    state.core.read(move |tx| tx.alarm(&lookup)).await?.ok_or_else(|| ApiError::NotFound(format!("no alarm {id}")))
}

/// Acknowledge an alarm: someone has it in hand; escalation stops. Any operator may.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/ack", params(("id" = String, Path)),
    responses((status = 200, body = AlarmAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_alarm_ack(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    Path(id): Path<String>,
) -> Result<Json<AlarmAnswer>, ApiError> {
    alarm_or_404(&state, &id).await?;
    let by = user.name.clone();
    let row = state
        .core
        .write(move |j| alarms::acknowledge(j, &id, &by))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such alarm".into()))?;
    if row.cleared_ms.is_none() {
        let key = row.key.clone();
        state.supervisor.observe(|w, _| {
            w.on_acknowledged(&key);
        });
    }
    Ok(Json(conform(alarm_json(&row))?))
}

/// Clear an alarm by hand (supervisors): for causes that do not end by themselves, such
/// as a key mismatch or a record fork, once they have been dealt with.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/clear", params(("id" = String, Path)),
    responses((status = 200, body = AlarmAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_alarm_clear(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    Path(id): Path<String>,
) -> Result<Json<AlarmAnswer>, ApiError> {
    if user.role != Role::Supervisor {
        return Err(ApiError::Forbidden("only a supervisor clears an alarm by hand".into()));
    }
    alarm_or_404(&state, &id).await?;
    let by = user.name.clone();
    let row = state
        .core
        .write(move |j| alarms::clear(j, &id, Some(&by), "cleared by a supervisor"))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such alarm".into()))?;
    let key = row.key.clone();
    state.supervisor.observe(|w, _| {
        w.on_cleared(&key);
    });
    Ok(Json(conform(alarm_json(&row))?))
}

/// How fast each side answers on this line: watch checks answered and missed, time to
/// answer (p50, p95, max) and time to acknowledge messages by precedence, per direction
/// (`out`: the peer answering us; `in`: us answering the peer), over 24 h, 7 and 30 days.
#[utoipa::path(get, path = "/api/v1/lines/{peer}/responsiveness", params(("peer" = String, Path)),
    responses((status = 200, body = ResponsivenessAnswer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_responsiveness(
    State(state): State<AppState>,
    Path(peer): Path<String>,
) -> Result<Json<ResponsivenessAnswer>, ApiError> {
    state.line(&peer)?;
    Ok(Json(responsiveness::of(&state, &peer).await?))
}
