//! The call's time line, without I/O: it places each direction's packets in 20 ms slots
//! by their RTP timestamps, holds them for a small reorder window, and hands out slots in
//! order, so the writer can put both directions of a slot in one Ogg packet.
//!
//! Each direction's RTP timestamps have their own base; a direction's first packet is
//! placed at the call time it arrived (the caller's `now_ms`, rounded to a slot), and
//! every later packet `(rtp - rtp_first) / 960` slots after it. So within a direction the
//! file keeps RTP time exactly (a gap stays a gap), and across directions the alignment
//! is as good as the base (two senders' clocks drift apart by tens of parts per million:
//! a few tens of ms an hour, which the file keeps). The first packet of a stream is often
//! late — held up while the path comes up, then sent in a burst with the next ones — so
//! until any of a direction's packets has been handed out, a later packet that arrived
//! earlier for its RTP time moves the whole direction earlier: the base is the least
//! delayed packet's, not the first one's, and the recording neither starts nor ends late.
//!
//! A slot is handed out once every direction that has sent anything has moved on by the
//! reorder window. A direction's clock is its newest packet's slot plus the wall time
//! since that packet arrived, so it follows the sender's own clock: a sender slower than
//! the station is never late for that. A sender faster than the other makes packets wait
//! a little longer (at 50 ppm, 9 packets more an hour), bounded per direction by
//! `pending_packets_max` and `lead_ms_max`; a peer that fills its own window is refused
//! (`Refusal::Overflow`) and never hurries the other direction's slots out.

use std::collections::BTreeMap;

use crate::packet;
use crate::{Direction, Refusal};

/// Every packet of a recording lasts 20 ms: one slot of 960 samples at 48 kHz.
pub const SLOT_SAMPLES: u32 = 960;
/// The slot length in milliseconds.
pub const SLOT_MS: u64 = 20;

/// The limits the time line enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a slot is held for late packets once every direction has passed it.
    pub reorder_window_ms: u64,
    /// How far ahead of the call clock a packet may be placed.
    pub lead_ms_max: u64,
    /// How many packets of one direction may wait in the reorder window.
    pub pending_packets_max: usize,
}

/// One 20 ms slot handed out: each direction's packet, in normal framing, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub index: u64,
    pub packets: [Option<Vec<u8>>; 2],
}

#[derive(Debug, Default)]
struct Track {
    /// The first packet's extended RTP timestamp and its slot.
    base: Option<(i64, i64)>,
    /// The newest extended RTP timestamp accepted, and the raw timestamp it came from.
    newest: Option<(i64, u32)>,
    /// The newest packet's slot and when it arrived: this direction's clock.
    clock: Option<(u64, u64)>,
    pending: BTreeMap<u64, Vec<u8>>,
    /// The least delay seen, as the call time (ms) its packet implies for the base; only
    /// while no packet of this direction has been handed out.
    least_base_ms: Option<i64>,
    /// A packet of this direction has been handed out: the base is fixed from then on.
    handed_out: bool,
}

impl Track {
    /// Moves the direction `slots` earlier: its base, its clock and its waiting packets.
    fn shift_earlier(&mut self, slots: u64) {
        if let Some((_, slot)) = &mut self.base {
            *slot -= slots as i64;
        }
        if let Some((slot, _)) = &mut self.clock {
            *slot = slot.saturating_sub(slots);
        }
        self.pending = std::mem::take(&mut self.pending).into_iter().map(|(slot, p)| (slot - slots, p)).collect();
    }
}

/// The time line of one call.
#[derive(Debug)]
pub struct Timeline {
    start_ms: u64,
    limits: Limits,
    tracks: [Track; 2],
    /// The first slot not yet handed out.
    next_slot: u64,
}

impl Timeline {
    pub fn new(start_ms: u64, limits: Limits) -> Timeline {
        Timeline { start_ms, limits, tracks: Default::default(), next_slot: 0 }
    }

    /// The first and the newest slot a direction's packets were placed in, if any.
    pub fn placed(&self, direction: Direction) -> Option<(u64, u64)> {
        let track = &self.tracks[direction.index()];
        let (_, first) = track.base?;
        let (newest, _) = track.clock?;
        Some((first.max(0) as u64, newest))
    }

    /// The first slot not yet handed out, which is the recording's length in slots.
    pub fn next_slot(&self) -> u64 {
        self.next_slot
    }

    fn call_slot(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.start_ms) / SLOT_MS
    }

    /// Places a packet that arrived at `now_ms`, or says why it was refused. The packet
    /// must already be a parsed, 20 ms, non-silent Opus packet.
    pub fn insert(&mut self, direction: Direction, now_ms: u64, rtp: u32, payload: &[u8]) -> Result<(), Refusal> {
        let call_slot = self.call_slot(now_ms);
        let lead_slots_max = self.limits.lead_ms_max / SLOT_MS;
        let track = &mut self.tracks[direction.index()];
        // Extend the 32-bit timestamp around the newest one, so that wrapping (every
        // 24.8 hours at 48 kHz) does not break the order.
        let ext = match track.newest {
            None => rtp as i64,
            Some((ext, raw)) => ext + rtp.wrapping_sub(raw) as i32 as i64,
        };
        // The first packet goes where it arrived, rounded to the nearest slot, and never
        // into a slot already handed out.
        let arrival_ms = now_ms.saturating_sub(self.start_ms);
        let arrival_slot = (arrival_ms + SLOT_MS / 2) / SLOT_MS;
        let (base_ext, base_slot) = track.base.unwrap_or((ext, arrival_slot.max(self.next_slot) as i64));
        let offset = ext - base_ext;
        if offset.rem_euclid(SLOT_SAMPLES as i64) != 0 {
            return Err(Refusal::Misaligned);
        }
        // The base this packet implies, had it been the least delayed: earlier than any
        // before it, the direction moves there once the packet is accepted (never into a
        // slot already handed out).
        let implied_ms = arrival_ms as i64 - offset * SLOT_MS as i64 / SLOT_SAMPLES as i64;
        let mut earlier = 0;
        if track.base.is_some() && !track.handed_out && track.least_base_ms.is_some_and(|least| implied_ms < least) {
            let wanted = (implied_ms + SLOT_MS as i64 / 2).div_euclid(SLOT_MS as i64);
            let room = track.pending.keys().next().map_or(0, |first| first.saturating_sub(self.next_slot));
            earlier = (base_slot - wanted).clamp(0, room as i64) as u64;
        }
        let base_slot = base_slot - earlier as i64;
        let slot = base_slot + offset / SLOT_SAMPLES as i64;
        if slot < self.next_slot as i64 {
            return Err(if slot < 0 { Refusal::TooOld } else { Refusal::Late });
        }
        let slot = slot as u64;
        if slot > call_slot + lead_slots_max {
            return Err(Refusal::TooFarAhead);
        }
        if track.pending.contains_key(&(slot + earlier)) {
            return Err(Refusal::Duplicate);
        }
        // Per direction, so that a peer filling its own window cannot hurry ours.
        if track.pending.len() >= self.limits.pending_packets_max {
            return Err(Refusal::Overflow);
        }
        if earlier > 0 {
            track.shift_earlier(earlier);
        }
        track.base = Some((base_ext, base_slot));
        if !track.handed_out && track.least_base_ms.is_none_or(|least| implied_ms < least) {
            track.least_base_ms = Some(implied_ms);
        }
        if track.newest.is_none_or(|(newest, _)| ext > newest) {
            track.newest = Some((ext, rtp));
        }
        if track.clock.is_none_or(|(newest, _)| slot > newest) {
            track.clock = Some((slot, now_ms));
        }
        track.pending.insert(slot, payload.to_vec());
        Ok(())
    }

    /// The slot up to which every direction has moved on by `now_ms`. A direction that
    /// has sent nothing yet holds nothing back (its first packet goes where it arrives,
    /// never into a slot already out); with no packets at all, the call clock rules.
    fn horizon(&self, now_ms: u64) -> u64 {
        self.tracks
            .iter()
            .filter_map(|t| t.clock.map(|(slot, at_ms)| slot + now_ms.saturating_sub(at_ms) / SLOT_MS))
            .min()
            .unwrap_or_else(|| self.call_slot(now_ms))
    }

    /// The next slot whose reorder window has passed at `now_ms`, if any. Call it until
    /// it returns `None` after every insert and timeout.
    #[must_use]
    pub fn pop_ready(&mut self, now_ms: u64) -> Option<Slot> {
        let window_slots = self.limits.reorder_window_ms.div_ceil(SLOT_MS);
        if self.next_slot + window_slots <= self.horizon(now_ms) {
            return Some(self.take_next());
        }
        None
    }

    /// At the end of the call: the next slot while any packet still waits.
    #[must_use]
    pub fn pop_remaining(&mut self) -> Option<Slot> {
        self.tracks.iter().any(|t| !t.pending.is_empty()).then(|| self.take_next())
    }

    /// When `pop_ready` will next have a slot, if nothing else arrives.
    pub fn next_ready_ms(&self) -> u64 {
        let window_slots = self.limits.reorder_window_ms.div_ceil(SLOT_MS);
        let wanted = self.next_slot + window_slots;
        self.tracks
            .iter()
            .filter_map(|t| t.clock.map(|(slot, at_ms)| at_ms + wanted.saturating_sub(slot) * SLOT_MS))
            .max()
            .unwrap_or(self.start_ms + wanted * SLOT_MS)
    }

    fn take_next(&mut self) -> Slot {
        let index = self.next_slot;
        self.next_slot += 1;
        let packets = self.tracks.each_mut().map(|track| {
            let packet = track.pending.remove(&index);
            track.handed_out |= packet.is_some();
            packet
        });
        Slot { index, packets }
    }
}

/// Checks a packet from the network before it enters the time line: its size, its
/// framing, its duration (exactly one slot) and that it carries audio.
pub fn check_packet(payload: &[u8], packet_bytes_max: usize) -> Result<packet::Packet, Refusal> {
    if payload.len() > packet_bytes_max {
        return Err(Refusal::TooLarge(payload.len()));
    }
    let parsed = packet::parse(payload).map_err(Refusal::Malformed)?;
    if parsed.samples() != SLOT_SAMPLES {
        return Err(Refusal::Duration(parsed.samples()));
    }
    if parsed.is_silent() {
        return Err(Refusal::Silent);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Ours, Theirs};

    const LIMITS: Limits = Limits { reorder_window_ms: 60, lead_ms_max: 5000, pending_packets_max: 250 };

    /// Drains the ready slots at `now_ms` into `(slot, ours?, theirs?)`.
    fn drain(timeline: &mut Timeline, now_ms: u64, out: &mut Vec<(u64, bool, bool)>) {
        while let Some(slot) = timeline.pop_ready(now_ms) {
            out.push((slot.index, slot.packets[0].is_some(), slot.packets[1].is_some()));
        }
    }

    #[test]
    fn a_gap_in_rtp_time_stays_a_gap_in_slots() {
        let mut timeline = Timeline::new(0, LIMITS);
        let mut slots = Vec::new();
        // 0.2 s of audio, 1 s of nothing, 0.2 s of audio; timestamps wrap in the gap.
        let base = u32::MAX - 960 * 30;
        for i in (0..10).chain(60..70) {
            let now = 20 * i;
            timeline.insert(Ours, now, base.wrapping_add(960 * i as u32), &[i as u8]).expect("placed");
            drain(&mut timeline, now, &mut slots);
        }
        while let Some(slot) = timeline.pop_remaining() {
            slots.push((slot.index, slot.packets[0].is_some(), slot.packets[1].is_some()));
        }
        let indices: Vec<u64> = slots.iter().map(|s| s.0).collect();
        assert_eq!(indices, (0..70).collect::<Vec<_>>(), "every slot, in order");
        let present: Vec<u64> = slots.iter().filter(|s| s.1).map(|s| s.0).collect();
        assert_eq!(present, (0..10).chain(60..70).collect::<Vec<_>>());
        assert!(slots.iter().all(|s| !s.2), "theirs sent nothing");
        assert_eq!(timeline.next_slot() * SLOT_SAMPLES as u64, 70 * 960, "1.4 s of granule");
    }

    #[test]
    fn directions_keep_their_own_bases() {
        let mut timeline = Timeline::new(1000, LIMITS);
        // Theirs starts 0.1 s into the call with an unrelated base; ours at 0.2 s.
        timeline.insert(Theirs, 1100, 5_000_000, &[1]).expect("theirs");
        timeline.insert(Ours, 1209, 7, &[2]).expect("ours, rounded to slot 10");
        timeline.insert(Theirs, 1120, 5_000_960, &[3]).expect("theirs again");
        let mut slots = Vec::new();
        drain(&mut timeline, 2000, &mut slots);
        assert_eq!(slots[5], (5, false, true));
        assert_eq!(slots[6], (6, false, true));
        assert_eq!(slots[10], (10, true, false));
    }

    #[test]
    fn a_late_first_packet_does_not_make_its_direction_late() {
        // Theirs' first packet is held up 45 ms and sent in a burst with the next two;
        // from the fourth on, packets arrive on time. Ours arrives on time from the start.
        let mut timeline = Timeline::new(0, LIMITS);
        let arrivals = [45, 46, 47, 60, 80, 100, 120, 140];
        for (i, &at) in arrivals.iter().enumerate() {
            timeline.insert(Ours, 20 * i as u64, 960 * i as u32, &[0]).expect("ours");
            timeline.insert(Theirs, at, 7_000 + 960 * i as u32, &[1]).expect("theirs");
        }
        let mut slots = Vec::new();
        drain(&mut timeline, 1000, &mut slots);
        let theirs: Vec<u64> = slots.iter().filter(|s| s.2).map(|s| s.0).collect();
        assert_eq!(theirs, (0..8).collect::<Vec<_>>(), "placed by the least delayed packet, not the first");
        let ours: Vec<u64> = slots.iter().filter(|s| s.1).map(|s| s.0).collect();
        assert_eq!(ours, (0..8).collect::<Vec<_>>());
        // Once a direction's packets are out, its base holds: an early packet is not
        // moved into slots already written.
        timeline.insert(Theirs, 1000, 7_000 + 960 * 60, &[1]).expect("placed by the base");
        drain(&mut timeline, 2000, &mut slots);
        assert!(slots.iter().any(|s| s.0 == 60 && s.2), "{slots:?}");
    }

    #[test]
    fn the_reorder_window_takes_late_packets_until_the_slot_is_out() {
        let mut timeline = Timeline::new(0, LIMITS);
        let mut slots = Vec::new();
        timeline.insert(Ours, 0, 0, &[0]).expect("first");
        timeline.insert(Ours, 40, 1920, &[2]).expect("third");
        drain(&mut timeline, 40, &mut slots);
        // The second packet arrives 40 ms late, inside the 60 ms window.
        timeline.insert(Ours, 60, 960, &[1]).expect("second, reordered");
        assert_eq!(timeline.insert(Ours, 60, 960, &[1]), Err(Refusal::Duplicate));
        drain(&mut timeline, 200, &mut slots);
        assert_eq!(&slots[..3], &[(0, true, false), (1, true, false), (2, true, false)]);
        assert_eq!(timeline.insert(Ours, 200, 960 * 3, &[3]), Err(Refusal::Late));
        assert_eq!(timeline.insert(Ours, 200, 960 * 3 + 1, &[3]), Err(Refusal::Misaligned));
        assert_eq!(timeline.insert(Ours, 200, 960 * 400, &[3]), Err(Refusal::TooFarAhead));
        assert_eq!(timeline.insert(Ours, 200, 0u32.wrapping_sub(960), &[3]), Err(Refusal::TooOld));
    }

    #[test]
    fn a_sender_whose_clock_drifts_is_never_late_nor_unbounded() {
        // One sender's clock runs 1 % slow against the station's and the other's 1 %
        // fast, 20 times the worst crystal: 3,000 packets (a minute) each.
        for (arrival_us, name) in [(20_200, "slow"), (19_800, "fast")] {
            let mut timeline = Timeline::new(0, LIMITS);
            let mut slots = Vec::new();
            for i in 0..3000u64 {
                let now = i * arrival_us / 1000;
                timeline.insert(Theirs, now, 960 * i as u32, &[1]).unwrap_or_else(|e| panic!("{name} {i}: {e}"));
                drain(&mut timeline, now, &mut slots);
                let pending: usize = timeline.tracks.iter().map(|t| t.pending.len()).sum();
                assert!(pending <= 5, "{name}: {pending} packets waiting");
            }
        }
    }

    #[test]
    fn next_ready_ms_is_when_a_slot_is_ready() {
        let mut timeline = Timeline::new(500, LIMITS);
        let mut now = 500;
        for i in 0..20u32 {
            let due = timeline.next_ready_ms();
            assert!(timeline.pop_ready(due.saturating_sub(1)).is_none() || due <= now, "not before {due}");
            assert!(timeline.pop_ready(due).is_some(), "at {due}");
            now = due;
            if i % 3 == 0 {
                let _ = timeline.insert(Ours, now, 960 * i, &[1]);
            }
        }
    }
}
