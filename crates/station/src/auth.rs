//! Operators' credentials: password hashes, API tokens and console sessions.
//!
//! Passwords are stored as argon2id PHC strings. API tokens and session ids are 32 random
//! bytes shown once to their holder and stored only as SHA-256 hashes, so a copy of the
//! database does not let anyone act as an operator.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// Shortest password accepted for an operator.
#[allow(non_upper_case_globals)]
pub const password_chars_min: usize = 8;
/// Longest password accepted (argon2 would take more, but nobody types more).
#[allow(non_upper_case_globals)]
pub const password_bytes_max: usize = 1024;
/// How long a console session lasts without a new login.
#[allow(non_upper_case_globals)]
pub const session_ms_max: i64 = 12 * 3600 * 1000;

/// Prefix of API tokens, so a leaked one is recognisable in a log or a paste.
const TOKEN_PREFIX: &str = "hl_";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the password must be at least {password_chars_min} characters")]
    PasswordTooShort,
    #[error("the password must be at most {password_bytes_max} bytes")]
    PasswordTooLong,
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error("the operating system's random source failed")]
    Random,
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < password_chars_min {
        return Err(AuthError::PasswordTooShort);
    }
    if password.len() > password_bytes_max {
        return Err(AuthError::PasswordTooLong);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string (false for a damaged hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > password_bytes_max {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Like [`verify_password`], but for a user who may not exist (`phc` is `None`): then a
/// stand-in hash is checked and the answer is false, so an unknown user name takes as
/// long as a wrong password and the timing does not tell which names exist.
pub fn verify_password_or_stand_in(password: &str, phc: Option<&str>) -> bool {
    static STAND_IN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    match phc {
        Some(phc) => verify_password(password, phc),
        None => {
            let stand_in = STAND_IN.get_or_init(|| hash_password("a stand-in for users who do not exist").ok());
            if let Some(phc) = stand_in {
                let _ = verify_password(password, phc);
            }
            false
        }
    }
}

/// A new secret (API token or session id) and the hash to store.
pub fn new_secret() -> Result<(String, [u8; 32]), AuthError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|_| AuthError::Random)?;
    let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw));
    let hash = secret_hash(&secret);
    Ok((secret, hash))
}

/// The stored form of a token or session id.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A random password for demo operators.
pub fn demo_password() -> Result<String, AuthError> {
    let mut raw = [0u8; 12];
    getrandom::fill(&mut raw).map_err(|_| AuthError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_wrong_ones_do_not() {
        let phc = hash_password("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("correct horsf", &phc));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(matches!(hash_password("short"), Err(AuthError::PasswordTooShort)));
    }

    #[test]
    fn unknown_users_never_verify() {
        assert!(!verify_password_or_stand_in("a stand-in for users who do not exist", None));
        let phc = hash_password("correct horse").expect("hash");
        assert!(verify_password_or_stand_in("correct horse", Some(&phc)));
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, ha) = new_secret().expect("secret");
        let (b, _) = new_secret().expect("secret");
        assert_ne!(a, b);
        assert!(a.starts_with("hl_"));
        assert_eq!(secret_hash(&a), ha);
    }
}
