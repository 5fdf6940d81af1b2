//! Typed builders for every station text: each takes the values it needs (a
//! `hotline_notice::Notice`, a peer name, a number of seconds) and returns the [`Text`]
//! to render, so a caller cannot forget an argument or misspell one. The tests render
//! each of them in every shipped language.

use hotline_notice::{AltitudeBand, Area, Closeness, Notice};
use time::OffsetDateTime;

use crate::args::{Args, Text};
use crate::format::{altitude_parts, kilometres, position};
use crate::ids;

/// Which end of the line is late: the peer (it did not answer us) or this station (we
/// did not answer it). Selects the variant of the alarm and watch-check texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Peer,
    Here,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Peer => "peer",
            Side::Here => "here",
        }
    }
}

fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(if t.year() < 1970 { i64::MIN } else { i64::MAX })
}

/// The corners of an area's rings, not counting the point that closes each ring.
fn vertices(area: &Area) -> usize {
    area.polygons().iter().flat_map(|p| &p.rings).map(|ring| ring.len().saturating_sub(1)).sum()
}

/// "circle 20 km around 50.40N 30.50E", "polygon, 5 vertices", "2 polygons, 12 vertices".
pub fn area(area: &Area) -> Text {
    match area {
        Area::Circle { center, radius_m } => Text::new(
            ids::AREA_CIRCLE,
            Args::new().str("radius_km", kilometres(*radius_m)).str("center", position(*center)),
        ),
        Area::Polygon(_) => Text::new(ids::AREA_POLYGON, Args::new().num("vertices", vertices(area) as f64)),
        Area::MultiPolygon(polygons) => Text::new(
            ids::AREA_MULTIPOLYGON,
            Args::new().num("polygons", polygons.len() as f64).num("vertices", vertices(area) as f64),
        ),
    }
}

/// "0–9000 m (SFC–FL296)" (flight levels rounded outward, see [`crate::format`]), or
/// "SFC–UNL" for no band.
pub fn altitude(band: Option<AltitudeBand>) -> Text {
    match altitude_parts(band) {
        Some([min_m, max_m, min_fl, max_fl]) => Text::new(
            ids::ALTITUDE_BAND,
            Args::new().str("min_m", min_m).str("max_m", max_m).str("min_fl", min_fl).str("max_fl", max_fl),
        ),
        None => Text::new(ids::ALTITUDE_UNLIMITED, Args::new()),
    }
}

/// One line that says everything about a notice: kind, title, area, altitude band, and
/// its window in UTC and as date-time groups.
pub fn notice_summary(notice: &Notice) -> Text {
    Text::new(
        ids::NOTICE_SUMMARY,
        Args::new()
            .label("kind", format!("kind-{}", notice.kind.as_str()))
            .str("title", notice.title.clone())
            .text("area", area(&notice.area))
            .text("altitude", altitude(notice.altitude))
            .time_ms("start", unix_ms(notice.start))
            .time_ms("end", unix_ms(notice.end)),
    )
}

/// `station` filed `notice`.
pub fn notice_filed(station: &str, notice: &Notice) -> Text {
    Text::new(ids::NOTICE_FILED, Args::new().str("station", station).text("summary", notice_summary(notice)))
}

/// `station` amended a notice; `notice` is the new version `version`.
pub fn notice_amended(station: &str, notice: &Notice, version: u64) -> Text {
    Text::new(
        ids::NOTICE_AMENDED,
        Args::new().str("station", station).num("version", version as f64).text("summary", notice_summary(notice)),
    )
}

/// `station` cancelled `notice`.
pub fn notice_cancelled(station: &str, notice: &Notice) -> Text {
    Text::new(ids::NOTICE_CANCELLED, Args::new().str("station", station).str("title", notice.title.clone()))
}

/// `station`'s `notice` is past its end.
pub fn notice_expired(station: &str, notice: &Notice) -> Text {
    Text::new(
        ids::NOTICE_EXPIRED,
        Args::new().str("station", station).str("title", notice.title.clone()).time_ms("end", unix_ms(notice.end)),
    )
}

/// Operator `by` at `station` acknowledged version `version` of `notice`.
pub fn notice_acknowledged(by: &str, station: &str, notice: &Notice, version: u64) -> Text {
    Text::new(
        ids::NOTICE_ACKNOWLEDGED,
        Args::new()
            .str("title", notice.title.clone())
            .num("version", version as f64)
            .str("by", by)
            .str("station", station),
    )
}

/// `value` rounded to `step`, but never to zero when it is not zero: a gap of 20 m is
/// not "overlapping".
fn round_away_from_zero(value: f64, step: f64) -> f64 {
    let rounded = (value / step).round() * step;
    if value > 0.0 && rounded < step { step } else { (rounded * 10.0).round() / 10.0 }
}

/// Notices `a` (filed at `a_station`) and `b` conflict, coming as close as `close`
/// says in each of the three dimensions (each is 0 where they overlap).
pub fn conflict_raised(a: &Notice, a_station: &str, b: &Notice, b_station: &str, close: &Closeness) -> Text {
    Text::new(
        ids::CONFLICT_RAISED,
        Args::new()
            .str("a_title", a.title.clone())
            .str("a_station", a_station)
            .str("b_title", b.title.clone())
            .str("b_station", b_station)
            .num("lateral_km", round_away_from_zero(close.lateral_m / 1000.0, 0.1))
            .num("vertical_m", round_away_from_zero(close.vertical_gap_m, 1.0))
            .num("time_min", round_away_from_zero(close.time_gap.whole_seconds() as f64 / 60.0, 1.0)),
    )
}

/// Notices `a` and `b` no longer conflict.
pub fn conflict_resolved(a: &Notice, a_station: &str, b: &Notice, b_station: &str) -> Text {
    Text::new(
        ids::CONFLICT_RESOLVED,
        Args::new()
            .str("a_title", a.title.clone())
            .str("a_station", a_station)
            .str("b_title", b.title.clone())
            .str("b_station", b_station),
    )
}

/// The line to `peer` has been down for `seconds`.
pub fn alarm_line_down(peer: &str, seconds: u64) -> Text {
    Text::new(ids::ALARM_LINE_DOWN, Args::new().str("peer", peer).num("seconds", seconds as f64))
}

/// A watch check was not answered within `deadline_minutes`, by the `late` side.
pub fn alarm_watch_check_missed(late: Side, peer: &str, deadline_minutes: u64) -> Text {
    Text::new(
        ids::ALARM_WATCH_CHECK_MISSED,
        Args::new().str("side", late.as_str()).str("peer", peer).num("minutes", deadline_minutes as f64),
    )
}

/// `count` messages of `precedence` (such as `FLASH`) on the line to `peer`, the oldest
/// `first_message_id`, have waited `minutes` or more for an acknowledgment by the `late`
/// side (one alarm for all of them).
pub fn alarm_ack_overdue(
    late: Side,
    peer: &str,
    precedence: &str,
    count: usize,
    first_message_id: &str,
    minutes: u64,
) -> Text {
    Text::new(
        ids::ALARM_ACK_OVERDUE,
        Args::new()
            .str("side", late.as_str())
            .str("peer", peer)
            .label("precedence", format!("precedence-{precedence}"))
            .num("count", count as f64)
            .str("message_id", first_message_id)
            .num("minutes", minutes as f64),
    )
}

/// `peer` presented a key with fingerprint `presented`, not the `pinned` one.
pub fn alarm_peer_key_mismatch(peer: &str, presented: &str, pinned: &str) -> Text {
    Text::new(
        ids::ALARM_PEER_KEY_MISMATCH,
        Args::new().str("peer", peer).str("presented", presented).str("pinned", pinned),
    )
}

/// `peer`'s record does not extend what we cosigned.
pub fn alarm_record_fork(peer: &str) -> Text {
    Text::new(ids::ALARM_RECORD_FORK, Args::new().str("peer", peer))
}

/// The store failed: `detail` says how.
pub fn alarm_storage(detail: &str) -> Text {
    Text::new(ids::ALARM_STORAGE, Args::new().str("detail", detail))
}

/// Only `free_mb` megabytes are free on the station's disk.
pub fn alarm_low_disk(free_mb: u64) -> Text {
    Text::new(ids::ALARM_LOW_DISK, Args::new().num("free_mb", free_mb as f64))
}

/// Nobody has been on watch at `peer` for `minutes`.
pub fn alarm_nobody_on_watch(peer: &str, minutes: u64) -> Text {
    Text::new(ids::ALARM_NOBODY_ON_WATCH, Args::new().str("peer", peer).num("minutes", minutes as f64))
}

/// The task running the line to `peer` ended (`detail`: how); the station restarts it.
pub fn alarm_line_task_failed(peer: &str, detail: &str) -> Text {
    Text::new(ids::ALARM_LINE_TASK_FAILED, Args::new().str("peer", peer).str("detail", detail))
}

/// A call recording on the line to `peer` stopped mid-call (`detail`: which call, why).
pub fn alarm_recording_stopped(peer: &str, detail: &str) -> Text {
    Text::new(ids::ALARM_RECORDING_STOPPED, Args::new().str("peer", peer).str("detail", detail))
}

pub fn alarm_peer_recording_stopped(peer: &str, detail: &str) -> Text {
    Text::new(ids::ALARM_PEER_RECORDING_STOPPED, Args::new().str("peer", peer).str("detail", detail))
}

/// `peer` refused to cosign our checkpoint of `size`, for `reason`.
pub fn alarm_cosignature_refused(peer: &str, size: u64, reason: &str) -> Text {
    Text::new(
        ids::ALARM_COSIGNATURE_REFUSED,
        Args::new().str("peer", peer).num("size", size as f64).str("reason", reason),
    )
}

/// The record on disk does not match the station's own checkpoints.
pub fn alarm_record_integrity(detail: &str) -> Text {
    Text::new(ids::ALARM_RECORD_INTEGRITY, Args::new().str("detail", detail))
}

/// Operator `by` acknowledged the alarm that said `alarm`.
pub fn alarm_acknowledged(by: &str, alarm: Text) -> Text {
    Text::new(ids::ALARM_ACKNOWLEDGED, Args::new().str("by", by).text("alarm", alarm))
}

/// The alarm that said `alarm` was cleared: by operator `by`, or (`None`) by itself
/// because its cause ended.
pub fn alarm_cleared(by: Option<&str>, alarm: Text) -> Text {
    match by {
        Some(by) => Text::new(ids::ALARM_CLEARED, Args::new().str("by", by).text("alarm", alarm)),
        None => Text::new(ids::ALARM_CLEARED_AUTO, Args::new().text("alarm", alarm)),
    }
}

/// We sent `peer` a watch check to answer within `deadline_minutes`.
pub fn watch_check_requested(peer: &str, deadline_minutes: u64) -> Text {
    Text::new(ids::WATCH_CHECK_REQUESTED, Args::new().str("peer", peer).num("minutes", deadline_minutes as f64))
}

/// `peer` sent us a watch check to answer within `deadline_minutes`.
pub fn watch_check_received(peer: &str, deadline_minutes: u64) -> Text {
    Text::new(ids::WATCH_CHECK_RECEIVED, Args::new().str("peer", peer).num("minutes", deadline_minutes as f64))
}

/// Operator `by` at `station` answered a watch check `seconds` after it arrived.
pub fn watch_check_answered(by: &str, station: &str, seconds: u64) -> Text {
    Text::new(
        ids::WATCH_CHECK_ANSWERED,
        Args::new().str("by", by).str("station", station).num("seconds", seconds as f64),
    )
}

/// A watch check on the line to `peer` was missed by the `late` side.
pub fn watch_check_missed(late: Side, peer: &str, deadline_minutes: u64) -> Text {
    Text::new(
        ids::WATCH_CHECK_MISSED,
        Args::new().str("side", late.as_str()).str("peer", peer).num("minutes", deadline_minutes as f64),
    )
}

/// "bravo: 2 on watch" (or "nobody on watch").
pub fn presence(peer: &str, on_watch: u64) -> Text {
    Text::new(ids::PRESENCE, Args::new().str("peer", peer).num("count", on_watch as f64))
}

/// The severity label (`critical`, `warning`, `info`); an unknown severity is shown
/// as it is, in capitals.
fn severity(args: Args, severity: &str) -> Args {
    match severity {
        "critical" => args.label("severity", ids::SEVERITY_CRITICAL),
        "warning" => args.label("severity", ids::SEVERITY_WARNING),
        "info" => args.label("severity", ids::SEVERITY_INFO),
        other => args.str("severity", other.to_uppercase()),
    }
}

/// The subject of an escalation e-mail: "[CRITICAL] alpha: <the alarm's text>".
pub fn escalation_subject(severity_name: &str, station: &str, alarm: Text) -> Text {
    Text::new(
        ids::ESCALATION_SUBJECT,
        severity(Args::new(), severity_name).str("station", station).text("alarm", alarm),
    )
}

/// The body of an escalation e-mail: the alarm, when it was raised, how long it has
/// gone unacknowledged, and where to acknowledge it.
pub fn escalation_body(
    severity_name: &str,
    station: &str,
    alarm: Text,
    raised_ms: i64,
    unacknowledged_minutes: u64,
    console_url: &str,
) -> Text {
    Text::new(
        ids::ESCALATION_BODY,
        severity(Args::new(), severity_name)
            .str("station", station)
            .text("alarm", alarm)
            .time_ms("raised", raised_ms)
            .num("minutes", unacknowledged_minutes as f64)
            .str("url", console_url),
    )
}
