//! The auditor's side of the record: check an export file without trusting the station
//! that wrote it.
//!
//! A hotline's record is only worth something if someone who trusts neither station can
//! check it. This crate is that someone's tool, and it is the reader that
//! `docs/record-format.md` (version 1) is written for: [`parse_export`] reads the file
//! strictly (one document has exactly one text, so no byte of it can change unnoticed),
//! [`verify`] checks every key, entry, item signature, checkpoint and cosignature and names
//! the first thing that fails, [`cross_check`] holds two stations' records against each
//! other and states who started each exchange, and [`transcript`] prints the conversation
//! on a line for people; [`recordings`] lists the call recordings a record states, for
//! checking the files.
//!
//! It is pure: bytes and [`Export`] values in, values and strings out. No files, no
//! sockets, no clock; the CLI and the station do the I/O.

mod calls;
mod cross;
mod entry;
mod export;
mod item;
mod peer_keys;
mod recordings;
mod text;
mod transcript;
mod verify;

pub use cross::{CrossReport, Exchange, Flow, cross_check, exchange_opening_chars};
pub use export::{
    EXPORT_END, EXPORT_ENTRIES_END, EXPORT_FORMAT, EXPORT_VERSION, Export, Peer, export_bytes_max, export_head,
    export_string, origin_of, parse_export,
};
pub use item::{item_signed_bytes, sign_item};
pub use recordings::{Agreement, Deletion, RecordedCall, RecordingMatch, Stream};
pub use transcript::{dtg, rfc3339, transcript};
pub use verify::{PeerWitness, Summary, verify};

/// The station's own call recordings as its record states them (`call.recorded`, one per
/// call, the latest), after the export verified: what the recording files are checked
/// against.
pub fn recordings(export: &Export) -> Result<Vec<RecordedCall>, AuditError> {
    recordings::own(&verify::audit(export)?)
}

/// Why an export was refused or two exports disagree. Every variant displays as one
/// sentence that names where the problem is: the file, an entry (1-based index), a
/// checkpoint (1-based number, with its tree size when it could be read), or the two
/// records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The bytes are not an export file of this format and version, or not in its one
    /// canonical form.
    #[error("{0}")]
    Format(String),
    /// A top-level field (station, key, origin, peers) is wrong.
    #[error("{0}")]
    Header(String),
    /// Entry `index` (1-based) is wrong.
    #[error("entry {index}: {what}")]
    Entry { index: u64, what: String },
    /// Checkpoint `number` (1-based, in file order) is wrong.
    #[error("checkpoint {number}{}: {what}", size_suffix(.size))]
    Checkpoint { number: usize, size: Option<u64>, what: String },
    /// One of two exports given to [`cross_check`] failed [`verify`] on its own.
    #[error("{station}'s export: {error}")]
    Side { station: String, error: Box<AuditError> },
    /// Two records that each verify disagree with each other.
    #[error("{0}")]
    Mismatch(String),
    /// The transcript was asked for a line the record does not have.
    #[error("{0}")]
    NoSuchLine(String),
}

fn size_suffix(size: &Option<u64>) -> String {
    size.map(|s| format!(" (size {s})")).unwrap_or_default()
}

impl AuditError {
    pub(crate) fn entry(index: u64, what: impl Into<String>) -> AuditError {
        AuditError::Entry { index, what: what.into() }
    }
}
