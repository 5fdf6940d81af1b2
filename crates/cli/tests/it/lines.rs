//! Lines managed while the stations serve (issue #15): two real stations that start with
//! no line to each other get one through the API, without a restart, and a message goes
//! through; removing it closes the line at once and the peer's reconnections are refused,
//! after a restart too. `hotline line add|list|remove` do the same through the serving
//! station's socket.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{hotline, hotline_ok, station};

/// Both ends' `GET /api/v1/lines` entry for the other, once the line is up.
fn line_entry(lines: Option<Vec<Value>>, peer: &str) -> Value {
    lines.unwrap_or_default().into_iter().find(|l| l["peer"] == peer).unwrap_or(Value::Null)
}

/// Waits until `f` holds; `false` after `timeout`.
fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_line_added_through_the_api_comes_up_without_a_restart_and_removal_refuses_the_peer() {
    let base = tempfile::tempdir().expect("tempdir");
    let mut alpha = station(base.path(), "alpha");
    let mut bravo = station(base.path(), "bravo");
    let alpha_sup = alpha.supervisor().expect("alpha's supervisor");
    let bravo_sup = bravo.supervisor().expect("bravo's supervisor");
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert_eq!(alpha.lines().map(|l| l.len()), Some(0), "alpha starts with no line");
    let alpha_pid = alpha.pid();

    // Each supervisor adds the other station through the API.
    let (status, added) = alpha_sup.api(
        "POST",
        "/api/v1/lines",
        Some(json!({"peer": "bravo", "key": bravo.key, "addrs": [bravo.line_addr()]})),
    );
    assert_eq!(status, 201, "{added}");
    let (status, v) = bravo_sup.api(
        "POST",
        "/api/v1/lines",
        Some(json!({"peer": "alpha", "key": alpha.key, "addrs": [alpha.line_addr()]})),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(added["safety_number"], v["safety_number"], "both ends compute the same safety number");
    assert!(
        alpha.wait_line("bravo", "up", Duration::from_secs(20)),
        "the added line comes up; log:\n{}",
        alpha.log_tail(30)
    );
    assert!(bravo.wait_line("alpha", "up", Duration::from_secs(20)));
    assert_eq!(alpha.pid(), alpha_pid, "no restart");
    let (a, b) = (line_entry(alpha.lines(), "bravo"), line_entry(bravo.lines(), "alpha"));
    assert_eq!(a["safety_number"], b["safety_number"]);
    assert_eq!(a["safety_number"], added["safety_number"]);

    // A message goes through the new line.
    let (status, sent) = alpha.api(
        "POST",
        "/api/v1/lines/bravo/messages",
        Some(json!({"body": "over the new line", "precedence": "FLASH"})),
    );
    assert_eq!(status, 202, "{sent}");
    let id = sent["id"].as_str().expect("message id").to_owned();
    assert!(
        eventually(Duration::from_secs(10), || bravo.messages("alpha").is_ok_and(|m| m.iter().any(|m| m["id"] == id))),
        "bravo has the message"
    );
    assert!(eventually(Duration::from_secs(10), || {
        let (_, m) = alpha.api("GET", &format!("/api/v1/messages/{id}"), None);
        m["state"] == "delivered" || m["state"] == "acknowledged"
    }));

    // Alpha removes the line: it closes at once, and bravo's redials are refused.
    let refusals_before = alpha.log_text().matches("which no line pins").count();
    let (status, v) = alpha_sup.api("DELETE", "/api/v1/lines/bravo", None);
    assert_eq!(status, 204, "{v}");
    assert_eq!(alpha.lines().map(|l| l.len()), Some(0), "the line is gone from GET /api/v1/lines");
    assert!(
        eventually(Duration::from_secs(5), || bravo.line_state("alpha").as_deref() != Some("up")),
        "bravo sees the line close"
    );
    assert!(
        eventually(Duration::from_secs(10), || alpha.log_text().matches("which no line pins").count()
            > refusals_before),
        "alpha refuses bravo's reconnection; log:\n{}",
        alpha.log_tail(30)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_ne!(bravo.line_state("alpha").as_deref(), Some("up"), "the removed line stays down");
    let (status, _) = alpha.api("GET", "/api/v1/lines/bravo/messages", None);
    assert_eq!(status, 404, "no line, no route to it");

    // After a restart the line is still gone, and its history is still in the record.
    assert!(alpha.stop(), "alpha stops cleanly");
    alpha.start().expect("alpha restarts");
    assert_eq!(alpha.lines().map(|l| l.len()), Some(0));
    std::thread::sleep(Duration::from_secs(2));
    assert_ne!(bravo.line_state("alpha").as_deref(), Some("up"));
    let export = alpha.export(base.path()).expect("export");
    let text = std::fs::read_to_string(export).expect("read export");
    let kinds: Vec<String> = serde_json::from_str::<Value>(&text).expect("export json")["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e.as_str()?).ok())
        .filter(|e| text_has(e, &id) || e["kind"].as_str().is_some_and(|k| k.starts_with("line.")))
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect();
    for kind in ["line.added", "message.queued", "message.delivered", "line.removed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
    }
    assert!(alpha.stop() && bravo.stop());
}

fn text_has(entry: &Value, needle: &str) -> bool {
    entry.to_string().contains(needle)
}

#[test]
fn line_add_list_and_remove_go_through_the_serving_station() {
    let base = tempfile::tempdir().expect("tempdir");
    let mut alpha = station(base.path(), "alpha");
    let bravo = station(base.path(), "bravo");
    alpha.start().expect("alpha starts");
    let dir = alpha.dir.to_str().expect("utf-8").to_owned();
    let out =
        hotline_ok(&["line", "add", &dir, "--peer", "bravo", "--key", &bravo.key, "--addr", &bravo.line_addr()], None);
    assert!(out.contains("no restart needed"), "{out}");
    let safety = out.lines().find_map(|l| l.strip_prefix("safety number: ")).expect("the safety number").to_owned();
    assert!(eventually(Duration::from_secs(5), || alpha.line_state("bravo").is_some()), "running at once");
    let listed = hotline_ok(&["line", "list", &dir], None);
    assert!(listed.starts_with("bravo\t") && listed.contains(&safety), "{listed}");
    let out = hotline_ok(&["line", "change", &dir, "--peer", "bravo", "--addr", "127.0.0.1:9", "--addr", "x:1"], None);
    assert!(out.contains("line to bravo changed") && out.contains("127.0.0.1:9,x:1"), "{out}");
    let (ok, _, err) = hotline(&["line", "change", &dir, "--peer", "bravo", "--heartbeat-interval-ms", "5"], None);
    assert!(!ok && err.contains("100 to 60000"), "{err}");
    let (ok, _, err) = hotline(&["line", "add", &dir, "--peer", "bravo", "--key", &bravo.key, "--addr", "x:1"], None);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) =
        hotline(&["line", "add", &dir, "--peer", "charlie", "--key", "charlie+00+AA", "--addr", "x:1"], None);
    assert!(!ok && err.contains("NAME+KEYHASH+BASE64"), "{err}");
    let out = hotline_ok(&["line", "remove", &dir, "--peer", "bravo"], None);
    assert!(out.contains("removed"), "{out}");
    assert_eq!(alpha.lines().map(|l| l.len()), Some(0), "stopped at once");
    let (ok, _, err) = hotline(&["line", "remove", &dir, "--peer", "bravo"], None);
    assert!(!ok && err.contains("no line"), "{err}");
    assert!(alpha.stop());
    // Not serving: the same commands work on the directory.
    let out =
        hotline_ok(&["line", "add", &dir, "--peer", "bravo", "--key", &bravo.key, "--addr", &bravo.line_addr()], None);
    assert!(out.contains("when `hotline serve` starts") && out.contains(&safety), "{out}");
    assert!(hotline_ok(&["line", "list", &dir], None).contains("not serving"));
}
