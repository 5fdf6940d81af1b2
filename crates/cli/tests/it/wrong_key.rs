//! A station that presents a key other than the pinned one never gets the line up, and
//! the log says why, naming both fingerprints.

use std::time::Duration;

use crate::harness::{hotline_ok, station};

#[test]
fn a_peer_with_the_wrong_key_never_gets_the_line_up() {
    let base = tempfile::tempdir().expect("tempdir");
    let mut alpha = station(base.path(), "alpha");
    let mut bravo = station(base.path(), "bravo");
    // An impostor "bravo" key: a different station directory with the same name.
    let impostor_dir = base.path().join("impostor");
    let impostor_key = hotline_ok(
        &[
            "init",
            impostor_dir.to_str().expect("path"),
            "--name",
            "bravo",
            "--http",
            "127.0.0.1:0",
            "--line",
            "127.0.0.1:0",
        ],
        None,
    );
    let impostor_key = impostor_key.split_whitespace().last().expect("key").to_owned();
    assert_ne!(impostor_key, bravo.key);
    alpha.add_line("bravo", &impostor_key, &[bravo.line_addr()]).expect("alpha's line");
    bravo.add_line("alpha", &alpha.key, &[alpha.line_addr()]).expect("bravo's line");
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(!alpha.wait_line("bravo", "up", Duration::from_secs(5)), "alpha accepted a peer with the wrong key");
    assert_ne!(bravo.line_state("alpha").as_deref(), Some("up"));
    let alpha_log = alpha.log_text();
    let bravo_log = bravo.log_text();
    let real = bravo.key.split('+').nth(1).expect("fingerprint");
    let pinned = impostor_key.split('+').nth(1).expect("fingerprint");
    let logs = format!("{alpha_log}\n{bravo_log}");
    assert!(logs.contains(real) && logs.contains(pinned), "the refusal does not name both fingerprints:\n{logs}");
    // Alpha dialed bravo's address and met another key: a critical alarm, naming the
    // pinned key's fingerprint, that stays until a supervisor clears it.
    let (status, alarms) = alpha.api("GET", "/api/v1/alarms", None);
    assert_eq!(status, 200, "{alarms}");
    let mismatch = alarms
        .as_array()
        .and_then(|a| a.iter().find(|a| a["cause"] == "peer_key_mismatch"))
        .unwrap_or_else(|| panic!("no key-mismatch alarm at alpha: {alarms}"));
    assert_eq!(mismatch["severity"], "critical");
    assert_eq!(mismatch["peer"], "bravo");
    assert!(mismatch["text"].as_str().is_some_and(|t| t.contains(pinned)), "{mismatch}");
    assert!(alpha.stop() && bravo.stop());
}
