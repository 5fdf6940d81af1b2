//! What a [`crate::CallLine`] asks of its station: steps to send, record entries to
//! write, console updates and media hints.
//!
//! The station drains them after every input. The steps and the record entries of one
//! drain belong together: the station writes the entries and queues the signed steps in
//! one transaction, so that a restart never finds a call in a state the peer was not (or
//! will not be) told about.

use serde::{Deserialize, Serialize};

use crate::call::{Call, Direction, Reason};
use crate::id::{CallId, Operator};
use crate::step::Step;

/// The kinds of record entry a call writes, as the record spells them (`call.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordKind {
    /// An operator here started a call.
    Started,
    /// The peer's ring arrived and the consoles alert.
    Ringing,
    /// The peer's ring arrived after its time: recorded (an attempt is evidence), not alerted.
    Stale,
    /// The peer's ring arrived during a glare it lost here; the caller's verdict follows.
    Superseded,
    /// An operator here answered; waiting for the caller's station to connect.
    Answering,
    /// We left a call that has not connected (declined, line lost, restarted); the
    /// caller's verdict follows.
    Leaving,
    Answered,
    Declined,
    Missed,
    Cancelled,
    Failed,
    Ended,
    /// A start refused (line down, another call in progress).
    Refused,
}

impl RecordKind {
    /// The entry kind in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Started => "call.started",
            RecordKind::Ringing => "call.ringing",
            RecordKind::Stale => "call.stale",
            RecordKind::Superseded => "call.superseded",
            RecordKind::Answering => "call.answering",
            RecordKind::Leaving => "call.leaving",
            RecordKind::Answered => "call.answered",
            RecordKind::Declined => "call.declined",
            RecordKind::Missed => "call.missed",
            RecordKind::Cancelled => "call.cancelled",
            RecordKind::Failed => "call.failed",
            RecordKind::Ended => "call.ended",
            RecordKind::Refused => "call.refused",
        }
    }
}

/// One entry for the station's record: what happened to which call, when (our clock),
/// done by which station and operator (none for a timer or a lost line), and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordEntry {
    pub kind: RecordKind,
    pub call_id: CallId,
    pub direction: Direction,
    pub at_ms: u64,
    /// The station that did it: ours or the peer's name.
    pub station: String,
    pub operator: Option<Operator>,
    pub reason: Option<Reason>,
    /// The call after this step: what a restarted station reads back. `None` for a
    /// refused start, which never became a call.
    pub call: Option<Call>,
}

/// An output of the call line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Sign this step and send it to the peer on the control lane.
    SendToPeer(Step),
    /// Write this entry to the record.
    Record(RecordEntry),
    /// A call changed: tell the consoles (state, whether to ring).
    StateChanged(Call),
    /// The call connected at this end: relay media between the consoles and the peer.
    StartMedia(CallId),
    /// The call no longer connects: stop relaying (and close its recording).
    StopMedia(CallId),
}
