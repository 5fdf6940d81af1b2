//! The relay core of one call at one station, sans-IO: it owns the browser leg, turns
//! the browser's Opus packets into packets for the peer station, hands the peer's packets
//! to the browser, shows both to the recorder's [`Tap`], and counts everything.
//!
//! The relay lives as long as the call's media here, the leg only while our console is
//! joined: a console that reloads joins again, one that hangs up first leaves, and the
//! peer's packets are tapped all the same. The peer records what it relayed to us, so a
//! packet we received must be in our recording too, whether or not a console was there
//! to play it; otherwise the two stations' packet hashes differ for no fault of either.
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

use crate::browser::{BrowserLeg, LegCounts, LegEvent, Output};
use crate::limits::{Limits, RateLimit};
use crate::seq::StreamStats;
use crate::wire::{MediaPacket, other_side};

/// Where the recorder taps the call: every packet relayed, each way, as relayed.
pub trait Tap {
    /// One Opus packet: `Ours` came from our console, `Theirs` from the peer station.
    fn packet(&mut self, direction: Direction, now: Instant, rtp_timestamp: u32, payload: &[u8]);

    /// The call ended here at `now`. The peer's packets still in flight may follow until
    /// the tap is dropped; they belong to the call, but the call's time does not go on.
    fn ending(&mut self, _now: Instant) {}
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
    Transmit { to: SocketAddr, bytes: Vec<u8> },
    /// A packet for the peer station (a QUIC datagram, or a fallback item).
    ToPeer(MediaPacket),
    /// Nothing more until this time or the next input.
    Timeout(Instant),
    /// Nothing more until the next input: no console is joined, so no timer runs.
    Idle,
    /// From the leg; after `LegEvent::Closed` the relay has let the leg go.
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
    leg: Option<BrowserLeg>,
    /// The counts of the leg last let go, until another joins.
    left_leg: LegCounts,
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
    /// The relay of `call`, where we are `our_side`, with no console joined yet.
    pub fn new(call: CallId, our_side: Side, tap: T, limits: Limits, now: Instant) -> Relay<T> {
        Relay {
            call,
            our_side,
            leg: None,
            left_leg: LegCounts::default(),
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

    /// Joins our console's `leg` to the call, in place of the one it had (a reload).
    pub fn join(&mut self, leg: BrowserLeg) {
        self.leg = Some(leg);
        self.left_leg = LegCounts::default();
    }

    /// Lets our console's leg go (the call is ending here): nothing more is taken from
    /// it; the peer's packets are still tapped.
    pub fn leave(&mut self) {
        if let Some(leg) = self.leg.take() {
            self.left_leg = leg.counts();
        }
    }

    /// The call has ended here at `now`: the leg goes, and the tap is told. The peer's
    /// packets still in flight may follow (`handle_peer`); they are still tapped.
    pub fn end(&mut self, now: Instant) {
        self.now = now;
        self.leave();
        self.tap.ending(now);
    }

    /// A UDP datagram from the browser side; then drain `poll_output`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        self.now = now;
        if let Some(leg) = self.leg.as_mut() {
            leg.handle_datagram(now, from, to, bytes);
        }
    }

    /// The last `Timeout` has passed; then drain `poll_output`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if let Some(leg) = self.leg.as_mut() {
            leg.handle_timeout(now);
        }
    }

    /// A packet from the peer station (already routed to this call by the link); it goes
    /// to the recorder and on to the browser, if one is joined, at once. Then drain
    /// `poll_output`.
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
        if let Some(leg) = self.leg.as_mut() {
            leg.send_rtp(now, packet.rtp_timestamp, packet.sequence, &packet.payload);
        }
    }

    /// The next thing to do. Call after every input until it returns `Timeout`.
    #[must_use]
    pub fn poll_output(&mut self) -> RelayOutput {
        if let Some(packet) = self.to_peer.pop_front() {
            return RelayOutput::ToPeer(packet);
        }
        let Some(leg) = self.leg.as_mut() else {
            return RelayOutput::Idle;
        };
        match leg.poll_output() {
            Output::Transmit { to, bytes } => RelayOutput::Transmit { to, bytes },
            Output::Timeout(at) => RelayOutput::Timeout(at),
            Output::Event(event @ LegEvent::Closed(_)) => {
                self.leave();
                RelayOutput::Event(event)
            }
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

    /// Whether our console's leg is joined (the peer's packets are played, not only
    /// recorded).
    pub fn joined(&self) -> bool {
        self.leg.is_some()
    }

    /// The counts of the leg joined now, or of the last one let go.
    pub fn leg_counts(&self) -> LegCounts {
        self.leg.as_ref().map_or(self.left_leg, BrowserLeg::counts)
    }

    pub fn tap(&self) -> &T {
        &self.tap
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    /// What the tap was shown: the peer's packets' RTP timestamps, and the end.
    #[derive(Default)]
    struct Seen {
        theirs: Vec<u32>,
        ended: Option<Instant>,
    }

    struct Recorder(Rc<RefCell<Seen>>);

    impl Tap for Recorder {
        fn packet(&mut self, direction: Direction, _now: Instant, rtp_timestamp: u32, _payload: &[u8]) {
            assert_eq!(direction, Direction::Theirs, "no console joined: nothing of ours");
            self.0.borrow_mut().theirs.push(rtp_timestamp);
        }

        fn ending(&mut self, now: Instant) {
            self.0.borrow_mut().ended = Some(now);
        }
    }

    fn theirs(call: CallId, sequence: u16) -> MediaPacket {
        let rtp_timestamp = u32::from(sequence) * 960;
        MediaPacket { call, speaker: Side::Callee, rtp_timestamp, sequence, payload: vec![0x78, 1, 2, 3] }
    }

    #[test]
    fn the_peers_packets_are_tapped_with_no_console_joined_and_after_the_end() {
        let call = "01a23f63-9173-708a-bd3a-b364cde91090".parse::<CallId>().expect("a UUIDv7");
        let seen = Rc::new(RefCell::new(Seen::default()));
        let start = Instant::now();
        let mut relay = Relay::new(call, Side::Caller, Recorder(seen.clone()), Limits::default(), start);
        assert!(!relay.joined());
        relay.handle_peer(start, &theirs(call, 1));
        assert!(matches!(relay.poll_output(), RelayOutput::Idle), "no leg: no timer, nothing to send");
        let end = start + std::time::Duration::from_millis(20);
        relay.end(end);
        relay.handle_peer(end + std::time::Duration::from_millis(5), &theirs(call, 2));
        assert!(matches!(relay.poll_output(), RelayOutput::Idle));
        let seen = seen.borrow();
        assert_eq!(seen.theirs, vec![960, 1920], "both packets reach the recorder");
        assert_eq!(seen.ended, Some(end), "the tap is told when the call ended");
        assert_eq!(relay.counts().theirs.packets, 2);
    }
}
