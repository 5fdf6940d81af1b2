//! Safety numbers: the digits two operators read aloud to each other to check, out of
//! band, that each station pinned the other's real key (issue #15, key ceremony).
//!
//! A verifier key is 56 characters of base64 that nobody reads over a telephone. Signal
//! solved the same problem with a *safety number*: each side's key becomes 30 decimal
//! digits through a slow iterated hash, and the two halves are put in a fixed order so
//! that both ends show the same 60 digits. Hotline follows Signal's `NumericFingerprint`
//! construction (5200 iterations of SHA-512, five digits from every five bytes) with its
//! own version byte and the station name as the stable identifier.
//!
//! The derivation is a contract between stations, possibly of different versions: if it
//! changed, two honest stations would show different numbers and the operators would
//! rightly refuse the line. Change it only together with [`fingerprint_version`], and keep
//! the known-answer test below passing for the version it names.

use sha2::{Digest as _, Sha512};

use crate::VerifierKey;

/// The version byte hashed in front of every fingerprint. A different derivation must use
/// another value, so that two derivations never produce the same digits by accident.
#[allow(non_upper_case_globals)]
pub const fingerprint_version: u8 = 1;

/// SHA-512 rounds per fingerprint, as Signal's: slow enough that finding a key whose 30
/// digits match a chosen station's costs 5200 times more work, fast enough (about a
/// millisecond) to compute for every line.
#[allow(non_upper_case_globals)]
pub const fingerprint_iterations: u32 = 5200;

/// Digits in one station's fingerprint: six groups of five.
#[allow(non_upper_case_globals)]
pub const fingerprint_digits_count: usize = 30;

/// Digits shown in one group, the unit read aloud.
#[allow(non_upper_case_globals)]
pub const digit_group_len: usize = 5;

/// The 60 digits that both operators of a line read to each other, the same on both
/// stations. `Display` writes them in 12 groups of 5 separated by single spaces.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SafetyNumber {
    /// Exactly 60 ASCII digits, the lower station fingerprint first.
    digits: String,
}

impl SafetyNumber {
    /// The 60 digits without spaces.
    pub fn digits(&self) -> &str {
        &self.digits
    }
}

impl std::fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&grouped(&self.digits))
    }
}

impl std::fmt::Debug for SafetyNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SafetyNumber({self})")
    }
}

/// The safety number of the line between the stations holding `a` and `b`, the same
/// whichever order the keys are given in (so both ends of the line compute the same).
///
/// Derivation (version 1; a contract between stations, see the module comment):
///
/// 1. For each key, with `K` its 32-byte Ed25519 public key and `N` its station name in
///    UTF-8: `h = 0x01 || K || N`, then 5200 times `h = SHA-512(h || K)`.
/// 2. That key's fingerprint is 30 digits: for `i` in `0..6`, bytes `h[5i..5i+5]` read as
///    a 40-bit big-endian unsigned integer, modulo 100000, written as 5 digits with
///    leading zeros (this is [`fingerprint_digits`] without the spaces).
/// 3. The safety number is the two 30-digit fingerprints concatenated, the smaller one
///    (as a string of digits, equivalently as a number) first: 60 digits, shown in 12
///    groups of 5. Each operator can thus find their own station's fingerprint in it.
///
/// This is Signal's `NumericFingerprintGenerator` scheme (libsignal, version 0, 5200
/// iterations) with a one-byte version 0x01 in place of Signal's two-byte version 0, and
/// the station name as the stable identifier.
pub fn safety_number(a: &VerifierKey, b: &VerifierKey) -> SafetyNumber {
    let (a, b) = (fingerprint(a), fingerprint(b));
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let digits = low + &high;
    // Both halves are fixed width, so the split point the other station uses is ours too.
    assert_eq!(digits.len(), 2 * fingerprint_digits_count);
    SafetyNumber { digits }
}

/// One station's own fingerprint, 30 digits in 6 groups of 5 (steps 1 and 2 of
/// [`safety_number`]): what `hotline key` prints, and one half of every safety number of
/// that station's lines.
pub fn fingerprint_digits(key: &VerifierKey) -> String {
    grouped(&fingerprint(key))
}

/// Steps 1 and 2 of the derivation: 30 digits, no spaces.
fn fingerprint(key: &VerifierKey) -> String {
    let key_bytes = key.key_bytes();
    // Round 1 hashes the version, key and name; every later round the previous digest.
    let mut sha = Sha512::new();
    sha.update([fingerprint_version]);
    sha.update(key_bytes);
    sha.update(key.name().as_bytes());
    sha.update(key_bytes);
    let mut hash = sha.finalize();
    for _ in 1..fingerprint_iterations {
        let mut sha = Sha512::new();
        sha.update(hash);
        sha.update(key_bytes);
        hash = sha.finalize();
    }
    let mut digits = String::with_capacity(fingerprint_digits_count);
    for chunk in hash.chunks_exact(5).take(fingerprint_digits_count / digit_group_len) {
        let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        digits.push_str(&format!("{:05}", value % 100_000));
    }
    assert_eq!(digits.len(), fingerprint_digits_count);
    digits
}

/// `digits` in groups of [`digit_group_len`] separated by single spaces.
fn grouped(digits: &str) -> String {
    let groups: Vec<&str> = digits
        .as_bytes()
        .chunks(digit_group_len)
        // The digits are ASCII, so every chunk is valid UTF-8.
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect();
    groups.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StationKey;

    fn station(name: &str, seed_byte: u8) -> VerifierKey {
        StationKey::from_seed(name, &[seed_byte; 32]).expect("key").verifier()
    }

    /// Written down once from this code and checked against an independent Python
    /// implementation of the documented derivation; it must never change for version 1.
    #[test]
    fn known_answer() {
        let alpha = station("alpha", 1);
        let bravo = station("bravo", 2);
        assert_eq!(alpha.to_string(), "alpha+7a1e8781+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c");
        assert_eq!(bravo.to_string(), "bravo+da7ac98a+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU");
        let expected_alpha = "70062 51968 97759 43387 32931 89544";
        let expected_bravo = "17274 48184 01261 81247 32103 99982";
        let expected_line = "17274 48184 01261 81247 32103 99982 70062 51968 97759 43387 32931 89544";
        assert_eq!(fingerprint_digits(&alpha), expected_alpha);
        assert_eq!(fingerprint_digits(&bravo), expected_bravo);
        assert_eq!(safety_number(&alpha, &bravo).to_string(), expected_line);
    }

    #[test]
    fn both_ends_compute_the_same_number() {
        let alpha = station("alpha", 1);
        let bravo = station("bravo", 2);
        assert_eq!(safety_number(&alpha, &bravo), safety_number(&bravo, &alpha));
        let number = safety_number(&alpha, &bravo).to_string();
        // Each operator finds their own station's fingerprint in it.
        assert!(number.contains(&fingerprint_digits(&alpha)));
        assert!(number.contains(&fingerprint_digits(&bravo)));
    }

    #[test]
    fn changes_when_either_key_or_name_changes() {
        let alpha = station("alpha", 1);
        let bravo = station("bravo", 2);
        let line = safety_number(&alpha, &bravo);
        assert_ne!(safety_number(&station("alpha", 3), &bravo), line);
        assert_ne!(safety_number(&alpha, &station("bravo", 3)), line);
        // The same key under another name is another station.
        assert_ne!(safety_number(&station("alpha2", 1), &bravo), line);
    }

    #[test]
    fn display_is_twelve_groups_of_five_digits() {
        let number = safety_number(&station("alpha", 1), &station("bravo", 2));
        let text = number.to_string();
        let groups: Vec<&str> = text.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(groups.iter().all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
        assert_eq!(number.digits(), text.replace(' ', ""));
        let own = fingerprint_digits(&station("alpha", 1));
        assert_eq!(own.split(' ').count(), 6);
        assert_eq!(own.len(), 6 * 5 + 5);
    }
}
