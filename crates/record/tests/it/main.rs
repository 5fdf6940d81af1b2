//! Integration tests of `hotline-record`, in one binary so the suite links once: the real
//! Certificate Transparency and signed-note vectors, property tests of the Merkle proofs,
//! and the witness's refusals.

mod ct_vectors;
mod merkle_props;
mod signed_note;
mod witness;
