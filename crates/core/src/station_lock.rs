//! One station directory, one writer: `hotline serve` holds an exclusive lock on
//! `DIR/station.lock` for as long as it runs, and an administrative command takes the
//! same lock to work on the directory directly. A command that cannot take it knows the
//! station is serving and goes through the station instead (`admin_socket`), so nothing
//! ever appends to the record behind the serving station's `Core`.
//!
//! The lock is `flock(2)`: the kernel drops it when the process dies, so a killed
//! station never leaves a stale lock behind.

use std::fs::File;
use std::path::{Path, PathBuf};

/// The lock file in a station directory.
pub const LOCK_FILE: &str = "station.lock";

/// Held while the directory is ours; dropping it releases the lock.
#[derive(Debug)]
pub struct StationLock {
    _file: File,
    pub path: PathBuf,
}

/// Whether we got the directory, or who has it.
pub enum Locked {
    Ours(StationLock),
    /// Another process (a serving station, or another command) holds the lock.
    Busy,
}

/// Tries to take `dir`'s lock without waiting.
pub fn try_lock(dir: &Path) -> std::io::Result<Locked> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(&path)?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Locked::Ours(StationLock { _file: file, path })),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(Locked::Busy),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = try_lock(dir.path()).expect("lock");
        assert!(matches!(first, Locked::Ours(_)));
        assert!(matches!(try_lock(dir.path()).expect("lock"), Locked::Busy), "a second holder is refused");
        drop(first);
        assert!(matches!(try_lock(dir.path()).expect("lock"), Locked::Ours(_)), "free again once dropped");
    }
}
