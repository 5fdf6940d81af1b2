//! Two linked stations, alpha and bravo: on two hosts in namespaces (both paths, each
//! listing the peer's primary address first, then the backup), or both on loopback.

use std::path::Path;

use crate::netns::{BACKUP, Net, PRIMARY};
use crate::station::{NS_LINE_PORT, Station};

/// Alpha on host A and bravo on host B, configured but not started.
pub fn net_pair(base: &Path, net: &Net, heartbeat_interval_ms: Option<u64>) -> (Station, Station) {
    let a = Station::init(base, "alpha", Some(&net.a));
    let b = Station::init(base, "bravo", Some(&net.b));
    let addrs = |(host_a, host_b): (&str, &str), of_bravo: bool| {
        format!("{}:{NS_LINE_PORT}", if of_bravo { host_b } else { host_a })
    };
    a.add_line("bravo", &b.key, &[addrs(PRIMARY, true), addrs(BACKUP, true)], heartbeat_interval_ms);
    b.add_line("alpha", &a.key, &[addrs(PRIMARY, false), addrs(BACKUP, false)], heartbeat_interval_ms);
    (a, b)
}

/// Alpha and bravo on loopback, dialing each other directly; not started.
pub fn loopback_pair(base: &Path) -> (Station, Station) {
    let a = Station::init(base, "alpha", None);
    let b = Station::init(base, "bravo", None);
    a.add_line("bravo", &b.key, &[format!("127.0.0.1:{}", b.line_port)], None);
    b.add_line("alpha", &a.key, &[format!("127.0.0.1:{}", a.line_port)], None);
    (a, b)
}
