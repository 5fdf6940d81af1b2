//! The OpenAPI document describes every answer: each success response of each operation
//! names its body's schema, so a client can be generated from the document alone (and
//! schemathesis, `scripts/schemathesis`, checks the answers against those schemas).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_station::http::router;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

#[tokio::test]
async fn every_success_answer_in_the_openapi_document_has_a_schema() {
    let state = crate::fixture::one_line_state().await;
    let (token, hash) = hotline_station::auth::new_secret().expect("secret");
    state
        .core
        .write(move |j| {
            j.tx.add_user("op", hotline_store::Role::Operator, "x", 0)?;
            j.tx.add_token(&hash, "op", 0)
        })
        .await
        .expect("user");
    let req = Request::get("/api/v1/openapi.json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let resp = router(state).oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let doc: Value = serde_json::from_slice(&bytes).expect("json");
    let mut missing = Vec::new();
    let mut described = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                // 204 has no body by definition; errors all share ErrorBody.
                if !status.starts_with('2') || status == "204" {
                    continue;
                }
                let content = response["content"].as_object();
                let with_schema =
                    content.is_some_and(|c| !c.is_empty() && c.values().all(|m| m.get("schema").is_some()));
                if with_schema {
                    described += 1;
                } else {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "success answers without a schema: {missing:?}");
    assert!(described >= 40, "only {described} success answers in the document");
    // A record view's answer type is in the document with its fields (not an empty object).
    let message = &doc["components"]["schemas"]["MessageAnswer"]["properties"];
    for field in ["id", "direction", "state", "precedence", "delivered", "acknowledged_by"] {
        assert!(message.get(field).is_some(), "MessageAnswer has no {field}: {message}");
    }
}
