//! Two linked stations, alpha and bravo: on two hosts in namespaces (both paths, each
//! listing the peer's primary address first, then the backup), or both on loopback.

use std::path::Path;

use crate::netns::{BACKUP, Net, PRIMARY};
use crate::station::{NS_LINE_PORT, Station, bin, station};

/// Alpha on host A and bravo on host B, configured but not started.
pub fn net_pair(base: &Path, net: &Net, heartbeat_interval_ms: Option<u64>) -> (Station, Station) {
    let a = station(base, "alpha", Some(&net.a));
    let b = station(base, "bravo", Some(&net.b));
    let addrs = |(host_a, host_b): (&str, &str), of_bravo: bool| {
        format!("{}:{NS_LINE_PORT}", if of_bravo { host_b } else { host_a })
    };
    a.add_line("bravo", &b.key, &[addrs(PRIMARY, true), addrs(BACKUP, true)]).expect("alpha's line");
    b.add_line("alpha", &a.key, &[addrs(PRIMARY, false), addrs(BACKUP, false)]).expect("bravo's line");
    if let Some(ms) = heartbeat_interval_ms {
        a.set_heartbeat_interval_ms(ms).expect("alpha's heartbeat interval");
        b.set_heartbeat_interval_ms(ms).expect("bravo's heartbeat interval");
    }
    (a, b)
}

/// Alpha and bravo on loopback, dialing each other directly; not started.
pub fn loopback_pair(base: &Path) -> (Station, Station) {
    hotline_testkit::pair(&bin(), base).unwrap_or_else(|e| panic!("make alpha and bravo: {e:#}"))
}
