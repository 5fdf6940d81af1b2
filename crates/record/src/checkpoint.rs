//! C2SP tlog checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed statement
//! "my log of this origin has this many entries and this root".
//!
//! A checkpoint is what a station commits to and what the peer witnesses: once signed, a
//! station can never show anyone a log that is not an extension of it without the
//! rewrite being provable. The body is three lines (origin, decimal size, base64 root)
//! plus optional extension lines; parsing is strict so that one checkpoint has exactly
//! one text, because signatures and cosignatures are over the text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hotline_identity::VerifierKey;

use crate::merkle::Hash;
use crate::note::{NoteError, NoteSigner, sign_note, verify_note};

/// Most extension lines accepted after the root line.
#[allow(non_upper_case_globals)]
pub const checkpoint_extension_lines_max: usize = 16;

/// Why a checkpoint body or signed checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint body must be at least three lines, each ending in a newline")]
    TooFewLines,
    #[error("the checkpoint origin line is empty")]
    EmptyOrigin,
    #[error("the checkpoint tree size {0:?} is not a decimal number without leading zeros")]
    BadSize(String),
    #[error("the checkpoint root hash {0:?} is not the base64 of 32 bytes")]
    BadRoot(String),
    #[error("checkpoint extension line {line} is empty")]
    EmptyExtensionLine { line: usize },
    #[error("the checkpoint has more than {max} extension lines")]
    TooManyExtensionLines { max: usize },
    #[error("the checkpoint origin or an extension line contains a newline")]
    NewlineInField,
    #[error("the checkpoint is not a valid signed note: {0}")]
    Note(#[from] NoteError),
}

/// A log's tree head: origin, size and root, with any extension lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's identity, such as `hotline/alpha`.
    pub origin: String,
    /// The number of entries in the log.
    pub size: u64,
    /// The RFC 6962 root hash at `size`.
    pub root: Hash,
    /// Opaque extra lines after the root (not recommended by the spec; kept so that a
    /// checkpoint from another log round-trips and its cosignature covers them).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Checkpoint {
        Checkpoint { origin: origin.to_owned(), size, root, extensions: Vec::new() }
    }

    /// The note text: origin, size and root lines, then extension lines, each ending in
    /// a newline.
    pub fn to_body(&self) -> String {
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root));
        for line in &self.extensions {
            body.push_str(line);
            body.push('\n');
        }
        body
    }

    /// Parses a note text strictly: the result's `to_body()` is exactly `body`.
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let Some(without_last_newline) = body.strip_suffix('\n') else {
            return Err(CheckpointError::TooFewLines);
        };
        let mut lines = without_last_newline.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(CheckpointError::TooFewLines);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let mut extensions = Vec::new();
        for (number, line) in lines.enumerate() {
            if extensions.len() == checkpoint_extension_lines_max {
                return Err(CheckpointError::TooManyExtensionLines { max: checkpoint_extension_lines_max });
            }
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtensionLine { line: number + 4 });
            }
            extensions.push(line.to_owned());
        }
        let checkpoint = Checkpoint { origin: origin.to_owned(), size, root, extensions };
        // Pair the reader with the writer: strict parsing means one text per checkpoint.
        debug_assert_eq!(checkpoint.to_body(), body);
        Ok(checkpoint)
    }

    /// Signs the checkpoint as a C2SP signed note with `signer` (the station key).
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, CheckpointError> {
        self.check_fields()?;
        Ok(sign_note(&self.to_body(), signer)?)
    }

    /// Opens a signed checkpoint: it must carry a valid signature by `log_key`, and its
    /// text must be a well-formed checkpoint. Other signatures (cosignatures) are ignored.
    pub fn open(note: &str, log_key: &VerifierKey) -> Result<Checkpoint, CheckpointError> {
        let verified = verify_note(note, std::slice::from_ref(log_key))?;
        Checkpoint::parse_body(&verified.text)
    }

    /// Checks that fields built in memory make a body that parses back to them.
    pub fn check_fields(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if self.origin.contains('\n') || self.extensions.iter().any(|l| l.contains('\n')) {
            return Err(CheckpointError::NewlineInField);
        }
        if self.extensions.len() > checkpoint_extension_lines_max {
            return Err(CheckpointError::TooManyExtensionLines { max: checkpoint_extension_lines_max });
        }
        if let Some(index) = self.extensions.iter().position(String::is_empty) {
            return Err(CheckpointError::EmptyExtensionLine { line: index + 4 });
        }
        Ok(())
    }
}

fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    let bad = || CheckpointError::BadSize(text.to_owned());
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || (text.len() > 1 && text.starts_with('0')) {
        return Err(bad());
    }
    text.parse().map_err(|_| bad())
}

fn parse_root(text: &str) -> Result<Hash, CheckpointError> {
    let bad = || CheckpointError::BadRoot(text.to_owned());
    // The standard engine requires canonical padding and zero trailing bits, so a root
    // has exactly one base64 text.
    let raw = BASE64.decode(text).map_err(|_| bad())?;
    raw.try_into().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT_B64: &str = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

    #[test]
    fn parses_the_spec_example_and_writes_it_back() {
        let body = format!("example.com/behind-the-sofa\n20852163\n{ROOT_B64}\n");
        let checkpoint = Checkpoint::parse_body(&body).expect("spec example parses");
        assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
        assert_eq!(checkpoint.size, 20852163);
        assert_eq!(checkpoint.to_body(), body);
        let with_extension = format!("{body}ext one\n");
        assert_eq!(Checkpoint::parse_body(&with_extension).expect("extension").extensions, ["ext one"]);
    }

    #[test]
    fn refuses_malformed_bodies() {
        let short_root = BASE64.encode([0u8; 31]);
        let cases: Vec<(String, CheckpointError)> = vec![
            (format!("o\n1\n{ROOT_B64}"), CheckpointError::TooFewLines),
            ("o\n1\n".to_owned(), CheckpointError::TooFewLines),
            (format!("\n1\n{ROOT_B64}\n"), CheckpointError::EmptyOrigin),
            (format!("o\n01\n{ROOT_B64}\n"), CheckpointError::BadSize("01".into())),
            (format!("o\n+1\n{ROOT_B64}\n"), CheckpointError::BadSize("+1".into())),
            (format!("o\n\n{ROOT_B64}\n"), CheckpointError::BadSize("".into())),
            (format!("o\n18446744073709551616\n{ROOT_B64}\n"), CheckpointError::BadSize("18446744073709551616".into())),
            (format!("o\n1\n{short_root}\n"), CheckpointError::BadRoot(short_root.clone())),
            ("o\n1\nnot base64\n".to_owned(), CheckpointError::BadRoot("not base64".into())),
            (format!("o\n1\n{ROOT_B64}\n\n"), CheckpointError::EmptyExtensionLine { line: 4 }),
        ];
        for (body, expected) in cases {
            assert_eq!(Checkpoint::parse_body(&body), Err(expected), "{body:?}");
        }
        assert_eq!(Checkpoint::parse_body(&format!("o\n0\n{ROOT_B64}\n")).map(|c| c.size), Ok(0));
        let noncanonical = ROOT_B64.replace("I=", "J=");
        assert!(Checkpoint::parse_body(&format!("o\n1\n{noncanonical}\n")).is_err());
    }
}
