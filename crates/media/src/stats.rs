//! Loss and lateness of one direction of a call, estimated from RTP sequence numbers as
//! RFC 3550 §6.4.1 does for receiver reports: what the relay can know without a clock
//! of the sender's.

use crate::relay::FlowCounts;
use crate::seq::SeqExtender;

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
        FlowCounts { packets: self.packets, bytes: self.bytes, lost: expected.saturating_sub(self.packets), late: self.late }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
