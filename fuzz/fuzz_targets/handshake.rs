//! Alpha's line after `connect`, fed arbitrary bytes as if from bravo: the Hello and
//! everything after it.
//!
//! The input is run twice, once in one read and once cut into small uneven reads with
//! the line's outputs drained after each (the driving rule), and the two runs must see
//! the same events (other than `Sent`, which follows transmission) and the same error.
//! In both, every byte alpha transmits must be a valid frame stream that starts with
//! alpha's Hello; no receipt may name an item alpha has not marked durable; items go out
//! only after the peer's Hello and exactly as pushed; items are handed over in sequence
//! and deliveries only advance and never pass what was pushed. Timeouts then run the
//! heartbeat, retransmission and silence paths on whatever state the input left.

#![no_main]

use std::time::{Duration, Instant};

use hotline_fuzz::LOCAL;
use hotline_fuzz::handshake::{DURABLE_NEXT, PUSHED_LAST, RECEIPTED, alpha_line, payload};
use hotline_proto::{Event, Frame, FrameDecoder, LANES, Line, LineError, LineState};
use libfuzzer_sys::fuzz_target;

const PIECES: [usize; 8] = [1, 2, 3, 5, 8, 13, 64, 7];

/// What one run observed, and the invariants it checks as it goes.
struct Observer {
    events: Vec<Event>,
    errors: Vec<LineError>,
    /// Alpha's transmitted bytes, decoded as they would be at bravo.
    wire: FrameDecoder,
    frames_seen: usize,
    closed_on_wire: bool,
    up: bool,
    /// Per lane, the next sequence number the line must hand over.
    received_next: [u64; LANES],
    delivered: [u64; LANES],
}

impl Observer {
    fn new() -> Observer {
        Observer {
            events: Vec::new(),
            errors: Vec::new(),
            wire: FrameDecoder::default(),
            frames_seen: 0,
            closed_on_wire: false,
            up: false,
            received_next: DURABLE_NEXT,
            delivered: RECEIPTED,
        }
    }

    /// Drains events and transmissions, marking every received item durable at once.
    fn drain(&mut self, line: &mut Line, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(event) = line.poll_event() {
                progressed = true;
                self.event(line, &event);
                self.events.push(event);
            }
            let mut out = Vec::new();
            while line.poll_transmit(now, &mut out) {
                progressed = true;
            }
            self.transmitted(&out);
            if !progressed {
                break;
            }
        }
    }

    fn event(&mut self, line: &mut Line, event: &Event) {
        match event {
            Event::Received { lane, seq, .. } => {
                let next = &mut self.received_next[lane.index()];
                assert_eq!(*seq, *next, "items are handed over in sequence");
                *next += 1;
                line.mark_durable(*lane, *seq);
            }
            Event::Delivered { lane, seq } => {
                let i = lane.index();
                assert!(*seq > self.delivered[i] && *seq <= PUSHED_LAST[i], "delivery {seq} on {lane:?}");
                self.delivered[i] = *seq;
            }
            Event::StateChanged { state } => self.up = *state == LineState::Up,
            Event::Sent { lane, seq } => assert!(*seq <= PUSHED_LAST[lane.index()]),
            Event::Rtt { .. } | Event::Closed { .. } => {}
        }
    }

    fn transmitted(&mut self, bytes: &[u8]) {
        self.wire.extend(bytes);
        while let Some(frame) = self.wire.next_frame().expect("alpha transmits only valid frames") {
            assert!(!self.closed_on_wire, "nothing follows a Close on one connection: {frame:?}");
            if self.frames_seen == 0 {
                assert_eq!(frame, Frame::Hello { station: LOCAL.to_owned(), durable_next: DURABLE_NEXT });
            }
            self.frames_seen += 1;
            match frame {
                Frame::Receipt { lane, seq } => {
                    assert!(self.up, "receipts only once the line is up");
                    assert!(seq < self.received_next[lane.index()], "receipt {seq} on {lane:?} before the write");
                }
                Frame::Item { lane, seq, payload: p } => {
                    assert!(self.up, "items only after the peer's Hello");
                    let i = lane.index();
                    assert!(seq > RECEIPTED[i] && seq <= PUSHED_LAST[i], "item {seq} on {lane:?} was never pushed");
                    assert_eq!(p, payload(lane, seq));
                }
                Frame::Close { .. } => self.closed_on_wire = true,
                Frame::Hello { .. } | Frame::Ping { .. } | Frame::Pong { .. } => {}
            }
        }
    }
}

fn run(pieces: &[&[u8]]) -> Observer {
    let t0 = Instant::now();
    let mut line = alpha_line(t0);
    let mut seen = Observer::new();
    line.connect(t0);
    seen.drain(&mut line, t0);
    for piece in pieces {
        if let Err(e) = line.handle_input(t0, piece) {
            seen.errors.push(e);
        }
        seen.drain(&mut line, t0);
    }
    seen
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    for &n in PIECES.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(n.min(rest.len()));
        pieces.push(head);
        rest = tail;
    }
    pieces
}

fn without_sent(events: &[Event]) -> Vec<&Event> {
    events.iter().filter(|e| !matches!(e, Event::Sent { .. })).collect()
}

fuzz_target!(|data: &[u8]| {
    let whole = run(&[data]);
    let pieces = run(&split(data));
    assert_eq!(without_sent(&whole.events), without_sent(&pieces.events), "events depend on how bytes were split");
    assert_eq!(whole.errors, pieces.errors);
    assert!(whole.errors.len() <= 1, "the line closes on its first error");

    // Time passes on whatever state the input left: heartbeats, retransmission, silence.
    let t0 = Instant::now();
    let mut line = alpha_line(t0);
    let mut seen = Observer::new();
    line.connect(t0);
    seen.drain(&mut line, t0);
    let _ = line.handle_input(t0, data);
    seen.drain(&mut line, t0);
    for ms in [500, 1_000, 2_000, 3_100, 4_000, 6_500] {
        let now = t0 + Duration::from_millis(ms);
        line.handle_timeout(now);
        seen.drain(&mut line, now);
        if let Some(next) = line.poll_timeout() {
            assert!(next >= t0, "a timeout in the past of the connection");
        }
    }
    // Three silent heartbeat intervals have passed: the connection is closed, the line down.
    assert!(!line.is_connected(), "after 6.5 s of silence the connection is closed");
    assert_eq!(line.state(), LineState::Down);
});
