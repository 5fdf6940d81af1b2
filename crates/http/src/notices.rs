//! The notices and conflicts routes: file, list, amend and cancel notices on a line;
//! list and acknowledge conflicts.
//!
//! A notice is validated completely here (`hotline_notice::parse_notice`, errors naming
//! polygon, ring and position) before the line task stores it, so a refused notice changes
//! nothing. Filing, amending and cancelling go through the line task, which owns the
//! line's outbox; conflicts are detected there, in the same transaction.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hotline_notice::{Limits, parse_notice};
use serde_json::{Value, json};

use super::answers::{ConflictAnswer, NoticeAnswer, NoticeState, conform};
use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use hotline_core::entry_kind::EntryKind;
use hotline_core::notices::{conflict_json, notice_json};
use hotline_core::now_ms;
use hotline_line::{Command, NoticeChange};

/// A notice as filed or amended (PRODUCT.md's notice JSON). Documentation only: the body
/// is read as text and checked by `hotline_notice::parse_notice`, whose errors name the
/// polygon, ring and position at fault.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NoticeRequest {
    /// `air_operations`, `missile_test`, `naval_exercise`, `airspace_closure`,
    /// `ground_operations` or `other`.
    #[schema(example = "air_operations")]
    kind: String,
    area: NoticeArea,
    /// Altitude band in metres; absent for all altitudes.
    altitude: Option<NoticeAltitude>,
    /// Start (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2026-11-25T10:00:00Z")]
    start: String,
    /// End (RFC 3339, UTC), after the start and at most 30 days later.
    #[schema(format = DateTime, example = "2026-11-25T12:00:00Z")]
    end: String,
    title: String,
    remarks: Option<String>,
    /// BCP 47 language tag of the free text.
    lang: Option<String>,
}

/// An RFC 7946 Polygon or MultiPolygon geometry (at most 10,000 positions), or a circle:
/// a Point with `radius_m`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NoticeArea {
    /// `Polygon`, `MultiPolygon` or `Point`.
    #[schema(example = "Point")]
    r#type: String,
    /// GeoJSON coordinates, `[longitude, latitude]` in degrees.
    #[schema(example = json!([30.5, 50.4]))]
    coordinates: Vec<Value>,
    /// The circle's radius in metres, for a Point.
    #[schema(value_type = f64, required = false, exclusive_minimum = 0, example = 20000)]
    radius_m: Option<f64>,
}

/// An altitude band in metres.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NoticeAltitude {
    min_m: f64,
    max_m: f64,
}

/// Validates a notice body; returns its canonical JSON text and end time (ms).
fn validate(body: &str) -> Result<(String, i64), ApiError> {
    let notice = parse_notice(body, &Limits::default()).map_err(|e| ApiError::bad("bad_notice", e.to_string()))?;
    let end_ms = (notice.end.unix_timestamp_nanos() / 1_000_000) as i64;
    Ok((notice.to_json().to_string(), end_ms))
}

/// A notice past its end reads as expired (the store keeps the state it was left in).
fn with_expiry(mut notice: NoticeAnswer, end_ms: i64) -> NoticeAnswer {
    if notice.state != NoticeState::Cancelled && end_ms < now_ms() {
        notice.state = NoticeState::Expired;
    }
    notice
}

/// File a notice (PRODUCT.md's notice JSON) on the line; it travels to the peer.
#[utoipa::path(post, path = "/api/v1/lines/{peer}/notices", params(("peer" = String, Path)),
    request_body(content = NoticeRequest, content_type = "application/json"),
    responses((status = 201, body = NoticeAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_notice(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    body: String,
) -> Result<Response, ApiError> {
    let line =
        state.lines.get(&peer).ok_or_else(|| ApiError::NotFound(format!("no line to a station named {peer:?}")))?;
    let (body, end_ms) = validate(&body)?;
    let row = line.ask(|reply| Command::Notice { change: NoticeChange::File { body, end_ms }, reply }).await?;
    let notice: NoticeAnswer = conform(notice_json(&row, &state.core.name))?;
    Ok((StatusCode::CREATED, Json(notice)).into_response())
}

/// The latest version of every notice on the line, both sides'.
#[utoipa::path(get, path = "/api/v1/lines/{peer}/notices", params(("peer" = String, Path)),
    responses((status = 200, body = [NoticeAnswer]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_notices(
    State(state): State<AppState>,
    Path(peer): Path<String>,
) -> Result<Json<Vec<NoticeAnswer>>, ApiError> {
    if !state.lines.contains_key(&peer) {
        return Err(ApiError::NotFound(format!("no line to a station named {peer:?}")));
    }
    let rows = state.core.read(move |tx| tx.latest_notices(&peer)).await?;
    let local = state.core.name.clone();
    let notices = rows.iter().map(|n| Ok(with_expiry(conform(notice_json(n, &local))?, n.end_ms)));
    Ok(Json(notices.collect::<Result<_, ApiError>>()?))
}

pub(super) async fn change(
    state: &AppState,
    id: String,
    make: impl FnOnce(String) -> NoticeChange,
) -> Result<Json<NoticeAnswer>, ApiError> {
    let wanted = id.clone();
    let current = state.core.read(move |tx| tx.latest_notice(&wanted)).await?;
    let current = current.ok_or_else(|| ApiError::NotFound(format!("no notice {id}")))?;
    let line =
        state.lines.get(&current.peer).ok_or_else(|| ApiError::NotFound(format!("no line to {}", current.peer)))?;
    let change = make(id);
    let row = line.ask(|reply| Command::Notice { change, reply }).await?;
    Ok(Json(conform(notice_json(&row, &state.core.name))?))
}

/// Amend a notice of ours: the body is the whole new notice; the history is kept.
#[utoipa::path(patch, path = "/api/v1/notices/{id}", params(("id" = String, Path)),
    request_body(content = NoticeRequest, content_type = "application/json"),
    responses((status = 200, body = NoticeAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn patch_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: String,
) -> Result<Json<NoticeAnswer>, ApiError> {
    let (body, end_ms) = validate(&body)?;
    change(&state, id, |id| NoticeChange::Amend { id, body, end_ms }).await
}

/// Cancel a notice of ours.
#[utoipa::path(delete, path = "/api/v1/notices/{id}", params(("id" = String, Path)),
    responses((status = 200, body = NoticeAnswer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn delete_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<NoticeAnswer>, ApiError> {
    change(&state, id, |id| NoticeChange::Cancel { id }).await
}

/// Acknowledge the peer's notice: an operator here has read it. The acknowledgment travels
/// back to the station that filed it.
#[utoipa::path(post, path = "/api/v1/notices/{id}/ack", params(("id" = String, Path)),
    responses((status = 200, body = NoticeAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_notice_ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<NoticeAnswer>, ApiError> {
    change(&state, id, |id| NoticeChange::Ack { id, by: user.name }).await
}

/// Most conflicts one listing returns (open ones come first, so none is hidden by old ones).
#[allow(non_upper_case_globals)]
const conflicts_page_max: i64 = 1000;

/// The conflicts this station has detected, open ones first, at most 1,000.
#[utoipa::path(get, path = "/api/v1/conflicts",
    responses((status = 200, body = [ConflictAnswer]), (status = 401, body = ErrorBody)))]
pub(super) async fn get_conflicts(State(state): State<AppState>) -> Result<Json<Vec<ConflictAnswer>>, ApiError> {
    let rows = state.core.read(|tx| tx.conflicts_page(conflicts_page_max)).await?;
    Ok(Json(rows.iter().map(|c| conform(conflict_json(c))).collect::<Result<_, _>>()?))
}

/// An operator here has seen the conflict.
#[utoipa::path(post, path = "/api/v1/conflicts/{id}/ack", params(("id" = String, Path)),
    responses((status = 200, body = ConflictAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_conflict_ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<ConflictAnswer>, ApiError> {
    let row = state
        .core
        .write(move |j| {
            let Some(_) = j.tx.conflict(&id)? else { return Ok(None) };
            if j.tx.ack_conflict(&id, &user.name, j.now_ms)? {
                j.append(EntryKind::ConflictAcknowledged, json!({"id": id, "by": user.name}))?;
            }
            j.tx.conflict(&id)
        })
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such conflict".into()))?;
    Ok(Json(conform(conflict_json(&row))?))
}
