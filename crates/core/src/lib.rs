//! The station's ground floor: its one writer of the record (`core`), its configuration,
//! accounts and administration socket, alarms and their escalation, notices, presence and
//! the supervisor that watches every task.
//!
//! The line tasks (`hotline-line`) and the HTTP API (`hotline-http`) stand on this crate;
//! `hotline-station` wires them into a serving station. Nothing here opens a socket to the
//! peer or serves HTTP: that keeps the rules about the record (only `Core` appends, one
//! entry kind table) in one crate both upper floors share.

pub mod admin;
pub mod alarms;
pub mod auth;
pub mod backup;
pub mod client;
pub mod config;
pub mod core;
pub mod entry_kind;
pub mod export;
pub mod metrics;
pub mod notices;
pub mod notify;
pub mod presence;
mod published;
pub mod recording_files;
pub mod recording_retention;
pub mod redact;
pub mod station_lock;
pub mod supervise;
pub mod texts;
pub mod views;

/// Wall-clock milliseconds since the Unix epoch: the time written into the record.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// RFC 3339 UTC text for a time in milliseconds, e.g. `2026-11-24T15:30:00.123Z`: the
/// auditor's own function, so the record is written in exactly the form it is read.
pub use hotline_audit::rfc3339;
