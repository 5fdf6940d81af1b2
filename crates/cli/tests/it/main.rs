//! End-to-end tests of the `hotline` binary: real processes, real sockets, real disks.

mod cli;
mod failover;
mod fork;
mod harness;
mod kill_restart;
mod lines;
mod notices;
mod one_connection;
mod tamper;
mod tidy;
mod verify_time;
mod watch;
mod wrong_key;
