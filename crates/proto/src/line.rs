//! The `Line`: one station's end of the link to one peer, as a state machine.
//!
//! Delivery works like this. The station assigns each outgoing item a lane and the next
//! sequence number on that lane, writes it to disk, and only then [`Line::push`]es it. The
//! line transmits items lane by lane (lowest lane first, at most `window_items_max` in
//! flight per lane). The receiving line hands each in-sequence item to its station as
//! [`Event::Received`]; the station writes it to disk and calls [`Line::mark_durable`];
//! only then does the line send a cumulative [`Frame::Receipt`]. A receipt is therefore
//! never issued for anything that is not on the receiver's disk, and the sender reports
//! [`Event::Delivered`] only on such a receipt.
//!
//! Exactly-once across cuts and crashes follows from three rules: the receiver accepts only
//! the next sequence number on each lane (duplicates are answered with a fresh receipt,
//! gaps are ignored); every connection starts with both ends sending [`Frame::Hello`] with
//! the next sequence number they still need per lane, from which the sender resumes; and a
//! sender that sees no receipt progress for `retransmit_after` goes back to the first
//! unreceipted item (go-back-N). A restarted station rebuilds its line from what it had on
//! disk ([`Restored`]), so anything it had not written is simply sent again.
//!
//! Supervision: both ends ping every `heartbeat_interval`; any frame counts as a sign of
//! life, and after `heartbeats_missed_max` intervals of silence the connection is closed
//! and the line is `down`. The driving rule (from str0m): after every input — `connect`,
//! `handle_input`, `handle_timeout`, `push`, `mark_durable`, `disconnect` — drain
//! `poll_transmit` and `poll_event`, then sleep until `poll_timeout`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::frame::{Frame, FrameDecoder, FrameError, payload_bytes_max};
use crate::lane::{LANES, Lane};

/// Tunables of a line. Defaults follow PRODUCT.md.
#[derive(Clone, Debug)]
pub struct LineConfig {
    /// How often each end pings the other.
    pub heartbeat_interval: Duration,
    /// Silent intervals after which the connection is declared dead and the line down.
    pub heartbeats_missed_max: u32,
    /// With items in flight and no receipt progress for this long, send them again.
    pub retransmit_after: Duration,
    /// Items sent but not yet receipted, per lane.
    pub window_items_max: u64,
    /// Items handed to the station as `Received` but not yet marked durable, per lane.
    /// Past this the line stops accepting (the sender will retransmit), which bounds the
    /// memory a slow disk can make the station hold.
    pub pending_durable_items_max: u64,
}

impl Default for LineConfig {
    fn default() -> Self {
        LineConfig {
            heartbeat_interval: Duration::from_secs(1),
            heartbeats_missed_max: 3,
            retransmit_after: Duration::from_secs(3),
            window_items_max: 256,
            pending_durable_items_max: 1024,
        }
    }
}

impl LineConfig {
    fn silence_max(&self) -> Duration {
        self.heartbeat_interval * self.heartbeats_missed_max
    }
}

/// What the line looks like from a watch center.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineState {
    /// Not up yet since the station started, and not yet for long enough to call it down.
    Connecting,
    /// A connection is established and both ends have said Hello.
    Up,
    /// Lost, or never came up within the heartbeat allowance.
    Down,
}

impl LineState {
    pub fn as_str(self) -> &'static str {
        match self {
            LineState::Connecting => "connecting",
            LineState::Up => "up",
            LineState::Down => "down",
        }
    }
}

/// What the station had on disk for this line when it started.
#[derive(Clone, Debug, Default)]
pub struct Restored {
    /// Items accepted for sending but not yet receipted, in sequence order per lane.
    pub outbound: Vec<(Lane, u64, Vec<u8>)>,
    /// Per lane, the highest sequence number the peer has receipted (0: none).
    pub receipted: [u64; LANES],
    /// Per lane, the highest sequence number ever assigned to an outgoing item (0: none).
    pub pushed_last: [u64; LANES],
    /// Per lane, the next sequence number still needed from the peer (1: nothing yet).
    pub durable_next: [u64; LANES],
}

/// Something the station must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The line changed state.
    StateChanged { state: LineState },
    /// An item arrived in sequence. Write it durably, then call [`Line::mark_durable`].
    Received { lane: Lane, seq: u64, payload: Vec<u8> },
    /// An item left for the first time since this `Line` was made.
    Sent { lane: Lane, seq: u64 },
    /// The peer has every item on `lane` up to and including `seq` on its disk.
    Delivered { lane: Lane, seq: u64 },
    /// A heartbeat round trip completed.
    Rtt { rtt: Duration },
    /// The line gave up on the current connection. Flush `poll_transmit` (it holds a
    /// Close frame telling the peer why), then close the socket.
    Closed { reason: String },
}

/// Why the line closed a connection on input from the peer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LineError {
    #[error("malformed frame from the peer: {0}")]
    Frame(#[from] FrameError),
    #[error("the peer says it is station {got:?}, but this line is to {expected:?}")]
    WrongStation { expected: String, got: String },
    #[error("the peer sent {0} before its Hello")]
    BeforeHello(&'static str),
    #[error("the peer receipted item {seq} on lane {lane:?}, but only {pushed_last} were ever sent")]
    ReceiptBeyondSent { lane: Lane, seq: u64, pushed_last: u64 },
    #[error("the peer closed the connection: {0}")]
    PeerClosed(String),
}

/// Of two stations that both dial, the connection dialed by this one is kept: a fixed
/// rule both ends compute alike, so they settle on one connection without negotiating.
pub fn preferred_dialer<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a <= b { a } else { b }
}

#[derive(Debug, Default)]
struct OutLane {
    /// Items with sequence numbers `receipted + 1 ..= pushed_last`, in order.
    items: VecDeque<(u64, Vec<u8>)>,
    receipted: u64,
    pushed_last: u64,
    /// Next sequence number to transmit on the current connection.
    send_next: u64,
    /// Highest sequence number transmitted since this `Line` was made.
    sent_max: u64,
}

impl OutLane {
    fn in_flight(&self) -> u64 {
        self.send_next.saturating_sub(self.receipted + 1)
    }
}

#[derive(Debug)]
struct InLane {
    /// Next sequence number to accept from the wire.
    received_next: u64,
    /// Next sequence number not yet on disk.
    durable_next: u64,
    receipt_due: bool,
}

/// Transport state of the current connection; replaced on every reconnect.
#[derive(Debug)]
struct Connection {
    decoder: FrameDecoder,
    /// The peer's Hello has arrived: items may flow.
    greeted: bool,
    /// Our Close is queued; the connection ends once it is transmitted.
    closing: bool,
    control: VecDeque<Frame>,
    /// When the connection was attached: the peer's Hello is due within the silence limit.
    connected_at: Instant,
    last_heard: Instant,
    next_ping_at: Instant,
    ping_outstanding: Option<(u64, Instant)>,
    last_progress: Instant,
}

/// One end of the link to one peer. See the module documentation for how to drive it.
#[derive(Debug)]
pub struct Line {
    config: LineConfig,
    local_name: String,
    peer_name: String,
    state: LineState,
    since: Instant,
    rtt: Option<Duration>,
    out: [OutLane; LANES],
    inbound: [InLane; LANES],
    connection: Option<Connection>,
    events: VecDeque<Event>,
    ping_nonce: u64,
}

impl Line {
    /// A line in state `connecting`, resuming from what the station had on disk.
    pub fn new(config: LineConfig, local_name: &str, peer_name: &str, now: Instant, restored: Restored) -> Line {
        let mut out: [OutLane; LANES] = Default::default();
        for lane in Lane::ALL {
            let o = &mut out[lane.index()];
            o.receipted = restored.receipted[lane.index()];
            o.pushed_last = restored.pushed_last[lane.index()].max(o.receipted);
            o.send_next = o.receipted + 1;
            o.sent_max = o.receipted;
        }
        for (lane, seq, payload) in restored.outbound {
            let o = &mut out[lane.index()];
            if seq <= o.receipted {
                continue;
            }
            // The store hands back a gap-free run starting right after the receipt.
            assert_eq!(seq, o.receipted + 1 + o.items.len() as u64, "restored outbound items must be contiguous");
            o.items.push_back((seq, payload));
        }
        for o in &out {
            assert_eq!(o.receipted + o.items.len() as u64, o.pushed_last, "restored items must reach pushed_last");
        }
        let inbound = std::array::from_fn(|i| {
            let next = restored.durable_next[i].max(1);
            InLane { received_next: next, durable_next: next, receipt_due: false }
        });
        Line {
            config,
            local_name: local_name.to_owned(),
            peer_name: peer_name.to_owned(),
            state: LineState::Connecting,
            since: now,
            rtt: None,
            out,
            inbound,
            connection: None,
            events: VecDeque::new(),
            ping_nonce: 0,
        }
    }

    pub fn state(&self) -> LineState {
        self.state
    }

    /// When the line entered its current state.
    pub fn since(&self) -> Instant {
        self.since
    }

    /// The last measured heartbeat round trip.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    pub fn peer_name(&self) -> &str {
        &self.peer_name
    }

    /// Whether a connection is attached (established or still greeting).
    pub fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    /// Items pushed and not yet receipted, over all lanes.
    pub fn undelivered_items(&self) -> u64 {
        self.out.iter().map(|o| o.items.len() as u64).sum()
    }

    /// The sequence number the next item pushed on `lane` must carry.
    pub fn next_seq(&self, lane: Lane) -> u64 {
        self.out[lane.index()].pushed_last + 1
    }

    /// Queues an item the station has already written to disk with sequence number `seq`,
    /// which must be [`Line::next_seq`] for its lane.
    pub fn push(&mut self, lane: Lane, seq: u64, payload: Vec<u8>) {
        assert!(payload.len() <= payload_bytes_max, "item payload over payload_bytes_max");
        let o = &mut self.out[lane.index()];
        assert_eq!(seq, o.pushed_last + 1, "items must be pushed in sequence on each lane");
        o.pushed_last = seq;
        o.items.push_back((seq, payload));
    }

    /// A new transport connection (TLS established, peer key checked) is attached. Any
    /// previous connection is forgotten. Sends Hello and a first heartbeat.
    pub fn connect(&mut self, now: Instant) {
        let durable_next = std::array::from_fn(|i| self.inbound[i].durable_next);
        let mut control = VecDeque::new();
        control.push_back(Frame::Hello { station: self.local_name.clone(), durable_next });
        self.ping_nonce += 1;
        control.push_back(Frame::Ping { nonce: self.ping_nonce });
        self.connection = Some(Connection {
            decoder: FrameDecoder::default(),
            greeted: false,
            closing: false,
            control,
            connected_at: now,
            last_heard: now,
            next_ping_at: now + self.config.heartbeat_interval,
            ping_outstanding: Some((self.ping_nonce, now)),
            last_progress: now,
        });
    }

    /// The transport connection is gone (closed by the peer, reset, or replaced).
    pub fn disconnect(&mut self, now: Instant) {
        self.connection = None;
        if self.state == LineState::Up {
            self.set_state(now, LineState::Down);
        }
    }

    /// Bytes read from the current connection. On error the line has already closed the
    /// connection (see [`Event::Closed`]); the error says why, for the log.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> Result<(), LineError> {
        let Some(conn) = self.connection.as_mut() else {
            return Ok(());
        };
        if conn.closing {
            return Ok(());
        }
        conn.decoder.extend(bytes);
        loop {
            let Some(conn) = self.connection.as_mut() else {
                return Ok(());
            };
            if conn.closing {
                return Ok(());
            }
            let frame = match conn.decoder.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.fail(now, e.into())),
            };
            conn.last_heard = now;
            if let Err(e) = self.handle_frame(now, frame) {
                return Err(self.fail(now, e));
            }
        }
    }

    fn handle_frame(&mut self, now: Instant, frame: Frame) -> Result<(), LineError> {
        let Some(conn) = self.connection.as_mut() else {
            return Ok(());
        };
        match frame {
            Frame::Hello { station, durable_next } => {
                if station != self.peer_name {
                    return Err(LineError::WrongStation { expected: self.peer_name.clone(), got: station });
                }
                conn.greeted = true;
                conn.last_progress = now;
                for lane in Lane::ALL {
                    // The peer's position is an implicit receipt; resume right after it.
                    self.apply_receipt(lane, durable_next[lane.index()] - 1)?;
                    let o = &mut self.out[lane.index()];
                    o.send_next = o.receipted + 1;
                }
                if self.state != LineState::Up {
                    self.set_state(now, LineState::Up);
                }
            }
            Frame::Ping { nonce } => conn.control.push_back(Frame::Pong { nonce }),
            Frame::Pong { nonce } => {
                if let Some((sent_nonce, sent_at)) = conn.ping_outstanding
                    && sent_nonce == nonce
                {
                    conn.ping_outstanding = None;
                    let rtt = now.saturating_duration_since(sent_at);
                    self.rtt = Some(rtt);
                    self.events.push_back(Event::Rtt { rtt });
                }
            }
            Frame::Close { reason } => return Err(LineError::PeerClosed(reason)),
            Frame::Item { lane, seq, payload } => {
                if !conn.greeted {
                    return Err(LineError::BeforeHello("an item"));
                }
                let pending_max = self.config.pending_durable_items_max;
                let i = &mut self.inbound[lane.index()];
                if seq == i.received_next && i.received_next - i.durable_next < pending_max {
                    i.received_next += 1;
                    self.events.push_back(Event::Received { lane, seq, payload });
                } else if seq < i.durable_next {
                    // A duplicate of something on disk: our receipt was lost; repeat it.
                    i.receipt_due = true;
                }
                // Anything else is a gap or a duplicate still being written: ignore it;
                // the sender goes back or the pending write's receipt follows.
            }
            Frame::Receipt { lane, seq } => {
                if !conn.greeted {
                    return Err(LineError::BeforeHello("a receipt"));
                }
                if seq > self.out[lane.index()].receipted
                    && let Some(conn) = self.connection.as_mut()
                {
                    conn.last_progress = now;
                }
                self.apply_receipt(lane, seq)?;
            }
        }
        Ok(())
    }

    fn apply_receipt(&mut self, lane: Lane, seq: u64) -> Result<(), LineError> {
        let o = &mut self.out[lane.index()];
        if seq > o.pushed_last {
            return Err(LineError::ReceiptBeyondSent { lane, seq, pushed_last: o.pushed_last });
        }
        if seq <= o.receipted {
            return Ok(());
        }
        while o.items.front().is_some_and(|(s, _)| *s <= seq) {
            o.items.pop_front();
        }
        o.receipted = seq;
        o.send_next = o.send_next.max(seq + 1);
        assert_eq!(o.receipted + o.items.len() as u64, o.pushed_last);
        self.events.push_back(Event::Delivered { lane, seq });
        Ok(())
    }

    /// Closes the current connection with a Close frame that says why.
    fn fail(&mut self, now: Instant, error: LineError) -> LineError {
        self.close(now, &error.to_string());
        error
    }

    /// Closes the current connection on the station's initiative (for example, because
    /// another connection to the same peer is preferred). The Close frame is the last
    /// thing `poll_transmit` yields.
    pub fn close(&mut self, now: Instant, reason: &str) {
        if let Some(conn) = self.connection.as_mut() {
            if conn.closing {
                return;
            }
            conn.closing = true;
            conn.control.clear();
            conn.control.push_back(Frame::Close { reason: reason.to_owned() });
            self.events.push_back(Event::Closed { reason: reason.to_owned() });
        }
        if self.state == LineState::Up {
            self.set_state(now, LineState::Down);
        }
    }

    /// The station wrote received item `seq` on `lane` to disk. Calls must follow the
    /// order of the `Received` events on each lane.
    pub fn mark_durable(&mut self, lane: Lane, seq: u64) {
        let i = &mut self.inbound[lane.index()];
        assert_eq!(seq, i.durable_next, "items must be marked durable in sequence");
        assert!(seq < i.received_next, "only received items can be marked durable");
        i.durable_next += 1;
        i.receipt_due = true;
    }

    /// The station could not write items it was handed as `Received` (a full or failing
    /// disk). Forget them, so that they are accepted again when the peer resends them
    /// (it will: they were never receipted).
    pub fn abandon_undurable(&mut self) {
        for i in &mut self.inbound {
            i.received_next = i.durable_next;
        }
    }

    /// Drives heartbeats, silence detection and retransmission.
    pub fn handle_timeout(&mut self, now: Instant) {
        let silence_max = self.config.silence_max();
        if self.state == LineState::Connecting && now.saturating_duration_since(self.since) >= silence_max {
            self.set_state(now, LineState::Down);
        }
        let Some(conn) = self.connection.as_mut() else {
            return;
        };
        if conn.closing {
            return;
        }
        if now.saturating_duration_since(conn.last_heard) >= silence_max {
            let reason = format!("no sign of life from {} for {} ms", self.peer_name, silence_max.as_millis());
            self.close(now, &reason);
            return;
        }
        if !conn.greeted && now.saturating_duration_since(conn.connected_at) >= silence_max {
            let reason = format!("no Hello from {} within {} ms", self.peer_name, silence_max.as_millis());
            self.close(now, &reason);
            return;
        }
        if now >= conn.next_ping_at {
            self.ping_nonce += 1;
            conn.control.push_back(Frame::Ping { nonce: self.ping_nonce });
            conn.ping_outstanding = Some((self.ping_nonce, now));
            conn.next_ping_at = now + self.config.heartbeat_interval;
        }
        let in_flight = self.out.iter().any(|o| o.in_flight() > 0);
        if conn.greeted
            && in_flight
            && now.saturating_duration_since(conn.last_progress) >= self.config.retransmit_after
        {
            conn.last_progress = now;
            for o in &mut self.out {
                o.send_next = o.receipted + 1;
            }
        }
    }

    /// When `handle_timeout` must next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        let silence_max = self.config.silence_max();
        if self.state == LineState::Connecting {
            consider(self.since + silence_max);
        }
        if let Some(conn) = &self.connection
            && !conn.closing
        {
            consider(conn.last_heard + silence_max);
            consider(conn.next_ping_at);
            if !conn.greeted {
                consider(conn.connected_at + silence_max);
            }
            if conn.greeted && self.out.iter().any(|o| o.in_flight() > 0) {
                consider(conn.last_progress + self.config.retransmit_after);
            }
        }
        next
    }

    /// Appends the next frame to send to `out`; `false` when there is nothing to send.
    /// Control frames go first, then receipts, then items by lane.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> bool {
        let Some(conn) = self.connection.as_mut() else {
            return false;
        };
        if let Some(frame) = conn.control.pop_front() {
            frame.encode(out);
            if conn.closing && conn.control.is_empty() {
                self.connection = None;
            }
            return true;
        }
        if conn.closing || !conn.greeted {
            return false;
        }
        for lane in Lane::ALL {
            let i = &mut self.inbound[lane.index()];
            if i.receipt_due {
                i.receipt_due = false;
                Frame::Receipt { lane, seq: i.durable_next - 1 }.encode(out);
                return true;
            }
        }
        for lane in Lane::ALL {
            let o = &mut self.out[lane.index()];
            if o.send_next > o.pushed_last || o.in_flight() >= self.config.window_items_max {
                continue;
            }
            if o.in_flight() == 0 {
                // The retransmission clock starts when the window opens, not at the last
                // receipt, which may be long ago on a quiet line.
                conn.last_progress = now;
            }
            let index = (o.send_next - o.receipted - 1) as usize;
            let (seq, payload) = &o.items[index];
            assert_eq!(*seq, o.send_next, "outbound items are indexed by sequence");
            Frame::Item { lane, seq: *seq, payload: payload.clone() }.encode(out);
            if *seq > o.sent_max {
                o.sent_max = *seq;
                self.events.push_back(Event::Sent { lane, seq: *seq });
            }
            o.send_next += 1;
            return true;
        }
        false
    }

    /// The next event for the station, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn set_state(&mut self, now: Instant, state: LineState) {
        self.state = state;
        self.since = now;
        self.events.push_back(Event::StateChanged { state });
    }
}
