//! The `CallLine`: one station's calls on one line, as a state machine driven by operator
//! actions, the line's state, the peer's steps and time.
//!
//! The driving rule is the house one (from str0m): after every input — an operator
//! action, [`CallLine::handle_peer`], [`CallLine::line_up`] / [`CallLine::line_down`],
//! [`CallLine::handle_timeout`] — drain [`CallLine::poll_event`], then sleep until
//! [`CallLine::poll_timeout`]. Every instant is wall-clock milliseconds passed in by the
//! station; nothing here reads a clock.
//!
//! Who decides what. A call that has not connected is settled by the **caller's**
//! station alone: it connects the callee's answer, or ends the call as declined (the
//! callee's decline reached it while ringing), missed (its own timer), cancelled (its
//! operator, or glare) or failed (either side lost the line or restarted). The callee only
//! proposes ([`crate::Step::Answer`], [`crate::Step::Leave`]) and adopts the verdict. The
//! caller takes the first proposal or event it sees; the line delivers each side's steps
//! exactly once and in order, so both ends reach the same outcome however the races fall.
//! Once connected, either side ends the call on its own; the state is `ended` at both.

use std::collections::VecDeque;

use crate::call::{Call, Direction, Ending, Final, Phase, Reason, Side};
use crate::config::CallConfig;
use crate::error::{CallError, ConfigError, RestoreError};
use crate::event::{Event, RecordEntry, RecordKind};
use crate::id::{CallId, Operator};
use crate::step::{Step, Verdict, Why};

/// One station's end of the calls on one line.
#[derive(Debug)]
pub struct CallLine {
    pub(crate) config: CallConfig,
    /// Since when the line is up, by our clock; `None` while it is down.
    pub(crate) up_since_ms: Option<u64>,
    /// While the line is down with an answered call: when the call ends unless the line
    /// is back first (`answered_line_grace_ms` after it went down).
    pub(crate) grace_until_ms: Option<u64>,
    /// Known calls, oldest first, at most `calls_history_max` (plus a live one).
    pub(crate) calls: VecDeque<Call>,
    pub(crate) events: VecDeque<Event>,
}

impl CallLine {
    /// A line with no calls, down until [`CallLine::line_up`]. Call it when the station
    /// starts with a line that has no call history, or when a line is added.
    pub fn new(config: CallConfig) -> Result<CallLine, ConfigError> {
        config.check()?;
        Ok(CallLine {
            config,
            up_since_ms: None,
            grace_until_ms: None,
            calls: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// A line rebuilt after a restart from the calls the record holds (the `call` of the
    /// latest entry of each), down until [`CallLine::line_up`]. A call that was live did
    /// not survive the restart — its ring stopped, its media is gone — so it ends now and
    /// the peer is told: an outgoing call we were ringing fails (`restarted`); an incoming
    /// one that rang here is left (`restarted`; the caller's verdict settles it, and may
    /// be `answered` if our answer was on its way, which then ends at once); an answered
    /// call ends (`restarted`). Drain [`CallLine::poll_event`] before anything else.
    pub fn restore(config: CallConfig, now_ms: u64, calls: Vec<Call>) -> Result<CallLine, RestoreError> {
        config.check()?;
        if calls.len() > config.calls_history_max + 1 {
            return Err(RestoreError::TooMany { count: calls.len() });
        }
        let mut ids: Vec<CallId> = calls.iter().map(|c| c.id).collect();
        ids.sort();
        if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(RestoreError::Duplicate(pair[0]));
        }
        if let Some(call) = calls.iter().find(|c| !phase_fits_direction(c)) {
            return Err(RestoreError::Inconsistent(call.id));
        }
        let live = calls.iter().filter(|c| c.is_live()).count();
        if live > 1 {
            return Err(RestoreError::SeveralLive { count: live });
        }
        let mut line =
            CallLine { config, up_since_ms: None, grace_until_ms: None, calls: calls.into(), events: VecDeque::new() };
        let Some(idx) = line.live_index() else { return Ok(line) };
        let call = &line.calls[idx];
        let (id, side) = (call.id, call.direction.our_side());
        match call.phase {
            Phase::Calling { .. } => {
                let verdict = Verdict::Failed { by: Side::Caller, why: Why::Restarted };
                line.send(Step::Verdict { call: id, verdict });
                line.end(idx, now_ms, Final::Failed, Side::Caller, None, Reason::Restarted);
            }
            Phase::Ringing { .. } => line.leave(idx, now_ms, Why::Restarted),
            Phase::Answered => {
                line.send(Step::Hangup { call: id, why: Why::Restarted });
                line.end(idx, now_ms, Final::Ended, side, None, Reason::Restarted);
                // The media went with the old process: there is nothing to stop.
                line.events.retain(|e| !matches!(e, Event::StopMedia(_)));
            }
            // We left before the restart and the step went out with that entry.
            Phase::Leaving { .. } | Phase::Superseded | Phase::Ended(_) => {}
        }
        Ok(line)
    }

    pub fn config(&self) -> &CallConfig {
        &self.config
    }

    pub fn is_up(&self) -> bool {
        self.up_since_ms.is_some()
    }

    /// Every call this line remembers, oldest first.
    pub fn calls(&self) -> impl DoubleEndedIterator<Item = &Call> + ExactSizeIterator {
        self.calls.iter()
    }

    pub fn call(&self, id: CallId) -> Option<&Call> {
        self.calls.iter().find(|c| c.id == id)
    }

    /// The call that holds the line, if any.
    pub fn live_call(&self) -> Option<&Call> {
        self.live_index().map(|i| &self.calls[i])
    }

    // --- operator actions ---------------------------------------------------------------

    /// An operator here starts call `id` (a fresh UUID v7 from the station). Call it on
    /// `POST /lines/{peer}/calls`. Refused at once, and recorded as `call.refused`, if the
    /// line is down or another call rings or runs.
    pub fn start(&mut self, now_ms: u64, id: CallId, operator: Operator) -> Result<(), CallError> {
        if self.index(id).is_some() {
            return Err(CallError::DuplicateCallId(id));
        }
        if !self.is_up() {
            self.refused(now_ms, id, operator, Reason::LineDown);
            return Err(CallError::LineDown);
        }
        if let Some(active) = self.live_call().map(|c| c.id) {
            self.refused(now_ms, id, operator, Reason::Busy);
            return Err(CallError::CallInProgress { active });
        }
        let ring_timeout_ms = self.config.ring_timeout_ms;
        let call = Call {
            id,
            direction: Direction::Out,
            phase: Phase::Calling { deadline_ms: now_ms.saturating_add(ring_timeout_ms) },
            started_ms: now_ms,
            started_by: operator.clone(),
            ring_timeout_ms,
            received_ms: None,
            answer_sent_by: None,
            answered_ms: None,
            answered_by: None,
            peer_steps: 0,
        };
        let idx = self.insert(call);
        self.send(Step::Ring { call: id, caller: operator.clone(), started_ms: now_ms, ring_timeout_ms });
        self.record(idx, RecordKind::Started, now_ms, Side::Caller, Some(operator), None);
        Ok(())
    }

    /// An operator here answers incoming call `id` (`POST /calls/{id}/answer`). The call
    /// shows `ringing` (not alerting) until the caller's station connects it, which is
    /// [`Event::StartMedia`]; it may instead have settled the call first (cancelled,
    /// missed), and then that verdict ends it here.
    pub fn answer(&mut self, now_ms: u64, id: CallId, operator: Operator) -> Result<(), CallError> {
        let idx = self.index(id).ok_or(CallError::UnknownCall(id))?;
        let call = &self.calls[idx];
        if call.direction == Direction::Out {
            return Err(CallError::WrongDirection { call: id, direction: Direction::Out });
        }
        match call.phase {
            Phase::Ringing { alert_until_ms, alerting } if call.answer_sent_by.is_none() => {
                if !alerting || now_ms >= alert_until_ms {
                    return Err(CallError::RingTimedOut(id));
                }
            }
            _ => return Err(CallError::NotPossible { call: id, state: call.state() }),
        }
        self.calls[idx].answer_sent_by = Some(operator.clone());
        self.send(Step::Answer { call: id, operator: operator.clone() });
        self.record(idx, RecordKind::Answering, now_ms, Side::Callee, Some(operator), None);
        Ok(())
    }

    /// An operator here declines incoming call `id` (`POST /calls/{id}/decline`): the
    /// consoles stop ringing at once; the caller's verdict (normally `declined`) ends it.
    pub fn decline(&mut self, now_ms: u64, id: CallId, operator: Operator) -> Result<(), CallError> {
        let idx = self.index(id).ok_or(CallError::UnknownCall(id))?;
        let call = &self.calls[idx];
        if call.direction == Direction::Out {
            return Err(CallError::WrongDirection { call: id, direction: Direction::Out });
        }
        if !matches!(call.phase, Phase::Ringing { .. }) {
            return Err(CallError::NotPossible { call: id, state: call.state() });
        }
        self.leave(idx, now_ms, Why::Operator(operator));
        Ok(())
    }

    /// An operator here hangs up call `id` (`POST /calls/{id}/hangup`): a caller's ringing
    /// call is cancelled, a callee's ringing call declined, an answered call ended.
    pub fn hangup(&mut self, now_ms: u64, id: CallId, operator: Operator) -> Result<(), CallError> {
        let idx = self.index(id).ok_or(CallError::UnknownCall(id))?;
        let call = &self.calls[idx];
        let side = call.direction.our_side();
        match call.phase {
            Phase::Calling { .. } => {
                self.send(Step::Verdict { call: id, verdict: Verdict::Cancelled(operator.clone()) });
                self.end(idx, now_ms, Final::Cancelled, Side::Caller, Some(operator), Reason::Operator);
            }
            Phase::Ringing { .. } => self.leave(idx, now_ms, Why::Operator(operator)),
            Phase::Answered => {
                self.send(Step::Hangup { call: id, why: Why::Operator(operator.clone()) });
                self.end(idx, now_ms, Final::Ended, side, Some(operator), Reason::Operator);
            }
            _ => return Err(CallError::NotPossible { call: id, state: call.state() }),
        }
        Ok(())
    }

    // --- the line and time --------------------------------------------------------------

    /// The line came up (the proto line's `StateChanged` to up). Calls can start again.
    pub fn line_up(&mut self, now_ms: u64) {
        if self.up_since_ms.is_none() {
            self.up_since_ms = Some(now_ms);
        }
        // Back within the grace: the answered call never noticed.
        self.grace_until_ms = None;
    }

    /// The line went down. Call it as soon as the proto line says so. We tell the peer
    /// (the step goes out when the line is back): a call we were ringing fails
    /// (`line_lost`), one ringing here is left (`line_lost`); an answered one, whose
    /// media does not need the line, goes on for `answered_line_grace_ms` and ends
    /// (`line_lost`) only if the line is still down then.
    pub fn line_down(&mut self, now_ms: u64) {
        if self.up_since_ms.take().is_none() {
            return;
        }
        let grace = self.config.answered_line_grace_ms;
        if grace > 0 && self.live_call().is_some_and(|c| c.phase == Phase::Answered) {
            self.grace_until_ms = Some(now_ms.saturating_add(grace));
            return;
        }
        self.line_lost(now_ms);
    }

    /// The live call cannot go on without the line (see [`CallLine::line_down`]).
    fn line_lost(&mut self, now_ms: u64) {
        self.grace_until_ms = None;
        let Some(idx) = self.live_index() else { return };
        let call = &self.calls[idx];
        let (id, side) = (call.id, call.direction.our_side());
        match call.phase {
            Phase::Calling { .. } => {
                let verdict = Verdict::Failed { by: Side::Caller, why: Why::LineLost };
                self.send(Step::Verdict { call: id, verdict });
                self.end(idx, now_ms, Final::Failed, Side::Caller, None, Reason::LineLost);
            }
            Phase::Ringing { .. } => self.leave(idx, now_ms, Why::LineLost),
            Phase::Answered => {
                self.send(Step::Hangup { call: id, why: Why::LineLost });
                self.end(idx, now_ms, Final::Ended, side, None, Reason::LineLost);
            }
            Phase::Leaving { .. } | Phase::Superseded | Phase::Ended(_) => {}
        }
    }

    /// When [`CallLine::handle_timeout`] next needs calling, by our clock: a ring
    /// timeout, the end of alerting, the wait for a verdict, or the end of an answered
    /// call's grace while the line is down. `None`: nothing pending.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let call = self.live_call()?;
        match call.phase {
            Phase::Answered => self.grace_until_ms,
            Phase::Calling { deadline_ms } => Some(deadline_ms),
            Phase::Ringing { alert_until_ms, alerting } => {
                let alert = alerting.then_some(alert_until_ms);
                [alert, self.verdict_due_ms(call)].into_iter().flatten().min()
            }
            Phase::Leaving { .. } => self.verdict_due_ms(call),
            _ => None,
        }
    }

    /// Time has come to `now_ms` (at or after [`CallLine::poll_timeout`]): a call we
    /// ring that nobody answered is missed; an incoming ring stops alerting; a callee
    /// that waited `verdict_wait_ms` in vain ends the call itself (`no_verdict`).
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let Some(idx) = self.live_index() else { return };
        let id = self.calls[idx].id;
        if self.grace_until_ms.is_some_and(|until| now_ms >= until) {
            // Still down at the end of the grace: the answered call ends now.
            self.line_lost(now_ms);
            return;
        }
        match self.calls[idx].phase {
            Phase::Calling { deadline_ms } if now_ms >= deadline_ms => {
                self.send(Step::Verdict { call: id, verdict: Verdict::Missed });
                self.end(idx, now_ms, Final::Missed, Side::Caller, None, Reason::Timeout);
                return;
            }
            Phase::Ringing { alert_until_ms, alerting: true } if now_ms >= alert_until_ms => {
                self.calls[idx].phase = Phase::Ringing { alert_until_ms, alerting: false };
                self.events.push_back(Event::StateChanged(self.calls[idx].clone()));
            }
            _ => {}
        }
        if self.verdict_due_ms(&self.calls[idx]).is_some_and(|due| now_ms >= due) {
            if matches!(self.calls[idx].phase, Phase::Ringing { .. }) {
                self.send(Step::Leave { call: id, why: Why::NoVerdict });
            }
            self.end(idx, now_ms, Final::Failed, Side::Callee, None, Reason::NoVerdict);
        }
    }

    /// The next output, until `None`. Drain after every input; see [`Event`].
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // --- shared by the peer steps -------------------------------------------------------

    /// When a callee stops waiting for the caller's verdict: `verdict_wait_ms` after the
    /// later of the end of alerting (or leaving) and the line's coming up. Only while the
    /// line is up: a verdict cannot arrive over a line that is down.
    fn verdict_due_ms(&self, call: &Call) -> Option<u64> {
        let base = match call.phase {
            Phase::Ringing { alert_until_ms, .. } => alert_until_ms,
            Phase::Leaving { since_ms, .. } => since_ms,
            _ => return None,
        };
        Some(base.max(self.up_since_ms?).saturating_add(self.config.verdict_wait_ms))
    }

    pub(crate) fn index(&self, id: CallId) -> Option<usize> {
        self.calls.iter().position(|c| c.id == id)
    }

    pub(crate) fn live_index(&self) -> Option<usize> {
        self.calls.iter().rposition(Call::is_live)
    }

    /// Adds a call, first dropping the oldest calls that no longer hold the line.
    pub(crate) fn insert(&mut self, call: Call) -> usize {
        while self.calls.len() >= self.config.calls_history_max {
            let Some(oldest) = self.calls.iter().position(|c| !c.is_live()) else { break };
            self.calls.remove(oldest);
        }
        self.calls.push_back(call);
        self.calls.len() - 1
    }

    pub(crate) fn send(&mut self, step: Step) {
        self.events.push_back(Event::SendToPeer(step));
    }

    /// The callee leaves a call that has not connected: the consoles stop ringing, the
    /// caller is told and will settle it.
    pub(crate) fn leave(&mut self, idx: usize, now_ms: u64, why: Why) {
        let id = self.calls[idx].id;
        self.calls[idx].phase = Phase::Leaving { why: why.clone(), since_ms: now_ms };
        let operator = match &why {
            Why::Operator(name) => Some(name.clone()),
            _ => None,
        };
        let reason = Reason::of(&why);
        self.send(Step::Leave { call: id, why });
        self.record(idx, RecordKind::Leaving, now_ms, Side::Callee, operator, Some(reason));
    }

    /// Ends a call: records it, and stops the media if it was connected.
    pub(crate) fn end(
        &mut self,
        idx: usize,
        now_ms: u64,
        state: Final,
        by: Side,
        operator: Option<Operator>,
        reason: Reason,
    ) {
        let call = &mut self.calls[idx];
        debug_assert!(call.ending().is_none(), "a call ends once");
        let was_answered = call.phase == Phase::Answered;
        call.phase = Phase::Ended(Ending { state, by, operator: operator.clone(), reason, at_ms: now_ms });
        if was_answered {
            self.events.push_back(Event::StopMedia(call.id));
        }
        let kind = match state {
            Final::Declined => RecordKind::Declined,
            Final::Missed => RecordKind::Missed,
            Final::Cancelled => RecordKind::Cancelled,
            Final::Failed => RecordKind::Failed,
            Final::Ended => RecordKind::Ended,
        };
        self.record(idx, kind, now_ms, by, operator, Some(reason));
    }

    /// Writes a record entry for call `idx` as it now stands and tells the consoles.
    pub(crate) fn record(
        &mut self,
        idx: usize,
        kind: RecordKind,
        now_ms: u64,
        by: Side,
        operator: Option<Operator>,
        reason: Option<Reason>,
    ) {
        let call = self.calls[idx].clone();
        let station = if by == call.direction.our_side() { &self.config.station } else { &self.config.peer };
        self.events.push_back(Event::Record(RecordEntry {
            kind,
            call_id: call.id,
            direction: call.direction,
            at_ms: now_ms,
            station: station.clone(),
            operator,
            reason,
            call: Some(call.clone()),
        }));
        self.events.push_back(Event::StateChanged(call));
    }

    fn refused(&mut self, now_ms: u64, id: CallId, operator: Operator, reason: Reason) {
        self.events.push_back(Event::Record(RecordEntry {
            kind: RecordKind::Refused,
            call_id: id,
            direction: Direction::Out,
            at_ms: now_ms,
            station: self.config.station.clone(),
            operator: Some(operator),
            reason: Some(reason),
            call: None,
        }));
    }
}

/// Outgoing calls are `Calling` before they connect; incoming ones `Ringing`, `Leaving`
/// or `Superseded`. A restored call that breaks this is not ours.
fn phase_fits_direction(call: &Call) -> bool {
    match call.phase {
        Phase::Calling { .. } => call.direction == Direction::Out,
        Phase::Ringing { .. } | Phase::Leaving { .. } | Phase::Superseded => call.direction == Direction::In,
        Phase::Answered | Phase::Ended(_) => true,
    }
}
