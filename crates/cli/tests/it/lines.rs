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
    let text = std::fs::read_to_string(&export).expect("read export");
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
    // The removed peer's items stay in the record, and so does its key (the export lists
    // it from the `line.removed` entry): the record verifies.
    let verified = hotline_ok(&["verify", export.to_str().expect("path")], None);
    assert!(verified.contains("bravo"), "the removed peer is still named: {verified}");
    assert!(alpha.stop() && bravo.stop());
}

/// A peer rebuilt under the same name has a new key: its line is removed and added again
/// with that key, and starts afresh (`hotline_store::LineRestart`). A message that waited
/// for the old station reaches the new one; messages go both ways on the new line,
/// exactly once; and alpha's record — with items and cosignatures by both of bravo's keys — still verifies, each
/// checked with the key that was pinned when it was made.
#[test]
fn a_peer_that_changed_its_key_is_removed_and_added_again_and_the_record_still_verifies() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = crate::harness::pair(base.path());
    alpha.set_checkpoint_interval_ms(300).expect("checkpoints");
    bravo.set_checkpoint_interval_ms(300).expect("checkpoints");
    let alpha_sup = alpha.supervisor().expect("alpha's supervisor");
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "log:\n{}", alpha.log_tail(30));
    exchange(&alpha, &bravo, "before the key change");
    let first_key = bravo.key.clone();

    // Bravo's machine fails; a message waits for it; its line is removed.
    assert!(bravo.stop());
    let (status, waiting) =
        alpha.api("POST", "/api/v1/lines/bravo/messages", Some(json!({"body": "while bravo was rebuilt"})));
    assert_eq!(status, 202, "{waiting}");
    let waiting = waiting["id"].as_str().expect("message id").to_owned();
    let (status, v) = alpha_sup.api("DELETE", "/api/v1/lines/bravo", None);
    assert_eq!(status, 204, "{v}");
    // Bravo is rebuilt: a new station directory, the same name, a new key.
    let rebuilt = tempfile::tempdir().expect("tempdir");
    let mut bravo = station(rebuilt.path(), "bravo");
    assert_ne!(bravo.key, first_key, "a new station has a new key");
    bravo.add_line("alpha", &alpha.key, &[alpha.line_addr()]).expect("bravo's line");
    bravo.set_checkpoint_interval_ms(300).expect("checkpoints");
    let (status, v) = alpha_sup.api(
        "POST",
        "/api/v1/lines",
        Some(json!({"peer": "bravo", "key": bravo.key, "addrs": [bravo.line_addr()]})),
    );
    assert_eq!(status, 201, "{v}");
    bravo.start().expect("the rebuilt bravo starts");
    assert!(
        alpha.wait_line("bravo", "up", Duration::from_secs(20)),
        "the line comes up with the new key; log:\n{}",
        alpha.log_tail(30)
    );
    // The message that waited reaches the new station, once, and is delivered.
    assert!(
        eventually(Duration::from_secs(20), || bravo.messages("alpha").is_ok_and(|m| m
            .iter()
            .filter(|m| m["id"] == waiting)
            .count()
            == 1)),
        "the waiting message reached the rebuilt bravo; log:\n{}",
        alpha.log_tail(30)
    );
    assert!(eventually(Duration::from_secs(10), || {
        let (_, m) = alpha.api("GET", &format!("/api/v1/messages/{waiting}"), None);
        m["state"] == "delivered"
    }));
    exchange(&alpha, &bravo, "after the key change");

    let export = alpha.export(base.path()).expect("export");
    let (ok, out, err) = hotline(&["verify", export.to_str().expect("path")], None);
    assert!(ok, "alpha's record verifies across bravo's key change:\n{out}{err}");
    let text = std::fs::read_to_string(&export).expect("read export");
    let v: Value = serde_json::from_str(&text).expect("export json");
    assert_eq!(v["peers"][0]["key"], json!(bravo.key), "the export lists bravo's key now");
    assert!(text.contains(&first_key), "and the record names the key it pinned before");
    assert!(alpha.stop() && bravo.stop());
}

/// A message each way between `a` and `b` (named `alpha` and `bravo`), each on the
/// other's disk and delivered, so both directions' items (and their receipts) are in
/// both records; then a moment for a cosigned checkpoint to cover them.
fn exchange(a: &crate::harness::Station, b: &crate::harness::Station, body: &str) {
    for (from, to, peer, back) in [(a, b, "bravo", "alpha"), (b, a, "alpha", "bravo")] {
        let (status, sent) = from.api("POST", &format!("/api/v1/lines/{peer}/messages"), Some(json!({"body": body})));
        assert_eq!(status, 202, "{sent}");
        let id = sent["id"].as_str().expect("message id").to_owned();
        assert!(
            eventually(Duration::from_secs(20), || to.messages(back).is_ok_and(|m| m
                .iter()
                .filter(|m| m["id"] == id)
                .count()
                == 1)),
            "{body:?} reached {back}'s peer exactly once; log:\n{}",
            to.log_tail(30)
        );
    }
    std::thread::sleep(Duration::from_secs(2));
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

/// The watch follows the lines a supervisor adds and removes while the station serves: a
/// line added to a peer that never answers raises its line-down alarm after the
/// threshold (before, the watch knew only the lines of start-up, and an added line that
/// never came up raised nothing), and removing it ends that alarm.
#[test]
fn the_watch_raises_line_down_for_a_line_added_while_serving_and_forgets_a_removed_one() {
    let base = tempfile::tempdir().expect("tempdir");
    let mut alpha = station(base.path(), "alpha");
    alpha
        .edit_config(|text| Ok(format!("{text}\n[watch]\nline_down_alarm_s = 1\ncheck_interval_s = 0\n")))
        .expect("config");
    let alpha_sup = alpha.supervisor().expect("alpha's supervisor");
    alpha.start().expect("alpha starts");
    let nobody = crate::harness::free_port();
    let charlie = hotline_identity::StationKey::generate("charlie").expect("key").verifier().to_string();
    let (status, v) = alpha_sup.api(
        "POST",
        "/api/v1/lines",
        Some(json!({"peer": "charlie", "key": charlie, "addrs": [format!("127.0.0.1:{nobody}")]})),
    );
    assert_eq!(status, 201, "{v}");
    let line_down = || {
        let (_, alarms) = alpha.api("GET", "/api/v1/alarms", None);
        alarms.as_array().into_iter().flatten().any(|a| a["cause"] == "line_down" && a["peer"] == "charlie")
    };
    assert!(
        eventually(Duration::from_secs(10), line_down),
        "line_down for the added line; log:\n{}",
        alpha.log_tail(30)
    );
    let (status, v) = alpha_sup.api("DELETE", "/api/v1/lines/charlie", None);
    assert_eq!(status, 204, "{v}");
    assert!(eventually(Duration::from_secs(5), || !line_down()), "the removed line's alarm ends");
    std::thread::sleep(Duration::from_secs(2));
    assert!(!line_down(), "and is not raised again");
    assert!(alpha.stop());
}
