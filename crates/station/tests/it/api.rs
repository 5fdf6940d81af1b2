//! Authentication on every route, role checks, and bad input that changes nothing.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_station::http::{AppState, router};
use hotline_store::Role;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

struct Fixture {
    state: AppState,
    operator: String,
    auditor: String,
}

async fn fixture() -> Fixture {
    let state = crate::fixture::one_line_state().await;
    let core = state.core.clone();
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
    Fixture { state, operator, auditor }
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
    // Within 64 KiB, but every character needs escaping: too large for a line frame.
    let escaped = "\u{1}".repeat(60 * 1024);
    let body = Body::from(json!({"body": escaped}).to_string());
    let (status, v) = call(&f.state, "POST", "/api/v1/lines/bravo/messages", Some(&f.operator), Some(body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    // The line task survived: a normal message is still accepted.
    let body = Body::from(json!({"body": "still here"}).to_string());
    let (status, _) = call(&f.state, "POST", "/api/v1/lines/bravo/messages", Some(&f.operator), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(message_count(&f.state).await, 1);
    assert_eq!(f.state.core.read(|tx| tx.entry_count()).await.expect("count"), entries_before + 1);
}

/// Reads SSE events from `body` until `want` events arrived; returns their (id, event) pairs.
async fn read_events(body: Body, want: usize) -> Vec<(i64, String)> {
    let mut body = body;
    let mut text = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while out.len() < want {
        let frame = tokio::time::timeout_at(deadline, body.frame()).await.expect("events in time");
        let Some(Ok(frame)) = frame else { break };
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let id = block.lines().find_map(|l| l.strip_prefix("id: ")).and_then(|v| v.parse().ok());
            let event = block.lines().find_map(|l| l.strip_prefix("event: ")).map(String::from);
            if let (Some(id), Some(event)) = (id, event) {
                out.push((id, event));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_event_stream_resumes_after_last_event_id_without_a_gap() {
    let f = fixture().await;
    for i in 0..3 {
        let body = Body::from(json!({"body": format!("m{i}")}).to_string());
        let (status, _) = call(&f.state, "POST", "/api/v1/lines/bravo/messages", Some(&f.operator), Some(body)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let total = f.state.core.read(|tx| tx.entry_count()).await.expect("count");
    let req = Request::builder()
        .uri("/api/v1/events")
        .header("authorization", format!("Bearer {}", f.operator))
        .header("last-event-id", "1")
        .body(Body::empty())
        .expect("request");
    let resp = router(f.state.clone()).oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let replayed = read_events(resp.into_body(), (total - 1) as usize).await;
    let ids: Vec<i64> = replayed.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (2..=total).collect::<Vec<_>>(), "every entry after 1, in order");
    let stored: Vec<(i64, String)> = f
        .state
        .core
        .read(|tx| tx.entries_after(1, 100))
        .await
        .expect("entries")
        .into_iter()
        .map(|e| (e.idx, e.kind))
        // Opening the stream put someone on watch, which the line task records after.
        .filter(|(idx, _)| *idx <= total)
        .collect();
    assert_eq!(replayed, stored, "the replay is the record after entry 1");

    // A live subscriber sees new entries as they are committed (from `total`: opening the
    // first stream may have recorded a presence change since).
    let req = Request::builder()
        .uri(format!("/api/v1/events?after={total}"))
        .header("authorization", format!("Bearer {}", f.operator))
        .body(Body::empty())
        .expect("request");
    let resp = router(f.state.clone()).oneshot(req).await.expect("response");
    let body = Body::from(json!({"body": "live"}).to_string());
    let (status, _) = call(&f.state, "POST", "/api/v1/lines/bravo/messages", Some(&f.operator), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Other entries (a line state change) may come first; none may be skipped.
    let stored_now = f.state.core.read(|tx| tx.entry_count()).await.expect("count");
    let live = read_events(resp.into_body(), (stored_now - total) as usize).await;
    let ids: Vec<i64> = live.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (total + 1..=stored_now).collect::<Vec<_>>());
    assert!(live.iter().any(|(_, kind)| kind == "message.queued"), "{live:?}");
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_that_authenticates() {
    let f = fixture().await;
    let phc = hotline_station::auth::hash_password("correct horse").expect("hash");
    f.state.core.write(move |j| j.tx.add_user("duty", Role::Operator, &phc, 0).map(|_| ())).await.expect("user");
    let login = |password: &str| {
        Request::builder()
            .method("POST")
            .uri("/api/v1/login")
            .header("content-type", "application/json")
            .body(Body::from(json!({"user": "duty", "password": password}).to_string()))
            .expect("request")
    };
    let resp = router(f.state.clone()).oneshot(login("wrong password")).await.expect("response");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = router(f.state.clone()).oneshot(login("correct horse")).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().expect("pair").to_owned();
    let with_cookie = |uri: &str, method: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", session.clone())
            // What a browser sends with the console's own requests (guard.rs checks it).
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request")
    };
    let resp = router(f.state.clone()).oneshot(with_cookie("/api/v1/session", "GET")).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = router(f.state.clone()).oneshot(with_cookie("/api/v1/logout", "POST")).await.expect("response");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = router(f.state.clone()).oneshot(with_cookie("/api/v1/session", "GET")).await.expect("response");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "the session ends at logout");
    let kinds: Vec<String> =
        f.state.core.read(|tx| tx.entries_after(0, 100)).await.expect("entries").into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&"login.failed".to_owned()) && kinds.contains(&"login".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn metrics_show_line_state_queue_depth_and_oldest_undelivered_age() {
    let f = fixture().await;
    let body = Body::from(json!({"body": "waiting"}).to_string());
    call(&f.state, "POST", "/api/v1/lines/bravo/messages", Some(&f.operator), Some(body)).await;
    let req = Request::builder()
        .uri("/metrics")
        .header("authorization", format!("Bearer {}", f.operator))
        .body(Body::empty())
        .expect("request");
    let resp = router(f.state.clone()).oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(resp.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("utf-8");
    assert!(text.contains("hotline_line_up{peer=\"bravo\"} 0"), "{text}");
    assert!(text.contains("hotline_queue_depth{peer=\"bravo\"} 1"), "{text}");
    assert!(text.contains("hotline_oldest_undelivered_seconds{peer=\"bravo\"}"), "{text}");
}

/// Sends that arrive together share a transaction (group commit) but must come out
/// exactly as if accepted one by one: every sender its own answer, a bad `reply_to`
/// refused alone, each lane's sequence numbers contiguous, and the record's
/// `message.queued` entries in the same order as the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_are_each_accepted_in_order_or_refused_alone() {
    let f = fixture().await;
    let precedences = ["ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH"];
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..120 {
        let (state, token) = (f.state.clone(), f.operator.clone());
        let mut body = json!({"body": format!("burst {i}"), "precedence": precedences[i % 4]});
        if i % 10 == 3 {
            body["reply_to"] = json!("0190f0c0-0000-7000-8000-000000000000");
        }
        tasks.spawn(async move {
            let body = Body::from(body.to_string());
            (i, call(&state, "POST", "/api/v1/lines/bravo/messages", Some(&token), Some(body)).await)
        });
    }
    let mut accepted = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, (status, v)) = done.expect("task");
        if i % 10 == 3 {
            assert_eq!(status, StatusCode::BAD_REQUEST, "send {i}: {v}");
            assert_eq!(v["error"]["code"], "bad_reply_to", "send {i}: {v}");
        } else {
            assert_eq!(status, StatusCode::ACCEPTED, "send {i}: {v}");
            accepted.push(v["id"].as_str().expect("id").to_owned());
        }
    }
    assert_eq!(accepted.len(), 108);
    assert_eq!(message_count(&f.state).await, 108);
    let (restored, entries) =
        f.state.core.read(|tx| Ok((tx.restore_line("bravo")?, tx.entries_after(0, 10_000)?))).await.expect("read");
    // `restore_line` itself refuses an outbox whose sequence numbers skip.
    assert_eq!(restored.outbound.len(), 108);
    let id_in = |text: &[u8]| {
        let text = String::from_utf8_lossy(text);
        accepted.iter().find(|id| text.contains(id.as_str())).cloned()
    };
    let queued: Vec<String> =
        entries.iter().filter(|e| e.kind == "message.queued").filter_map(|e| id_in(e.body.as_bytes())).collect();
    assert_eq!(queued.len(), 108, "one message.queued entry per accepted send");
    for lane in hotline_proto::Lane::ALL {
        let by_seq: Vec<String> =
            restored.outbound.iter().filter(|(l, _, _)| *l == lane).filter_map(|(_, _, p)| id_in(p)).collect();
        let in_record: Vec<String> = queued.iter().filter(|id| by_seq.contains(id)).cloned().collect();
        assert_eq!(by_seq, in_record, "lane {lane:?}: outbox order and record order differ");
    }
}

/// #14.10: `GET /api/v1/log/export` used to build the whole record as one string (read
/// in one transaction under the store's lock) before the first byte went out. Now the
/// body is streamed a page at a time — no `Content-Length`, since its length is not
/// known up front — and is still an export `hotline verify` accepts, ending at the size
/// of the checkpoint it began with.
#[tokio::test]
async fn the_export_is_streamed_and_verifies() {
    let f = fixture().await;
    // More than one page of entries (`export_page_entries_max` is 1,000).
    let pages = 1005;
    f.state
        .core
        .write(move |j| {
            for n in 0..pages {
                j.append(hotline_station::entry_kind::EntryKind::StationStopped, json!({"station": "alpha", "n": n}))?;
            }
            Ok(())
        })
        .await
        .expect("entries");
    let req = Request::builder()
        .uri("/api/v1/log/export")
        .header("authorization", format!("Bearer {}", f.auditor))
        .body(Body::empty())
        .expect("request");
    let resp = router(f.state.clone()).oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get("content-length").is_none(), "streamed, not built whole: {:?}", resp.headers());
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let export = hotline_audit::parse_export(&bytes).expect("canonical export");
    let summary = hotline_audit::verify(&export).expect("verifies");
    assert!(summary.entries >= pages, "{}", summary.entries);
    assert!(summary.last_checkpoint_covers_all);
}
