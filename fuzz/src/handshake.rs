//! Alpha's end of the line in a known state, for the handshake target and its seeds.
//!
//! The line is not fresh in every respect: it resumes with items still unreceipted on
//! three lanes and with part of the peer's control and flash lanes already on disk, so
//! that the peer's Hello and receipts have something to acknowledge, resume or overrun.

use std::time::{Duration, Instant};

use hotline_proto::{LANES, Lane, Line, LineConfig, Restored};

use crate::{LOCAL, PEER};

/// The line's tunables. `pending_durable_items_max` is lifted so that whether input
/// arrives whole or in pieces (and is marked durable in between) cannot change which
/// items are accepted: the target compares the two.
pub fn config() -> LineConfig {
    LineConfig {
        heartbeat_interval: Duration::from_secs(1),
        heartbeats_missed_max: 3,
        retransmit_after: Duration::from_secs(3),
        window_items_max: 4,
        pending_durable_items_max: u64::MAX,
    }
}

/// Per lane, the highest sequence number the peer has receipted.
pub const RECEIPTED: [u64; LANES] = [0, 2, 0, 0, 5];

/// Per lane, the highest sequence number alpha has assigned.
pub const PUSHED_LAST: [u64; LANES] = [3, 4, 0, 1, 5];

/// Per lane, the next sequence number alpha still needs from bravo.
pub const DURABLE_NEXT: [u64; LANES] = [1, 4, 1, 1, 1];

/// The payload of alpha's item `seq` on `lane`.
pub fn payload(lane: Lane, seq: u64) -> Vec<u8> {
    format!("alpha item {seq} on lane {lane:?}").into_bytes()
}

/// What alpha had on disk.
pub fn restored() -> Restored {
    let mut outbound = Vec::new();
    for lane in Lane::ALL {
        for seq in RECEIPTED[lane.index()] + 1..=PUSHED_LAST[lane.index()] {
            outbound.push((lane, seq, payload(lane, seq)));
        }
    }
    Restored { outbound, receipted: RECEIPTED, pushed_last: PUSHED_LAST, durable_next: DURABLE_NEXT }
}

/// Alpha's line to bravo, resumed from [`restored`], not yet connected.
pub fn alpha_line(now: Instant) -> Line {
    Line::new(config(), LOCAL, PEER, now, restored())
}
