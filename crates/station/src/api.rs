//! The HTTP API under `/api/v1`, plus `/healthz`, `/metrics` and the OpenAPI document.
//!
//! Handlers validate input completely before anything is stored, so a rejected request
//! changes nothing. One middleware ([`crate::guard::enforce`]) applies the route table
//! ([`crate::roles`]) to every request: a bearer token or the console's session cookie,
//! else `401`; a role below the route's, `403`; a body over the route's limit, `413`; and
//! a cookie-authenticated write from another origin, `403`. Another ([`crate::guard::security_headers`])
//! puts the security headers on every answer. The OpenAPI document is generated from the
//! handlers' annotations (utoipa), so it cannot drift from the routes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use hotline_identity::StationKey;
use hotline_store::User;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{OpenApi as _, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::core::Core;
use crate::error::{ApiError, ErrorBody};
use crate::guard::{ClientAddress, Lockout, LoginGuard, LoginKey, LoginLimits};
use crate::item::{PRECEDENCES, message_body_bytes_max};
use crate::line::{Command, LineHandle, NewMessage, message_json};
use crate::{auth, events, guard, metrics, notice_api, now_ms, record_api, rfc3339, roles, watch_api};

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
    /// The watch: deadlines, alarms, escalation.
    pub supervisor: Arc<crate::supervise::Supervisor>,
    /// Operators on watch here (live consoles).
    pub presence: Arc<crate::presence::Presence>,
}

impl AppState {
    pub(crate) fn line(&self, peer: &str) -> Result<&LineHandle, ApiError> {
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
        .routes(routes!(watch_api::post_watch_check))
        .routes(routes!(watch_api::get_watch_checks))
        .routes(routes!(watch_api::post_watch_check_answer))
        .routes(routes!(watch_api::get_responsiveness))
        .routes(routes!(watch_api::get_alarms))
        .routes(routes!(watch_api::post_alarm_ack))
        .routes(routes!(watch_api::post_alarm_clear))
        .routes(routes!(record_api::get_checkpoint))
        .routes(routes!(record_api::get_export))
        .routes(routes!(get_openapi))
        .split_for_parts();
    let (public, public_doc) =
        OpenApiRouter::new().routes(routes!(post_login)).routes(routes!(healthz)).split_for_parts();
    doc.merge(public_doc);
    let doc = Arc::new(doc);
    // Layers run outside in: security headers on every answer (errors included), then the
    // route table (credentials, role, origin, body limit), then the handler.
    protected
        .layer(Extension(doc))
        .merge(public)
        .fallback(console_or_not_found)
        .layer(Extension(LoginGuard::new(LoginLimits::default())))
        .layer(DefaultBodyLimit::max(roles::route_body_bytes_max))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::enforce))
        .layer(axum::middleware::from_fn(guard::security_headers))
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

/// How a request proved who sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer TOKEN`: never added by a browser on its own.
    Token,
    /// The console's session cookie: a browser attaches it to any request to the station.
    Session,
}

/// The user behind a request's token or session cookie, if any. A malformed
/// `Authorization` header is refused rather than ignored.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(User, Credential)>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or(ApiError::Unauthorized)?;
        let hash = auth::secret_hash(token.trim());
        let user = state.core.read(move |tx| tx.token_user(&hash)).await?;
        return Ok(user.map(|u| (u, Credential::Token)));
    }
    if let Some(session) = session_cookie(headers) {
        let hash = auth::secret_hash(&session);
        let now = now_ms();
        let user = state.core.read(move |tx| tx.session_user(&hash, now)).await?;
        return Ok(user.map(|u| (u, Credential::Session)));
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

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    user: String,
    /// `operator`, `supervisor` or `auditor`.
    role: String,
    /// When the session ends (RFC 3339, UTC).
    expires: String,
}

/// Log in; sets the console's session cookie. After repeated failures for one user name
/// (5 in 15 minutes) or from one address (20), logins for it are refused with `429` and
/// `Retry-After` until the lock ends (15 minutes); each failure and each lock is recorded.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse, description = "Logged in; session cookie set"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds until the lock ends")))))]
async fn post_login(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<LoginGuard>>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    // What the record and the limiter keep of a typed name is bounded.
    let typed: String = req.user.chars().take(64).collect();
    let attempt = limiter
        .begin(&typed, address, now_ms())
        .map_err(|r| ApiError::LoginLocked { retry_after_s: (r.retry_after_ms.max(0) as u64).div_ceil(1000) })?;
    let name = req.user.clone();
    let user = state.core.read(move |tx| tx.user(&name)).await?;
    let password = req.password;
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || auth::verify_password_or_stand_in(&password, phc.as_deref()))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| verified) else {
        let locked = attempt.finish(false, now_ms());
        let mut failed = json!({"user": typed});
        if let Some(a) = address {
            failed["address"] = json!(a.to_string());
        }
        state
            .core
            .write(move |j| {
                j.append("login.failed", failed)?;
                for lock in &locked {
                    j.append("login.locked", lockout_json(lock))?;
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
            j.append("login", json!({"user": name}))
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

/// The body of a `login.locked` entry.
fn lockout_json(lock: &Lockout) -> Value {
    let mut v = json!({"failures": lock.failures, "until": rfc3339(lock.until_ms)});
    match &lock.key {
        LoginKey::User(name) => v["user"] = json!(name),
        LoginKey::Address(ip) => v["address"] = json!(ip.to_string()),
    }
    v
}

/// Log out: ends the console session.
#[utoipa::path(post, path = "/api/v1/logout",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
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
    let clear = session_cookie_header("", 0, &headers);
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
        let (undelivered, oldest_ms, last_out, last_in, presence) = state
            .core
            .read(move |tx| {
                let (undelivered, oldest_ms) = tx.undelivered(&peer)?;
                let last_out = tx.last_watch_check(&peer, "out")?;
                let last_in = tx.last_watch_check(&peer, "in")?;
                Ok((undelivered, oldest_ms, last_out, last_in, tx.peer_presence(&peer)?))
            })
            .await?;
        let peer_on_watch = presence.map(|(n, since)| json!({"count": n, "since": rfc3339(since)}));
        let figures = watch_api::responsiveness(&state, &line.peer).await?;
        out.push(json!({
            "peer": line.peer,
            "state": status.state.as_str(),
            "since": rfc3339(status.since_ms),
            "rtt_ms": status.rtt_ms,
            "remote": status.remote,
            "last_watch_check": last_out.as_ref().map(watch_api::check_json),
            "last_watch_check_received": last_in.as_ref().map(watch_api::check_json),
            "peer_on_watch": peer_on_watch,
            "responsiveness_24h": figures["windows"]["24h"],
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
    /// UTF-8 text, at most 64 KiB, not only white space.
    #[schema(min_length = 1, pattern = r"\S", example = "radar contact")]
    body: String,
    /// ROUTINE (default), PRIORITY, IMMEDIATE or FLASH (any case).
    #[schema(
        pattern = "^([Rr][Oo][Uu][Tt][Ii][Nn][Ee]|[Pp][Rr][Ii][Oo][Rr][Ii][Tt][Yy]|[Ii][Mm][Mm][Ee][Dd][Ii][Aa][Tt][Ee]|[Ff][Ll][Aa][Ss][Hh])$",
        example = "FLASH"
    )]
    precedence: Option<String>,
    /// Language tag (BCP 47), default the station's language.
    #[schema(max_length = 35, pattern = "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", example = "en")]
    lang: Option<String>,
    /// Id of a message on the same line that this one answers.
    #[schema(format = Uuid)]
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
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Messages on the line, both directions, in the order this station stored them.
#[utoipa::path(get, path = "/api/v1/lines/{peer}/messages", params(("peer" = String, Path), ListQuery),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
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
