//! `GET /api/v1/events`: the record as a live Server-Sent Events stream.
//!
//! Each event's `id` is its record index, so a client that reconnects with
//! `Last-Event-ID` (or `?after=`) resumes exactly where it left off: the stream first
//! replays from the store everything after that index, then follows new entries as they
//! are committed. A subscriber that falls behind the in-memory backlog re-reads the store
//! instead of skipping; nothing is missed either way.
//!
//! A stream lasts only as long as the credential that opened it: when the record says a
//! credential may have ended (a logout, a revoked token, a user disabled, removed or given
//! a new password) and at least every `credential_recheck_ms`, the stream checks its
//! token or session again and ends if it no longer authenticates. A user holds at most
//! `presence::event_streams_per_user_max` streams at once.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use hotline_store::Role;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use hotline_core::core::Published;

/// Entries read from the store per page while catching up.
#[allow(non_upper_case_globals)]
const replay_page_entries: i64 = 500;
/// Events buffered per client before the stream waits for it.
#[allow(non_upper_case_globals)]
const client_events_max: usize = 256;
/// How often a stream checks that its credential still authenticates (sessions expire).
#[allow(non_upper_case_globals)]
const credential_recheck_ms: u64 = 30_000;
/// Entries after which a stream checks its credential at once.
const CREDENTIAL_ENDING_KINDS: &[&str] = &[
    "logout",
    "token.revoked",
    "user.disabled",
    "user.removed",
    "user.password_reset",
    "user.password_changed",
    "user.added",
];

/// The token or session a stream was opened with, checked again while it runs.
#[derive(Clone, Copy)]
pub(super) enum StreamCredential {
    Token([u8; 32]),
    Session([u8; 32]),
}

impl StreamCredential {
    fn of(headers: &HeaderMap) -> Option<StreamCredential> {
        if let Some(token) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        {
            return Some(StreamCredential::Token(hotline_core::auth::secret_hash(token.trim())));
        }
        super::state::session_cookie(headers).map(|s| StreamCredential::Session(hotline_core::auth::secret_hash(&s)))
    }

    /// Whether it still authenticates someone.
    async fn valid(self, state: &AppState) -> bool {
        let now = hotline_core::now_ms();
        let user = state
            .core
            .read(move |tx| match self {
                StreamCredential::Token(hash) => tx.token_user(&hash, now),
                StreamCredential::Session(hash) => tx.session_user(&hash, now),
            })
            .await;
        matches!(user, Ok(Some(_)))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Resume after this record index (same as the `Last-Event-ID` header).
    after: Option<i64>,
}

/// One event of the stream, in the shape OpenAPI 3.2 gives a Server-Sent Event (the
/// schema of each event, not of the whole body): one record entry.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EntryEvent {
    /// The entry's record index (send it back as `Last-Event-ID` to resume).
    #[schema(pattern = "^[0-9]+$")]
    id: String,
    /// The entry's kind, such as `message.received`.
    event: String,
    /// The entry's JSON text, exactly as in the record.
    data: String,
}

/// Every new record entry as it happens (Server-Sent Events; `id` is the record index).
#[utoipa::path(get, path = "/api/v1/events", params(EventsQuery),
    responses((status = 200, content_type = "text/event-stream", body = EntryEvent,
    description = "Server-Sent Events: one record entry each, `id` its index, `event` its kind"),
    (status = 401, body = ErrorBody)))]
pub(super) async fn get_events(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let header_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let after = match (header_id, q.after) {
        (Some(h), _) => {
            h.trim().parse::<i64>().map_err(|_| ApiError::bad("bad_request", "Last-Event-ID is not a record index"))?
        }
        (None, Some(a)) => a,
        (None, None) => state.core.read(|tx| tx.entry_count()).await?,
    };
    let credential = StreamCredential::of(&headers).ok_or(ApiError::Unauthorized)?;
    let slot = state.presence.open_stream(&user.name).ok_or_else(|| {
        ApiError::Conflict(format!(
            "{} already has {} event streams open; close a console first",
            user.name,
            hotline_core::presence::event_streams_per_user_max
        ))
    })?;
    // Subscribe before reading the store, so nothing committed in between is lost.
    let live = state.core.entries.subscribe();
    let (tx, rx) = mpsc::channel(client_events_max);
    // An operator or supervisor with a live stream is on watch for as long as it is open.
    let on_watch = if user.role == Role::Auditor { None } else { state.presence.enter(&user.name) };
    tokio::spawn(async move {
        follow(state, after, live, tx, credential).await;
        drop(on_watch);
        drop(slot);
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn to_event(p: &Published) -> Event {
    Event::default().id(p.idx.to_string()).event(p.kind.clone()).data(p.body.clone())
}

/// Whether `p` is an entry after which the stream's credential no longer authenticates:
/// the stream ends before sending it.
async fn ends_credential(p: &Published, credential: StreamCredential, state: &AppState) -> bool {
    CREDENTIAL_ENDING_KINDS.contains(&p.kind.as_str()) && !credential.valid(state).await
}

pub(super) async fn follow(
    state: AppState,
    mut last: i64,
    mut live: broadcast::Receiver<Published>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
    credential: StreamCredential,
) {
    let mut recheck = tokio::time::interval(Duration::from_millis(credential_recheck_ms));
    recheck.tick().await;
    loop {
        // Catch up from the store.
        loop {
            let from = last;
            let Ok(page) = state.core.read(move |t| t.entries_after(from, replay_page_entries)).await else { return };
            let full = page.len() as i64 == replay_page_entries;
            for e in page {
                last = e.idx;
                let p = Published { idx: e.idx, kind: e.kind, body: e.body };
                if ends_credential(&p, credential, &state).await || tx.send(Ok(to_event(&p))).await.is_err() {
                    return;
                }
            }
            if !full {
                break;
            }
        }
        // Follow live entries until we fall behind (or the client goes away).
        loop {
            let received = tokio::select! {
                r = live.recv() => r,
                () = tx.closed() => return,
                _ = recheck.tick() => {
                    if !credential.valid(&state).await {
                        return;
                    }
                    continue;
                }
            };
            match received {
                Ok(p) if p.idx <= last => continue,
                Ok(p) if p.idx == last + 1 => {
                    last = p.idx;
                    if ends_credential(&p, credential, &state).await || tx.send(Ok(to_event(&p))).await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
