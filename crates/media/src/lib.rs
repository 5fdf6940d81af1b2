//! Media for calls: the browser leg (WebRTC), the station-to-station leg (QUIC datagrams)
//! and the relay that joins them, so a station forwards Opus without ever transcoding it.
//!
//! The path of one packet: the operator's browser sends SRTP to its own station, where a
//! [`BrowserLeg`] (str0m, RTP mode, ICE-lite) decrypts it; the [`Relay`] taps it for the
//! recorder and frames it as a [`MediaPacket`]; a [`PeerLink`] sends it as a QUIC
//! datagram authenticated with the pinned station keys; the peer station's relay checks
//! the call and the speaker, taps it, and its browser leg sends it on to its console.
//!
//! **Architecture Invariant**: [`BrowserLeg`], [`Relay`], [`wire`] and [`fallback`] are
//! sans-IO: no sockets, no tokio, no clock (every `now` is an argument). Only `driver`
//! (UDP socket and timers) and `link` (quinn) do I/O.
//!
//! **Architecture Invariant**: the Opus payload is relayed byte for byte; nothing here
//! decodes or transcodes audio.

mod browser;
pub mod driver;
mod error;
pub mod fallback;
mod limits;
mod link;
mod relay;
mod routes;
mod seq;
pub mod wire;

pub use browser::{BrowserLeg, LegCounts, LegEvent, Output};
pub use error::MediaError;
pub use limits::Limits;
pub use link::{ALPN, LinkCounts, PeerEndpoint, PeerLink};
pub use relay::{FlowCounts, NoTap, Relay, RelayCounts, RelayOutput, Tap};
pub use routes::{CALLS_MAX, CallRoutes, Misroute, Route};
pub use wire::{Carrier, MediaPacket, WireError};
