//! Voice calls between two real stations in one process (call control; the media path is
//! `hotline-media`'s): alpha calls, bravo's record shows it ringing, an operator at bravo
//! answers, alpha hangs up — and both records say who called, who answered and who hung
//! up. A call on a line that is down is refused at once and still recorded.

use std::time::Duration;

use hotline_station::admin::{self, InitOptions};
use hotline_station::line::Command;
use hotline_station::line::calls::CallOp;
use hotline_station::serve::{self, Running};
use serde_json::Value;

fn free_addr() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

pub async fn pair() -> (tempfile::TempDir, Running, Running) {
    pair_configured(|_, _| {}).await
}

/// Two stations as [`pair`] makes them, `edit(name, station_dir)` run on each after its
/// line is added (the `[[line]]` table is the last of its `station.toml`) and before it starts.
pub async fn pair_configured(edit: impl Fn(&str, &std::path::Path)) -> (tempfile::TempDir, Running, Running) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a_line, b_line) = (free_addr(), free_addr());
    let mut keys = Vec::new();
    for (name, line) in [("alpha", a_line), ("bravo", b_line)] {
        let options =
            InitOptions { name: name.into(), http: "127.0.0.1:0".parse().expect("addr"), line, lang: "en".into() };
        keys.push(admin::init(&dir.path().join(name), &options).expect("init"));
    }
    admin::line_add(&dir.path().join("alpha"), "bravo", &keys[1].to_string(), &[b_line.to_string()]).expect("line");
    admin::line_add(&dir.path().join("bravo"), "alpha", &keys[0].to_string(), &[a_line.to_string()]).expect("line");
    for name in ["alpha", "bravo"] {
        edit(name, &dir.path().join(name));
    }
    let alpha = serve::start(&dir.path().join("alpha")).await.expect("alpha");
    let bravo = serve::start(&dir.path().join("bravo")).await.expect("bravo");
    for (r, peer) in [(&alpha, "bravo"), (&bravo, "alpha")] {
        let mut status = r.state.lines.get(peer).expect("line").status.clone();
        tokio::time::timeout(Duration::from_secs(15), status.wait_for(|s| s.state == hotline_proto::LineState::Up))
            .await
            .expect("the line comes up")
            .expect("status");
    }
    (dir, alpha, bravo)
}

pub async fn call(r: &Running, peer: &str, op: CallOp, by: &str) -> Result<Value, hotline_station::line::LineError> {
    let by = by.to_owned();
    r.state.lines.get(peer).expect("line").ask(|reply| Command::Call { op, by, reply }).await
}

/// Entries of kinds starting with `call.` for call `id`, as (kind, body).
async fn call_entries(r: &Running, id: &str) -> Vec<(String, Value)> {
    let entries = r.state.core.read(|tx| tx.entries_after(0, 100_000)).await.expect("entries");
    entries
        .into_iter()
        .filter(|e| e.kind.starts_with("call."))
        .map(|e| (e.kind, serde_json::from_str::<Value>(&e.body).unwrap_or_default()))
        .filter(|(_, b)| b["id"] == id)
        .collect()
}

pub async fn wait_state(r: &Running, id: &str, state: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let wanted = id.to_owned();
        let row = r.state.core.read(move |tx| tx.call(&wanted)).await.expect("read");
        if let Some(row) = row {
            let call: hotline_call::Call = serde_json::from_str(&row.call).expect("call");
            let view = hotline_station::line::calls::call_json(&call, &row.peer);
            if view["state"] == state {
                return view;
            }
        }
        assert!(std::time::Instant::now() < deadline, "call {id} never became {state} at {}", r.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn alpha_calls_bravo_answers_alpha_hangs_up_and_both_records_say_so() {
    let (_dir, alpha, bravo) = pair().await;
    let started = call(&alpha, "bravo", CallOp::Start, "duty-alpha").await.expect("call");
    assert_eq!(started["state"], "ringing");
    let id = started["id"].as_str().expect("id").to_owned();
    let ringing = wait_state(&bravo, &id, "ringing").await;
    assert_eq!(ringing["direction"], "in");
    assert_eq!(ringing["started_by"], "duty-alpha");
    let second = call(&alpha, "bravo", CallOp::Start, "duty-alpha").await;
    assert!(second.as_ref().is_err_and(|e| e.to_string().contains("in progress")), "one call per line: {second:?}");

    let call_id: hotline_call::CallId = id.parse().expect("id");
    call(&bravo, "alpha", CallOp::Answer(call_id), "duty-bravo").await.expect("answer");
    let answered = wait_state(&alpha, &id, "answered").await;
    assert_eq!(answered["answered_by"], "duty-bravo");
    wait_state(&bravo, &id, "answered").await;
    call(&alpha, "bravo", CallOp::Hangup(call_id), "duty-alpha").await.expect("hang up");
    let ended = wait_state(&bravo, &id, "ended").await;
    assert_eq!(ended["ended_by"], "duty-alpha");
    wait_state(&alpha, &id, "ended").await;

    for (r, first) in [(&alpha, "call.started"), (&bravo, "call.ringing")] {
        let entries = call_entries(r, &id).await;
        let kinds: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds.first(), Some(&first), "{}: {kinds:?}", r.name);
        assert!(kinds.contains(&"call.answered") && kinds.contains(&"call.ended"), "{}: {kinds:?}", r.name);
        let answered = entries.iter().find(|(k, _)| k == "call.answered").map(|(_, b)| b.clone()).unwrap_or_default();
        assert_eq!(answered["call"]["answered_by"], "duty-bravo", "{}", r.name);
    }
    // Bravo's record holds alpha's signed steps (the ring and the hang-up).
    let at_bravo = call_entries(&bravo, &id).await;
    assert!(at_bravo.iter().any(|(k, b)| k == "call.ringing" && b["sig"].is_string()), "{at_bravo:?}");
    // Both records verify, and the auditor's transcript says who called and who answered.
    for (r, peer) in [(&alpha, "bravo"), (&bravo, "alpha")] {
        let text = hotline_station::export::export(
            &r.state.core,
            r.state.key.clone(),
            vec![r.state.lines.get(peer).expect("line").key.clone()],
        )
        .await
        .expect("export");
        let export = hotline_audit::parse_export(text.as_bytes()).expect("parse");
        let summary = hotline_audit::verify(&export).expect("the record verifies");
        assert!(summary.render().contains("1 answered"), "{}", summary.render());
        let transcript = hotline_audit::transcript(&export, None).expect("transcript");
        assert!(transcript.contains("alpha \u{2192} bravo, called by duty-alpha"), "{transcript}");
        assert!(transcript.contains("answered by duty-bravo"), "{transcript}");
        assert!(transcript.contains("ended at") && transcript.contains("by duty-alpha"), "{transcript}");
    }
}

#[tokio::test]
async fn a_declined_call_and_a_call_on_a_line_that_is_down_are_in_both_records() {
    let (_dir, alpha, bravo) = pair().await;
    let started = call(&alpha, "bravo", CallOp::Start, "duty-alpha").await.expect("call");
    let id = started["id"].as_str().expect("id").to_owned();
    wait_state(&bravo, &id, "ringing").await;
    call(&bravo, "alpha", CallOp::Decline(id.parse().expect("id")), "duty-bravo").await.expect("decline");
    wait_state(&alpha, &id, "declined").await;
    wait_state(&bravo, &id, "declined").await;

    bravo.stop().await;
    let mut status = alpha.state.lines.get("bravo").expect("line").status.clone();
    tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| s.state != hotline_proto::LineState::Up))
        .await
        .expect("the line goes down")
        .expect("status");
    let refused = call(&alpha, "bravo", CallOp::Start, "duty-alpha").await;
    assert!(refused.as_ref().is_err_and(|e| e.to_string().contains("down")), "refused at once: {refused:?}");
    let entries = alpha.state.core.read(|tx| tx.entries_after(0, 100_000)).await.expect("entries");
    assert!(entries.iter().any(|e| e.kind == "call.refused"), "the unanswered attempt is evidence");
    let text = hotline_station::export::export(
        &alpha.state.core,
        alpha.state.key.clone(),
        vec![alpha.state.lines.get("bravo").expect("line").key.clone()],
    )
    .await
    .expect("export");
    let export = hotline_audit::parse_export(text.as_bytes()).expect("parse");
    let summary = hotline_audit::verify(&export).expect("verifies").render();
    assert!(summary.contains("alpha called 2 times") && summary.contains("not answered"), "{summary}");
}
