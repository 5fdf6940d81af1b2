//! A line's call settings and the bounds they must stay within.
//!
//! Every duration is in milliseconds of the station's wall clock, units last in the
//! name. The bounds are constants, not settings: they say what this station accepts from
//! the peer too (a ring's timeout travels with the ring).

use crate::error::ConfigError;

/// Shortest ring timeout a line (or a peer's ring) may have.
pub const RING_TIMEOUT_MS_MIN: u64 = 1_000;
/// Longest ring timeout a line (or a peer's ring) may have: ten minutes.
pub const RING_TIMEOUT_MS_MAX: u64 = 600_000;
/// PRODUCT.md's `call_ring_timeout_s` default, 60 s.
pub const RING_TIMEOUT_MS_DEFAULT: u64 = 60_000;
/// Most calls a line keeps in memory (the record keeps them all).
pub const CALLS_HISTORY_MAX_LIMIT: usize = 100_000;
/// How long an answered call outlives a line that is down, by default: a reconnect
/// (a connection swap, a short cut) is over well within it.
pub const ANSWERED_LINE_GRACE_MS_DEFAULT: u64 = 5_000;
/// Longest `clock_skew_ms_max` or `verdict_wait_ms` a line may be configured with: one hour.
pub const WAIT_MS_LIMIT: u64 = 3_600_000;

/// One line's call settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallConfig {
    /// This station's name, as its record entries name it.
    pub station: String,
    /// The peer station's name.
    pub peer: String,
    /// The line's `call_ring_timeout_s`, in ms: an outgoing call nobody answered in this
    /// time is missed. It travels in the ring, so the callee alerts for as long.
    pub ring_timeout_ms: u64,
    /// How far apart the two stations' clocks may be. A ring older than its timeout plus
    /// this, by our clock, is stale: recorded, never alerted.
    pub clock_skew_ms_max: u64,
    /// How long a callee waits, with the line up, for the caller's verdict after its ring
    /// stopped alerting (or after it left the call) before it ends the call itself as
    /// failed (`no_verdict`). An honest caller always answers sooner; this only bounds
    /// how long a silent or hostile peer can keep the line busy.
    pub verdict_wait_ms: u64,
    /// Most calls kept in memory: the oldest ended ones are dropped past this. A step for
    /// a dropped call is rejected as unknown.
    pub calls_history_max: usize,
    /// How long an answered call outlives a line that went down: its media does not run
    /// over the line, so a blip (the line moving to the preferred dialer's connection, a
    /// reconnect) must not cut the people talking. Past this with the line still down,
    /// the call ends `line_lost`. 0: at once. A call not yet answered fails at once
    /// whatever this says: its steps need the line.
    pub answered_line_grace_ms: u64,
}

impl CallConfig {
    /// The defaults of PRODUCT.md for the line between `station` and `peer`.
    pub fn new(station: &str, peer: &str) -> CallConfig {
        CallConfig {
            station: station.to_owned(),
            peer: peer.to_owned(),
            ring_timeout_ms: RING_TIMEOUT_MS_DEFAULT,
            clock_skew_ms_max: 5_000,
            verdict_wait_ms: 120_000,
            calls_history_max: 256,
            answered_line_grace_ms: ANSWERED_LINE_GRACE_MS_DEFAULT,
        }
    }

    /// Are the settings within bounds? [`crate::CallLine::new`] asks.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(RING_TIMEOUT_MS_MIN..=RING_TIMEOUT_MS_MAX).contains(&self.ring_timeout_ms) {
            return Err(ConfigError::RingTimeout {
                value: self.ring_timeout_ms,
                min: RING_TIMEOUT_MS_MIN,
                max: RING_TIMEOUT_MS_MAX,
            });
        }
        if !(1..=CALLS_HISTORY_MAX_LIMIT).contains(&self.calls_history_max) {
            return Err(ConfigError::HistoryMax { value: self.calls_history_max, max: CALLS_HISTORY_MAX_LIMIT });
        }
        for (field, value) in [
            ("clock_skew_ms_max", self.clock_skew_ms_max),
            ("verdict_wait_ms", self.verdict_wait_ms),
            ("answered_line_grace_ms", self.answered_line_grace_ms),
        ] {
            if value > WAIT_MS_LIMIT {
                return Err(ConfigError::Duration { field, value, max: WAIT_MS_LIMIT });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn settings_out_of_bounds_are_named() {
        let base = CallConfig::new("alpha", "bravo");
        let checks = [
            base.check(),
            CallConfig { ring_timeout_ms: 10, ..base.clone() }.check(),
            CallConfig { calls_history_max: 0, ..base.clone() }.check(),
            CallConfig { verdict_wait_ms: WAIT_MS_LIMIT + 1, ..base }.check(),
        ];
        expect![[r#"
            [
                Ok(
                    (),
                ),
                Err(
                    RingTimeout {
                        value: 10,
                        min: 1000,
                        max: 600000,
                    },
                ),
                Err(
                    HistoryMax {
                        value: 0,
                        max: 100000,
                    },
                ),
                Err(
                    Duration {
                        field: "verdict_wait_ms",
                        value: 3600001,
                        max: 3600000,
                    },
                ),
            ]
        "#]]
        .assert_debug_eq(&checks);
    }
}
