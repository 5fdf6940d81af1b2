//! Where a station's process runs and where its API is called from.
//!
//! The kit's own [`Loopback`] is the machine itself. The fault harness implements
//! [`Host`] for a network namespace: its `prepare` makes the child enter the namespace
//! before `exec`, and its `run` makes each API call from a thread inside it. Keeping the
//! seam this narrow is what lets the kit stay free of namespaces, `setns` and `ip`.

use std::fmt::Debug;
use std::process::Command;

/// Where a station lives. Shared by a station and every [`crate::Client`] made from it,
/// so it must be `Send + Sync`.
pub trait Host: Send + Sync + Debug {
    /// Called on the `hotline serve` command just before it is spawned (to add a
    /// `pre_exec`, for example).
    fn prepare(&self, command: &mut Command);

    /// Runs `f` once, on a thread from which the station's HTTP address is reachable.
    fn run(&self, f: &mut (dyn FnMut() + Send));
}

/// This machine, with stations on loopback: nothing to prepare, calls made in place.
#[derive(Clone, Copy, Debug, Default)]
pub struct Loopback;

impl Host for Loopback {
    fn prepare(&self, _command: &mut Command) {}

    fn run(&self, f: &mut (dyn FnMut() + Send)) {
        f();
    }
}
