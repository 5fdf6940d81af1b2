//! One station, alpha, with one line to bravo that never comes up (nothing listens at
//! its address), so messages stay queued: the state every API test starts from.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hotline_identity::StationKey;
use hotline_station::core::Core;
use hotline_station::http::AppState;
use hotline_station::line::{self, LineSetup};
use hotline_station::presence::Presence;
use hotline_station::supervise::Supervisor;
use hotline_store::Store;

pub async fn one_line_state() -> AppState {
    let store = Store::open_in_memory().expect("store");
    let core = Core::new("alpha".into(), "en".into(), store).expect("core");
    let key = Arc::new(StationKey::generate("alpha").expect("key"));
    let peer_key = StationKey::generate("bravo").expect("key").verifier();
    let config = hotline_station::config::Config::parse(
        std::path::Path::new("station.toml"),
        &format!(
            "name = \"alpha\"\n[listen]\nhttp = \"127.0.0.1:1\"\nline = \"127.0.0.1:2\"\n\
             [[line]]\npeer = \"bravo\"\nkey = \"{peer_key}\"\naddrs = [\"127.0.0.1:9\"]\n"
        ),
    )
    .expect("config");
    let supervisor = Supervisor::new(core.clone(), &config, std::env::temp_dir()).await.expect("supervisor");
    let presence = Presence::new();
    let setup = LineSetup {
        core: core.clone(),
        own_key: key.clone(),
        peer: "bravo".into(),
        peer_key,
        // Nothing listens here: the line stays down and messages stay queued.
        addrs: vec!["127.0.0.1:9".into()],
        config: hotline_proto::LineConfig::default(),
        backoff_max: Duration::from_secs(5),
        checkpoints: tokio::sync::watch::channel(None).1,
        supervisor: supervisor.clone(),
        presence: presence.subscribe(),
    };
    let (handle, _task) = line::start(setup).await.expect("line");
    let lines = Arc::new(BTreeMap::from([("bravo".to_owned(), handle)]));
    AppState { core, key, lines, supervisor, presence }
}
