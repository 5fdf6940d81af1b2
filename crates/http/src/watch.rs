//! The watch in the HTTP API: watch checks, alarms, and each line's responsiveness.
//!
//! Any operator on watch may answer a watch check or acknowledge an alarm — nothing waits
//! for one named person. Clearing an alarm by hand is a supervisor's decision (most clear
//! themselves when their cause ends). Responsiveness figures are computed from the
//! store's watch checks and message acknowledgment times, per line and direction, over
//! the last 24 hours, 7 days and 30 days.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, response::IntoResponse, response::Response};
use hotline_store::{AlarmRow, Direction, Role, WatchCheckRow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::state::{AppState, Operator};
use crate::error::{ApiError, ErrorBody};
use hotline_core::alarms::{self, alarm_json};
use hotline_core::{now_ms, rfc3339};
use hotline_line::Command;

/// Most alarms or checks returned by one listing.
#[allow(non_upper_case_globals)]
pub const watch_page_max: i64 = 500;
/// Most watch checks or messages one responsiveness window reads.
#[allow(non_upper_case_globals)]
const figures_rows_max: i64 = 100_000;

/// The windows responsiveness is reported over: (name, milliseconds).
pub const WINDOWS: [(&str, i64); 3] = [("24h", 86_400_000), ("7d", 7 * 86_400_000), ("30d", 30 * 86_400_000)];

/// The JSON shape of a watch check.
pub fn check_json(c: &WatchCheckRow) -> Value {
    json!({
        "id": c.id,
        "peer": c.peer,
        "direction": c.direction.as_str(),
        "state": c.state(),
        "sent": rfc3339(c.sent_ms),
        "deadline": rfc3339(c.deadline_ms),
        "answered": c.answered_ms.map(rfc3339),
        "answered_by": c.answered_by,
        "answered_in_s": c.answered_ms.map(|a| (a - c.sent_ms) as f64 / 1000.0),
        "late": c.missed && c.answered_ms.is_some(),
    })
}

/// Run a watch check on the line now: an operator at the peer must answer it by the
/// line's deadline (default 5 minutes).
#[utoipa::path(post, path = "/api/v1/lines/{peer}/watch-check", params(("peer" = String, Path)),
    responses((status = 202, description = "Sent (or queued while the line is down)"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_watch_check(
    State(state): State<AppState>,
    Path(peer): Path<String>,
) -> Result<Response, ApiError> {
    let line = state.line(&peer)?;
    let row = line.ask(|reply| Command::WatchCheck { reply }).await?;
    Ok((StatusCode::ACCEPTED, Json(check_json(&row))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ChecksQuery {
    /// Only this line's checks.
    peer: Option<String>,
    /// At most this many, newest first (default and maximum 500).
    limit: Option<i64>,
}

/// Watch checks both ways, newest first: ours to the peer (`out`) and the peer's to us
/// (`in`, to be answered here).
#[utoipa::path(get, path = "/api/v1/watch-checks", params(ChecksQuery),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_watch_checks(
    State(state): State<AppState>,
    Query(q): Query<ChecksQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(watch_page_max).clamp(1, watch_page_max);
    let peers: Vec<String> = match q.peer {
        Some(p) => vec![state.line(&p)?.peer.clone()],
        None => state.lines.keys().collect(),
    };
    let since = now_ms() - WINDOWS[2].1;
    let mut checks = state
        .core
        .read(move |tx| {
            let mut all = Vec::new();
            for p in &peers {
                all.extend(tx.watch_checks_since(p, since, figures_rows_max)?);
            }
            Ok(all)
        })
        .await?;
    checks.sort_by_key(|c| std::cmp::Reverse(c.sent_ms));
    checks.truncate(limit as usize);
    Ok(Json(Value::Array(checks.iter().map(check_json).collect())))
}

/// Answer the peer's watch check: "someone is here". Any operator may answer.
#[utoipa::path(post, path = "/api/v1/watch-checks/{id}/answer", params(("id" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn post_watch_check_answer(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lookup = id.clone();
    let check = state
        .core
        .read(move |tx| tx.watch_check(&lookup))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no watch check {id}")))?;
    if check.direction != Direction::In {
        return Err(ApiError::Conflict("this is our own watch check; the peer answers it".into()));
    }
    let line = state.line(&check.peer)?;
    let row = line.ask(|reply| Command::AnswerCheck { id, by: user.name.clone(), reply }).await?;
    Ok(Json(check_json(&row)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AlarmsQuery {
    /// `open` (default: raised or acknowledged) or `all`.
    state: Option<String>,
    /// At most this many (default and maximum 500).
    limit: Option<i64>,
}

/// Alarms, open ones first, newest first. An alarm the disk could not take yet is listed
/// with `"recorded": false`.
#[utoipa::path(get, path = "/api/v1/alarms", params(AlarmsQuery),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(super) async fn get_alarms(
    State(state): State<AppState>,
    Query(q): Query<AlarmsQuery>,
) -> Result<Json<Value>, ApiError> {
    let open_only = match q.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => return Err(ApiError::bad("bad_request", format!("state {other:?} is not \"open\" or \"all\""))),
    };
    let limit = q.limit.unwrap_or(watch_page_max).clamp(1, watch_page_max);
    let rows = state.core.read(move |tx| tx.alarms(open_only, limit)).await?;
    let mut out: Vec<Value> = state
        .supervisor
        .unrecorded()
        .iter()
        .map(|a| {
            let mut v = alarm_json(a);
            v["recorded"] = json!(false);
            v
        })
        .collect();
    out.extend(rows.iter().map(|a| {
        let mut v = alarm_json(a);
        v["recorded"] = json!(true);
        v
    }));
    Ok(Json(Value::Array(out)))
}

pub(super) async fn alarm_or_404(state: &AppState, id: &str) -> Result<AlarmRow, ApiError> {
    let lookup = id.to_owned();
    state.core.read(move |tx| tx.alarm(&lookup)).await?.ok_or_else(|| ApiError::NotFound(format!("no alarm {id}")))
}

/// Acknowledge an alarm: someone has it in hand; escalation stops. Any operator may.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/ack", params(("id" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_alarm_ack(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    alarm_or_404(&state, &id).await?;
    let by = user.name.clone();
    let row = state
        .core
        .write(move |j| alarms::acknowledge(j, &id, &by))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such alarm".into()))?;
    if row.cleared_ms.is_none() {
        let key = row.key.clone();
        state.supervisor.observe(|w, _| {
            w.on_acknowledged(&key);
        });
    }
    Ok(Json(alarm_json(&row)))
}

/// Clear an alarm by hand (supervisors): for causes that do not end by themselves, such
/// as a key mismatch or a record fork, once they have been dealt with.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/clear", params(("id" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn post_alarm_clear(
    State(state): State<AppState>,
    Extension(Operator(user)): Extension<Operator>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if user.role != Role::Supervisor {
        return Err(ApiError::Forbidden("only a supervisor clears an alarm by hand".into()));
    }
    alarm_or_404(&state, &id).await?;
    let by = user.name.clone();
    let row = state
        .core
        .write(move |j| alarms::clear(j, &id, Some(&by), "cleared by a supervisor"))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such alarm".into()))?;
    let key = row.key.clone();
    state.supervisor.observe(|w, _| {
        w.on_cleared(&key);
    });
    Ok(Json(alarm_json(&row)))
}

/// Nearest-rank percentile of sorted `v`.
fn percentile(v: &[f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

fn summary(mut seconds: Vec<f64>) -> Value {
    seconds.sort_by(f64::total_cmp);
    let round = |x: Option<f64>| x.map(|v| (v * 1000.0).round() / 1000.0);
    json!({
        "p50_s": round(percentile(&seconds, 50.0)),
        "p95_s": round(percentile(&seconds, 95.0)),
        "max_s": round(seconds.last().copied()),
    })
}

/// Responsiveness of one line, per direction, over each window. `out` is how the peer
/// answers us (our checks, our messages); `in` is how we answer the peer.
pub(super) async fn responsiveness(state: &AppState, peer: &str) -> Result<Value, ApiError> {
    let now = now_ms();
    let p = peer.to_owned();
    let since = now - WINDOWS[2].1;
    let (checks, acks) = state
        .core
        .read(move |tx| Ok((tx.watch_checks_since(&p, since, figures_rows_max)?, tx.ack_times_since(&p, since)?)))
        .await?;
    let mut windows = serde_json::Map::new();
    for (name, span) in WINDOWS {
        let from = now - span;
        let mut directions = serde_json::Map::new();
        for direction in [Direction::Out, Direction::In] {
            let mine: Vec<&WatchCheckRow> =
                checks.iter().filter(|c| c.direction == direction && c.sent_ms >= from).collect();
            let answered: Vec<f64> =
                mine.iter().filter_map(|c| c.answered_ms.map(|a| (a - c.sent_ms).max(0) as f64 / 1000.0)).collect();
            let mut by_precedence = serde_json::Map::new();
            for precedence in hotline_item::Precedence::ALL.iter().rev().map(|p| p.as_str()) {
                let msgs: Vec<_> = acks
                    .iter()
                    .filter(|(d, p, created, _)| d == direction.as_str() && p == precedence && *created >= from)
                    .collect();
                if msgs.is_empty() {
                    continue;
                }
                let times: Vec<f64> =
                    msgs.iter().filter_map(|(_, _, c, a)| a.map(|a| (a - c).max(0) as f64 / 1000.0)).collect();
                let mut s = summary(times.clone());
                s["messages"] = json!(msgs.len());
                s["acknowledged"] = json!(times.len());
                by_precedence.insert((*precedence).to_owned(), s);
            }
            let mut check_summary = summary(answered.clone());
            check_summary["sent"] = json!(mine.len());
            // A check answered after its deadline counts as missed (and as late): the
            // deadline is the promise, a late answer only shows someone came back.
            check_summary["answered"] = json!(mine.iter().filter(|c| c.answered_ms.is_some() && !c.missed).count());
            check_summary["missed"] = json!(mine.iter().filter(|c| c.missed).count());
            check_summary["answered_late"] = json!(mine.iter().filter(|c| c.missed && c.answered_ms.is_some()).count());
            check_summary["pending"] = json!(mine.iter().filter(|c| c.state() == "pending").count());
            directions.insert(
                direction.as_str().to_owned(),
                json!({"watch_checks": check_summary, "time_to_acknowledge": by_precedence}),
            );
        }
        windows.insert(name.to_owned(), Value::Object(directions));
    }
    Ok(json!({"peer": peer, "windows": windows}))
}

/// How fast each side answers on this line: watch checks answered and missed, time to
/// answer (p50, p95, max) and time to acknowledge messages by precedence, per direction
/// (`out`: the peer answering us; `in`: us answering the peer), over 24 h, 7 and 30 days.
#[utoipa::path(get, path = "/api/v1/lines/{peer}/responsiveness", params(("peer" = String, Path)),
    responses((status = 200), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_responsiveness(
    State(state): State<AppState>,
    Path(peer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.line(&peer)?;
    Ok(Json(responsiveness(&state, &peer).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 95.0), Some(95.0));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
