//! What a recording is summed up by, in the record: the file's SHA-256, size and
//! duration, and per direction a SHA-256 over the packets it carries (`PacketHasher`),
//! which both stations compute alike from the packets they relayed.
//!
//! The packet hash of a direction is SHA-256 over, for each recorded packet in RTP
//! timestamp order:
//!
//! ```text
//! rtp_offset  u32 big-endian  (RTP timestamp - first recorded packet's) mod 2^32
//! length      u32 big-endian  the Opus packet's length in bytes
//! packet      length bytes    the Opus packet in normal framing, as it came in RTP
//! ```
//!
//! The writer feeds it as slots are written; a reader of the file feeds it the same
//! bytes back (stream 0 re-framed to normal framing, filler slots skipped).

use sha2::{Digest as _, Sha256};

use crate::timeline::SLOT_SAMPLES;

/// The running packet hash of one direction.
#[derive(Debug, Clone, Default)]
pub struct PacketHasher {
    sha: Sha256,
    first_slot: Option<u64>,
    packets: u64,
    payload_bytes: u64,
}

impl PacketHasher {
    /// Adds the packet recorded in `slot` (in normal framing).
    pub fn update(&mut self, slot: u64, packet: &[u8]) {
        let first = *self.first_slot.get_or_insert(slot);
        // Slots are 960 samples apart, so this is the RTP timestamp offset, mod 2^32.
        let rtp_offset = (slot - first).wrapping_mul(SLOT_SAMPLES as u64) as u32;
        self.sha.update(rtp_offset.to_be_bytes());
        self.sha.update((packet.len() as u32).to_be_bytes());
        self.sha.update(packet);
        self.packets += 1;
        self.payload_bytes += packet.len() as u64;
    }

    /// The direction's summary so far.
    pub fn summary(&self) -> DirectionSummary {
        DirectionSummary {
            packets_sha256: self.sha.clone().finalize().into(),
            packets: self.packets,
            payload_bytes: self.payload_bytes,
            first_slot: self.first_slot,
        }
    }
}

/// One direction of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectionSummary {
    /// The packet hash (see the module documentation for its exact bytes).
    pub packets_sha256: [u8; 32],
    /// How many packets were recorded.
    pub packets: u64,
    /// Their length together, in bytes.
    pub payload_bytes: u64,
    /// The slot of the first packet: where this direction starts in the file, in 20 ms.
    pub first_slot: Option<u64>,
}

impl DirectionSummary {
    pub fn packets_sha256_hex(&self) -> String {
        hex(&self.packets_sha256)
    }
}

/// A recording as the record keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
    /// The file's size.
    pub bytes: u64,
    /// The playing time: the last granule position less the pre-skip, in 48 kHz samples.
    pub duration_samples: u64,
    /// The same in whole milliseconds.
    pub duration_ms: u64,
    /// Channel 0 (left).
    pub ours: DirectionSummary,
    /// Channel 1 (right).
    pub theirs: DirectionSummary,
}

impl Summary {
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }

    pub fn direction(&self, direction: crate::Direction) -> &DirectionSummary {
        match direction {
            crate::Direction::Ours => &self.ours,
            crate::Direction::Theirs => &self.theirs,
        }
    }
}

/// Lower-case hex, as the record writes hashes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
