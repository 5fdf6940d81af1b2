//! Lanes: the independent ordered streams that share one line.
//!
//! Ordering is promised per line, direction and precedence, not across precedences: a
//! FLASH message must be able to overtake a thousand ROUTINE ones still queued behind a
//! slow or down line. So each precedence gets its own lane with its own sequence numbers,
//! and a control lane carries operator acknowledgments and other station-to-station
//! notes. Within a lane, items are delivered exactly once and in sequence order; across
//! lanes, the sender always transmits from the lowest-numbered lane that has something
//! waiting, which is the precedence order.

/// Number of lanes on every line.
pub const LANES: usize = 5;

/// One ordered stream on a line. The discriminant is the wire value and the scheduling
/// rank: lower goes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Lane {
    /// Acknowledgments and other station notes: small, and they unblock the far end.
    Control = 0,
    Flash = 1,
    Immediate = 2,
    Priority = 3,
    Routine = 4,
}

impl Lane {
    /// Every lane, in scheduling order.
    pub const ALL: [Lane; LANES] = [Lane::Control, Lane::Flash, Lane::Immediate, Lane::Priority, Lane::Routine];

    /// The lane with wire value `value`, if there is one.
    pub fn from_wire(value: u8) -> Option<Lane> {
        Lane::ALL.get(usize::from(value)).copied()
    }

    /// Position in per-lane arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}
