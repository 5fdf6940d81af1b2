//! The one error type of the HTTP API, and the map from the line layer's errors to it.
//!
//! Every failure a client can see has a stable machine-readable `code` and an HTTP status,
//! kept together in [`ApiError::status_and_code`] (one table, as meilisearch does). The
//! `message` is a sentence for a person. Causes that are ours, not the client's (a
//! database error, a closed channel), are logged here and never sent: the client gets
//! "internal error" and the log gets the detail.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required: send `Authorization: Bearer TOKEN` or log in")]
    Unauthorized,
    #[error("user or password is wrong")]
    BadLogin,
    #[error("the {0} role may only read")]
    ReadOnly(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("refused: {0}; the console's own pages may do this, other sites may not")]
    CrossOrigin(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Conflict(String),
    /// A conflict with its own stable code (`call_in_progress`, `line_down`).
    #[error("{message}")]
    ConflictCode { code: &'static str, message: String },
    /// The service cannot do it now (the line is down), with its own stable code.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    #[error("this route takes only {allow}")]
    MethodNotAllowed { allow: String },
    #[error("too many failed logins: try again in {} minute(s)", retry_after_s.div_ceil(60))]
    LoginLocked { retry_after_s: u64 },
    #[error("the station's disk is full: nothing was stored; free space and try again")]
    DiskFull,
    #[error("the station is shutting down")]
    ShuttingDown,
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `unauthorized`, `bad_login`, `forbidden`, `cross_origin`,
    /// `not_found`, `method_not_allowed`, `bad_request`, `bad_json`, `unknown_precedence`,
    /// `bad_lang`, `bad_peer`, `bad_key`, `bad_addr`, `bad_option`, `key_pinned`, `too_large`,
    /// `conflict`, `call_in_progress`, `line_down`, `login_locked`,
    /// `disk_full`, `unavailable`,
    /// `internal`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { code, message: message.into() }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::BadLogin => (StatusCode::UNAUTHORIZED, "bad_login"),
            ApiError::ReadOnly(_) | ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::CrossOrigin(_) => (StatusCode::FORBIDDEN, "cross_origin"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::ConflictCode { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::Unavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, code),
            ApiError::LoginLocked { .. } => (StatusCode::TOO_MANY_REQUESTS, "login_locked"),
            ApiError::DiskFull => (StatusCode::INSUFFICIENT_STORAGE, "disk_full"),
            ApiError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<hotline_store::StoreError> for ApiError {
    fn from(e: hotline_store::StoreError) -> Self {
        match e {
            hotline_store::StoreError::DiskFull => ApiError::DiskFull,
            other => ApiError::Internal(format!("store: {other}")),
        }
    }
}

/// The line layer's errors in the API's terms: the one place a line error gets a status
/// and a stable code.
impl From<hotline_line::LineError> for ApiError {
    fn from(e: hotline_line::LineError) -> Self {
        use hotline_line::LineError as L;
        match e {
            L::Invalid { code, message } => ApiError::BadRequest { code, message },
            L::TooLarge(message) => ApiError::TooLarge(message),
            L::NotFound(message) => ApiError::NotFound(message),
            L::Conflict(message) => ApiError::Conflict(message),
            L::CallInProgress(message) => ApiError::ConflictCode { code: "call_in_progress", message },
            L::LineDown(message) => ApiError::Unavailable { code: "line_down", message },
            L::DiskFull => ApiError::DiskFull,
            L::ShuttingDown => ApiError::ShuttingDown,
            L::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error answering an API request");
        }
        let body = ErrorBody { error: ErrorDetail { code, message: self.to_string() } };
        let mut resp = (status, Json(body)).into_response();
        // Errors that say when or how to try again say it in the standard header too.
        let extra = match &self {
            ApiError::LoginLocked { retry_after_s } => Some((header::RETRY_AFTER, retry_after_s.to_string())),
            ApiError::MethodNotAllowed { allow } => Some((header::ALLOW, allow.clone())),
            _ => None,
        };
        if let Some((name, value)) = extra
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            resp.headers_mut().insert(name, value);
        }
        resp
    }
}
