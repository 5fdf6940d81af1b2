//! The recorder's errors and refusals: why a packet from the network was not recorded
//! (`Refusal`, counted per direction in `RefusalCounts`), and what went wrong with the
//! file itself (`Error`).

use crate::packet::PacketError;

/// A direction of the call: whose voice a packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Our operator's voice, from our console: channel 0 (left), Opus stream 0.
    Ours,
    /// The peer's operator's voice, from the peer station: channel 1 (right), stream 1.
    Theirs,
}

impl Direction {
    /// The channel, and Opus stream, that carries this direction.
    pub fn index(self) -> usize {
        match self {
            Direction::Ours => 0,
            Direction::Theirs => 1,
        }
    }
}

/// Why a packet was not recorded. The packet is dropped and counted; the call goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a packet of {0} bytes is over packet_bytes_max")]
    TooLarge(usize),
    #[error("malformed Opus packet: {0}")]
    Malformed(PacketError),
    #[error("a packet of {0} samples is not 20 ms (960 samples)")]
    Duration(u32),
    #[error("a packet with only empty frames carries no audio")]
    Silent,
    #[error("the RTP timestamp is not a whole number of 20 ms after the direction's first")]
    Misaligned,
    #[error("the RTP timestamp is before the start of the recording")]
    TooOld,
    #[error("the packet arrived after its slot was written")]
    Late,
    #[error("a packet with this RTP timestamp is already waiting")]
    Duplicate,
    #[error("the RTP timestamp is further ahead of the call clock than lead_ms_max")]
    TooFarAhead,
    #[error("the reorder window is full (pending_packets_max)")]
    Overflow,
}

/// How many packets of one direction were refused, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefusalCounts {
    pub too_large: u64,
    pub malformed: u64,
    pub duration: u64,
    pub silent: u64,
    pub misaligned: u64,
    pub too_old: u64,
    pub late: u64,
    pub duplicate: u64,
    pub too_far_ahead: u64,
    pub overflow: u64,
}

impl RefusalCounts {
    pub fn count(&mut self, refusal: &Refusal) {
        let counter = match refusal {
            Refusal::TooLarge(_) => &mut self.too_large,
            Refusal::Malformed(_) => &mut self.malformed,
            Refusal::Duration(_) => &mut self.duration,
            Refusal::Silent => &mut self.silent,
            Refusal::Misaligned => &mut self.misaligned,
            Refusal::TooOld => &mut self.too_old,
            Refusal::Late => &mut self.late,
            Refusal::Duplicate => &mut self.duplicate,
            Refusal::TooFarAhead => &mut self.too_far_ahead,
            Refusal::Overflow => &mut self.overflow,
        };
        *counter += 1;
    }

    /// All refused packets together.
    pub fn total(&self) -> u64 {
        self.too_large
            + self.malformed
            + self.duration
            + self.silent
            + self.misaligned
            + self.too_old
            + self.late
            + self.duplicate
            + self.too_far_ahead
            + self.overflow
    }
}

/// What went wrong with a recording.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A packet was refused (and counted); the recording goes on.
    #[error("{direction:?} packet refused: {reason}")]
    Refused { direction: Direction, reason: Refusal },
    #[error("recording I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("tag {0:?} has an invalid name or a value over TAG_VALUE_BYTES_MAX")]
    Tag(String),
    /// The file's header pages are not readable: there is nothing to recover.
    #[error("not a recording: {0}")]
    NotARecording(String),
    /// The recorder was already finished or failed on an earlier write.
    #[error("the recorder is closed")]
    Closed,
}
