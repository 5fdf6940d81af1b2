//! The watch: who must answer what by when, and whom to wake when nobody does.
//!
//! A hotline fails quietly: the wire is up but nobody is at the far end, or an urgent
//! message sits unread. This crate is the part of a station that notices. It is a sans-IO
//! scheduler in the manner of `hotline-proto`: the station tells it what happened (a line
//! went down, a watch check went out, a FLASH message arrived, an operator acknowledged,
//! the peer reports nobody on watch) with the wall-clock time as an argument; the watch
//! answers with [`Action`]s (start a watch check, raise or clear an alarm, notify an
//! escalation target) and the instant it next needs to be woken ([`Watch::poll_timeout`]).
//! It never reads a clock, sleeps or touches a socket or file, so tests drive hours of
//! deadlines in microseconds, and a restarted station rebuilds it from its store with
//! the same absolute deadlines it had before.
//!
//! Both stations run one: each raises its own alarm from the same deadlines (a check's
//! deadline travels with the check; a message's comes from its creation time and
//! precedence), so a missed check or an overdue FLASH is raised at both ends at the same
//! instant, give or take clock skew, without waiting for the line. (A message the
//! peer sends us counts from when it reached us: its `created_ms` is the peer's claim.)
//!
//! The peer controls how many messages it sends and checks it asks: alarms are per cause
//! and line, never per item, and overdue messages are counted in one alarm per line,
//! direction and precedence.

mod cause;
mod policy;
mod watch;

pub use cause::{Cause, Direction, Precedence, Severity};
pub use policy::{LinePolicy, Policy, PolicyError, Step};
pub use watch::{Action, OpenAlarm, Watch, alarm_coalesce_ms};
