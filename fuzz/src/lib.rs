//! What the fuzz targets and the seed generator share: fixed keys and the local end of
//! the line that the handshake target attacks, so that the committed seeds and the
//! targets agree on names, keys and lane positions.
//!
//! Everything here is deterministic: a crash found by one run replays exactly in another.

pub mod handshake;
pub mod item;

use hotline_identity::StationKey;

/// Name of the station whose end of the line, and whose record, the targets own.
pub const LOCAL: &str = "alpha";
/// Name of the peer station whose bytes and records the fuzzer impersonates.
pub const PEER: &str = "bravo";

/// Alpha's key: the same seed the audit crate's test fixture uses, so that the committed
/// exports written from that fixture can be re-signed by the export target.
pub fn alpha_key() -> StationKey {
    StationKey::from_seed(LOCAL, &[1; 32]).expect("a fixed, valid seed")
}

/// Bravo's key (the audit fixture's seed for bravo).
pub fn bravo_key() -> StationKey {
    StationKey::from_seed(PEER, &[2; 32]).expect("a fixed, valid seed")
}
