//! Every way a call operation can be refused, as typed errors: what an operator asked for
//! that cannot be done ([`CallError`], which the station maps to HTTP answers), what a
//! peer sent that a station does not accept ([`PeerError`], [`ParseError`]), and a
//! configuration or restored state out of bounds ([`ConfigError`], [`RestoreError`]).

use thiserror::Error;

use crate::call::{CallState, Direction};
use crate::id::CallId;
use crate::step::StepKind;

/// An id or name that is not well formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("a call id is a version-7 UUID")]
    NotUuidV7,
    #[error("a call id is written as 36 lower-case hexadecimal digits and hyphens")]
    Malformed,
    #[error("an operator name has 1 to 64 bytes, not {bytes}")]
    OperatorLength { bytes: usize },
    #[error("an operator name has no control characters")]
    OperatorControl,
}

/// Why an operator's request about a call was refused. Nothing changed, except that a
/// refused start is still recorded (`call.refused`): an attempt is evidence.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CallError {
    /// The line is down: no call can start (the station answers 503 `line_down`).
    #[error("the line is down; try again when it is up")]
    LineDown,
    /// One call per line: this one rings or runs (the station answers 409 `call_in_progress`).
    #[error("call {active} is in progress on this line")]
    CallInProgress { active: CallId },
    /// The station gave an id that this line already knows.
    #[error("call {0} exists already")]
    DuplicateCallId(CallId),
    #[error("no call {0} on this line")]
    UnknownCall(CallId),
    /// Answer or decline our own outgoing call, for instance.
    #[error("call {call} is {direction:?}; that is not possible on it")]
    WrongDirection { call: CallId, direction: Direction },
    /// The call is not in a state that allows it (answer an answered call, hang up an ended one).
    #[error("call {call} is {state:?}")]
    NotPossible { call: CallId, state: CallState },
    /// An incoming ring that has stopped alerting here can no longer be answered: the
    /// caller's station decides it missed at about the same moment.
    #[error("call {0} stopped ringing here")]
    RingTimedOut(CallId),
}

/// A step from the peer that is not well formed. The peer is an adversary: every field is
/// checked against a named bound before anything acts on it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("the step has {bytes} bytes; at most {max} are allowed", max = crate::step::STEP_BYTES_MAX)]
    TooLong { bytes: usize },
    #[error("the step ends early")]
    Truncated,
    #[error("{extra} bytes follow the step")]
    TrailingBytes { extra: usize },
    #[error("step version {0} is not known; this station speaks version {v}", v = crate::step::STEP_VERSION)]
    UnknownVersion(u8),
    #[error("step kind {0} is not known")]
    UnknownKind(u8),
    #[error("tag {tag} is not known in a {field}")]
    UnknownTag { field: &'static str, tag: u8 },
    #[error("the call id: {0}")]
    CallId(IdError),
    #[error("the operator name: {0}")]
    Operator(IdError),
    #[error("the operator name is not UTF-8")]
    OperatorUtf8,
    #[error("a time of {0} ms since 1970 is out of bounds")]
    Time(u64),
    #[error("a ring timeout of {0} ms is out of bounds")]
    RingTimeout(u64),
}

/// Why a step from the peer was rejected. Nothing changed: a rejected step has no effect.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PeerError {
    #[error("malformed step: {0}")]
    Malformed(#[from] ParseError),
    #[error("{kind:?} for call {call}, which this line does not know")]
    UnknownCall { call: CallId, kind: StepKind },
    #[error("a second {kind:?} for call {call}")]
    Duplicate { call: CallId, kind: StepKind },
    /// A step that only the other side of the call may send (an answer to our own ring
    /// from the callee side is fine; an answer to a call the peer rang is not).
    #[error("{kind:?} for call {call}, which is {direction:?} here")]
    WrongDirection { call: CallId, kind: StepKind, direction: Direction },
    /// A step that no honest peer sends at this point of the call (a connect for a call
    /// nobody here answered, a hang-up before the call was answered).
    #[error("{kind:?} for call {call} out of order")]
    OutOfOrder { call: CallId, kind: StepKind },
    /// A ring while a call runs that the peer knows of: an honest peer never sends one.
    #[error("a ring for call {call} while call {active} is in progress")]
    CallInProgress { call: CallId, active: CallId },
}

/// A configuration out of bounds.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("call_ring_timeout_s must be between {min} and {max} ms, not {value}")]
    RingTimeout { value: u64, min: u64, max: u64 },
    #[error("calls_history_max must be between 1 and {max}, not {value}")]
    HistoryMax { value: usize, max: usize },
    #[error("{field} must be at most {max} ms, not {value}")]
    Duration { field: &'static str, value: u64, max: u64 },
}

/// A persisted state that cannot be restored.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RestoreError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{count} calls were live at once; a line has at most one")]
    SeveralLive { count: usize },
    #[error("call {0} has a phase its direction cannot have")]
    Inconsistent(CallId),
    #[error("call {0} appears twice")]
    Duplicate(CallId),
    #[error("{count} calls exceed calls_history_max")]
    TooMany { count: usize },
}
