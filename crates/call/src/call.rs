//! One call as a station holds it: the state the consoles see and the station persists.
//!
//! [`Call`] is both the console's view (it travels in [`crate::Event::StateChanged`]) and
//! the persisted state (it travels in every [`crate::RecordEntry`]): the latest entry of
//! each call in the record is what [`crate::CallLine::restore`] takes back after a restart.
//! Its serde form is the station's to store; it is read back through the same checks as
//! the wire (ids and names are validated on deserialization).

use serde::{Deserialize, Serialize};

use crate::id::{CallId, Operator};
use crate::step::Why;

/// Which end of a call a station is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Caller = 1,
    Callee = 2,
}

/// A call as seen from here: we rang (`Out`) or the peer rang (`In`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Out,
    In,
}

impl Direction {
    /// The side this station is on a call of this direction.
    pub fn our_side(self) -> Side {
        match self {
            Direction::Out => Side::Caller,
            Direction::In => Side::Callee,
        }
    }
}

/// Why a call ended, or why a step was recorded the way it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// An operator did it (declined, cancelled, hung up).
    Operator,
    /// Nobody answered within the ring timeout.
    Timeout,
    /// Both sides called at once; the lower call id won.
    Glare,
    /// The line went down.
    LineLost,
    /// A station restarted.
    Restarted,
    /// The caller's verdict never came.
    NoVerdict,
    /// A start refused: another call rings or runs on the line.
    Busy,
    /// A start refused: the line is down.
    LineDown,
    /// A ring that arrived after its time (after a long outage): recorded, not alerted.
    Stale,
}

impl Reason {
    /// The reason as the API and the record spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Operator => "operator",
            Reason::Timeout => "timeout",
            Reason::Glare => "glare",
            Reason::LineLost => "line_lost",
            Reason::Restarted => "restarted",
            Reason::NoVerdict => "no_verdict",
            Reason::Busy => "call_in_progress",
            Reason::LineDown => "line_down",
            Reason::Stale => "stale",
        }
    }

    pub(crate) fn of(why: &Why) -> Reason {
        match why {
            Why::Operator(_) => Reason::Operator,
            Why::LineLost => Reason::LineLost,
            Why::Restarted => Reason::Restarted,
            Why::NoVerdict => Reason::NoVerdict,
        }
    }
}

/// How a call ended. A call that never connected ends `declined`, `missed`, `cancelled`
/// or `failed`; an answered call always ends `ended` (the reason says how).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Final {
    Declined,
    Missed,
    Cancelled,
    Failed,
    Ended,
}

/// The end of a call: what, by which side and operator, why and when (our clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    pub state: Final,
    pub by: Side,
    pub operator: Option<Operator>,
    pub reason: Reason,
    pub at_ms: u64,
}

/// Where a call stands at this station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Outgoing, ringing at the peer; missed at `deadline_ms` (our clock).
    Calling {
        deadline_ms: u64,
    },
    /// Incoming; the consoles alert until `alert_until_ms` (our clock), while `alerting`.
    /// An operator here may have answered already (`Call::answer_sent_by`).
    Ringing {
        alert_until_ms: u64,
        alerting: bool,
    },
    /// Incoming; we left the call before it connected (declined, line lost, restart) and
    /// wait for the caller's verdict. Still live: the caller may have connected it.
    Leaving {
        why: Why,
        since_ms: u64,
    },
    /// Incoming; it lost a glare here. Not live; the caller's verdict will say how it ended.
    Superseded,
    /// Connected at this end: media flows.
    Answered,
    Ended(Ending),
}

/// The state a console shows, in PRODUCT.md's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Ringing,
    Answered,
    Declined,
    Missed,
    Cancelled,
    Failed,
    Ended,
    /// Lost a glare here; the caller's verdict (normally `cancelled`, reason `glare`) follows.
    Superseded,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Ringing => "ringing",
            CallState::Answered => "answered",
            CallState::Declined => "declined",
            CallState::Missed => "missed",
            CallState::Cancelled => "cancelled",
            CallState::Failed => "failed",
            CallState::Ended => "ended",
            CallState::Superseded => "superseded",
        }
    }
}

/// One call at one station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: CallId,
    pub direction: Direction,
    pub phase: Phase,
    /// When the caller started it, by the caller's clock.
    pub started_ms: u64,
    pub started_by: Operator,
    /// The caller's ring timeout.
    pub ring_timeout_ms: u64,
    /// Incoming: when the ring arrived, by our clock.
    pub received_ms: Option<u64>,
    /// Incoming: the operator here who answered, before the caller connected.
    pub answer_sent_by: Option<Operator>,
    /// When it connected at this end (our clock) and who answered it.
    pub answered_ms: Option<u64>,
    pub answered_by: Option<Operator>,
    /// The kinds of step the peer has sent for this call (a bit per [`crate::StepKind`]):
    /// each kind comes at most once, a second is a duplicate.
    pub peer_steps: u8,
}

impl Call {
    pub fn state(&self) -> CallState {
        match &self.phase {
            Phase::Calling { .. } | Phase::Ringing { .. } | Phase::Leaving { .. } => CallState::Ringing,
            Phase::Superseded => CallState::Superseded,
            Phase::Answered => CallState::Answered,
            Phase::Ended(ending) => match ending.state {
                Final::Declined => CallState::Declined,
                Final::Missed => CallState::Missed,
                Final::Cancelled => CallState::Cancelled,
                Final::Failed => CallState::Failed,
                Final::Ended => CallState::Ended,
            },
        }
    }

    /// Does this call hold the line? At most one call per line is live at a station.
    pub fn is_live(&self) -> bool {
        matches!(self.phase, Phase::Calling { .. } | Phase::Ringing { .. } | Phase::Leaving { .. } | Phase::Answered)
    }

    /// Should the consoles ring for it (a tone and a banner)?
    pub fn alerting(&self) -> bool {
        matches!(self.phase, Phase::Ringing { alerting: true, .. }) && self.answer_sent_by.is_none()
    }

    pub fn ending(&self) -> Option<&Ending> {
        match &self.phase {
            Phase::Ended(ending) => Some(ending),
            _ => None,
        }
    }
}
