//! `GET /api/v1/calls/{id}/recording`: this station's sealed recording of a call, for
//! playback in the console's call history (an `<audio>` element) and for any role,
//! auditors included. The file is served as it is on disk — the bytes whose SHA-256 the
//! record holds — with Range requests (a browser seeks in a long call without fetching
//! all of it), by tower-http's `ServeFile`, which also answers 416 for a range past the
//! end. Only sealed recordings are served: one still being written, or one a crash left
//! unsealed, is not in the record yet. `POST .../recording/delete` is a supervisor's: it
//! deletes the file for a reason they give, and the record says so
//! (`hotline_core::recording_retention`).

use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hotline_core::recording_retention::{self, DeleteError, Deleter};
use serde::Deserialize;
use tower::ServiceExt as _;
use tower_http::services::ServeFile;
use utoipa::ToSchema;

use super::calls::call_id;
use super::json::ApiJson;
use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};

/// Ogg Opus (RFC 7845 §9): what browsers play in an `<audio>` element.
const RECORDING_CONTENT_TYPE: &str = "audio/ogg; codecs=opus";

/// This station's recording of a call: Ogg Opus, two channels (our operator left, the
/// peer's right), exactly the file whose SHA-256 the record's `call.recorded` entry holds.
#[utoipa::path(get, path = "/api/v1/calls/{id}/recording",
    params(("id" = String, Path), ("Range" = Option<String>, Header, description = "bytes=FIRST-LAST")),
    responses(
        (status = 200, body = Vec<u8>, content_type = "audio/ogg", description = "The whole recording"),
        (status = 206, body = Vec<u8>, content_type = "audio/ogg", description = "The byte range asked for"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No sealed recording of this call here"),
        (status = 416, description = "The range is past the end of the recording")))]
pub(super) async fn get_recording(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    call_id(&id)?;
    let wanted = id.clone();
    let row = state.core.read(move |tx| tx.call_recording(&wanted)).await?;
    if let Some(deleted_ms) = row.as_ref().and_then(|r| r.deleted_ms) {
        let why = row.and_then(|r| r.deleted_why).unwrap_or_default();
        return Err(ApiError::NotFound(format!(
            "the recording of call {id} was deleted on {} ({why}); the record keeps its hashes",
            hotline_core::rfc3339(deleted_ms)
        )));
    }
    let path = hotline_core::recording_files::sealed_path(&state.recordings, &id);
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(ApiError::NotFound(format!(
            "no recording of call {id} here: the call was not answered, is still being recorded, or its recording was deleted"
        )));
    }
    let Ok(served) = ServeFile::new(&path).oneshot(request).await;
    let mut response = served.map(axum::body::Body::new).into_response();
    if response.status().is_success() {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(RECORDING_CONTENT_TYPE));
        // A recording is evidence and may be sensitive: no shared cache keeps a copy.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    Ok(response)
}

/// Why a supervisor deletes a recording: the record keeps their words.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingDeletion {
    #[schema(min_length = 1, max_length = 1024)]
    reason: String,
}

/// Delete this station's recording of a call (supervisors): the file goes, a
/// `call.recording_deleted` entry says who deleted it and why, and the record keeps the
/// recording's hashes. Retention deletes recordings by itself; this is for the rest.
#[utoipa::path(post, path = "/api/v1/calls/{id}/recording/delete", params(("id" = String, Path)),
    request_body = RecordingDeletion,
    responses((status = 204, description = "Deleted"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already deleted"), (status = 413, body = ErrorBody)))]
pub(super) async fn post_recording_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
    ApiJson(req): ApiJson<RecordingDeletion>,
) -> Result<StatusCode, ApiError> {
    call_id(&id)?;
    let deleter = Deleter::Supervisor { by: user.name, reason: req.reason };
    match recording_retention::delete(&state.core, &state.recordings, &id, deleter).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(DeleteError::NotFound(m)) => Err(ApiError::NotFound(m)),
        Err(DeleteError::AlreadyDeleted(m)) => Err(ApiError::Conflict(m)),
        Err(DeleteError::BadReason(m)) => Err(ApiError::bad("bad_request", m)),
        Err(DeleteError::Store(e)) => Err(e.into()),
    }
}
