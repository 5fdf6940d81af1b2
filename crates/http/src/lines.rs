//! Administration of lines over the API: `POST /api/v1/lines` adds one, `PATCH
//! /api/v1/lines/{peer}` changes its addresses and options, `DELETE` removes it — each at
//! once, without a restart, kept in `station.toml` and recorded naming who did it.
//! Supervisors only (the route table says so). The work is done by the station's
//! `LineControl` (`hotline_core::admin::lines`), shared with the command line; listing
//! stays `GET /api/v1/lines` (`station.rs`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json::ApiJson;
use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use hotline_core::admin::AdminError;
use hotline_core::admin::lines::{LineAdminError, LineChange, LineInfo, NewLine};

impl From<LineAdminError> for ApiError {
    fn from(e: LineAdminError) -> ApiError {
        match e {
            LineAdminError::Invalid { code, message } => ApiError::bad(code, message),
            LineAdminError::NotFound(m) => ApiError::NotFound(m),
            LineAdminError::Conflict(m) => ApiError::Conflict(m),
            // A station.toml edited by hand into something that does not load: the
            // supervisor can fix that, and must know before a line can change.
            LineAdminError::Admin(AdminError::Config(c)) => {
                ApiError::Conflict(format!("station.toml does not load, so no line can change: {c}"))
            }
            LineAdminError::Admin(a) => ApiError::Internal(a.to_string()),
            LineAdminError::Store(s) => ApiError::from(s),
        }
    }
}

/// A line as administration shows it.
#[derive(Serialize, ToSchema)]
pub struct LineView {
    peer: String,
    /// The pinned verifier key, `NAME+KEYHASH+BASE64`.
    key: String,
    /// The pinned key's fingerprint in groups of 5 digits.
    fingerprint: String,
    /// 12 groups of 5 digits, the same at both ends: read it aloud with the peer.
    safety_number: String,
    /// Primary first.
    addrs: Vec<String>,
    heartbeat_interval_ms: u64,
    reconnect_backoff_max_ms: u64,
    /// `up`, `connecting` or `down`.
    state: Option<String>,
}

impl From<LineInfo> for LineView {
    fn from(i: LineInfo) -> LineView {
        LineView {
            peer: i.line.peer,
            key: i.line.key,
            fingerprint: i.fingerprint,
            safety_number: i.safety_number,
            addrs: i.line.addrs,
            heartbeat_interval_ms: i.line.heartbeat_interval_ms,
            reconnect_backoff_max_ms: i.line.reconnect_backoff_max_ms,
            state: i.state.map(str::to_owned),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLineRequest {
    /// The peer station's name.
    #[schema(pattern = "^[a-z0-9-]{1,32}$")]
    peer: String,
    /// The peer's verifier key: the last line `hotline key` prints at the peer.
    key: String,
    /// `HOST:PORT`, primary first, at most 8.
    #[schema(min_items = 1, max_items = 8)]
    addrs: Vec<String>,
    /// Default 500.
    #[schema(minimum = 100, maximum = 60000)]
    heartbeat_interval_ms: Option<u64>,
    /// Default 5000.
    #[schema(minimum = 100, maximum = 600000)]
    reconnect_backoff_max_ms: Option<u64>,
}

/// Add a line: it starts dialing at once (no restart) and accepts the peer's connections.
#[utoipa::path(post, path = "/api/v1/lines", request_body = NewLineRequest,
    responses((status = 201, body = LineView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_line(
    State(state): State<AppState>,
    Extension(Operator(by)): Extension<Operator>,
    ApiJson(req): ApiJson<NewLineRequest>,
) -> Result<Response, ApiError> {
    let new = NewLine {
        peer: req.peer,
        key: req.key,
        addrs: req.addrs,
        heartbeat_interval_ms: req.heartbeat_interval_ms,
        reconnect_backoff_max_ms: req.reconnect_backoff_max_ms,
    };
    let info = state.line_admin.add(new, by.name).await?;
    Ok((StatusCode::CREATED, Json(LineView::from(info))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinePatch {
    #[schema(min_items = 1, max_items = 8)]
    addrs: Option<Vec<String>>,
    #[schema(minimum = 100, maximum = 60000)]
    heartbeat_interval_ms: Option<u64>,
    #[schema(minimum = 100, maximum = 600000)]
    reconnect_backoff_max_ms: Option<u64>,
    /// Always refused (`key_pinned`): a pinned key changes only by removing the line and
    /// adding it again, so the record shows the old and the new fingerprint.
    key: Option<String>,
}

/// Change a line's addresses or options: its connection closes and redials with them at
/// once; nothing queued is lost. The pinned key cannot change here.
#[utoipa::path(patch, path = "/api/v1/lines/{peer}", request_body = LinePatch, params(("peer" = String, Path)),
    responses((status = 200, body = LineView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn patch_line(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    Extension(Operator(by)): Extension<Operator>,
    ApiJson(req): ApiJson<LinePatch>,
) -> Result<Json<LineView>, ApiError> {
    if req.key.is_some() {
        return Err(ApiError::bad(
            "key_pinned",
            "a line's pinned key cannot be changed: remove the line (DELETE) and add it again (POST) with the new key, \
             after comparing the new safety number with the peer",
        ));
    }
    let change = LineChange {
        addrs: req.addrs,
        heartbeat_interval_ms: req.heartbeat_interval_ms,
        reconnect_backoff_max_ms: req.reconnect_backoff_max_ms,
    };
    Ok(Json(LineView::from(state.line_admin.change(peer, change, by.name).await?)))
}

/// Remove a line: its task stops and its connection closes; the peer's connections are
/// refused from now on. Its messages and history stay in the record and the store.
#[utoipa::path(delete, path = "/api/v1/lines/{peer}", params(("peer" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn delete_line(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    Extension(Operator(by)): Extension<Operator>,
) -> Result<StatusCode, ApiError> {
    state.line_admin.remove(peer, by.name).await?;
    Ok(StatusCode::NO_CONTENT)
}
