//! Retention of call recordings: each station keeps its recording of a call as long as
//! the longer of its own and the peer's stated retention, then deletes the file with a
//! record entry; the statement and its hashes stay. A supervisor may delete one sooner,
//! for a reason the record keeps; an operator may not.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_call::CallId;
use hotline_station::line::calls::CallOp;
use hotline_station::recording_retention::{self, DeleteError, Deleter};
use hotline_station::serve::Running;
use hotline_store::Role;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::calls::{call, pair_configured, wait_state};
use crate::recordings::{eventually, eventually_entry, export_of};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A call between the two, answered, half a second long, recorded and stated both ways.
async fn recorded_call(dir: &std::path::Path, alpha: &Running, bravo: &Running) -> CallId {
    let started = call(alpha, "bravo", CallOp::Start, "op").await.expect("call");
    let id: CallId = started["id"].as_str().expect("id").parse().expect("call id");
    wait_state(bravo, &id.to_string(), "ringing").await;
    call(bravo, "alpha", CallOp::Answer(id), "op").await.expect("answer");
    wait_state(alpha, &id.to_string(), "answered").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    call(alpha, "bravo", CallOp::Hangup(id), "op").await.expect("hang up");
    let sealed = |s: &str| dir.join(s).join(format!("recordings/{id}.opus"));
    eventually("both recordings sealed", || sealed("alpha").exists() && sealed("bravo").exists()).await;
    for r in [alpha, bravo] {
        eventually_entry(r, "call.recorded", id).await;
        eventually_entry(r, "call.recorded_by_peer", id).await;
    }
    id
}

pub(crate) async fn api(
    r: &Running,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let resp = hotline_station::http::router(r.state.clone()).oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

pub(crate) async fn token(r: &Running, name: &'static str, role: Role) -> String {
    let (secret, hash) = hotline_station::auth::new_secret().expect("secret");
    r.state
        .core
        .write(move |j| {
            j.tx.add_user(name, role, "x", 0)?;
            j.tx.add_token(&hash, name, 0)
        })
        .await
        .expect("user");
    secret
}

async fn deletions(r: &Running) -> Vec<Value> {
    let entries = r.state.core.read(|tx| tx.entries_after(0, 100_000)).await.expect("entries");
    entries
        .into_iter()
        .filter(|e| e.kind == "call.recording_deleted")
        .map(|e| serde_json::from_str(&e.body).expect("body"))
        .collect()
}

#[tokio::test]
async fn a_recording_is_kept_as_long_as_either_station_keeps_it_then_deleted_with_an_entry_and_its_hashes_kept() {
    // Bravo keeps recordings of its line to alpha for a year; alpha for the default 90 days.
    let (dir, alpha, bravo) = pair_configured(|name, station| {
        if name == "bravo" {
            let toml = station.join("station.toml");
            let mut text = std::fs::read_to_string(&toml).expect("station.toml");
            text.push_str("recording_retention_days = 365\n");
            std::fs::write(&toml, text).expect("station.toml");
        }
    })
    .await;
    let id = recorded_call(dir.path(), &alpha, &bravo).await;
    let stated = eventually_entry(&alpha, "call.recorded_by_peer", id).await;
    assert_eq!(stated["retention_days"], 365, "bravo states its retention: {stated}");
    assert_eq!(eventually_entry(&alpha, "call.recorded", id).await["retention_days"], 90);

    let wanted = id.to_string();
    let row = alpha.state.core.read(move |tx| tx.call_recording(&wanted)).await.expect("read").expect("row");
    assert_eq!(row.kept_until_ms(), row.recorded_ms + 365 * DAY_MS, "alpha keeps its copy as long as bravo");
    let alpha_recordings = dir.path().join("alpha/recordings");
    let file = alpha_recordings.join(format!("{id}.opus"));

    // 100 days on: past alpha's own 90, but bravo keeps its copy, so alpha keeps its own.
    let later = row.recorded_ms + 100 * DAY_MS;
    assert_eq!(recording_retention::sweep(&alpha.state.core, &alpha_recordings, later).await.expect("sweep"), 0);
    assert!(file.exists(), "kept while the peer keeps its recording");

    // A year and a day on: deleted, once, with an entry naming the file; its hashes stay.
    let year_on = row.recorded_ms + 366 * DAY_MS;
    assert_eq!(recording_retention::sweep(&alpha.state.core, &alpha_recordings, year_on).await.expect("sweep"), 1);
    assert!(!file.exists(), "the file is gone");
    assert_eq!(recording_retention::sweep(&alpha.state.core, &alpha_recordings, year_on).await.expect("sweep"), 0);
    let deleted = deletions(&alpha).await;
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["id"], id.to_string());
    assert_eq!((deleted[0]["why"].as_str(), deleted[0]["kept_days"].as_u64()), (Some("retention"), Some(365)));
    assert_eq!(deleted[0]["sha256"].as_str(), Some(row.sha256.as_str()), "names the file it deleted");
    let wanted = id.to_string();
    let after = alpha.state.core.read(move |tx| tx.call_recording(&wanted)).await.expect("read").expect("row kept");
    assert_eq!((after.sha256.as_str(), after.bytes), (row.sha256.as_str(), row.bytes), "the hashes stay");
    assert!(after.deleted_ms.is_some());

    // The API says so: the call shows when and why, the file is no longer served.
    let auditor = token(&alpha, "au", Role::Auditor).await;
    let (status, view) = api(&alpha, "GET", &format!("/api/v1/calls/{id}"), &auditor, None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["recording"]["deleted"]["why"], "retention", "{view}");
    assert_eq!(view["recording"]["sha256"].as_str(), Some(row.sha256.as_str()), "{view}");
    let (status, body) = api(&alpha, "GET", &format!("/api/v1/calls/{id}/recording"), &auditor, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("deleted") && m.contains("retention")));

    // The auditor's reading of the record: deleted, by retention, not missing.
    let export = export_of(&alpha, "bravo").await;
    let own = hotline_audit::recordings(&export).expect("stated");
    let deletion = own.iter().find(|r| r.call == id.to_string()).and_then(|r| r.deleted.clone());
    assert_eq!(deletion.map(|d| d.why), Some("retention".to_owned()));
    hotline_audit::cross_check(&export, &export_of(&bravo, "alpha").await).expect("the records still agree");

    // A crash between the entry and the unlink left the file: the next start removes it.
    std::fs::write(&file, b"OggS left behind").expect("write");
    let removed = recording_retention::remove_deleted_files(&alpha.state.core, &alpha_recordings).await;
    assert_eq!(removed.expect("removed"), 1);
    assert!(!file.exists());
    alpha.stop().await;
    bravo.stop().await;
}

#[tokio::test]
async fn a_supervisor_may_delete_a_recording_sooner_for_a_reason_the_record_keeps_and_an_operator_may_not() {
    let (dir, alpha, bravo) = pair_configured(|_, _| {}).await;
    let id = recorded_call(dir.path(), &alpha, &bravo).await;
    let file = dir.path().join(format!("bravo/recordings/{id}.opus"));
    let path = format!("/api/v1/calls/{id}/recording/delete");
    let operator = token(&bravo, "op2", Role::Operator).await;
    let supervisor = token(&bravo, "sup", Role::Supervisor).await;

    let (status, body) = api(&bravo, "POST", &path, &operator, Some(json!({"reason": "tidying up"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    for bad in
        [json!({"reason": "   "}), json!({"reason": "x".repeat(2000)}), json!({}), json!({"reason": "a", "more": 1})]
    {
        let (status, body) = api(&bravo, "POST", &path, &supervisor, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    assert!(file.exists() && deletions(&bravo).await.is_empty(), "refused deletions change nothing");

    let reason = json!({"reason": "recorded a test by mistake"});
    let (status, body) = api(&bravo, "POST", &path, &supervisor, Some(reason.clone())).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(!file.exists());
    let deleted = deletions(&bravo).await;
    assert_eq!(deleted.len(), 1);
    assert_eq!((deleted[0]["why"].as_str(), deleted[0]["by"].as_str()), (Some("supervisor"), Some("sup")));
    assert_eq!(deleted[0]["reason"], "recorded a test by mistake");
    let (status, body) = api(&bravo, "POST", &path, &supervisor, Some(reason)).await;
    assert_eq!(status, StatusCode::CONFLICT, "once: {body}");
    let again = recording_retention::delete(
        &bravo.state.core,
        &dir.path().join("bravo/recordings"),
        &id.to_string(),
        Deleter::Retention { kept_days: 90 },
    )
    .await;
    assert!(matches!(again, Err(DeleteError::AlreadyDeleted(_))), "{again:?}");
    let unknown = format!("/api/v1/calls/{}/recording/delete", uuid::Uuid::now_v7());
    let (status, _) = api(&bravo, "POST", &unknown, &supervisor, Some(json!({"reason": "x"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a call with no recording here");
    // Alpha's copy is untouched: each station deletes only its own.
    assert!(dir.path().join(format!("alpha/recordings/{id}.opus")).exists());
    alpha.stop().await;
    bravo.stop().await;
}
