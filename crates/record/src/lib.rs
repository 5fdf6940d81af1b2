//! The record: a station's signed, append-only log and the peer's witness of it.
//!
//! A hotline is worth most when neither side can later deny or rewrite what was said.
//! This crate holds the pieces that make that checkable by anyone, in the formats
//! Certificate Transparency and the C2SP transparency-log specs use, so that standard
//! tools can check them too: the RFC 9162 Merkle tree and its proofs ([`merkle`]), C2SP
//! signed notes ([`note`]), checkpoints ([`checkpoint`]), cosignatures ([`cosignature`])
//! and the witness that decides when to cosign ([`witness`]).
//!
//! It is pure: no I/O, no async runtime and no clock. Every timestamp is an argument, and
//! storing entries, checkpoints and witness state is the station's job.

pub mod checkpoint;
pub mod cosignature;
pub mod merkle;
pub mod note;
pub mod witness;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use cosignature::{CosignatureError, cosign, verify_cosignature};
pub use merkle::{Hash, MerkleTree, ProofError, TreeError, verify_consistency, verify_inclusion};
pub use note::{Note, NoteError, NoteSignature, NoteSigner, VerifiedNote, parse_note, sign_note, verify_note};
pub use witness::{CosignatureLine, Witness, WitnessError};
