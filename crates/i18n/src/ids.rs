//! The ids of the station's own messages (the `sys-` section of the console's `.ftl`
//! files), in one list, so that the tests can render every one of them in every language
//! and a caller that builds a [`crate::Text`] by hand cannot misspell one.
//!
//! Each constant's comment lists the message's arguments; `$x` set with
//! [`crate::Args::time_ms`] also gives `$x_dtg`. The labels the console already has are
//! used as they are through [`crate::Args::label`]: `kind-{kind}` for a notice kind and
//! `precedence-{PRECEDENCE}` for a precedence.

/// `$kind` (label), `$title`, `$area` (text), `$altitude` (text), `$start`, `$end` (times).
pub const NOTICE_SUMMARY: &str = "sys-notice-summary";
/// `$radius_km`, `$center` ("50.40N 30.50E").
pub const AREA_CIRCLE: &str = "sys-area-circle";
/// `$vertices` (number).
pub const AREA_POLYGON: &str = "sys-area-polygon";
/// `$polygons`, `$vertices` (numbers).
pub const AREA_MULTIPOLYGON: &str = "sys-area-multipolygon";
/// `$min_m`, `$max_m` (whole metres), `$min_fl`, `$max_fl` ("SFC", "FL296").
pub const ALTITUDE_BAND: &str = "sys-altitude-band";
/// No arguments: surface to unlimited.
pub const ALTITUDE_UNLIMITED: &str = "sys-altitude-unlimited";

/// `$station` (who filed), `$summary` (text).
pub const NOTICE_FILED: &str = "sys-notice-filed";
/// `$station`, `$version` (number), `$summary` (text).
pub const NOTICE_AMENDED: &str = "sys-notice-amended";
/// `$station`, `$title`.
pub const NOTICE_CANCELLED: &str = "sys-notice-cancelled";
/// `$station`, `$title`, `$end` (time).
pub const NOTICE_EXPIRED: &str = "sys-notice-expired";
/// `$title`, `$version` (number), `$by` (operator), `$station` (the operator's).
pub const NOTICE_ACKNOWLEDGED: &str = "sys-notice-acknowledged";

/// `$a_title`, `$a_station`, `$b_title`, `$b_station`, `$lateral_km`, `$vertical_m`,
/// `$time_min` (numbers; 0 selects "overlap").
pub const CONFLICT_RAISED: &str = "sys-conflict-raised";
/// `$a_title`, `$a_station`, `$b_title`, `$b_station`.
pub const CONFLICT_RESOLVED: &str = "sys-conflict-resolved";

/// Severity labels, no arguments.
pub const SEVERITY_CRITICAL: &str = "sys-severity-critical";
pub const SEVERITY_WARNING: &str = "sys-severity-warning";
pub const SEVERITY_INFO: &str = "sys-severity-info";

/// `$peer`, `$seconds`.
pub const ALARM_LINE_DOWN: &str = "sys-alarm-line_down";
/// `$side` (`peer`: the peer missed our check; `here`: we missed theirs), `$peer`,
/// `$minutes` (the deadline).
pub const ALARM_WATCH_CHECK_MISSED: &str = "sys-alarm-watch_check_missed";
/// `$side` (`peer`: our message waits for the peer; `here`: theirs waits for us),
/// `$peer`, `$precedence` (label), `$message_id`, `$minutes`.
pub const ALARM_ACK_OVERDUE: &str = "sys-alarm-ack_overdue";
/// `$peer`, `$presented`, `$pinned` (key fingerprints).
pub const ALARM_PEER_KEY_MISMATCH: &str = "sys-alarm-peer_key_mismatch";
/// `$peer`.
pub const ALARM_RECORD_FORK: &str = "sys-alarm-record_fork";
/// `$detail`.
pub const ALARM_STORAGE: &str = "sys-alarm-storage";
/// `$free_mb`.
pub const ALARM_LOW_DISK: &str = "sys-alarm-low_disk";
/// `$peer`, `$minutes`.
pub const ALARM_NOBODY_ON_WATCH: &str = "sys-alarm-nobody_on_watch";
/// `$peer`, `$detail` (how the task ended).
pub const ALARM_LINE_TASK_FAILED: &str = "sys-alarm-line_task_failed";
pub const ALARM_RECORDING_STOPPED: &str = "sys-alarm-recording_stopped";
/// `$peer`, `$detail` (the call and why the peer's recorder stopped).
pub const ALARM_PEER_RECORDING_STOPPED: &str = "sys-alarm-peer_recording_stopped";
/// `$peer`, `$size`, `$reason`.
pub const ALARM_COSIGNATURE_REFUSED: &str = "sys-alarm-cosignature_refused";
/// `$detail`.
pub const ALARM_RECORD_INTEGRITY: &str = "sys-alarm-record_integrity";
/// `$by`, `$alarm` (text).
pub const ALARM_ACKNOWLEDGED: &str = "sys-alarm-acknowledged";
/// `$by`, `$alarm` (text).
pub const ALARM_CLEARED: &str = "sys-alarm-cleared";
/// `$alarm` (text): cleared because the cause ended.
pub const ALARM_CLEARED_AUTO: &str = "sys-alarm-cleared-auto";

/// `$peer`, `$minutes` (the deadline).
pub const WATCH_CHECK_REQUESTED: &str = "sys-watch-check-requested";
/// `$peer`, `$minutes` (the deadline).
pub const WATCH_CHECK_RECEIVED: &str = "sys-watch-check-received";
/// `$by`, `$station` (the answerer's), `$seconds`.
pub const WATCH_CHECK_ANSWERED: &str = "sys-watch-check-answered";
/// `$side` (`peer` or `here`, who missed it), `$peer`, `$minutes`.
pub const WATCH_CHECK_MISSED: &str = "sys-watch-check-missed";
/// `$peer`, `$count` (operators on watch; 0 = nobody).
pub const PRESENCE: &str = "sys-presence";

/// `$severity` (label), `$station`, `$alarm` (text).
pub const ESCALATION_SUBJECT: &str = "sys-escalation-subject";
/// `$severity` (label), `$station`, `$alarm` (text), `$raised` (time), `$minutes`, `$url`.
pub const ESCALATION_BODY: &str = "sys-escalation-body";

/// Every id above.
pub const ALL: &[&str] = &[
    NOTICE_SUMMARY,
    AREA_CIRCLE,
    AREA_POLYGON,
    AREA_MULTIPOLYGON,
    ALTITUDE_BAND,
    ALTITUDE_UNLIMITED,
    NOTICE_FILED,
    NOTICE_AMENDED,
    NOTICE_CANCELLED,
    NOTICE_EXPIRED,
    NOTICE_ACKNOWLEDGED,
    CONFLICT_RAISED,
    CONFLICT_RESOLVED,
    SEVERITY_CRITICAL,
    SEVERITY_WARNING,
    SEVERITY_INFO,
    ALARM_LINE_DOWN,
    ALARM_WATCH_CHECK_MISSED,
    ALARM_ACK_OVERDUE,
    ALARM_PEER_KEY_MISMATCH,
    ALARM_RECORD_FORK,
    ALARM_STORAGE,
    ALARM_LOW_DISK,
    ALARM_NOBODY_ON_WATCH,
    ALARM_LINE_TASK_FAILED,
    ALARM_RECORDING_STOPPED,
    ALARM_PEER_RECORDING_STOPPED,
    ALARM_COSIGNATURE_REFUSED,
    ALARM_RECORD_INTEGRITY,
    ALARM_ACKNOWLEDGED,
    ALARM_CLEARED,
    ALARM_CLEARED_AUTO,
    WATCH_CHECK_REQUESTED,
    WATCH_CHECK_RECEIVED,
    WATCH_CHECK_ANSWERED,
    WATCH_CHECK_MISSED,
    PRESENCE,
    ESCALATION_SUBJECT,
    ESCALATION_BODY,
];
