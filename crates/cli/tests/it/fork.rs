//! A station whose database is rewritten behind its back: the peer refuses to cosign its
//! next checkpoint, and both stations' event streams carry the critical alarm.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::pair;

#[test]
fn a_rewritten_record_is_refused_by_the_witness_and_raises_the_alarm_on_both_sides() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    alpha.set_checkpoint_interval_ms(300).expect("alpha's config");
    bravo.set_checkpoint_interval_ms(300).expect("bravo's config");
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)));
    for i in 0..5 {
        let (status, _) =
            alpha.api("POST", "/api/v1/lines/bravo/messages", Some(json!({"body": format!("fork-test-{i}")})));
        assert_eq!(status, 202);
    }
    // Wait until bravo has cosigned a checkpoint that covers the messages.
    let deadline = Instant::now() + Duration::from_secs(20);
    let covered = loop {
        let entries = alpha.api("GET", "/api/v1/lines/bravo/messages", None).1;
        let delivered = entries.as_array().is_some_and(|m| m.iter().all(|m| m["state"] == "delivered"));
        let agent = ureq::Agent::new_with_config(ureq::config::Config::builder().http_status_as_error(false).build());
        let note = agent
            .get(&format!("{}/api/v1/log/checkpoint", alpha.url()))
            .header("Authorization", &format!("Bearer {}", alpha.token))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .unwrap_or_default();
        if delivered && note.contains("\n— bravo ") {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(covered, "bravo never cosigned alpha's record:\n{}", alpha.log_text());
    assert!(alpha.stop());

    // Rewrite history: change what alpha logged it sent, bypassing the append-only guard.
    let db = rusqlite::Connection::open(alpha.dir.join("station.db")).expect("open db");
    db.execute_batch(
        "DROP TRIGGER entries_append_only_update;
         UPDATE entries SET body = replace(body, 'fork-test-2', 'fork-test-X') WHERE body LIKE '%fork-test-2%';",
    )
    .expect("rewrite");
    drop(db);

    alpha.start().expect("alpha starts");
    let at_bravo = bravo.wait_event("alarm.raised", "record_fork", Duration::from_secs(20));
    let at_bravo = at_bravo.expect("bravo's event stream shows no fork alarm");
    let refused = alpha.wait_event("alarm.raised", "cosignature_refused", Duration::from_secs(20));
    let refused = refused.expect("alpha's event stream does not show bravo's refusal");
    let integrity = alpha.wait_event("alarm.raised", "record_integrity", Duration::from_secs(5));
    let integrity = integrity.expect("alpha's own start-up check did not notice");
    for alarm in [&at_bravo, &refused, &integrity] {
        assert!(alarm.contains("\"severity\":\"critical\""), "{alarm}");
    }
    println!("bravo: {at_bravo}\nalpha: {refused}\nalpha: {integrity}");
    assert!(alpha.stop() && bravo.stop());
}
