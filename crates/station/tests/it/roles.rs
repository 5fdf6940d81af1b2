//! The route table against the OpenAPI document, then every route as every role.
//!
//! A new route in `api::router` appears in the OpenAPI document; without a row in
//! `roles::ROUTE_RULES` the first test fails (and the middleware would not serve it).
//! The second calls each operation anonymously and as auditor, operator and supervisor,
//! and checks the status class the rule implies: `401` without credentials on a
//! protected route, `403` for a role below the rule's, and neither otherwise.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hotline_station::http::roles::{Access, ROUTE_RULES, lookup};
use hotline_station::http::router;
use hotline_store::Role;
use tower::ServiceExt as _;

use crate::hardening::{send, station};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every (METHOD, path) operation of the served OpenAPI document.
async fn operations() -> Vec<(String, String)> {
    let s = station().await;
    let req = Request::get("/api/v1/openapi.json")
        .header("authorization", format!("Bearer {}", s.tokens["auditor"]))
        .body(Body::empty())
        .expect("request");
    let (status, _, doc) = send(&router(s.state.clone()), req).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if item.get(method).is_some() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_operation_in_the_openapi_document_has_a_rule_and_every_rule_an_operation() {
    let ops = operations().await;
    assert!(ops.len() >= 20, "only {} operations in the document", ops.len());
    let mut missing = Vec::new();
    for (method, path) in &ops {
        let has_rule = ROUTE_RULES.iter().any(|r| r.method == method && r.path == path);
        if !has_rule {
            missing.push(format!("{method} {path}"));
        }
    }
    assert!(missing.is_empty(), "operations without a row in roles::ROUTE_RULES: {missing:?}");
    let stale: Vec<String> = ROUTE_RULES
        .iter()
        .filter(|r| !ops.iter().any(|(m, p)| m == r.method && p == r.path))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(stale.is_empty(), "rows for operations the document does not have: {stale:?}");
}

/// What a role should see from a route with `access`: `Some(status)` for an exact
/// refusal, `None` for "served" (any status but 401 and 403).
fn expected(access: Access, role: Option<Role>) -> Option<StatusCode> {
    match (access, role) {
        (Access::Public, _) => None,
        (_, None) => Some(StatusCode::UNAUTHORIZED),
        (access, Some(role)) if access.admits(role) => None,
        _ => Some(StatusCode::FORBIDDEN),
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_its_rule_says() {
    let s = station().await;
    let app = router(s.state.clone());
    let roles = [
        ("anonymous", None),
        ("auditor", Some(Role::Auditor)),
        ("operator", Some(Role::Operator)),
        ("supervisor", Some(Role::Supervisor)),
    ];
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, path) in operations().await {
        let concrete = path.replace("{peer}", "bravo").replace("{id}", "0190f0c0-0000-7000-8000-000000000000");
        let rule = match lookup(&method.parse().expect("method"), &concrete) {
            hotline_station::http::roles::Lookup::Route(rule) => rule,
            other => panic!("{method} {path} has no rule: {other:?}"),
        };
        for (name, role) in roles {
            let mut req = Request::builder().method(method.as_str()).uri(&concrete);
            if role.is_some() {
                req = req.header("authorization", format!("Bearer {}", s.tokens[name]));
            }
            let req = req.body(Body::empty()).expect("request");
            // Only the status: the event stream's body never ends.
            let status = app.clone().oneshot(req).await.expect("response").status();
            let want = expected(rule.access, role);
            let ok = match want {
                Some(exact) => status == exact,
                None => status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            };
            if !ok {
                failures.push(format!("{method} {path} as {name}: got {status}, want {want:?} ({:?})", rule.access));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 80, "only {checked} calls");
}

#[tokio::test]
async fn the_rules_say_what_product_md_says() {
    let access = |method: &str, path: &str| {
        ROUTE_RULES.iter().find(|r| r.method == method && r.path == path).map(|r| r.access).expect("rule")
    };
    // Public: only the login and the liveness probe.
    let public: Vec<String> =
        ROUTE_RULES.iter().filter(|r| r.access == Access::Public).map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(public, ["POST /api/v1/login", "GET /healthz"]);
    // Auditors read and verify only: every GET admits them but the account pages (users
    // and tokens are for supervisors); nothing else but their own logout and password.
    let accounts = |path: &str| path.starts_with("/api/v1/users") || path.starts_with("/api/v1/tokens");
    for r in ROUTE_RULES.iter().filter(|r| r.access != Access::Public) {
        let auditor = r.access.admits(Role::Auditor);
        let own = r.path == "/api/v1/logout" || r.path == "/api/v1/session/password";
        let expected = (r.method == "GET" && !accounts(r.path)) || own;
        assert_eq!(auditor, expected, "{} {}", r.method, r.path);
    }
    // Accounts: supervisors only, as PRODUCT.md's administration section says.
    for r in ROUTE_RULES.iter().filter(|r| accounts(r.path)) {
        assert_eq!(r.access, Access::Supervisor, "{} {}", r.method, r.path);
    }
    // Lines: everyone sees them; only supervisors add, change and remove them.
    assert_eq!(access("GET", "/api/v1/lines"), Access::Any);
    for (method, path) in
        [("POST", "/api/v1/lines"), ("PATCH", "/api/v1/lines/{peer}"), ("DELETE", "/api/v1/lines/{peer}")]
    {
        assert_eq!(access(method, path), Access::Supervisor, "{method} {path}");
    }
    // Operators send and acknowledge; supervisors also manage alarms.
    assert_eq!(access("POST", "/api/v1/lines/{peer}/messages"), Access::Operator);
    assert_eq!(access("POST", "/api/v1/messages/{id}/ack"), Access::Operator);
    assert_eq!(access("POST", "/api/v1/alarms/{id}/ack"), Access::Operator);
    assert_eq!(access("POST", "/api/v1/alarms/{id}/clear"), Access::Supervisor);
}
