//! `hotline-testkit` set up for this crate's own binary, with the short panicking helpers
//! the tests call: run `hotline` to completion, make one station or a linked pair.

use std::path::Path;

pub use hotline_testkit::Station;
use hotline_testkit::{Binary, Spec};

/// The binary these tests drive, built by cargo for this very test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_hotline");

pub fn bin() -> Binary {
    Binary::at(BIN)
}

/// Wall-clock milliseconds since the Unix epoch, as the stations write them.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub fn free_port() -> u16 {
    hotline_testkit::free_port().expect("a free loopback port")
}

/// Runs `hotline ARGS` to completion; returns (exit ok, stdout, stderr).
pub fn hotline(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let ran = bin().run(args, stdin).expect("run hotline");
    (ran.success, ran.stdout, ran.stderr)
}

pub fn hotline_ok(args: &[&str], stdin: Option<&str>) -> String {
    bin().run_ok(args, stdin).expect("hotline succeeds")
}

/// A station `name` in `base` on loopback, with an operator; no lines, not started.
pub fn station(base: &Path, name: &str) -> Station {
    let spec = Spec::loopback(base, name).expect("free ports");
    Station::init(&bin(), spec).unwrap_or_else(|e| panic!("make station {name}: {e:#}"))
}

/// Two stations, alpha and bravo, that pin each other's keys; not yet started.
pub fn pair(base: &Path) -> (Station, Station) {
    hotline_testkit::pair(&bin(), base).unwrap_or_else(|e| panic!("make alpha and bravo: {e:#}"))
}
