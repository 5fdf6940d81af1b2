//! Call recordings: both directions of a call in one Ogg Opus file (RFC 7845), written
//! from the Opus packets a station relays, without transcoding; closed after a crash by
//! `recover`; checked and summed up again by `summarize`; two stations' recordings of a
//! call compared by `first_difference`.
//!
//! # Layout
//!
//! One logical stream whose OpusHead says: 2 channels, channel mapping family 1, 2
//! streams, 0 coupled, mapping `[0, 1]`. Stream 0 is our operator (left channel), stream
//! 1 the peer's operator (right channel). Every Ogg packet is one 20 ms slot of the call
//! and a multistream packet (RFC 7845 §5.1.1, RFC 6716 Appendix B): stream 0's packet
//! re-framed as self-delimited (one length field inserted; every other byte as it came),
//! then stream 1's packet as it came. Any player plays it as a stereo file with one
//! voice in each ear, and the packets are byte for byte those the station relayed.
//!
//! Two grouped logical streams were the alternative; they were not chosen because
//! players (ffmpeg, browsers) play only the first Opus stream of a file, and RFC 7845
//! §3 lets a player ignore all but one, so half of the call would be silent by default.
//!
//! A direction with no packet for a slot (loss, DTX, silence, a side not yet started)
//! gets a filler: a 20 ms code 0 packet with one empty frame (the TOC byte alone; with
//! its length byte 0 in stream 0), with the TOC configuration of that stream's last
//! packet. Decoders treat an empty frame as a lost packet and conceal it, which fades to
//! silence. A packet from the network whose frames are all empty is refused
//! (`Refusal::Silent`), so a reader knows every empty stream packet is a filler.
//!
//! # Time
//!
//! Granule positions count 48 kHz samples from the call's start (`CallInfo::start_ms`)
//! and follow the RTP timestamps: a direction's first packet lands in the slot of its
//! arrival time, every later one `(rtp - rtp_first) / 960` slots after it, so a gap in
//! the audio stays a gap (`timeline`). One lead-in filler slot precedes the call's first
//! slot and the pre-skip is exactly that slot, 960 samples (`PRE_SKIP_SAMPLES`), so that
//! playing time is call time: granule position G is (G - 960) / 48 000 s into the call.
//! Every packet must last exactly 20 ms, the
//! product's packet time; others are refused (`Refusal::Duration`).
//!
//! # The peer is an adversary
//!
//! Packets are parsed strictly (`packet`, RFC 6716 R1–R7), bounded by
//! `Config::packet_bytes_max`, placed only within `Config::lead_ms_max` of the call
//! clock, and held in a reorder window of `Config::reorder_window_ms` bounded by
//! `Config::pending_packets_max`; anything else is refused with a typed `Refusal` and
//! counted in `RefusalCounts`. No input makes the recorder panic.
//!
//! # Packet hashes
//!
//! Per direction, SHA-256 over each recorded packet in RTP timestamp order of
//! `rtp_offset: u32 BE` (the timestamp less the direction's first recorded one, mod
//! 2^32), `length: u32 BE`, then the packet's bytes in normal framing (see `summary`).
//! Both stations compute the same hash for a direction when they recorded the same
//! packets, whatever the alignment of the two directions in their files.

mod compare;
mod error;
mod head;
pub mod packet;
pub mod page;
mod read;
mod recover;
mod summary;
mod timeline;
mod writer;

pub use compare::{Difference, DifferenceKind, Marked, PacketMark, call_time, first_difference};
pub use error::{Direction, Error, Refusal, RefusalCounts};
pub use head::{PRE_SKIP_SAMPLES, SAMPLE_RATE_HZ, TAG_VALUE_BYTES_MAX};
pub use read::{PageInfo, Problem, ProblemKind, Report, summarize, summarize_bytes};
pub use recover::{Recovery, recover};
pub use summary::{DirectionSummary, PacketHasher, Summary, hex};
pub use timeline::{SLOT_MS, SLOT_SAMPLES};
pub use writer::{CallInfo, Config, Finished, Recorder};

/// Reads the packets of an Ogg file in memory, in order, with the granule position of
/// the page each one ends on: for tests and tools that need packets out of a file made
/// elsewhere (an `opusenc` or `ffmpeg` output). Stops at the first unreadable page.
pub fn ogg_packets(bytes: &[u8]) -> Result<Vec<(Vec<u8>, u64)>, page::PageError> {
    let mut packets = Vec::new();
    let mut partial = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let page = page::parse_page(&bytes[offset..])?;
        offset += page.bytes.len();
        for (piece, complete) in page.pieces() {
            partial.extend_from_slice(piece);
            if complete {
                packets.push((std::mem::take(&mut partial), page.granule));
            }
        }
    }
    Ok(packets)
}
