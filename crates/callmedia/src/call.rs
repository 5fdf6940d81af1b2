//! One call's media at this station, as a tokio task: the browser leg's UDP socket (once
//! the console has sent its offer), the QUIC link to the peer (once dialed or accepted),
//! the `Relay` between them, and the relay's timer. Every decision is the relay's; this
//! task moves bytes, following str0m's rule: after every input, drain every output.
//!
//! Either half may come and go while the call lasts: a console that reloads sends a new
//! offer (its leg replaces the old one; the recorder's tap stays the same), a link that is
//! lost is dialed again by the caller's station. Audio with no other half to go to is
//! dropped and counted, never queued: late audio is worse than a gap.
//!
//! The call's end is not a cut. When the record ends the call here, our console's leg is
//! let go at once (nothing more of ours is sent or recorded), but the link stays open for
//! a moment (`call_end_drain_ms`): the peer's packets already in flight are still
//! recorded, and ours already queued in QUIC still leave. The peer records what it sent
//! us; were we to close at once, the two stations' packet hashes would differ by the last
//! packets of every call and `hotline verify` could not tell that from tampering. The
//! call's route closes only when the task ends, for the same reason.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hotline_call::{CallId, Side};
use hotline_media::{
    BrowserLeg, CallRoutes, LegCounts, LegEvent, LinkCounts, MediaError, MediaPacket, PeerLink, Relay, RelayCounts,
    RelayOutput, Tap,
};
use hotline_recording::Direction;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::{CallMediaError, Command, MediaSetup};

/// Datagrams from the browser are read into a buffer this large; a larger one is cut,
/// then refused by the leg's `datagram_bytes_max`.
#[allow(non_upper_case_globals)]
const browser_datagram_buffer_bytes: usize = 4096;
/// How often a call's counts are added to the station's (and at the call's end).
#[allow(non_upper_case_globals)]
const counts_fold_ms: u64 = 1_000;
/// After the call ends here, how long the link stays open at most for the peer's packets
/// still in flight (the peer learns of the end over the line, a round trip or so later).
#[allow(non_upper_case_globals)]
const call_end_drain_ms: u64 = 1_500;
/// ... and how long with nothing from the peer before the link is closed sooner: the
/// peer has ended too (its console's leg let go), or its last packets are in.
#[allow(non_upper_case_globals)]
const call_end_quiet_ms: u64 = 300;

/// The station's media counts: what passed, and what was dropped by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub calls: u64,
    pub offers_answered: u64,
    /// QUIC links to a peer that came up for a call (dialed or accepted; again after a loss).
    pub links: u64,
    /// Opus packets from our consoles relayed to peers.
    pub packets_ours: u64,
    /// Opus packets from peers relayed to our consoles.
    pub packets_theirs: u64,
    /// From a browser: too large, over the rate, not from the selected pair, malformed,
    /// not the negotiated Opus.
    pub dropped_browser: u64,
    /// From a peer: not a well-formed media datagram.
    pub dropped_peer_malformed: u64,
    /// From a peer: for no call of ours.
    pub dropped_peer_unknown_call: u64,
    /// From a peer whose key is not the call's line's (a wrong key or address).
    pub dropped_peer_wrong_line: u64,
    /// From a peer, carrying our own side as speaker (reflected or forged).
    pub dropped_peer_wrong_speaker: u64,
    /// From a peer: over the rate or the size bound.
    pub dropped_peer_bounds: u64,
    /// Ours while the call had no link to the peer yet (or lost it).
    pub dropped_no_link: u64,
    /// Theirs while our console had no leg (yet, or after a closed browser): recorded, not played.
    pub dropped_no_browser: u64,
    /// QUIC handshakes refused (keys that are not pinned) or failed.
    pub refused_handshakes: u64,
}

/// The station-wide counters every call's task adds to.
#[derive(Debug, Default)]
pub struct Counters {
    values: Mutex<Counts>,
    dropped_no_link: AtomicU64,
    dropped_no_browser: AtomicU64,
}

impl Counters {
    pub(crate) fn load(&self) -> Counts {
        let mut counts = *self.values.lock().unwrap_or_else(PoisonError::into_inner);
        counts.dropped_no_link = self.dropped_no_link.load(Ordering::Relaxed);
        counts.dropped_no_browser = self.dropped_no_browser.load(Ordering::Relaxed);
        counts
    }

    fn add(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.values.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The recorder's tap, shared by every leg the call has (a reload replaces the leg).
#[derive(Clone)]
struct SharedTap(Arc<Mutex<Box<dyn Tap + Send>>>);

impl Tap for SharedTap {
    fn packet(&mut self, direction: Direction, now: Instant, rtp_timestamp: u32, payload: &[u8]) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).packet(direction, now, rtp_timestamp, payload);
    }

    fn ending(&mut self, now: Instant) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).ending(now);
    }
}

/// Closes the call's route when its task ends, however it ends (a stop, the runtime
/// shutting down, a panic): until then the peer's datagrams for the call are taken.
struct OpenRoute {
    routes: CallRoutes,
    call: CallId,
}

impl Drop for OpenRoute {
    fn drop(&mut self) {
        self.routes.close(self.call);
    }
}

/// The counts of one leg, relay and link already added to the station's.
#[derive(Default)]
struct Folded {
    leg: LegCounts,
    relay: RelayCounts,
    link: LinkCounts,
}

pub(crate) struct CallTask {
    id: CallId,
    our_side: Side,
    setup: MediaSetup,
    counters: Arc<Counters>,
    /// Lives as long as the task; our console's leg joins and leaves it.
    relay: Relay<SharedTap>,
    socket: Option<(UdpSocket, SocketAddr)>,
    link: Option<PeerLink>,
    folded: Folded,
    _route: OpenRoute,
}

impl CallTask {
    pub(crate) fn new(
        id: CallId,
        our_side: Side,
        setup: MediaSetup,
        tap: Box<dyn Tap + Send>,
        counters: Arc<Counters>,
        routes: CallRoutes,
    ) -> CallTask {
        counters.add(|c| c.calls += 1);
        let tap = SharedTap(Arc::new(Mutex::new(tap)));
        let relay = Relay::new(id, our_side, tap, setup.limits, Instant::now());
        CallTask {
            id,
            our_side,
            setup,
            counters,
            relay,
            socket: None,
            link: None,
            folded: Folded::default(),
            _route: OpenRoute { routes, call: id },
        }
    }

    /// Runs until `stop` fires or the service forgets the call (both senders dropped).
    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<Command>, mut stop: oneshot::Receiver<()>) {
        let mut buf = vec![0_u8; browser_datagram_buffer_bytes];
        let mut fold = tokio::time::interval(Duration::from_millis(counts_fold_ms));
        loop {
            let timeout = self.drain().await;
            tokio::select! {
                _ = &mut stop => break,
                command = commands.recv() => match command {
                    None => break,
                    Some(Command::Offer { sdp, reply }) => {
                        let answer = self.accept_offer(&sdp).await;
                        let _ = reply.send(answer);
                    }
                    Some(Command::Link(link)) => self.attach(*link),
                },
                received = recv_browser(&self.socket, &mut buf) => match received {
                    Ok((n, from)) => {
                        if let Some((_, local)) = &self.socket {
                            self.relay.handle_datagram(Instant::now(), from, *local, buf.get(..n).unwrap_or_default());
                        }
                    }
                    // ICMP port unreachable from a closed browser socket surfaces here.
                    Err(e) => tracing::debug!(call = %self.id, error = %e, "browser socket"),
                },
                packet = recv_peer(&self.link) => match packet {
                    Ok(packet) => self.on_peer_packet(&packet),
                    Err(e) => self.lose_link(&e),
                },
                () = sleep_until(timeout) => self.relay.handle_timeout(Instant::now()),
                _ = fold.tick() => self.fold(),
            }
        }
        self.wind_down().await;
        self.fold();
        tracing::info!(
            call = %self.id,
            relay = ?self.folded.relay,
            leg = ?self.folded.leg,
            link = ?self.folded.link,
            "call media task ended"
        );
        if let Some(link) = self.link.take() {
            link.close();
        }
    }

    /// A packet from the peer: recorded whether or not our console is joined to play it.
    fn on_peer_packet(&mut self, packet: &MediaPacket) {
        if !self.relay.joined() {
            self.counters.dropped_no_browser.fetch_add(1, Ordering::Relaxed);
        }
        self.relay.handle_peer(Instant::now(), packet);
    }

    fn lose_link(&mut self, e: &MediaError) {
        tracing::info!(call = %self.id, error = %e, "media link to the peer lost");
        self.fold();
        self.folded.link = LinkCounts::default();
        self.link = None;
    }

    /// The call has ended here: our console's leg goes at once, the peer's packets still
    /// in flight are recorded until the peer goes quiet or closes the link, or
    /// `call_end_drain_ms` has passed.
    async fn wind_down(&mut self) {
        let ended = Instant::now();
        self.relay.end(ended);
        self.socket = None;
        let deadline = ended + Duration::from_millis(call_end_drain_ms);
        while let Some(link) = &self.link {
            let until = deadline.min(Instant::now() + Duration::from_millis(call_end_quiet_ms));
            match tokio::time::timeout_at(until.into(), link.recv()).await {
                Ok(Ok(packet)) => {
                    self.relay.handle_peer(Instant::now(), &packet);
                    let _ = self.drain().await;
                }
                Ok(Err(e)) => self.lose_link(&e),
                Err(_) => break,
            }
        }
    }

    fn attach(&mut self, link: PeerLink) {
        self.fold();
        self.folded.link = LinkCounts::default();
        if let Some(old) = self.link.replace(link) {
            old.close();
        }
        self.counters.add(|c| c.links += 1);
        tracing::info!(call = %self.id, side = ?self.our_side, "media link to the peer up");
    }

    /// Answers the console's offer with a fresh leg on a socket of its own; a refused
    /// offer leaves the current leg (if any) as it was.
    async fn accept_offer(&mut self, sdp: &str) -> Result<String, CallMediaError> {
        let socket =
            UdpSocket::bind(self.setup.browser_udp).await.map_err(|e| CallMediaError::Internal(e.to_string()))?;
        let local = socket.local_addr().map_err(|e| CallMediaError::Internal(e.to_string()))?;
        let now = Instant::now();
        let (leg, answer) = BrowserLeg::accept_offer(sdp, local, now, self.setup.limits).map_err(|e| match e {
            MediaError::BadOffer(why) => CallMediaError::BadOffer(why),
            other => CallMediaError::Internal(other.to_string()),
        })?;
        self.fold();
        self.folded.leg = LegCounts::default();
        self.relay.join(leg);
        self.socket = Some((socket, local));
        self.counters.add(|c| c.offers_answered += 1);
        tracing::info!(call = %self.id, %local, "browser leg answered");
        Ok(answer)
    }

    /// Carries out the relay's outputs until it asks for a timeout (`None`: no console is
    /// joined, so nothing is timed).
    async fn drain(&mut self) -> Option<Instant> {
        loop {
            let output = self.relay.poll_output();
            match output {
                RelayOutput::Transmit { to, bytes } => {
                    if let Some((socket, _)) = &self.socket
                        && let Err(e) = socket.send_to(&bytes, to).await
                    {
                        tracing::debug!(call = %self.id, error = %e, "send to the browser");
                    }
                }
                RelayOutput::ToPeer(packet) => match &self.link {
                    Some(link) => link.send(&packet),
                    None => {
                        self.counters.dropped_no_link.fetch_add(1, Ordering::Relaxed);
                    }
                },
                RelayOutput::Timeout(at) => return Some(at),
                RelayOutput::Idle => return None,
                RelayOutput::Event(LegEvent::Closed(why)) => {
                    // The relay has let the leg go; the peer's packets are still recorded.
                    tracing::info!(call = %self.id, why, "browser leg closed");
                    self.socket = None;
                    return None;
                }
                RelayOutput::Event(event) => tracing::info!(call = %self.id, ?event, "browser leg"),
            }
        }
    }

    /// Adds what changed since the last fold to the station's counts.
    fn fold(&mut self) {
        let leg = self.relay.leg_counts();
        let relay = self.relay.counts();
        let link = self.link.as_ref().map(PeerLink::counts).unwrap_or(self.folded.link);
        let (l0, r0, k0) = (self.folded.leg, self.folded.relay, self.folded.link);
        self.counters.add(|c| {
            c.packets_ours += relay.ours.packets.saturating_sub(r0.ours.packets);
            c.packets_theirs += relay.theirs.packets.saturating_sub(r0.theirs.packets);
            c.dropped_browser += leg_drops(&leg).saturating_sub(leg_drops(&l0));
            c.dropped_peer_bounds += relay_drops(&relay).saturating_sub(relay_drops(&r0));
            c.dropped_peer_malformed += link.dropped_malformed.saturating_sub(k0.dropped_malformed);
            c.dropped_peer_unknown_call += link.dropped_unknown_call.saturating_sub(k0.dropped_unknown_call);
            c.dropped_peer_wrong_line += link.dropped_wrong_line.saturating_sub(k0.dropped_wrong_line);
            c.dropped_peer_wrong_speaker += link.dropped_wrong_speaker.saturating_sub(k0.dropped_wrong_speaker);
        });
        self.folded = Folded { leg, relay, link };
    }
}

fn leg_drops(c: &LegCounts) -> u64 {
    c.dropped_too_large + c.dropped_rate + c.dropped_not_selected + c.dropped_malformed + c.dropped_payload_type
}

fn relay_drops(c: &RelayCounts) -> u64 {
    c.dropped_wrong_call + c.dropped_wrong_speaker + c.dropped_rate + c.dropped_too_large
}

async fn recv_browser(
    socket: &Option<(UdpSocket, SocketAddr)>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match socket {
        Some((socket, _)) => socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

async fn recv_peer(link: &Option<PeerLink>) -> Result<MediaPacket, MediaError> {
    match link {
        Some(link) => link.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
