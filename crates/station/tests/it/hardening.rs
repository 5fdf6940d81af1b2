//! API hardening: the login limiter, cross-origin refusal for cookie sessions, security
//! headers on every answer, and per-route body limits — all through `Router::oneshot`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use argon2::password_hash::PasswordHasher as _;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use hotline_station::http::{AppState, router};
use hotline_store::Role;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The password of every fixture user.
pub const PASSWORD: &str = "correct horse";

/// One station, alpha, with a line to bravo that stays down, and a user and a token
/// per role.
pub struct Station {
    pub state: AppState,
    /// API tokens by role: `operator`, `supervisor`, `auditor`.
    pub tokens: BTreeMap<&'static str, String>,
    /// The station directory (its `station.toml`).
    pub dir: tempfile::TempDir,
}

/// A PHC hash of [`PASSWORD`] with the smallest argon2id cost, so tests that log in
/// dozens of times do not spend a minute in an unoptimised build; verification reads the
/// cost from the hash.
fn cheap_hash() -> String {
    let params = argon2::Params::new(8, 1, 1, None).expect("params");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon.hash_password(PASSWORD.as_bytes()).expect("hash").to_string()
}

pub async fn station() -> Station {
    let (state, dir) = crate::fixture::one_line_station().await;
    let core = state.core.clone();
    let mut tokens = BTreeMap::new();
    let mut rows = Vec::new();
    for (name, role) in [("operator", Role::Operator), ("supervisor", Role::Supervisor), ("auditor", Role::Auditor)] {
        let (token, hash) = hotline_station::auth::new_secret().expect("secret");
        tokens.insert(name, token);
        rows.push((name, role, hash));
    }
    let phc = cheap_hash();
    core.write(move |j| {
        for (name, role, hash) in &rows {
            j.tx.add_user(name, *role, &phc, 0)?;
            j.tx.add_token(hash, name, 0)?;
        }
        Ok(())
    })
    .await
    .expect("users");
    Station { state, tokens, dir }
}

/// Sends one request; returns status, headers and the body as JSON (or a JSON string).
pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.expect("response");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, body)
}

fn login(user: &str, password: &str, from: Option<&str>) -> Request<Body> {
    let mut req = Request::post("/api/v1/login")
        .header("content-type", "application/json")
        .body(Body::from(json!({"user": user, "password": password}).to_string()))
        .expect("request");
    if let Some(addr) = from {
        let addr: SocketAddr = addr.parse().expect("address");
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    req
}

async fn kinds(state: &AppState) -> Vec<(String, Value)> {
    let entries = state.core.read(|tx| tx.entries_after(0, 10_000)).await.expect("entries");
    entries.into_iter().map(|e| (e.kind, serde_json::from_str(&e.body).unwrap_or(Value::Null))).collect()
}

/// Policy changed (#14.9): five failures from anywhere used to lock the user everywhere
/// for 15 minutes. Now failures count per (user, address): after 3 free ones, only that
/// name from that address waits (1 s, then twice as long each time, up to 60 s).
#[tokio::test]
async fn failed_logins_delay_only_that_name_from_that_address_and_are_recorded() {
    let s = station().await;
    let app = router(s.state.clone());
    for _ in 0..3 {
        let (status, _, body) = send(&app, login("operator", "wrong password", Some("192.0.2.10:5000"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"]["code"], "bad_login");
    }
    // From that address, even the right password waits now.
    let (status, headers, body) = send(&app, login("operator", PASSWORD, Some("192.0.2.10:5001"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "login_locked");
    let retry: u64 = headers["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert_eq!(retry, 1, "the first delay is a second");
    // From another address the right password is never refused.
    let (status, _, body) = send(&app, login("operator", PASSWORD, Some("192.0.2.99:5000"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "operator");

    let entries = kinds(&s.state).await;
    let failed: Vec<&Value> = entries.iter().filter(|(k, _)| k == "login.failed").map(|(_, b)| b).collect();
    assert_eq!(failed.len(), 3, "refusals while delayed are not recorded: {entries:?}");
    assert_eq!(failed[0]["address"], "192.0.2.10");
    assert_eq!(failed[0]["user"], "operator");
    let locked: Vec<&Value> = entries.iter().filter(|(k, _)| k == "login.locked").map(|(_, b)| b).collect();
    assert_eq!(locked.len(), 1, "{entries:?}");
    assert_eq!(locked[0]["user"], "operator");
    assert_eq!(locked[0]["address"], "192.0.2.10");
    assert_eq!(locked[0]["failures"], 3);
}

/// #14.9's case: someone hammering the duty operator's name cannot keep them out.
#[tokio::test]
async fn fifty_guesses_at_duty_from_one_address_do_not_refuse_duty_from_another() {
    let s = station().await;
    let phc = cheap_hash();
    s.state.core.write(move |j| j.tx.add_user("duty", Role::Operator, &phc, 0).map(drop)).await.expect("duty");
    let app = router(s.state.clone());
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..50 {
        let (status, _, _) = send(&app, login("duty", "wrong password", Some("10.0.0.9:4000"))).await;
        *statuses.entry(status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&401), Some(&3), "three judged, the rest told to wait: {statuses:?}");
    assert_eq!(statuses.get(&429), Some(&47), "{statuses:?}");
    let started = std::time::Instant::now();
    let (status, _, body) = send(&app, login("duty", PASSWORD, Some("10.0.0.7:4000"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "at once: {:?}", started.elapsed());
}

/// Policy changed (#14.9): 20 failures from one address used to lock every login from it
/// for 15 minutes (behind a proxy: everyone's). Now that address waits, growing from 1 s
/// to at most 60 s; other addresses are untouched.
#[tokio::test]
async fn one_address_guessing_many_names_waits_too() {
    let s = station().await;
    let app = router(s.state.clone());
    // Names that exist, so each guess costs one cheap hash; one guess per name stays under
    // the per-name free failures, and 20 in all use the address's.
    let phc = cheap_hash();
    s.state
        .core
        .write(move |j| (0..20).try_for_each(|i| j.tx.add_user(&format!("u{i}"), Role::Operator, &phc, 0).map(drop)))
        .await
        .expect("users");
    let mut statuses = Vec::new();
    for i in 0..20 {
        let user = format!("u{i}");
        let (status, _, _) = send(&app, login(&user, "wrong password", Some("[2001:db8::1]:4000"))).await;
        statuses.push(status);
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
    // The same /64 is the same client; another address is not.
    let (status, headers, _) = send(&app, login("operator", PASSWORD, Some("[2001:db8::2]:4000"))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "1");
    let (status, _, _) = send(&app, login("operator", PASSWORD, Some("198.51.100.1:4000"))).await;
    assert_eq!(status, StatusCode::OK);
    let locked: Vec<Value> =
        kinds(&s.state).await.into_iter().filter(|(k, _)| k == "login.locked").map(|(_, b)| b).collect();
    assert_eq!(locked.len(), 1, "{locked:?}");
    assert_eq!(locked[0]["address"], "2001:db8::");
    assert!(locked[0].get("user").is_none(), "{locked:?}");
}

#[tokio::test]
async fn a_name_that_is_no_user_is_not_kept_in_the_record() {
    let s = station().await;
    let app = router(s.state.clone());
    // A password typed in the user box, three times.
    for _ in 0..3 {
        let (status, _, _) = send(&app, login("Tr0ub4dor&3-secret", "wrong password", Some("192.0.2.5:1"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let entries = kinds(&s.state).await;
    let failed: Vec<&Value> = entries.iter().filter(|(k, _)| k == "login.failed").map(|(_, b)| b).collect();
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["user"], Value::Null, "{failed:?}");
    assert_eq!(failed[0]["unknown_user"], true, "{failed:?}");
    let locked: Vec<&Value> = entries.iter().filter(|(k, _)| k == "login.locked").map(|(_, b)| b).collect();
    assert_eq!(locked.len(), 1, "{entries:?}");
    assert_eq!((&locked[0]["user"], &locked[0]["unknown_user"]), (&Value::Null, &json!(true)));
    let all = s.state.core.read(|tx| tx.entries_after(0, 10_000)).await.expect("entries");
    assert!(all.iter().all(|e| !e.body.contains("Tr0ub4dor")), "the typed name is nowhere in the record");
    // A name that exists is kept: it says whose account is being guessed.
    let (status, _, _) = send(&app, login("operator", "wrong password", Some("192.0.2.5:1"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let entries = kinds(&s.state).await;
    let last = entries.iter().rev().find(|(k, _)| k == "login.failed").map(|(_, b)| b).expect("entry");
    assert_eq!((&last["user"], last.get("unknown_user")), (&json!("operator"), None));
}

#[tokio::test]
async fn an_unauthenticated_request_gets_401_before_413() {
    let s = station().await;
    let app = router(s.state.clone());
    let raw = |method: &str, uri: &str, headers: &[(&str, &str)], body: Vec<u8>| {
        let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(Body::from(body)).expect("request")
    };
    let cases = [
        raw("POST", "/api/v1/messages/x/ack", &[], b"{}".to_vec()),
        raw("GET", "/api/v1/lines", &[], b"x".to_vec()),
        raw("POST", "/api/v1/lines/bravo/messages", &[("content-length", "10000000")], vec![]),
        raw("POST", "/api/v1/lines/bravo/messages", &[], vec![b' '; 400 * 1024]),
        raw("POST", "/api/v1/lines/bravo/messages", &[("authorization", "Bearer hl_wrong")], vec![b' '; 400 * 1024]),
    ];
    for req in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (status, _, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized", "{what}: {body}");
    }
}

async fn cookie(app: &Router) -> String {
    let (status, headers, body) = send(app, login("operator", PASSWORD, None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set = headers["set-cookie"].to_str().expect("text").to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP (the demo) keeps the cookie usable: {set}");
    set.split(';').next().expect("pair").to_owned()
}

fn with(method: &str, uri: &str, headers: &[(&str, &str)], body: Option<Value>) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri).header("host", "127.0.0.1:8470");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    req.body(body).expect("request")
}

#[tokio::test]
async fn a_write_with_the_session_cookie_must_come_from_the_console_s_origin() {
    let s = station().await;
    let app = router(s.state.clone());
    let cookie = cookie(&app).await;
    let message = || Some(json!({"body": "radar contact"}));
    let post = "/api/v1/lines/bravo/messages";
    let cases: Vec<(Vec<(&str, &str)>, StatusCode)> = vec![
        (vec![], StatusCode::FORBIDDEN),
        (vec![("origin", "http://evil.example")], StatusCode::FORBIDDEN),
        (vec![("origin", "null")], StatusCode::FORBIDDEN),
        (vec![("sec-fetch-site", "cross-site"), ("origin", "http://127.0.0.1:8470")], StatusCode::FORBIDDEN),
        (vec![("sec-fetch-site", "same-site")], StatusCode::FORBIDDEN),
        (vec![("referer", "http://127.0.0.1:8470.evil.example/")], StatusCode::FORBIDDEN),
        (vec![("origin", "http://127.0.0.1:8470")], StatusCode::ACCEPTED),
        (vec![("sec-fetch-site", "same-origin")], StatusCode::ACCEPTED),
        (vec![("referer", "http://127.0.0.1:8470/")], StatusCode::ACCEPTED),
    ];
    for (headers, want) in cases {
        let mut all = headers.clone();
        all.push(("cookie", &cookie));
        let (status, _, body) = send(&app, with("POST", post, &all, message())).await;
        assert_eq!(status, want, "{headers:?}: {body}");
        if want == StatusCode::FORBIDDEN {
            assert_eq!(body["error"]["code"], "cross_origin", "{body}");
        }
    }
    // Reading with the cookie needs no origin; a bearer token is never checked.
    let (status, _, _) = send(&app, with("GET", "/api/v1/lines", &[("cookie", &cookie)], None)).await;
    assert_eq!(status, StatusCode::OK);
    let bearer = format!("Bearer {}", s.tokens["operator"]);
    let evil = [("authorization", bearer.as_str()), ("origin", "http://evil.example")];
    let (status, _, body) = send(&app, with("POST", post, &evil, message())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let stored = s.state.core.read(|tx| tx.list_messages("bravo", None, 100)).await.expect("list");
    assert_eq!(stored.len(), 4, "only the accepted requests stored a message");
    // Another site cannot log a browser in, either.
    let mut req = login("operator", PASSWORD, None);
    req.headers_mut().insert("sec-fetch-site", "cross-site".parse().expect("value"));
    let (status, _, body) = send(&app, req).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("cross_origin")));
}

#[tokio::test]
async fn the_cookie_is_secure_when_the_browser_came_over_https() {
    let s = station().await;
    let app = router(s.state.clone());
    let mut req = login("operator", PASSWORD, None);
    req.headers_mut().insert("x-forwarded-proto", "https".parse().expect("value"));
    let (status, headers, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    let set = headers["set-cookie"].to_str().expect("text");
    assert!(set.contains("; Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
}

fn assert_security_headers(what: &str, headers: &HeaderMap, api: bool) {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}: {csp}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    if api {
        assert_eq!(get("cache-control"), "no-store", "{what}");
        assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}");
    } else {
        assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), "{what}: {csp}");
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = station().await;
    let app = router(s.state.clone());
    let bearer = format!("Bearer {}", s.tokens["operator"]);
    let auth = [("authorization", bearer.as_str())];
    let cases = [
        ("GET", "/api/v1/lines", &auth[..], StatusCode::OK, true),
        ("GET", "/api/v1/lines", &[][..], StatusCode::UNAUTHORIZED, true),
        ("GET", "/api/v1/nothing", &auth[..], StatusCode::NOT_FOUND, true),
        ("GET", "/healthz", &[][..], StatusCode::OK, true),
        ("GET", "/metrics", &auth[..], StatusCode::OK, true),
        ("GET", "/", &[][..], StatusCode::OK, false),
        ("GET", "/js/api.js", &[][..], StatusCode::OK, false),
        ("GET", "/no-such-page", &[][..], StatusCode::NOT_FOUND, false),
        ("POST", "/", &[][..], StatusCode::METHOD_NOT_ALLOWED, false),
    ];
    for (method, uri, headers, want, api) in cases {
        let (status, got, _) = send(&app, with(method, uri, headers, None)).await;
        assert_eq!(status, want, "{method} {uri}");
        assert_security_headers(&format!("{method} {uri}"), &got, api);
    }
}

#[tokio::test]
async fn the_console_page_has_no_inline_script_or_style_for_the_policy_to_block() {
    let s = station().await;
    let (status, _, page) = send(&router(s.state.clone()), with("GET", "/", &[], None)).await;
    assert_eq!(status, StatusCode::OK);
    let html = page.as_str().expect("html").to_ascii_lowercase();
    assert!(html.contains("<script"), "the page was served");
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap_or_default();
        assert!(open.contains("src="), "inline script: <script{open}>");
    }
    assert!(!html.contains("<style"), "inline <style>");
    assert!(!html.contains(" style="), "inline style attribute");
    for handler in [" onclick=", " onload=", " onerror=", " onsubmit=", " onchange=", "javascript:"] {
        assert!(!html.contains(handler), "inline handler {handler}");
    }
}

#[tokio::test]
async fn every_route_reads_at_most_its_own_body_limit() {
    let s = station().await;
    let app = router(s.state.clone());
    let bearer = format!("Bearer {}", s.tokens["operator"]);
    let auth = |extra: &[(&'static str, String)]| {
        let mut v = vec![("authorization", bearer.clone())];
        v.extend(extra.iter().cloned());
        v
    };
    let raw = |method: &str, uri: &str, headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.body(Body::from(body)).expect("request")
    };
    let padded_login = json!({"user": "operator", "password": "x".repeat(9 * 1024)}).to_string().into_bytes();
    let big_notice = format!("{{\"kind\": \"x\", \"pad\": \"{}\"}}", " ".repeat(1536 * 1024)).into_bytes();
    let cases: Vec<(Request<Body>, StatusCode)> = vec![
        // The login takes a few KiB.
        (raw("POST", "/api/v1/login", vec![], padded_login), StatusCode::PAYLOAD_TOO_LARGE),
        // Routes that read no body take none, declared or not.
        (raw("POST", "/api/v1/messages/x/ack", auth(&[]), b"{}".to_vec()), StatusCode::PAYLOAD_TOO_LARGE),
        (raw("GET", "/api/v1/lines", auth(&[]), b"x".to_vec()), StatusCode::PAYLOAD_TOO_LARGE),
        (raw("GET", "/", vec![], b"x".to_vec()), StatusCode::PAYLOAD_TOO_LARGE),
        // A declared length over the limit is refused before anything is read.
        (
            raw("POST", "/api/v1/lines/bravo/messages", auth(&[("content-length", "10000000".into())]), vec![]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (raw("POST", "/api/v1/lines/bravo/messages", auth(&[]), vec![b' '; 400 * 1024]), StatusCode::PAYLOAD_TOO_LARGE),
        // A notice may be large (10,000 vertices): 1.5 MiB reaches the notice parser.
        (raw("POST", "/api/v1/lines/bravo/notices", auth(&[]), big_notice), StatusCode::BAD_REQUEST),
        (
            raw("POST", "/api/v1/lines/bravo/notices", auth(&[]), vec![b' '; 3 * 1024 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (req, want) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (status, headers, body) = send(&app, req).await;
        assert_eq!(status, want, "{what}: {body}");
        if want == StatusCode::PAYLOAD_TOO_LARGE {
            assert_eq!(body["error"]["code"], "too_large", "{what}: {body}");
            assert!(headers["content-type"].to_str().is_ok_and(|t| t.starts_with("application/json")), "{what}");
        }
    }
    assert_eq!(s.state.core.read(|tx| tx.list_messages("bravo", None, 10)).await.expect("list").len(), 0);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_named_only_to_the_authenticated() {
    let s = station().await;
    let app = router(s.state.clone());
    let bearer = format!("Bearer {}", s.tokens["auditor"]);
    let auth = [("authorization", bearer.as_str())];
    let (status, _, _) = send(&app, with("GET", "/api/v1/secret-route", &[], None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = send(&app, with("GET", "/api/v1/secret-route", &auth, None)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _, _) = send(&app, with("PUT", "/api/v1/notices/x", &[], None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, headers, body) = send(&app, with("PUT", "/api/v1/notices/x", &auth, None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(body["error"]["code"], "method_not_allowed");
    assert_eq!(headers["allow"], "PATCH, DELETE");
}

#[tokio::test]
async fn errors_from_axum_s_own_extractors_are_json_too() {
    let s = station().await;
    let app = router(s.state.clone());
    let bearer = format!("Bearer {}", s.tokens["auditor"]);
    let auth = [("authorization", bearer.as_str())];
    for uri in ["/api/v1/alarms?limit=99999999999999999999", "/api/v1/events?after=x"] {
        let (status, headers, body) = send(&app, with("GET", uri, &auth, None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(headers["content-type"], "application/json", "{uri}");
        assert_eq!(body["error"]["code"], "bad_request", "{uri}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("query")), "{uri}: {body}");
    }
}
