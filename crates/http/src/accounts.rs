//! Administration of accounts over the API: users (`/api/v1/users`), API tokens
//! (`/api/v1/tokens`) and one's own password (`/api/v1/session/password`). Supervisors
//! only, but for the own password (the route table says so); the work is done by
//! `admin::accounts`, shared with the command line, and recorded naming who did it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use hotline_store::{Role, TokenInfo, UserInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json::ApiJson;
use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use hotline_core::admin::accounts::{self, AccountError, UserChange};
use hotline_core::{now_ms, rfc3339};

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        match e {
            AccountError::NotFound(m) => ApiError::NotFound(m),
            AccountError::Conflict(m) => ApiError::Conflict(m),
            AccountError::Invalid(m) => ApiError::bad("bad_request", m),
            AccountError::WrongPassword => ApiError::Forbidden(e.to_string()),
            AccountError::Auth(hotline_core::auth::AuthError::Busy) => ApiError::Unavailable {
                code: "busy",
                message: "the station is checking many passwords; try again in a second".into(),
            },
            AccountError::Auth(a) => ApiError::bad("bad_password", a.to_string()),
            AccountError::Store(s) => ApiError::from(s),
        }
    }
}

fn role(text: &str) -> Result<Role, ApiError> {
    Role::parse(text).ok_or_else(|| {
        ApiError::bad("bad_role", format!("role {text:?} is unknown; use operator, supervisor or auditor"))
    })
}

/// A user as the administration page shows it.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    name: String,
    /// `operator`, `supervisor` or `auditor`.
    role: String,
    disabled: bool,
    /// RFC 3339, UTC.
    created: String,
    last_login: Option<String>,
}

impl From<UserInfo> for UserView {
    fn from(u: UserInfo) -> UserView {
        UserView {
            name: u.name,
            role: u.role.as_str().to_owned(),
            disabled: u.disabled_ms.is_some(),
            created: rfc3339(u.created_ms),
            last_login: u.last_login_ms.map(rfc3339),
        }
    }
}

/// Every user of this station (removed ones are gone from the list, not from the record).
#[utoipa::path(get, path = "/api/v1/users",
    responses((status = 200, body = [UserView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn get_users(State(state): State<AppState>) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(accounts::list_users(&state.core).await?.into_iter().map(UserView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    name: String,
    /// `operator`, `supervisor` or `auditor`.
    role: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    password: String,
}

/// Add a user.
#[utoipa::path(post, path = "/api/v1/users", request_body = NewUser,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_user(
    State(state): State<AppState>,
    Extension(Operator(by)): Extension<Operator>,
    ApiJson(req): ApiJson<NewUser>,
) -> Result<Response, ApiError> {
    let role = role(&req.role)?;
    accounts::add_user(&state.core, &req.name, role, req.password, false, &by.name).await?;
    let name = req.name.clone();
    let info = state.core.read(move |tx| tx.user_info(&name)).await?;
    let info = info.ok_or_else(|| ApiError::Internal("the added user is not there".into()))?;
    Ok((StatusCode::CREATED, Json(UserView::from(info))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
    /// A new password (a reset by a supervisor): the user's sessions and tokens end.
    #[schema(min_length = 8)]
    password: Option<String>,
}

/// Change a user's role, disable or enable it, or reset its password. Disabling and a
/// new password end the user's sessions, event streams and tokens at once.
#[utoipa::path(patch, path = "/api/v1/users/{name}", request_body = UserPatch, params(("name" = String, Path)),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A supervisor's own account: not disabled, demoted or reset here")))]
pub(super) async fn patch_user(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Extension(Operator(by)): Extension<Operator>,
    ApiJson(req): ApiJson<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    if name == by.name && (req.disabled == Some(true) || req.role.as_deref().is_some_and(|r| r != "supervisor")) {
        return Err(ApiError::Conflict("a supervisor cannot disable or demote their own account".into()));
    }
    if name == by.name && req.password.is_some() {
        return Err(ApiError::Conflict(
            "change your own password with POST /api/v1/session/password (it asks for the current one)".into(),
        ));
    }
    let change =
        UserChange { role: req.role.as_deref().map(role).transpose()?, disabled: req.disabled, password: req.password };
    Ok(Json(UserView::from(accounts::change_user(&state.core, &name, change, &by.name).await?)))
}

/// Remove a user: its sessions, event streams and tokens end at once; its name and
/// everything it did stay in the record.
#[utoipa::path(delete, path = "/api/v1/users/{name}", params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn delete_user(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Extension(Operator(by)): Extension<Operator>,
) -> Result<StatusCode, ApiError> {
    accounts::remove_user(&state.core, &name, &by.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    #[schema(min_length = 8)]
    new_password: String,
}

/// Change one's own password (any role): every session and token of the user ends,
/// this one included; log in again with the new password.
#[utoipa::path(post, path = "/api/v1/session/password", request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub(super) async fn post_password(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    accounts::change_own_password(&state.core, &user.name, req.current_password, req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API token as listed: never its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: String,
    user: String,
    label: Option<String>,
    created: String,
    expires: Option<String>,
}

impl From<TokenInfo> for TokenView {
    fn from(t: TokenInfo) -> TokenView {
        TokenView {
            id: t.id,
            user: t.user,
            label: t.label,
            created: rfc3339(t.created_ms),
            expires: t.expires_ms.map(rfc3339),
        }
    }
}

/// Every live token (neither revoked nor expired), newest first, without secrets.
#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, body = [TokenView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn get_tokens(State(state): State<AppState>) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(accounts::list_tokens(&state.core, now_ms()).await?.into_iter().map(TokenView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    user: String,
    /// What the token is for ("duty laptop 2"), at most 100 characters.
    label: Option<String>,
    /// The token stops working this many seconds from now (none: until revoked).
    #[schema(minimum = 1, maximum = 315360000)]
    expires_in_s: Option<i64>,
}

/// A new token: its secret is in this answer only.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    id: String,
    token: String,
}

/// Create an API token for a user.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_token(
    State(state): State<AppState>,
    Extension(Operator(by)): Extension<Operator>,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<Response, ApiError> {
    let (id, token) = accounts::create_token(&state.core, &req.user, req.label, req.expires_in_s, &by.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { id, token })).into_response())
}

/// Revoke a token: the next request with it gets 401, and its event streams end.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn delete_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(by)): Extension<Operator>,
) -> Result<StatusCode, ApiError> {
    accounts::revoke_token(&state.core, &id, &by.name).await?;
    Ok(StatusCode::NO_CONTENT)
}
