//! The steps two stations tell each other about a call, and their wire form.
//!
//! A step is the content of one signed item on the line's control lane: the station
//! signs [`Step::encode`]'s bytes and sends them; the peer's station checks the signature
//! and hands the bytes to [`Step::parse`]. The form is compact and versioned:
//!
//! ```text
//! version u8 (= 1) | kind u8 | call id [16] | body
//! Ring     started_ms u64 | ring_timeout_ms u32 | name       (caller → callee)
//! Answer   name                                              (callee → caller)
//! Leave    why                                               (callee → caller)
//! Connect  (nothing)                                         (caller → callee)
//! Verdict  1 declined | 2 missed | 3 cancelled name | 4 glare | 5 failed side why
//! Hangup   why                                               (either, once answered)
//! name     len u8 (1..=64) | UTF-8     why  1 operator name | 2 line lost | 3 restarted | 4 no verdict
//! ```
//!
//! Integers are big-endian. The parser is strict: a step longer than [`STEP_BYTES_MAX`],
//! an unknown version, kind or tag, a field out of its bound, or a byte left over is an
//! error, never a guess and never a panic.

use serde::{Deserialize, Serialize};

use crate::call::Side;
use crate::config::{RING_TIMEOUT_MS_MAX, RING_TIMEOUT_MS_MIN};
use crate::error::ParseError;
use crate::id::{CallId, OPERATOR_NAME_BYTES_MAX, Operator};

/// The version of the step form this station writes and the only one it reads.
pub const STEP_VERSION: u8 = 1;
/// Longest step on the wire: a ring with the longest name is 95 bytes.
pub const STEP_BYTES_MAX: usize = 128;
/// Latest time a step may carry, in ms since 1970 (the year 3000): anything later is a
/// corrupt or hostile clock.
pub const TIME_MS_MAX: u64 = 32_503_680_000_000;

/// Why a side leaves or ends a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// An operator declined or hung up.
    Operator(Operator),
    /// The line went down.
    LineLost,
    /// The station restarted; whatever the call had (a ring, media) is gone.
    Restarted,
    /// The callee waited `verdict_wait_ms` for the caller's verdict in vain.
    NoVerdict,
}

/// How the caller's station settles a call that never connected. A ringing call's
/// outcome is the caller's station's to decide: the callee proposes (answers, leaves), the
/// caller disposes, so both ends always agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The callee's decline reached us while the call still rang.
    Declined,
    /// Nobody answered within the ring timeout.
    Missed,
    /// The caller hung up first.
    Cancelled(Operator),
    /// A call attempt from each side at once; the other one (the lower id) won.
    Glare,
    /// A side lost the line or restarted while it rang.
    Failed { by: Side, why: Why },
}

/// One step of a call, as one station tells the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A new call; `started_ms` and `ring_timeout_ms` are the caller's clock and setting.
    Ring { call: CallId, caller: Operator, started_ms: u64, ring_timeout_ms: u64 },
    /// An operator at the callee answered; the caller connects or has already settled.
    Answer { call: CallId, operator: Operator },
    /// The callee leaves a call that has not connected (declined, line lost, restarted).
    Leave { call: CallId, why: Why },
    /// The caller accepted the answer: the call is answered at both ends.
    Connect { call: CallId },
    /// The caller settled a call that never connected.
    Verdict { call: CallId, verdict: Verdict },
    /// Either side ended an answered call.
    Hangup { call: CallId, why: Why },
}

/// A step's kind, for errors and for telling duplicates apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Ring = 1,
    Answer = 2,
    Leave = 3,
    Connect = 4,
    Verdict = 5,
    Hangup = 6,
}

impl Step {
    pub fn call(&self) -> CallId {
        match self {
            Step::Ring { call, .. }
            | Step::Answer { call, .. }
            | Step::Leave { call, .. }
            | Step::Connect { call }
            | Step::Verdict { call, .. }
            | Step::Hangup { call, .. } => *call,
        }
    }

    pub fn kind(&self) -> StepKind {
        match self {
            Step::Ring { .. } => StepKind::Ring,
            Step::Answer { .. } => StepKind::Answer,
            Step::Leave { .. } => StepKind::Leave,
            Step::Connect { .. } => StepKind::Connect,
            Step::Verdict { .. } => StepKind::Verdict,
            Step::Hangup { .. } => StepKind::Hangup,
        }
    }

    /// The bytes the station signs and sends on the control lane.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        out.extend([STEP_VERSION, self.kind() as u8]);
        out.extend(self.call().as_bytes());
        match self {
            Step::Ring { caller, started_ms, ring_timeout_ms, .. } => {
                out.extend(started_ms.to_be_bytes());
                // Checked against RING_TIMEOUT_MS_MAX wherever a ring is made.
                out.extend(u32::try_from(*ring_timeout_ms).unwrap_or(u32::MAX).to_be_bytes());
                put_name(&mut out, caller);
            }
            Step::Answer { operator, .. } => put_name(&mut out, operator),
            Step::Leave { why, .. } | Step::Hangup { why, .. } => put_why(&mut out, why),
            Step::Connect { .. } => {}
            Step::Verdict { verdict, .. } => match verdict {
                Verdict::Declined => out.push(1),
                Verdict::Missed => out.push(2),
                Verdict::Cancelled(operator) => {
                    out.push(3);
                    put_name(&mut out, operator);
                }
                Verdict::Glare => out.push(4),
                Verdict::Failed { by, why } => {
                    out.extend([5, *by as u8]);
                    put_why(&mut out, why);
                }
            },
        }
        debug_assert!(out.len() <= STEP_BYTES_MAX, "a step we make fits the bound we enforce");
        out
    }

    /// The step in `bytes` from the peer, checked field by field.
    pub fn parse(bytes: &[u8]) -> Result<Step, ParseError> {
        if bytes.len() > STEP_BYTES_MAX {
            return Err(ParseError::TooLong { bytes: bytes.len() });
        }
        let mut r = Reader(bytes);
        let version = r.u8()?;
        if version != STEP_VERSION {
            return Err(ParseError::UnknownVersion(version));
        }
        let kind = r.u8()?;
        let call = CallId::from_bytes(r.array()?).map_err(ParseError::CallId)?;
        let step = match kind {
            1 => {
                let started_ms = u64::from_be_bytes(r.array()?);
                if started_ms == 0 || started_ms > TIME_MS_MAX {
                    return Err(ParseError::Time(started_ms));
                }
                let ring_timeout_ms = u64::from(u32::from_be_bytes(r.array()?));
                if !(RING_TIMEOUT_MS_MIN..=RING_TIMEOUT_MS_MAX).contains(&ring_timeout_ms) {
                    return Err(ParseError::RingTimeout(ring_timeout_ms));
                }
                Step::Ring { call, caller: r.name()?, started_ms, ring_timeout_ms }
            }
            2 => Step::Answer { call, operator: r.name()? },
            3 => Step::Leave { call, why: r.why()? },
            4 => Step::Connect { call },
            5 => Step::Verdict { call, verdict: r.verdict()? },
            6 => match r.why()? {
                Why::NoVerdict => return Err(ParseError::UnknownTag { field: "hang-up reason", tag: 4 }),
                why => Step::Hangup { call, why },
            },
            other => return Err(ParseError::UnknownKind(other)),
        };
        if !r.0.is_empty() {
            return Err(ParseError::TrailingBytes { extra: r.0.len() });
        }
        Ok(step)
    }
}

fn put_name(out: &mut Vec<u8>, name: &Operator) {
    // Operator::new bounds the length to OPERATOR_NAME_BYTES_MAX, which fits a byte.
    out.push(name.as_str().len() as u8);
    out.extend(name.as_str().as_bytes());
}

fn put_why(out: &mut Vec<u8>, why: &Why) {
    match why {
        Why::Operator(name) => {
            out.push(1);
            put_name(out, name);
        }
        Why::LineLost => out.push(2),
        Why::Restarted => out.push(3),
        Why::NoVerdict => out.push(4),
    }
}

/// A cursor over the step's bytes that fails with `Truncated` instead of indexing past
/// the end.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, ParseError> {
        let (&first, rest) = self.0.split_first().ok_or(ParseError::Truncated)?;
        self.0 = rest;
        Ok(first)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let (head, rest) = self.0.split_at_checked(N).ok_or(ParseError::Truncated)?;
        self.0 = rest;
        head.try_into().map_err(|_| ParseError::Truncated)
    }

    fn name(&mut self) -> Result<Operator, ParseError> {
        let len = usize::from(self.u8()?);
        if len == 0 || len > OPERATOR_NAME_BYTES_MAX {
            return Err(ParseError::Operator(crate::error::IdError::OperatorLength { bytes: len }));
        }
        let (head, rest) = self.0.split_at_checked(len).ok_or(ParseError::Truncated)?;
        self.0 = rest;
        let text = std::str::from_utf8(head).map_err(|_| ParseError::OperatorUtf8)?;
        Operator::new(text).map_err(ParseError::Operator)
    }

    fn why(&mut self) -> Result<Why, ParseError> {
        match self.u8()? {
            1 => Ok(Why::Operator(self.name()?)),
            2 => Ok(Why::LineLost),
            3 => Ok(Why::Restarted),
            4 => Ok(Why::NoVerdict),
            tag => Err(ParseError::UnknownTag { field: "reason", tag }),
        }
    }

    fn verdict(&mut self) -> Result<Verdict, ParseError> {
        match self.u8()? {
            1 => Ok(Verdict::Declined),
            2 => Ok(Verdict::Missed),
            3 => Ok(Verdict::Cancelled(self.name()?)),
            4 => Ok(Verdict::Glare),
            5 => {
                let by = match self.u8()? {
                    1 => Side::Caller,
                    2 => Side::Callee,
                    tag => return Err(ParseError::UnknownTag { field: "side", tag }),
                };
                match self.why()? {
                    Why::Operator(_) => Err(ParseError::UnknownTag { field: "failure reason", tag: 1 }),
                    why => Ok(Verdict::Failed { by, why }),
                }
            }
            tag => Err(ParseError::UnknownTag { field: "verdict", tag }),
        }
    }
}

#[cfg(test)]
#[path = "step_tests.rs"]
mod tests;
