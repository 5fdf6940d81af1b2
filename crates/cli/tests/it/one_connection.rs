//! Both stations dial each other at start-up; they settle on one connection, the same one
//! at both ends, and the line does not flap.

use std::time::Duration;

use crate::harness::pair;

#[test]
fn two_dialing_stations_settle_on_one_connection() {
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = pair(base.path());
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)));
    assert!(bravo.wait_line("alpha", "up", Duration::from_secs(20)));
    // If the line first came up on bravo's dial (alpha's own dial having found bravo not
    // yet listening), alpha, the preferred dialer, moves it onto its own dial of the
    // primary address after one probe interval (5 s); after that it is settled.
    std::thread::sleep(Duration::from_secs(7));
    let remote = |s: &crate::harness::Station| {
        let (_, lines) = s.api("GET", "/api/v1/lines", None);
        (
            lines[0]["state"].as_str().unwrap_or_default().to_owned(),
            lines[0]["remote"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (a_state, a_remote) = remote(&alpha);
    let (b_state, b_remote) = remote(&bravo);
    assert_eq!((a_state.as_str(), b_state.as_str()), ("up", "up"));
    // One connection has one dialer: exactly one end sees the other's listening port.
    let alpha_dialed = a_remote == format!("127.0.0.1:{}", bravo.line_port);
    let bravo_dialed = b_remote == format!("127.0.0.1:{}", alpha.line_port);
    assert!(alpha_dialed != bravo_dialed, "alpha sees {a_remote}, bravo sees {b_remote}: not one shared connection");
    // Settled: no further line changes once both ends share the connection.
    let ups = |s: &crate::harness::Station| s.log_text().matches("line up").count();
    let before = (ups(&alpha), ups(&bravo));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!((ups(&alpha), ups(&bravo)), before, "the line kept changing connections");
    assert_eq!(remote(&alpha), (a_state, a_remote));
    assert!(alpha.stop() && bravo.stop());
}
