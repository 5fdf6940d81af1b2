//! The QUIC links between stations: the caller's station dials the callee's at the
//! primary address of its line (same port, UDP), retrying while the call lasts; the
//! callee's accepts and hands the link to the call of that peer's line, or parks it until
//! that call's media starts (the two stations learn of the answer a round trip apart).
//!
//! A link is authenticated by the line's pinned keys (`hotline_media::PeerEndpoint`); a
//! peer may hold at most one parked link (a newer one replaces it), so a peer that dials
//! again and again holds one connection here, not many.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use hotline_line::LineHandle;
use hotline_media::{PeerEndpoint, PeerLink};
use tokio::sync::mpsc;

use crate::{CallMedia, Command};

/// Between two dials of a call's link that failed (the far station not yet answered, or
/// UDP blocked): a second is a small share of a call, and few packets are lost meanwhile.
#[allow(non_upper_case_globals)]
const redial_ms: u64 = 1_000;
/// Media handshakes in progress at once; a peer dials once per call, so a handful is plenty.
#[allow(non_upper_case_globals)]
const media_handshakes_max: usize = 8;
/// A parked link not claimed by a call within this long is closed.
#[allow(non_upper_case_globals)]
const parked_link_ms_max: u64 = 10_000;

/// Links accepted before their call's media started, one per peer key.
#[derive(Default)]
pub(crate) struct Parked {
    links: Mutex<HashMap<[u8; 32], (tokio::time::Instant, PeerLink)>>,
}

impl Parked {
    /// Gives a parked link of `peer_key` to the call that has just started, if there is one.
    pub(crate) fn hand_over(&self, peer_key: &[u8; 32], commands: &mpsc::Sender<Command>) {
        let parked = self.links.lock().unwrap_or_else(PoisonError::into_inner).remove(peer_key);
        if let Some((at, link)) = parked {
            if at.elapsed() <= Duration::from_millis(parked_link_ms_max) {
                if let Err(e) = commands.try_send(Command::Link(Box::new(link))) {
                    tracing::debug!(error = %e, "parked media link not handed over");
                }
            } else {
                link.close();
            }
        }
    }

    fn park(&self, link: PeerLink) {
        let key = *link.peer().key_bytes();
        let old =
            self.links.lock().unwrap_or_else(PoisonError::into_inner).insert(key, (tokio::time::Instant::now(), link));
        if let Some((_, old)) = old {
            old.close();
        }
    }
}

/// Accepts peer stations' media links for as long as the service lives, each handshake
/// in a task of its own (one that stalls holds up no other), at most
/// `media_handshakes_max` at once; attempts beyond are refused and counted.
pub(crate) async fn accept_loop(media: Weak<CallMedia>, endpoint: Arc<PeerEndpoint>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(media_handshakes_max));
    loop {
        let incoming = match endpoint.incoming().await {
            Ok(incoming) => incoming,
            Err(e) => {
                tracing::info!(error = %e, "call media endpoint closed");
                return;
            }
        };
        if let Some(media) = media.upgrade() {
            // Too late for this attempt (its configuration is taken), not for the redial.
            media.repin_if_changed();
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            endpoint.refuse(incoming);
            continue;
        };
        let (media, endpoint) = (media.clone(), endpoint.clone());
        tokio::spawn(async move {
            if let Ok(link) = endpoint.admit(incoming).await {
                hand_to_call(&media, link);
            }
            drop(slot);
        });
    }
}

/// An accepted link goes to the live call of its peer's line, or is parked for it.
fn hand_to_call(media: &Weak<CallMedia>, link: PeerLink) {
    let Some(media) = media.upgrade() else { return };
    let key = *link.peer().key_bytes();
    tracing::debug!(peer = %link.peer().name(), "media link accepted");
    let waiting = {
        let calls = media.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.values().find(|slot| slot.peer_key == key).map(|slot| slot.commands.clone())
    };
    match waiting {
        Some(commands) => {
            if let Err(e) = commands.try_send(Command::Link(Box::new(link))) {
                tracing::debug!(error = %e, "media link not handed to its call");
            }
        }
        None => media.parked.park(link),
    }
}

/// The peer's media address: its primary line address, over UDP (a name is looked up
/// off the runtime's threads, as the line's own dials do).
async fn media_addr(line: &LineHandle) -> Option<SocketAddr> {
    let primary = line.addrs.first()?;
    tokio::net::lookup_host(primary.as_str()).await.ok()?.next()
}

/// Dials the call's peer until a link is up, then hands it to the call; again whenever
/// the call's task asks (a link lost) — the task ends the loop by dropping `commands`.
pub(crate) fn dial(endpoint: Arc<PeerEndpoint>, line: LineHandle, commands: mpsc::Sender<Command>) {
    tokio::spawn(async move {
        let mut failures = 0_u32;
        while !commands.is_closed() {
            let Some(addr) = media_addr(&line).await else {
                tracing::warn!(peer = %line.peer, "no media address for the peer (its line address does not resolve)");
                tokio::time::sleep(Duration::from_millis(redial_ms)).await;
                continue;
            };
            match endpoint.connect(&line.key, addr).await {
                Ok(link) => {
                    tracing::debug!(peer = %line.peer, %addr, "media link dialed");
                    failures = 0;
                    let connection = link.connection().clone();
                    if commands.send(Command::Link(Box::new(link))).await.is_err() {
                        connection.close(0_u32.into(), b"call over");
                        return;
                    }
                    // Dial again only once this link is gone and the call still runs.
                    tokio::select! {
                        _ = connection.closed() => {}
                        () = commands.closed() => {
                            connection.close(0_u32.into(), b"call over");
                            return;
                        }
                    }
                }
                Err(e) => {
                    failures += 1;
                    if failures == 1 || failures.is_multiple_of(30) {
                        tracing::info!(peer = %line.peer, %addr, error = %e, failures, "media link not dialed");
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(redial_ms)).await;
        }
    });
}
