//! Voice calls over the API (PRODUCT.md "Calls"): start a call on a line, list and read
//! calls, answer, decline or hang up. The line task decides through its
//! `hotline_call::CallLine`; this file only parses, routes and shapes the answers. A start
//! on a line that is down is refused at once (`503 line_down`) and still recorded; a
//! second call on a busy line gets `409 call_in_progress`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_call::CallId;
use serde::Deserialize;

use super::answers::{CallAnswer, conform};
use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use hotline_line::Command;
use hotline_line::calls::CallOp;

/// Most calls one listing returns.
#[allow(non_upper_case_globals)]
const calls_page_max: i64 = 500;

pub(super) fn call_id(text: &str) -> Result<CallId, ApiError> {
    text.parse::<CallId>().map_err(|_| ApiError::bad("bad_id", "a call id is a UUID (version 7)"))
}

/// Start a call to the line's peer: every console logged in there rings.
#[utoipa::path(post, path = "/api/v1/lines/{peer}/calls", params(("peer" = String, Path)),
    responses((status = 201, body = CallAnswer, description = "The call, ringing"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "call_in_progress"),
        (status = 503, body = ErrorBody, description = "line_down")))]
pub(super) async fn post_call(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Response, ApiError> {
    let line = state.line(&peer)?;
    let by = user.name.clone();
    let call = line.ask(|reply| Command::Call { op: CallOp::Start, by, reply }).await?;
    Ok((StatusCode::CREATED, Json(conform::<CallAnswer>(call)?)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CallsQuery {
    /// `active` (ringing or answered) or `all` (the default).
    state: Option<String>,
}

/// Calls on every line, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/calls", params(CallsQuery),
    responses((status = 200, body = [CallAnswer]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(super) async fn get_calls(
    State(state): State<AppState>,
    Query(q): Query<CallsQuery>,
) -> Result<Json<Vec<CallAnswer>>, ApiError> {
    let live_only = match q.state.as_deref() {
        None | Some("all") => false,
        Some("active") => true,
        Some(other) => return Err(ApiError::bad("bad_request", format!("state {other:?} is not active or all"))),
    };
    let rows = state
        .core
        .read(move |tx| {
            let rows = tx.calls(live_only, calls_page_max)?;
            rows.into_iter()
                .map(|row| Ok((tx.call_recording(&row.id)?, tx.recording_stops(&row.id)?, row)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let calls = rows.iter().filter_map(|(recording, stops, row)| view(row, recording.as_ref(), stops)).map(conform);
    Ok(Json(calls.collect::<Result<_, _>>()?))
}

/// A call as the API shows it: its state, this station's recording once sealed, and
/// where a recording stopped before the call ended.
fn view(
    row: &hotline_store::CallRow,
    recording: Option<&hotline_store::CallRecordingRow>,
    stops: &[hotline_store::RecordingStop],
) -> Option<serde_json::Value> {
    let call: hotline_call::Call = serde_json::from_str(&row.call).ok()?;
    let mut json = hotline_line::calls::call_json(&call, &row.peer);
    if !stops.is_empty()
        && let Some(object) = json.as_object_mut()
    {
        let stopped: serde_json::Map<String, serde_json::Value> = stops
            .iter()
            .map(|s| {
                let at = hotline_core::rfc3339(s.stopped_ms);
                (s.side.as_str().to_owned(), serde_json::json!({"at": at, "why": s.why}))
            })
            .collect();
        object.insert("recording_stopped".to_owned(), stopped.into());
    }
    if let (Some(r), Some(object)) = (recording, json.as_object_mut()) {
        object.insert(
            "recording".to_owned(),
            serde_json::json!({"sha256": r.sha256, "bytes": r.bytes, "duration_s": r.duration_ms as f64 / 1000.0,
                "cut_off": r.cut_off, "kept_until": hotline_core::rfc3339(r.kept_until_ms())}),
        );
        if let (Some(at), Some(recording)) = (r.deleted_ms, object.get_mut("recording")) {
            recording["deleted"] = serde_json::json!({"at": hotline_core::rfc3339(at),
                "why": r.deleted_why.clone().unwrap_or_default()});
        }
    }
    Some(json)
}

/// One call by id.
#[utoipa::path(get, path = "/api/v1/calls/{id}", params(("id" = String, Path)),
    responses((status = 200, body = CallAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_call(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CallAnswer>, ApiError> {
    call_id(&id)?;
    let wanted = id.clone();
    let (row, recording, stops) = state
        .core
        .read(move |tx| Ok((tx.call(&wanted)?, tx.call_recording(&wanted)?, tx.recording_stops(&wanted)?)))
        .await?;
    let call = row
        .as_ref()
        .and_then(|row| view(row, recording.as_ref(), &stops))
        .ok_or_else(|| ApiError::NotFound(format!("no call {id}")))?;
    Ok(Json(conform(call)?))
}

async fn act(state: &AppState, id: &str, user: &str, op: fn(CallId) -> CallOp) -> Result<Json<CallAnswer>, ApiError> {
    let call = call_id(id)?;
    let wanted = id.to_owned();
    let row = state.core.read(move |tx| tx.call(&wanted)).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("no call {id}")))?;
    let line = state.line(&row.peer)?;
    let by = user.to_owned();
    Ok(Json(conform(line.ask(|reply| Command::Call { op: op(call), by, reply }).await?)?))
}

/// Answer a call that rings here.
#[utoipa::path(post, path = "/api/v1/calls/{id}/answer", params(("id" = String, Path)),
    responses((status = 200, body = CallAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<CallAnswer>, ApiError> {
    act(&state, &id, &user.name, CallOp::Answer).await
}

/// Decline a call that rings here.
#[utoipa::path(post, path = "/api/v1/calls/{id}/decline", params(("id" = String, Path)),
    responses((status = 200, body = CallAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_decline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<CallAnswer>, ApiError> {
    act(&state, &id, &user.name, CallOp::Decline).await
}

/// Hang up (or, while it rings, cancel) a call.
#[utoipa::path(post, path = "/api/v1/calls/{id}/hangup", params(("id" = String, Path)),
    responses((status = 200, body = CallAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_hangup(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<CallAnswer>, ApiError> {
    act(&state, &id, &user.name, CallOp::Hangup).await
}
