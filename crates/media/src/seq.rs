//! RTP sequence numbers: their extension to 64 bits, as str0m's send path wants them,
//! and the loss and lateness of a direction estimated from them.
//!
//! The relay keeps the browser's own sequence numbers end to end, so the far browser
//! sees real gaps and conceals them; str0m counts rollovers itself only for numbers it
//! assigns, so the leg does the RFC 3550 Appendix A.1 extension here. Loss is estimated
//! as RFC 3550 §6.4.1 does for receiver reports: what the relay can know without a
//! clock of the sender's.

use crate::relay::FlowCounts;

/// Remembers the highest extended sequence number seen.
#[derive(Debug, Default)]
pub(crate) struct SeqExtender {
    highest: Option<u64>,
}

impl SeqExtender {
    /// The 64-bit number for `seq`: the one nearest the highest so far (within half the
    /// 16-bit space). `None` for a late packet from before the first one when that was
    /// near zero: it has no place (a guess would desynchronise the SRTP rollover counter).
    pub(crate) fn extend(&mut self, seq: u16) -> Option<u64> {
        let Some(highest) = self.highest else {
            self.highest = Some(u64::from(seq));
            return Some(u64::from(seq));
        };
        let delta = seq.wrapping_sub(highest as u16) as i16;
        let extended = highest.checked_add_signed(i64::from(delta))?;
        self.highest = Some(highest.max(extended));
        Some(extended)
    }
}

#[derive(Debug, Default)]
pub(crate) struct StreamStats {
    seq: SeqExtender,
    first: Option<u64>,
    highest: Option<u64>,
    packets: u64,
    bytes: u64,
    late: u64,
}

impl StreamStats {
    pub(crate) fn record(&mut self, seq: u16, bytes: usize) {
        self.packets += 1;
        self.bytes += bytes as u64;
        let Some(extended) = self.seq.extend(seq) else {
            self.late += 1;
            return;
        };
        self.first = Some(self.first.map_or(extended, |first| first.min(extended)));
        match self.highest {
            Some(highest) if extended <= highest => self.late += 1,
            _ => self.highest = Some(extended),
        }
    }

    pub(crate) fn counts(&self) -> FlowCounts {
        let expected = match (self.first, self.highest) {
            (Some(first), Some(highest)) => highest - first + 1,
            _ => 0,
        };
        FlowCounts {
            packets: self.packets,
            bytes: self.bytes,
            lost: expected.saturating_sub(self.packets),
            late: self.late,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollover_and_reordering_extend_as_rfc_3550_says() {
        let mut seq = SeqExtender::default();
        let extended: Vec<Option<u64>> = [65534, 65535, 0, 65535, 1, 2].iter().map(|s| seq.extend(*s)).collect();
        assert_eq!(extended, [65534, 65535, 65536, 65535, 65537, 65538].map(Some));
        // A late packet from before a start near zero has no place; the next one does.
        let mut seq = SeqExtender::default();
        assert_eq!(seq.extend(1), Some(1));
        assert_eq!(seq.extend(65535), None);
        assert_eq!(seq.extend(2), Some(2));
    }

    #[test]
    fn gaps_count_as_lost_until_they_arrive_late() {
        let mut stats = StreamStats::default();
        for seq in [65534, 65535, 1, 2] {
            stats.record(seq, 10);
        }
        assert_eq!(stats.counts(), FlowCounts { packets: 4, bytes: 40, lost: 1, late: 0 });
        stats.record(0, 10);
        assert_eq!(stats.counts(), FlowCounts { packets: 5, bytes: 50, lost: 0, late: 1 });
    }
}
