//! A silent cut of the primary path (packets vanish, no reset): the line moves to the
//! backup path and traffic goes on. Measures, from the cut: when alpha calls the line
//! down, when it is up again over the backup, and when a FLASH message sent right at the
//! cut is delivered.

use std::time::{Duration, Instant};

use crate::netns::{BACKUP, Net, PRIMARY, Path};
use crate::station::NS_LINE_PORT;
use crate::topology::net_pair;
use crate::traffic::{Outcome, Sender, check_direction, finish, send_one};

/// Failover must take under this long (issue 7: "traffic continues on the backup within 3 s").
#[allow(non_upper_case_globals)]
const failover_ms_max: u128 = 3000;

struct Measured {
    down_ms: u128,
    up_ms: u128,
    delivered_ms: u128,
}

fn run(heartbeat_interval_ms: Option<u64>, label: &str) -> Option<Measured> {
    let net = Net::create_or_explain(label, "skipped: a path cut needs two hosts")?;
    let base = tempfile::tempdir().expect("tempdir");
    let (mut alpha, mut bravo) = net_pair(base.path(), &net, heartbeat_interval_ms);
    alpha.start().expect("station starts");
    bravo.start().expect("station starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line never came up:\n{}", alpha.log_tail(30));
    // Both start at once, so the first connection may land on the backup (the primary
    // refused for the moment bravo was not yet listening); the line moves back to the
    // primary by itself within a probe interval (5 s).
    let on_primary = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, remote) = alpha.line("bravo").expect("line");
        // Alpha's own dial to bravo's primary address (an incoming connection from bravo
        // also shows a primary-path address, but with bravo's ephemeral port).
        if remote.as_deref() == Some(format!("{}:{NS_LINE_PORT}", PRIMARY.1).as_str()) {
            break;
        }
        assert!(Instant::now() < on_primary, "line not back on the primary path: {remote:?}");
        std::thread::sleep(Duration::from_millis(100));
    }

    let ab = Sender::start(alpha.client(), "alpha", "bravo", label, Duration::from_millis(100));
    let ba = Sender::start(bravo.client(), "bravo", "alpha", label, Duration::from_millis(100));
    std::thread::sleep(Duration::from_secs(3));

    let cut_at = Instant::now();
    net.cut(Path::Primary);
    let probe_label = format!("{label}probe");
    let probe = send_one(&alpha.client(), "bravo", &probe_label, "alpha", 10);
    let Outcome::Accepted { id: probe_id } = &probe.outcome else { panic!("probe not accepted: {:?}", probe.outcome) };
    let (mut down_ms, mut up_ms, mut delivered_ms) = (None, None, None);
    let deadline = cut_at + Duration::from_secs(30);
    while Instant::now() < deadline && (up_ms.is_none() || delivered_ms.is_none()) {
        if let Some((state, remote)) = alpha.line("bravo") {
            let elapsed = cut_at.elapsed().as_millis();
            if state != "up" && down_ms.is_none() {
                down_ms = Some(elapsed);
            }
            if state == "up" && up_ms.is_none() && remote.as_deref().is_some_and(|r| r.starts_with(BACKUP.1)) {
                up_ms = Some(elapsed);
            }
        }
        if delivered_ms.is_none() {
            let (status, m) = alpha.api("GET", &format!("/api/v1/messages/{probe_id}"), None);
            if status == 200 && (m["state"] == "delivered" || m["state"] == "acknowledged") {
                delivered_ms = Some(cut_at.elapsed().as_millis());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (Some(up_ms), Some(delivered_ms)) = (up_ms, delivered_ms) else {
        panic!(
            "{label}: no failover within 30 s (up {up_ms:?}, probe delivered {delivered_ms:?}):\n{}",
            alpha.log_tail(40)
        );
    };
    // Traffic goes on over the backup for a while.
    std::thread::sleep(Duration::from_secs(4));
    let (sent_ab, sent_ba) = (ab.finish(), ba.finish());
    let measured = Measured { down_ms: down_ms.unwrap_or(up_ms), up_ms, delivered_ms };
    let extra = format!(
        "heartbeat_interval_ms={} down_ms={} failover_ms={} probe_delivered_ms={}",
        heartbeat_interval_ms.unwrap_or(500),
        measured.down_ms,
        measured.up_ms,
        measured.delivered_ms
    );
    let (_, _, export_b) = finish(label, base.path(), &mut alpha, &mut bravo, &sent_ab, &sent_ba, &extra);
    check_direction(&probe_label, "alpha", "bravo", &[probe], &export_b);
    drop(net);
    Some(measured)
}

/// At the product's defaults (heartbeat 500 ms, down after 1.5 s of silence, the backup
/// dialed 250 ms after the silent primary) the line is back on the backup, and a message
/// sent at the moment of the cut delivered, within 3 s.
#[test]
fn silent_cut_of_the_primary_fails_over_to_the_backup_within_3_s() {
    let Some(m) = run(None, "failover") else { return };
    println!(
        "FAULTS failover: down after {} ms, up over the backup after {} ms, probe delivered after {} ms",
        m.down_ms, m.up_ms, m.delivered_ms
    );
    assert!(m.up_ms < failover_ms_max, "failover took {} ms (limit {failover_ms_max} ms)", m.up_ms);
    assert!(
        m.delivered_ms < failover_ms_max,
        "the message sent at the cut was delivered after {} ms (limit {failover_ms_max} ms)",
        m.delivered_ms
    );
}
