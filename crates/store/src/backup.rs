//! Online backup: a copy of the station database taken while the station serves.
//!
//! SQLite's backup API copies the database a few pages at a time. Left alone, it starts
//! over whenever another connection (the serving station) commits between two steps, so
//! under a steady stream of messages a large copy might never finish. Here the copy holds
//! one read transaction on the source for its whole length instead: in WAL mode a reader
//! blocks no writer, the station's commits go on into the WAL, and every step copies pages
//! of the same snapshot. The copy is therefore one snapshot of the database by
//! construction — the record, the messages and the outbox and inbox positions as of one
//! commit — and the entry count read in that same transaction is exactly the copy's.
//! Steps are small with a short sleep between, so the copy's disk reads leave room for the
//! station's. The copy then has to pass `PRAGMA integrity_check` before anyone calls it a
//! backup.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// Pages copied per step of the backup (4 KiB pages: 1 MiB a step).
#[allow(non_upper_case_globals)]
pub const backup_step_pages: i32 = 256;

/// Sleep between two steps, leaving the disk to the serving station.
#[allow(non_upper_case_globals)]
pub const backup_step_pause_ms: u64 = 5;

/// Steps that may answer "busy" or "locked" before the backup gives up. With the read
/// transaction held these should not happen at all; the bound keeps a wedged database
/// from hanging the command.
#[allow(non_upper_case_globals)]
pub const backup_busy_steps_max: u32 = 2000;

/// Integrity problems quoted in an error: the first few say enough.
#[allow(non_upper_case_globals)]
const integrity_problems_quoted_max: usize = 5;

/// How a backup is paced.
#[derive(Clone, Debug)]
pub struct BackupConfig {
    /// Pages per step.
    pub step_pages: i32,
    /// Sleep between steps.
    pub step_pause_ms: u64,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig { step_pages: backup_step_pages, step_pause_ms: backup_step_pause_ms }
    }
}

/// What a backup copied: all of it read in the snapshot the copy was taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Entries in the record.
    pub entries: i64,
    /// The last entry's index (equal to `entries`: the record is gap-free).
    pub last_entry_idx: i64,
    /// The schema version (`user_version`).
    pub schema_version: i64,
    /// Pages copied.
    pub pages: i64,
    /// Steps the copy took; more than `pages / step_pages + 1` would mean it restarted.
    pub steps: u64,
}

/// Copies the database at `source` into `copy` (a new or empty file) while other
/// connections keep writing, then checks the copy with `PRAGMA integrity_check`.
pub fn backup_database(source: &Path, copy: &Path, config: &BackupConfig) -> Result<Snapshot, StoreError> {
    // Read-write without create: a missing database is an error, not a new empty one.
    // Nothing is written through this connection.
    let from = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    from.busy_timeout(Duration::from_secs(10))?;
    // The snapshot: a read transaction begun by its first read and held to the end. The
    // backup uses a read transaction it finds open instead of opening one per step.
    from.execute_batch("BEGIN DEFERRED")?;
    let (entries, last_entry_idx): (i64, i64) =
        from.query_row("SELECT count(*), coalesce(max(idx), 0) FROM entries", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let schema_version: i64 = from.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let mut to = Connection::open(copy)?;
    let steps = copy_pages(&from, &mut to, config)?;
    let pages: i64 = to.pragma_query_value(None, "page_count", |r| r.get(0))?;
    from.execute_batch("COMMIT")?;
    // The copy's header says WAL, as its source's does; a rollback journal makes it one
    // self-contained file (no -wal or -shm beside it). `Store::open` turns WAL back on.
    let mode: String = to.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(StoreError::Invariant(format!("the copy stayed in journal mode {mode}")));
    }
    drop(to);
    integrity_check(copy)?;
    // The same counts read back from the copy: what was promised is what was written.
    let copied = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let (copied_entries, copied_last): (i64, i64) =
        copied.query_row("SELECT count(*), coalesce(max(idx), 0) FROM entries", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if (copied_entries, copied_last) != (entries, last_entry_idx) {
        return Err(StoreError::Corrupt(format!(
            "the copy holds {copied_entries} entries (last {copied_last}), its snapshot {entries} (last {last_entry_idx})"
        )));
    }
    Ok(Snapshot { entries, last_entry_idx, schema_version, pages, steps })
}

/// Runs the backup to its end; returns the number of steps.
fn copy_pages(from: &Connection, to: &mut Connection, config: &BackupConfig) -> Result<u64, StoreError> {
    let backup = Backup::new(from, to)?;
    let pause = Duration::from_millis(config.step_pause_ms);
    let (mut steps, mut busy_steps) = (0u64, 0u32);
    loop {
        steps += 1;
        match backup.step(config.step_pages.max(1))? {
            StepResult::Done => return Ok(steps),
            StepResult::More => {}
            StepResult::Busy | StepResult::Locked => {
                busy_steps += 1;
                if busy_steps > backup_busy_steps_max {
                    return Err(StoreError::Busy(format!(
                        "the database stayed busy for {backup_busy_steps_max} backup steps; try again"
                    )));
                }
            }
            // `StepResult` is non-exhaustive; anything new is not progress we understand.
            other => return Err(StoreError::Invariant(format!("unexpected backup step result {other:?}"))),
        }
        std::thread::sleep(pause);
    }
}

impl crate::Store {
    /// The schema version of this open database: after `Store::open`, the newest this
    /// build knows (a restore reports which version its backup came from and this one).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// `PRAGMA integrity_check` on the database at `path`: `Ok` only for SQLite's "ok".
pub fn integrity_check(path: &Path) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut st = conn.prepare("PRAGMA integrity_check")?;
    let problems: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    let quoted: Vec<&str> = problems.iter().take(integrity_problems_quoted_max).map(String::as_str).collect();
    Err(StoreError::Corrupt(format!("integrity_check: {}", quoted.join("; "))))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

    use super::*;
    use crate::Store;

    #[allow(non_upper_case_globals)]
    const entries_before_backup: i64 = 10_000;

    fn append(store: &mut Store, n: i64) {
        store
            .write(|tx| {
                for _ in 0..n {
                    let idx = tx.last_entry_idx()? + 1;
                    tx.append_entry(idx, "test.entry", &format!("entry {idx}"))?;
                }
                Ok(())
            })
            .expect("append");
    }

    /// The copy is one snapshot even while another connection appends all along: it
    /// passes integrity_check and holds entries 1..=n with nothing missing or reordered,
    /// and it finished without restarting.
    #[test]
    fn a_backup_while_another_thread_appends_is_a_gap_free_prefix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("station.db");
        let mut store = Store::open(&path).expect("open");
        for _ in 0..10 {
            append(&mut store, entries_before_backup / 10);
        }
        drop(store);

        let stop = Arc::new(AtomicBool::new(false));
        let appended = Arc::new(AtomicI64::new(0));
        let writer = {
            let (path, stop, appended) = (path.clone(), stop.clone(), appended.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&path).expect("open for the writer");
                while !stop.load(Ordering::Relaxed) {
                    append(&mut store, 1);
                    appended.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        // Wait for the writer to be going, then copy slowly: many steps, each a chance
        // for a commit to land between two of them.
        while appended.load(Ordering::Relaxed) < 10 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let copy = dir.path().join("copy.db");
        let config = BackupConfig { step_pages: 16, step_pause_ms: 2 };
        let before = appended.load(Ordering::Relaxed);
        let snapshot = backup_database(&path, &copy, &config).expect("backup");
        let during = appended.load(Ordering::Relaxed) - before;
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("writer");

        assert!(during > 0, "the writer went on during the backup");
        assert!(snapshot.entries >= entries_before_backup + 10, "{snapshot:?}");
        assert_eq!(snapshot.entries, snapshot.last_entry_idx);
        assert!(snapshot.steps <= (snapshot.pages as u64).div_ceil(16) + 1, "no restart: {snapshot:?}");
        integrity_check(&copy).expect("the copy passes integrity_check");

        let mut copied = Store::open(&copy).expect("open the copy");
        let entries = copied.read(|tx| tx.entries_after(0, i64::MAX)).expect("entries");
        assert_eq!(entries.len() as i64, snapshot.entries);
        for (n, e) in entries.iter().enumerate() {
            let idx = n as i64 + 1;
            assert_eq!((e.idx, e.body.as_str()), (idx, format!("entry {idx}").as_str()), "gap-free and in order");
        }
        let mut original = Store::open(&path).expect("reopen the original");
        let total = original.read(|tx| tx.entry_count()).expect("count");
        assert!(total > snapshot.entries, "the original went on past the snapshot ({total})");
    }

    #[test]
    fn a_missing_database_is_an_error_not_an_empty_backup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nothing.db");
        assert!(backup_database(&missing, &dir.path().join("copy.db"), &BackupConfig::default()).is_err());
        assert!(!missing.exists(), "nothing was created at the source");
    }

    #[test]
    fn a_damaged_database_fails_the_integrity_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("station.db");
        let mut store = Store::open(&path).expect("open");
        append(&mut store, 2000);
        drop(store);
        // Overwrite the cell pointers of the entries table's root page with garbage.
        let conn = Connection::open(&path).expect("open");
        let root: i64 = conn
            .query_row("SELECT rootpage FROM sqlite_schema WHERE name = 'entries'", [], |r| r.get(0))
            .expect("root page");
        let page_bytes: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0)).expect("page size");
        drop(conn);
        let mut bytes = std::fs::read(&path).expect("read");
        let start = ((root - 1) * page_bytes) as usize;
        for b in &mut bytes[start + 12..start + 200] {
            *b = 0x5a;
        }
        std::fs::write(&path, bytes).expect("write");
        let error = integrity_check(&path).expect_err("damage is found");
        assert!(matches!(error, StoreError::Corrupt(_) | StoreError::Sqlite(_)), "{error}");
    }
}
