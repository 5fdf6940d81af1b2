//! Following the record: a `call.*` entry whose call is `answered` starts that call's
//! media, one whose call is over (ended, declined, missed, cancelled, failed) stops it.
//!
//! The record is where a call's state is decided (the line task writes the entry in the
//! transaction that changes the call), and entries are published after the commit, so
//! this never runs media for a call that a crash would show unanswered. A lagging
//! subscriber (the broadcast's backlog overflowed) re-reads the live calls instead.

use std::sync::Weak;

use hotline_call::{CallId, Direction};
use hotline_core::core::Published;
use serde_json::Value;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::CallMedia;

/// Live calls read back after a lag (every line holds at most one).
#[allow(non_upper_case_globals)]
const live_calls_read_max: i64 = 2048;

/// What an entry means for media.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    Start { id: CallId, peer: String, direction: Direction },
    Stop(CallId),
}

fn change(entry: &Published) -> Option<Change> {
    if !entry.kind.starts_with("call.") {
        return None;
    }
    let body: Value = serde_json::from_str(&entry.body).ok()?;
    let call = body.get("call")?;
    let id: CallId = call.get("id")?.as_str()?.parse().ok()?;
    match call.get("state")?.as_str()? {
        "answered" => {
            let peer = call.get("peer")?.as_str()?.to_owned();
            let direction = match call.get("direction")?.as_str()? {
                "out" => Direction::Out,
                "in" => Direction::In,
                _ => return None,
            };
            Some(Change::Start { id, peer, direction })
        }
        "ringing" | "superseded" => None,
        _ => Some(Change::Stop(id)),
    }
}

/// Runs until the service is dropped or the record's channel closes.
pub(crate) async fn follow(media: Weak<CallMedia>, mut entries: broadcast::Receiver<Published>) {
    loop {
        let entry = entries.recv().await;
        let Some(media) = media.upgrade() else { return };
        // Lines added or removed while serving are recorded; pin their peers at once.
        media.repin_if_changed();
        match entry {
            Ok(entry) => match change(&entry) {
                Some(Change::Start { id, peer, direction }) => media.start_call(id, &peer, direction),
                Some(Change::Stop(id)) => media.stop_call(id),
                None => {}
            },
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "call media lagged behind the record; re-reading the live calls");
                reconcile(&media).await;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Starts the answered calls and stops the media of calls no longer live.
async fn reconcile(media: &CallMedia) {
    let rows = match media.core.read(|tx| tx.calls(true, live_calls_read_max)).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "call media could not read the live calls");
            return;
        }
    };
    let mut answered = Vec::new();
    for row in rows {
        let Ok(call) = serde_json::from_str::<hotline_call::Call>(&row.call) else { continue };
        if call.state() == hotline_call::CallState::Answered {
            answered.push(call.id);
            media.start_call(call.id, &row.peer, call.direction);
        }
    }
    let running: Vec<CallId> = media.calls.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
    for id in running.into_iter().filter(|id| !answered.contains(id)) {
        media.stop_call(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "01939a4e-7c1a-7000-8000-000000000001";

    fn entry(kind: &str, call: Value) -> Published {
        Published { idx: 1, kind: kind.into(), body: serde_json::json!({"kind": kind, "call": call}).to_string() }
    }

    #[test]
    fn answered_starts_over_stops_ringing_does_nothing() {
        let id: CallId = ID.parse().expect("id");
        let answered = serde_json::json!({"id": ID, "peer": "bravo", "direction": "out", "state": "answered"});
        assert_eq!(
            change(&entry("call.answered", answered)),
            Some(Change::Start { id, peer: "bravo".into(), direction: Direction::Out })
        );
        let ended = serde_json::json!({"id": ID, "peer": "bravo", "direction": "in", "state": "ended"});
        assert_eq!(change(&entry("call.ended", ended)), Some(Change::Stop(id)));
        let ringing = serde_json::json!({"id": ID, "peer": "bravo", "direction": "in", "state": "ringing"});
        assert_eq!(change(&entry("call.ringing", ringing)), None);
        // Not a call entry, or one without a call (a refused start): nothing.
        assert_eq!(change(&entry("message.queued", serde_json::json!({"id": ID, "state": "answered"}))), None);
        assert_eq!(change(&Published { idx: 2, kind: "call.refused".into(), body: "{}".into() }), None);
    }
}
