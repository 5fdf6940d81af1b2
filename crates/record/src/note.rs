//! C2SP signed notes (<https://c2sp.org/signed-note>), byte for byte as Go's
//! `golang.org/x/mod/sumdb/note` writes and reads them.
//!
//! Checkpoints and cosignatures are signed notes, and the record is meant to be checked by
//! tools we did not write, so the format here is the reference one exactly: a text that
//! ends in a newline, a blank line, then one or more lines `— NAME BASE64(keyhash || sig)`.
//! Parsing is strict and bounded (at most [`note_signatures_max`] signature lines and
//! [`note_bytes_max`] bytes) because notes arrive from the peer station and from export
//! files, neither of which is trusted. Verification follows the reference rules: a
//! signature by an unknown key is kept as unverified, a bad signature by a known key
//! rejects the whole note, and a note that no known key signed is rejected.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use hotline_identity::{Signature, StationKey, VerifierKey};

/// Most signature lines accepted in one note (the reference implementation's limit).
#[allow(non_upper_case_globals)]
pub const note_signatures_max: usize = 100;

/// Largest note accepted, in bytes: checkpoints with a hundred cosignatures fit many times.
#[allow(non_upper_case_globals)]
pub const note_bytes_max: usize = 1 << 20;

/// The prefix of every signature line: an em dash (U+2014) and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// Why a note could not be signed, parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note is {bytes} bytes long, more than the {max} bytes allowed")]
    TooLarge { bytes: usize, max: usize },
    #[error("the note contains a control character at byte {offset} (only newline is allowed)")]
    ControlCharacter { offset: usize },
    #[error("the note text must end in a newline")]
    TextWithoutFinalNewline,
    #[error("the note has no blank line separating its text from its signatures")]
    NoSignatureBlock,
    #[error("the last signature line of the note does not end in a newline")]
    SignatureWithoutFinalNewline,
    #[error("line {line} after the blank line is not a signature line (\"— NAME SIGNATURE\")")]
    NotASignatureLine { line: usize },
    #[error("signature key name {name:?} is empty or contains a space or '+'")]
    BadKeyName { name: String },
    #[error("the signature by {name:?} is not base64 of a key hash and a signature")]
    BadSignatureEncoding { name: String },
    #[error("the note has more than {max} signatures")]
    TooManySignatures { max: usize },
    #[error("the signature by known key {name:?} ({key_hash}) does not verify: the note was altered")]
    InvalidSignature { name: String, key_hash: String },
    #[error("no signature by a known key")]
    NoKnownSignature,
    #[error("the signer private key is not of the form PRIVATE+KEY+NAME+KEYHASH+BASE64: {0}")]
    BadPrivateKey(String),
}

/// A key that signs notes: a signed-note name (wider than a station name) and an Ed25519 key.
pub struct NoteSigner {
    name: String,
    signing: ed25519_dalek::SigningKey,
}

impl NoteSigner {
    /// A signer named `name` with the Ed25519 key derived from `seed`.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<NoteSigner, NoteError> {
        check_key_name(name)?;
        Ok(NoteSigner { name: name.to_owned(), signing: ed25519_dalek::SigningKey::from_bytes(seed) })
    }

    /// The station key as a note signer, under the station's name.
    pub fn from_station_key(key: &StationKey) -> NoteSigner {
        NoteSigner { name: key.name().to_owned(), signing: ed25519_dalek::SigningKey::from_bytes(&key.seed()) }
    }

    /// Reads the C2SP private-key form `PRIVATE+KEY+NAME+KEYHASH+BASE64(0x01 || seed)`,
    /// checking the algorithm byte and that the key hash matches the key.
    pub fn from_private_text(text: &str) -> Result<NoteSigner, NoteError> {
        let bad = |why: &str| NoteError::BadPrivateKey(why.to_owned());
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(|| bad("missing PRIVATE+KEY+ prefix"))?;
        // The base64 key may itself contain '+', so only the first two are separators.
        let parts: Vec<&str> = rest.splitn(3, '+').collect();
        let [name, hash, encoded] = parts[..] else {
            return Err(bad("expected NAME+KEYHASH+BASE64 after the prefix"));
        };
        let raw = BASE64.decode(encoded).map_err(|_| bad("the key is not valid base64"))?;
        let Some((&0x01, seed)) = raw.split_first() else {
            return Err(bad("the key is not an Ed25519 key (algorithm byte 0x01)"));
        };
        let seed: &[u8; 32] = seed.try_into().map_err(|_| bad("an Ed25519 seed is 32 bytes"))?;
        let signer = NoteSigner::new(name, seed)?;
        if !hash.eq_ignore_ascii_case(&hex(&signer.key_hash())) {
            return Err(bad("the key hash does not match the name and key"));
        }
        Ok(signer)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier key, `NAME+KEYHASH+BASE64`.
    pub fn verifier(&self) -> VerifierKey {
        // The name was checked by the constructors with the same rule that
        // `new_note_signer` applies, so this cannot fail; fall back loudly in debug.
        VerifierKey::new_note_signer(&self.name, self.signing.verifying_key().to_bytes())
            .unwrap_or_else(|_| unreachable!("note signer names are checked on construction"))
    }

    /// The signed-note key hash, `SHA-256(name || "\n" || 0x01 || key)[:4]`.
    pub fn key_hash(&self) -> [u8; 4] {
        hotline_identity::key_hash(&self.name, &self.signing.verifying_key().to_bytes())
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// An Ed25519 signature over `message` (deterministic).
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret half.
        write!(f, "NoteSigner({})", self.verifier())
    }
}

/// One signature line of a note: the key name, the 4-byte key hash and the rest of the
/// decoded signature (64 bytes for Ed25519; 72 for a timestamped cosignature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_hash: [u8; 4],
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, `— NAME BASE64\n`, including its final newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_hash);
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_LINE_PREFIX}{} {}\n", self.name, BASE64.encode(raw))
    }
}

/// A note split into its text and signatures, none of them verified yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline.
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// A note with at least one signature by a known key that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    pub text: String,
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys the verifier was not given: kept, not trusted.
    pub unverified: Vec<NoteSignature>,
}

/// Signs `text` (which must end in a newline) and returns the whole signed note.
pub fn sign_note(text: &str, signer: &NoteSigner) -> Result<String, NoteError> {
    check_characters(text)?;
    if !text.ends_with('\n') {
        return Err(NoteError::TextWithoutFinalNewline);
    }
    let signature = NoteSignature {
        name: signer.name.clone(),
        key_hash: signer.key_hash(),
        signature: signer.sign_bytes(text.as_bytes()).to_bytes().to_vec(),
    };
    let note = format!("{text}\n{}", signature.to_line());
    // Pair the writer with the reader: what we sign must parse back to the same text.
    debug_assert_eq!(parse_note(&note).map(|n| n.text), Ok(text.to_owned()));
    Ok(note)
}

/// Appends signature lines (such as a cosignature) to a signed note, checking the result.
pub fn add_signature_lines(note: &str, lines: &str) -> Result<String, NoteError> {
    let combined = format!("{note}{lines}");
    parse_note(&combined)?;
    Ok(combined)
}

/// Splits a signed note into text and signatures, rejecting anything malformed.
pub fn parse_note(note: &str) -> Result<Note, NoteError> {
    if note.len() > note_bytes_max {
        return Err(NoteError::TooLarge { bytes: note.len(), max: note_bytes_max });
    }
    check_characters(note)?;
    // The text ends at the last blank line; signature lines never contain one.
    let split = note.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
    let (text, block) = (&note[..split + 1], &note[split + 2..]);
    if block.is_empty() {
        return Err(NoteError::NoSignatureBlock);
    }
    if !block.ends_with('\n') {
        return Err(NoteError::SignatureWithoutFinalNewline);
    }
    let text_lines = text.matches('\n').count();
    let mut signatures = Vec::new();
    for (number, line) in block[..block.len() - 1].split('\n').enumerate() {
        if signatures.len() == note_signatures_max {
            return Err(NoteError::TooManySignatures { max: note_signatures_max });
        }
        // Line numbers count from 1 at the top of the note, as an editor shows them.
        let line_number = text_lines + 2 + number;
        signatures.push(parse_signature_line(line, line_number)?);
    }
    Ok(Note { text: text.to_owned(), signatures })
}

/// Parses `note` and verifies every signature by one of `known` keys (matched by name and
/// key hash). Fails if a known key's signature is bad or if none verifies.
pub fn verify_note(note: &str, known: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
    let parsed = parse_note(note)?;
    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unverified: Vec<NoteSignature> = Vec::new();
    for signature in parsed.signatures {
        let key = known.iter().find(|k| k.name() == signature.name && k.key_hash() == signature.key_hash);
        let Some(key) = key else {
            // Identical unknown signatures are kept once, as the reference does.
            if !unverified.contains(&signature) {
                unverified.push(signature);
            }
            continue;
        };
        // A key that already verified is not checked twice, as the reference does.
        if verified.iter().any(|v| v.name == signature.name && v.key_hash == signature.key_hash) {
            continue;
        }
        let good =
            Signature::from_slice(&signature.signature).is_ok_and(|sig| key.verify(parsed.text.as_bytes(), &sig));
        if !good {
            return Err(NoteError::InvalidSignature { name: signature.name, key_hash: hex(&signature.key_hash) });
        }
        verified.push(signature);
    }
    if verified.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    Ok(VerifiedNote { text: parsed.text, verified, unverified })
}

/// Checks a signed-note key name: non-empty, no Unicode space, no '+'.
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadKeyName { name: name.to_owned() });
    }
    Ok(())
}

fn parse_signature_line(line: &str, line_number: usize) -> Result<NoteSignature, NoteError> {
    let rest = line.strip_prefix(SIGNATURE_LINE_PREFIX).ok_or(NoteError::NotASignatureLine { line: line_number })?;
    let (name, encoded) = rest.split_once(' ').ok_or(NoteError::NotASignatureLine { line: line_number })?;
    check_key_name(name)?;
    let bad_encoding = || NoteError::BadSignatureEncoding { name: name.to_owned() };
    let raw = BASE64.decode(encoded).map_err(|_| bad_encoding())?;
    if raw.len() < 5 {
        return Err(bad_encoding());
    }
    let key_hash = [raw[0], raw[1], raw[2], raw[3]];
    Ok(NoteSignature { name: name.to_owned(), key_hash, signature: raw[4..].to_vec() })
}

/// Signed notes are UTF-8 (guaranteed by `&str`) without control characters but newline.
fn check_characters(text: &str) -> Result<(), NoteError> {
    match text.bytes().position(|b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(NoteError::ControlCharacter { offset }),
        None => Ok(()),
    }
}

/// Lower-case hex of a key hash, as key strings and error messages show it.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
