//! The recordings directory, `DIR/recordings` (0700, files 0600 like the station's other
//! files): a call being recorded is `<call-id>.opus.part`; once its recording is finished
//! and its summary is in the record (`call.recorded`, witnessed by the peer), it is
//! renamed `<call-id>.opus`, which is the file the API plays and the export copies.
//!
//! The `.part` suffix is how a station started after a crash knows which recordings were
//! never sealed: `recover_all` closes each (`hotline_recording::recover`: whole pages
//! kept, an EOS page added), records it as cut off when it had no end, and seals it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hotline_call::CallId;
use hotline_core::core::Core;
use hotline_item::PacketStream;
use hotline_line::{Command, Lines, Recording};
use hotline_recording::{Config, Summary};

/// A station recovers at most this many unsealed recordings at one start (more than
/// there can be calls at once); the rest wait for the next start, and are logged.
#[allow(non_upper_case_globals)]
const recovered_at_start_max: usize = 4096;

use hotline_core::recording_files::{self as files, PART_SUFFIX};

/// What every call's recorder thread needs.
pub(crate) struct Shared {
    /// `DIR/recordings`.
    pub(crate) dir: PathBuf,
    pub(crate) core: Arc<Core>,
    /// The line tasks, which record a sealed recording and send it to the peer.
    pub(crate) lines: Lines,
    /// For handing a finished recording to the line task from the recorder's thread.
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) config: Config,
    /// Zero on every call's clock.
    pub(crate) epoch: Instant,
}

impl Shared {
    pub(crate) fn now_ms(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }
}

/// How a recorder thread's recording ended.
pub(crate) enum Finished {
    /// Finished with its EOS page: its summary.
    Whole(Summary),
    /// The writer failed (or could not finish): what is on disk is recovered, cut off.
    Broken,
}

/// Creates `station_dir/recordings` (0700) if missing.
pub(crate) fn ensure_dir(station_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = files::dir(station_dir);
    std::fs::create_dir_all(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// Where call `call`'s recording is written while the call lasts.
pub(crate) fn part_path(dir: &Path, call: CallId) -> PathBuf {
    files::part_path(dir, &call.to_string())
}

/// Where call `call`'s sealed recording is.
pub fn sealed_path(dir: &Path, call: CallId) -> PathBuf {
    files::sealed_path(dir, &call.to_string())
}

pub(crate) use files::restrict;

/// Records call `call`'s finished recording and seals it (runs on its recorder thread).
pub(crate) fn seal(shared: &Shared, call: CallId, finished: Finished) {
    let part = part_path(&shared.dir, call);
    let (summary, cut_off) = match finished {
        Finished::Whole(summary) => (summary, false),
        Finished::Broken => match hotline_recording::recover(&part) {
            Ok(recovery) => (recovery.report.summary, true),
            Err(e) => {
                tracing::error!(call = %call, error = %e, "the recording cannot be recovered; it stays unsealed");
                return;
            }
        },
    };
    seal_summary(shared, call, &part, summary, cut_off);
}

fn seal_summary(shared: &Shared, call: CallId, part: &Path, summary: Summary, cut_off: bool) {
    tracing::info!(
        call = %call,
        sha256 = %summary.sha256_hex(),
        bytes = summary.bytes,
        duration_ms = summary.duration_ms,
        cut_off,
        "call recording finished"
    );
    // Sealed only once the record holds it: an unsealed file is recovered and recorded
    // again at the next start (a crash between the commit and the rename records it twice).
    if let Err(why) = shared.runtime.block_on(record(shared, call, &summary, cut_off)) {
        tracing::error!(call = %call, %why, "the recording is not in the record; it stays unsealed");
        return;
    }
    let sealed = sealed_path(&shared.dir, call);
    if let Err(e) = std::fs::rename(part, &sealed).and_then(|()| files::sync_dir(&shared.dir)) {
        tracing::error!(call = %call, error = %e, "the recording could not be sealed");
    }
}

/// Has the call's line task write `call.recorded` and send it to the peer.
async fn record(shared: &Shared, call: CallId, summary: &Summary, cut_off: bool) -> Result<(), String> {
    let id = call.to_string();
    let row = shared.core.read(move |tx| tx.call(&id)).await.map_err(|e| e.to_string())?;
    let row = row.ok_or("the call is not in the store")?;
    let state: hotline_call::Call = serde_json::from_str(&row.call).map_err(|e| format!("stored call: {e}"))?;
    let stream = |d: &hotline_recording::DirectionSummary| PacketStream {
        packets_sha256: d.packets_sha256_hex(),
        packets: d.packets,
    };
    let (ours, theirs) = (stream(&summary.ours), stream(&summary.theirs));
    let (caller, callee) = match state.direction {
        hotline_call::Direction::Out => (ours, theirs),
        hotline_call::Direction::In => (theirs, ours),
    };
    let recording = Recording {
        call,
        sha256: summary.sha256_hex(),
        bytes: summary.bytes,
        duration_ms: summary.duration_ms,
        cut_off,
        caller,
        callee,
    };
    let line = shared.lines.get(&row.peer).ok_or_else(|| format!("no line to {}", row.peer))?;
    line.ask(|reply| Command::Recorded { recording, reply }).await.map_err(|e| e.to_string())
}

/// Tells the call's line task that its recording stopped now (`why`), without waiting:
/// the task records `call.recording_stopped` and raises the alarm. Runs on the recorder's
/// thread or in the media path, neither of which may block on the store.
pub(crate) fn report_stopped(shared: &Shared, call: CallId, peer: &str, why: &hotline_recording::Error) {
    let stopped_ms = hotline_core::now_ms();
    let why = why.to_string();
    let Some(line) = shared.lines.get(peer) else {
        tracing::error!(call = %call, peer, "the recording stopped, on a line that is gone");
        return;
    };
    shared.runtime.spawn(async move {
        let asked = line.ask(|reply| Command::RecordingStopped { call, stopped_ms, why, reply }).await;
        if let Err(e) = asked {
            tracing::error!(call = %call, error = %e, "the stopped recording is not in the record");
        }
    });
}

/// Recovers and seals every recording a crash left unsealed (a blocking function).
pub(crate) fn recover_all(shared: &Shared) {
    let entries = match std::fs::read_dir(&shared.dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::error!(dir = %shared.dir.display(), error = %e, "cannot read the recordings directory");
            return;
        }
    };
    let parts: Vec<CallId> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.strip_suffix(PART_SUFFIX)?.parse().ok())
        .take(recovered_at_start_max + 1)
        .collect();
    if parts.len() > recovered_at_start_max {
        tracing::warn!(max = recovered_at_start_max, "more unsealed recordings than one start recovers");
    }
    for call in parts.into_iter().take(recovered_at_start_max) {
        let part = part_path(&shared.dir, call);
        match hotline_recording::recover(&part) {
            Ok(recovery) => {
                tracing::warn!(call = %call, cut_off = recovery.cut_off, dropped_bytes = recovery.dropped_bytes,
                    "recovered a recording a stop left unsealed");
                seal_summary(shared, call, &part, recovery.report.summary, recovery.cut_off);
            }
            Err(e) => tracing::error!(call = %call, error = %e, "an unsealed recording cannot be recovered"),
        }
    }
}
