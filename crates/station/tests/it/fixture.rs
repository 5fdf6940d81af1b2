//! One station, alpha, with one line to bravo that never comes up (nothing listens at
//! its address), so messages stay queued: the state every API test starts from.

use std::sync::Arc;

use hotline_identity::StationKey;
use hotline_station::core::Core;
use hotline_station::http::AppState;
use hotline_station::lines::{ServingLines, Shared};
use hotline_station::presence::Presence;
use hotline_station::supervise::Supervisor;
use hotline_store::Store;

pub async fn one_line_state() -> AppState {
    one_line_station().await.0
}

/// [`one_line_state`] and the station directory holding its `station.toml` (which line
/// administration rewrites); the directory goes when the `TempDir` is dropped.
pub async fn one_line_station() -> (AppState, tempfile::TempDir) {
    let store = Store::open_in_memory().expect("store");
    let core = Core::new("alpha".into(), "en".into(), store).expect("core");
    let key = Arc::new(StationKey::generate("alpha").expect("key"));
    let peer_key = StationKey::generate("bravo").expect("key").verifier();
    // Nothing listens at bravo's address: the line stays down and messages stay queued.
    let text = format!(
        "# alpha's own note, which line administration keeps\n\
         name = \"alpha\"\n[listen]\nhttp = \"127.0.0.1:1\"\nline = \"127.0.0.1:2\"\n\
         [[line]]\npeer = \"bravo\"\nkey = \"{peer_key}\"\naddrs = [\"127.0.0.1:9\"]\n"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("station.toml"), &text).expect("station.toml");
    let config = hotline_station::config::Config::load(dir.path()).expect("config");
    let supervisor = Supervisor::new(core.clone(), &config, std::env::temp_dir()).await.expect("supervisor");
    let presence = Presence::new();
    let shared = Shared {
        core: core.clone(),
        own_key: key.clone(),
        checkpoints: tokio::sync::watch::channel(None).1,
        supervisor: supervisor.clone(),
        presence: presence.clone(),
    };
    let serving = ServingLines::start(dir.path().to_owned(), shared, &config).await.expect("lines");
    let media_setup = hotline_station::callmedia::MediaSetup {
        browser_udp: "127.0.0.1:0".parse().expect("address"),
        peer_udp: "127.0.0.1:0".parse().expect("address"),
        limits: Default::default(),
    };
    let media = hotline_station::callmedia::CallMedia::start(
        core.clone(),
        serving.lines(),
        key.clone(),
        media_setup,
        Box::new(hotline_station::callmedia::NoTapFactory),
    );
    let recordings = hotline_station::recording_files::dir(dir.path());
    let state =
        AppState { core, key, lines: serving.lines(), line_admin: serving, supervisor, presence, media, recordings };
    (state, dir)
}
