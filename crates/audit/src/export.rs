//! The export file (docs/record-format.md, "Export file"): its serde types and its one
//! canonical text.
//!
//! The file is read strictly because it comes from a station nobody has to trust. Beyond
//! `deny_unknown_fields`, [`parse_export`] insists that the bytes are exactly what
//! [`Export::to_json`] writes for the parsed value: compact, members in the documented
//! order, strings escaped the way serde_json escapes them. That makes the text of a
//! document unique, so any change to the bytes that still parses is a change to the
//! document's content, which [`crate::verify`] then catches; an auditor never has to
//! wonder whether two different files "mean the same".

use hotline_identity::VerifierKey;
use serde::{Deserialize, Serialize};

use crate::AuditError;

/// The `format` member of every export.
pub const EXPORT_FORMAT: &str = "hotline-record";

/// The export format version this crate reads and writes.
pub const EXPORT_VERSION: u64 = 1;

/// Largest export accepted, in bytes: a million typical entries fit with room to spare,
/// and a file that claims to be larger is refused before it is parsed.
#[allow(non_upper_case_globals)]
pub const export_bytes_max: usize = 1 << 30;

/// A peer station as the export lists it: its name and its verifier key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    pub name: String,
    /// `NAME+KEYHASH+BASE64`, exactly as `VerifierKey` prints it.
    pub key: String,
}

/// A whole export file. Members are in the documented order, which is the order
/// [`Export::to_json`] writes them in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Always [`EXPORT_VERSION`].
    pub version: u64,
    /// The station whose record this is.
    pub station: String,
    /// The station's verifier key.
    pub key: String,
    /// `hotline/NAME/KEYHASH`, the origin line of its checkpoints.
    pub origin: String,
    /// The stations it has lines to, in ascending order of name.
    pub peers: Vec<Peer>,
    /// `entries[i - 1]` is entry `i`, each the exact text that was hashed.
    pub entries: Vec<String>,
    /// Signed checkpoint notes with the peers' cosignature lines, by increasing size.
    pub checkpoints: Vec<String>,
}

/// The checkpoint origin of a station: `hotline/NAME/KEYHASH`.
pub fn origin_of(key: &VerifierKey) -> String {
    format!("hotline/{}/{}", key.name(), key.fingerprint())
}

impl Export {
    /// An export of `key`'s record: fills in format, version, station and origin, and
    /// lists `peers` in the canonical (ascending name) order.
    pub fn new(key: &VerifierKey, peers: &[VerifierKey], entries: Vec<String>, checkpoints: Vec<String>) -> Export {
        let mut peers: Vec<Peer> =
            peers.iter().map(|p| Peer { name: p.name().to_owned(), key: p.to_string() }).collect();
        peers.sort_by(|a, b| a.name.cmp(&b.name));
        Export {
            format: EXPORT_FORMAT.to_owned(),
            version: EXPORT_VERSION,
            station: key.name().to_owned(),
            key: key.to_string(),
            origin: origin_of(key),
            peers,
            entries,
            checkpoints,
        }
    }

    /// The file's text: compact JSON, members in the documented order. This is the only
    /// text [`parse_export`] accepts for this value.
    pub fn to_json(&self) -> String {
        // A struct of strings, integers and vectors of them always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What separates the entries from the checkpoints in an export's text.
pub const EXPORT_ENTRIES_END: &str = "],\"checkpoints\":[";
/// The last bytes of an export's text.
pub const EXPORT_END: &str = "]}";

/// The text of an export up to its first entry, for a station that writes the file page
/// by page instead of holding it whole: then every entry as [`export_string`], separated
/// by commas, [`EXPORT_ENTRIES_END`], the checkpoints likewise, and [`EXPORT_END`]. The
/// pieces are cut from [`Export::to_json`]'s own text, so together they are byte for byte
/// what it writes for the whole (a test holds the two together).
pub fn export_head(key: &VerifierKey, peers: &[VerifierKey]) -> String {
    let empty = Export::new(key, peers, Vec::new(), Vec::new()).to_json();
    // The two lists are the last members; the entries' opening bracket is where they begin.
    let lists = format!("[{EXPORT_ENTRIES_END}{EXPORT_END}");
    match empty.strip_suffix(&lists) {
        Some(head) => format!("{head}["),
        None => unreachable!("the export's lists are its last members"),
    }
}

/// One entry or checkpoint as the export writes it: a JSON string, escaped as serde_json
/// escapes the members of a list of strings.
pub fn export_string(text: &str) -> String {
    // A string always serialises.
    serde_json::to_string(text).unwrap_or_default()
}

/// Just the members that say what the file is, read first so that another format or a
/// future version is named as such instead of as an unknown member.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

/// Reads an export file strictly: size, JSON, format and version, known members only,
/// and the canonical compact text. Content is checked by [`crate::verify`].
pub fn parse_export(bytes: &[u8]) -> Result<Export, AuditError> {
    if bytes.len() > export_bytes_max {
        return Err(AuditError::Format(format!(
            "the export is {} bytes, more than the {export_bytes_max} bytes accepted",
            bytes.len()
        )));
    }
    let header: Header = serde_json::from_slice(bytes).map_err(not_json)?;
    match header.format {
        Some(serde_json::Value::String(f)) if f == EXPORT_FORMAT => {}
        Some(other) => {
            return Err(AuditError::Format(format!(
                "the file's format is {other}, not \"{EXPORT_FORMAT}\": it is not a hotline record export"
            )));
        }
        None => {
            return Err(AuditError::Format(format!(
                "the file has no \"format\" member: it is not a hotline record export (\"{EXPORT_FORMAT}\")"
            )));
        }
    }
    match header.version {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(EXPORT_VERSION) => {}
        Some(other) => {
            return Err(AuditError::Format(format!(
                "the export is version {other}, but this build reads only version {EXPORT_VERSION}"
            )));
        }
        None => return Err(AuditError::Format("the export has no \"version\" member".to_owned())),
    }
    let export: Export = serde_json::from_slice(bytes).map_err(not_json)?;
    let canonical = export.to_json();
    if canonical.as_bytes() != bytes {
        let at =
            canonical.bytes().zip(bytes.iter()).position(|(a, b)| a != *b).unwrap_or(canonical.len().min(bytes.len()));
        return Err(AuditError::Format(format!(
            "the export is not in its canonical form (compact JSON, members in the documented order, \
             standard escapes): it differs from it at byte {at}"
        )));
    }
    Ok(export)
}

fn not_json(e: serde_json::Error) -> AuditError {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => format!("the export ends early (truncated?): {e}"),
        Category::Io | Category::Syntax => format!("the export is not valid JSON: {e}"),
        Category::Data => format!("the export does not have the documented shape: {e}"),
    };
    AuditError::Format(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_identity::StationKey;

    fn streamed(key: &VerifierKey, peers: &[VerifierKey], entries: &[String], checkpoints: &[String]) -> String {
        let list = |items: &[String]| items.iter().map(|t| export_string(t)).collect::<Vec<_>>().join(",");
        format!("{}{}{EXPORT_ENTRIES_END}{}{EXPORT_END}", export_head(key, peers), list(entries), list(checkpoints))
    }

    /// A station writing the export page by page must produce the very bytes
    /// `Export::to_json` writes, or `parse_export` would refuse the file.
    #[test]
    fn the_pieces_make_exactly_the_canonical_text() {
        let key = StationKey::generate("alpha").expect("key").verifier();
        let peers = [
            StationKey::generate("charlie").expect("key").verifier(),
            StationKey::generate("bravo").expect("key").verifier(),
        ];
        let entries = [
            r#"{"kind":"station.created","at":"2026-12-03T08:00:00.000Z","text":"\"quoted\"\n\u0001"}"#.to_owned(),
            "{\"kind\":\"x\",\"name\":\"Журнал é \u{2028}\"}".to_owned(),
        ];
        let checkpoints = ["hotline/alpha/abcd\n2\nAAAA\n\n— alpha xyz\n".to_owned()];
        for (e, c) in [(&entries[..], &checkpoints[..]), (&entries[..1], &[][..]), (&[][..], &[][..])] {
            let whole = Export::new(&key, &peers, e.to_vec(), c.to_vec()).to_json();
            assert_eq!(streamed(&key, &peers, e, c), whole);
            if !e.is_empty() {
                assert!(parse_export(whole.as_bytes()).is_ok());
            }
        }
    }
}
