//! The station-to-station media leg: QUIC datagrams (RFC 9221) with quinn, authenticated
//! by the same pinned Ed25519 station keys as the TLS line (`hotline_tls` configs, ALPN
//! `hotline-media/1`).
//!
//! Datagrams are unreliable on purpose: a lost audio packet is concealed by the far
//! decoder, while a retransmitted one would arrive too late to play and hold up the next
//! ones (what TCP does). Every datagram is parsed strictly (`wire`) and checked against
//! the station's [`CallRoutes`]; anything else is dropped and counted in [`LinkCounts`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hotline_identity::{StationKey, VerifierKey};

use crate::MediaError;
use crate::routes::{CallRoutes, Misroute};
use crate::wire::{Carrier, MediaPacket};

/// The ALPN both ends require: a media endpoint never speaks to a line endpoint by mistake.
pub const ALPN: &[u8] = b"hotline-media/1";
/// Keep-alives keep NAT and firewall state open between calls' packets and detect loss.
const KEEP_ALIVE_INTERVAL_MS: u64 = 2_000;
/// A connection silent this long is dead (the TLS line decides about the call).
const IDLE_TIMEOUT_MS: u32 = 10_000;
/// What an acceptor writes on its one stream once it has admitted the dialer.
const WELCOME: &[u8] = b"welcome";
/// How long a dialer waits for the welcome after its side of the handshake.
const WELCOME_WAIT_MS: u64 = 5_000;
/// The largest payload accepted from the peer (RFC 6716: one frame is at most 1275 bytes).
const PAYLOAD_BYTES_MAX: usize = 1275;

/// What one link passed and dropped, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounts {
    pub sent: u64,
    pub received: u64,
    /// Not a well-formed datagram (length, kind, call id, speaker, payload bounds).
    pub dropped_malformed: u64,
    pub dropped_unknown_call: u64,
    /// For a call of another line: the connection's key is not the call's peer key.
    pub dropped_wrong_line: u64,
    /// Carrying our own side as speaker.
    pub dropped_wrong_speaker: u64,
    /// Ours, refused by quinn (too large for the path, or datagrams not negotiated).
    pub send_failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    dropped_malformed: AtomicU64,
    dropped_unknown_call: AtomicU64,
    dropped_wrong_line: AtomicU64,
    dropped_wrong_speaker: AtomicU64,
    send_failed: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A station's QUIC endpoint for media: accepts the configured peers and dials them.
pub struct PeerEndpoint {
    endpoint: quinn::Endpoint,
    /// The pinned peers and one client configuration per peer, each pinning that peer's
    /// key (built at bind time and by `repin`, so the endpoint holds no copy of the
    /// station key).
    pins: Mutex<Pins>,
    routes: CallRoutes,
    refused_handshakes: AtomicU64,
}

struct Pins {
    peers: Vec<VerifierKey>,
    dial: Vec<(VerifierKey, quinn::ClientConfig)>,
}

/// The server configuration and the per-peer client configurations pinning `peers`.
fn configs(own: &StationKey, peers: &[VerifierKey]) -> Result<(quinn::ServerConfig, Pins), MediaError> {
    let failed = |e: &dyn std::fmt::Display| MediaError::Endpoint(e.to_string());
    let mut tls = (*hotline_tls::server_config(own, peers.to_vec()).map_err(|e| failed(&e))?).clone();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls).map_err(|e| failed(&e))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    server.transport_config(transport());
    let mut dial = Vec::with_capacity(peers.len());
    for peer in peers {
        let mut tls = (*hotline_tls::client_config(own, peer).map_err(|e| failed(&e))?).clone();
        tls.alpn_protocols = vec![ALPN.to_vec()];
        let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls).map_err(|e| failed(&e))?;
        let mut client = quinn::ClientConfig::new(Arc::new(crypto));
        client.transport_config(transport());
        dial.push((peer.clone(), client));
    }
    Ok((server, Pins { peers: peers.to_vec(), dial }))
}

impl PeerEndpoint {
    /// Binds a UDP socket on `addr` that accepts exactly the stations in `peers`.
    /// Must be called inside a tokio runtime.
    pub fn bind(
        own: &StationKey,
        peers: Vec<VerifierKey>,
        addr: std::net::SocketAddr,
        routes: CallRoutes,
    ) -> Result<PeerEndpoint, MediaError> {
        let (server, pins) = configs(own, &peers)?;
        let endpoint = quinn::Endpoint::server(server, addr)?;
        Ok(PeerEndpoint { endpoint, pins: Mutex::new(pins), routes, refused_handshakes: AtomicU64::new(0) })
    }

    /// Pins exactly `peers` from now on (the station's lines changed while it serves):
    /// handshakes that start later are admitted, and dials made, by the new set.
    pub fn repin(&self, own: &StationKey, peers: Vec<VerifierKey>) -> Result<(), MediaError> {
        let (server, pins) = configs(own, &peers)?;
        self.endpoint.set_server_config(Some(server));
        *self.pins.lock().unwrap_or_else(PoisonError::into_inner) = pins;
        Ok(())
    }

    /// Dials `peer` (one of the configured peers) at `addr`; the handshake fails unless
    /// the server there holds `peer`'s key and pins ours.
    pub async fn connect(&self, peer: &VerifierKey, addr: std::net::SocketAddr) -> Result<PeerLink, MediaError> {
        let failed = |e: &dyn std::fmt::Display| MediaError::Endpoint(e.to_string());
        let client = {
            let pins = self.pins.lock().unwrap_or_else(PoisonError::into_inner);
            pins.dial.iter().find(|(known, _)| known == peer).map(|(_, client)| client.clone())
        };
        let Some(client) = client else {
            return Err(MediaError::Endpoint(format!("{} is not a configured peer", peer.name())));
        };
        // The name is ignored by the pinned verifier; station names are valid DNS labels.
        let connecting = self.endpoint.connect_with(client, addr, peer.name()).map_err(|e| failed(&e))?;
        let connection = connecting.await.map_err(|e| MediaError::Handshake(e.to_string()))?;
        // In TLS 1.3 the client finishes before the server has checked the client's
        // certificate, so a refused dialer would believe it is in. The acceptor's one
        // welcome byte on a stream of its own (reliable) says that it admitted us.
        let welcome = async {
            let mut stream = connection.accept_uni().await.map_err(|e| e.to_string())?;
            stream.read_to_end(WELCOME.len()).await.map_err(|e| e.to_string())
        };
        match tokio::time::timeout(Duration::from_millis(WELCOME_WAIT_MS), welcome).await {
            Ok(Ok(bytes)) if bytes == WELCOME => Ok(PeerLink::new(connection, peer.clone(), self.routes.clone())),
            Ok(Ok(_)) => Err(MediaError::Handshake("the peer sent no welcome".into())),
            Ok(Err(e)) => Err(MediaError::Handshake(e)),
            Err(_) => Err(MediaError::Handshake("no welcome from the peer in time".into())),
        }
    }

    /// The next peer that completes a handshake; failed and refused handshakes (keys
    /// that are not pinned) are counted and skipped. One handshake at a time: a station
    /// serving more than a test should take `incoming` and `admit` them side by side, so
    /// one stalled handshake does not hold up the next.
    pub async fn accept(&self) -> Result<PeerLink, MediaError> {
        loop {
            let incoming = self.incoming().await?;
            if let Ok(link) = self.admit(incoming).await {
                return Ok(link);
            }
        }
    }

    /// The next connection attempt, not yet handshaken; hand it to [`PeerEndpoint::admit`]
    /// (or drop it to refuse it). Fails once the endpoint is closed.
    pub async fn incoming(&self) -> Result<quinn::Incoming, MediaError> {
        self.endpoint.accept().await.ok_or_else(|| MediaError::LinkClosed("endpoint closed".into()))
    }

    /// Completes one attempt's handshake: a link to a pinned peer, or an error (counted
    /// in `refused_handshakes`).
    pub async fn admit(&self, incoming: quinn::Incoming) -> Result<PeerLink, MediaError> {
        let connection = match incoming.await {
            Ok(connection) => connection,
            Err(e) => {
                bump(&self.refused_handshakes);
                tracing::info!(error = %e, "media handshake refused");
                return Err(MediaError::Handshake(e.to_string()));
            }
        };
        match self.peer_of(&connection) {
            Some(peer) => {
                if let Err(e) = welcome(&connection).await {
                    bump(&self.refused_handshakes);
                    tracing::info!(error = %e, "media peer left before its welcome");
                    return Err(MediaError::Handshake(e));
                }
                Ok(PeerLink::new(connection, peer, self.routes.clone()))
            }
            None => {
                // The verifier admits only pinned keys, so this is a bug, not a peer.
                bump(&self.refused_handshakes);
                connection.close(1_u32.into(), b"unknown peer");
                Err(MediaError::Handshake("not a pinned peer".into()))
            }
        }
    }

    /// Counts an attempt refused before its handshake (too many at once).
    pub fn refuse(&self, incoming: quinn::Incoming) {
        bump(&self.refused_handshakes);
        incoming.refuse();
    }

    /// Which configured peer the connection's certificate carries. The verifier checked
    /// that it carries one of them and that the peer holds its private half; the DER
    /// SubjectPublicKeyInfo of an Ed25519 key is a fixed prefix and the 32 key bytes.
    fn peer_of(&self, connection: &quinn::Connection) -> Option<VerifierKey> {
        const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
        let identity = connection.peer_identity()?;
        let chain = identity.downcast_ref::<Vec<rustls::pki_types::CertificateDer<'static>>>()?;
        let certificate = chain.first()?.as_ref();
        let pins = self.pins.lock().unwrap_or_else(PoisonError::into_inner);
        pins.peers
            .iter()
            .find(|peer| {
                let mut spki = ED25519_SPKI_PREFIX.to_vec();
                spki.extend_from_slice(peer.key_bytes());
                certificate.windows(spki.len()).any(|window| window == spki.as_slice())
            })
            .cloned()
    }

    pub fn local_addr(&self) -> Result<std::net::SocketAddr, MediaError> {
        Ok(self.endpoint.local_addr()?)
    }

    /// Handshakes that failed or were refused so far.
    pub fn refused_handshakes(&self) -> u64 {
        self.refused_handshakes.load(Ordering::Relaxed)
    }

    pub fn routes(&self) -> &CallRoutes {
        &self.routes
    }

    pub fn close(&self) {
        self.endpoint.close(0_u32.into(), b"station stopping");
    }
}

/// Tells an admitted dialer so, on the one stream the connection allows.
async fn welcome(connection: &quinn::Connection) -> Result<(), String> {
    let mut stream = connection.open_uni().await.map_err(|e| e.to_string())?;
    stream.write_all(WELCOME).await.map_err(|e| e.to_string())?;
    stream.finish().map_err(|e| e.to_string())
}

fn transport() -> Arc<quinn::TransportConfig> {
    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(Duration::from_millis(KEEP_ALIVE_INTERVAL_MS)));
    transport.max_idle_timeout(Some(quinn::VarInt::from_u32(IDLE_TIMEOUT_MS).into()));
    // Media needs no streams but the welcome; the line carries control.
    transport.max_concurrent_bidi_streams(0_u32.into());
    transport.max_concurrent_uni_streams(1_u32.into());
    Arc::new(transport)
}

/// One authenticated QUIC connection to a peer station, carrying the media of the calls
/// on that station's line. Cheap to clone; clones share the connection and the counts.
#[derive(Clone)]
pub struct PeerLink {
    connection: quinn::Connection,
    peer: VerifierKey,
    routes: CallRoutes,
    counters: Arc<Counters>,
}

impl PeerLink {
    fn new(connection: quinn::Connection, peer: VerifierKey, routes: CallRoutes) -> PeerLink {
        PeerLink { connection, peer, routes, counters: Arc::default() }
    }

    /// Sends one packet as a datagram, now or never (nothing is queued or retransmitted).
    pub fn send(&self, packet: &MediaPacket) {
        match self.connection.send_datagram(packet.encode(Carrier::Datagram).into()) {
            Ok(()) => bump(&self.counters.sent),
            Err(e) => {
                bump(&self.counters.send_failed);
                tracing::debug!(error = %e, "media datagram not sent");
            }
        }
    }

    /// The next well-formed packet for a call routed to this link's peer; everything
    /// else is dropped and counted. Fails only when the connection is closed.
    pub async fn recv(&self) -> Result<MediaPacket, MediaError> {
        loop {
            let bytes = self.connection.read_datagram().await.map_err(|e| MediaError::LinkClosed(e.to_string()))?;
            let Ok(packet) = MediaPacket::parse(&bytes, Carrier::Datagram, PAYLOAD_BYTES_MAX) else {
                bump(&self.counters.dropped_malformed);
                continue;
            };
            match self.routes.check(&packet.call, packet.speaker, self.peer.key_bytes()) {
                Ok(()) => {
                    bump(&self.counters.received);
                    return Ok(packet);
                }
                Err(Misroute::UnknownCall) => bump(&self.counters.dropped_unknown_call),
                Err(Misroute::WrongLine) => bump(&self.counters.dropped_wrong_line),
                Err(Misroute::WrongSpeaker) => bump(&self.counters.dropped_wrong_speaker),
            }
        }
    }

    /// The peer station, as pinned.
    pub fn peer(&self) -> &VerifierKey {
        &self.peer
    }

    /// The QUIC connection, for its statistics (RTT, loss) and for tests.
    pub fn connection(&self) -> &quinn::Connection {
        &self.connection
    }

    pub fn counts(&self) -> LinkCounts {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let c = &self.counters;
        LinkCounts {
            sent: load(&c.sent),
            received: load(&c.received),
            dropped_malformed: load(&c.dropped_malformed),
            dropped_unknown_call: load(&c.dropped_unknown_call),
            dropped_wrong_line: load(&c.dropped_wrong_line),
            dropped_wrong_speaker: load(&c.dropped_wrong_speaker),
            send_failed: load(&c.send_failed),
        }
    }

    pub fn close(&self) {
        self.connection.close(0_u32.into(), b"call media closed");
    }
}
