//! A dead primary address: the line comes up over the backup.

use std::time::{Duration, Instant};

use crate::harness::{free_port, station};

#[test]
fn a_dead_primary_address_fails_over_to_the_backup() {
    let base = tempfile::tempdir().expect("tempdir");
    let mut alpha = station(base.path(), "alpha");
    let mut bravo = station(base.path(), "bravo");
    // The primary accepts TCP (the kernel completes the handshake into the backlog) but
    // never answers TLS: the worst kind of dead, silent rather than refused.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    let bravo_real = format!("127.0.0.1:{}", bravo.line_port);
    alpha.add_line("bravo", &bravo.key, &[silent_addr, bravo_real.clone()]).expect("alpha's line");
    // Bravo cannot reach alpha at all, so only alpha's dial can bring the line up.
    bravo.add_line("alpha", &alpha.key, &[format!("127.0.0.1:{}", free_port())]).expect("bravo's line");
    let started = Instant::now();
    alpha.start().expect("alpha starts");
    bravo.start().expect("bravo starts");
    assert!(alpha.wait_line("bravo", "up", Duration::from_secs(15)), "no failover:\n{}", alpha.log_text());
    println!("line up over the backup address {:.1} s after start", started.elapsed().as_secs_f64());
    let (status, lines) = alpha.api("GET", "/api/v1/lines", None);
    assert_eq!(status, 200);
    assert_eq!(lines[0]["remote"], bravo_real.as_str(), "{lines}");
    drop(silent);
    assert!(alpha.stop() && bravo.stop());
}
