//! `hotline-testkit` stations for the fault scenarios, on loopback or inside a network
//! namespace, with the short panicking helpers the scenarios call.
//!
//! What is particular to this harness is the namespace: a station there listens on fixed
//! ports (each host has its own), its process enters the namespace before `exec`, and
//! every API call is made from a thread inside it (see `netns::in_ns`). [`Namespace`] is
//! the kit's `Host` that does both.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

pub use hotline_testkit::{Answer, Client, Station};
use hotline_testkit::{Binary, Host, Spec};

use crate::netns;

/// HTTP and line ports of a station inside its own namespace (each host has its own ports).
pub const NS_HTTP_PORT: u16 = 8470;
pub const NS_LINE_PORT: u16 = 8471;

/// The binary under test: `$HOTLINE_BIN`, or the workspace's, built for this test run's
/// profile (see `Binary::built`).
pub fn bin() -> Binary {
    Binary::built().unwrap_or_else(|e| panic!("no hotline binary to test: {e:#}"))
}

pub fn free_port() -> u16 {
    hotline_testkit::free_port().expect("a free loopback port")
}

/// Runs `hotline ARGS` to completion; returns (exit ok, stdout, stderr).
pub fn hotline(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let ran = bin().run(args, stdin).expect("run hotline");
    (ran.success, ran.stdout, ran.stderr)
}

/// A network namespace as the host of a station.
#[derive(Debug)]
struct Namespace(String);

impl Host for Namespace {
    fn prepare(&self, command: &mut Command) {
        let path = netns::ns_path(&self.0);
        // SAFETY: only async-signal-safe calls (open, setns, close) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                if fd < 0 || libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
                Ok(())
            });
        }
    }

    fn run(&self, f: &mut (dyn FnMut() + Send)) {
        netns::in_ns(Some(&self.0), f);
    }
}

/// A new station in `base/name`, listening inside `ns` on the fixed ports, or on free
/// loopback ports; with an operator, not started.
pub fn station(base: &Path, name: &str, ns: Option<&str>) -> Station {
    station_in(base, &base.join(name), name, ns)
}

/// [`station`] with its directory at `dir` (on a small filesystem, say); the log stays
/// in `base`.
pub fn station_in(base: &Path, dir: &Path, name: &str, ns: Option<&str>) -> Station {
    let mut spec = Spec::loopback(base, name).expect("free ports");
    spec.dir = dir.to_owned();
    if let Some(ns) = ns {
        spec.http_listen = format!("127.0.0.1:{NS_HTTP_PORT}");
        spec.line_listen = format!("0.0.0.0:{NS_LINE_PORT}");
        spec.host = Arc::new(Namespace(ns.to_owned()));
    }
    Station::init(&bin(), spec).unwrap_or_else(|e| panic!("make station {name}: {e:#}"))
}
