//! The one error type of the crate, so the station can map every failure to a clear
//! 4xx (a bad offer) or a logged line fault (a refused handshake) without string matching.
//!
//! Packets that are refused are not errors: a relay that meets a bad packet drops it and
//! counts it (see `counts`), because a peer or a browser sending garbage must never end a
//! call or reach the caller as an `Err`.

/// Why a media leg could not be set up or used.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The browser's SDP offer cannot be answered; the reason is short and safe to show.
    #[error("bad SDP offer: {0}")]
    BadOffer(String),
    /// str0m refused an operation on an established leg.
    #[error("WebRTC failure: {0}")]
    Rtc(String),
    /// The QUIC endpoint or its TLS configuration could not be built.
    #[error("cannot set up the station-to-station media endpoint: {0}")]
    Endpoint(String),
    /// The QUIC handshake with a peer station failed or was refused (unpinned key).
    #[error("media handshake with the peer station failed: {0}")]
    Handshake(String),
    /// The QUIC connection to the peer station is closed.
    #[error("media connection to the peer station is closed: {0}")]
    LinkClosed(String),
    /// A socket operation failed.
    #[error("media socket: {0}")]
    Io(#[from] std::io::Error),
}
