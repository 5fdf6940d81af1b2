//! The witness: the peer station's side of cosigning, as a pure state machine.
//!
//! A witness is what turns "the station signed it" into "the station cannot quietly
//! rewrite it": it cosigns a log's checkpoint only if the checkpoint is signed by the log,
//! is no smaller than the last one it cosigned, has the same root if it is the same size,
//! and comes with a consistency proof from the last one it cosigned. A failed proof or a
//! second root for one size is evidence of a fork or a rewritten history, so
//! [`WitnessError::is_critical`] marks those for the station to raise a critical alarm;
//! everything else is ordinary bad input. The state (the last cosigned checkpoint per
//! origin) changes only after every check has passed, and the station persists it.

use std::collections::BTreeMap;

use hotline_identity::VerifierKey;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::cosignature::{CosignatureError, cosign};
use crate::merkle::{Hash, ProofError, empty_root, verify_consistency};
use crate::note::NoteSigner;

/// Most distinct log origins one witness keeps state for.
#[allow(non_upper_case_globals)]
pub const witness_origins_max: usize = 256;

/// Why the witness refused to cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error("the checkpoint was refused: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("log {origin:?} went backwards: size {new_size} after a cosigned size {cosigned_size}")]
    SizeWentBackwards { origin: String, cosigned_size: u64, new_size: u64 },
    #[error("FORK: log {origin:?} signed two different roots for size {size}")]
    Fork { origin: String, size: u64, cosigned_root: Hash, new_root: Hash },
    #[error(
        "INCONSISTENT: log {origin:?} at size {new_size} does not extend the cosigned size {cosigned_size}: {reason}"
    )]
    Inconsistent { origin: String, cosigned_size: u64, new_size: u64, reason: ProofError },
    #[error(
        "the witness has cosigned nothing for log {origin:?}, so the consistency proof must be empty, not {proof_hashes} hashes"
    )]
    NothingCosignedYet { origin: String, proof_hashes: usize },
    #[error("the witness already follows {max} logs and refuses a new origin {origin:?}")]
    TooManyOrigins { origin: String, max: usize },
    #[error("the cosignature could not be made: {0}")]
    Cosignature(#[from] CosignatureError),
}

impl WitnessError {
    /// True for evidence that the log rewrote its history or showed two views of it: the
    /// station must raise a critical alarm, not just reject the input.
    pub fn is_critical(&self) -> bool {
        matches!(self, WitnessError::Fork { .. } | WitnessError::Inconsistent { .. })
    }
}

/// A cosignature the witness made, with what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureLine {
    /// The checkpoint that was cosigned (now the witness's latest for its origin).
    pub checkpoint: Checkpoint,
    /// The cosignature time, POSIX seconds.
    pub time_secs: u64,
    /// The signature line, `— NAME BASE64\n`, to append to the signed checkpoint.
    pub line: String,
}

/// A witness's key and the last checkpoint it cosigned for each log origin.
#[derive(Debug)]
pub struct Witness {
    signer: NoteSigner,
    cosigned: BTreeMap<String, Checkpoint>,
}

impl Witness {
    /// A witness that has cosigned nothing yet.
    pub fn new(signer: NoteSigner) -> Witness {
        Witness { signer, cosigned: BTreeMap::new() }
    }

    /// Reloads a checkpoint this witness cosigned before (from the station's storage), so
    /// that a restart does not forget what it promised.
    pub fn restore(&mut self, checkpoint: Checkpoint) -> Result<(), WitnessError> {
        checkpoint.check_fields()?;
        self.check_room(&checkpoint.origin)?;
        self.cosigned.insert(checkpoint.origin.clone(), checkpoint);
        Ok(())
    }

    /// The last checkpoint cosigned for `origin`, if any.
    pub fn last_cosigned(&self, origin: &str) -> Option<&Checkpoint> {
        self.cosigned.get(origin)
    }

    /// The key a log's clients use to check this witness's cosignatures.
    pub fn verifier(&self) -> VerifierKey {
        self.signer.verifier()
    }

    /// Checks a signed checkpoint from the log whose key is `log_key` and, if it extends
    /// the last checkpoint cosigned for its origin, cosigns it at `time_secs`.
    ///
    /// `consistency_proof` runs from the last cosigned size to the new size; for the
    /// first checkpoint of an origin it must be empty (every tree extends the empty one).
    /// On any error the witness's state is unchanged.
    pub fn cosign_if_consistent(
        &mut self,
        checkpoint_note: &str,
        consistency_proof: &[Hash],
        log_key: &VerifierKey,
        time_secs: u64,
    ) -> Result<CosignatureLine, WitnessError> {
        let checkpoint = Checkpoint::open(checkpoint_note, log_key)?;
        let origin = checkpoint.origin.clone();
        match self.cosigned.get(&origin) {
            Some(last) => check_extends(last, &checkpoint, consistency_proof)?,
            None => {
                self.check_room(&origin)?;
                // With nothing cosigned there is nothing to be consistent with, except the
                // empty tree; a proof here means the log believes otherwise (the witness
                // lost its state, or the log is confused), which is not evidence of a fork.
                if !consistency_proof.is_empty() {
                    return Err(WitnessError::NothingCosignedYet { origin, proof_hashes: consistency_proof.len() });
                }
                if checkpoint.size == 0 && checkpoint.root != empty_root() {
                    return Err(WitnessError::Inconsistent {
                        origin,
                        cosigned_size: 0,
                        new_size: 0,
                        reason: ProofError::RootMismatch,
                    });
                }
            }
        }
        let line = cosign(&checkpoint, &self.signer, time_secs)?;
        self.cosigned.insert(origin, checkpoint.clone());
        Ok(CosignatureLine { checkpoint, time_secs, line })
    }

    fn check_room(&self, origin: &str) -> Result<(), WitnessError> {
        if !self.cosigned.contains_key(origin) && self.cosigned.len() >= witness_origins_max {
            return Err(WitnessError::TooManyOrigins { origin: origin.to_owned(), max: witness_origins_max });
        }
        Ok(())
    }
}

/// The append-only checks between the last cosigned checkpoint and a new one.
fn check_extends(last: &Checkpoint, new: &Checkpoint, proof: &[Hash]) -> Result<(), WitnessError> {
    let origin = new.origin.clone();
    if new.size < last.size {
        return Err(WitnessError::SizeWentBackwards { origin, cosigned_size: last.size, new_size: new.size });
    }
    if new.size == last.size && new.root != last.root {
        return Err(WitnessError::Fork { origin, size: new.size, cosigned_root: last.root, new_root: new.root });
    }
    // Any failure here, a proof of the wrong length included, means the log cannot show
    // that its new signed root extends the old one: that is the fork the witness exists
    // to catch, whatever the reason.
    verify_consistency(last.size, new.size, &last.root, &new.root, proof).map_err(|reason| WitnessError::Inconsistent {
        origin,
        cosigned_size: last.size,
        new_size: new.size,
        reason,
    })
}
