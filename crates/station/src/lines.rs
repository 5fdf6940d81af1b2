//! The serving station's lines: one supervised task per line, started at start-up and
//! whenever a supervisor adds a line, stopped when one is removed — no restart either way.
//!
//! Every change is checked, written to `station.toml` and recorded by
//! `hotline_core::admin::lines` first; only then does the registry (`hotline_line::Lines`,
//! read by the API, the accept loop and the watch) change and a task start or stop. A
//! change to a line's addresses or options restarts its task with the new setup: the
//! task rebuilds its `Line` from the store exactly as after a station restart, so nothing
//! queued is lost, and it redials at once. Changes are made one at a time (`running`'s
//! lock), so two supervisors adding the same peer at once get one line and one refusal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline_identity::StationKey;
use hotline_proto::LineConfig;
use hotline_store::StoreError;
use tokio::sync::{Mutex, oneshot, watch};

use crate::admin::lines::{self as admin_lines, LineAdminError, LineChange, LineControl, LineInfo, NewLine, Reply};
use crate::config::{Config, PeerLine};
use crate::core::Core;
use crate::line::{self, Command, LineSetup, Lines};
use crate::presence::Presence;
use crate::supervise::Supervisor;

/// How long stopping a line waits for its task to close the connection and finish the
/// store write it is in, before the task is aborted.
#[allow(non_upper_case_globals)]
pub const line_stop_wait_ms: u64 = 5000;

/// What every line task of the station shares.
#[derive(Clone)]
pub struct Shared {
    pub core: Arc<Core>,
    pub own_key: Arc<StationKey>,
    /// Our latest signed checkpoint, for the peers to witness.
    pub checkpoints: watch::Receiver<Option<(u64, String)>>,
    pub supervisor: Arc<Supervisor>,
    pub presence: Arc<Presence>,
}

/// A running line: what `station.toml` says of it, and its task.
struct RunningLine {
    line: PeerLine,
    task: tokio::task::JoinHandle<()>,
}

/// The station's lines while it serves (see the module documentation).
pub struct ServingLines {
    dir: PathBuf,
    shared: Shared,
    lines: Lines,
    running: Mutex<BTreeMap<String, RunningLine>>,
}

impl ServingLines {
    /// Starts a task for each of `config`'s lines.
    pub async fn start(dir: PathBuf, shared: Shared, config: &Config) -> Result<Arc<ServingLines>, StoreError> {
        let serving =
            Arc::new(ServingLines { dir, shared, lines: Lines::default(), running: Mutex::new(BTreeMap::new()) });
        {
            let mut running = serving.running.lock().await;
            for line in &config.lines {
                serving.start_line(&mut running, line.clone()).await?;
            }
        }
        Ok(serving)
    }

    /// The registry the API, the accept loop and the watch read.
    pub fn lines(&self) -> Lines {
        self.lines.clone()
    }

    fn setup(&self, line: &PeerLine) -> LineSetup {
        let s = &self.shared;
        LineSetup {
            core: s.core.clone(),
            own_key: s.own_key.clone(),
            peer: line.peer.clone(),
            peer_key: line.verifier(),
            addrs: line.addrs.clone(),
            config: LineConfig {
                heartbeat_interval: Duration::from_millis(line.heartbeat_interval_ms),
                ..LineConfig::default()
            },
            backoff_max: Duration::from_millis(line.reconnect_backoff_max_ms),
            checkpoints: s.checkpoints.clone(),
            supervisor: s.supervisor.clone(),
            presence: s.presence.subscribe(),
            call_ring_timeout_ms: line.call_ring_timeout_ms(),
            call_line_grace_ms: line.call_line_grace_ms(),
            recording_retention_days: line.recording_retention_days(),
        }
    }

    async fn start_line(&self, running: &mut BTreeMap<String, RunningLine>, line: PeerLine) -> Result<(), StoreError> {
        let (handle, task) = line::start(self.setup(&line)).await?;
        self.lines.insert(handle);
        running.insert(line.peer.clone(), RunningLine { line, task });
        Ok(())
    }

    /// Takes the line out of the registry (no request or connection reaches it from now
    /// on), then lets its task close the connection with a Close frame and finish.
    async fn stop_line(&self, running: &mut BTreeMap<String, RunningLine>, peer: &str) {
        let handle = self.lines.remove(peer);
        let Some(stopped) = running.remove(peer) else { return };
        if let Some(handle) = handle {
            let (done, wait) = oneshot::channel();
            if handle.commands.send(Command::Shutdown { done }).await.is_ok() {
                let _ = tokio::time::timeout(Duration::from_millis(line_stop_wait_ms), wait).await;
            }
        }
        stopped.task.abort();
        let _ = stopped.task.await;
    }

    /// Stops every line (the station is stopping).
    pub async fn stop_all(&self) {
        let mut running = self.running.lock().await;
        let peers: Vec<String> = running.keys().cloned().collect();
        for peer in peers {
            self.stop_line(&mut running, &peer).await;
        }
    }

    fn info(&self, line: PeerLine) -> LineInfo {
        let state = self.lines.get(&line.peer).map(|h| h.status.borrow().state.as_str());
        LineInfo::new(&self.shared.own_key.verifier(), line, state)
    }

    fn config(&self) -> Result<Config, LineAdminError> {
        Config::load(&self.dir).map_err(|e| LineAdminError::Admin(e.into()))
    }

    fn not_running(peer: &str) -> LineAdminError {
        let shown: String = peer.chars().take(40).collect();
        LineAdminError::NotFound(format!("no line to a station named {shown:?}"))
    }

    /// The line is in `station.toml` and the record; its task could not start.
    fn not_started(peer: &str, e: StoreError) -> LineAdminError {
        tracing::error!(%peer, error = %e, "a line was configured but its task did not start");
        LineAdminError::Store(e)
    }
}

impl LineControl for ServingLines {
    fn list(&self) -> Reply<'_, Vec<LineInfo>> {
        Box::pin(async move {
            let running = self.running.lock().await;
            Ok(running.values().map(|r| self.info(r.line.clone())).collect())
        })
    }

    fn add(&self, new: NewLine, by: String) -> Reply<'_, LineInfo> {
        Box::pin(async move {
            let mut running = self.running.lock().await;
            let (line, explicit) = admin_lines::check_new(&self.config()?, new)?;
            if running.contains_key(&line.peer) {
                return Err(LineAdminError::Conflict(format!("a line to {} is already running", line.peer)));
            }
            let own = self.shared.own_key.verifier();
            admin_lines::record_added(&self.shared.core, &self.dir, &own, &line, explicit, &by).await?;
            let peer = line.peer.clone();
            // Watched from now: not up yet, its line-down threshold running.
            self.shared.supervisor.observe(|w, now| w.add_line(&peer, now));
            self.start_line(&mut running, line.clone()).await.map_err(|e| Self::not_started(&peer, e))?;
            tracing::info!(%peer, %by, "line added while serving");
            Ok(self.info(line))
        })
    }

    fn change(&self, peer: String, change: LineChange, by: String) -> Reply<'_, LineInfo> {
        Box::pin(async move {
            let mut running = self.running.lock().await;
            if !running.contains_key(&peer) {
                return Err(Self::not_running(&peer));
            }
            let (old, new) = admin_lines::check_change(&self.config()?, &peer, change)?;
            let own = self.shared.own_key.verifier();
            admin_lines::record_changed(&self.shared.core, &self.dir, &own, &old, &new, &by).await?;
            // The task takes its addresses and timers at start: a new task with the new
            // ones, restored from the store (nothing queued is lost).
            self.stop_line(&mut running, &peer).await;
            self.start_line(&mut running, new.clone()).await.map_err(|e| Self::not_started(&peer, e))?;
            tracing::info!(%peer, %by, addrs = ?new.addrs, "line changed while serving");
            Ok(self.info(new))
        })
    }

    fn remove(&self, peer: String, by: String) -> Reply<'_, LineInfo> {
        Box::pin(async move {
            let mut running = self.running.lock().await;
            let line = running.get(&peer).map(|r| r.line.clone()).ok_or_else(|| Self::not_running(&peer))?;
            let own = self.shared.own_key.verifier();
            let info = admin_lines::record_removed(&self.shared.core, &self.dir, &own, &line, &by).await?;
            self.stop_line(&mut running, &peer).await;
            // No longer watched: a line that no longer exists raises no line-down alarm,
            // and any such alarm open ends.
            self.shared.supervisor.observe(|w, now| w.remove_line(&peer, now));
            tracing::info!(%peer, %by, "line removed while serving");
            Ok(info)
        })
    }
}
