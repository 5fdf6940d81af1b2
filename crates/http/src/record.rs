//! `GET /api/v1/log/checkpoint` and `GET /api/v1/log/export`: the record, for people and
//! for auditors' tools.
//!
//! The export is streamed: its body is written a page of entries at a time, each page read
//! in its own short transaction (`hotline_core::export::ExportCursor`), so a large record
//! neither sits whole in memory nor holds the store's lock while a client downloads it.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::state::AppState;
use crate::error::{ApiError, ErrorBody};
use hotline_core::export;

/// The latest signed checkpoint of this station's record (made now if the record grew),
/// as a C2SP signed note with the peers' cosignature lines.
#[utoipa::path(get, path = "/api/v1/log/checkpoint",
    responses((status = 200, content_type = "text/plain", body = String,
        description = "A C2SP signed note, then the peer's cosignature lines"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
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
    responses((status = 200, content_type = "application/json", body = Object,
        description = "The export, version 1, as docs/record-format.md describes it"),
        (status = 401, body = ErrorBody)))]
pub(super) async fn get_export(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let peers: Vec<_> = state.lines.values().map(|l| l.key.clone()).collect();
    // Signed before the first byte, so an empty record is still a clean 4xx/5xx answer.
    let cursor = export::begin(&state.core, state.key.clone(), &peers).await?;
    let core = state.core.clone();
    // One chunk per page; the next page is read only when hyper wants more, so a slow
    // client holds a page of memory and no lock. A failure mid-way cuts the body short,
    // which `hotline verify` refuses as a truncated file.
    let chunks = futures_util::stream::try_unfold((core, cursor), |(core, mut cursor)| async move {
        match cursor.next_chunk(&core).await {
            Ok(next) => Ok(next.map(|chunk| (chunk, (core, cursor)))),
            Err(e) => {
                tracing::error!(error = %e, "the record export stopped part-way");
                Err(e)
            }
        }
    });
    let filename = format!("attachment; filename=\"{}-record.json\"", state.core.name);
    Ok((
        [(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, filename)],
        Body::from_stream(chunks),
    ))
}
