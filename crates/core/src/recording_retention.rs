//! When a call recording goes: by retention, or by a supervisor, and never silently.
//!
//! Each station keeps its recording of a call for the line's `recording_retention_days`,
//! or for as long as the peer said it keeps its own (its `call_recorded` item states it),
//! whichever is longer — so neither side can let its copy of a disputed call lapse
//! before the other's. A deletion is a record entry (`call.recording_deleted`: which
//! file, by whom, why) and a mark on the recording's row; the statement with its hashes
//! stays in the record forever, so the recording stays provable against the peer's copy.
//!
//! The order is entry first, file second: a crash between the two leaves a file the
//! record says is deleted (removed at the next start, [`remove_deleted_files`]), never a
//! file gone without a word, which `hotline verify` would rightly call missing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hotline_store::StoreError;
use serde_json::json;

use crate::core::Core;
use crate::entry_kind::EntryKind;
use crate::recording_files::{sealed_calls, sealed_path};

/// How often the retention sweep looks for recordings whose time is up.
#[allow(non_upper_case_globals)]
pub const retention_sweep_interval_ms: u64 = 3600 * 1000;
/// Most recordings one sweep transaction reads; a sweep goes on until none is due.
#[allow(non_upper_case_globals)]
pub const retention_sweep_batch_max: i64 = 256;
/// Most recordings one sweep deletes (a station back after years away catches up over
/// several sweeps rather than holding the store for long).
#[allow(non_upper_case_globals)]
pub const retention_sweep_deletions_max: usize = 10_000;
/// Longest reason a supervisor may give for deleting a recording.
#[allow(non_upper_case_globals)]
pub const deletion_reason_bytes_max: usize = 1024;

/// Who deletes a recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deleter {
    /// Its retention ran out after `kept_days`.
    Retention { kept_days: u32 },
    /// A supervisor, for a reason they give.
    Supervisor { by: String, reason: String },
}

impl Deleter {
    /// The row's `deleted_why`, and what the console shows.
    fn why(&self) -> String {
        match self {
            Deleter::Retention { .. } => "retention".to_owned(),
            Deleter::Supervisor { by, reason } => format!("by supervisor {by}: {reason}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyDeleted(String),
    #[error("{0}")]
    BadReason(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Deletes call `call`'s recording: the entry and the row's mark in one transaction,
/// then the file.
pub async fn delete(core: &Core, recordings: &Path, call: &str, deleter: Deleter) -> Result<(), DeleteError> {
    // The reason as the record keeps it: trimmed, once, for the entry and the row alike.
    let deleter = match deleter {
        Deleter::Supervisor { by, reason } => {
            let reason = reason.trim();
            if reason.is_empty() || reason.len() > deletion_reason_bytes_max {
                return Err(DeleteError::BadReason(format!(
                    "say why the recording is deleted, in 1 to {deletion_reason_bytes_max} bytes: the record keeps it"
                )));
            }
            Deleter::Supervisor { by, reason: reason.to_owned() }
        }
        retention => retention,
    };
    let wanted = call.to_owned();
    let outcome = core
        .write(move |j| {
            let Some(row) = j.tx.call_recording(&wanted)? else {
                return Ok(Err(DeleteError::NotFound(format!("no recording of call {wanted} here"))));
            };
            if row.deleted_ms.is_some() {
                return Ok(Err(DeleteError::AlreadyDeleted(format!(
                    "the recording of call {wanted} is already deleted ({})",
                    row.deleted_why.unwrap_or_default()
                ))));
            }
            let peer = j.tx.call(&wanted)?.map(|c| c.peer).unwrap_or_default();
            j.tx.mark_recording_deleted(&wanted, j.now_ms, &deleter.why())?;
            let mut body = json!({"peer": peer, "id": wanted, "sha256": row.sha256, "bytes": row.bytes});
            match &deleter {
                Deleter::Retention { kept_days } => {
                    body["why"] = "retention".into();
                    body["kept_days"] = (*kept_days).into();
                }
                Deleter::Supervisor { by, reason } => {
                    body["why"] = "supervisor".into();
                    body["by"] = by.as_str().into();
                    body["reason"] = reason.as_str().into();
                }
            }
            j.append(EntryKind::CallRecordingDeleted, body)?;
            Ok(Ok(()))
        })
        .await?;
    outcome?;
    remove_file(recordings, call);
    Ok(())
}

/// Deletes every recording whose retention ran out by `now_ms` (at most
/// [`retention_sweep_deletions_max`]); returns how many.
pub async fn sweep(core: &Core, recordings: &Path, now_ms: i64) -> Result<usize, StoreError> {
    let mut deleted = 0;
    while deleted < retention_sweep_deletions_max {
        let due = core.read(move |tx| tx.recordings_due(now_ms, retention_sweep_batch_max)).await?;
        if due.is_empty() {
            break;
        }
        let before = deleted;
        for d in due {
            match delete(core, recordings, &d.call, Deleter::Retention { kept_days: d.kept_days }).await {
                Ok(()) => deleted += 1,
                // Deleted by a supervisor meanwhile: nothing left to do.
                Err(DeleteError::AlreadyDeleted(_) | DeleteError::NotFound(_)) => {}
                Err(DeleteError::Store(e)) => return Err(e),
                Err(DeleteError::BadReason(why)) => return Err(StoreError::Invariant(why)),
            }
        }
        if deleted == before {
            // Every due recording was deleted by someone else meanwhile: they are not
            // due any more, and the next read will say so; never spin on them.
            break;
        }
    }
    Ok(deleted)
}

/// Removes the files of recordings the record says are deleted: what a crash between a
/// deletion's entry and its unlink left behind.
pub async fn remove_deleted_files(core: &Core, recordings: &Path) -> Result<usize, StoreError> {
    let calls = match sealed_calls(recordings) {
        Ok(calls) => calls,
        Err(e) => {
            tracing::warn!(dir = %recordings.display(), error = %e, "cannot list the recordings");
            return Ok(0);
        }
    };
    let deleted = core
        .read(move |tx| {
            let mut deleted = Vec::new();
            for call in calls {
                if tx.call_recording(&call)?.is_some_and(|r| r.deleted_ms.is_some()) {
                    deleted.push(call);
                }
            }
            Ok(deleted)
        })
        .await?;
    for call in &deleted {
        remove_file(recordings, call);
    }
    Ok(deleted.len())
}

/// The station's retention task: left-over files first, then a sweep every
/// [`retention_sweep_interval_ms`]. A failing sweep is logged and tried again at the next.
pub async fn run(core: Arc<Core>, recordings: std::path::PathBuf) {
    match remove_deleted_files(&core, &recordings).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(n, "removed the files of recordings deleted before a crash"),
        Err(e) => tracing::error!(error = %e, "could not look for deleted recordings' files"),
    }
    let mut every = tokio::time::interval(Duration::from_millis(retention_sweep_interval_ms));
    loop {
        every.tick().await;
        match sweep(&core, &recordings, crate::now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "deleted call recordings whose retention ran out"),
            Err(e) => tracing::error!(error = %e, "the recording retention sweep failed; trying again later"),
        }
    }
}

fn remove_file(recordings: &Path, call: &str) {
    let path = sealed_path(recordings, call);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            if let Err(e) = crate::recording_files::sync_dir(recordings) {
                tracing::warn!(dir = %recordings.display(), error = %e, "could not sync the recordings directory");
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // The record says deleted: the next start tries again (remove_deleted_files).
        Err(e) => tracing::error!(path = %path.display(), error = %e, "could not delete a recording's file"),
    }
}
