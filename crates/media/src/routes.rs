//! Which call runs on which line: the table a station's media links consult for every
//! datagram, so audio for a call is accepted only from the connection of that call's line.
//!
//! A peer station is an adversary for media as for everything else: it may send datagrams
//! for a call of another line (a call id it learned or guessed), or reflect our own
//! operator's audio back at us. The table names, per call, the Ed25519 key of the line's
//! peer and the side we are on; a datagram must match both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use hotline_call::{CallId, Side};
use hotline_identity::VerifierKey;

/// Calls with media at once, over all lines of a station: a call needs one line, and a
/// line carries one call at a time, so this is a bound on lines with some slack.
pub const CALLS_MAX: usize = 1024;

/// The route of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The key of the peer station on the call's line.
    pub peer_key: [u8; 32],
    /// Our end of the call; the peer's packets carry the other side as speaker.
    pub our_side: Side,
}

/// Why a parsed datagram does not belong on the connection it came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misroute {
    UnknownCall,
    /// The call runs on another line (a different peer key).
    WrongLine,
    /// The speaker is our own side: our audio reflected back, or a forgery.
    WrongSpeaker,
}

/// The station's table of call routes, shared by all its links (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct CallRoutes {
    routes: Arc<Mutex<HashMap<CallId, Route>>>,
}

impl CallRoutes {
    pub fn new() -> CallRoutes {
        CallRoutes::default()
    }

    /// Lets media for `call` in from the line to `peer`; `false` when the table is full
    /// (the call then has no media, and the station should fail it).
    pub fn open(&self, call: CallId, peer: &VerifierKey, our_side: Side) -> bool {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if routes.len() >= CALLS_MAX && !routes.contains_key(&call) {
            return false;
        }
        routes.insert(call, Route { peer_key: *peer.key_bytes(), our_side });
        true
    }

    /// Stops media for `call`; later datagrams for it count as an unknown call.
    pub fn close(&self, call: CallId) {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner).remove(&call);
    }

    /// Checks a datagram for `call`, spoken by `speaker`, that came from `peer_key`.
    pub fn check(&self, call: &CallId, speaker: Side, peer_key: &[u8; 32]) -> Result<(), Misroute> {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let route = routes.get(call).ok_or(Misroute::UnknownCall)?;
        if &route.peer_key != peer_key {
            return Err(Misroute::WrongLine);
        }
        if route.our_side == speaker {
            return Err(Misroute::WrongSpeaker);
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use hotline_identity::StationKey;

    use super::*;

    fn call(byte: u8) -> CallId {
        let mut id = [byte; 16];
        id[6] = 0x70;
        id[8] = 0x80;
        CallId::from_bytes(id).expect("a UUIDv7")
    }

    #[test]
    fn a_datagram_must_match_the_line_and_the_far_side() {
        let bravo = StationKey::generate("bravo").expect("key").verifier();
        let charlie = StationKey::generate("charlie").expect("key").verifier();
        let routes = CallRoutes::new();
        assert!(routes.open(call(1), &bravo, Side::Caller));
        assert_eq!(routes.check(&call(1), Side::Callee, bravo.key_bytes()), Ok(()));
        assert_eq!(routes.check(&call(1), Side::Callee, charlie.key_bytes()), Err(Misroute::WrongLine));
        assert_eq!(routes.check(&call(1), Side::Caller, bravo.key_bytes()), Err(Misroute::WrongSpeaker));
        assert_eq!(routes.check(&call(2), Side::Callee, bravo.key_bytes()), Err(Misroute::UnknownCall));
        routes.close(call(1));
        assert_eq!(routes.check(&call(1), Side::Callee, bravo.key_bytes()), Err(Misroute::UnknownCall));
        assert!(routes.is_empty());
    }
}
