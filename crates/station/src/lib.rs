//! The hotline station: the floors wired into one serving station, and its facade.
//!
//! `hotline-proto` decides what to send and when; the station moves the bytes, keeps time,
//! writes the record and serves operators. It is built in floors, each its own crate:
//!
//! - `hotline-item`: the items a line carries and the checks every peer item passes (no I/O);
//! - `hotline-core`: the one writer of the record (`Core`), configuration, accounts and the
//!   administration socket, alarms, notices, presence and the supervisor;
//! - `hotline-line`: one supervised task per line, the only writer of its outbox;
//! - `hotline-http`: the API, Server-Sent Events, Prometheus text and the console's files.
//!
//! This crate adds only what needs every floor: `serve` (open the station, start its
//! tasks, stop them in order), `lines` (the line tasks started and stopped while serving)
//! and `demo`. The modules of the floors are re-exported under
//! their old names so the binary, the tests and the benchmark see one station.

pub use hotline_callmedia as callmedia;
pub use hotline_core::{
    admin, alarms, auth, backup, client, config, core, entry_kind, export, notices, notify, now_ms, presence,
    recording_files, recording_retention, rfc3339, station_lock, supervise, texts, views,
};
pub use hotline_http as http;
pub use hotline_item as item;
pub use hotline_item::validate;
pub use hotline_line as line;

pub mod demo;
pub mod lines;
pub mod serve;
