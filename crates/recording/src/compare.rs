//! Two stations' recordings of one call, held against each other: where, in time, they
//! first differ. Each station records both directions from the packets it relayed, so a
//! direction's packets are the same at both ends unless one end lost or was sent
//! something the other was not; the record's packet hashes say *whether* the two agree
//! (`summary`), this says *where* they part, which is what an auditor asks next.
//!
//! A direction is compared as the sequence of its recorded packets in RTP timestamp
//! order, each named by its RTP offset from the direction's first packet and the SHA-256
//! of its bytes: exactly what the packet hash covers, so two directions with equal packet
//! hashes never show a difference here and two with different hashes always do.

use sha2::{Digest as _, Sha256};

use crate::Direction;
use crate::read::{Report, walk_with_marks};
use crate::timeline::SLOT_MS;

/// One recorded packet of a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketMark {
    /// Its 20 ms slot in the file, counted from the call's start.
    pub slot: u64,
    /// SHA-256 of the packet in normal framing.
    pub sha256: [u8; 32],
}

impl PacketMark {
    pub(crate) fn new(slot: u64, packet: &[u8]) -> PacketMark {
        PacketMark { slot, sha256: Sha256::digest(packet).into() }
    }
}

/// A recording read for comparison: its report and every packet of each direction.
#[derive(Debug, Clone)]
pub struct Marked {
    pub report: Report,
    /// Index 0 is the station's own operator, 1 the peer's (`Direction::index`).
    pub marks: [Vec<PacketMark>; 2],
}

impl Marked {
    /// Reads the recording in `bytes` (whatever is wrong with it is in the report).
    pub fn read(bytes: &[u8]) -> Marked {
        let (report, marks) = walk_with_marks(bytes);
        Marked { report, marks }
    }

    pub fn direction(&self, direction: Direction) -> &[PacketMark] {
        &self.marks[direction.index()]
    }
}

/// What differs first between two recordings of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Difference {
    /// How many packets both recordings hold, alike, before it.
    pub packets_alike: u64,
    /// Where it is in each file, in ms of call time (`None`: the file has no packet there,
    /// because it ended or lacks this one).
    pub a_ms: Option<u64>,
    pub b_ms: Option<u64>,
    pub kind: DifferenceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DifferenceKind {
    /// A holds a packet B does not (B lost it, or it was never sent to B).
    OnlyInA,
    /// B holds a packet A does not.
    OnlyInB,
    /// Both hold a packet of the same RTP time with different bytes.
    Changed,
}

/// The first difference between two recordings' packets of one direction, or `None` when
/// they hold the same packets at the same RTP offsets.
pub fn first_difference(a: &[PacketMark], b: &[PacketMark]) -> Option<Difference> {
    // Slots are SLOT_SAMPLES apart in RTP time, so slot offsets are RTP offsets.
    let offset = |marks: &[PacketMark], i: usize| marks.get(i).map(|m| m.slot - marks[0].slot);
    let ms = |marks: &[PacketMark], i: usize| marks.get(i).map(|m| m.slot * SLOT_MS);
    let (mut i, mut j) = (0, 0);
    loop {
        let kind = match (offset(a, i), offset(b, j)) {
            (None, None) => return None,
            (Some(_), None) => DifferenceKind::OnlyInA,
            (None, Some(_)) => DifferenceKind::OnlyInB,
            (Some(x), Some(y)) if x < y => DifferenceKind::OnlyInA,
            (Some(x), Some(y)) if x > y => DifferenceKind::OnlyInB,
            (Some(_), Some(_)) if a[i].sha256 != b[j].sha256 => DifferenceKind::Changed,
            (Some(_), Some(_)) => {
                i += 1;
                j += 1;
                continue;
            }
        };
        let (a_ms, b_ms) = match kind {
            DifferenceKind::OnlyInA => (ms(a, i), None),
            DifferenceKind::OnlyInB => (None, ms(b, j)),
            DifferenceKind::Changed => (ms(a, i), ms(b, j)),
        };
        return Some(Difference { packets_alike: i as u64, a_ms, b_ms, kind });
    }
}

/// A time into the call, for people: `m:ss.mmm`.
pub fn call_time(ms: u64) -> String {
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(slots: &[(u64, u8)]) -> Vec<PacketMark> {
        slots.iter().map(|&(slot, byte)| PacketMark::new(slot, &[0x78, byte])).collect()
    }

    #[test]
    fn the_same_packets_at_the_same_offsets_do_not_differ_wherever_each_file_starts() {
        let a = marks(&[(3, 1), (4, 2), (6, 3)]);
        // B's copy of the direction starts one slot later in its file: same RTP offsets.
        let b = marks(&[(4, 1), (5, 2), (7, 3)]);
        assert_eq!(first_difference(&a, &b), None);
        assert_eq!(first_difference(&[], &[]), None);
    }

    #[test]
    fn a_lost_packet_a_changed_one_and_a_shorter_file_are_named_where_they_are() {
        let a = marks(&[(0, 1), (1, 2), (2, 3), (3, 4)]);
        let lost = marks(&[(0, 1), (2, 3), (3, 4)]);
        let d = first_difference(&a, &lost).expect("differs");
        assert_eq!((d.kind, d.packets_alike, d.a_ms, d.b_ms), (DifferenceKind::OnlyInA, 1, Some(20), None));
        let d = first_difference(&lost, &a).expect("differs");
        assert_eq!((d.kind, d.b_ms), (DifferenceKind::OnlyInB, Some(20)));
        let changed = marks(&[(0, 1), (1, 2), (2, 9), (3, 4)]);
        let d = first_difference(&a, &changed).expect("differs");
        assert_eq!((d.kind, d.packets_alike, d.a_ms, d.b_ms), (DifferenceKind::Changed, 2, Some(40), Some(40)));
        let short = marks(&[(0, 1), (1, 2)]);
        let d = first_difference(&a, &short).expect("differs");
        assert_eq!((d.kind, d.packets_alike, d.a_ms), (DifferenceKind::OnlyInA, 2, Some(40)));
    }

    #[test]
    fn call_time_reads_as_minutes_seconds_and_milliseconds() {
        assert_eq!(call_time(0), "0:00.000");
        assert_eq!(call_time(62_340), "1:02.340");
    }
}
