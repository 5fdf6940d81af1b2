//! The scheduler: deadlines in, alarms and escalations out.
//!
//! The driving rule is the same as for `proto::Line`: after telling the watch anything
//! (an `on_*`/`restore_*` call or [`Watch::handle_timeout`]), drain [`Watch::poll_action`]
//! and sleep until [`Watch::poll_timeout`]. Every instant is wall-clock milliseconds
//! passed in by the caller; deadlines are absolute, so the same store rebuilt after a
//! restart gives the same instants.
//!
//! Alarms are identified by [`Cause::key`]. The watch keeps the open ones (raised, not
//! yet cleared) with their escalation progress: step `i` of the alarm's severity fires at
//! `raised + steps[i].after_ms` unless an operator acknowledged the alarm first. A cause
//! that ends by itself (the line is back, the message was acknowledged) clears its alarm;
//! a person may clear any alarm, after which the condition may raise it again only when
//! it newly occurs.
//!
//! Overdue messages are coalesced: one alarm per line, direction and precedence stands for
//! every message of that kind that is overdue, with their count. The count is reported
//! again ([`Action::Update`]) when it changes, at most once per [`alarm_coalesce_ms`], so a
//! peer sending a stream of urgent messages costs us one alarm, one escalation and one
//! update every few seconds — not an alarm, a record entry and a page per message.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::cause::{Cause, Direction, Precedence};
use crate::policy::{LinePolicy, Policy};

/// The shortest time between two reports of a coalesced alarm's changed count: the
/// alarm is updated at most this often, whatever the peer does.
#[allow(non_upper_case_globals)]
pub const alarm_coalesce_ms: u64 = 10_000;

/// What the station must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A scheduled watch check on this line is due: send one, then call
    /// [`Watch::on_check_sent`].
    StartWatchCheck { peer: String },
    /// A watch check passed its deadline unanswered (recorded once per check).
    CheckMissed { peer: String, check: String, direction: Direction, deadline_ms: u64 },
    /// Raise this alarm; the watch holds it open from now. For overdue messages
    /// [`Watch::overdue_messages`] says how many and which.
    Raise { cause: Cause, at_ms: u64 },
    /// An open coalesced alarm now stands for `count` overdue messages (reported at most
    /// once per [`alarm_coalesce_ms`]); its escalation goes on as it was.
    Update { cause: Cause, count: usize, at_ms: u64 },
    /// The condition ended by itself: clear the alarm.
    Clear { cause: Cause, at_ms: u64 },
    /// Escalation step `step` (0-based) of the alarm is due: notify `target`.
    Notify { cause: Cause, step: usize, target: usize, at_ms: u64 },
}

/// An open alarm as the watch sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAlarm {
    pub cause: Cause,
    pub raised_ms: u64,
    /// An operator acknowledged it: escalation has stopped.
    pub acknowledged: bool,
    /// Escalation steps already notified.
    pub steps_done: usize,
    /// How many occurrences of its condition the alarm stands for, as last reported
    /// (overdue messages; 1 for every other cause).
    pub count: usize,
    /// When `count` was last reported (raised or updated).
    pub count_reported_ms: u64,
}

#[derive(Debug)]
struct LineWatch {
    policy: LinePolicy,
    up: bool,
    /// Since when the line has not been up; `None` while up.
    down_since_ms: Option<u64>,
    /// The current outage has raised its alarm already.
    down_alarmed: bool,
    next_check_ms: Option<u64>,
    /// Watch checks awaiting an answer: id → (who must answer, deadline).
    checks: BTreeMap<String, (Direction, u64)>,
    /// Messages awaiting acknowledgment: id → (direction, precedence, deadline).
    acks: BTreeMap<String, (Direction, Precedence, u64)>,
    /// Messages past their deadline and still unacknowledged, per (direction, precedence):
    /// each non-empty set is one open `AckOverdue` alarm. A message moves here from `acks`.
    overdue: BTreeMap<(Direction, Precedence), BTreeSet<String>>,
    /// Since when the peer has reported nobody on watch.
    nobody_since_ms: Option<u64>,
    nobody_alarmed: bool,
}

impl LineWatch {
    /// A line watched from `now_ms`: not up yet, so its line-down threshold runs from now.
    fn new(policy: LinePolicy, now_ms: u64) -> LineWatch {
        let next_check_ms = policy.check_interval_ms.map(|i| now_ms + i);
        LineWatch {
            policy,
            up: false,
            down_since_ms: Some(now_ms),
            down_alarmed: false,
            next_check_ms,
            checks: BTreeMap::new(),
            acks: BTreeMap::new(),
            overdue: BTreeMap::new(),
            nobody_since_ms: None,
            nobody_alarmed: false,
        }
    }
}

/// The watch of one station over all its lines.
#[derive(Debug)]
pub struct Watch {
    policy: Policy,
    lines: BTreeMap<String, LineWatch>,
    alarms: BTreeMap<String, OpenAlarm>,
    actions: VecDeque<Action>,
}

impl Watch {
    /// A watch over `peers`, all of them not (yet) up since `now_ms`, with the first
    /// scheduled check one interval from now.
    pub fn new(policy: Policy, peers: &[String], now_ms: u64) -> Watch {
        let lines = peers.iter().map(|peer| (peer.clone(), LineWatch::new(policy.line(peer), now_ms))).collect();
        Watch { policy, lines, alarms: BTreeMap::new(), actions: VecDeque::new() }
    }

    /// A line added while the station runs: watched from `now_ms` as a line at start-up
    /// is (not up yet, its line-down threshold running, its first check an interval
    /// away). A line already watched is left as it is.
    pub fn add_line(&mut self, peer: &str, now_ms: u64) {
        if !self.lines.contains_key(peer) {
            self.lines.insert(peer.to_owned(), LineWatch::new(self.policy.line(peer), now_ms));
        }
    }

    /// A line removed while the station runs: no longer watched. The alarms whose
    /// condition was the line's state (down, nobody on watch) end with it; the others
    /// (missed checks, overdue messages, evidence) stay for a person to clear. Its pending
    /// checks and acknowledgment deadlines go: nobody can answer them on a line that is
    /// gone, and their history is in the record.
    pub fn remove_line(&mut self, peer: &str, now_ms: u64) {
        if self.lines.remove(peer).is_none() {
            return;
        }
        for cause in [Cause::LineDown { peer: peer.to_owned() }, Cause::NobodyOnWatch { peer: peer.to_owned() }] {
            self.clear_if_open(&cause, now_ms);
        }
    }

    /// The lines watched, by peer name.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.keys().map(String::as_str)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The deadlines of `peer`'s line (the default for an unknown line).
    pub fn line_policy(&self, peer: &str) -> LinePolicy {
        self.lines.get(peer).map_or_else(|| self.policy.line(peer), |l| l.policy.clone())
    }

    // --- what happened -----------------------------------------------------------------

    pub fn on_line_up(&mut self, peer: &str, now_ms: u64) {
        let Some(line) = self.lines.get_mut(peer) else { return };
        line.up = true;
        line.down_since_ms = None;
        line.down_alarmed = false;
        self.clear_if_open(&Cause::LineDown { peer: peer.to_owned() }, now_ms);
    }

    pub fn on_line_down(&mut self, peer: &str, now_ms: u64) {
        let Some(line) = self.lines.get_mut(peer) else { return };
        if line.up {
            line.up = false;
            line.down_since_ms = Some(now_ms);
        }
    }

    /// We sent watch check `id` at `now_ms`; returns its deadline, which travels with it.
    pub fn on_check_sent(&mut self, peer: &str, id: &str, now_ms: u64) -> u64 {
        let policy = self.line_policy(peer);
        let deadline_ms = now_ms + policy.check_deadline_ms;
        if let Some(line) = self.lines.get_mut(peer) {
            line.checks.insert(id.to_owned(), (Direction::Out, deadline_ms));
            line.next_check_ms = policy.check_interval_ms.map(|i| now_ms + i);
        }
        deadline_ms
    }

    /// The peer's watch check `id` arrived; an operator here must answer by `deadline_ms`.
    pub fn on_check_received(&mut self, peer: &str, id: &str, deadline_ms: u64) {
        self.restore_check(peer, id, Direction::In, deadline_ms);
    }

    /// Watch check `id` was answered (by the peer for `Out`, by us for `In`), in time or
    /// late: either way someone is there, so a missed-check alarm of that kind clears.
    pub fn on_check_answered(&mut self, peer: &str, id: &str, direction: Direction, now_ms: u64) {
        if let Some(line) = self.lines.get_mut(peer) {
            line.checks.remove(id);
        }
        self.clear_if_open(&Cause::WatchCheckMissed { peer: peer.to_owned(), direction }, now_ms);
    }

    /// A message that must be acknowledged: sent by us (`Out`) or received (`In`), created
    /// at `created_ms` by the sender's clock. Precedences without a deadline are ignored.
    pub fn on_message(&mut self, peer: &str, id: &str, precedence: Precedence, direction: Direction, created_ms: u64) {
        let Some(line) = self.lines.get_mut(peer) else { return };
        if let Some(deadline) = line.policy.ack_deadline(precedence) {
            line.acks.insert(id.to_owned(), (direction, precedence, created_ms + deadline));
        }
    }

    /// Does any line give messages of `precedence` an acknowledgment deadline? Messages of
    /// other precedences need not be reported (a station restoring its unacknowledged
    /// messages at start-up skips them).
    pub fn has_ack_deadline(&self, precedence: Precedence) -> bool {
        self.lines.values().any(|l| l.policy.ack_deadline(precedence).is_some())
    }

    /// Message `id` was acknowledged (here or by the peer). The last overdue message of
    /// its kind clears the alarm; an earlier one lowers its count.
    pub fn on_message_acknowledged(&mut self, peer: &str, id: &str, now_ms: u64) {
        let Some(line) = self.lines.get_mut(peer) else { return };
        // Pending or overdue; looked for in both, so no set can keep an acknowledged id.
        line.acks.remove(id);
        let Some((&(direction, precedence), ids)) = line.overdue.iter_mut().find(|(_, ids)| ids.contains(id)) else {
            return;
        };
        ids.remove(id);
        if ids.is_empty() {
            line.overdue.remove(&(direction, precedence));
            self.clear_if_open(&Cause::AckOverdue { peer: peer.to_owned(), precedence, direction }, now_ms);
        }
    }

    /// How many messages the overdue alarm `cause` stands for now, and the ids of at most
    /// `ids_max` of them, oldest id first (ids are UUIDv7, so by creation).
    pub fn overdue_messages(&self, cause: &Cause, ids_max: usize) -> (usize, Vec<String>) {
        let Cause::AckOverdue { peer, precedence, direction } = cause else { return (0, Vec::new()) };
        let ids = self.lines.get(peer).and_then(|l| l.overdue.get(&(*direction, *precedence)));
        ids.map_or((0, Vec::new()), |ids| (ids.len(), ids.iter().take(ids_max).cloned().collect()))
    }

    /// The peer reports `on_watch` operators on watch, as of `since_ms`.
    pub fn on_peer_presence(&mut self, peer: &str, on_watch: u32, since_ms: u64, now_ms: u64) {
        let Some(line) = self.lines.get_mut(peer) else { return };
        if on_watch == 0 {
            if line.nobody_since_ms.is_none() {
                line.nobody_since_ms = Some(since_ms);
            }
        } else {
            line.nobody_since_ms = None;
            line.nobody_alarmed = false;
            self.clear_if_open(&Cause::NobodyOnWatch { peer: peer.to_owned() }, now_ms);
        }
    }

    /// A condition the station observed itself (key mismatch, fork, storage, low disk):
    /// raised unless already open.
    pub fn raise(&mut self, cause: Cause, now_ms: u64) {
        self.raise_if_closed(cause, now_ms);
    }

    /// A condition the station observed has ended (storage writes again, disk space back).
    pub fn condition_ended(&mut self, cause: &Cause, now_ms: u64) {
        if cause.clears_itself() {
            self.clear_if_open(cause, now_ms);
        }
    }

    /// An operator acknowledged the alarm: escalation stops. Returns whether it was open.
    pub fn on_acknowledged(&mut self, key: &str) -> bool {
        match self.alarms.get_mut(key) {
            Some(alarm) => {
                alarm.acknowledged = true;
                true
            }
            None => false,
        }
    }

    /// A person cleared the alarm. Returns whether it was open. The messages an overdue
    /// alarm stood for are no longer chased: only messages that become overdue after it
    /// raise it again.
    pub fn on_cleared(&mut self, key: &str) -> bool {
        let Some(alarm) = self.alarms.remove(key) else { return false };
        if let Cause::AckOverdue { peer, precedence, direction } = &alarm.cause
            && let Some(line) = self.lines.get_mut(peer)
        {
            line.overdue.remove(&(*direction, *precedence));
        }
        true
    }

    // --- restoring after a restart ------------------------------------------------------

    /// An alarm that was open when the station stopped.
    pub fn restore_alarm(&mut self, alarm: OpenAlarm) {
        let steps = self.policy.steps(alarm.cause.severity()).len();
        let alarm = OpenAlarm { steps_done: alarm.steps_done.min(steps), ..alarm };
        if let Some(peer) = alarm.cause.peer()
            && let Some(line) = self.lines.get_mut(peer)
        {
            match alarm.cause {
                Cause::LineDown { .. } => line.down_alarmed = true,
                Cause::NobodyOnWatch { .. } => line.nobody_alarmed = true,
                _ => {}
            }
        }
        self.alarms.insert(alarm.cause.key(), alarm);
    }

    /// A watch check still awaiting its answer.
    pub fn restore_check(&mut self, peer: &str, id: &str, direction: Direction, deadline_ms: u64) {
        if let Some(line) = self.lines.get_mut(peer) {
            line.checks.insert(id.to_owned(), (direction, deadline_ms));
        }
    }

    /// When the last scheduled-or-not check of ours went out, so the schedule continues.
    pub fn restore_last_check_sent(&mut self, peer: &str, sent_ms: u64) {
        if let Some(line) = self.lines.get_mut(peer) {
            line.next_check_ms = line.policy.check_interval_ms.map(|i| sent_ms + i);
        }
    }

    // --- time ---------------------------------------------------------------------------

    /// Fires everything due at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let mut raise = Vec::new();
        for (peer, line) in &mut self.lines {
            if let Some(since) = line.down_since_ms
                && !line.down_alarmed
                && since + line.policy.line_down_alarm_ms <= now_ms
            {
                line.down_alarmed = true;
                raise.push(Cause::LineDown { peer: peer.clone() });
            }
            let due: Vec<String> =
                line.checks.iter().filter(|(_, (_, deadline))| *deadline <= now_ms).map(|(id, _)| id.clone()).collect();
            for id in due {
                if let Some((direction, deadline_ms)) = line.checks.remove(&id) {
                    self.actions.push_back(Action::CheckMissed {
                        peer: peer.clone(),
                        check: id,
                        direction,
                        deadline_ms,
                    });
                    raise.push(Cause::WatchCheckMissed { peer: peer.clone(), direction });
                }
            }
            let overdue: Vec<String> = line
                .acks
                .iter()
                .filter(|(_, (_, _, deadline))| *deadline <= now_ms)
                .map(|(id, _)| id.clone())
                .collect();
            for id in overdue {
                if let Some((direction, precedence, _)) = line.acks.remove(&id) {
                    line.overdue.entry((direction, precedence)).or_default().insert(id);
                }
            }
            if let Some(at) = line.next_check_ms
                && at <= now_ms
            {
                let interval = line.policy.check_interval_ms.unwrap_or(u64::MAX / 4);
                // Never let a long outage queue a burst of checks: one per interval, and
                // none while the line is down (the line-down alarm speaks for it).
                line.next_check_ms = Some(now_ms + interval);
                if line.up {
                    self.actions.push_back(Action::StartWatchCheck { peer: peer.clone() });
                }
            }
            if let Some(since) = line.nobody_since_ms
                && !line.nobody_alarmed
                && since + line.policy.nobody_on_watch_alarm_ms <= now_ms
            {
                line.nobody_alarmed = true;
                raise.push(Cause::NobodyOnWatch { peer: peer.clone() });
            }
        }
        for cause in raise {
            self.raise_if_closed(cause, now_ms);
        }
        self.report_overdue(now_ms);
        self.escalate(now_ms);
    }

    /// The next instant anything is due, if anything is pending.
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut next: Option<u64> = None;
        let mut consider = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        for line in self.lines.values() {
            if let Some(since) = line.down_since_ms
                && !line.down_alarmed
            {
                consider(since + line.policy.line_down_alarm_ms);
            }
            line.checks.values().for_each(|(_, d)| consider(*d));
            line.acks.values().for_each(|(_, _, d)| consider(*d));
            if let Some(at) = line.next_check_ms {
                consider(at);
            }
            if let Some(since) = line.nobody_since_ms
                && !line.nobody_alarmed
            {
                consider(since + line.policy.nobody_on_watch_alarm_ms);
            }
        }
        for alarm in self.alarms.values() {
            if let Some(at) = self.next_step_ms(alarm) {
                consider(at);
            }
            if self.overdue_count(&alarm.cause).is_some_and(|n| n != alarm.count) {
                consider(alarm.count_reported_ms + alarm_coalesce_ms);
            }
        }
        next
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    // --- reading ------------------------------------------------------------------------

    pub fn alarm(&self, key: &str) -> Option<&OpenAlarm> {
        self.alarms.get(key)
    }

    pub fn open_alarms(&self) -> impl Iterator<Item = &OpenAlarm> {
        self.alarms.values()
    }

    /// Watch checks of `peer`'s line awaiting an answer, with direction and deadline.
    pub fn pending_checks(&self, peer: &str) -> Vec<(String, Direction, u64)> {
        self.lines
            .get(peer)
            .map(|l| l.checks.iter().map(|(id, (d, t))| (id.clone(), *d, *t)).collect())
            .unwrap_or_default()
    }

    /// Since when the peer has reported nobody on watch, if it does.
    pub fn nobody_on_watch_since(&self, peer: &str) -> Option<u64> {
        self.lines.get(peer).and_then(|l| l.nobody_since_ms)
    }

    // --- inside -------------------------------------------------------------------------

    fn raise_if_closed(&mut self, cause: Cause, now_ms: u64) {
        let key = cause.key();
        if self.alarms.contains_key(&key) {
            return;
        }
        let count = self.overdue_count(&cause).unwrap_or(1);
        let alarm = OpenAlarm {
            cause: cause.clone(),
            raised_ms: now_ms,
            acknowledged: false,
            steps_done: 0,
            count,
            count_reported_ms: now_ms,
        };
        self.alarms.insert(key, alarm);
        self.actions.push_back(Action::Raise { cause, at_ms: now_ms });
    }

    /// How many messages are overdue for an `AckOverdue` cause; `None` for other causes.
    fn overdue_count(&self, cause: &Cause) -> Option<usize> {
        let Cause::AckOverdue { peer, precedence, direction } = cause else { return None };
        Some(self.lines.get(peer).and_then(|l| l.overdue.get(&(*direction, *precedence))).map_or(0, BTreeSet::len))
    }

    /// Raises an alarm for each kind of overdue message that has none open, and reports a
    /// changed count of an open one once [`alarm_coalesce_ms`] has passed since its last
    /// report.
    fn report_overdue(&mut self, now_ms: u64) {
        let mut new = Vec::new();
        for (peer, line) in &self.lines {
            for (&(direction, precedence), ids) in &line.overdue {
                let cause = Cause::AckOverdue { peer: peer.clone(), precedence, direction };
                match self.alarms.get_mut(&cause.key()) {
                    None => new.push(cause),
                    Some(alarm)
                        if alarm.count != ids.len() && alarm.count_reported_ms + alarm_coalesce_ms <= now_ms =>
                    {
                        alarm.count = ids.len();
                        alarm.count_reported_ms = now_ms;
                        self.actions.push_back(Action::Update { cause, count: ids.len(), at_ms: now_ms });
                    }
                    Some(_) => {}
                }
            }
        }
        for cause in new {
            self.raise_if_closed(cause, now_ms);
        }
        // An alarm restored after a restart whose messages were all acknowledged meanwhile
        // (none is overdue any more): its condition has ended.
        let ended: Vec<Cause> =
            self.alarms.values().filter(|a| self.overdue_count(&a.cause) == Some(0)).map(|a| a.cause.clone()).collect();
        for cause in ended {
            self.clear_if_open(&cause, now_ms);
        }
    }

    fn clear_if_open(&mut self, cause: &Cause, now_ms: u64) {
        if let Some(alarm) = self.alarms.remove(&cause.key()) {
            self.actions.push_back(Action::Clear { cause: alarm.cause, at_ms: now_ms });
        }
    }

    fn next_step_ms(&self, alarm: &OpenAlarm) -> Option<u64> {
        if alarm.acknowledged {
            return None;
        }
        let steps = self.policy.steps(alarm.cause.severity());
        steps.get(alarm.steps_done).map(|s| alarm.raised_ms + s.after_ms)
    }

    fn escalate(&mut self, now_ms: u64) {
        for alarm in self.alarms.values_mut() {
            if alarm.acknowledged {
                continue;
            }
            let steps = self.policy.steps(alarm.cause.severity());
            while let Some(step) = steps.get(alarm.steps_done)
                && alarm.raised_ms + step.after_ms <= now_ms
            {
                self.actions.push_back(Action::Notify {
                    cause: alarm.cause.clone(),
                    step: alarm.steps_done,
                    target: step.target,
                    at_ms: now_ms,
                });
                alarm.steps_done += 1;
            }
            assert!(alarm.steps_done <= steps.len(), "escalation went past its last step");
        }
    }
}
