//! TLS for the station-to-station line, with both ends authenticated by pinned keys.
//!
//! Two stations trust no certificate authority: each line pins the peer's Ed25519 station
//! key, the same key that signs the record. So each station presents a self-signed
//! certificate made at start-up from its station key, which serves only to carry the public
//! key through an ordinary TLS 1.3 handshake, and each end accepts the other only if the
//! certificate's key is the pinned one and the handshake signature proves possession of the
//! private half. Names, hostnames, issuers and validity dates are deliberately ignored: the
//! pin is the whole trust decision, and a clock that is off must never take the line down.
//!
//! **Architecture Invariant**: this crate builds `rustls` configurations and nothing else;
//! it knows nothing of tokio, sockets or the clock, so the station can drive the result
//! with `tokio-rustls` and the tests can drive it in memory.
//!
//! **API Boundary**: [`client_config`], [`server_config`], [`peer_key`] and [`TlsError`].

mod cert;
mod config;
mod verify;

pub use cert::peer_key;
pub use config::{client_config, server_config};

/// Why a TLS configuration could not be built from a station key.
///
/// Refusals of a peer during a handshake are not `TlsError`s: they surface as the
/// `rustls::Error` of the failed handshake and are logged where they happen.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot build the station certificate for {station}: {source}")]
    Certificate {
        station: String,
        #[source]
        source: rcgen::Error,
    },
    #[error("rustls refused the TLS configuration for station {station}: {source}")]
    Config {
        station: String,
        #[source]
        source: rustls::Error,
    },
}
