//! Why an alarm is raised, and how serious it is.
//!
//! A cause names its subject (the line; for overdue messages the line, direction and
//! precedence, never one message), so that one condition is one alarm however often it
//! is observed, and a peer cannot multiply our alarms by multiplying its input: its
//! [`Cause::key`] is the alarm's identity while it is open. The names ([`Cause::name`])
//! are stable strings used in the record, the API and the translation catalogs.

use std::fmt;

/// How serious an alarm is; escalation lists are configured per severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// A message's precedence, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precedence {
    Routine,
    Priority,
    Immediate,
    Flash,
}

impl Precedence {
    pub const ALL: [Precedence; 4] =
        [Precedence::Routine, Precedence::Priority, Precedence::Immediate, Precedence::Flash];

    pub fn as_str(self) -> &'static str {
        match self {
            Precedence::Routine => "ROUTINE",
            Precedence::Priority => "PRIORITY",
            Precedence::Immediate => "IMMEDIATE",
            Precedence::Flash => "FLASH",
        }
    }

    /// Parses the normalised (upper-case) form.
    pub fn parse(s: &str) -> Option<Precedence> {
        Precedence::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Which station owes the answer. `Out`: we asked (our check, our message) and the peer
/// must answer. `In`: the peer asked and an operator here must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Out,
    In,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "out" => Some(Direction::Out),
            "in" => Some(Direction::In),
            _ => None,
        }
    }
}

/// The condition an alarm reports.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// The line to `peer` has not been up for longer than the threshold.
    LineDown { peer: String },
    /// A watch check passed its deadline unanswered: ours to the peer (`Out`), or the
    /// peer's to us (`In`).
    WatchCheckMissed { peer: String, direction: Direction },
    /// Messages of one precedence and direction on the line were not acknowledged within
    /// the precedence's deadline. One alarm stands for all of them (the watch counts them,
    /// [`crate::Watch::overdue_messages`]): a peer that sends a thousand FLASH messages
    /// nobody acknowledges gets one alarm, not a thousand escalations.
    AckOverdue { peer: String, precedence: Precedence, direction: Direction },
    /// Something at a line address presented a key other than the pinned one.
    PeerKeyMismatch { peer: String },
    /// The peer's record does not extend what we witnessed, or ours was refused as such,
    /// or our own record no longer matches our checkpoints.
    RecordFork { peer: String },
    /// The station could not write to its disk.
    Storage,
    /// Free space on the data directory's filesystem is below the threshold.
    LowDisk,
    /// The peer reports nobody on watch for longer than the threshold.
    NobodyOnWatch { peer: String },
    /// The task that runs the line to `peer` ended (a panic or an unexpected return):
    /// the line was down until the station restarted the task. A defect, or an input
    /// from the peer we did not survive; evidence, so only a person clears it.
    LineTaskFailed { peer: String },
    /// A call recording on the line to `peer` stopped before the call ended (the disk
    /// refused a write): the call went on unrecorded from then. Evidence that part of a
    /// call has no recording, so only a person clears it.
    RecordingStopped { peer: String },
    /// The peer's recorder stopped recording a call on the line to `peer` (its signed
    /// statement): our recording goes on, but from then the call's evidence is one-sided.
    /// Only a person clears it.
    PeerRecordingStopped { peer: String },
}

impl Cause {
    /// Stable name, as in the record and the API.
    pub fn name(&self) -> &'static str {
        match self {
            Cause::LineDown { .. } => "line_down",
            Cause::WatchCheckMissed { .. } => "watch_check_missed",
            Cause::AckOverdue { .. } => "ack_overdue",
            Cause::PeerKeyMismatch { .. } => "peer_key_mismatch",
            Cause::RecordFork { .. } => "record_fork",
            Cause::Storage => "storage",
            Cause::LowDisk => "low_disk",
            Cause::NobodyOnWatch { .. } => "nobody_on_watch",
            Cause::LineTaskFailed { .. } => "line_task_failed",
            Cause::RecordingStopped { .. } => "recording_stopped",
            Cause::PeerRecordingStopped { .. } => "peer_recording_stopped",
        }
    }

    /// The alarm's identity while open: one condition, one alarm.
    pub fn key(&self) -> String {
        match self {
            Cause::LineDown { peer }
            | Cause::PeerKeyMismatch { peer }
            | Cause::RecordFork { peer }
            | Cause::NobodyOnWatch { peer }
            | Cause::LineTaskFailed { peer }
            | Cause::RecordingStopped { peer }
            | Cause::PeerRecordingStopped { peer } => format!("{}:{peer}", self.name()),
            Cause::WatchCheckMissed { peer, direction } => format!("{}:{peer}:{}", self.name(), direction.as_str()),
            Cause::AckOverdue { peer, precedence, direction } => {
                format!("{}:{peer}:{}:{}", self.name(), direction.as_str(), precedence.as_str())
            }
            Cause::Storage | Cause::LowDisk => self.name().to_owned(),
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Cause::AckOverdue { precedence: Precedence::Routine | Precedence::Priority, .. }
            | Cause::LowDisk
            | Cause::NobodyOnWatch { .. } => Severity::Warning,
            _ => Severity::Critical,
        }
    }

    /// The line the alarm is about, if any.
    pub fn peer(&self) -> Option<&str> {
        match self {
            Cause::LineDown { peer }
            | Cause::WatchCheckMissed { peer, .. }
            | Cause::AckOverdue { peer, .. }
            | Cause::PeerKeyMismatch { peer }
            | Cause::RecordFork { peer }
            | Cause::NobodyOnWatch { peer }
            | Cause::LineTaskFailed { peer }
            | Cause::RecordingStopped { peer }
            | Cause::PeerRecordingStopped { peer } => Some(peer),
            Cause::Storage | Cause::LowDisk => None,
        }
    }

    /// Whether the station clears this alarm by itself when the condition ends. Key
    /// mismatches and forks are evidence: only a person clears them.
    pub fn clears_itself(&self) -> bool {
        !matches!(
            self,
            Cause::PeerKeyMismatch { .. }
                | Cause::RecordFork { .. }
                | Cause::LineTaskFailed { .. }
                | Cause::RecordingStopped { .. }
                | Cause::PeerRecordingStopped { .. }
        )
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_subject_and_severity_follows_precedence() {
        let flash =
            Cause::AckOverdue { peer: "bravo".into(), precedence: Precedence::Flash, direction: Direction::Out };
        assert_eq!(flash.key(), "ack_overdue:bravo:out:FLASH");
        assert_eq!(flash.severity(), Severity::Critical);
        let priority =
            Cause::AckOverdue { peer: "bravo".into(), precedence: Precedence::Priority, direction: Direction::In };
        assert_eq!(priority.severity(), Severity::Warning);
        let ours = Cause::WatchCheckMissed { peer: "bravo".into(), direction: Direction::Out };
        let theirs = Cause::WatchCheckMissed { peer: "bravo".into(), direction: Direction::In };
        assert_ne!(ours.key(), theirs.key());
        assert_eq!(Cause::Storage.peer(), None);
        assert!(!Cause::RecordFork { peer: "bravo".into() }.clears_itself());
        for p in Precedence::ALL {
            assert_eq!(Precedence::parse(p.as_str()), Some(p));
        }
    }
}
