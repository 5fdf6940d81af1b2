//! End-to-end tests of the `hotline` binary: real processes, real sockets, real disks.

mod cli;
mod failover;
mod fork;
mod harness;
mod kill_restart;
mod tidy;
mod wrong_key;
