//! A line task never ends silently. `run` drives one incarnation of the task after
//! another: when one ends other than by the station's own stop — a panic on some input
//! we did not foresee, most likely one from the peer — the line shows `down` at once
//! (API, metrics, the watch), the failure goes into the record with a critical alarm,
//! and a fresh task restored from the store takes over after a growing pause. A green
//! lamp on a dead line is the worst failure a hotline has; this module is why it cannot
//! happen here.
//!
//! The restart loses nothing: everything the dead task had promised was committed (a
//! receipt goes out only after its commit), its connection closes, and the next task
//! rebuilds the `Line` from the outbox and inbox exactly as a station restart would.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;

use super::*;
use hotline_core::entry_kind::EntryKind;

/// The first pause before a failed line task is restarted.
#[allow(non_upper_case_globals)]
const restart_backoff_min_ms: u64 = 1000;
/// The longest pause between restarts of a task that keeps failing.
#[allow(non_upper_case_globals)]
const restart_backoff_max_ms: u64 = 30_000;
/// A task that ran this long before failing counts as healthy: its next restart is quick.
#[allow(non_upper_case_globals)]
const restart_healthy_after_ms: u64 = 60_000;
/// How much of a panic's message the record and the alarm keep.
#[allow(non_upper_case_globals)]
const failure_text_chars_max: usize = 300;

/// Runs `first`, then restarts the line task each time it fails, until the station stops
/// it (a `Shutdown` command, or every `LineHandle` gone).
pub(super) async fn run(setup: LineSetup, ports: Ports, first: LineTask) {
    let peer = setup.peer.clone();
    let mut task = Some(first);
    let mut backoff_ms = restart_backoff_min_ms;
    loop {
        let started = Instant::now();
        let ended = match task.take() {
            Some(t) => AssertUnwindSafe(t.run()).catch_unwind().await.map_err(|panic| panic_text(&*panic)),
            None => match LineTask::restore(setup.clone(), &ports).await {
                Ok(t) => AssertUnwindSafe(t.run()).catch_unwind().await.map_err(|panic| panic_text(&*panic)),
                Err(e) => Err(format!("could not restore the line from the store: {e}")),
            },
        };
        let detail = match ended {
            Ok(()) => return,
            Err(detail) => detail,
        };
        if started.elapsed() >= Duration::from_millis(restart_healthy_after_ms) {
            backoff_ms = restart_backoff_min_ms;
        }
        tracing::error!(peer = %peer, %detail, restart_in_ms = backoff_ms, "LINE TASK FAILED; the line is down until it restarts");
        show_down(&setup, &ports);
        record_failure(&setup, &detail, backoff_ms).await;
        tokio::time::sleep(Duration::from_millis(backoff_ms)).await;
        backoff_ms = (backoff_ms * 2).min(restart_backoff_max_ms);
    }
}

/// The lamp goes out and the watch starts counting the line as down.
fn show_down(setup: &LineSetup, ports: &Ports) {
    let since_ms = now_ms();
    ports.status_tx.send_modify(|s| {
        s.state = LineState::Down;
        s.since_ms = since_ms;
        s.rtt_ms = None;
        s.remote = None;
    });
    let peer = setup.peer.clone();
    setup.supervisor.observe(|w, now| w.on_line_down(&peer, now));
}

/// A record entry for every failure, and the alarm (one while it is open).
async fn record_failure(setup: &LineSetup, detail: &str, restart_in_ms: u64) {
    let (peer, text) = (setup.peer.clone(), detail.to_owned());
    let written = setup
        .core
        .write(move |j| {
            j.append(
                EntryKind::LineTaskFailed,
                json!({"peer": peer, "detail": text, "restart_in_ms": restart_in_ms, "state": "down"}),
            )
        })
        .await;
    if let Err(e) = written {
        tracing::error!(peer = %setup.peer, error = %e, "the line task's failure could not be recorded");
    }
    setup.supervisor.line_task_failed(&setup.peer, detail);
}

/// What a panic said, bounded (it may quote input from the peer).
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    let bounded: String = text.chars().take(failure_text_chars_max).collect();
    format!("panicked: {bounded}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use hotline_store::Store;

    use super::*;
    use hotline_core::supervise::Supervisor;

    /// A station alpha in memory with one line to bravo that never comes up, and its
    /// watch running (it writes the alarms).
    async fn one_line() -> (Arc<Core>, LineHandle) {
        let core = Core::new("alpha".into(), "en".into(), Store::open_in_memory().expect("store")).expect("core");
        let key = Arc::new(StationKey::generate("alpha").expect("key"));
        let peer_key = StationKey::generate("bravo").expect("key").verifier();
        let config = hotline_core::config::Config::parse(
            std::path::Path::new("station.toml"),
            &format!(
                "name = \"alpha\"\n[listen]\nhttp = \"127.0.0.1:1\"\nline = \"127.0.0.1:2\"\n\
                 [[line]]\npeer = \"bravo\"\nkey = \"{peer_key}\"\naddrs = [\"127.0.0.1:9\"]\n"
            ),
        )
        .expect("config");
        let supervisor = Supervisor::new(core.clone(), &config, std::env::temp_dir()).await.expect("supervisor");
        let setup = LineSetup {
            core: core.clone(),
            own_key: key,
            peer: "bravo".into(),
            peer_key,
            addrs: vec!["127.0.0.1:9".into()],
            config: LineConfig::default(),
            backoff_max: Duration::from_secs(5),
            checkpoints: watch::channel(None).1,
            supervisor: supervisor.clone(),
            presence: hotline_core::presence::Presence::new().subscribe(),
            call_ring_timeout_ms: hotline_call::RING_TIMEOUT_MS_DEFAULT,
            call_line_grace_ms: hotline_call::ANSWERED_LINE_GRACE_MS_DEFAULT,
            recording_retention_days: hotline_core::config::recording_retention_days_default,
        };
        let (handle, _task) = start(setup).await.expect("line");
        let lines = Arc::new(BTreeMap::from([("bravo".to_owned(), handle.clone())]));
        tokio::spawn(supervisor.run(super::start_watch_checks(lines), core.storage.subscribe()));
        (core, handle)
    }

    async fn kinds(core: &Core) -> Vec<String> {
        core.read(|tx| {
            let mut kinds = Vec::new();
            tx.for_each_entry_body(|_, body| {
                let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                kinds.push(v["kind"].as_str().unwrap_or_default().to_owned());
            })?;
            Ok(kinds)
        })
        .await
        .expect("read")
    }

    /// A task killed by a panic shows the line down at once, is in the record with a
    /// critical alarm, and is restarted: the same handle then queues a message again.
    #[tokio::test]
    async fn a_line_task_that_panics_shows_down_raises_an_alarm_and_restarts() {
        let (core, handle) = one_line().await;
        let mut status = handle.status.clone();
        handle.commands.send(Command::FailForTest).await.expect("send");
        tokio::time::timeout(Duration::from_secs(2), status.wait_for(|s| s.state == LineState::Down))
            .await
            .expect("the line shows down within 2 s")
            .expect("status");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let kinds = kinds(&core).await;
            let alarm = core.read(|tx| tx.open_alarm("line_task_failed:bravo")).await.expect("alarm");
            if kinds.iter().any(|k| k == "line.task_failed") && alarm.is_some() {
                assert_eq!(alarm.map(|a| a.severity), Some("critical".to_owned()));
                break;
            }
            assert!(Instant::now() < deadline, "no line.task_failed entry and alarm; entries: {kinds:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let message = NewMessage {
            precedence: hotline_item::Precedence::Flash,
            lang: "en".into(),
            body: "still there?".into(),
            reply_to: None,
            author: "op".into(),
        };
        let sent = tokio::time::timeout(Duration::from_secs(5), handle.ask(|reply| Command::Send { message, reply }))
            .await
            .expect("the restarted task answers within 5 s");
        assert!(sent.is_ok(), "{:?}", sent.err());
    }
}
