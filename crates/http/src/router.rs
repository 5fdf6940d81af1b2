//! The route table: every handler with its OpenAPI annotation, the layers that apply
//! the access rules to each request, the console's files for any other path, and the
//! OpenAPI document (generated from the handlers, so it cannot drift from the routes).

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::guard;
use super::login_limit::{LoginGuard, LoginLimits};
use super::state::AppState;
use super::{
    accounts, call_media, calls, events, lines, login, messages, metrics, notices, record, recordings, roles, station,
    watch,
};
use crate::error::{ApiError, ErrorBody};

#[derive(utoipa::OpenApi)]
#[openapi(info(title = "hotline station API", description = "One station of a deconfliction hotline."))]
struct ApiDoc;

/// All routes, and the OpenAPI document that describes them.
pub fn router(state: AppState) -> Router {
    let (protected, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(station::get_station))
        .routes(routes!(station::get_lines, lines::post_line))
        .routes(routes!(lines::patch_line, lines::delete_line))
        .routes(routes!(messages::post_message, messages::get_messages))
        .routes(routes!(messages::get_message))
        .routes(routes!(messages::post_ack))
        .routes(routes!(events::get_events))
        .routes(routes!(login::post_logout))
        .routes(routes!(login::get_session))
        .routes(routes!(metrics::get_metrics))
        .routes(routes!(notices::post_notice, notices::get_notices))
        .routes(routes!(notices::patch_notice, notices::delete_notice))
        .routes(routes!(notices::post_notice_ack))
        .routes(routes!(notices::get_conflicts))
        .routes(routes!(notices::post_conflict_ack))
        .routes(routes!(watch::post_watch_check))
        .routes(routes!(watch::get_watch_checks))
        .routes(routes!(watch::post_watch_check_answer))
        .routes(routes!(watch::get_responsiveness))
        .routes(routes!(watch::get_alarms))
        .routes(routes!(watch::post_alarm_ack))
        .routes(routes!(watch::post_alarm_clear))
        .routes(routes!(record::get_checkpoint))
        .routes(routes!(record::get_export))
        .routes(routes!(calls::post_call))
        .routes(routes!(calls::get_calls))
        .routes(routes!(calls::get_call))
        .routes(routes!(recordings::get_recording))
        .routes(routes!(recordings::post_recording_delete))
        .routes(routes!(calls::post_answer))
        .routes(routes!(calls::post_decline))
        .routes(routes!(calls::post_hangup))
        .routes(routes!(call_media::post_media))
        .routes(routes!(accounts::get_users, accounts::post_user))
        .routes(routes!(accounts::patch_user, accounts::delete_user))
        .routes(routes!(accounts::post_password))
        .routes(routes!(accounts::get_tokens, accounts::post_token))
        .routes(routes!(accounts::delete_token))
        .routes(routes!(get_openapi))
        .split_for_parts();
    let (public, public_doc) =
        OpenApiRouter::new().routes(routes!(login::post_login)).routes(routes!(station::healthz)).split_for_parts();
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

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/v1/openapi.json",
    responses((status = 200, body = Object, description = "OpenAPI 3.1"), (status = 401, body = ErrorBody)))]
async fn get_openapi(Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>) -> Json<utoipa::openapi::OpenApi> {
    Json((*doc).clone())
}
