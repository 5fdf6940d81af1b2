//! The API's answers for the things the record also shows — messages, notices, conflicts,
//! alarms — as types, so the OpenAPI document describes every field a client reads.
//!
//! The record embeds its own JSON views of these rows (`hotline_core::views`,
//! `hotline_core::notices`, `hotline_core::alarms`); they are part of the record's format
//! and stay the one place that shapes them. An answer here is that view read into its
//! type (`conform`), with unknown fields refused: a field added to a view and not here
//! fails the tests below instead of vanishing from the API or from its document.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::ApiError;

/// Reads a record view into its answer type. A view that does not fit is our bug, never
/// the client's: logged (by `ApiError::Internal`) and answered as `internal`.
pub(crate) fn conform<T: DeserializeOwned>(view: Value) -> Result<T, ApiError> {
    serde_json::from_value(view).map_err(|e| {
        ApiError::Internal(format!("a view does not fit its answer type {}: {e}", std::any::type_name::<T>()))
    })
}

/// Which way something travelled on the line: `out` from us, `in` from the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Way {
    Out,
    In,
}

/// A message's precedence, as the API spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum PrecedenceName {
    Routine,
    Priority,
    Immediate,
    Flash,
}

/// queued → sent → delivered (on the peer's disk, signed) → acknowledged (read there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    Queued,
    Sent,
    Delivered,
    Acknowledged,
}

/// A message on a line, either direction.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageAnswer {
    /// UUIDv7, chosen by the sending station: the same at both ends.
    #[schema(format = Uuid)]
    pub id: String,
    pub peer: String,
    pub direction: Way,
    pub state: MessageState,
    pub precedence: PrecedenceName,
    /// BCP 47 language tag of the body.
    pub lang: String,
    pub body: String,
    /// The message this one answers.
    pub reply_to: Option<String>,
    /// The operator who wrote it, at the sending station.
    pub author: String,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime)]
    pub sent: Option<String>,
    #[schema(format = DateTime)]
    pub delivered: Option<String>,
    #[schema(format = DateTime)]
    pub acknowledged: Option<String>,
    pub acknowledged_by: Option<String>,
}

/// Filed → acknowledged → amended, cancelled or expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoticeState {
    Filed,
    Acknowledged,
    Amended,
    Cancelled,
    Expired,
}

/// Which station filed a notice: `ours` or `theirs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NoticeSide {
    Ours,
    Theirs,
}

/// A notice's area as stored: an RFC 7946 Polygon or MultiPolygon, or a circle (a Point
/// with `radius_m`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaAnswer {
    /// `Polygon`, `MultiPolygon` or `Point`.
    pub r#type: String,
    /// GeoJSON coordinates, `[longitude, latitude]` in degrees, nested as the type says.
    pub coordinates: Value,
    /// The circle's radius in metres (Points only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
}

/// An altitude band in metres.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AltitudeAnswer {
    pub min_m: f64,
    pub max_m: f64,
}

/// The latest version of a notice, either side's.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeAnswer {
    #[schema(format = Uuid)]
    pub id: String,
    /// 1 when filed, one more with every amendment.
    pub version: u64,
    pub side: NoticeSide,
    pub state: NoticeState,
    /// The station that filed it.
    pub station: String,
    pub peer: String,
    pub kind: String,
    pub area: AreaAnswer,
    /// Absent for all altitudes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude: Option<AltitudeAnswer>,
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    pub title: String,
    pub remarks: Option<String>,
    pub lang: Option<String>,
    pub acknowledged_by: Option<String>,
    #[schema(format = DateTime)]
    pub acknowledged: Option<String>,
    /// When this version was stored.
    #[schema(format = DateTime)]
    pub updated: String,
}

/// open → acknowledged (an operator here has seen it) → resolved (it no longer holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConflictState {
    Open,
    Acknowledged,
    Resolved,
}

/// Two active notices, one per side, that come too close; both stations name it alike.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictAnswer {
    pub id: String,
    pub peer: String,
    /// The two notices' ids.
    pub notices: Vec<String>,
    pub state: ConflictState,
    /// How close they come: distances and overlaps as detection found them.
    pub detail: Value,
    #[schema(format = DateTime)]
    pub raised: String,
    pub acknowledged_by: Option<String>,
    #[schema(format = DateTime)]
    pub acknowledged: Option<String>,
    #[schema(format = DateTime)]
    pub resolved: Option<String>,
}

/// raised → acknowledged (someone has it in hand) → cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlarmState {
    Raised,
    Acknowledged,
    Cleared,
}

/// How urgent an alarm is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
}

/// An alarm: one condition, one alarm (per cause and line).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmAnswer {
    pub id: String,
    /// The condition's key: the same condition never has two open alarms.
    pub key: String,
    /// What raised it: `line_down`, `watch_check_missed`, `key_mismatch`, ...
    pub cause: String,
    pub severity: Severity,
    pub peer: Option<String>,
    /// The cause's particulars (counts, fingerprints, ids).
    pub detail: Value,
    /// The alarm in the station's language.
    pub text: String,
    pub state: AlarmState,
    #[schema(format = DateTime)]
    pub raised: String,
    pub acknowledged_by: Option<String>,
    #[schema(format = DateTime)]
    pub acknowledged: Option<String>,
    pub cleared_by: Option<String>,
    #[schema(format = DateTime)]
    pub cleared: Option<String>,
    /// Escalation steps already notified.
    pub escalation_steps: i64,
    /// False while the disk could not take it yet (listings only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<bool>,
}

/// A call's state: `ringing` → `answered` → `ended`, or a ringing call ends as
/// `declined`, `missed`, `cancelled` or `failed`; `superseded` lost a glare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallStateName {
    Ringing,
    Answered,
    Declined,
    Missed,
    Cancelled,
    Failed,
    Ended,
    Superseded,
}

/// This station's recording of a call, once the call has ended and the recording is
/// sealed (`GET /api/v1/calls/{id}/recording` plays it).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingAnswer {
    /// SHA-256 of the Ogg Opus file, lower-case hex.
    pub sha256: String,
    pub duration_s: f64,
    pub bytes: u64,
    /// The recording has no proper end: the station stopped mid-call, or its disk failed.
    pub cut_off: bool,
    /// Until when the file is kept (RFC 3339): this line's `recording_retention_days`,
    /// or the peer's own retention of the call if longer.
    pub kept_until: String,
    /// The file was deleted (by retention or a supervisor); its hashes stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<RecordingDeletedAnswer>,
}

/// When and why a recording's file was deleted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingDeletedAnswer {
    pub at: String,
    /// `retention`, or `by supervisor NAME: REASON`.
    pub why: String,
}

/// A voice call across a line; the same id at both stations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallAnswer {
    #[schema(format = Uuid)]
    pub id: String,
    pub peer: String,
    pub direction: Way,
    pub state: CallStateName,
    /// True while consoles here should ring.
    pub alerting: bool,
    /// Why it ended: `operator`, `timeout`, `glare`, `line_lost`, `restarted`,
    /// `no_verdict`, `call_in_progress`, `line_down`, `stale`.
    pub reason: Option<String>,
    #[schema(format = DateTime)]
    pub started: String,
    #[schema(format = DateTime)]
    pub answered: Option<String>,
    #[schema(format = DateTime)]
    pub ended: Option<String>,
    pub started_by: String,
    pub answered_by: Option<String>,
    pub ended_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<RecordingAnswer>,
    /// A recording of this call stopped before the call ended: here (our recorder) and/or
    /// at the peer (as it said, at the time we heard it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_stopped: Option<RecordingStoppedAnswer>,
}

/// Where a call's recording stopped before the call ended.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingStoppedAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub here: Option<RecordingStopAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<RecordingStopAnswer>,
}

/// When (RFC 3339) and why a recording stopped.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingStopAnswer {
    pub at: String,
    pub why: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_store::{AlarmRow, ConflictRow, Direction, MessageRow, NoticeRow};

    /// The view, read into its answer and written again, is the view: nothing lost,
    /// renamed or added on the way.
    fn round_trips<T: DeserializeOwned + Serialize>(view: Value) {
        let answer: T = conform(view.clone()).unwrap_or_else(|e| panic!("{e:?}: {view}"));
        assert_eq!(serde_json::to_value(&answer).ok(), Some(view));
    }

    fn message(direction: Direction, sent: Option<i64>, acked: Option<i64>) -> MessageRow {
        MessageRow {
            id: "0190a000-0000-7000-8000-000000000001".into(),
            peer: "bravo".into(),
            direction,
            precedence: "FLASH".into(),
            lang: "en".into(),
            body: "radar contact".into(),
            reply_to: None,
            author: "duty".into(),
            created_ms: 1_764_000_000_000,
            sent_ms: sent,
            delivered_ms: sent,
            acked_ms: acked,
            acked_by: acked.map(|_| "watch".into()),
        }
    }

    #[test]
    fn messages_keep_their_shape() {
        for row in [
            message(Direction::Out, None, None),
            message(Direction::Out, Some(1_764_000_000_100), None),
            message(Direction::In, Some(1_764_000_000_100), Some(1_764_000_009_000)),
        ] {
            round_trips::<MessageAnswer>(hotline_core::views::message_json(&row));
        }
    }

    #[test]
    fn notices_keep_their_shape() {
        let body = serde_json::json!({"kind": "air_operations",
            "area": {"type": "Point", "coordinates": [30.5, 50.4], "radius_m": 20000.0},
            "altitude": {"min_m": 0.0, "max_m": 9000.0}, "start": "2026-11-25T10:00:00Z",
            "end": "2026-11-25T12:00:00Z", "title": "CAP", "remarks": null, "lang": "en"});
        let mut without_altitude = body.clone();
        if let Some(o) = without_altitude.as_object_mut() {
            o.remove("altitude");
            o.insert(
                "area".into(),
                serde_json::json!({"type": "Polygon", "coordinates": [[[30.0, 50.0], [31.0, 50.0], [31.0, 51.0], [30.0, 50.0]]]}),
            );
        }
        for (body, side, acked) in [(body, "ours", None), (without_altitude, "theirs", Some(1_764_000_001_000))] {
            let row = NoticeRow {
                id: "0190a000-0000-7000-8000-000000000002".into(),
                version: 1,
                peer: "bravo".into(),
                side: side.into(),
                state: "filed".into(),
                body: body.to_string(),
                end_ms: 1_764_000_000_000,
                created_ms: 1_764_000_000_000,
                acked_ms: acked,
                acked_by: acked.map(|_| "duty".into()),
            };
            round_trips::<NoticeAnswer>(hotline_core::notices::notice_json(&row, "alpha"));
        }
    }

    #[test]
    fn conflicts_and_alarms_keep_their_shape() {
        let conflict = ConflictRow {
            id: "c1".into(),
            peer: "bravo".into(),
            a: "n1".into(),
            b: "n2".into(),
            detail: r#"{"lateral_m": 12.5}"#.into(),
            raised_ms: 1_764_000_000_000,
            acked_ms: Some(1_764_000_000_500),
            acked_by: Some("duty".into()),
            resolved_ms: None,
        };
        round_trips::<ConflictAnswer>(hotline_core::notices::conflict_json(&conflict));
        let alarm = AlarmRow {
            id: "a1".into(),
            key: "line_down:bravo".into(),
            cause: "line_down".into(),
            severity: "critical".into(),
            peer: Some("bravo".into()),
            detail: r#"{"since": 5}"#.into(),
            text: "The line to bravo is down".into(),
            raised_ms: 1_764_000_000_000,
            acked_by: None,
            acked_ms: None,
            cleared_by: None,
            cleared_ms: None,
            steps_done: 0,
        };
        round_trips::<AlarmAnswer>(hotline_core::alarms::alarm_json(&alarm));
    }
}
