//! Drives the watch (`hotline_watch::Watch`) with the wall clock and carries out what it
//! decides: watch checks, alarms in the record, escalation.
//!
//! Other tasks tell the watch what happened through [`Supervisor::observe`] (the line
//! task: line up/down, messages, acknowledgments, checks, the peer's presence; the API:
//! alarm acknowledgments and clears). One task ([`Supervisor::run`]) sleeps until the
//! watch's next deadline or until woken, then writes each action to the store.
//!
//! A full disk must not silence the alarm about the full disk: an alarm whose row cannot
//! be written is kept in memory (`unrecorded`), shown by the API, escalated like any other,
//! and written to the record as soon as the disk accepts writes again.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hotline_store::{AlarmRow, StoreError};
use hotline_watch::{Action, Cause, Direction, LinePolicy, OpenAlarm, Policy, Precedence, Watch};
use serde_json::json;
use tokio::sync::{Notify, watch};

use crate::alarms::{self, cause_of};
use crate::config::{Config, EscalationConfig, SmtpConfig};
use crate::core::Core;
use crate::entry_kind::EntryKind;
use crate::notify::{self, Notification};
use crate::{now_ms, texts};

/// How often free disk space is measured.
#[allow(non_upper_case_globals)]
const disk_check_interval_ms: u64 = 10_000;
/// How often an alarm that could not be recorded is retried.
#[allow(non_upper_case_globals)]
const unrecorded_retry_ms: u64 = 1000;
/// Alarms held in memory while the disk refuses writes.
#[allow(non_upper_case_globals)]
pub const unrecorded_alarms_max: usize = 256;
/// Default low-disk threshold.
#[allow(non_upper_case_globals)]
const low_disk_alarm_mb_default: u64 = 100;

pub struct Supervisor {
    core: Arc<Core>,
    watch: Mutex<Watch>,
    wake: Notify,
    targets: Vec<EscalationConfig>,
    smtp: Option<SmtpConfig>,
    unrecorded: Mutex<Vec<AlarmRow>>,
    http: reqwest::Client,
    data_dir: PathBuf,
    low_disk_bytes: u64,
    console_url: String,
    /// The answer window of the last missed check per line and direction, for its
    /// alarm's text (a peer's check carries its own deadline, not ours).
    check_windows: Mutex<BTreeMap<(String, Direction), u64>>,
    /// What the last key mismatch per line was, for its alarm's text.
    mismatch_details: Mutex<BTreeMap<String, String>>,
    /// How each line's task last failed, for its alarm's text.
    task_failures: Mutex<BTreeMap<String, String>>,
    /// Per line, the last recording that stopped and why: the recording alarm's detail.
    recording_failures: Mutex<BTreeMap<String, String>>,
    peer_recording_failures: Mutex<BTreeMap<String, String>>,
}

/// Asks the line to `peer` to send a scheduled watch check now. A function handed in by
/// whoever runs the watch (the station's `serve`), so the watch knows nothing of line
/// tasks: lines depend on the watch, never the other way round.
pub type StartCheck = Box<dyn Fn(String) + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Supervisor {
    /// A supervisor for `config`'s lines, with deadlines, open alarms and escalation
    /// progress restored from the store.
    pub async fn new(core: Arc<Core>, config: &Config, data_dir: PathBuf) -> Result<Arc<Supervisor>, StoreError> {
        // `Config::load` has already refused an invalid policy.
        let policy = config.policy().unwrap_or_else(|(_, e)| {
            tracing::error!(error = %e, "watch policy invalid; using defaults");
            Policy::default()
        });
        let peers: Vec<String> = config.lines.iter().map(|l| l.peer.clone()).collect();
        let now = now_ms().max(0) as u64;
        let mut w = Watch::new(policy, &peers, now);
        let tracked: Vec<Precedence> = Precedence::ALL.into_iter().filter(|&p| w.has_ack_deadline(p)).collect();
        let (open, checks, last_sent, unacked, presence) = {
            let peers = peers.clone();
            core.read(move |tx| {
                let open = tx.alarms(true, i64::MAX)?;
                let checks = tx.pending_watch_checks()?;
                let mut last_sent = Vec::new();
                let mut presence = Vec::new();
                for p in &peers {
                    if let Some(c) = tx.last_watch_check(p, hotline_store::Direction::Out)? {
                        last_sent.push((p.clone(), c.sent_ms));
                    }
                    if let Some(pr) = tx.peer_presence(p)? {
                        presence.push((p.clone(), pr));
                    }
                }
                let mut unacked = Vec::new();
                for p in &tracked {
                    unacked.extend(tx.unacknowledged_messages(p.as_str())?.into_iter().map(|m| (*p, m)));
                }
                Ok((open, checks, last_sent, unacked, presence))
            })
            .await?
        };
        for row in &open {
            if let Some(cause) = cause_of(row) {
                w.restore_alarm(OpenAlarm {
                    cause,
                    raised_ms: row.raised_ms.max(0) as u64,
                    acknowledged: row.acked_ms.is_some(),
                    steps_done: row.steps_done.max(0) as usize,
                    count: alarms::count_of(row),
                    count_reported_ms: row.raised_ms.max(0) as u64,
                });
            }
        }
        for c in checks {
            let direction = match c.direction {
                hotline_store::Direction::Out => Direction::Out,
                hotline_store::Direction::In => Direction::In,
            };
            w.restore_check(&c.peer, &c.id, direction, c.deadline_ms.max(0) as u64);
        }
        for (peer, sent) in last_sent {
            w.restore_last_check_sent(&peer, sent.max(0) as u64);
        }
        // The peer's messages count from when we received them, as they did when they
        // arrived (the store says so), never from the creation time the peer claims.
        for (p, (peer, id, direction, deadline_from_ms)) in unacked {
            let direction = match direction {
                hotline_store::Direction::Out => Direction::Out,
                hotline_store::Direction::In => Direction::In,
            };
            w.on_message(&peer, &id, p, direction, deadline_from_ms.max(0) as u64);
        }
        for (peer, (on_watch, since)) in presence {
            w.on_peer_presence(&peer, on_watch.max(0) as u32, since.max(0) as u64, now);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| StoreError::Corrupt(format!("HTTP client: {e}")))?;
        Ok(Arc::new(Supervisor {
            core,
            watch: Mutex::new(w),
            wake: Notify::new(),
            targets: config.escalations.clone(),
            smtp: config.smtp.clone(),
            unrecorded: Mutex::new(Vec::new()),
            http,
            data_dir,
            console_url: config.console_url(),
            check_windows: Mutex::new(BTreeMap::new()),
            mismatch_details: Mutex::new(BTreeMap::new()),
            task_failures: Mutex::new(BTreeMap::new()),
            recording_failures: Mutex::new(BTreeMap::new()),
            peer_recording_failures: Mutex::new(BTreeMap::new()),
            low_disk_bytes: config.watch.low_disk_alarm_mb.unwrap_or(low_disk_alarm_mb_default) * 1024 * 1024,
        }))
    }

    /// Tells the watch something happened, and wakes the driver.
    pub fn observe(&self, f: impl FnOnce(&mut Watch, u64)) {
        let now = now_ms().max(0) as u64;
        f(&mut lock(&self.watch), now);
        self.wake.notify_one();
    }

    /// The deadlines of `peer`'s line.
    pub fn line_policy(&self, peer: &str) -> LinePolicy {
        lock(&self.watch).line_policy(peer)
    }

    /// An alarm already written to the store elsewhere (with evidence, in the same
    /// transaction as what caused it): the watch escalates it from now on.
    pub fn adopt(&self, row: &AlarmRow) {
        if let Some(cause) = cause_of(row) {
            self.observe(|w, _| {
                if w.alarm(&row.key).is_none() {
                    w.restore_alarm(OpenAlarm {
                        cause,
                        raised_ms: row.raised_ms.max(0) as u64,
                        acknowledged: false,
                        steps_done: 0,
                        count: alarms::count_of(row),
                        count_reported_ms: row.raised_ms.max(0) as u64,
                    })
                }
            });
        }
    }

    /// Something at `peer`'s address presented another key: evidence, raised until a
    /// supervisor clears it.
    pub fn key_mismatch(&self, peer: &str, detail: &str) {
        lock(&self.mismatch_details).insert(peer.to_owned(), detail.to_owned());
        self.observe(|w, now| w.raise(Cause::PeerKeyMismatch { peer: peer.to_owned() }, now));
    }

    /// The task running `peer`'s line ended and is being restarted: a critical alarm,
    /// open until a supervisor clears it (one per line while open, however often it fails).
    pub fn line_task_failed(&self, peer: &str, detail: &str) {
        lock(&self.task_failures).insert(peer.to_owned(), detail.to_owned());
        self.observe(|w, now| w.raise(Cause::LineTaskFailed { peer: peer.to_owned() }, now));
    }

    /// A call recording on `peer`'s line stopped mid-call (`detail`: the call and why): a
    /// critical alarm, open until a supervisor clears it (one per line while open).
    pub fn recording_stopped(&self, peer: &str, detail: &str) {
        lock(&self.recording_failures).insert(peer.to_owned(), detail.to_owned());
        self.observe(|w, now| w.raise(Cause::RecordingStopped { peer: peer.to_owned() }, now));
    }

    /// `peer` says (signed) that its recorder stopped recording a call on its line
    /// (`detail`: the call and why): a critical alarm here too, open until a supervisor
    /// clears it, because the call's evidence is one-sided from then.
    pub fn peer_recording_stopped(&self, peer: &str, detail: &str) {
        lock(&self.peer_recording_failures).insert(peer.to_owned(), detail.to_owned());
        self.observe(|w, now| w.raise(Cause::PeerRecordingStopped { peer: peer.to_owned() }, now));
    }

    /// How many messages an overdue-messages alarm stands for now and the oldest of
    /// their ids; `None` for other causes.
    fn overdue(&self, cause: &Cause) -> Option<(usize, Vec<String>)> {
        matches!(cause, Cause::AckOverdue { .. })
            .then(|| lock(&self.watch).overdue_messages(cause, alarms::overdue_ids_max))
    }

    /// Alarms raised but not yet in the store (the disk refused the write).
    pub fn unrecorded(&self) -> Vec<AlarmRow> {
        lock(&self.unrecorded).clone()
    }

    /// Since when the peer has reported nobody on watch, if it does.
    pub fn nobody_on_watch_since(&self, peer: &str) -> Option<u64> {
        lock(&self.watch).nobody_on_watch_since(peer)
    }

    /// Runs the watch until the station stops.
    pub async fn run(self: Arc<Self>, start_check: StartCheck, mut storage: watch::Receiver<Option<String>>) {
        let mut next_disk_check = tokio::time::Instant::now();
        loop {
            let now = now_ms().max(0) as u64;
            let (actions, next) = {
                let mut w = lock(&self.watch);
                w.handle_timeout(now);
                let mut actions = Vec::new();
                while let Some(a) = w.poll_action() {
                    actions.push(a);
                }
                (actions, w.poll_timeout())
            };
            self.flush_unrecorded().await;
            for action in actions {
                self.execute(action, &start_check).await;
            }
            if tokio::time::Instant::now() >= next_disk_check {
                self.check_disk();
                next_disk_check = tokio::time::Instant::now() + Duration::from_millis(disk_check_interval_ms);
            }
            let mut sleep_ms = next.map_or(disk_check_interval_ms, |t| t.saturating_sub(now_ms().max(0) as u64));
            sleep_ms = sleep_ms.min(disk_check_interval_ms);
            if !lock(&self.unrecorded).is_empty() {
                sleep_ms = sleep_ms.min(unrecorded_retry_ms);
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(sleep_ms)) => {}
                _ = self.wake.notified() => {}
                Ok(()) = storage.changed() => {
                    let failing = storage.borrow_and_update().clone();
                    self.observe(|w, now| match failing {
                        Some(_) => w.raise(Cause::Storage, now),
                        None => w.condition_ended(&Cause::Storage, now),
                    });
                }
            }
        }
    }

    /// Free bytes on the data directory's filesystem (for an unprivileged writer).
    fn free_bytes(&self) -> Option<u64> {
        let stat = rustix::fs::statvfs(&self.data_dir).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }

    fn check_disk(&self) {
        let Some(free) = self.free_bytes() else { return };
        let low = free < self.low_disk_bytes;
        self.observe(|w, now| {
            if low {
                w.raise(Cause::LowDisk, now);
            } else if free > self.low_disk_bytes + self.low_disk_bytes / 10 {
                w.condition_ended(&Cause::LowDisk, now);
            }
        });
    }

    async fn flush_unrecorded(&self) {
        let pending = std::mem::take(&mut *lock(&self.unrecorded));
        for row in pending {
            let r = row.clone();
            match self.core.write(move |j| alarms::record_raised(j, &r, json!({"recorded_late": true}))).await {
                Ok(_) => {
                    tracing::info!(alarm = %row.id, cause = %row.cause, "alarm written to the record after the disk recovered")
                }
                Err(_) => lock(&self.unrecorded).push(row),
            }
        }
    }

    async fn execute(&self, action: Action, start_check: &StartCheck) {
        let result = match action {
            Action::StartWatchCheck { peer } => {
                // The line task sends it; not awaited here, a busy line must not hold up alarms.
                start_check(peer);
                Ok(())
            }
            Action::CheckMissed { peer, check, direction, deadline_ms } => {
                let lang = self.core.lang.clone();
                let p = peer.clone();
                let written = self
                    .core
                    .write(move |j| {
                        let Some(row) = j.tx.watch_check(&check)? else { return Ok(None) };
                        if !j.tx.miss_watch_check(&check)? {
                            return Ok(None);
                        }
                        // The window the check actually gave (the peer's, for its checks).
                        let window_ms = (row.deadline_ms - row.sent_ms).max(0) as u64;
                        let side = match direction {
                            Direction::Out => hotline_i18n::texts::Side::Peer,
                            Direction::In => hotline_i18n::texts::Side::Here,
                        };
                        let minutes = window_ms.div_ceil(60_000);
                        let text = texts::render(&lang, &hotline_i18n::texts::watch_check_missed(side, &p, minutes));
                        j.append(
                            EntryKind::WatchCheckMissed,
                            json!({"peer": p, "id": check, "direction": direction.as_str(),
                                   "deadline": crate::rfc3339(deadline_ms as i64), "text": text}),
                        )?;
                        Ok(Some(window_ms))
                    })
                    .await;
                if let Ok(Some(window_ms)) = written {
                    lock(&self.check_windows).insert((peer, direction), window_ms);
                }
                written.map(|_| ())
            }
            Action::Raise { cause, at_ms } => {
                let overdue = self.overdue(&cause);
                let mut policy = cause.peer().map(|p| self.line_policy(p)).unwrap_or_default();
                if let Cause::WatchCheckMissed { peer, direction } = &cause
                    && let Some(window_ms) = lock(&self.check_windows).get(&(peer.clone(), *direction))
                {
                    policy.check_deadline_ms = *window_ms;
                }
                let detail = match &cause {
                    Cause::Storage => self.core.storage.borrow().clone().unwrap_or_default(),
                    Cause::LowDisk => (self.free_bytes().unwrap_or(0) / (1024 * 1024)).to_string(),
                    Cause::PeerKeyMismatch { peer } => {
                        lock(&self.mismatch_details).get(peer).cloned().unwrap_or_default()
                    }
                    Cause::LineTaskFailed { peer } => lock(&self.task_failures).get(peer).cloned().unwrap_or_default(),
                    Cause::RecordingStopped { peer } => {
                        lock(&self.recording_failures).get(peer).cloned().unwrap_or_default()
                    }
                    Cause::PeerRecordingStopped { peer } => {
                        lock(&self.peer_recording_failures).get(peer).cloned().unwrap_or_default()
                    }
                    Cause::AckOverdue { .. } => match &overdue {
                        Some((count, ids)) => texts::overdue_detail(*count, ids.first().map_or("", String::as_str)),
                        None => String::new(),
                    },
                    _ => String::new(),
                };
                let text = texts::alarm_text(&cause, &self.core.lang, &policy, &detail);
                let mut row = alarms::new_row(&cause, text, at_ms as i64);
                if let Some((count, ids)) = &overdue {
                    row.detail = alarms::overdue_detail(&cause, *count, ids).to_string();
                }
                tracing::warn!(alarm = %row.id, cause = %cause, severity = %row.severity, text = %row.text, "ALARM raised");
                let r = row.clone();
                let written = self.core.write(move |j| alarms::record_raised(j, &r, json!({}))).await;
                if let Err(e) = written {
                    // Kept, shown and escalated; written when the disk takes it (one log line).
                    tracing::error!(alarm = %row.id, error = %e, "alarm could not be recorded yet; held in memory");
                    let mut unrecorded = lock(&self.unrecorded);
                    if unrecorded.len() < unrecorded_alarms_max && !unrecorded.iter().any(|a| a.key == row.key) {
                        unrecorded.push(row);
                    }
                }
                Ok(())
            }
            Action::Update { cause, count, .. } => {
                let (_, ids) = self.overdue(&cause).unwrap_or_default();
                let policy = cause.peer().map(|p| self.line_policy(p)).unwrap_or_default();
                let oldest = ids.first().map_or("", String::as_str);
                let text = texts::alarm_text(&cause, &self.core.lang, &policy, &texts::overdue_detail(count, oldest));
                let detail = alarms::overdue_detail(&cause, count, &ids);
                let key = cause.key();
                // An alarm still held in memory (the disk refused it) changes there too.
                for a in lock(&self.unrecorded).iter_mut().filter(|a| a.key == key) {
                    a.text = text.clone();
                    a.detail = detail.to_string();
                }
                tracing::info!(cause = %cause, count, "alarm updated: its count changed");
                self.core.write(move |j| alarms::update(j, &key, &text, &detail, count).map(|_| ())).await
            }
            Action::Clear { cause, .. } => {
                let key = cause.key();
                lock(&self.unrecorded).retain(|a| a.key != key);
                tracing::info!(cause = %cause, "alarm cleared: the cause ended");
                self.core
                    .write(move |j| {
                        if let Some(open) = j.tx.open_alarm(&key)? {
                            alarms::clear(j, &open.id, None, "the cause ended")?;
                        }
                        Ok(())
                    })
                    .await
            }
            Action::Notify { cause, step, target, .. } => self.escalate(cause, step, target).await,
        };
        if let Err(e) = result {
            // While the disk refuses writes every action would say so; say it once.
            if self.core.storage.borrow().is_none() || !matches!(e, StoreError::DiskFull) {
                tracing::error!(error = %e, "the watch could not write to the store");
            }
        }
    }

    async fn escalate(&self, cause: Cause, step: usize, target: usize) -> Result<(), StoreError> {
        let key = cause.key();
        let Some(target_config) = self.targets.get(target).cloned() else { return Ok(()) };
        let target_name = Notification {
            station: String::new(),
            lang: String::new(),
            console_url: String::new(),
            alarm: alarms::new_row(&cause, String::new(), 0),
            step,
            target_index: target,
            target: target_config.clone(),
            smtp: None,
        }
        .target_name();
        let k = key.clone();
        let stored = self
            .core
            .write(move |j| {
                let Some(open) = j.tx.open_alarm(&k)? else { return Ok(None) };
                j.tx.set_alarm_steps(&open.id, step as i64 + 1)?;
                j.append(
                    EntryKind::AlarmEscalated,
                    json!({"alarm": open.id, "step": step + 1, "target": target_name}),
                )?;
                Ok(Some(open))
            })
            .await;
        let alarm = match stored {
            Ok(Some(a)) => a,
            // Not in the store: a full disk kept it in memory; escalate it all the same.
            _ => match lock(&self.unrecorded).iter().find(|a| a.key == key).cloned() {
                Some(a) => a,
                None => return stored.map(|_| ()),
            },
        };
        let n = Notification {
            station: self.core.name.clone(),
            lang: self.core.lang.clone(),
            console_url: self.console_url.clone(),
            alarm,
            step,
            target_index: target,
            target: target_config,
            smtp: self.smtp.clone(),
        };
        tokio::spawn(notify::deliver(self.core.clone(), self.http.clone(), n));
        Ok(())
    }
}
