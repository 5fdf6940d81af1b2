//! Where a station keeps its call recordings: `DIR/recordings` (0700), one file per call
//! named by the call's id. `<id>.opus.part` is a recording still being written (or one a
//! crash left unsealed); `<id>.opus` is sealed: its summary is in the record
//! (`call.recorded`), so it is the file the API plays, the export copies and `hotline
//! verify` checks. The recorder (`hotline-callmedia`) writes them; the API and the export
//! only read sealed ones, through the functions here, so the layout lives in one place.

use std::path::{Path, PathBuf};

use crate::admin::AdminError;

/// The recordings directory's name inside a station directory.
pub const RECORDINGS_DIR: &str = "recordings";
/// A recording being written.
pub const PART_SUFFIX: &str = ".opus.part";
/// A sealed recording.
pub const SEALED_SUFFIX: &str = ".opus";

/// Most sealed recordings one export copies (the directory is listed into memory).
#[allow(non_upper_case_globals)]
pub const recordings_listed_max: usize = 1_000_000;

/// `station_dir/recordings`.
pub fn dir(station_dir: &Path) -> PathBuf {
    station_dir.join(RECORDINGS_DIR)
}

/// Where call `call`'s sealed recording is, in a recordings directory.
pub fn sealed_path(recordings: &Path, call: &str) -> PathBuf {
    recordings.join(format!("{call}{SEALED_SUFFIX}"))
}

/// Where call `call`'s recording is written while the call lasts.
pub fn part_path(recordings: &Path, call: &str) -> PathBuf {
    recordings.join(format!("{call}{PART_SUFFIX}"))
}

/// The calls with a sealed recording in `recordings`, sorted; none when the directory
/// does not exist (a station that never recorded a call).
pub fn sealed_calls(recordings: &Path) -> std::io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(recordings) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut calls = Vec::new();
    for entry in entries {
        let name = entry?.file_name();
        let Some(call) = name.to_str().and_then(|n| n.strip_suffix(SEALED_SUFFIX)) else { continue };
        // Only names the recorder makes: a call id is a UUID.
        if uuid::Uuid::try_parse(call).is_ok() && calls.len() < recordings_listed_max {
            calls.push(call.to_owned());
        }
    }
    calls.sort_unstable();
    Ok(calls)
}

/// Copies the sealed recordings of `calls` from `recordings` into `to` (created if
/// missing), each through a `.partial` file synced and renamed, 0600 like the station's
/// own. Returns how many were copied.
pub fn copy_sealed(recordings: &Path, calls: &[String], to: &Path) -> Result<usize, AdminError> {
    let failed =
        |path: &Path, e: std::io::Error| AdminError::File { path: path.display().to_string(), what: e.to_string() };
    std::fs::create_dir_all(to).map_err(|e| failed(to, e))?;
    for call in calls {
        let from = sealed_path(recordings, call);
        let dest = sealed_path(to, call);
        let partial = to.join(format!("{call}{SEALED_SUFFIX}.partial"));
        std::fs::copy(&from, &partial).map_err(|e| failed(&from, e))?;
        restrict(&partial);
        std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| failed(&partial, e))?;
        std::fs::rename(&partial, &dest).map_err(|e| failed(&dest, e))?;
    }
    sync_dir(to).map_err(|e| failed(to, e))?;
    Ok(calls.len())
}

/// Makes a recording readable by the station's user only.
pub fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!(path = %path.display(), error = %e, "could not make the recording 0600");
        }
    }
}

/// Syncs a directory, so that a rename in it survives a power loss.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sealed_recordings_named_by_a_call_id_are_listed_and_copied() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recordings = dir.path().join(RECORDINGS_DIR);
        assert_eq!(sealed_calls(&recordings).expect("no directory is no recording"), Vec::<String>::new());
        std::fs::create_dir_all(&recordings).expect("mkdir");
        let (a, b) = ("6f1c1d0e-3b7a-4c3e-9a57-2f1f0d3c5b11", "0a6d3d4c-1b2a-4c3e-9a57-2f1f0d3c5b12");
        std::fs::write(sealed_path(&recordings, a), b"OggS a").expect("write");
        std::fs::write(sealed_path(&recordings, b), b"OggS b").expect("write");
        std::fs::write(part_path(&recordings, "1d2c3b4a-1b2a-4c3e-9a57-2f1f0d3c5b13"), b"OggS").expect("write");
        std::fs::write(recordings.join("notes.opus"), b"not a call").expect("write");
        let calls = sealed_calls(&recordings).expect("listed");
        assert_eq!(calls, vec![b.to_owned(), a.to_owned()]);
        let out = dir.path().join("out");
        assert_eq!(copy_sealed(&recordings, &calls, &out).expect("copied"), 2);
        assert_eq!(std::fs::read(sealed_path(&out, a)).expect("copy"), b"OggS a");
        let names: Vec<_> =
            std::fs::read_dir(&out).expect("out").filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
        assert_eq!(names.len(), 2, "no .partial left behind: {names:?}");
    }
}
