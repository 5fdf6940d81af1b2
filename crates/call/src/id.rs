//! Call ids and operator names: the two identifiers a peer hands us, checked once, on the
//! way in, so that nothing past the parser ever holds an unchecked one.
//!
//! A call id is a 16-byte UUID made by the calling station. The station makes version-7
//! UUIDs (a millisecond timestamp, then random bits), and only those are accepted: a peer
//! that sends anything else is not a hotline station. Version 7 also gives glare its rule
//! a meaning: the lower id is, give or take clock skew, the earlier attempt.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::IdError;

/// Longest operator name carried in a step, in bytes of UTF-8. Names are user names of
/// the station (`hotline user add`), which are short; the bound keeps hostile steps small.
pub const OPERATOR_NAME_BYTES_MAX: usize = 64;

/// A call's id: the same UUID (version 7) at both stations.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId([u8; 16]);

impl CallId {
    /// The id in `bytes`, if they are a version-7 UUID of the RFC 9562 variant.
    pub fn from_bytes(bytes: [u8; 16]) -> Result<CallId, IdError> {
        let version = bytes[6] >> 4;
        let variant = bytes[8] >> 6;
        if version != 7 || variant != 0b10 {
            return Err(IdError::NotUuidV7);
        }
        Ok(CallId(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for CallId {
    /// The hyphenated lower-case form, `018f…-…`, as the API shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallId({self})")
    }
}

impl FromStr for CallId {
    type Err = IdError;

    /// Parses the hyphenated form (36 characters), the only one [`CallId`] prints.
    fn from_str(s: &str) -> Result<CallId, IdError> {
        let text = s.as_bytes();
        if text.len() != 36 {
            return Err(IdError::Malformed);
        }
        let mut bytes = [0u8; 16];
        let mut digits = text.iter().enumerate().filter(|(i, _)| !matches!(i, 8 | 13 | 18 | 23));
        if [8, 13, 18, 23].iter().any(|&i| text[i] != b'-') {
            return Err(IdError::Malformed);
        }
        for byte in &mut bytes {
            let (Some((_, hi)), Some((_, lo))) = (digits.next(), digits.next()) else {
                return Err(IdError::Malformed);
            };
            *byte = (hex(*hi)? << 4) | hex(*lo)?;
        }
        CallId::from_bytes(bytes)
    }
}

fn hex(c: u8) -> Result<u8, IdError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(IdError::Malformed),
    }
}

impl Serialize for CallId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CallId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CallId, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The name of the operator who did something, as a message's `author` names them:
/// 1 to [`OPERATOR_NAME_BYTES_MAX`] bytes of UTF-8 without control characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Operator(String);

impl Operator {
    pub fn new(name: &str) -> Result<Operator, IdError> {
        if name.is_empty() || name.len() > OPERATOR_NAME_BYTES_MAX {
            return Err(IdError::OperatorLength { bytes: name.len() });
        }
        if name.chars().any(char::is_control) {
            return Err(IdError::OperatorControl);
        }
        Ok(Operator(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<'de> Deserialize<'de> for Operator {
    /// Checked like a name from the wire: a persisted state read back is input too.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Operator, D::Error> {
        let text = String::deserialize(deserializer)?;
        Operator::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn v7(n: u8) -> [u8; 16] {
        let mut b = [n; 16];
        b[6] = 0x70 | (n & 0x0f);
        b[8] = 0x80 | (n & 0x3f);
        b
    }

    #[test]
    fn ids_print_and_parse_back() {
        let id = CallId::from_bytes(v7(0x1a)).expect("v7");
        expect!["1a1a1a1a-1a1a-7a1a-9a1a-1a1a1a1a1a1a"].assert_eq(&id.to_string());
        assert_eq!(id.to_string().parse::<CallId>(), Ok(id));
    }

    #[test]
    fn only_version_7_ids_are_accepted() {
        let mut v4 = v7(3);
        v4[6] = 0x43;
        let checks = [
            CallId::from_bytes(v4).map(|_| ()),
            CallId::from_bytes([0; 16]).map(|_| ()),
            "not-a-uuid".parse::<CallId>().map(|_| ()),
            "1A1A1A1A-1A1A-7A1A-9A1A-1A1A1A1A1A1A".parse::<CallId>().map(|_| ()),
            "1a1a1a1a-1a1a-7a1a-9a1a+1a1a1a1a1a1a".parse::<CallId>().map(|_| ()),
        ];
        expect![[r#"
            [
                Err(
                    NotUuidV7,
                ),
                Err(
                    NotUuidV7,
                ),
                Err(
                    Malformed,
                ),
                Err(
                    Malformed,
                ),
                Err(
                    Malformed,
                ),
            ]
        "#]]
        .assert_debug_eq(&checks);
    }

    #[test]
    fn operator_names_are_bounded_and_printable() {
        let long = "x".repeat(OPERATOR_NAME_BYTES_MAX + 1);
        let checks = [Operator::new("duty-1"), Operator::new(""), Operator::new(&long), Operator::new("a\nb")];
        expect![[r#"
            [
                Ok(
                    "duty-1",
                ),
                Err(
                    OperatorLength {
                        bytes: 0,
                    },
                ),
                Err(
                    OperatorLength {
                        bytes: 65,
                    },
                ),
                Err(
                    OperatorControl,
                ),
            ]
        "#]]
        .assert_debug_eq(&checks);
    }
}
