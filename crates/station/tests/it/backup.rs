//! Backup while serving and restore (#15 item 6): a copy taken while messages keep being
//! queued restores into a station whose record verifies and is a prefix of the original's,
//! with every message answered before the backup began; a damaged archive, a station
//! directory as the target and a database from a newer release are refused, each leaving
//! nothing behind.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use hotline_proto::Lane;
use hotline_station::admin::{self, InitOptions};
use hotline_station::backup::{self, BackupError};
use hotline_station::line::{Command, NewMessage};
use hotline_station::serve::{self, Running};
use hotline_store::Store;

fn make_station(dir: &Path) {
    let options = InitOptions {
        name: "alpha".into(),
        http: "127.0.0.1:0".parse().expect("addr"),
        line: "127.0.0.1:0".parse().expect("addr"),
        lang: "en".into(),
    };
    admin::init(dir, &options).expect("init");
    // Nobody listens on port 9: every message stays queued in the outbox.
    let bravo = hotline_identity::StationKey::generate("bravo").expect("key").verifier().to_string();
    admin::line_add(dir, "bravo", &bravo, &["127.0.0.1:9".into()]).expect("line add");
}

/// Queues a message to bravo through the line task; returns its id.
async fn queue(running: &Running, text: String) -> String {
    let message = NewMessage {
        precedence: hotline_station::item::Precedence::Routine,
        lang: "en".into(),
        body: text,
        reply_to: None,
        author: "op".into(),
    };
    let line = running.state.lines.get("bravo").expect("line");
    let row =
        tokio::time::timeout(std::time::Duration::from_secs(10), line.ask(|reply| Command::Send { message, reply }))
            .await
            .expect("answered in time")
            .expect("queued");
    row.id
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

async fn exported(dir: &Path) -> hotline_audit::Export {
    let text = hotline_station::export::export_dir(dir).await.expect("export");
    hotline_audit::parse_export(text.as_bytes()).expect("parse the export")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// A station with a few messages, backed up once (not serving) into `root/alpha.backup`.
fn backed_up(root: &Path) -> PathBuf {
    let original = root.join("alpha");
    make_station(&original);
    let archive = root.join("alpha.backup");
    backup::backup_dir(&original, &archive).expect("backup");
    archive
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_into_a_station_that_verifies_and_resumes() {
    let root = tempfile::tempdir().expect("tempdir");
    let original = root.path().join("alpha");
    make_station(&original);
    let running = serve::start(&original).await.expect("serve");
    let mut before = Vec::new();
    for n in 0..50 {
        before.push(queue(&running, format!("before the backup {n}")).await);
    }

    // Back up while a second task keeps queueing messages.
    let archive = root.path().join("alpha.backup");
    let (dir, out) = (original.clone(), archive.clone());
    let copy = tokio::task::spawn_blocking(move || backup::backup_dir(&dir, &out));
    let mut during = 0;
    while !copy.is_finished() {
        queue(&running, format!("during the backup {during}")).await;
        during += 1;
    }
    let summary = copy.await.expect("backup task").expect("backup");
    for n in 0..20 {
        queue(&running, format!("after the backup {n}")).await;
    }
    running.stop().await;

    let lines = summary.render();
    assert!(lines[0].contains("alpha") && lines.iter().any(|l| l.contains("0600")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("sha256: ") && l.len() == 8 + 64), "{lines:?}");
    assert_eq!(mode(&archive), 0o600, "the archive holds the secret key");
    assert_eq!(std::fs::metadata(&archive).expect("archive").len(), summary.archive_bytes);
    assert!(summary.snapshot.entries >= 52, "{:?}", summary.snapshot);
    let leftovers: Vec<_> =
        std::fs::read_dir(root.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(leftovers.len(), 2, "only the station and the archive: {leftovers:?}");

    let restored = root.path().join("restored");
    let r = backup::restore(&archive, &restored).expect("restore");
    assert_eq!((r.station.as_str(), r.entries), ("alpha", summary.snapshot.entries));
    assert_eq!(mode(&restored.join("station.key")), 0o600);
    assert_eq!(mode(&restored.join("station.db")), 0o600);
    let names: Vec<_> = std::fs::read_dir(&restored).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names.len(), 3, "station.toml, station.key, station.db and no staging left: {names:?}");

    // The restored record verifies and is a prefix of the original's.
    let original_export = exported(&original).await;
    let restored_export = exported(&restored).await;
    hotline_audit::verify(&original_export).expect("the original verifies");
    let verified = hotline_audit::verify(&restored_export).expect("the restored record verifies");
    assert_eq!(verified.entries as i64, summary.snapshot.entries);
    let n = restored_export.entries.len();
    assert!(n < original_export.entries.len(), "the original went on after the backup");
    assert_eq!(restored_export.entries[..], original_export.entries[..n], "a prefix of the original's record");

    // Every message answered before the backup began is there, queued on its lane.
    let mut store = Store::open(&restored.join("station.db")).expect("open the restored database");
    for id in &before {
        let row = store.read(|tx| tx.message(id)).expect("read").expect("a message queued before the backup");
        assert_eq!(row.state(), "queued");
    }
    let positions = store.read(|tx| tx.restore_line("bravo")).expect("positions");
    drop(store);
    let pushed = positions.pushed_last[Lane::Routine.index()];
    assert!(pushed >= before.len() as u64, "{pushed}");

    // The restored station serves, and its next message takes the next position: no
    // sequence number is handed out twice.
    let running = serve::start(&restored).await.expect("the restored station serves");
    let next = queue(&running, "after the restore".into()).await;
    running.stop().await;
    let mut store = Store::open(&restored.join("station.db")).expect("open");
    let after = store.read(|tx| tx.restore_line("bravo")).expect("positions");
    assert_eq!(after.pushed_last[Lane::Routine.index()], pushed + 1);
    assert!(store.read(|tx| tx.message(&next)).expect("read").is_some());
    drop(store);
    hotline_audit::verify(&exported(&restored).await).expect("still verifies after serving");
}

#[tokio::test]
async fn a_tampered_or_truncated_archive_is_refused_and_leaves_nothing() {
    let root = tempfile::tempdir().expect("tempdir");
    let archive = blocking({
        let root = root.path().to_owned();
        move || backed_up(&root)
    })
    .await;
    let bytes = std::fs::read(&archive).expect("read");
    let header_end = bytes.windows(2).position(|w| w == b"\n\n").expect("header end");
    // A byte of the header, of the database, and the last byte (the key).
    for (n, at) in [10, header_end / 2, header_end + 3000, bytes.len() / 2, bytes.len() - 1].into_iter().enumerate() {
        let mut altered = bytes.clone();
        altered[at] ^= 0x01;
        let path = root.path().join(format!("altered-{n}.backup"));
        std::fs::write(&path, &altered).expect("write");
        let target = root.path().join(format!("target-{n}"));
        let error = backup::restore(&path, &target).expect_err("an altered archive is refused");
        assert!(matches!(error, BackupError::Damaged { .. }), "byte {at}: {error}");
        assert!(error.to_string().contains("nothing was restored"), "{error}");
        assert!(!target.exists(), "byte {at}: nothing left behind");
    }
    for cut in [bytes.len() - 1, header_end + 100, 20, 0] {
        let path = root.path().join("cut.backup");
        std::fs::write(&path, &bytes[..cut]).expect("write");
        let target = root.path().join("cut-target");
        let error = backup::restore(&path, &target).expect_err("a truncated archive is refused");
        assert!(matches!(error, BackupError::Damaged { .. }), "cut at {cut}: {error}");
        assert!(!target.exists(), "cut at {cut}: nothing left behind");
    }
    let mut longer = bytes.clone();
    longer.push(b'x');
    let path = root.path().join("longer.backup");
    std::fs::write(&path, &longer).expect("write");
    let error = backup::restore(&path, &root.path().join("longer-target")).expect_err("trailing bytes");
    assert!(error.to_string().contains("after its last part"), "{error}");

    // An empty directory that existed before stays, empty.
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let path = root.path().join("altered-1.backup");
    assert!(backup::restore(&path, &empty).is_err());
    assert_eq!(std::fs::read_dir(&empty).expect("list").count(), 0, "nothing left in the empty directory");
    backup::restore(&archive, &empty).expect("the intact archive restores into it");
}

#[tokio::test]
async fn restoring_onto_a_station_or_from_a_newer_release_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    let archive = blocking({
        let root = root.path().to_owned();
        move || backed_up(&root)
    })
    .await;
    let original = root.path().join("alpha");
    let before = std::fs::read(original.join("station.db")).expect("read");
    let error = backup::restore(&archive, &original).expect_err("onto a station");
    assert!(matches!(error, BackupError::AlreadyAStation { .. }), "{error}");
    assert!(error.to_string().contains("already holds a station"), "{error}");
    assert_eq!(std::fs::read(original.join("station.db")).expect("read"), before, "the station is untouched");

    // A database from a newer release: its backup is intact, its schema unknown here.
    let newer = root.path().join("newer");
    make_station(&newer);
    let known = {
        let conn = rusqlite::Connection::open(newer.join("station.db")).expect("open");
        let known: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("user_version");
        conn.pragma_update(None, "user_version", known + 1).expect("bump");
        known
    };
    let newer_archive = root.path().join("newer.backup");
    backup::backup_dir(&newer, &newer_archive).expect("a backup copies any schema");
    let target = root.path().join("from-newer");
    let error = backup::restore(&newer_archive, &target).expect_err("a newer schema is refused");
    let text = error.to_string();
    assert!(matches!(error, BackupError::Database(_)), "{text}");
    assert!(text.contains(&format!("schema version {}", known + 1)) && text.contains(&known.to_string()), "{text}");
    assert!(!target.exists(), "nothing left behind");
}
