//! What the watch enforces: deadlines per line and escalation steps per severity.
//!
//! The station builds a [`Policy`] from its configuration file; the defaults are the
//! issue's (hourly watch checks answered within 5 minutes; FLASH acknowledged within 2
//! minutes, IMMEDIATE 10, PRIORITY 60, ROUTINE never chased; a line down for 10 s is an
//! alarm). [`Policy::check`] refuses values that would make the watch useless or
//! unbounded, so a typo cannot silently turn supervision off.

use std::collections::BTreeMap;

use crate::cause::{Precedence, Severity};

/// Longest deadline or delay the watch accepts: 30 days.
#[allow(non_upper_case_globals)]
pub const deadline_ms_max: u64 = 30 * 24 * 3600 * 1000;
/// Shortest watch-check interval: checks more often than this would train operators to
/// click without reading.
#[allow(non_upper_case_globals)]
pub const check_interval_ms_min: u64 = 1000;
/// Most escalation steps per severity.
#[allow(non_upper_case_globals)]
pub const escalation_steps_max: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("{what} is {value_ms} ms; it must be between {min_ms} and {max_ms} ms")]
    OutOfRange { what: String, value_ms: u64, min_ms: u64, max_ms: u64 },
    #[error("{severity} escalation has {steps} steps; at most {escalation_steps_max}")]
    TooManySteps { severity: &'static str, steps: usize },
    #[error("{severity} escalation steps must be in order of their delays (step {index} comes before an earlier one)")]
    StepsOutOfOrder { severity: &'static str, index: usize },
}

/// Deadlines of one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinePolicy {
    /// How often a watch check is sent on schedule; `None`: only on demand.
    pub check_interval_ms: Option<u64>,
    /// How long the far end has to answer a watch check.
    pub check_deadline_ms: u64,
    /// Acknowledgment deadline per precedence (indexed ROUTINE..FLASH); `None`: not chased.
    pub ack_deadline_ms: [Option<u64>; 4],
    /// How long the line may be not up before it is an alarm.
    pub line_down_alarm_ms: u64,
    /// How long the peer may report nobody on watch before it is an alarm.
    pub nobody_on_watch_alarm_ms: u64,
}

impl Default for LinePolicy {
    fn default() -> Self {
        LinePolicy {
            check_interval_ms: Some(3600 * 1000),
            check_deadline_ms: 5 * 60 * 1000,
            ack_deadline_ms: [None, Some(60 * 60 * 1000), Some(10 * 60 * 1000), Some(2 * 60 * 1000)],
            line_down_alarm_ms: 10 * 1000,
            nobody_on_watch_alarm_ms: 10 * 60 * 1000,
        }
    }
}

impl LinePolicy {
    pub fn ack_deadline(&self, precedence: Precedence) -> Option<u64> {
        self.ack_deadline_ms[precedence.index()]
    }

    fn check(&self, peer: &str) -> Result<(), PolicyError> {
        let range = |what: &str, value_ms: u64, min_ms: u64| {
            if (min_ms..=deadline_ms_max).contains(&value_ms) {
                Ok(())
            } else {
                Err(PolicyError::OutOfRange {
                    what: format!("line {peer}: {what}"),
                    value_ms,
                    min_ms,
                    max_ms: deadline_ms_max,
                })
            }
        };
        if let Some(interval) = self.check_interval_ms {
            range("watch check interval", interval, check_interval_ms_min)?;
        }
        range("watch check deadline", self.check_deadline_ms, 1000)?;
        for p in Precedence::ALL {
            if let Some(d) = self.ack_deadline(p) {
                range(&format!("{} acknowledgment deadline", p.as_str()), d, 1000)?;
            }
        }
        range("line down alarm threshold", self.line_down_alarm_ms, 1000)?;
        range("nobody on watch alarm threshold", self.nobody_on_watch_alarm_ms, 1000)
    }
}

/// One escalation step: `after_ms` from the alarm being raised, notify `target` (an index
/// into the station's list of notification targets) unless acknowledged by then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub after_ms: u64,
    pub target: usize,
}

/// Everything the watch enforces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Per line; a line missing here (one added while the station runs) gets `station`.
    pub lines: BTreeMap<String, LinePolicy>,
    /// The station's own settings (`[watch]`), which every line starts from.
    pub station: LinePolicy,
    /// Escalation steps per severity, in order of `after_ms`.
    pub escalation: BTreeMap<Severity, Vec<Step>>,
}

impl Policy {
    /// Refuses out-of-range deadlines and unordered or too many escalation steps.
    pub fn check(&self) -> Result<(), PolicyError> {
        for (peer, line) in &self.lines {
            line.check(peer)?;
        }
        self.station.check("[watch]")?;
        for (severity, steps) in &self.escalation {
            if steps.len() > escalation_steps_max {
                return Err(PolicyError::TooManySteps { severity: severity.as_str(), steps: steps.len() });
            }
            for (index, step) in steps.iter().enumerate() {
                if step.after_ms > deadline_ms_max {
                    return Err(PolicyError::OutOfRange {
                        what: format!("{} escalation step {}", severity.as_str(), index + 1),
                        value_ms: step.after_ms,
                        min_ms: 0,
                        max_ms: deadline_ms_max,
                    });
                }
                if index > 0 && steps[index - 1].after_ms > step.after_ms {
                    return Err(PolicyError::StepsOutOfOrder { severity: severity.as_str(), index: index + 1 });
                }
            }
        }
        Ok(())
    }

    pub fn line(&self, peer: &str) -> LinePolicy {
        self.lines.get(peer).cloned().unwrap_or_else(|| self.station.clone())
    }

    pub fn steps(&self, severity: Severity) -> &[Step] {
        self.escalation.get(&severity).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_issues_and_pass_the_check() {
        let line = LinePolicy::default();
        assert_eq!(line.ack_deadline(Precedence::Flash), Some(120_000));
        assert_eq!(line.ack_deadline(Precedence::Immediate), Some(600_000));
        assert_eq!(line.ack_deadline(Precedence::Priority), Some(3_600_000));
        assert_eq!(line.ack_deadline(Precedence::Routine), None);
        let mut policy = Policy::default();
        policy.lines.insert("bravo".into(), line);
        assert_eq!(policy.check(), Ok(()));
    }

    #[test]
    fn bad_values_are_refused() {
        let mut policy = Policy::default();
        policy.lines.insert("bravo".into(), LinePolicy { check_deadline_ms: 0, ..LinePolicy::default() });
        assert!(matches!(policy.check(), Err(PolicyError::OutOfRange { .. })));
        let mut policy = Policy::default();
        policy.escalation.insert(
            Severity::Critical,
            vec![Step { after_ms: 300_000, target: 0 }, Step { after_ms: 60_000, target: 1 }],
        );
        assert_eq!(policy.check(), Err(PolicyError::StepsOutOfOrder { severity: "critical", index: 2 }));
    }
}
