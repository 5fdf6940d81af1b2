//! The shapes our own input and the peer's must both have: language tags, operator
//! names, ids. One definition each, used by the API, the administrative commands and
//! the peer-input checks, so an operator and a peer are held to the same rules.

/// A BCP 47 tag in its common shape: a 2–8 letter primary subtag, then 1–8 alphanumeric
/// subtags, 35 characters at most.
pub fn valid_lang_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok =
        parts.next().is_some_and(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok
        && tag.len() <= 35
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Whether `id` is a UUID in its canonical form (lower-case hex, hyphenated): the only
/// form our stations make, and one that is safe in a URL path segment.
pub fn canonical_uuid(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok_and(|u| u.hyphenated().to_string() == id)
}

/// Longest operator name (`author`, `by`, a user's name).
#[allow(non_upper_case_globals)]
pub const operator_name_bytes_max: usize = 64;

/// An operator name: 1 to 64 of a-z, A-Z, 0-9, '-', '_', '.'.
pub fn valid_operator_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= operator_name_bytes_max
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}
