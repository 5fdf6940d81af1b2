//! Running a station: load the directory, start one task per line, the line listener and
//! the HTTP server; stop them cleanly.
//!
//! Clean stop order: stop taking HTTP requests (in-flight ones finish), then tell each
//! line task to close its connection with a Close frame and finish the store write it is
//! in, then record the stop. Every store write is one transaction, so a stop — clean or
//! not — never leaves anything half-written.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hotline_record::checkpoint::Checkpoint;
use hotline_store::Store;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::admin::{AdminError, load_key};
use crate::config::{Config, DB_FILE};
use crate::core::Core;
use crate::entry_kind::EntryKind;
use crate::http::listener::{self, HttpLimits};
use crate::http::{AppState, router};
use crate::line::{self, net};
use crate::lines::ServingLines;
use crate::presence::Presence;
use crate::supervise::Supervisor;
use crate::{alarms, now_ms};
use hotline_watch::Cause;

/// How long a clean stop waits for the HTTP server's requests in flight.
#[allow(non_upper_case_globals)]
const shutdown_wait_ms: u64 = 5000;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Admin(#[from] AdminError),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("station database: {0}")]
    Store(#[from] hotline_store::StoreError),
    #[error("{0} is already served by another `hotline serve` (its station.lock is held); stop that one first")]
    AlreadyServing(String),
    #[error("{0}. Fix: check [http] tls_cert and tls_key in station.toml (PEM files, readable by the station)")]
    HttpTls(#[from] crate::http::listener::TlsFileError),
    #[error("cannot listen on {addr} ({what}): {source}. Fix: choose a free address in station.toml [listen]")]
    Bind { addr: SocketAddr, what: &'static str, source: std::io::Error },
}

/// A station that is serving.
pub struct Running {
    pub name: String,
    pub http_addr: SocketAddr,
    pub line_addr: SocketAddr,
    pub state: AppState,
    http_stop: watch::Sender<bool>,
    http_task: tokio::task::JoinHandle<()>,
    accept_task: tokio::task::JoinHandle<()>,
    checkpoint_task: tokio::task::JoinHandle<()>,
    watch_task: tokio::task::JoinHandle<()>,
    retention_task: tokio::task::JoinHandle<()>,
    serving: Arc<ServingLines>,
    admin_task: Option<tokio::task::JoinHandle<()>>,
    admin_socket: Option<std::path::PathBuf>,
    /// The directory's lock, held until the station has stopped.
    _lock: crate::station_lock::StationLock,
}

/// Starts the station in `dir`.
pub async fn start(dir: &Path) -> Result<Running, ServeError> {
    let config = Config::load(dir)?;
    let lock = match crate::station_lock::try_lock(dir) {
        Ok(crate::station_lock::Locked::Ours(lock)) => lock,
        Ok(crate::station_lock::Locked::Busy) => return Err(ServeError::AlreadyServing(dir.display().to_string())),
        Err(e) => {
            return Err(ServeError::Admin(AdminError::File {
                path: dir.join(crate::station_lock::LOCK_FILE).display().to_string(),
                what: e.to_string(),
            }));
        }
    };
    let key = Arc::new(load_key(dir, &config)?);
    // HTTPS is set up before anything binds, so a bad certificate stops the start cleanly.
    let http_tls = match config.http.tls_files(dir) {
        Some((cert, key)) => Some(listener::tls_acceptor(&cert, &key)?),
        None => None,
    };
    let store = Store::open(&dir.join(DB_FILE))?;
    let core = Core::new(config.name.clone(), config.lang.clone(), store)?;
    let http_listener = TcpListener::bind(config.listen.http).await.map_err(|source| ServeError::Bind {
        addr: config.listen.http,
        what: "console and API",
        source,
    })?;
    let line_listener = TcpListener::bind(config.listen.line).await.map_err(|source| ServeError::Bind {
        addr: config.listen.line,
        what: "line",
        source,
    })?;
    let http_addr = http_listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen.http,
        what: "console and API",
        source,
    })?;
    let line_addr = line_listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen.line,
        what: "line",
        source,
    })?;

    let supervisor = Supervisor::new(core.clone(), &config, dir.to_owned()).await?;
    let presence = Presence::new();
    check_record_integrity(&core, &key, &supervisor).await?;
    let latest = core.checkpoint(key.clone()).await?;
    let (checkpoint_tx, checkpoints) = watch::channel(latest);
    let shared = crate::lines::Shared {
        core: core.clone(),
        own_key: key.clone(),
        checkpoints,
        supervisor: supervisor.clone(),
        presence: presence.clone(),
    };
    let serving = ServingLines::start(dir.to_owned(), shared, &config).await?;
    let lines = serving.lines();
    let accept_task = tokio::spawn(net::accept_loop(line_listener, key.clone(), lines.clone()));
    let checkpoint_task = tokio::spawn(make_checkpoints(
        core.clone(),
        key.clone(),
        Duration::from_millis(config.checkpoint_interval_ms),
        checkpoint_tx,
    ));
    let watch_task =
        tokio::spawn(supervisor.clone().run(line::start_watch_checks(lines.clone()), core.storage.subscribe()));
    let retention_task =
        tokio::spawn(hotline_core::recording_retention::run(core.clone(), hotline_core::recording_files::dir(dir)));
    // The command line's way in while we serve; without it (a directory path too long
    // for a Unix socket, say) admin commands say so clearly, and the station still serves.
    let (admin_task, admin_socket) = match crate::admin::socket::bind(dir) {
        Ok((listener, path)) => {
            let task = tokio::spawn(crate::admin::socket::serve(listener, core.clone(), serving.clone()));
            (Some(task), Some(path))
        }
        Err(e) => {
            tracing::error!(error = %e, "no administrative socket: `hotline user`, `token` and `line` commands cannot run while this station serves");
            (None, None)
        }
    };
    // Call media: the QUIC endpoint listens on the line's own port over UDP unless
    // `[media] peer_udp` says otherwise, which is where peers dial it (their line's
    // primary address to us).
    let media_setup = hotline_callmedia::MediaSetup {
        browser_udp: config.media.browser_udp(),
        peer_udp: config.media.peer_udp.unwrap_or(line_addr),
        limits: hotline_media::Limits::default(),
    };
    let media = hotline_callmedia::CallMedia::start(
        core.clone(),
        lines.clone(),
        key.clone(),
        media_setup,
        recorder_taps(dir, &core, &lines),
    );
    let state = AppState {
        core: core.clone(),
        key: key.clone(),
        lines,
        line_admin: serving.clone(),
        supervisor,
        presence,
        media,
        recordings: hotline_core::recording_files::dir(dir),
    };
    let app = router(state.clone());
    let (http_stop, stop_rx) = watch::channel(false);
    let http_limits = HttpLimits::from_config(&config.http);
    // The address an operator types, printed as a URL: with TLS configured it is https://.
    let console_url = format!("{}://{http_addr}/", if http_tls.is_some() { "https" } else { "http" });
    let http_task = tokio::spawn(listener::serve(http_listener, app, http_tls, http_limits, stop_rx));
    let (name, peers) = (config.name.clone(), config.lines.iter().map(|l| l.peer.clone()).collect::<Vec<_>>());
    let version = env!("CARGO_PKG_VERSION");
    core.write(move |j| {
        j.append(EntryKind::StationStarted, json!({"station": name, "lines": peers, "version": version}))
    })
    .await?;
    tracing::info!(station = %config.name, console = %console_url, line = %line_addr, "station serving");
    Ok(Running {
        name: config.name,
        http_addr,
        line_addr,
        state,
        http_stop,
        http_task,
        accept_task,
        checkpoint_task,
        watch_task,
        retention_task,
        serving,
        admin_task,
        admin_socket,
        _lock: lock,
    })
}

impl Running {
    /// Stops cleanly (see the module documentation).
    pub async fn stop(self) {
        let _ = self.http_stop.send(true);
        let _ = tokio::time::timeout(Duration::from_millis(shutdown_wait_ms), self.http_task).await;
        self.accept_task.abort();
        self.checkpoint_task.abort();
        self.watch_task.abort();
        self.retention_task.abort();
        if let Some(task) = &self.admin_task {
            task.abort();
        }
        if let Some(path) = &self.admin_socket {
            let _ = std::fs::remove_file(path);
        }
        self.state.media.stop();
        self.serving.stop_all().await;
        let name = self.name.clone();
        let _ = self.state.core.write(move |j| j.append(EntryKind::StationStopped, json!({"station": name}))).await;
        tracing::info!(station = %self.name, "station stopped cleanly");
    }
}

/// Signs a checkpoint every `interval` while the record grows, and tells the line tasks.
async fn make_checkpoints(
    core: Arc<Core>,
    key: Arc<hotline_identity::StationKey>,
    interval: Duration,
    latest: watch::Sender<Option<(u64, String)>>,
) {
    loop {
        tokio::time::sleep(interval).await;
        match core.checkpoint(key.clone()).await {
            Ok(checkpoint) => {
                latest.send_if_modified(|current| {
                    let changed = *current != checkpoint;
                    *current = checkpoint;
                    changed
                });
            }
            Err(e) => tracing::error!(error = %e, "could not sign a checkpoint"),
        }
    }
}

/// Checks at start-up that the record still matches every checkpoint we signed: a
/// mismatch means the database was changed behind the station's back. The station still
/// starts (the line must stay up), with a critical alarm in the record and the log.
async fn check_record_integrity(
    core: &Arc<Core>,
    key: &hotline_identity::StationKey,
    supervisor: &Supervisor,
) -> Result<(), ServeError> {
    let checkpoints = core.read(|tx| tx.checkpoints()).await?;
    for (size, note) in checkpoints {
        let problem = match Checkpoint::open(&note, &key.verifier()) {
            Err(e) => Some(format!("our checkpoint of size {size} does not open: {e}")),
            Ok(cp) => match core.root_at(size).await {
                Ok(root) if root == cp.root => None,
                Ok(_) => Some(format!("the record's first {size} entries no longer hash to the root we signed")),
                Err(e) => Some(format!("the record is shorter than our checkpoint of size {size}: {e}")),
            },
        };
        if let Some(message) = problem {
            tracing::error!(%message, "RECORD INTEGRITY ALARM");
            let cause = Cause::RecordFork { peer: core.name.clone() };
            let text = crate::texts::render(&core.lang, &hotline_i18n::texts::alarm_record_integrity(&message));
            let row = alarms::new_row(&cause, text, now_ms());
            let raised = core
                .write(move |j| alarms::record_raised(j, &row, json!({"record_integrity": true, "size": size})))
                .await?;
            if let Some(row) = raised {
                supervisor.adopt(&row);
            }
            break;
        }
    }
    Ok(())
}

/// `hotline serve DIR`: runs until SIGINT or SIGTERM.
pub async fn serve(dir: &Path) -> Result<(), ServeError> {
    let running = start(dir).await?;
    wait_for_signal().await;
    tracing::info!("stopping on signal");
    running.stop().await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The call recorder writing into `DIR/recordings`, after it recovered what a crash left
/// unsealed; without a recordings directory calls still run, unrecorded, and it is logged.
fn recorder_taps(dir: &Path, core: &Arc<Core>, lines: &crate::line::Lines) -> Box<dyn hotline_callmedia::TapFactory> {
    match hotline_callmedia::RecorderTaps::new(dir, core.clone(), lines.clone()) {
        Ok(taps) => {
            taps.recover_unsealed();
            Box::new(taps)
        }
        Err(e) => {
            tracing::error!(error = %e, "calls cannot be recorded: no recordings directory");
            Box::new(hotline_callmedia::NoTapFactory)
        }
    }
}
