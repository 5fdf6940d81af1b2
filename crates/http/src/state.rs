//! What every handler shares: the station (`AppState`), and who is asking — the
//! operator behind a request and how they proved it (a bearer token or the console's
//! session cookie). Everything in `http/` imports from here; this imports nothing from
//! its siblings but the error type, so the HTTP rooms have no import circle.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use hotline_identity::StationKey;
use hotline_store::User;

use crate::error::ApiError;
use hotline_core::core::Core;
use hotline_core::{auth, now_ms};
use hotline_item::message_body_bytes_max;
use hotline_line::{LineHandle, Lines};

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
    /// The lines now (they change while the station serves).
    pub lines: Lines,
    /// Adds, changes and removes lines (the serving station's line administration).
    pub line_admin: Arc<dyn hotline_core::admin::lines::LineControl>,
    /// The watch: deadlines, alarms, escalation.
    pub supervisor: Arc<hotline_core::supervise::Supervisor>,
    /// Operators on watch here (live consoles).
    pub presence: Arc<hotline_core::presence::Presence>,
    /// Call media: the consoles' WebRTC legs and the QUIC links to peers.
    pub media: Arc<hotline_callmedia::CallMedia>,
    /// `DIR/recordings`, where the sealed call recordings are (`hotline_core::recording_files`).
    pub recordings: std::path::PathBuf,
}

impl AppState {
    pub(crate) fn line(&self, peer: &str) -> Result<LineHandle, ApiError> {
        self.lines.get(peer).ok_or_else(|| ApiError::NotFound(format!("no line to a station named {peer:?}")))
    }
}

/// The operator behind a request.
#[derive(Clone, Debug)]
pub struct Operator(pub User);

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
        let now = now_ms();
        let user = state.core.read(move |tx| tx.token_user(&hash, now)).await?;
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

pub(super) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (name, value) = c.trim().split_once('=')?;
        (name == SESSION_COOKIE).then(|| value.to_owned())
    })
}
