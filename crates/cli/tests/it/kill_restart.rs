//! Two real processes; bravo is killed with SIGKILL twice while alpha sends 1,000
//! messages. Every message must arrive exactly once, in order, and show `delivered`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::pair;

#[test]
fn a_thousand_messages_survive_two_sigkills_of_the_receiver() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line never came up:\n{}", alpha.log_text());

    let total = 1000;
    let mut ids = Vec::new();
    for i in 0..total {
        if i == 300 || i == 650 {
            bravo.kill9();
        }
        if i == 400 || i == 800 {
            bravo.start().expect("bravo starts");
        }
        let (status, v) =
            alpha.api("POST", "/api/v1/lines/bravo/messages", Some(json!({"body": format!("msg-{i:04}")})));
        assert_eq!(status, 202, "send {i}: {v}");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    let received = loop {
        let got: Vec<String> = bravo
            .messages("alpha")
            .expect("bravo lists messages")
            .iter()
            .filter_map(|m| m["body"].as_str().map(String::from))
            .collect();
        if got.len() >= total || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let expected: Vec<String> = (0..total).map(|i| format!("msg-{i:04}")).collect();
    assert_eq!(received.len(), total, "bravo has {} of {total} messages", received.len());
    assert_eq!(received, expected, "bravo's messages are not exactly once and in order");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sent = alpha.messages("bravo").expect("alpha lists messages");
        let delivered = sent.iter().filter(|m| m["state"] == "delivered" || m["state"] == "acknowledged").count();
        if delivered == total {
            break;
        }
        assert!(Instant::now() < deadline, "only {delivered} of {total} show delivered at alpha");
        std::thread::sleep(Duration::from_millis(250));
    }
    println!(
        "1000 messages sent, bravo killed twice (SIGKILL) and restarted: 1000 received exactly once, in order; 1000 delivered at alpha"
    );
    assert!(alpha.stop(), "alpha did not stop cleanly on SIGTERM");
    assert!(bravo.stop(), "bravo did not stop cleanly on SIGTERM");
}

/// The sender is killed mid-stream twice: every message it accepted (202) still arrives
/// exactly once and in order, and nothing it did not accept appears.
#[test]
fn messages_accepted_by_a_sender_that_is_killed_still_arrive_exactly_once() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line never came up");
    let mut accepted = Vec::new();
    for round in 0..3 {
        for i in 0..200 {
            let body = format!("r{round}-{i:03}");
            let (status, v) = alpha.api("POST", "/api/v1/lines/bravo/messages", Some(json!({"body": body})));
            assert_eq!(status, 202, "{v}");
            accepted.push(body);
        }
        if round < 2 {
            // No pause: many of these are still queued or in flight when alpha dies.
            alpha.kill9();
            alpha.start().expect("alpha starts");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let received = loop {
        let got: Vec<String> = bravo
            .messages("alpha")
            .expect("bravo lists messages")
            .iter()
            .filter_map(|m| m["body"].as_str().map(String::from))
            .collect();
        if got.len() >= accepted.len() || Instant::now() > deadline {
            break got;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(received, accepted, "bravo's messages are not exactly the accepted ones, once, in order");
    assert!(alpha.stop() && bravo.stop());
}
