//! How fast each side answers on a line, as typed figures: watch checks answered and
//! missed, time to answer (p50, p95, max) and time to acknowledge messages by precedence,
//! per direction (`out`: the peer answering us; `in`: us answering the peer), over the
//! last 24 hours, 7 days and 30 days. Computed from the store's watch checks and message
//! acknowledgment times; `GET /api/v1/lines/{peer}/responsiveness`, the line cards of
//! `GET /api/v1/lines` and `/metrics` all read them from here.

use std::collections::BTreeMap;

use hotline_store::{Direction, WatchCheckRow};
use serde::Serialize;
use utoipa::ToSchema;

use super::state::AppState;
use crate::error::ApiError;
use hotline_core::now_ms;

/// Most watch checks or messages one responsiveness window reads.
#[allow(non_upper_case_globals)]
pub(crate) const figures_rows_max: i64 = 100_000;

/// The windows responsiveness is reported over, in milliseconds.
#[allow(non_upper_case_globals)]
const window_24h_ms: i64 = 86_400_000;
#[allow(non_upper_case_globals)]
const window_7d_ms: i64 = 7 * window_24h_ms;
#[allow(non_upper_case_globals)]
pub(crate) const window_30d_ms: i64 = 30 * window_24h_ms;

/// One line's responsiveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponsivenessAnswer {
    pub peer: String,
    pub windows: Windows,
}

/// The same figures over three windows ending now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Windows {
    #[serde(rename = "24h")]
    pub last_24h: BothWays,
    #[serde(rename = "7d")]
    pub last_7d: BothWays,
    #[serde(rename = "30d")]
    pub last_30d: BothWays,
}

/// `out`: how the peer answers us (our checks, our messages); `in`: how we answer it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BothWays {
    pub out: Figures,
    #[serde(rename = "in")]
    pub inbound: Figures,
}

/// One direction's figures in one window.
#[derive(Debug, Serialize, ToSchema)]
pub struct Figures {
    pub watch_checks: CheckFigures,
    /// Per precedence (`FLASH`, ...), only those with messages in the window.
    pub time_to_acknowledge: BTreeMap<String, AckFigures>,
}

/// Watch checks sent in the window and the time to answer them, in seconds.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CheckFigures {
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub max_s: Option<f64>,
    pub sent: usize,
    /// Answered by the deadline.
    pub answered: usize,
    /// Not answered by the deadline (a late answer counts here, and as late).
    pub missed: usize,
    pub answered_late: usize,
    pub pending: usize,
}

/// Messages created in the window and the time from creation to acknowledgment, in seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct AckFigures {
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub max_s: Option<f64>,
    pub messages: usize,
    pub acknowledged: usize,
}

/// Nearest-rank percentile of sorted `v`.
fn percentile(v: &[f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

/// p50, p95 and max of `seconds`, to the millisecond.
fn summary(mut seconds: Vec<f64>) -> (Option<f64>, Option<f64>, Option<f64>) {
    seconds.sort_by(f64::total_cmp);
    let round = |x: Option<f64>| x.map(|v| (v * 1000.0).round() / 1000.0);
    (round(percentile(&seconds, 50.0)), round(percentile(&seconds, 95.0)), round(seconds.last().copied()))
}

/// (direction, precedence, created_ms, acked_ms) of the line's messages, as the store
/// lists them.
type AckTime = (String, String, i64, Option<i64>);

fn figures(checks: &[WatchCheckRow], acks: &[AckTime], direction: Direction, from: i64) -> Figures {
    let mine: Vec<&WatchCheckRow> = checks.iter().filter(|c| c.direction == direction && c.sent_ms >= from).collect();
    let answered: Vec<f64> =
        mine.iter().filter_map(|c| c.answered_ms.map(|a| (a - c.sent_ms).max(0) as f64 / 1000.0)).collect();
    let mut time_to_acknowledge = BTreeMap::new();
    for precedence in hotline_item::Precedence::ALL.iter().map(|p| p.as_str()) {
        let msgs: Vec<_> = acks
            .iter()
            .filter(|(d, p, created, _)| d == direction.as_str() && p == precedence && *created >= from)
            .collect();
        if msgs.is_empty() {
            continue;
        }
        let times: Vec<f64> =
            msgs.iter().filter_map(|(_, _, c, a)| a.map(|a| (a - c).max(0) as f64 / 1000.0)).collect();
        let acknowledged = times.len();
        let (p50_s, p95_s, max_s) = summary(times);
        time_to_acknowledge
            .insert(precedence.to_owned(), AckFigures { p50_s, p95_s, max_s, messages: msgs.len(), acknowledged });
    }
    let (p50_s, p95_s, max_s) = summary(answered);
    // A check answered after its deadline counts as missed (and as late): the deadline is
    // the promise, a late answer only shows someone came back.
    let watch_checks = CheckFigures {
        p50_s,
        p95_s,
        max_s,
        sent: mine.len(),
        answered: mine.iter().filter(|c| c.answered_ms.is_some() && !c.missed).count(),
        missed: mine.iter().filter(|c| c.missed).count(),
        answered_late: mine.iter().filter(|c| c.missed && c.answered_ms.is_some()).count(),
        pending: mine.iter().filter(|c| c.state() == "pending").count(),
    };
    Figures { watch_checks, time_to_acknowledge }
}

/// Responsiveness of one line, per direction, over each window.
pub(crate) async fn of(state: &AppState, peer: &str) -> Result<ResponsivenessAnswer, ApiError> {
    let now = now_ms();
    let p = peer.to_owned();
    let since = now - window_30d_ms;
    let (checks, acks) = state
        .core
        .read(move |tx| Ok((tx.watch_checks_since(&p, since, figures_rows_max)?, tx.ack_times_since(&p, since)?)))
        .await?;
    let both = |span: i64| BothWays {
        out: figures(&checks, &acks, Direction::Out, now - span),
        inbound: figures(&checks, &acks, Direction::In, now - span),
    };
    let windows = Windows { last_24h: both(window_24h_ms), last_7d: both(window_7d_ms), last_30d: both(window_30d_ms) };
    Ok(ResponsivenessAnswer { peer: peer.to_owned(), windows })
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

    fn check(direction: Direction, sent_ms: i64, answered_ms: Option<i64>, missed: bool) -> WatchCheckRow {
        WatchCheckRow {
            id: format!("c{sent_ms}"),
            peer: "bravo".into(),
            direction,
            sent_ms,
            deadline_ms: sent_ms + 300_000,
            answered_ms,
            answered_by: answered_ms.map(|_| "duty".into()),
            missed,
        }
    }

    #[test]
    fn figures_count_by_direction_and_precedence() {
        let checks = [
            check(Direction::Out, 1_000, Some(3_000), false),
            check(Direction::Out, 2_000, Some(900_000), true),
            check(Direction::Out, 3_000, None, false),
            check(Direction::In, 4_000, None, true),
        ];
        let acks: Vec<AckTime> = vec![
            ("out".into(), "FLASH".into(), 1_000, Some(1_500)),
            ("out".into(), "FLASH".into(), 1_000, None),
            ("in".into(), "ROUTINE".into(), 1_000, Some(61_000)),
        ];
        let out = figures(&checks, &acks, Direction::Out, 0);
        let c = &out.watch_checks;
        assert_eq!((c.sent, c.answered, c.missed, c.answered_late, c.pending), (3, 1, 1, 1, 1));
        assert_eq!((c.p50_s, c.max_s), (Some(2.0), Some(898.0)));
        let flash = out.time_to_acknowledge.get("FLASH");
        assert_eq!(flash.map(|f| (f.messages, f.acknowledged, f.max_s)), Some((2, 1, Some(0.5))));
        assert!(!out.time_to_acknowledge.contains_key("ROUTINE"));
        let inbound = figures(&checks, &acks, Direction::In, 0);
        assert_eq!(inbound.watch_checks.missed, 1);
        assert_eq!(inbound.time_to_acknowledge.get("ROUTINE").and_then(|f| f.p50_s), Some(60.0));
        // A window that starts after everything sees nothing.
        let later = figures(&checks, &acks, Direction::Out, 10_000);
        assert_eq!(later.watch_checks.sent, 0);
        assert!(later.time_to_acknowledge.is_empty());
    }
}
