//! Station identity: who a station is, cryptographically.
//!
//! A station is a name (`[a-z0-9-]{1,32}`) and a long-term Ed25519 key. Everywhere a public
//! key is shown to a person or written to a file it takes the C2SP signed-note verifier-key
//! form, `NAME+KEYHASH+BASE64`, so that the same string can be pasted into `hotline line add`,
//! into a config file, or into Go's `sumdb/note` and other transparency-log tools. The
//! key hash (first four bytes of `SHA-256(NAME || "\n" || 0x01 || key)`) doubles as the
//! short fingerprint printed in logs when a peer presents the wrong key.
//!
//! This crate holds no I/O beyond reading the operating system's random source when a new
//! key is generated; reading and writing key files is the station's job.

mod safety;

pub use safety::{
    SafetyNumber, digit_group_len, fingerprint_digits, fingerprint_digits_count, fingerprint_iterations,
    fingerprint_version, safety_number,
};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use sha2::{Digest as _, Sha256};

pub use ed25519_dalek::Signature;

/// The signature-algorithm byte that C2SP signed notes put in front of an Ed25519 key.
const ALGORITHM_ED25519: u8 = 0x01;

/// Longest station name, in bytes (names are ASCII).
#[allow(non_upper_case_globals)]
pub const station_name_bytes_max: usize = 32;

/// Why a name, key string or key file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdentityError {
    #[error("station name {0:?} is not allowed: use 1 to 32 characters from a-z, 0-9 and '-'")]
    BadName(String),
    #[error("public key {0:?} is not a verifier key of the form NAME+KEYHASH+BASE64")]
    BadKeyFormat(String),
    #[error("public key {0:?} is not an Ed25519 verifier key (wrong algorithm byte or length)")]
    BadKeyBytes(String),
    #[error("public key {0:?} does not match its key hash: it was altered or mistyped")]
    BadKeyHash(String),
    #[error("the station key file must hold exactly 32 bytes (an Ed25519 seed), found {0}")]
    BadSecretLength(usize),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// Checks a station name against `[a-z0-9-]{1,32}`.
pub fn check_station_name(name: &str) -> Result<(), IdentityError> {
    let ok = !name.is_empty()
        && name.len() <= station_name_bytes_max
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(()) } else { Err(IdentityError::BadName(name.to_owned())) }
}

/// A station's long-term signing key together with its name.
pub struct StationKey {
    name: String,
    signing: ed25519_dalek::SigningKey,
}

impl StationKey {
    /// Generates a new key for `name` from the operating system's random source.
    pub fn generate(name: &str) -> Result<StationKey, IdentityError> {
        check_station_name(name)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| IdentityError::Random(e.to_string()))?;
        Ok(StationKey { name: name.to_owned(), signing: ed25519_dalek::SigningKey::from_bytes(&seed) })
    }

    /// Rebuilds a key from the 32-byte seed stored in a station's key file.
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<StationKey, IdentityError> {
        check_station_name(name)?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| IdentityError::BadSecretLength(seed.len()))?;
        Ok(StationKey { name: name.to_owned(), signing: ed25519_dalek::SigningKey::from_bytes(&seed) })
    }

    /// The key in the C2SP signed-note private-key form, `PRIVATE+KEY+NAME+KEYHASH+BASE64`
    /// (BASE64 of 0x01 and the 32-byte seed): what a station's key file holds.
    pub fn to_private_text(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(ALGORITHM_ED25519);
        raw.extend_from_slice(&self.seed());
        format!("PRIVATE+KEY+{}+{}+{}", self.name, self.verifier().fingerprint(), BASE64.encode(raw))
    }

    /// Reads a key file written by [`StationKey::to_private_text`].
    pub fn from_private_text(text: &str) -> Result<StationKey, IdentityError> {
        let text = text.trim();
        let bad = || IdentityError::BadKeyFormat("(private key file)".to_owned());
        let rest = text.strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hash), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let raw = BASE64.decode(b64).map_err(|_| bad())?;
        if raw.len() != 33 || raw[0] != ALGORITHM_ED25519 {
            return Err(bad());
        }
        let key = StationKey::from_seed(name, &raw[1..])?;
        if key.verifier().fingerprint() != hash {
            return Err(IdentityError::BadKeyHash("(private key file)".to_owned()));
        }
        Ok(key)
    }

    /// The 32-byte seed, for writing the key file (mode 0600).
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, in verifier-key form.
    pub fn verifier(&self) -> VerifierKey {
        let vk = self.signing.verifying_key();
        VerifierKey { name: self.name.clone(), key: vk.to_bytes(), parsed: Some(vk) }
    }

    /// Signs `message` with the station key (Ed25519 is deterministic).
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }

    /// The key as PKCS#8 DER, which the TLS layer needs to build the station certificate.
    pub fn pkcs8_der(&self) -> Vec<u8> {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        // Encoding a valid in-memory key cannot fail; the error type only exists for
        // keys that do not fit the PKCS#8 structure, which Ed25519 keys always do.
        self.signing.to_pkcs8_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }
}

impl std::fmt::Debug for StationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret half.
        write!(f, "StationKey({})", self.verifier())
    }
}

/// A station's public key, named: the C2SP signed-note verifier key.
#[derive(Clone)]
pub struct VerifierKey {
    name: String,
    key: [u8; 32],
    /// The key decompressed once (`None` if the bytes are not a curve point): verifying a
    /// million signatures must not decompress the key a million times.
    parsed: Option<ed25519_dalek::VerifyingKey>,
}

impl PartialEq for VerifierKey {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.key == other.key
    }
}

impl Eq for VerifierKey {}

impl std::hash::Hash for VerifierKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.key.hash(state);
    }
}

impl VerifierKey {
    pub fn new(name: &str, key: [u8; 32]) -> Result<VerifierKey, IdentityError> {
        check_station_name(name)?;
        Ok(VerifierKey { name: name.to_owned(), key, parsed: ed25519_dalek::VerifyingKey::from_bytes(&key).ok() })
    }

    /// Builds a verifier key for any signed-note name (which may be wider than a station
    /// name: notes allow any name without spaces or '+'), for note verification.
    pub fn new_note_signer(name: &str, key: [u8; 32]) -> Result<VerifierKey, IdentityError> {
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '+') {
            return Err(IdentityError::BadName(name.to_owned()));
        }
        Ok(VerifierKey { name: name.to_owned(), key, parsed: ed25519_dalek::VerifyingKey::from_bytes(&key).ok() })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn key_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// First four bytes of `SHA-256(name || "\n" || 0x01 || key)`, as C2SP defines it.
    pub fn key_hash(&self) -> [u8; 4] {
        key_hash(&self.name, &self.key)
    }

    /// The key hash in hex: the short fingerprint shown in logs.
    pub fn fingerprint(&self) -> String {
        self.key_hash().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses `NAME+KEYHASH+BASE64`, checking the algorithm byte and the key hash.
    pub fn parse(text: &str) -> Result<VerifierKey, IdentityError> {
        let text = text.trim();
        let bad = || IdentityError::BadKeyFormat(text.to_owned());
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(hash), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if name.is_empty() || hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let raw = BASE64.decode(b64).map_err(|_| bad())?;
        if raw.len() != 33 || raw[0] != ALGORITHM_ED25519 {
            return Err(IdentityError::BadKeyBytes(text.to_owned()));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[1..]);
        if ed25519_dalek::VerifyingKey::from_bytes(&key).is_err() {
            return Err(IdentityError::BadKeyBytes(text.to_owned()));
        }
        let vk = VerifierKey::new_note_signer(name, key).map_err(|_| bad())?;
        let expected: String = vk.fingerprint();
        if !hash.eq_ignore_ascii_case(&expected) {
            return Err(IdentityError::BadKeyHash(text.to_owned()));
        }
        Ok(vk)
    }

    /// Checks an Ed25519 signature by this key, strictly: a key or a signature `R` of small
    /// order is refused as well as a non-canonical `s`, so no second signature of the same
    /// message verifies and a weak key (which "signs" every message) verifies nothing. Every
    /// signature a peer sends passes here, and hotline's own signatures always meet these
    /// rules (ed25519-dalek's `verify_strict`).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.parsed.as_ref().is_some_and(|vk| vk.verify_strict(message, signature).is_ok())
    }
}

impl VerifierKey {
    /// This station's fingerprint in 6 groups of 5 digits ([`fingerprint_digits`]).
    pub fn fingerprint_digits(&self) -> String {
        fingerprint_digits(self)
    }

    /// The safety number of the line between this station and `peer` ([`safety_number`]).
    pub fn safety_number(&self, peer: &VerifierKey) -> SafetyNumber {
        safety_number(self, peer)
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = IdentityError;

    /// [`VerifierKey::parse`].
    fn from_str(text: &str) -> Result<VerifierKey, IdentityError> {
        VerifierKey::parse(text)
    }
}

/// First four bytes of `SHA-256(name || "\n" || 0x01 || key)`.
pub fn key_hash(name: &str, key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALGORITHM_ED25519]);
    h.update(key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(ALGORITHM_ED25519);
        raw.extend_from_slice(&self.key);
        write!(f, "{}+{}+{}", self.name, self.fingerprint(), BASE64.encode(raw))
    }
}

impl std::fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verifier key of the C2SP signed-note test vector (golang.org/x/mod/sumdb/note).
    const PETER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

    #[test]
    fn parses_and_reprints_the_reference_verifier_key() {
        let vk = VerifierKey::parse(PETER).expect("reference key parses");
        assert_eq!(vk.name(), "PeterNeumann");
        assert_eq!(vk.fingerprint(), "c74f20a3");
        assert_eq!(vk.to_string(), PETER);
    }

    #[test]
    fn refuses_an_altered_key_hash_or_key() {
        let altered_hash = PETER.replace("c74f20a3", "c74f20a4");
        assert!(matches!(VerifierKey::parse(&altered_hash), Err(IdentityError::BadKeyHash(_))));
        let altered_name = PETER.replace("PeterNeumann", "PeterNeumanm");
        assert!(matches!(VerifierKey::parse(&altered_name), Err(IdentityError::BadKeyHash(_))));
        assert!(VerifierKey::parse("alpha+00").is_err());
        assert!(VerifierKey::parse("").is_err());
        assert!(VerifierKey::parse("alpha+zzzzzzzz+AAAA").is_err());
    }

    #[test]
    fn generated_keys_round_trip_and_sign() {
        let key = StationKey::generate("alpha").expect("key");
        let vk = VerifierKey::parse(&key.verifier().to_string()).expect("round trip");
        assert_eq!(vk, key.verifier());
        let sig = key.sign(b"hello");
        assert!(vk.verify(b"hello", &sig));
        assert!(!vk.verify(b"hellp", &sig));
        assert_eq!(key.verifier().to_string().parse::<VerifierKey>(), Ok(vk.clone()));
        let again = StationKey::from_seed("alpha", &key.seed()).expect("seed");
        assert_eq!(again.verifier(), vk);
        assert!(!key.pkcs8_der().is_empty());
        let text = key.to_private_text();
        assert!(text.starts_with("PRIVATE+KEY+alpha+"));
        assert_eq!(StationKey::from_private_text(&text).expect("private text").verifier(), vk);
        assert!(StationKey::from_private_text(&text.replace("+alpha+", "+bravo+")).is_err());
    }

    /// The identity point is a small-order key: with `R` the identity and `s = 0` the plain
    /// Ed25519 equation holds for every message. Strict verification refuses it.
    #[test]
    fn a_weak_key_verifies_nothing() {
        use ed25519_dalek::Verifier as _;
        let mut identity_point = [0u8; 32];
        identity_point[0] = 1;
        let mut sig_bytes = [0u8; 64];
        sig_bytes[0] = 1;
        let signature = Signature::from_bytes(&sig_bytes);
        let plain = ed25519_dalek::VerifyingKey::from_bytes(&identity_point).expect("a curve point");
        assert!(plain.verify(b"any message", &signature).is_ok(), "the plain equation accepts it");
        let weak = VerifierKey::new("mallory", identity_point).expect("key");
        assert!(!weak.verify(b"any message", &signature));
        assert!(!weak.verify(b"another message", &signature));
    }

    /// Adding the group order to `s` gives a second encoding of the same signature; it must
    /// not verify (a signature is not malleable).
    #[test]
    fn a_non_canonical_s_is_refused() {
        let key = StationKey::generate("alpha").expect("key");
        let signature = key.sign(b"hello");
        assert!(key.verifier().verify(b"hello", &signature));
        // The group order l, little-endian.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut bytes = signature.to_bytes();
        let mut carry = 0u16;
        for (b, l) in bytes[32..].iter_mut().zip(L) {
            let sum = u16::from(*b) + u16::from(l) + carry;
            *b = sum as u8;
            carry = sum >> 8;
        }
        assert!(!key.verifier().verify(b"hello", &Signature::from_bytes(&bytes)));
    }

    #[test]
    fn station_names_are_checked() {
        for ok in ["alpha", "a", "bravo-2", &"x".repeat(32)] {
            assert!(check_station_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Alpha", "a b", "a+b", "a_b", &"x".repeat(33), "é"] {
            assert!(check_station_name(bad).is_err(), "{bad}");
        }
    }
}
