//! Extends 16-bit RTP sequence numbers to 64 bits, as str0m's send path wants them.
//!
//! The relay keeps the browser's own sequence numbers end to end, so the far browser
//! sees real gaps and conceals them; str0m counts rollovers itself only for numbers it
//! assigns, so the leg does the RFC 3550 Appendix A.1 extension here.

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
}
