//! The call's time line, without I/O: it places each direction's packets in 20 ms slots
//! by their RTP timestamps, holds them for a small reorder window, and hands out slots in
//! order, so the writer can put both directions of a slot in one Ogg packet.
//!
//! Each direction's RTP timestamps have their own base; a direction's first packet is
//! placed at the call time it arrived (the caller's `now_ms`, rounded to a slot), and
//! every later packet `(rtp - rtp_first) / 960` slots after it. So within a direction the
//! file keeps RTP time exactly (a gap stays a gap), and across directions the alignment
//! is as good as the first packet's arrival. A slot is handed out once every direction
//! has moved on by the reorder window: a direction's clock is its newest packet's slot
//! plus the wall time since that packet arrived, which follows the sender's own clock
//! (no drift between sender and station ever makes its packets late).

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
    /// How many packets may wait in the reorder window, both directions together.
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
        let pending_total: usize = self.tracks.iter().map(|t| t.pending.len()).sum();
        let track = &mut self.tracks[direction.index()];
        // Extend the 32-bit timestamp around the newest one, so that wrapping (every
        // 24.8 hours at 48 kHz) does not break the order.
        let ext = match track.newest {
            None => rtp as i64,
            Some((ext, raw)) => ext + rtp.wrapping_sub(raw) as i32 as i64,
        };
        // The first packet goes where it arrived, rounded to the nearest slot, and never
        // into a slot already handed out.
        let arrival_slot = (now_ms.saturating_sub(self.start_ms) + SLOT_MS / 2) / SLOT_MS;
        let (base_ext, base_slot) = track.base.unwrap_or((ext, arrival_slot.max(self.next_slot) as i64));
        let offset = ext - base_ext;
        if offset.rem_euclid(SLOT_SAMPLES as i64) != 0 {
            return Err(Refusal::Misaligned);
        }
        let slot = base_slot + offset / SLOT_SAMPLES as i64;
        if slot < self.next_slot as i64 {
            return Err(if slot < 0 { Refusal::TooOld } else { Refusal::Late });
        }
        let slot = slot as u64;
        if slot > call_slot + lead_slots_max {
            return Err(Refusal::TooFarAhead);
        }
        if track.pending.contains_key(&slot) {
            return Err(Refusal::Duplicate);
        }
        if pending_total >= self.limits.pending_packets_max {
            return Err(Refusal::Overflow);
        }
        track.base = Some((base_ext, base_slot));
        if track.newest.is_none_or(|(newest, _)| ext > newest) {
            track.newest = Some((ext, rtp));
        }
        if track.clock.is_none_or(|(newest, _)| slot > newest) {
            track.clock = Some((slot, now_ms));
        }
        track.pending.insert(slot, payload.to_vec());
        Ok(())
    }

    /// The slot up to which a direction has moved on by `now_ms`.
    fn horizon(&self, track: &Track, now_ms: u64) -> u64 {
        match track.clock {
            None => self.call_slot(now_ms),
            Some((slot, at_ms)) => slot + now_ms.saturating_sub(at_ms) / SLOT_MS,
        }
    }

    /// The next slot whose reorder window has passed at `now_ms`, if any. Call it until
    /// it returns `None` after every insert and timeout.
    #[must_use]
    pub fn pop_ready(&mut self, now_ms: u64) -> Option<Slot> {
        let window_slots = self.limits.reorder_window_ms.div_ceil(SLOT_MS);
        let horizon = self.tracks.iter().map(|t| self.horizon(t, now_ms)).min()?;
        let pending_total: usize = self.tracks.iter().map(|t| t.pending.len()).sum();
        // A full reorder buffer hands out its oldest slot early rather than refuse news.
        if self.next_slot + window_slots <= horizon || pending_total >= self.limits.pending_packets_max {
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
            .map(|t| match t.clock {
                None => self.start_ms + wanted * SLOT_MS,
                Some((slot, at_ms)) => at_ms + wanted.saturating_sub(slot) * SLOT_MS,
            })
            .max()
            .unwrap_or(self.start_ms)
    }

    fn take_next(&mut self) -> Slot {
        let index = self.next_slot;
        self.next_slot += 1;
        let [ours, theirs] = &mut self.tracks;
        Slot { index, packets: [ours.pending.remove(&index), theirs.pending.remove(&index)] }
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
