//! The hotline line protocol, as a state machine with no I/O.
//!
//! A [`Line`] is one station's end of the supervised link to one peer. It owns everything
//! that makes delivery exactly-once and in order — lanes, sequence numbers, receipts,
//! resumption after a reconnect, heartbeats and the up/down verdict — and nothing that
//! touches the world: no sockets, no clock, no disk, no async runtime. Time and received
//! bytes go in as arguments; bytes to send, the next timer and [`Event`]s come out. The
//! station (`hotline-station`) moves those between a TLS socket, a timer and the store;
//! the simulation in `tests/it/sim.rs` moves them through a seeded, lossy, crashing network.
//!
//! Beside it, the line's two policies that need a clock but no socket: [`Attachment`]
//! (which connection the line runs on, dialing, backoff, probing the primary) and
//! [`Deferral`] (which events may wait for the next commit).
//!
//! This shape (after `quinn-proto` and `str0m`) is what lets thousands of link failures be
//! tested in seconds and a failing seed be replayed exactly. The crate's `clippy.toml`
//! forbids reading the clock, and the tidy test (`crates/cli/tests/it/tidy.rs`) checks
//! that this crate never depends on tokio.

mod attachment;
mod deferral;
mod frame;
mod lane;
mod line;

pub use attachment::{Attachment, AttachmentConfig, ConnectionId, Offer, Origin, Start};
pub use deferral::Deferral;
pub use frame::{
    Frame, FrameDecoder, FrameError, frame_bytes_max, frame_header_bytes, payload_bytes_max, protocol_version,
};
pub use lane::{LANES, Lane};
pub use line::{Event, Line, LineConfig, LineError, LineState, Restored, preferred_dialer};
