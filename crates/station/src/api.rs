//! The HTTP API under `/api/v1`, plus `/healthz`, `/metrics` and the OpenAPI document.
//!
//! Handlers validate input completely before anything is stored, so a rejected request
//! changes nothing. Authentication is one middleware ([`require_operator`]): a bearer token
//! or the console's session cookie, else `401`; auditors get `403` on anything that
//! writes. The OpenAPI document is generated from the handlers' annotations (utoipa), so
//! it cannot drift from the routes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use hotline_identity::StationKey;
use hotline_store::{Role, User};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::core::Core;
use crate::error::{ApiError, ErrorBody};
use crate::item::{PRECEDENCES, message_body_bytes_max};
use crate::link::{Command, LineHandle, NewMessage, message_json};
use crate::{auth, events, metrics, notice_api, now_ms, record_api, rfc3339};

/// Largest request body accepted: a 64 KiB message body plus JSON escaping headroom.
#[allow(non_upper_case_globals)]
pub const request_bytes_max: usize = 6 * message_body_bytes_max;
/// Most messages returned by one listing.
#[allow(non_upper_case_globals)]
pub const messages_page_max: i64 = 1000;
/// Name of the console's session cookie.
pub const SESSION_COOKIE: &str = "hotline_session";

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub key: Arc<StationKey>,
    pub lines: Arc<BTreeMap<String, LineHandle>>,
}

impl AppState {
    fn line(&self, peer: &str) -> Result<&LineHandle, ApiError> {
        self.lines.get(peer).ok_or_else(|| ApiError::NotFound(format!("no line to a station named {peer:?}")))
    }
}

/// The operator behind a request.
#[derive(Clone, Debug)]
pub struct Operator(pub User);

#[derive(utoipa::OpenApi)]
#[openapi(info(title = "hotline station API", description = "One station of a deconfliction hotline."))]
struct ApiDoc;

/// All routes, and the OpenAPI document that describes them.
pub fn router(state: AppState) -> Router {
    let (protected, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(get_station))
        .routes(routes!(get_lines))
        .routes(routes!(post_message, get_messages))
        .routes(routes!(get_message))
        .routes(routes!(post_ack))
        .routes(routes!(events::get_events))
        .routes(routes!(post_logout))
        .routes(routes!(get_session))
        .routes(routes!(metrics::get_metrics))
        .routes(routes!(notice_api::post_notice, notice_api::get_notices))
        .routes(routes!(notice_api::patch_notice, notice_api::delete_notice))
        .routes(routes!(notice_api::post_notice_ack))
        .routes(routes!(notice_api::get_conflicts))
        .routes(routes!(notice_api::post_conflict_ack))
        .routes(routes!(record_api::get_checkpoint))
        .routes(routes!(record_api::get_export))
        .routes(routes!(get_openapi))
        .split_for_parts();
    let (public, public_doc) =
        OpenApiRouter::new().routes(routes!(post_login)).routes(routes!(healthz)).split_for_parts();
    doc.merge(public_doc);
    let doc = Arc::new(doc);
    let protected =
        protected.layer(Extension(doc)).layer(axum::middleware::from_fn_with_state(state.clone(), require_operator));
    protected
        .merge(public)
        .fallback(console_or_not_found)
        .layer(DefaultBodyLimit::max(request_bytes_max))
        .with_state(state)
}

/// Serves the console's embedded files for any path outside the API; `/` is the console.
async fn console_or_not_found(uri: axum::http::Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    match hotline_console::asset(path) {
        Some((bytes, mime)) => {
            ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-cache")], bytes).into_response()
        }
        None => ApiError::NotFound(format!("no such page: /{path}")).into_response(),
    }
}

/// JSON body extractor whose rejections are API errors with a clear message.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(format!("request body over {request_bytes_max} bytes")))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::bad("bad_json", "send the body as JSON with Content-Type: application/json"))
            }
            Err(e) => Err(ApiError::bad("bad_json", e.body_text())),
        }
    }
}

async fn require_operator(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let user = authenticate(&state, req.headers()).await?.ok_or(ApiError::Unauthorized)?;
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let logout = req.uri().path() == "/api/v1/logout";
    if writes && !logout && user.role == Role::Auditor {
        return Err(ApiError::ReadOnly("auditor"));
    }
    req.extensions_mut().insert(Operator(user));
    Ok(next.run(req).await)
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Option<User>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or(ApiError::Unauthorized)?;
        let hash = auth::secret_hash(token.trim());
        return Ok(state.core.read(move |tx| tx.token_user(&hash)).await?);
    }
    if let Some(session) = session_cookie(headers) {
        let hash = auth::secret_hash(&session);
        let now = now_ms();
        return Ok(state.core.read(move |tx| tx.session_user(&hash, now)).await?);
    }
    Ok(None)
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == SESSION_COOKIE).then(|| value.to_owned())
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    user: String,
    password: String,
}

/// Log in; sets the console's session cookie.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest,
    responses((status = 200, description = "Logged in; session cookie set"), (status = 401, body = ErrorBody)))]
async fn post_login(State(state): State<AppState>, ApiJson(req): ApiJson<LoginRequest>) -> Result<Response, ApiError> {
    let name = req.user.clone();
    let user = state.core.read(move |tx| tx.user(&name)).await?;
    let password = req.password;
    let verified = match user {
        Some(u) => {
            let phc = u.password_hash.clone();
            tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
                .await
                .unwrap_or(false)
                .then_some(u)
        }
        None => None,
    };
    let Some(user) = verified else {
        let name: String = req.user.chars().take(64).collect();
        state.core.write(move |j| j.append("login.failed", json!({"user": name}))).await?;
        return Err(ApiError::BadLogin);
    };
    let (secret, hash) = auth::new_secret().map_err(|e| ApiError::Internal(e.to_string()))?;
    let name = user.name.clone();
    let expires_ms = now_ms() + auth::session_ms_max;
    state
        .core
        .write(move |j| {
            j.tx.add_session(&hash, &name, j.now_ms, expires_ms)?;
            j.append("login", json!({"user": name}))
        })
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        auth::session_ms_max / 1000
    );
    let body = json!({"user": user.name, "role": user.role.as_str(), "expires": rfc3339(expires_ms)});
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Log out: ends the console session.
#[utoipa::path(post, path = "/api/v1/logout", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn post_logout(
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
                j.append("logout", json!({"user": user.name}))
            })
            .await?;
    }
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// Who is logged in: this request's operator, and everyone with a live console session.
#[utoipa::path(get, path = "/api/v1/session", responses((status = 200), (status = 401, body = ErrorBody)))]
async fn get_session(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<Value>, ApiError> {
    let now = now_ms();
    let active = state.core.read(move |tx| tx.active_session_users(now)).await?;
    let on_watch: Vec<Value> = active.into_iter().map(|(u, n)| json!({"user": u, "sessions": n})).collect();
    Ok(Json(json!({"user": user.name, "role": user.role.as_str(), "station": state.core.name, "on_watch": on_watch})))
}

/// Liveness: answers 200 while the station serves.
#[utoipa::path(get, path = "/healthz", responses((status = 200)))]
async fn healthz(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ok", "station": state.core.name}))
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/v1/openapi.json", responses((status = 200), (status = 401, body = ErrorBody)))]
async fn get_openapi(Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>) -> Json<utoipa::openapi::OpenApi> {
    Json((*doc).clone())
}

/// This station: name, public key, language, lines.
#[utoipa::path(get, path = "/api/v1/station", responses((status = 200), (status = 401, body = ErrorBody)))]
async fn get_station(State(state): State<AppState>) -> Json<Value> {
    let lines: Vec<Value> =
        state.lines.values().map(|l| json!({"peer": l.peer, "key": l.key.to_string(), "addrs": l.addrs})).collect();
    Json(
        json!({"name": state.core.name, "key": state.key.verifier().to_string(), "lang": state.core.lang, "lines": lines}),
    )
}

/// Every line with its state, since when, and the last heartbeat round trip.
#[utoipa::path(get, path = "/api/v1/lines", responses((status = 200), (status = 401, body = ErrorBody)))]
async fn get_lines(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for line in state.lines.values() {
        let status = line.status.borrow().clone();
        let peer = line.peer.clone();
        let (undelivered, oldest_ms) = state.core.read(move |tx| tx.undelivered(&peer)).await?;
        out.push(json!({
            "peer": line.peer,
            "state": status.state.as_str(),
            "since": rfc3339(status.since_ms),
            "rtt_ms": status.rtt_ms,
            "remote": status.remote,
            "last_watch_check": Value::Null,
            "undelivered": undelivered,
            "oldest_undelivered": oldest_ms.map(rfc3339),
            "key": line.key.to_string(),
            "addrs": line.addrs,
        }));
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// UTF-8 text, at most 64 KiB.
    body: String,
    /// ROUTINE (default), PRIORITY, IMMEDIATE or FLASH.
    precedence: Option<String>,
    /// Language tag (BCP 47), default the station's language.
    lang: Option<String>,
    /// Id of the message this one answers, on the same line.
    reply_to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    id: String,
    state: String,
}

/// Queue a message on the line; it goes as soon as the line is up.
#[utoipa::path(post, path = "/api/v1/lines/{peer}/messages", request_body = MessageRequest,
    params(("peer" = String, Path, description = "Peer station name")),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn post_message(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
    ApiJson(req): ApiJson<MessageRequest>,
) -> Result<Response, ApiError> {
    let line = state.line(&peer)?;
    let message = validate_message(req, &state.core.lang, &user.name)?;
    let row = line.ask(|reply| Command::Send { message, reply }).await?;
    let body = json!({"id": row.id, "state": row.state(), "message": message_json(&row)});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

fn validate_message(req: MessageRequest, default_lang: &str, author: &str) -> Result<NewMessage, ApiError> {
    if req.body.len() > message_body_bytes_max {
        return Err(ApiError::TooLarge(format!(
            "message body is {} bytes; the limit is {message_body_bytes_max} bytes (64 KiB)",
            req.body.len()
        )));
    }
    if req.body.trim().is_empty() {
        return Err(ApiError::bad("bad_request", "message body is empty"));
    }
    let precedence = match req.precedence {
        None => "ROUTINE".to_owned(),
        Some(p) => {
            let upper = p.to_ascii_uppercase();
            if !PRECEDENCES.contains(&upper.as_str()) {
                return Err(ApiError::bad(
                    "unknown_precedence",
                    format!("precedence {p:?} is unknown; use ROUTINE, PRIORITY, IMMEDIATE or FLASH"),
                ));
            }
            upper
        }
    };
    let lang = req.lang.unwrap_or_else(|| default_lang.to_owned());
    if !valid_lang_tag(&lang) {
        return Err(ApiError::bad(
            "bad_lang",
            format!("language tag {lang:?} is not a BCP 47 tag such as en or ru-RU"),
        ));
    }
    if let Some(r) = &req.reply_to
        && uuid::Uuid::parse_str(r).is_err()
    {
        return Err(ApiError::bad("bad_reply_to", "reply_to is not a message id"));
    }
    Ok(NewMessage { precedence, lang, body: req.body, reply_to: req.reply_to, author: author.to_owned() })
}

/// A BCP 47 tag in its common shape: a 2–8 letter primary subtag, then 1–8 alphanumeric
/// subtags, 35 characters at most.
pub fn valid_lang_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok =
        parts.next().is_some_and(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok
        && tag.len() <= 35
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Return messages stored after the message with this id.
    after: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
}

/// Messages on the line, both directions, in the order this station stored them.
#[utoipa::path(get, path = "/api/v1/lines/{peer}/messages", params(("peer" = String, Path), ListQuery),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_messages(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    state.line(&peer)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=messages_page_max).contains(&limit) {
        return Err(ApiError::bad("bad_request", format!("limit must be 1 to {messages_page_max}")));
    }
    let rows = state.core.read(move |tx| tx.list_messages(&peer, q.after.as_deref(), limit)).await?;
    Ok(Json(Value::Array(rows.iter().map(message_json).collect())))
}

/// One message by id.
#[utoipa::path(get, path = "/api/v1/messages/{id}", params(("id" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_message(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let wanted = id.clone();
    let row = state.core.read(move |tx| tx.message(&wanted)).await?;
    row.map(|m| Json(message_json(&m))).ok_or_else(|| ApiError::NotFound(format!("no message {id}")))
}

/// Acknowledge an incoming message: an operator here has read it. The acknowledgment
/// travels back to the sending station.
#[utoipa::path(post, path = "/api/v1/messages/{id}/ack", params(("id" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn post_ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<Value>, ApiError> {
    let wanted = id.clone();
    let row = state.core.read(move |tx| tx.message(&wanted)).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("no message {id}")))?;
    let line = state.line(&row.peer)?;
    let by = user.name.clone();
    let row = line.ask(|reply| Command::Ack { id, by, reply }).await?;
    Ok(Json(message_json(&row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for ok in ["en", "ru", "ru-RU", "zh-Hant-TW", "sr-Latn"] {
            assert!(valid_lang_tag(ok), "{ok}");
        }
        for bad in ["", "e", "en-", "en_US", "1a", "en-toolongsubtag", "ру"] {
            assert!(!valid_lang_tag(bad), "{bad}");
        }
    }

    #[test]
    fn message_validation_names_the_problem() {
        let req = |body: &str, precedence: Option<&str>| MessageRequest {
            body: body.into(),
            precedence: precedence.map(Into::into),
            lang: None,
            reply_to: None,
        };
        assert!(validate_message(req("hi", Some("flash")), "en", "op").is_ok_and(|m| m.precedence == "FLASH"));
        let e = validate_message(req("hi", Some("URGENT")), "en", "op").err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("URGENT")));
        let big = "x".repeat(message_body_bytes_max + 1);
        assert!(matches!(validate_message(req(&big, None), "en", "op"), Err(ApiError::TooLarge(_))));
        assert!(validate_message(req(&"x".repeat(message_body_bytes_max), None), "en", "op").is_ok());
        assert!(validate_message(req("  ", None), "en", "op").is_err());
    }
}
