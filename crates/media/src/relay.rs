//! The relay core of one call at one station, sans-IO: it owns the browser leg, turns
//! the browser's Opus packets into packets for the peer station, hands the peer's packets
//! to the browser, shows both to the recorder's [`Tap`], and counts everything.
//!
//! No jitter buffer: each packet is passed on the moment it arrives, in arrival order,
//! and the far browser's own jitter buffer (NetEq in Chromium) absorbs jitter once, at
//! the end of the path. A buffer here would add its depth in delay at every station;
//! add one only if a measurement shows the browser's is not enough.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use hotline_call::{CallId, Side};
use hotline_recording::Direction;

use crate::browser::{BrowserLeg, LegEvent, Output};
use crate::limits::{Limits, RateLimit};
use crate::seq::StreamStats;
use crate::wire::{MediaPacket, other_side};

/// Where the recorder taps the call: every packet relayed, each way, as relayed.
pub trait Tap {
    /// One Opus packet: `Ours` came from our console, `Theirs` from the peer station.
    fn packet(&mut self, direction: Direction, now: Instant, rtp_timestamp: u32, payload: &[u8]);
}

impl<F: FnMut(Direction, Instant, u32, &[u8])> Tap for F {
    fn packet(&mut self, direction: Direction, now: Instant, rtp_timestamp: u32, payload: &[u8]) {
        self(direction, now, rtp_timestamp, payload)
    }
}

/// A tap that records nothing (a call whose recording failed still has audio).
pub struct NoTap;

impl Tap for NoTap {
    fn packet(&mut self, _: Direction, _: Instant, _: u32, _: &[u8]) {}
}

/// What the relay asks of its driver.
#[derive(Debug)]
pub enum RelayOutput {
    /// A UDP datagram for the browser, from the leg's socket.
    Transmit {
        to: SocketAddr,
        bytes: Vec<u8>,
    },
    /// A packet for the peer station (a QUIC datagram, or a fallback item).
    ToPeer(MediaPacket),
    /// Nothing more until this time or the next input.
    Timeout(Instant),
    Event(LegEvent),
}

/// One direction's traffic through the relay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCounts {
    pub packets: u64,
    pub bytes: u64,
    /// Sequence numbers never seen between the first and the highest (an estimate: a
    /// packet that comes later still is counted late and no longer lost).
    pub lost: u64,
    /// Packets that came after a higher sequence number (reordered or duplicated).
    pub late: u64,
}

/// The relay's counts; the browser leg and the link count their own drops too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayCounts {
    /// From our browser to the peer station (recorded as `Ours`).
    pub ours: FlowCounts,
    /// From the peer station to our browser (recorded as `Theirs`).
    pub theirs: FlowCounts,
    /// Peer packets of another call (the driver fed the wrong relay).
    pub dropped_wrong_call: u64,
    /// Peer packets with our own side as speaker.
    pub dropped_wrong_speaker: u64,
    /// Peer packets over `packets_per_s_max`.
    pub dropped_rate: u64,
    /// Peer packets over `rtp_payload_bytes_max`.
    pub dropped_too_large: u64,
}

/// One call's media at one station.
pub struct Relay<T: Tap> {
    call: CallId,
    our_side: Side,
    leg: BrowserLeg,
    tap: T,
    limits: Limits,
    peer_rate: RateLimit,
    ours: StreamStats,
    theirs: StreamStats,
    dropped: RelayCounts,
    /// The time of the latest input: packets polled out are tapped at that time.
    now: Instant,
    to_peer: VecDeque<MediaPacket>,
}

impl<T: Tap> Relay<T> {
    /// Joins `leg` (our console's) to the peer for `call`, where we are `our_side`.
    pub fn new(call: CallId, our_side: Side, leg: BrowserLeg, tap: T, limits: Limits, now: Instant) -> Relay<T> {
        Relay {
            call,
            our_side,
            leg,
            tap,
            limits,
            peer_rate: RateLimit::new(limits.packets_per_s_max, now),
            ours: StreamStats::default(),
            theirs: StreamStats::default(),
            dropped: RelayCounts::default(),
            now,
            to_peer: VecDeque::new(),
        }
    }

    /// A UDP datagram from the browser side; then drain `poll_output`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        self.now = now;
        self.leg.handle_datagram(now, from, to, bytes);
    }

    /// The last `Timeout` has passed; then drain `poll_output`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.leg.handle_timeout(now);
    }

    /// A packet from the peer station (already routed to this call by the link); it goes
    /// to the recorder and on to the browser at once. Then drain `poll_output`.
    pub fn handle_peer(&mut self, now: Instant, packet: &MediaPacket) {
        self.now = now;
        if packet.call != self.call {
            self.dropped.dropped_wrong_call += 1;
            return;
        }
        if packet.speaker != other_side(self.our_side) {
            self.dropped.dropped_wrong_speaker += 1;
            return;
        }
        if packet.payload.len() > self.limits.rtp_payload_bytes_max {
            self.dropped.dropped_too_large += 1;
            return;
        }
        if !self.peer_rate.admit(now) {
            self.dropped.dropped_rate += 1;
            return;
        }
        self.theirs.record(packet.sequence, packet.payload.len());
        self.tap.packet(Direction::Theirs, now, packet.rtp_timestamp, &packet.payload);
        self.leg.send_rtp(now, packet.rtp_timestamp, packet.sequence, &packet.payload);
    }

    /// The next thing to do. Call after every input until it returns `Timeout`.
    #[must_use]
    pub fn poll_output(&mut self) -> RelayOutput {
        if let Some(packet) = self.to_peer.pop_front() {
            return RelayOutput::ToPeer(packet);
        }
        match self.leg.poll_output() {
            Output::Transmit { to, bytes } => RelayOutput::Transmit { to, bytes },
            Output::Timeout(at) => RelayOutput::Timeout(at),
            Output::Event(event) => RelayOutput::Event(event),
            Output::Rtp { ts, seq, payload } => {
                self.ours.record(seq, payload.len());
                self.tap.packet(Direction::Ours, self.now, ts, &payload);
                RelayOutput::ToPeer(MediaPacket {
                    call: self.call,
                    speaker: self.our_side,
                    rtp_timestamp: ts,
                    sequence: seq,
                    payload,
                })
            }
        }
    }

    pub fn counts(&self) -> RelayCounts {
        RelayCounts { ours: self.ours.counts(), theirs: self.theirs.counts(), ..self.dropped }
    }

    pub fn call(&self) -> CallId {
        self.call
    }

    pub fn leg(&self) -> &BrowserLeg {
        &self.leg
    }

    pub fn tap(&self) -> &T {
        &self.tap
    }
}
