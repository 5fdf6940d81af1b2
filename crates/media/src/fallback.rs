//! Carrying call audio on the TLS line when UDP between the stations is blocked.
//!
//! The station puts each frame in an item of the line's highest priority; a TCP line
//! retransmits what is lost and so holds later frames back, which is why this queue
//! drops every frame older than `Limits::fallback_frame_age_ms_max` (150 ms) when the
//! line's writer asks for the next one: a late frame is worse than a gap the decoder
//! conceals, and dropping on send keeps a congested line from building up a backlog.

use std::collections::VecDeque;
use std::time::Instant;

use crate::limits::{Limits, age_ms};
use crate::wire::{Carrier, MediaPacket, WireError};

/// The bytes of the fallback item for `packet` (the wire layout, kind 2).
pub fn encode_item(packet: &MediaPacket) -> Vec<u8> {
    packet.encode(Carrier::LineFallback)
}

/// Parses a fallback item that arrived on the TLS line.
pub fn parse_item(bytes: &[u8], limits: &Limits) -> Result<MediaPacket, WireError> {
    MediaPacket::parse(bytes, Carrier::LineFallback, limits.rtp_payload_bytes_max)
}

/// What the fallback queue dropped, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FallbackCounts {
    pub queued: u64,
    pub sent: u64,
    /// Older than `fallback_frame_age_ms_max` when the line could take them.
    pub dropped_stale: u64,
    /// Pushed out by newer frames when the queue was full.
    pub dropped_full: u64,
}

/// Frames waiting for the TLS line, oldest first, each with the time it was received.
#[derive(Debug)]
pub struct FallbackQueue {
    frames: VecDeque<(Instant, Vec<u8>)>,
    frame_age_ms_max: u64,
    frames_max: usize,
    counts: FallbackCounts,
}

impl FallbackQueue {
    pub fn new(limits: &Limits) -> FallbackQueue {
        FallbackQueue {
            frames: VecDeque::new(),
            frame_age_ms_max: limits.fallback_frame_age_ms_max,
            frames_max: limits.fallback_queue_frames_max.max(1),
            counts: FallbackCounts::default(),
        }
    }

    /// Queues `packet`, received from our browser at `received`. A full queue drops its
    /// oldest frame: the newest audio is the one worth sending.
    pub fn push(&mut self, received: Instant, packet: &MediaPacket) {
        if self.frames.len() >= self.frames_max {
            self.frames.pop_front();
            self.counts.dropped_full += 1;
        }
        self.frames.push_back((received, encode_item(packet)));
        self.counts.queued += 1;
    }

    /// The next item to write on the line at `now`, skipping (and counting) frames older
    /// than the bound. Call it when the line's writer can take an item.
    #[must_use]
    pub fn pop(&mut self, now: Instant) -> Option<Vec<u8>> {
        while let Some((received, item)) = self.frames.pop_front() {
            if age_ms(received, now) > self.frame_age_ms_max {
                self.counts.dropped_stale += 1;
                continue;
            }
            self.counts.sent += 1;
            return Some(item);
        }
        None
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn counts(&self) -> FallbackCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hotline_call::{CallId, Side};

    use super::*;

    fn packet(sequence: u16) -> MediaPacket {
        let mut id = [7_u8; 16];
        id[6] = 0x70;
        id[8] = 0x80;
        let call = CallId::from_bytes(id).expect("a UUIDv7");
        MediaPacket {
            call,
            speaker: Side::Caller,
            rtp_timestamp: 960 * u32::from(sequence),
            sequence,
            payload: vec![1, 2],
        }
    }

    #[test]
    fn frames_older_than_150_ms_are_dropped_on_send() {
        let limits = Limits::default();
        let start = Instant::now();
        let mut queue = FallbackQueue::new(&limits);
        queue.push(start, &packet(1));
        queue.push(start + Duration::from_millis(20), &packet(2));
        queue.push(start + Duration::from_millis(40), &packet(3));
        // At 170 ms the first frame is 170 ms old, the second exactly 150: kept.
        let item = queue.pop(start + Duration::from_millis(170)).expect("a fresh frame");
        assert_eq!(parse_item(&item, &limits), Ok(packet(2)));
        assert_eq!(queue.counts().dropped_stale, 1);
        let item = queue.pop(start + Duration::from_millis(170)).expect("a fresh frame");
        assert_eq!(parse_item(&item, &limits).map(|p| p.sequence), Ok(3));
        assert!(queue.pop(start).is_none());
    }

    #[test]
    fn a_full_queue_keeps_the_newest() {
        let limits = Limits { fallback_queue_frames_max: 2, ..Limits::default() };
        let start = Instant::now();
        let mut queue = FallbackQueue::new(&limits);
        for sequence in 1..=3 {
            queue.push(start, &packet(sequence));
        }
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.counts().dropped_full, 1);
        let first = queue.pop(start).expect("a frame");
        assert_eq!(parse_item(&first, &limits).map(|p| p.sequence), Ok(2));
    }

    #[test]
    fn a_datagram_is_not_a_fallback_item() {
        let bytes = packet(1).encode(Carrier::Datagram);
        assert_eq!(parse_item(&bytes, &Limits::default()), Err(WireError::WrongCarrier(1)));
    }
}
