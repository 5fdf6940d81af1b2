//! Messages: sending one (validated completely before the line task sees it), listing a
//! line's messages, reading one, and acknowledging an incoming one.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answers::{MessageAnswer, MessageState, conform};
use super::json::ApiJson;
use super::state::{AppState, Operator, messages_page_max};
use crate::error::{ApiError, ErrorBody};
use hotline_core::views::message_json;
use hotline_item::validate::valid_lang_tag;
use hotline_item::{Precedence, message_body_bytes_max};
use hotline_line::{Command, NewMessage};

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

/// A message accepted: on this station's disk, queued for the line.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    #[schema(format = Uuid)]
    id: String,
    state: MessageState,
    /// The whole message, as listings show it.
    message: MessageAnswer,
}

/// Queue a message on the line; it goes as soon as the line is up.
#[utoipa::path(post, path = "/api/v1/lines/{peer}/messages", request_body = MessageRequest,
    params(("peer" = String, Path, description = "Peer station name")),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(super) async fn post_message(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
    ApiJson(req): ApiJson<MessageRequest>,
) -> Result<Response, ApiError> {
    let line = state.line(&peer)?;
    let message = validate_message(req, &state.core.lang, &user.name)?;
    let row = line.ask(|reply| Command::Send { message, reply }).await?;
    let message: MessageAnswer = conform(message_json(&row))?;
    let body = Accepted { id: message.id.clone(), state: message.state, message };
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
        None => Precedence::Routine,
        Some(p) => Precedence::parse(&p.to_ascii_uppercase()).ok_or_else(|| {
            ApiError::bad(
                "unknown_precedence",
                format!("precedence {p:?} is unknown; use ROUTINE, PRIORITY, IMMEDIATE or FLASH"),
            )
        })?,
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
    responses((status = 200, body = [MessageAnswer]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn get_messages(
    State(state): State<AppState>,
    Path(peer): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<MessageAnswer>>, ApiError> {
    state.line(&peer)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=messages_page_max).contains(&limit) {
        return Err(ApiError::bad("bad_request", format!("limit must be 1 to {messages_page_max}")));
    }
    let rows = state.core.read(move |tx| tx.list_messages(&peer, q.after.as_deref(), limit)).await?;
    Ok(Json(rows.iter().map(|m| conform(message_json(m))).collect::<Result<_, _>>()?))
}

/// One message by id.
#[utoipa::path(get, path = "/api/v1/messages/{id}", params(("id" = String, Path)),
    responses((status = 200, body = MessageAnswer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MessageAnswer>, ApiError> {
    let wanted = id.clone();
    let row = state.core.read(move |tx| tx.message(&wanted)).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("no message {id}")))?;
    Ok(Json(conform(message_json(&row))?))
}

/// Acknowledge an incoming message: an operator here has read it. The acknowledgment
/// travels back to the sending station.
#[utoipa::path(post, path = "/api/v1/messages/{id}/ack", params(("id" = String, Path)),
    responses((status = 200, body = MessageAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Extension(Operator(user)): Extension<Operator>,
) -> Result<Json<MessageAnswer>, ApiError> {
    let wanted = id.clone();
    let row = state.core.read(move |tx| tx.message(&wanted)).await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("no message {id}")))?;
    let line = state.line(&row.peer)?;
    let by = user.name.clone();
    let row = line.ask(|reply| Command::Ack { id, by, reply }).await?;
    Ok(Json(conform(message_json(&row))?))
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
        assert!(
            validate_message(req("hi", Some("flash")), "en", "op").is_ok_and(|m| m.precedence == Precedence::Flash)
        );
        let e = validate_message(req("hi", Some("URGENT")), "en", "op").err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("URGENT")));
        let big = "x".repeat(message_body_bytes_max + 1);
        assert!(matches!(validate_message(req(&big, None), "en", "op"), Err(ApiError::TooLarge(_))));
        assert!(validate_message(req(&"x".repeat(message_body_bytes_max), None), "en", "op").is_ok());
        assert!(validate_message(req("  ", None), "en", "op").is_err());
    }
}
