//! `/metrics` as an operations team's Prometheus reads it: a failed login moves its
//! counter at once, the operations families are there with their types (counters,
//! histograms with `+Inf` buckets, labels per line and precedence), and so are the
//! `process_*` metrics. The line counters moving with real messages are tested with two
//! in-process stations in `crates/line/tests/it/two_stations.rs`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hotline_station::http::router;
use serde_json::{Value, json};

use crate::hardening::{PASSWORD, send, station};

fn login(user: &str, password: &str) -> Request<Body> {
    let mut req = Request::post("/api/v1/login")
        .header("content-type", "application/json")
        .body(Body::from(json!({"user": user, "password": password}).to_string()))
        .expect("request");
    let addr: SocketAddr = "192.0.2.20:4000".parse().expect("address");
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// The value of the sample `series` (name and labels, exactly as written).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn a_failed_login_moves_its_counter_and_every_family_is_exposed() {
    let s = station().await;
    let app = router(s.state.clone());
    let token = s.tokens["operator"].clone();
    let metrics = || {
        Request::get("/metrics").header("authorization", format!("Bearer {token}")).body(Body::empty()).expect("req")
    };
    let (status, _, before) = send(&app, metrics()).await;
    assert_eq!(status, StatusCode::OK);
    let before = before.as_str().unwrap_or_default().to_owned();
    assert_eq!(sample(&before, "hotline_login_failures_total"), Some(0.0), "{before}");

    let (status, _, _) = send(&app, login("operator", "wrong password")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, login("nobody-here", "wrong password")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&app, login("operator", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "a good login is no failure");

    let (_, _, after) = send(&app, metrics()).await;
    let text = match after {
        Value::String(t) => t,
        other => panic!("metrics are text, not {other}"),
    };
    assert_eq!(sample(&text, "hotline_login_failures_total"), Some(2.0), "{text}");
    for family in [
        "# TYPE hotline_messages_sent_total counter",
        "# TYPE hotline_messages_received_total counter",
        "# TYPE hotline_messages_delivered_total counter",
        "# TYPE hotline_line_sent_bytes_total counter",
        "# TYPE hotline_line_received_bytes_total counter",
        "# TYPE hotline_line_connects_total counter",
        "# TYPE hotline_login_lockouts_total counter",
        "# TYPE hotline_alarms_raised_total counter",
        "# TYPE hotline_message_delivery_seconds histogram",
        "# TYPE hotline_message_ack_seconds histogram",
        "# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_cpu_seconds_total counter",
        "# TYPE process_open_fds gauge",
        "# TYPE process_start_time_seconds gauge",
    ] {
        assert!(text.contains(family), "no {family:?} in\n{text}");
    }
    // The line to bravo has its own series, one per precedence, from zero.
    assert_eq!(sample(&text, r#"hotline_messages_sent_total{peer="bravo",precedence="FLASH"}"#), Some(0.0));
    let inf = r#"hotline_message_delivery_seconds_bucket{peer="bravo",precedence="ROUTINE",le="+Inf"}"#;
    assert_eq!(sample(&text, inf), Some(0.0), "{text}");
    assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|b| b > 0.0));
    // The bounded label set: one line, no `_other` slot.
    assert!(!text.contains("_other"), "{text}");
    // Every metric the sample Grafana dashboard queries is one the station writes.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard")).expect("json");
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().expect("expr");
            let words = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            for name in words.filter(|w| w.starts_with("hotline_") || w.starts_with("process_")) {
                let family = name.strip_suffix("_bucket").unwrap_or(name);
                assert!(
                    text.contains(&format!("# TYPE {family} ")),
                    "the dashboard queries {name}, which /metrics lacks"
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 20, "the dashboard queries only {queried} metrics");
}
