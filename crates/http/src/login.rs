//! Logging in and out: the console's session cookie, the login limiter's verdicts, and
//! the record entries every login, failure and lock leaves.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::guard::{self, ClientAddress};
use super::json::ApiJson;
use super::login_limit::{Lockout, LoginGuard, LoginKey};
use super::state::{AppState, Operator, SESSION_COOKIE, session_cookie};
use crate::error::{ApiError, ErrorBody};
use hotline_core::entry_kind::EntryKind;
use hotline_core::{auth, now_ms, rfc3339};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    user: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    user: String,
    /// `operator`, `supervisor` or `auditor`.
    role: String,
    /// When the session ends (RFC 3339, UTC).
    expires: String,
}

/// Log in; sets the console's session cookie. Failures are counted per user name and
/// client address, and per client address: after 3 for one name from one address (20 from
/// one address, whatever the names) each next attempt from there waits twice as long as
/// the one before, from 1 s up to 60 s, refused meanwhile with `429` and `Retry-After`.
/// Failures from elsewhere never delay a login. Each failure and each first delay is
/// recorded, without the typed name when no such user exists (it is often a password).
/// `503` with `Retry-After` when the station is too busy checking passwords.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse, description = "Logged in; session cookie set"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        (status = 503, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub(super) async fn post_login(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<LoginGuard>>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    // What the limiter keeps of a typed name is bounded.
    let typed: String = req.user.chars().take(64).collect();
    let attempt = limiter
        .begin(&typed, address, now_ms())
        .map_err(|r| ApiError::LoginLocked { retry_after_s: (r.retry_after_ms.max(0) as u64).div_ceil(1000) })?;
    let name = req.user.clone();
    let user = state.core.read(move |tx| tx.user(&name)).await?;
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let verified = match auth::verify_on_pool(req.password, phc).await {
        Ok(verified) => verified,
        Err(auth::AuthError::Busy) => {
            attempt.withdraw();
            return Ok(busy());
        }
        Err(_) => false,
    };
    let known = user.is_some();
    let Some(user) = user.filter(|_| verified) else {
        let delayed = attempt.finish(false, now_ms());
        let mut failed = typed_user_json(&typed, known);
        if let Some(a) = address {
            failed["address"] = json!(a.to_string());
        }
        state
            .core
            .write(move |j| {
                j.append(EntryKind::LoginFailed, failed)?;
                for lock in &delayed {
                    j.append(EntryKind::LoginLocked, lockout_json(lock, known))?;
                }
                Ok(())
            })
            .await?;
        return Err(ApiError::BadLogin);
    };
    attempt.finish(true, now_ms());
    let (secret, hash) = auth::new_secret().map_err(|e| ApiError::Internal(e.to_string()))?;
    let name = user.name.clone();
    let expires_ms = now_ms() + auth::session_ms_max;
    state
        .core
        .write(move |j| {
            j.tx.add_session(&hash, &name, j.now_ms, expires_ms)?;
            j.tx.touch_login(&name, j.now_ms)?;
            j.append(EntryKind::Login, json!({"user": name}))
        })
        .await?;
    let cookie = session_cookie_header(&secret, auth::session_ms_max / 1000, &headers);
    let body = LoginResponse { user: user.name, role: user.role.as_str().to_owned(), expires: rfc3339(expires_ms) };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// The `Set-Cookie` value for a session: never readable by scripts, never sent with
/// another site's requests, and `Secure` when the browser came over HTTPS (the demo's
/// console is plain HTTP on loopback, where a `Secure` cookie would not be kept).
fn session_cookie_header(secret: &str, max_age_s: i64, headers: &HeaderMap) -> String {
    let secure = if guard::request_is_https(headers) { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}")
}

/// `{"user": NAME}`, or `{"user": null, "unknown_user": true}` when no such user exists:
/// what was typed in the user box is then often a password, and the record keeps it for good.
fn typed_user_json(typed: &str, known: bool) -> Value {
    if known { json!({"user": typed}) } else { json!({"user": null, "unknown_user": true}) }
}

/// The body of a `login.locked` entry: whose attempts now wait, until when.
fn lockout_json(lock: &Lockout, known: bool) -> Value {
    let mut v = json!({"failures": lock.failures, "until": rfc3339(lock.until_ms)});
    match &lock.key {
        LoginKey::UserAt(name, ip) => {
            let user = typed_user_json(name, known);
            if let Some(map) = user.as_object() {
                for (k, value) in map {
                    v[k] = value.clone();
                }
            }
            if let Some(ip) = ip {
                v["address"] = json!(ip.to_string());
            }
        }
        LoginKey::Address(ip) => v["address"] = json!(ip.to_string()),
    }
    v
}

/// Seconds a client is told to wait when the password pool is busy.
#[allow(non_upper_case_globals)]
const busy_retry_after_s: u64 = 1;

/// `503 busy` with `Retry-After`, in the API's error shape (`ApiError` has no such
/// variant yet).
fn busy() -> Response {
    let body = ErrorBody {
        error: crate::error::ErrorDetail {
            code: "busy",
            message: "the station is busy checking passwords; try again in a second".into(),
        },
    };
    let retry = [(header::RETRY_AFTER, busy_retry_after_s.to_string())];
    (StatusCode::SERVICE_UNAVAILABLE, retry, Json(body)).into_response()
}

/// Log out: ends the console session.
#[utoipa::path(post, path = "/api/v1/logout",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn post_logout(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(session) = session_cookie(&headers) {
        let hash = auth::secret_hash(&session);
        state
            .core
            .write(move |j| {
                j.tx.delete_session(&hash)?;
                j.append(EntryKind::Logout, json!({"user": user.name}))
            })
            .await?;
    }
    let clear = session_cookie_header("", 0, &headers);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// `GET /api/v1/session`: who asks, and who else is logged in.
#[derive(Serialize, ToSchema)]
pub struct SessionAnswer {
    user: String,
    /// `operator`, `supervisor` or `auditor`.
    role: String,
    station: String,
    /// Every user with a live console session, by name.
    on_watch: Vec<OnWatch>,
}

/// A user with live console sessions.
#[derive(Serialize, ToSchema)]
pub struct OnWatch {
    user: String,
    sessions: i64,
}

/// Who is logged in: this request's operator, and everyone with a live console session.
#[utoipa::path(get, path = "/api/v1/session", responses((status = 200, body = SessionAnswer), (status = 401, body = ErrorBody)))]
pub(super) async fn get_session(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<SessionAnswer>, ApiError> {
    let now = now_ms();
    let active = state.core.read(move |tx| tx.active_session_users(now)).await?;
    let on_watch = active.into_iter().map(|(user, sessions)| OnWatch { user, sessions }).collect();
    Ok(Json(SessionAnswer {
        user: user.name,
        role: user.role.as_str().to_owned(),
        station: state.core.name.clone(),
        on_watch,
    }))
}
