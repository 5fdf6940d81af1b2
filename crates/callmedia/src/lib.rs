//! The station's call media: one service per station that runs, for every call its line
//! tasks connect, the browser leg to its own console and the QUIC link to the far station,
//! relaying Opus byte for byte between them (`hotline_media`'s `Relay`).
//!
//! It follows the record rather than the line tasks: a `call.*` entry whose call is
//! `answered` starts a call's media, one whose call is over stops it (`follow`). Entries
//! are published only after their transaction commits, so media never runs for a call the
//! record does not show connected, and the line crate needs no media code. The console
//! signals over the API (`POST /api/v1/calls/{id}/media`, an SDP offer in, the answer
//! back), which reaches [`CallMedia::offer`].
//!
//! Which station dials: the caller's, at the peer's primary line address over UDP (the
//! media endpoint listens on the line's own port, over UDP, unless `[media] peer_udp`
//! says otherwise). The callee's endpoint parks an accepted link until its call starts.
//!
//! **Architecture Invariant:** every packet from a browser or a peer passes the checks of
//! `hotline_media` (the call's route, the pinned key, sizes and rates); what fails is
//! dropped and counted ([`MediaCounts`], shown in `/metrics`), never an error that ends a
//! call. The recorder plugs in through [`TapFactory`] (the default records nothing).

mod call;
mod error;
mod follow;
mod peers;
mod recorder;
mod recordings;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use hotline_call::{CallId, Side};
use hotline_core::core::Core;
use hotline_identity::StationKey;
use hotline_line::{LineHandle, Lines};
use hotline_media::{CallRoutes, Limits, NoTap, PeerEndpoint, Tap};
use tokio::sync::{mpsc, oneshot};

pub use crate::call::Counters as MediaCounters;
pub use crate::error::CallMediaError;
pub use crate::recorder::RecorderTaps;
pub use crate::recordings::sealed_path;

/// Calls with media at once at one station: one per line, bounded like the routes.
#[allow(non_upper_case_globals)]
pub const media_calls_max: usize = hotline_media::CALLS_MAX;
/// Commands queued for one call's task (offers, links, stop); more wait their turn.
#[allow(non_upper_case_globals)]
const call_commands_max: usize = 8;

/// Makes the recorder's tap for each call whose media starts here. The default,
/// [`NoTapFactory`], records nothing; the recorder supplies its own.
pub trait TapFactory: Send + Sync + 'static {
    fn tap(&self, call: CallId, peer: &str, our_side: Side) -> Box<dyn Tap + Send>;
}

/// Records nothing: the media path without a recorder.
pub struct NoTapFactory;

impl TapFactory for NoTapFactory {
    fn tap(&self, _: CallId, _: &str, _: Side) -> Box<dyn Tap + Send> {
        Box::new(NoTap)
    }
}

/// Where the service listens and what it bounds.
#[derive(Clone, Debug)]
pub struct MediaSetup {
    /// The browser legs' UDP address (`[media] browser_udp`).
    pub browser_udp: SocketAddr,
    /// The QUIC endpoint's UDP address for peer stations.
    pub peer_udp: SocketAddr,
    pub limits: Limits,
}

/// What one call's task is told.
pub(crate) enum Command {
    /// The console's SDP offer; the answer (or why not) goes back.
    Offer { sdp: String, reply: oneshot::Sender<Result<String, CallMediaError>> },
    /// A QUIC link to the call's peer, dialed or accepted.
    Link(Box<hotline_media::PeerLink>),
}

/// A call whose media runs here.
pub(crate) struct Slot {
    pub(crate) peer: String,
    pub(crate) peer_key: [u8; 32],
    pub(crate) commands: mpsc::Sender<Command>,
    /// Dropped (or sent) to stop the call's task.
    pub(crate) stop: Option<oneshot::Sender<()>>,
}

/// The station's call media service (cheap to share behind an `Arc`).
pub struct CallMedia {
    pub(crate) core: Arc<Core>,
    pub(crate) lines: Lines,
    pub(crate) setup: MediaSetup,
    pub(crate) endpoint: Option<Arc<PeerEndpoint>>,
    pub(crate) routes: CallRoutes,
    pub(crate) calls: Mutex<HashMap<CallId, Slot>>,
    pub(crate) taps: Box<dyn TapFactory>,
    pub(crate) counters: Arc<MediaCounters>,
    pub(crate) parked: peers::Parked,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// For pinning the peers again when the lines change while the station serves.
    own_key: Arc<StationKey>,
    /// The lines the endpoint pins now (compared by pointer with the registry's).
    pinned: Mutex<Arc<BTreeMap<String, LineHandle>>>,
}

impl CallMedia {
    /// Starts the service: binds the QUIC endpoint for the station's peers and follows the
    /// record. Without an endpoint (the UDP port is taken) the station still serves and
    /// every offer is refused as unavailable, with the reason logged once here.
    pub fn start(
        core: Arc<Core>,
        lines: Lines,
        own_key: Arc<StationKey>,
        setup: MediaSetup,
        taps: Box<dyn TapFactory>,
    ) -> Arc<CallMedia> {
        let routes = CallRoutes::new();
        let pinned = lines.snapshot();
        let peers = pinned.values().map(|line| line.key.clone()).collect();
        let endpoint = match PeerEndpoint::bind(&own_key, peers, setup.peer_udp, routes.clone()) {
            Ok(endpoint) => Some(Arc::new(endpoint)),
            Err(e) => {
                tracing::error!(addr = %setup.peer_udp, error = %e, "no call media: the QUIC media endpoint cannot listen");
                None
            }
        };
        if let Some(endpoint) = &endpoint {
            tracing::info!(addr = ?endpoint.local_addr().ok(), "call media endpoint listening (QUIC over UDP)");
        }
        let media = Arc::new(CallMedia {
            core,
            lines,
            setup,
            endpoint,
            routes,
            calls: Mutex::new(HashMap::new()),
            taps,
            counters: Arc::default(),
            parked: peers::Parked::default(),
            tasks: Mutex::new(Vec::new()),
            own_key,
            pinned: Mutex::new(pinned),
        });
        let mut tasks = vec![tokio::spawn(follow::follow(Arc::downgrade(&media), media.core.entries.subscribe()))];
        if let Some(endpoint) = media.endpoint.clone() {
            tasks.push(tokio::spawn(peers::accept_loop(Arc::downgrade(&media), endpoint)));
        }
        *media.tasks.lock().unwrap_or_else(PoisonError::into_inner) = tasks;
        media
    }

    /// The console's SDP offer for call `id`, from `operator` (logged in here): the
    /// answer SDP. Refused unless the call is connected here and `operator` holds it (the
    /// one who started or answered it at this station); a bad offer changes nothing.
    pub async fn offer(&self, id: CallId, sdp: String, operator: &str) -> Result<String, CallMediaError> {
        if sdp.len() > self.setup.limits.sdp_bytes_max {
            return Err(CallMediaError::BadOffer(format!("longer than {} bytes", self.setup.limits.sdp_bytes_max)));
        }
        self.check_holder(id, operator).await?;
        let commands = {
            let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
            calls.get(&id).map(|slot| slot.commands.clone())
        };
        let commands = commands.ok_or(CallMediaError::NotConnected)?;
        let (reply, answer) = oneshot::channel();
        commands.send(Command::Offer { sdp, reply }).await.map_err(|_| CallMediaError::NotConnected)?;
        answer.await.map_err(|_| CallMediaError::NotConnected)?
    }

    /// The call must be answered and held by `operator` here; starts its media from the
    /// store if the record's entry has not reached `follow` yet (the console may have
    /// seen it first).
    async fn check_holder(&self, id: CallId, operator: &str) -> Result<(), CallMediaError> {
        let wanted = id.to_string();
        let row =
            self.core.read(move |tx| tx.call(&wanted)).await.map_err(|e| CallMediaError::Internal(e.to_string()))?;
        let row = row.ok_or(CallMediaError::UnknownCall)?;
        let call: hotline_call::Call =
            serde_json::from_str(&row.call).map_err(|e| CallMediaError::Internal(format!("stored call: {e}")))?;
        if call.state() != hotline_call::CallState::Answered {
            return Err(CallMediaError::NotConnected);
        }
        let holder = match call.direction {
            hotline_call::Direction::Out => Some(call.started_by.as_str()),
            hotline_call::Direction::In => call.answered_by.as_ref().map(hotline_call::Operator::as_str),
        };
        if holder != Some(operator) {
            return Err(CallMediaError::NotYours);
        }
        self.start_call(id, &row.peer, call.direction);
        Ok(())
    }

    /// Pins the peers of the lines as they are now, if they changed since the endpoint
    /// last pinned them (a line added, changed or removed while serving).
    pub(crate) fn repin_if_changed(&self) {
        let Some(endpoint) = &self.endpoint else { return };
        let now = self.lines.snapshot();
        let mut pinned = self.pinned.lock().unwrap_or_else(PoisonError::into_inner);
        if Arc::ptr_eq(&pinned, &now) {
            return;
        }
        let peers = now.values().map(|line| line.key.clone()).collect();
        match endpoint.repin(&self.own_key, peers) {
            Ok(()) => {
                tracing::info!(lines = now.len(), "call media endpoint pins the lines' peers anew");
                *pinned = now;
            }
            Err(e) => tracing::error!(error = %e, "call media endpoint could not pin the changed lines"),
        }
    }

    /// Starts call `id`'s media with `peer` (idempotent). Without a QUIC endpoint or a
    /// route (the table is full) the call has no media; it is logged, and the call goes on.
    pub(crate) fn start_call(&self, id: CallId, peer: &str, direction: hotline_call::Direction) {
        self.repin_if_changed();
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls.contains_key(&id) {
            return;
        }
        let Some(line) = self.lines.get(peer) else {
            tracing::warn!(call = %id, peer, "call media not started: no such line");
            return;
        };
        let our_side = match direction {
            hotline_call::Direction::Out => Side::Caller,
            hotline_call::Direction::In => Side::Callee,
        };
        if calls.len() >= media_calls_max || !self.routes.open(id, &line.key, our_side) {
            tracing::error!(call = %id, peer, "call media not started: too many calls with media");
            return;
        }
        let (commands, command_rx) = mpsc::channel(call_commands_max);
        let (stop, stop_rx) = oneshot::channel();
        let peer_key = *line.key.key_bytes();
        calls.insert(id, Slot { peer: peer.to_owned(), peer_key, commands: commands.clone(), stop: Some(stop) });
        drop(calls);
        let tap = self.taps.tap(id, peer, our_side);
        let task =
            call::CallTask::new(id, our_side, self.setup.clone(), tap, self.counters.clone(), self.routes.clone());
        tokio::spawn(task.run(command_rx, stop_rx));
        if let Some(endpoint) = &self.endpoint {
            match our_side {
                Side::Caller => peers::dial(endpoint.clone(), line, commands),
                Side::Callee => self.parked.hand_over(&peer_key, &commands),
            }
        }
        tracing::info!(call = %id, peer, side = ?our_side, "call media started");
    }

    /// Stops call `id`'s media (idempotent): its task winds down and ends, and closes the
    /// call's route as it goes (see `call`: the peer's last packets are still taken).
    pub(crate) fn stop_call(&self, id: CallId) {
        let slot = self.calls.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        if let Some(mut slot) = slot {
            if let Some(stop) = slot.stop.take() {
                let _ = stop.send(());
            }
            tracing::info!(call = %id, peer = %slot.peer, "call media stopped");
        }
    }

    /// Calls whose media runs now.
    pub fn active_calls(&self) -> usize {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// The QUIC endpoint's address, if it listens.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.endpoint.as_ref().and_then(|e| e.local_addr().ok())
    }

    /// Everything dropped and passed so far, for `/metrics`.
    pub fn counts(&self) -> call::Counts {
        let mut counts = self.counters.load();
        if let Some(endpoint) = &self.endpoint {
            counts.refused_handshakes = endpoint.refused_handshakes();
        }
        counts
    }

    /// Ends every call's media and closes the endpoint (the station is stopping).
    pub fn stop(&self) {
        let ids: Vec<CallId> = self.calls.lock().unwrap_or_else(PoisonError::into_inner).keys().copied().collect();
        for id in ids {
            self.stop_call(id);
        }
        for task in self.tasks.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            task.abort();
        }
        if let Some(endpoint) = &self.endpoint {
            endpoint.close();
        }
    }
}

pub use crate::call::Counts;
