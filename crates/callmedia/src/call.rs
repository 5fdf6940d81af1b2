//! One call's media at this station, as a tokio task: the browser leg's UDP socket (once
//! the console has sent its offer), the QUIC link to the peer (once dialed or accepted),
//! the `Relay` between them, and the relay's timer. Every decision is the relay's; this
//! task moves bytes, following str0m's rule: after every input, drain every output.
//!
//! Either half may come and go while the call lasts: a console that reloads sends a new
//! offer (its leg replaces the old one; the recorder's tap stays the same), a link that is
//! lost is dialed again by the caller's station. Audio with no other half to go to is
//! dropped and counted, never queued: late audio is worse than a gap.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hotline_call::{CallId, Side};
use hotline_media::{
    BrowserLeg, LegCounts, LegEvent, LinkCounts, MediaError, MediaPacket, PeerLink, Relay, RelayCounts, RelayOutput,
    Tap,
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
    /// Theirs while our console had no leg yet.
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
    tap: SharedTap,
    counters: Arc<Counters>,
    relay: Option<Relay<SharedTap>>,
    socket: Option<(UdpSocket, SocketAddr)>,
    link: Option<PeerLink>,
    folded: Folded,
}

impl CallTask {
    pub(crate) fn new(
        id: CallId,
        our_side: Side,
        setup: MediaSetup,
        tap: Box<dyn Tap + Send>,
        counters: Arc<Counters>,
    ) -> CallTask {
        counters.add(|c| c.calls += 1);
        CallTask {
            id,
            our_side,
            setup,
            tap: SharedTap(Arc::new(Mutex::new(tap))),
            counters,
            relay: None,
            socket: None,
            link: None,
            folded: Folded::default(),
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
                        if let (Some(relay), Some((_, local))) = (self.relay.as_mut(), &self.socket) {
                            relay.handle_datagram(Instant::now(), from, *local, buf.get(..n).unwrap_or_default());
                        }
                    }
                    // ICMP port unreachable from a closed browser socket surfaces here.
                    Err(e) => tracing::debug!(call = %self.id, error = %e, "browser socket"),
                },
                packet = recv_peer(&self.link) => match packet {
                    Ok(packet) => self.on_peer_packet(&packet),
                    Err(e) => {
                        tracing::info!(call = %self.id, error = %e, "media link to the peer lost");
                        self.fold();
                        self.folded.link = LinkCounts::default();
                        self.link = None;
                    }
                },
                () = sleep_until(timeout) => {
                    if let Some(relay) = self.relay.as_mut() {
                        relay.handle_timeout(Instant::now());
                    }
                }
                _ = fold.tick() => self.fold(),
            }
        }
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

    fn on_peer_packet(&mut self, packet: &MediaPacket) {
        match self.relay.as_mut() {
            Some(relay) => relay.handle_peer(Instant::now(), packet),
            None => {
                self.counters.dropped_no_browser.fetch_add(1, Ordering::Relaxed);
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
        self.folded.relay = RelayCounts::default();
        self.relay = Some(Relay::new(self.id, self.our_side, leg, self.tap.clone(), self.setup.limits, now));
        self.socket = Some((socket, local));
        self.counters.add(|c| c.offers_answered += 1);
        tracing::info!(call = %self.id, %local, "browser leg answered");
        Ok(answer)
    }

    /// Carries out the relay's outputs until it asks for a timeout (`None`: no relay, or
    /// its browser leg closed and is gone).
    async fn drain(&mut self) -> Option<Instant> {
        loop {
            let output = self.relay.as_mut()?.poll_output();
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
                RelayOutput::Event(LegEvent::Closed(why)) => {
                    tracing::info!(call = %self.id, why, "browser leg closed");
                    self.fold();
                    self.relay = None;
                    self.socket = None;
                    return None;
                }
                RelayOutput::Event(event) => tracing::info!(call = %self.id, ?event, "browser leg"),
            }
        }
    }

    /// Adds what changed since the last fold to the station's counts.
    fn fold(&mut self) {
        let leg = self.relay.as_ref().map(|r| r.leg().counts()).unwrap_or(self.folded.leg);
        let relay = self.relay.as_ref().map(Relay::counts).unwrap_or(self.folded.relay);
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
