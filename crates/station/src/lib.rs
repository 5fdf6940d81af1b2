//! The hotline station: everything around the line protocol that touches the world.
//!
//! `hotline-proto` decides what to send and when; this crate moves the bytes (TCP + TLS
//! 1.3 with pinned station keys, `net`), keeps time, writes to the store (`core`), and
//! serves operators (`http`: the API, Server-Sent Events, Prometheus text, the console).
//! One supervised task per line (`line`) owns that line's `Line` state machine and is the
//! only writer of its outbox, which is what keeps sequence numbers gap-free.
//! It is the only crate in the workspace that knows sockets or HTTP, and the only one that
//! speaks JSON on the wire (`hotline-audit` reads the JSON export file).

pub mod admin;
pub mod alarms;
pub mod auth;
pub mod backup;
pub mod client;
pub mod config;
pub mod core;
pub mod demo;
pub mod entry_kind;
pub mod error;
pub mod export;
pub mod http;
pub mod item;
pub mod line;
pub mod notices;
pub mod notify;
pub mod presence;
pub mod serve;
pub mod station_lock;
pub mod supervise;
pub mod texts;
pub mod validate;
pub mod views;

/// Wall-clock milliseconds since the Unix epoch: the time written into the record.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// RFC 3339 UTC text for a time in milliseconds, e.g. `2026-11-24T15:30:00.123Z`: the
/// auditor's own function, so the record is written in exactly the form it is read.
pub use hotline_audit::rfc3339;
