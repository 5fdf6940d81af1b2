//! Operators' credentials: password hashes, API tokens and console sessions.
//!
//! Passwords are stored as argon2id PHC strings. API tokens and session ids are 32 random
//! bytes shown once to their holder and stored only as SHA-256 hashes, so a copy of the
//! database does not let anyone act as an operator.
//!
//! Argon2 is slow and memory-hungry by design (tens of milliseconds and 19 MiB a hash),
//! so hashing and checking run on a small pool of their own ([`hash_on_pool`],
//! [`verify_on_pool`]) with a bounded queue: a flood of logins waits there, or is told
//! the station is busy, instead of filling tokio's blocking pool, which the store uses.

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

/// Threads that hash and check passwords.
#[allow(non_upper_case_globals)]
pub const password_threads: usize = 2;
/// Hash and check jobs waiting for one of those threads; one more is refused as busy.
#[allow(non_upper_case_globals)]
pub const password_jobs_queued_max: usize = 32;

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
    #[error("the station is busy checking passwords; try again in a second")]
    Busy,
}

type Job = Box<dyn FnOnce() + Send>;

/// The password threads and their queue.
struct PasswordPool {
    jobs: std::sync::mpsc::SyncSender<Job>,
    threads: usize,
}

fn pool() -> &'static PasswordPool {
    static POOL: std::sync::OnceLock<PasswordPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(password_jobs_queued_max);
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        let mut threads = 0;
        for i in 0..password_threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("hotline-password-{i}")).spawn(move || {
                loop {
                    // One thread waits on the queue while holding the lock; the other waits for the lock.
                    let job = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                    let Ok(job) = job else { return };
                    // A panic in one job must not take the thread with it.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
            match spawned {
                Ok(_) => threads += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a password thread"),
            }
        }
        PasswordPool { jobs, threads }
    })
}

/// Runs `f` on the password pool; [`AuthError::Busy`] when its queue is full.
async fn on_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AuthError> {
    let pool = pool();
    if pool.threads == 0 {
        return Err(AuthError::Busy);
    }
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(f());
    });
    pool.jobs.try_send(job).map_err(|_| AuthError::Busy)?;
    // Dropped without an answer only if the job panicked.
    result.await.map_err(|_| AuthError::Hash("the password check failed".into()))
}

/// [`hash_password`] on the password pool.
pub async fn hash_on_pool(password: String) -> Result<String, AuthError> {
    on_pool(move || hash_password(&password)).await?
}

/// [`verify_password_or_stand_in`] on the password pool: `Ok(false)` for a wrong password
/// or an unknown user, `Err(Busy)` when the pool's queue is full.
pub async fn verify_on_pool(password: String, phc: Option<String>) -> Result<bool, AuthError> {
    on_pool(move || verify_password_or_stand_in(&password, phc.as_deref())).await
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

    #[tokio::test]
    async fn the_pool_hashes_and_verifies_and_refuses_past_its_queue() {
        let phc = hash_on_pool("correct horse".into()).await.expect("hash");
        assert!(verify_on_pool("correct horse".into(), Some(phc.clone())).await.expect("verify"));
        assert!(!verify_on_pool("correct horse".into(), None).await.expect("verify"));
        // Fill the threads and the queue with jobs that wait for a release: one more is busy.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        let mut held = 0;
        loop {
            let wait = wait.clone();
            let job: Job = Box::new(move || {
                let _ = wait.lock().map(|w| w.recv());
            });
            if pool().jobs.try_send(job).is_err() {
                break;
            }
            held += 1;
        }
        assert!(held >= password_jobs_queued_max, "{held}");
        assert!(matches!(verify_on_pool("x".into(), Some(phc.clone())).await, Err(AuthError::Busy)));
        for _ in 0..held {
            let _ = release.send(());
        }
        // The threads drain the queue; then checks run again.
        for _ in 0..500 {
            match verify_on_pool("correct horse".into(), Some(phc.clone())).await {
                Err(AuthError::Busy) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                verified => {
                    assert!(verified.expect("verify"), "free again");
                    return;
                }
            }
        }
        panic!("the pool stayed busy after its jobs were released");
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
