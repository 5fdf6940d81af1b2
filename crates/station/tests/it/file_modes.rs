//! The station directory's secrets: `hotline init` creates `station.toml`, `station.db`
//! (and SQLite's files beside it) and `station.key` readable by their owner only; `serve`
//! refuses a key that others can read, with the fix, and warns in the log about a
//! configuration or database that others can read.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hotline_station::serve;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn init_creates_every_secret_file_for_its_owner_only() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = crate::listener::station_dir(root.path(), "127.0.0.1:0", "");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if name.starts_with("station.") && !name.ends_with(".lock") {
            assert_eq!(mode(&path), 0o600, "{name}");
            seen.push(name);
        }
    }
    seen.sort();
    for want in ["station.db", "station.key", "station.toml"] {
        assert!(seen.iter().any(|s| s == want), "{want} in {seen:?}");
    }
}

#[tokio::test]
async fn serve_refuses_a_key_others_can_read_with_the_fix() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = crate::listener::station_dir(root.path(), "127.0.0.1:0", "");
    set_mode(&dir.join("station.key"), 0o644);
    let e = serve::start(&dir).await.err().expect("refused").to_string();
    assert!(e.contains("station.key") && e.contains("chmod 600"), "{e}");
    set_mode(&dir.join("station.key"), 0o600);
    serve::start(&dir).await.expect("serves once fixed").stop().await;
}

/// The log, captured.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn serve_warns_about_a_configuration_and_a_database_others_can_read() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = crate::listener::station_dir(root.path(), "127.0.0.1:0", "");
    set_mode(&dir.join("station.toml"), 0o644);
    set_mode(&dir.join("station.db"), 0o640);
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
    // This test's runtime runs on this thread only, so the station logs here.
    let _guard = tracing::subscriber::set_default(subscriber);
    let running = serve::start(&dir).await.expect("serves, with warnings");
    running.stop().await;
    let text = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    for name in ["station.toml", "station.db"] {
        let line =
            text.lines().find(|l| l.contains("WARN") && l.contains(name) && l.contains("readable by group or others"));
        assert!(line.is_some_and(|l| l.contains("chmod 600")), "{name} warned about, with the fix:\n{text}");
    }
}
