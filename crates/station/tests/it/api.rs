//! Authentication on every route, role checks, and bad input that changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_identity::StationKey;
use hotline_station::api::{AppState, router};
use hotline_station::core::Core;
use hotline_station::link::{self, LineSetup};
use hotline_store::{Role, Store};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

struct Fixture {
    state: AppState,
    operator: String,
    auditor: String,
}

async fn fixture() -> Fixture {
    let store = Store::open_in_memory().expect("store");
    let core = Core::new("alpha".into(), "en".into(), store);
    let key = Arc::new(StationKey::generate("alpha").expect("key"));
    let peer_key = StationKey::generate("bravo").expect("key").verifier();
    let setup = LineSetup {
        core: core.clone(),
        own_key: key.clone(),
        peer: "bravo".into(),
        peer_key,
        // Nothing listens here: the line stays down and messages stay queued.
        addrs: vec!["127.0.0.1:9".into()],
        config: hotline_proto::LineConfig::default(),
        backoff_max: Duration::from_secs(5),
    };
    let (handle, _task) = link::start(setup).await.expect("line");
    let mut lines = BTreeMap::new();
    lines.insert("bravo".to_owned(), handle);
    let (operator, op_hash) = hotline_station::auth::new_secret().expect("secret");
    let (auditor, au_hash) = hotline_station::auth::new_secret().expect("secret");
    core.write(move |j| {
        j.tx.add_user("op", Role::Operator, "x", 0)?;
        j.tx.add_user("au", Role::Auditor, "x", 0)?;
        j.tx.add_token(&op_hash, "op", 0)?;
        j.tx.add_token(&au_hash, "au", 0)
    })
    .await
    .expect("users");
    Fixture { state: AppState { core, key, lines: Arc::new(lines) }, operator, auditor }
}

async fn call(
    state: &AppState,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Body>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.unwrap_or_else(Body::empty)).expect("request");
    let resp = router(state.clone()).oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn message_count(state: &AppState) -> usize {
    state.core.read(|tx| tx.list_messages("bravo", None, 1000)).await.expect("list").len()
}

#[tokio::test]
async fn every_route_in_the_openapi_document_answers_401_without_credentials() {
    let f = fixture().await;
    let (status, doc) = call(&f.state, "GET", "/api/v1/openapi.json", Some(&f.operator), None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_none() {
                continue;
            }
            let public = (path == "/healthz" && method == "get") || (path == "/api/v1/login" && method == "post");
            let concrete = path.replace("{peer}", "bravo").replace("{id}", "0190f0c0-0000-7000-8000-000000000000");
            let (status, body) = call(&f.state, &method.to_uppercase(), &concrete, None, None).await;
            if public {
                assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path} must be public");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without credentials");
                assert_eq!(body["error"]["code"], "unauthorized", "{method} {path}: {body}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} protected routes in the document");
    let (status, _) = call(&f.state, "GET", "/api/v1/lines", Some("hl_wrong"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_auditor_reads_but_cannot_write() {
    let f = fixture().await;
    let (status, _) = call(&f.state, "GET", "/api/v1/lines", Some(&f.auditor), None).await;
    assert_eq!(status, StatusCode::OK);
    let body = Body::from(json!({"body": "hello"}).to_string());
    let (status, v) = call(&f.state, "POST", "/api/v1/lines/bravo/messages", Some(&f.auditor), Some(body)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(message_count(&f.state).await, 0);
}

#[tokio::test]
async fn a_message_is_queued_while_the_line_is_down() {
    let f = fixture().await;
    let body = Body::from(json!({"body": "radar contact", "precedence": "FLASH", "lang": "en"}).to_string());
    let (status, v) = call(&f.state, "POST", "/api/v1/lines/bravo/messages", Some(&f.operator), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["state"], "queued");
    let id = v["id"].as_str().expect("id");
    assert_eq!(uuid::Uuid::parse_str(id).expect("uuid").get_version_num(), 7);
    let (status, list) = call(&f.state, "GET", "/api/v1/lines/bravo/messages", Some(&f.operator), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["precedence"], "FLASH");
    // Acknowledging our own outgoing message is not ours to do.
    let (status, _) = call(&f.state, "POST", &format!("/api/v1/messages/{id}/ack"), Some(&f.operator), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_reason_and_changes_nothing() {
    let f = fixture().await;
    let big = "x".repeat(64 * 1024 + 1);
    let cases: Vec<(&str, Body, StatusCode, &str)> = vec![
        (
            "/api/v1/lines/zulu/messages",
            Body::from(json!({"body": "hi"}).to_string()),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/lines/bravo/messages",
            Body::from(json!({"body": "hi", "precedence": "URGENT"}).to_string()),
            StatusCode::BAD_REQUEST,
            "unknown_precedence",
        ),
        (
            "/api/v1/lines/bravo/messages",
            Body::from(json!({"body": big}).to_string()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            "/api/v1/lines/bravo/messages",
            Body::from(vec![b'x'; 1024 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        ("/api/v1/lines/bravo/messages", Body::from("{\"body\": \"hi"), StatusCode::BAD_REQUEST, "bad_json"),
        (
            "/api/v1/lines/bravo/messages",
            Body::from(b"{\"body\": \"\xff\xfe\"}".to_vec()),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "/api/v1/lines/bravo/messages",
            Body::from(json!({"body": "hi", "lang": "not a tag"}).to_string()),
            StatusCode::BAD_REQUEST,
            "bad_lang",
        ),
        (
            "/api/v1/lines/bravo/messages",
            Body::from(json!({"body": "hi", "extra": 1}).to_string()),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "/api/v1/lines/bravo/messages",
            Body::from(json!({"body": "hi", "reply_to": "0190f0c0-0000-7000-8000-000000000000"}).to_string()),
            StatusCode::BAD_REQUEST,
            "bad_reply_to",
        ),
        (
            "/api/v1/messages/0190f0c0-0000-7000-8000-000000000000/ack",
            Body::empty(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    let entries_before = f.state.core.read(|tx| tx.entry_count()).await.expect("count");
    for (path, body, want, code) in cases {
        let (status, v) = call(&f.state, "POST", path, Some(&f.operator), Some(body)).await;
        assert_eq!(status, want, "{path}: {v}");
        assert_eq!(v["error"]["code"], code, "{path}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{path}: {v}");
    }
    assert_eq!(message_count(&f.state).await, 0);
    assert_eq!(f.state.core.read(|tx| tx.entry_count()).await.expect("count"), entries_before);
}
