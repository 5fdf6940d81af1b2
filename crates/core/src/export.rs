//! The record export: everything an auditor needs to check a station's record without
//! trusting its software (docs/record-format.md, version 1).
//!
//! An export first signs a fresh checkpoint, then writes exactly the entries that
//! checkpoint covers, so the file is complete in itself: entries appended while the export
//! is written belong to the next one. It is written page by page ([`ExportCursor`]): each
//! page is one short read transaction under the store's lock, so exporting a record of a
//! million entries neither holds the lock that every write waits for, nor holds the whole
//! record in memory, for longer than a page. The record is append-only, so pages read at
//! different moments still add up to the one tree size the export began with.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use crate::admin::AdminError;
use crate::core::Core;
use hotline_identity::{StationKey, VerifierKey};
use hotline_store::StoreError;

/// Entries read per page of an export (one read transaction each): a few hundred
/// kilobytes of typical entries, a few milliseconds under the store's lock.
#[allow(non_upper_case_globals)]
pub const export_page_entries_max: u64 = 1000;
/// Checkpoints (with their cosignatures) read per page of an export.
#[allow(non_upper_case_globals)]
pub const export_page_checkpoints_max: u64 = 500;

/// Where an export being written has got to.
#[derive(Debug)]
enum Part {
    Head(String),
    Entries,
    Checkpoints,
    Done,
}

/// An export in progress: [`begin`] it, then call [`ExportCursor::next_chunk`] until it
/// says the text is complete. The chunks, in order, are byte for byte the text of
/// `hotline_audit::Export::to_json` for the record at the size the export began with.
#[derive(Debug)]
pub struct ExportCursor {
    /// The tree size of the checkpoint signed when the export began: its last entry.
    size: u64,
    part: Part,
    /// Entries written so far (the last one's index).
    entries_written: u64,
    /// The size of the last checkpoint written (0: none yet).
    last_checkpoint: u64,
    checkpoints_written: u64,
}

/// Signs a checkpoint of the whole record and starts an export of exactly what it covers.
/// An empty record has nothing to export (an error, before any byte is written).
pub async fn begin(core: &Core, key: Arc<StationKey>, peers: &[VerifierKey]) -> Result<ExportCursor, StoreError> {
    let verifier = key.verifier();
    let Some((size, _)) = core.checkpoint(key).await? else {
        return Err(StoreError::Corrupt("the record is empty: nothing to export".into()));
    };
    let peers = with_removed_peers(core, peers, size).await?;
    // The auditor's own type writes the file's frame, so the two can never disagree on its form.
    let head = hotline_audit::export_head(&verifier, &peers);
    Ok(ExportCursor { size, part: Part::Head(head), entries_written: 0, last_checkpoint: 0, checkpoints_written: 0 })
}

/// The peers an export lists: every line's key now, and for a peer whose line was removed
/// (and not added again) the key its last `line.removed` entry says it pinned. The record
/// keeps that peer's items and cosignatures, so the auditor needs its key to check them;
/// keys a line pinned before a key change are in the `line.removed` entries themselves,
/// where the auditor reads them (hotline_audit's `PeerKeys`).
async fn with_removed_peers(core: &Core, peers: &[VerifierKey], size: u64) -> Result<Vec<VerifierKey>, StoreError> {
    let removed = core.read(move |tx| crate::admin::lines::removed_keys(tx, size as i64)).await?;
    let mut all = peers.to_vec();
    for (peer, key) in removed {
        if all.iter().any(|p| p.name() == peer) {
            continue;
        }
        match VerifierKey::parse(&key) {
            Ok(key) => all.push(key),
            // Our own entry, written by `admin::lines`: unreadable means an edited record,
            // which the auditor will name; the export still lists what it can.
            Err(e) => {
                tracing::warn!(%peer, error = %e, "a line.removed entry's key does not parse; the export cannot list it")
            }
        }
    }
    Ok(all)
}

impl ExportCursor {
    /// The number of entries the export holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The next piece of the export's text, reading at most one page from the store (in a
    /// read transaction of its own); `None` once the text is complete.
    pub async fn next_chunk(&mut self, core: &Core) -> Result<Option<String>, StoreError> {
        match std::mem::replace(&mut self.part, Part::Done) {
            Part::Head(head) => {
                self.part = Part::Entries;
                Ok(Some(head))
            }
            Part::Entries if self.entries_written == self.size => {
                self.part = Part::Checkpoints;
                Ok(Some(hotline_audit::EXPORT_ENTRIES_END.to_owned()))
            }
            Part::Entries => {
                let chunk = self.entries_page(core).await?;
                self.part = Part::Entries;
                Ok(Some(chunk))
            }
            Part::Checkpoints => match self.checkpoints_page(core).await? {
                Some(chunk) => {
                    self.part = Part::Checkpoints;
                    Ok(Some(chunk))
                }
                None => Ok(Some(hotline_audit::EXPORT_END.to_owned())),
            },
            Part::Done => Ok(None),
        }
    }

    async fn entries_page(&mut self, core: &Core) -> Result<String, StoreError> {
        let after = self.entries_written;
        let limit = (self.size - after).min(export_page_entries_max);
        let page = core.read(move |tx| tx.entries_after(after as i64, limit as i64)).await?;
        if page.is_empty() {
            return Err(StoreError::Corrupt(format!("the record has {after} entries, its checkpoint {}", self.size)));
        }
        let mut chunk = String::new();
        for entry in page {
            // Entries are gap-free from 1: anything else is a record edited behind our back.
            if entry.idx as u64 != self.entries_written + 1 {
                return Err(StoreError::Corrupt(format!(
                    "the record skips from entry {} to {}",
                    self.entries_written, entry.idx
                )));
            }
            if self.entries_written > 0 {
                chunk.push(',');
            }
            chunk.push_str(&hotline_audit::export_string(&entry.body));
            self.entries_written += 1;
        }
        Ok(chunk)
    }

    /// The next page of checkpoints up to the export's size, each with its cosignature
    /// lines; `None` when there are no more.
    async fn checkpoints_page(&mut self, core: &Core) -> Result<Option<String>, StoreError> {
        let (after, up_to) = (self.last_checkpoint, self.size);
        let page = core
            .read(move |tx| {
                let mut notes = Vec::new();
                for (size, note) in tx.checkpoints_between(after, up_to, export_page_checkpoints_max as i64)? {
                    let lines: String = tx.cosignatures(size)?.into_iter().map(|(_, line)| line).collect();
                    notes.push((size, format!("{note}{lines}")));
                }
                Ok(notes)
            })
            .await?;
        if page.is_empty() {
            return Ok(None);
        }
        let mut chunk = String::new();
        for (size, note) in page {
            if self.checkpoints_written > 0 {
                chunk.push(',');
            }
            chunk.push_str(&hotline_audit::export_string(&note));
            self.checkpoints_written += 1;
            self.last_checkpoint = size;
        }
        Ok(Some(chunk))
    }
}

/// The whole record as the export file's text (compact JSON), read page by page.
pub async fn export(core: &Core, key: Arc<StationKey>, peers: Vec<VerifierKey>) -> Result<String, StoreError> {
    let mut cursor = begin(core, key, &peers).await?;
    let mut text = String::new();
    while let Some(chunk) = cursor.next_chunk(core).await? {
        text.push_str(&chunk);
    }
    Ok(text)
}

/// `hotline log export DIR`: the export of a station directory, whether or not the
/// station is serving (SQLite's WAL lets both read; the checkpoint signed here is the
/// same one the station would sign for that size, Ed25519 being deterministic).
pub async fn export_dir(dir: &Path) -> Result<String, AdminError> {
    let (core, key, peers) = open_dir(dir)?;
    Ok(export(&core, key, peers).await?)
}

/// `hotline log export DIR --out FILE`: [`export_dir`] written to `out` a page at a time
/// (the command holds a page, not the record), through `FILE.partial` renamed into place
/// once complete, so a failed export never leaves a truncated file under `out`'s name.
/// Returns the number of entries.
pub async fn export_dir_to(dir: &Path, out: &Path) -> Result<u64, AdminError> {
    let (core, key, peers) = open_dir(dir)?;
    let mut cursor = begin(&core, key, &peers).await?;
    let mut partial_name = out.as_os_str().to_owned();
    partial_name.push(".partial");
    let partial = std::path::PathBuf::from(partial_name);
    let failed = |e: std::io::Error| AdminError::File { path: partial.display().to_string(), what: e.to_string() };
    let mut file = std::io::BufWriter::new(std::fs::File::create(&partial).map_err(failed)?);
    let written = async {
        while let Some(chunk) = cursor.next_chunk(&core).await? {
            file.write_all(chunk.as_bytes()).map_err(failed)?;
        }
        file.into_inner().map_err(|e| failed(e.into_error()))?.sync_all().map_err(failed)
    }
    .await;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, out)
        .map_err(|e| AdminError::File { path: out.display().to_string(), what: e.to_string() })?;
    Ok(cursor.size())
}

/// `hotline log export DIR --out FILE --recordings RDIR`: [`export_dir_to`], and every
/// sealed recording copied into `recordings_out`. The recordings are listed *before* the
/// record is read: a recording is sealed only after its `call.recorded` entry commits,
/// so each file copied has its entry in the export (one sealed meanwhile waits for the
/// next export). Returns the entries and the recordings copied.
pub async fn export_dir_with_recordings(
    dir: &Path,
    out: &Path,
    recordings_out: &Path,
) -> Result<(u64, usize), AdminError> {
    let recordings = crate::recording_files::dir(dir);
    let calls = crate::recording_files::sealed_calls(&recordings)
        .map_err(|e| AdminError::File { path: recordings.display().to_string(), what: e.to_string() })?;
    let entries = export_dir_to(dir, out).await?;
    let copied = crate::recording_files::copy_sealed(&recordings, &calls, recordings_out)?;
    Ok((entries, copied))
}

/// The core, key and peers of a station directory, for an export.
type Opened = (Arc<Core>, Arc<StationKey>, Vec<VerifierKey>);

fn open_dir(dir: &Path) -> Result<Opened, AdminError> {
    let config = crate::config::Config::load(dir)?;
    let key = Arc::new(crate::admin::load_key(dir, &config)?);
    let store = hotline_store::Store::open(&dir.join(crate::config::DB_FILE))?;
    let core = Core::new(config.name.clone(), config.lang.clone(), store)?;
    let peers = config.lines.iter().map(|l| l.verifier()).collect();
    Ok((core, key, peers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry_kind::EntryKind;
    use serde_json::json;

    async fn core_with(entries: u64) -> (tempfile::TempDir, Arc<Core>, Arc<StationKey>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = hotline_store::Store::open(&dir.path().join("station.db")).expect("open");
        let core = Core::new("alpha".into(), "en".into(), store).expect("core");
        core.write(move |j| {
            for n in 0..entries {
                j.append(EntryKind::StationStarted, json!({"station": "alpha", "n": n, "text": "\"q\"\n"}))?;
            }
            Ok(())
        })
        .await
        .expect("append");
        (dir, core, Arc::new(StationKey::generate("alpha").expect("key")))
    }

    /// #14.10: the export used to read the whole record in one transaction, holding the
    /// store's lock (which every write waits for) and the whole text in memory. Now it is
    /// read a page per transaction: between two pages the station goes on writing, and the
    /// export still ends at the size it began with, in its canonical form, and verifies.
    #[tokio::test]
    async fn an_export_is_read_page_by_page_and_writes_go_on_between_pages() {
        let entries = export_page_entries_max * 2 + 17;
        let (_dir, core, key) = core_with(entries).await;
        let peer = StationKey::generate("bravo").expect("key").verifier();
        let mut cursor = begin(&core, key.clone(), std::slice::from_ref(&peer)).await.expect("begin");
        assert_eq!(cursor.size(), entries);
        let mut chunks = Vec::new();
        let mut wrote_between_pages = 0;
        while let Some(chunk) = cursor.next_chunk(&core).await.expect("chunk") {
            chunks.push(chunk);
            // A write between two pages completes at once: no lock is held meanwhile.
            let written = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                core.write(|j| j.append(EntryKind::StationStopped, json!({"station": "alpha"}))),
            )
            .await;
            assert!(matches!(written, Ok(Ok(_))), "a write waited for the export: {written:?}");
            wrote_between_pages += 1;
        }
        // Head, three pages of entries, their end, one page of checkpoints, the end.
        assert_eq!(chunks.len(), 7, "one page per read");
        assert!(wrote_between_pages >= 5);
        let text = chunks.concat();
        let parsed = hotline_audit::parse_export(text.as_bytes()).expect("canonical");
        assert_eq!(parsed.entries.len() as u64, entries, "the entries written meanwhile belong to the next export");
        let summary = hotline_audit::verify(&parsed).expect("the export verifies");
        assert_eq!(summary.entries, entries);
        // The same bytes as the export built whole from the same record.
        let whole = core
            .read(move |tx| {
                let list = tx.entries_after(0, entries as i64)?.into_iter().map(|e| e.body).collect();
                let notes = tx.checkpoints()?.into_iter().filter(|(s, _)| *s <= entries).map(|(_, n)| n).collect();
                Ok((list, notes))
            })
            .await
            .expect("read");
        let expected = hotline_audit::Export::new(&key.verifier(), &[peer], whole.0, whole.1).to_json();
        assert!(text == expected, "the streamed export differs from the whole one");
    }

    /// `hotline log export DIR --out FILE` writes the same bytes as the export in memory,
    /// and leaves nothing behind when there is nothing to export.
    #[tokio::test]
    async fn the_command_writes_the_export_page_by_page_into_its_file() {
        let base = tempfile::tempdir().expect("tempdir");
        let dir = base.path().join("alpha");
        let options = crate::admin::InitOptions {
            name: "alpha".into(),
            http: "127.0.0.1:0".parse().expect("addr"),
            line: "127.0.0.1:0".parse().expect("addr"),
            lang: "en".into(),
        };
        crate::admin::init(&dir, &options).expect("init");
        let out = base.path().join("alpha.json");
        let entries = export_dir_to(&dir, &out).await.expect("export");
        assert!(entries >= 1, "station.created at least");
        let written = std::fs::read_to_string(&out).expect("read");
        assert_eq!(written, export_dir(&dir).await.expect("export"));
        assert!(!base.path().join("alpha.json.partial").exists());
    }

    #[tokio::test]
    async fn an_empty_record_has_nothing_to_export() {
        let (_dir, core, key) = core_with(0).await;
        let err = begin(&core, key, &[]).await.expect_err("empty");
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
