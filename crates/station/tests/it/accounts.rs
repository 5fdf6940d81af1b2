//! Administration over the API: supervisors manage users and tokens while the station
//! serves, and ending a user's access (a revoked token, a disabled or removed user, a new
//! password) takes effect at the next request and ends the user's event streams.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_station::http::router;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};

use crate::hardening::{PASSWORD, send, station};

fn request(method: &str, uri: &str, token: &str, body: Option<Value>) -> Request<Body> {
    let builder = Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {token}"));
    match body {
        Some(b) => builder.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

async fn status_with(app: &Router, token: &str) -> StatusCode {
    send(app, request("GET", "/api/v1/station", token, None)).await.0
}

#[tokio::test]
async fn a_supervisor_manages_users_and_tokens_and_ended_access_is_refused_at_once() {
    let s = station().await;
    let app = router(s.state.clone());
    let sup = s.tokens["supervisor"].clone();
    for role in ["operator", "auditor"] {
        let (status, _, _) = send(&app, request("GET", "/api/v1/users", &s.tokens[role], None)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} may not list users");
    }
    let new_user = json!({"name": "duty2", "role": "operator", "password": PASSWORD});
    let (status, _, body) = send(&app, request("POST", "/api/v1/users", &sup, Some(new_user.clone()))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "duty2");
    let (status, _, _) = send(&app, request("POST", "/api/v1/users", &sup, Some(new_user))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a second add is refused");
    let (_, _, users) = send(&app, request("GET", "/api/v1/users", &sup, None)).await;
    assert!(users.as_array().is_some_and(|u| u.iter().any(|u| u["name"] == "duty2" && u["disabled"] == false)));

    // Two tokens; the list shows ids and labels, never a secret.
    let make = json!({"user": "duty2", "label": "duty laptop", "expires_in_s": 3600});
    let (status, _, first) = send(&app, request("POST", "/api/v1/tokens", &sup, Some(make.clone()))).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (_, _, second) = send(&app, request("POST", "/api/v1/tokens", &sup, Some(make))).await;
    let (first_token, first_id) = (first["token"].as_str().expect("token"), first["id"].as_str().expect("id"));
    let second_token = second["token"].as_str().expect("token").to_owned();
    let (_, _, listed) = send(&app, request("GET", "/api/v1/tokens", &sup, None)).await;
    assert!(listed.as_array().is_some_and(|t| t.iter().any(|t| t["id"] == first_id && t["label"] == "duty laptop")));
    assert!(!listed.to_string().contains(first_token), "the list never shows a secret");
    assert_eq!(status_with(&app, first_token).await, StatusCode::OK);

    // Revoked: the next request gets 401; the other token still works.
    let (status, _, _) = send(&app, request("DELETE", &format!("/api/v1/tokens/{first_id}"), &sup, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(status_with(&app, first_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_with(&app, &second_token).await, StatusCode::OK);

    // Disabled: every credential of the user ends; enabled again, the old ones stay ended.
    let disable = json!({"disabled": true});
    let (status, _, body) = send(&app, request("PATCH", "/api/v1/users/duty2", &sup, Some(disable))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["disabled"], true);
    assert_eq!(status_with(&app, &second_token).await, StatusCode::UNAUTHORIZED);
    let (status, _, _) =
        send(&app, request("PATCH", "/api/v1/users/supervisor", &sup, Some(json!({"disabled": true})))).await;
    assert_eq!(status, StatusCode::CONFLICT, "no one disables their own account");

    // Removed: gone from the list, in the record with who did it.
    let (status, _, _) = send(&app, request("DELETE", "/api/v1/users/duty2", &sup, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, _, users) = send(&app, request("GET", "/api/v1/users", &sup, None)).await;
    assert!(users.as_array().is_some_and(|u| u.iter().all(|u| u["name"] != "duty2")));
    let entries = s.state.core.read(|tx| tx.entries_after(0, 10_000)).await.expect("entries");
    for kind in ["user.added", "token.created", "token.revoked", "user.disabled", "user.removed"] {
        let e = entries.iter().find(|e| e.kind == kind).unwrap_or_else(|| panic!("no {kind} entry"));
        assert!(e.body.contains("\"by\":\"supervisor\""), "{kind} names who did it: {}", e.body);
    }
}

/// An event stream ends when its token is revoked: a lost laptop's open console stops
/// receiving the moment a supervisor revokes its token.
#[tokio::test]
async fn an_event_stream_ends_when_its_token_is_revoked() {
    let s = station().await;
    let app = router(s.state.clone());
    let sup = s.tokens["supervisor"].clone();
    let make = json!({"user": "operator", "label": "console"});
    let (_, _, created) = send(&app, request("POST", "/api/v1/tokens", &sup, Some(make))).await;
    let (token, id) = (created["token"].as_str().expect("token"), created["id"].as_str().expect("id"));
    let resp = app.clone().oneshot_events(token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let (status, _, _) = send(&app, request("DELETE", &format!("/api/v1/tokens/{id}"), &sup, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream of a revoked token ends within 5 s");
}

/// Any user changes their own password, proving the current one; their other sessions
/// and tokens end.
#[tokio::test]
async fn a_user_changes_their_own_password_and_their_old_credentials_end() {
    let s = station().await;
    let app = router(s.state.clone());
    let token = s.tokens["auditor"].clone();
    let wrong = json!({"current_password": "not it at all", "new_password": "a brand new passphrase"});
    let (status, _, _) = send(&app, request("POST", "/api/v1/session/password", &token, Some(wrong))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the current password must be right");
    assert_eq!(status_with(&app, &token).await, StatusCode::OK, "a wrong attempt changes nothing");
    let right = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
    let (status, _, body) = send(&app, request("POST", "/api/v1/session/password", &token, Some(right))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(status_with(&app, &token).await, StatusCode::UNAUTHORIZED, "old tokens end with the old password");
}

trait EventsExt {
    async fn oneshot_events(self, token: &str) -> axum::response::Response;
}

impl EventsExt for Router {
    async fn oneshot_events(self, token: &str) -> axum::response::Response {
        use tower::ServiceExt as _;
        self.oneshot(request("GET", "/api/v1/events", token, None)).await.expect("response")
    }
}
