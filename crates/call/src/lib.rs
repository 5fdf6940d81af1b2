//! Voice calls across a line, as a sans-IO state machine.
//!
//! A call rings every console at the far station; any operator there answers; both
//! stations sign and record every step, so each side can prove who called whom, when, and
//! whether anyone answered. This crate is the part that decides what a call does, in the
//! manner of `hotline-proto` and `hotline-watch`: the station tells a [`CallLine`] (one
//! per line) what its operators did, what the peer sent and when the line went up or
//! down, always with the wall-clock time as an argument; the line answers with
//! [`Event`]s — steps to sign and send to the peer on the control lane, entries for the
//! record (`call.*`), state changes for the consoles and media hints — and the instant it
//! next needs waking ([`CallLine::poll_timeout`]). It never reads a clock, sleeps, or
//! touches a socket or file, so the tests drive hours of rings and outages in
//! microseconds, and a restarted station rebuilds it from its record.
//!
//! The rules that make both ends agree, in one place:
//! - **One call per line.** A start while a call rings or runs is refused
//!   ([`CallError::CallInProgress`]); a start while the line is down too
//!   ([`CallError::LineDown`]); both are recorded as `call.refused`.
//! - **The caller settles.** Until a call connects, only the caller's station decides its
//!   outcome (connected, declined, missed, cancelled, failed); the callee's answer and
//!   decline are proposals. The line delivers each side's steps exactly once and in
//!   order, so the first thing the caller sees wins at both ends.
//! - **Glare: the lower id wins**, at both ends. The other call ends `cancelled` with
//!   reason `glare` (recorded first as `call.superseded` at the end that rang second).
//! - **Stale rings do not ring.** A ring alerts until the caller's deadline on our clock,
//!   widened by `clock_skew_ms_max`, and never longer than its timeout from arrival.
//! - **Restarts end live calls**, told to the peer (reason `restarted`).

mod call;
mod config;
mod error;
mod event;
mod id;
mod line;
mod peer;
mod step;

pub use call::{Call, CallState, Direction, Ending, Final, Phase, Reason, Side};
pub use config::{
    ANSWERED_LINE_GRACE_MS_DEFAULT, CALLS_HISTORY_MAX_LIMIT, CallConfig, RING_TIMEOUT_MS_DEFAULT, RING_TIMEOUT_MS_MAX,
    RING_TIMEOUT_MS_MIN, WAIT_MS_LIMIT,
};
pub use error::{CallError, ConfigError, IdError, ParseError, PeerError, RestoreError};
pub use event::{Event, RecordEntry, RecordKind};
pub use id::{CallId, OPERATOR_NAME_BYTES_MAX, Operator};
pub use line::CallLine;
pub use step::{STEP_BYTES_MAX, STEP_VERSION, Step, StepKind, TIME_MS_MAX, Verdict, Why};
