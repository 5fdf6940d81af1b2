//! C2SP tlog cosignatures, version `cosignature/v1` (<https://c2sp.org/tlog-cosignature>).
//!
//! A cosignature is the peer station saying "at this time, this is the largest tree I
//! have seen from your log, and it is consistent with everything before it". It is what
//! makes one station's checkpoint believable to an auditor who trusts neither station
//! alone. The format is the spec's Ed25519 one: a note signature line whose key hash uses
//! signature type 0x04, whose bytes are `keyhash(4) || timestamp(8, big-endian) ||
//! Ed25519(64)`, and whose signed message is `cosignature/v1\ntime T\n` followed by the
//! whole checkpoint body. Time is an argument: this crate reads no clock.

use hotline_identity::{Signature, VerifierKey};
use sha2::{Digest as _, Sha256};

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{NoteError, NoteSignature, NoteSigner, hex, parse_note};

/// The signature-type byte of timestamped Ed25519 cosignatures in the key hash.
const SIGNATURE_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The spec caps the timestamp at 2^63 - 1 seconds.
#[allow(non_upper_case_globals)]
pub const cosignature_time_secs_max: u64 = i64::MAX as u64;

/// Why a cosignature could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("cosignature time {time_secs} s is beyond the 2^63 - 1 s the spec allows")]
    TimeOutOfRange { time_secs: u64 },
    #[error("the cosigned note is malformed: {0}")]
    Note(#[from] NoteError),
    #[error("the cosigned note is not a valid checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("the note carries no cosignature by witness {name:?} (key hash {key_hash})")]
    Missing { name: String, key_hash: String },
    #[error("the cosignature by {name:?} is {found} bytes, not the 72 of a timestamp and an Ed25519 signature")]
    WrongLength { name: String, found: usize },
    #[error("the cosignature by witness {name:?} does not verify: the checkpoint or time was altered")]
    Invalid { name: String },
}

/// The cosignature key hash: `SHA-256(name || "\n" || 0x04 || key)[:4]`.
pub fn cosignature_key_hash(name: &str, key: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([SIGNATURE_TYPE_COSIGNATURE_V1]);
    hasher.update(key);
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The message a witness signs: `cosignature/v1\ntime T\n` and the checkpoint body.
pub fn cosigned_message(checkpoint_body: &str, time_secs: u64) -> String {
    format!("cosignature/v1\ntime {time_secs}\n{checkpoint_body}")
}

/// Cosigns `checkpoint` at `time_secs` (POSIX seconds) and returns the signature line,
/// `— NAME BASE64(keyhash || time || signature)\n`, ready to append to the signed note.
pub fn cosign(checkpoint: &Checkpoint, witness: &NoteSigner, time_secs: u64) -> Result<String, CosignatureError> {
    if time_secs > cosignature_time_secs_max {
        return Err(CosignatureError::TimeOutOfRange { time_secs });
    }
    checkpoint.check_fields()?;
    let message = cosigned_message(&checkpoint.to_body(), time_secs);
    let signature = witness.sign_bytes(message.as_bytes());
    let mut bytes = Vec::with_capacity(72);
    bytes.extend_from_slice(&time_secs.to_be_bytes());
    bytes.extend_from_slice(&signature.to_bytes());
    let line = NoteSignature {
        name: witness.name().to_owned(),
        key_hash: cosignature_key_hash(witness.name(), &witness.public_key()),
        signature: bytes,
    };
    Ok(line.to_line())
}

/// Finds and checks the cosignature by `witness` in a signed checkpoint note and returns
/// its time (POSIX seconds). This does not check the log's own signature: open the
/// checkpoint with [`Checkpoint::open`] for that.
pub fn verify_cosignature(checkpoint_note: &str, witness: &VerifierKey) -> Result<u64, CosignatureError> {
    let note = parse_note(checkpoint_note)?;
    // A witness only ever cosigns a checkpoint, so anything else is refused outright.
    Checkpoint::parse_body(&note.text)?;
    let key_hash = cosignature_key_hash(witness.name(), witness.key_bytes());
    let line = note
        .signatures
        .iter()
        .find(|s| s.name == witness.name() && s.key_hash == key_hash)
        .ok_or_else(|| CosignatureError::Missing { name: witness.name().to_owned(), key_hash: hex(&key_hash) })?;
    let Some((time_bytes, signature_bytes)) = line.signature.split_first_chunk::<8>() else {
        return Err(CosignatureError::WrongLength { name: line.name.clone(), found: line.signature.len() });
    };
    if signature_bytes.len() != 64 {
        return Err(CosignatureError::WrongLength { name: line.name.clone(), found: line.signature.len() });
    }
    let time_secs = u64::from_be_bytes(*time_bytes);
    let invalid = || CosignatureError::Invalid { name: line.name.clone() };
    if time_secs > cosignature_time_secs_max {
        return Err(invalid());
    }
    let signature = Signature::from_slice(signature_bytes).map_err(|_| invalid())?;
    let message = cosigned_message(&note.text, time_secs);
    if !witness.verify(message.as_bytes(), &signature) {
        return Err(invalid());
    }
    Ok(time_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::sign_note;

    fn signers() -> (NoteSigner, NoteSigner) {
        let log = NoteSigner::new("example.com/log", &[7; 32]).expect("log signer");
        let witness = NoteSigner::new("witness.example.com/w1", &[9; 32]).expect("witness signer");
        (log, witness)
    }

    #[test]
    fn cosigns_and_verifies_with_time() {
        let (log, witness) = signers();
        let checkpoint = Checkpoint::new("example.com/log", 5, [3; 32]);
        let note = checkpoint.sign(&log).expect("signed");
        let line = cosign(&checkpoint, &witness, 1_679_315_147).expect("cosigned");
        assert!(line.starts_with("\u{2014} witness.example.com/w1 ") && line.ends_with('\n'));
        let cosigned = format!("{note}{line}");
        assert_eq!(verify_cosignature(&cosigned, &witness.verifier()), Ok(1_679_315_147));
        // The log's own signature still verifies, and the cosignature is not mistaken for it.
        assert_eq!(Checkpoint::open(&cosigned, &log.verifier()), Ok(checkpoint.clone()));
        assert!(matches!(verify_cosignature(&note, &witness.verifier()), Err(CosignatureError::Missing { .. })));
        // A cosignature of another checkpoint does not verify on this one.
        let other = Checkpoint::new("example.com/log", 6, [3; 32]);
        let other_line = cosign(&other, &witness, 1_679_315_147).expect("cosigned");
        let mismatched = format!("{note}{other_line}");
        assert!(matches!(verify_cosignature(&mismatched, &witness.verifier()), Err(CosignatureError::Invalid { .. })));
        assert!(matches!(cosign(&checkpoint, &witness, u64::MAX), Err(CosignatureError::TimeOutOfRange { .. })));
    }

    #[test]
    fn the_key_hash_uses_type_0x04_not_0x01() {
        let (_, witness) = signers();
        let note_hash = witness.key_hash();
        let cosign_hash = cosignature_key_hash(witness.name(), &witness.public_key());
        assert_ne!(note_hash, cosign_hash);
    }

    #[test]
    fn refuses_a_cosignature_on_a_note_that_is_not_a_checkpoint() {
        let (log, witness) = signers();
        let note = sign_note("hello\n", &log).expect("signed");
        let checkpoint = Checkpoint::new("example.com/log", 1, [0; 32]);
        let line = cosign(&checkpoint, &witness, 1).expect("cosigned");
        let result = verify_cosignature(&format!("{note}{line}"), &witness.verifier());
        assert!(matches!(result, Err(CosignatureError::Checkpoint(_))));
    }
}
