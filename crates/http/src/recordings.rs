//! `GET /api/v1/calls/{id}/recording`: this station's sealed recording of a call, for
//! playback in the console's call history (an `<audio>` element) and for any role,
//! auditors included. The file is served as it is on disk — the bytes whose SHA-256 the
//! record holds — with Range requests (a browser seeks in a long call without fetching
//! all of it), by tower-http's `ServeFile`, which also answers 416 for a range past the
//! end. Only sealed recordings are served: one still being written, or one a crash left
//! unsealed, is not in the record yet.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::ServeFile;

use super::calls::call_id;
use super::state::AppState;
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
