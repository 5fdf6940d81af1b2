//! The peer's steps: what a [`CallLine`] does with each, and which it rejects.
//!
//! The peer is an adversary. A step is applied only if an honest peer could have sent it
//! at this point of the call: a step of each kind comes at most once per call (the line
//! is exactly-once, so a second one is a duplicate, not a retransmission); only the callee
//! answers or leaves and only the caller connects or settles; a connect needs an answer
//! from here, a hang-up needs a connected call. Anything else is rejected with a typed
//! [`PeerError`] and changes nothing. A step that lost a race honestly (an answer that
//! reaches the caller after it cancelled) is accepted and has no effect: the step that won
//! is already on its way to the peer.

use crate::call::{Call, Direction, Final, Phase, Reason, Side};
use crate::error::PeerError;
use crate::event::RecordKind;
use crate::id::{CallId, Operator};
use crate::line::CallLine;
use crate::step::{Step, StepKind, Verdict, Why};

fn bit(kind: StepKind) -> u8 {
    1 << (kind as u8)
}

fn operator_of(why: &Why) -> Option<Operator> {
    match why {
        Why::Operator(name) => Some(name.clone()),
        _ => None,
    }
}

impl CallLine {
    /// A step arrived from the peer (signature checked by the station): parse and apply
    /// it. Call it for every call item the line delivers, in the order it delivers them.
    pub fn handle_peer_bytes(&mut self, now_ms: u64, bytes: &[u8]) -> Result<(), PeerError> {
        let step = Step::parse(bytes)?;
        self.handle_peer(now_ms, step)
    }

    /// A parsed step arrived from the peer: apply it, or reject it with nothing changed.
    pub fn handle_peer(&mut self, now_ms: u64, step: Step) -> Result<(), PeerError> {
        let (id, kind) = (step.call(), step.kind());
        if let Step::Ring { call, caller, started_ms, ring_timeout_ms } = step {
            return self.on_ring(now_ms, call, caller, started_ms, ring_timeout_ms);
        }
        let idx = self.index(id).ok_or(PeerError::UnknownCall { call: id, kind })?;
        let call = &self.calls[idx];
        // The peer is the callee of our outgoing calls and the caller of incoming ones.
        let allowed = match kind {
            StepKind::Answer | StepKind::Leave => call.direction == Direction::Out,
            StepKind::Connect | StepKind::Verdict => call.direction == Direction::In,
            StepKind::Hangup | StepKind::Ring => true,
        };
        if !allowed {
            return Err(PeerError::WrongDirection { call: id, kind, direction: call.direction });
        }
        if call.peer_steps & bit(kind) != 0 {
            return Err(PeerError::Duplicate { call: id, kind });
        }
        if !in_order(call, &step) {
            return Err(PeerError::OutOfOrder { call: id, kind });
        }
        self.calls[idx].peer_steps |= bit(kind);
        match step {
            Step::Answer { operator, .. } => self.on_answer(idx, now_ms, operator),
            Step::Leave { why, .. } => self.on_leave(idx, now_ms, why),
            Step::Connect { .. } => self.on_connect(idx, now_ms),
            Step::Verdict { verdict, .. } => self.on_verdict(idx, now_ms, verdict),
            Step::Hangup { why, .. } => self.on_hangup(idx, now_ms, why),
            Step::Ring { .. } => {}
        }
        Ok(())
    }

    /// A new call from the peer. Glare — it rings while our own outgoing call still
    /// rings there — settles on the lower call id, the same way at both ends: if theirs
    /// is lower we cancel ours (`glare`) and take theirs; if ours is lower theirs is
    /// recorded as superseded here, and the peer cancels it when our ring reaches it.
    fn on_ring(
        &mut self,
        now_ms: u64,
        id: CallId,
        caller: Operator,
        started_ms: u64,
        ring_timeout_ms: u64,
    ) -> Result<(), PeerError> {
        if self.index(id).is_some() {
            return Err(PeerError::Duplicate { call: id, kind: StepKind::Ring });
        }
        let mut superseded = false;
        if let Some(live) = self.live_index() {
            let ours = &self.calls[live];
            // Only our own ring can cross theirs: an honest peer rings only once every
            // call it knows of has ended, and its steps ending them arrive first.
            if !matches!(ours.phase, Phase::Calling { .. }) {
                return Err(PeerError::CallInProgress { call: id, active: ours.id });
            }
            if id < ours.id {
                let ours = ours.id;
                self.send(Step::Verdict { call: ours, verdict: Verdict::Glare });
                self.end(live, now_ms, Final::Cancelled, Side::Caller, None, Reason::Glare);
            } else {
                superseded = true;
            }
        }
        // The stale-ring rule. The ring carries the caller's clock; ours may differ by up
        // to `clock_skew_ms_max`. We alert until the caller's deadline read on our clock,
        // widened by the skew, and never longer than the ring timeout from now: a ring
        // that arrives after a long outage (its deadline long past) alerts not at all,
        // and a caller clock far ahead cannot make it ring longer than its timeout.
        let claimed_deadline_ms =
            started_ms.saturating_add(ring_timeout_ms).saturating_add(self.config.clock_skew_ms_max);
        let alert_until_ms = claimed_deadline_ms.min(now_ms.saturating_add(ring_timeout_ms));
        let alerting = !superseded && alert_until_ms > now_ms;
        let call = Call {
            id,
            direction: Direction::In,
            phase: if superseded { Phase::Superseded } else { Phase::Ringing { alert_until_ms, alerting } },
            started_ms,
            started_by: caller.clone(),
            ring_timeout_ms,
            received_ms: Some(now_ms),
            answer_sent_by: None,
            answered_ms: None,
            answered_by: None,
            peer_steps: bit(StepKind::Ring),
        };
        let idx = self.insert(call);
        let (kind, reason) = match (superseded, alerting) {
            (true, _) => (RecordKind::Superseded, Some(Reason::Glare)),
            (false, true) => (RecordKind::Ringing, None),
            (false, false) => (RecordKind::Stale, Some(Reason::Stale)),
        };
        self.record(idx, kind, now_ms, Side::Caller, Some(caller), reason);
        Ok(())
    }

    /// The callee answered our ring. If it still rings, it is answered: connect.
    fn on_answer(&mut self, idx: usize, now_ms: u64, operator: Operator) {
        if !matches!(self.calls[idx].phase, Phase::Calling { .. }) {
            return; // We settled it first; the verdict is on its way.
        }
        let call = &mut self.calls[idx];
        call.phase = Phase::Answered;
        call.answered_ms = Some(now_ms);
        call.answered_by = Some(operator.clone());
        let id = call.id;
        self.send(Step::Connect { call: id });
        self.record(idx, RecordKind::Answered, now_ms, Side::Callee, Some(operator), None);
        self.events.push_back(crate::Event::StartMedia(id));
    }

    /// The callee left our call. Ringing: we settle it (declined, or failed if it lost
    /// the line or restarted). Connected (its answer crossed its leaving): it ends, and
    /// the callee ends it too when our connect reaches it.
    fn on_leave(&mut self, idx: usize, now_ms: u64, why: Why) {
        let id = self.calls[idx].id;
        let operator = operator_of(&why);
        match self.calls[idx].phase {
            Phase::Calling { .. } => {
                let (state, verdict) = match why {
                    Why::Operator(_) => (Final::Declined, Verdict::Declined),
                    why => (Final::Failed, Verdict::Failed { by: Side::Callee, why }),
                };
                let reason = match &verdict {
                    Verdict::Failed { why, .. } => Reason::of(why),
                    _ => Reason::Operator,
                };
                self.send(Step::Verdict { call: id, verdict });
                self.end(idx, now_ms, state, Side::Callee, operator, reason);
            }
            Phase::Answered => self.end(idx, now_ms, Final::Ended, Side::Callee, operator, Reason::of(&why)),
            _ => {}
        }
    }

    /// The caller connected our answer. If we left meanwhile, the call connected and our
    /// leaving ends it at once, as it does at the caller: no media.
    fn on_connect(&mut self, idx: usize, now_ms: u64) {
        let call = &mut self.calls[idx];
        let operator = call.answer_sent_by.clone();
        let leaving = match &call.phase {
            Phase::Ringing { .. } => None,
            Phase::Leaving { why, .. } => Some(why.clone()),
            _ => return, // We gave up waiting (no_verdict): our leave tells the caller.
        };
        call.phase = Phase::Answered;
        call.answered_ms = Some(now_ms);
        call.answered_by = operator.clone();
        let id = call.id;
        self.record(idx, RecordKind::Answered, now_ms, Side::Callee, operator, None);
        match leaving {
            None => self.events.push_back(crate::Event::StartMedia(id)),
            Some(why) => {
                self.calls[idx].phase = Phase::Ended(crate::call::Ending {
                    state: Final::Ended,
                    by: Side::Callee,
                    operator: operator_of(&why),
                    reason: Reason::of(&why),
                    at_ms: now_ms,
                });
                self.record(idx, RecordKind::Ended, now_ms, Side::Callee, operator_of(&why), Some(Reason::of(&why)));
            }
        }
    }

    /// The caller settled a call that never connected here.
    fn on_verdict(&mut self, idx: usize, now_ms: u64, verdict: Verdict) {
        let call = &self.calls[idx];
        if call.ending().is_some() {
            return; // We gave up waiting (no_verdict) before it came.
        }
        let left = match &call.phase {
            Phase::Leaving { why, .. } => operator_of(why),
            _ => None,
        };
        let (state, by, operator, reason) = match verdict {
            Verdict::Declined => (Final::Declined, Side::Callee, left, Reason::Operator),
            Verdict::Missed => (Final::Missed, Side::Caller, None, Reason::Timeout),
            Verdict::Cancelled(operator) => (Final::Cancelled, Side::Caller, Some(operator), Reason::Operator),
            Verdict::Glare => (Final::Cancelled, Side::Caller, None, Reason::Glare),
            Verdict::Failed { by, why } => (Final::Failed, by, None, Reason::of(&why)),
        };
        self.end(idx, now_ms, state, by, operator, reason);
    }

    /// The peer ended the connected call.
    fn on_hangup(&mut self, idx: usize, now_ms: u64, why: Why) {
        if self.calls[idx].phase != Phase::Answered {
            return; // We ended it too, at the same moment.
        }
        let by = match self.calls[idx].direction {
            Direction::Out => Side::Callee,
            Direction::In => Side::Caller,
        };
        self.end(idx, now_ms, Final::Ended, by, operator_of(&why), Reason::of(&why));
    }
}

/// Could an honest peer send `step` for `call` now? (Kind and duplicates are checked.)
fn in_order(call: &Call, step: &Step) -> bool {
    let seen = |kind| call.peer_steps & bit(kind) != 0;
    match step {
        // The callee answers only while it has not left.
        Step::Answer { .. } => !seen(StepKind::Leave),
        Step::Leave { .. } => true,
        // The caller connects only an answer from here, and never after settling.
        Step::Connect { .. } => call.answer_sent_by.is_some() && !seen(StepKind::Verdict),
        Step::Verdict { verdict, .. } => {
            let left_because = match &call.phase {
                Phase::Leaving { why, .. } => Some(why),
                _ => None,
            };
            let echo_fits = match verdict {
                Verdict::Declined => matches!(left_because, Some(Why::Operator(_))) || call.ending().is_some(),
                Verdict::Failed { by: Side::Callee, why } => left_because == Some(why) || call.ending().is_some(),
                _ => true,
            };
            !seen(StepKind::Connect) && echo_fits
        }
        // A hang-up ends a connected call: the callee's comes after our connect (and
        // never after it left), the caller's after its connect.
        Step::Hangup { .. } => match call.direction {
            Direction::Out => call.answered_ms.is_some() && !seen(StepKind::Leave),
            Direction::In => seen(StepKind::Connect),
        },
        Step::Ring { .. } => false,
    }
}
