//! Why the console's media signalling is refused, as a closed set the API maps to its
//! stable codes (`hotline-http` knows the statuses; this crate does not).

/// A refused `offer` (nothing changed).
#[derive(Debug, thiserror::Error)]
pub enum CallMediaError {
    /// The SDP cannot be answered; the reason is short and safe to show.
    #[error("bad SDP offer: {0}")]
    BadOffer(String),
    #[error("no such call")]
    UnknownCall,
    /// The call is not answered (still ringing, or over), or its media is not running.
    #[error("the call is not connected")]
    NotConnected,
    /// Another operator here holds the call (started or answered it).
    #[error("the call is held by another operator")]
    NotYours,
    /// The station has no media endpoint (its UDP port could not be bound).
    #[error("call media is unavailable at this station")]
    Unavailable,
    #[error("{0}")]
    Internal(String),
}
