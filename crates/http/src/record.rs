//! `GET /api/v1/log/checkpoint` and `GET /api/v1/log/export`: the record, for people and
//! for auditors' tools.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::state::AppState;
use crate::error::{ApiError, ErrorBody};
use hotline_core::export::export;

/// The latest signed checkpoint of this station's record (made now if the record grew),
/// as a C2SP signed note with the peers' cosignature lines.
#[utoipa::path(get, path = "/api/v1/log/checkpoint",
    responses((status = 200, content_type = "text/plain"), (status = 401, body = ErrorBody)))]
pub(super) async fn get_checkpoint(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let latest = state.core.checkpoint(state.key.clone()).await?;
    let Some((size, note)) = latest else {
        return Err(ApiError::NotFound("the record is empty: no checkpoint yet".into()));
    };
    // The newest checkpoint may not be cosigned yet: also show the latest that is.
    let lines: String = state.core.read(move |tx| tx.cosignatures(size)).await?.into_iter().map(|(_, l)| l).collect();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{note}{lines}")))
}

/// The whole record for `hotline verify` (docs/record-format.md).
#[utoipa::path(get, path = "/api/v1/log/export",
    responses((status = 200, content_type = "application/json"), (status = 401, body = ErrorBody)))]
pub(super) async fn get_export(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let peers = state.lines.values().map(|l| l.key.clone()).collect();
    let text = export(&state.core, state.key.clone(), peers).await?;
    let filename = format!("attachment; filename=\"{}-record.json\"", state.core.name);
    Ok(([(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, filename)], text))
}
