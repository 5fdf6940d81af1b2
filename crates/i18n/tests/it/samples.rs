//! Sample notices and one sample text per station message, built with the typed helpers
//! (which are what the station calls), for the catalog and text tests.

use hotline_i18n::Text;
use hotline_i18n::texts::{self, Side};
use hotline_notice::{Closeness, Limits, Notice, parse_notice};

/// 2026-11-24T15:30:00Z.
pub const START_MS: i64 = 1_795_534_200_000;

pub fn notice(json: &str) -> Notice {
    parse_notice(json, &Limits::default()).expect("a valid sample notice")
}

/// PRODUCT.md's example: a circle of 20 km, 0–9000 m, two hours.
pub fn circle() -> Notice {
    notice(
        r#"{"kind": "air_operations", "area": {"type": "Point", "coordinates": [30.5, 50.4], "radius_m": 20000},
            "altitude": {"min_m": 0, "max_m": 9000}, "start": "2026-11-25T10:00:00Z",
            "end": "2026-11-25T12:00:00Z", "title": "Sortie window A", "remarks": "", "lang": "en"}"#,
    )
}

/// A polygon of five vertices with no altitude band.
pub fn polygon() -> Notice {
    notice(
        r#"{"kind": "naval_exercise", "area": {"type": "Polygon", "coordinates": [[[30.0, 44.0], [31.0, 44.0],
            [31.5, 44.5], [31.0, 45.0], [30.0, 45.0], [30.0, 44.0]]]},
            "start": "2026-11-25T11:00:00Z", "end": "2026-11-26T11:00:00Z", "title": "Учения", "remarks": "", "lang": "ru"}"#,
    )
}

/// Two triangles either side of the antimeridian, 3000–3048 m.
pub fn multipolygon() -> Notice {
    notice(
        r#"{"kind": "missile_test", "area": {"type": "MultiPolygon", "coordinates": [
            [[[179.0, 10.0], [180.0, 10.0], [180.0, 11.0], [179.0, 10.0]]],
            [[[-180.0, 10.0], [-179.0, 10.0], [-180.0, 11.0], [-180.0, 10.0]]]]},
            "altitude": {"min_m": 3000, "max_m": 3048}, "start": "2026-11-25T10:00:00Z",
            "end": "2026-11-25T10:30:00Z", "title": "Range 7", "remarks": "", "lang": "en"}"#,
    )
}

pub fn closeness(lateral_m: f64, vertical_gap_m: f64, time_gap_s: i64) -> Closeness {
    Closeness { lateral_m, vertical_gap_m, time_gap: time::Duration::seconds(time_gap_s) }
}

/// One text per station message id (and more for the variants), with sample arguments.
pub fn all() -> Vec<Text> {
    let (a, b, c) = (circle(), polygon(), multipolygon());
    let line_down = texts::alarm_line_down("bravo", 12);
    vec![
        texts::notice_summary(&a),
        texts::notice_summary(&b),
        texts::notice_summary(&c),
        texts::notice_filed("alpha", &a),
        texts::notice_amended("alpha", &b, 2),
        texts::notice_cancelled("bravo", &c),
        texts::notice_expired("alpha", &a),
        texts::notice_acknowledged("watch-officer", "bravo", &a, 3),
        texts::conflict_raised(&a, "alpha", &b, "bravo", &closeness(0.0, 0.0, 0)),
        texts::conflict_raised(&a, "alpha", &c, "bravo", &closeness(3_240.0, 120.4, 600)),
        texts::conflict_resolved(&a, "alpha", &b, "bravo"),
        line_down.clone(),
        texts::alarm_watch_check_missed(Side::Peer, "bravo", 5),
        texts::alarm_watch_check_missed(Side::Here, "bravo", 5),
        texts::alarm_ack_overdue(Side::Peer, "bravo", "FLASH", 1, "01937a2c-0000-7000-8000-000000000001", 2),
        texts::alarm_ack_overdue(Side::Here, "bravo", "IMMEDIATE", 1, "01937a2c-0000-7000-8000-000000000002", 10),
        texts::alarm_ack_overdue(Side::Peer, "bravo", "FLASH", 21, "01937a2c-0000-7000-8000-000000000003", 2),
        texts::alarm_ack_overdue(Side::Here, "bravo", "PRIORITY", 3, "01937a2c-0000-7000-8000-000000000004", 60),
        texts::alarm_peer_key_mismatch("bravo", "1a2b3c4d", "5e6f7a8b"),
        texts::alarm_record_fork("bravo"),
        texts::alarm_storage("disk I/O error"),
        texts::alarm_low_disk(512),
        texts::alarm_nobody_on_watch("bravo", 30),
        texts::alarm_line_task_failed("bravo", "panicked: index out of bounds"),
        texts::alarm_recording_stopped("bravo", "call 0190d1c2-3b4a-7c3e-9a57-2f1f0d3c5b11: No space left on device"),
        texts::alarm_peer_recording_stopped(
            "bravo",
            "call 0190d1c2-3b4a-7c3e-9a57-2f1f0d3c5b11: No space left on device",
        ),
        texts::alarm_cosignature_refused("bravo", 1_234, "the proof does not hold"),
        texts::alarm_record_integrity("checkpoint 3 does not match the entries"),
        texts::alarm_acknowledged("watch-officer", line_down.clone()),
        texts::alarm_cleared(Some("supervisor"), line_down.clone()),
        texts::alarm_cleared(None, line_down.clone()),
        texts::watch_check_requested("bravo", 5),
        texts::watch_check_received("alpha", 5),
        texts::watch_check_answered("op", "bravo", 42),
        texts::watch_check_missed(Side::Peer, "bravo", 5),
        texts::watch_check_missed(Side::Here, "alpha", 5),
        texts::presence("bravo", 0),
        texts::presence("bravo", 1),
        texts::presence("bravo", 2),
        texts::presence("bravo", 5),
        texts::escalation_subject("critical", "alpha", line_down.clone()),
        texts::escalation_subject("warning", "alpha", texts::alarm_low_disk(100)),
        texts::escalation_subject("info", "alpha", texts::presence("bravo", 0)),
        texts::escalation_body("critical", "alpha", line_down, START_MS, 7, "https://alpha.example:8443/"),
    ]
}
