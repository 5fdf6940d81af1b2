//! Real `hotline` processes for the end-to-end tests (`crates/cli/tests`), the fault
//! harness (`crates/faults`) and the benchmarks (`crates/bench`): one way to find the
//! binary, make a station as an operator would (`hotline init`, `key`, `line add`,
//! `user add`, `token create`), run `hotline serve` as a child process, wait for
//! `/healthz`, call the HTTP API, and stop it again.
//!
//! ```text
//! let bin = Binary::built()?;                       // or Binary::at(env!("CARGO_BIN_EXE_hotline"))
//! let (mut alpha, mut bravo) = hotline_testkit::pair(&bin, base)?;
//! alpha.start()?; bravo.start()?;
//! alpha.wait_line("bravo", "up", Duration::from_secs(20));
//! let (status, body) = alpha.api("POST", "/api/v1/lines/bravo/messages", Some(json!({"body": "hi"})));
//! ```
//!
//! The kit knows only loopback. Where a station's process runs and where its API is
//! called from is a [`Host`], so the fault harness can put stations in network namespaces
//! without the kit knowing what a namespace is. Every child is stopped when its
//! [`Station`] is dropped, so a failing test or benchmark leaves no process behind.

mod api;
mod binary;
mod client;
mod host;
mod station;

pub use binary::{Binary, Ran};
pub use client::{Answer, Client};
pub use host::{Host, Loopback};
pub use station::{OPERATOR_PASSWORD, Spec, Station, pair};

/// A port that was free on loopback a moment ago. Another process may take it before
/// the station binds it; the tests accept that small race rather than fixed ports.
pub fn free_port() -> anyhow::Result<u16> {
    use anyhow::Context as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind a loopback port")?;
    Ok(listener.local_addr().context("local address of a bound port")?.port())
}
