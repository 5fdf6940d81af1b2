//! Line administration through the API (`POST /api/v1/lines`, `PATCH` and `DELETE
//! /api/v1/lines/{peer}`), in process: supervisors only, every bad request a clear 4xx
//! that changes nothing (not `station.toml`, not the record, not the running lines), and
//! a good one in all three at once. Two real stations bringing an added line up are in
//! `crates/cli/tests/it/lines.rs`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_identity::StationKey;
use hotline_station::http::router;
use serde_json::{Value, json};

use crate::hardening::{Station, send, station};

async fn call(s: &Station, method: &str, path: &str, role: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req =
        Request::builder().method(method).uri(path).header("authorization", format!("Bearer {}", s.tokens[role]));
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let (status, _, v) = send(&router(s.state.clone()), req.body(body).expect("request")).await;
    (status, v)
}

/// Every `line.*` entry of administration in the record, as JSON.
async fn line_entries(s: &Station) -> Vec<Value> {
    s.state
        .core
        .read(|tx| {
            let mut out = Vec::new();
            tx.for_each_entry_body(|_, body| {
                let v: Value = serde_json::from_str(body).unwrap_or_default();
                if matches!(v["kind"].as_str(), Some("line.added" | "line.changed" | "line.removed")) {
                    out.push(v);
                }
            })?;
            Ok(out)
        })
        .await
        .expect("read")
}

fn toml(s: &Station) -> String {
    std::fs::read_to_string(s.dir.path().join("station.toml")).expect("station.toml")
}

fn key_of(name: &str) -> String {
    StationKey::generate(name).expect("key").verifier().to_string()
}

#[tokio::test]
async fn operators_and_auditors_get_403_and_nothing_changes() {
    let s = station().await;
    let before = toml(&s);
    let charlie = json!({"peer": "charlie", "key": key_of("charlie"), "addrs": ["127.0.0.1:9"]});
    for role in ["operator", "auditor"] {
        let (status, v) = call(&s, "POST", "/api/v1/lines", role, Some(charlie.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "POST as {role}: {v}");
        let patch = json!({"addrs": ["127.0.0.1:10"]});
        let (status, v) = call(&s, "PATCH", "/api/v1/lines/bravo", role, Some(patch)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "PATCH as {role}: {v}");
        let (status, v) = call(&s, "DELETE", "/api/v1/lines/bravo", role, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "DELETE as {role}: {v}");
    }
    assert_eq!(toml(&s), before);
    assert_eq!(s.state.lines.keys().collect::<Vec<_>>(), ["bravo"]);
    assert!(line_entries(&s).await.is_empty());
}

/// A bad request: method, path, body, and the status, error code and words of its refusal.
type Case = (&'static str, &'static str, Option<Value>, StatusCode, &'static str, &'static str);

#[tokio::test]
async fn bad_line_requests_get_a_clear_4xx_and_change_nothing() {
    let s = station().await;
    let before = toml(&s);
    let charlie = key_of("charlie");
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "charlie", "key": "charlie+not-a-key", "addrs": ["127.0.0.1:9"]})),
            StatusCode::BAD_REQUEST,
            "bad_key",
            "NAME+KEYHASH+BASE64",
        ),
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "delta", "key": charlie, "addrs": ["127.0.0.1:9"]})),
            StatusCode::BAD_REQUEST,
            "bad_key",
            "is for station \"charlie\"",
        ),
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "bravo", "key": key_of("bravo"), "addrs": ["127.0.0.1:9"]})),
            StatusCode::CONFLICT,
            "conflict",
            "already exists",
        ),
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "charlie", "key": charlie, "addrs": ["not an address"]})),
            StatusCode::BAD_REQUEST,
            "bad_addr",
            "HOST:PORT",
        ),
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "charlie", "key": charlie, "addrs": []})),
            StatusCode::BAD_REQUEST,
            "bad_addr",
            "1 to 8 addresses",
        ),
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "Charlie!", "key": charlie, "addrs": ["127.0.0.1:9"]})),
            StatusCode::BAD_REQUEST,
            "bad_peer",
            "not allowed",
        ),
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "charlie", "key": charlie, "addrs": ["127.0.0.1:9"], "heartbeat_interval_ms": 5})),
            StatusCode::BAD_REQUEST,
            "bad_option",
            "100 to 60000",
        ),
        (
            "POST",
            "/api/v1/lines",
            Some(json!({"peer": "charlie", "key": charlie, "addrs": ["127.0.0.1:9"], "colour": "red"})),
            StatusCode::BAD_REQUEST,
            "bad_json",
            "colour",
        ),
        (
            "DELETE",
            "/api/v1/lines/zulu",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
            "no line to a station named \"zulu\"",
        ),
        (
            "PATCH",
            "/api/v1/lines/zulu",
            Some(json!({"addrs": ["127.0.0.1:9"]})),
            StatusCode::NOT_FOUND,
            "not_found",
            "zulu",
        ),
        (
            "PATCH",
            "/api/v1/lines/bravo",
            Some(json!({"key": key_of("bravo")})),
            StatusCode::BAD_REQUEST,
            "key_pinned",
            "remove the line",
        ),
        (
            "PATCH",
            "/api/v1/lines/bravo",
            Some(json!({"addrs": ["127.0.0.1:9", "127.0.0.1:9"]})),
            StatusCode::BAD_REQUEST,
            "bad_addr",
            "twice",
        ),
        ("PATCH", "/api/v1/lines/bravo", Some(json!({})), StatusCode::BAD_REQUEST, "bad_request", "nothing to change"),
    ];
    for (method, path, body, want, code, says) in cases {
        let shown = body.clone();
        let (status, v) = call(&s, method, path, "supervisor", body).await;
        assert_eq!(status, want, "{method} {path} {shown:?}: {v}");
        assert_eq!(v["error"]["code"], code, "{method} {path} {shown:?}: {v}");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{method} {path} {shown:?}: {message:?} should say {says:?}");
        assert_eq!(toml(&s), before, "{method} {path} {shown:?} changed station.toml");
    }
    assert_eq!(s.state.lines.keys().collect::<Vec<_>>(), ["bravo"]);
    assert!(line_entries(&s).await.is_empty(), "{:?}", line_entries(&s).await);
}

#[tokio::test]
async fn a_line_added_changed_and_removed_is_in_station_toml_the_record_and_the_lines_at_once() {
    let s = station().await;
    let key = StationKey::generate("charlie").expect("key").verifier();
    let body =
        json!({"peer": "charlie", "key": key.to_string(), "addrs": ["127.0.0.1:9"], "heartbeat_interval_ms": 250});
    let (status, v) = call(&s, "POST", "/api/v1/lines", "supervisor", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let safety = s.state.key.verifier().safety_number(&key).to_string();
    assert_eq!(v["safety_number"], safety.as_str());
    assert_eq!(v["fingerprint"], key.fingerprint_digits().as_str());
    assert_eq!(v["heartbeat_interval_ms"], 250);
    assert_eq!(v["state"], "connecting");
    assert!(s.state.lines.contains_key("charlie"), "running without a restart");
    let (_, listed) = call(&s, "GET", "/api/v1/lines", "auditor", None).await;
    let peers: Vec<&str> = listed.as_array().expect("lines").iter().filter_map(|l| l["peer"].as_str()).collect();
    assert_eq!(peers, ["bravo", "charlie"]);
    let text = toml(&s);
    assert!(text.starts_with("# alpha's own note"), "comments are kept:\n{text}");
    let config = hotline_station::config::Config::load(s.dir.path()).expect("station.toml loads");
    let line = config.lines.iter().find(|l| l.peer == "charlie").expect("charlie in station.toml");
    assert_eq!((line.key.as_str(), line.heartbeat_interval_ms), (key.to_string().as_str(), 250));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(s.dir.path().join("station.toml")).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "station.toml is rewritten owner-only");
    }

    // New addresses are dialed at once: the first is a listener of this test's.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let primary = listener.local_addr().expect("addr").to_string();
    let patch = json!({"addrs": [primary, "127.0.0.1:11"]});
    let (status, v) = call(&s, "PATCH", "/api/v1/lines/charlie", "supervisor", Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["addrs"], json!([primary, "127.0.0.1:11"]));
    assert_eq!(v["heartbeat_interval_ms"], 250, "what the change does not name stays");
    assert_eq!(s.state.lines.get("charlie").expect("line").addrs, [primary.as_str(), "127.0.0.1:11"]);
    let dialed = tokio::time::timeout(std::time::Duration::from_secs(5), listener.accept()).await;
    assert!(dialed.is_ok_and(|a| a.is_ok()), "the changed line dials its new primary within 5 s");
    let config = hotline_station::config::Config::load(s.dir.path()).expect("station.toml loads");
    assert_eq!(config.lines.iter().find(|l| l.peer == "charlie").expect("charlie").addrs.len(), 2);

    let (status, v) = call(&s, "DELETE", "/api/v1/lines/charlie", "supervisor", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    assert!(!s.state.lines.contains_key("charlie"));
    let (_, listed) = call(&s, "GET", "/api/v1/lines", "auditor", None).await;
    assert_eq!(listed.as_array().expect("lines").len(), 1, "{listed}");
    let config = hotline_station::config::Config::load(s.dir.path()).expect("station.toml loads");
    assert!(config.lines.iter().all(|l| l.peer != "charlie"));
    assert!(toml(&s).starts_with("# alpha's own note"));

    let entries = line_entries(&s).await;
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["line.added", "line.changed", "line.removed"]);
    for e in &entries {
        assert_eq!(e["by"], "supervisor", "{e}");
        assert_eq!(e["peer"], "charlie", "{e}");
        assert_eq!(e["fingerprint"], key.fingerprint_digits().as_str(), "{e}");
    }
    assert_eq!(entries[0]["safety_number"], safety.as_str());
    assert_eq!(entries[1]["was"]["addrs"], json!(["127.0.0.1:9"]));
    assert_eq!(entries[1]["addrs"], json!([primary, "127.0.0.1:11"]));
    assert_eq!(entries[2]["key"], key.to_string().as_str(), "the removed entry names the key it pinned");
}
