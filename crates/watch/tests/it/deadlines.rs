//! Missed watch checks, overdue messages, line outages and absent watchkeepers raise
//! their alarms at both ends at the instant the policy says, escalate step by step with
//! the configured delays, and stop escalating when acknowledged — also across a restart.

use hotline_watch::{
    Action, Cause, Direction, LinePolicy, OpenAlarm, Policy, Precedence, Severity, Step, Watch, alarm_coalesce_ms,
};

const MIN: u64 = 60_000;
const T0: u64 = 1_800_000_000_000;

/// Console at once, supervisors' webhook after 2 min, the duty officer's e-mail after 5.
fn policy() -> Policy {
    let mut policy = Policy::default();
    let steps = vec![
        Step { after_ms: 0, target: 0 },
        Step { after_ms: 2 * MIN, target: 1 },
        Step { after_ms: 5 * MIN, target: 2 },
    ];
    policy.escalation.insert(Severity::Critical, steps);
    policy.escalation.insert(Severity::Warning, vec![Step { after_ms: MIN, target: 0 }]);
    policy.lines.insert("alpha".into(), LinePolicy::default());
    policy.lines.insert("bravo".into(), LinePolicy::default());
    assert_eq!(policy.check(), Ok(()));
    policy
}

/// One station's watch and everything it did, with the instant.
struct Station {
    watch: Watch,
    log: Vec<(u64, Action)>,
}

impl Station {
    fn new(peer: &str, now: u64) -> Station {
        Station { watch: Watch::new(policy(), &[peer.to_owned()], now), log: Vec::new() }
    }

    fn drain(&mut self, now: u64) {
        while let Some(action) = self.watch.poll_action() {
            self.log.push((now, action));
        }
    }

    fn raised(&self, key: &str) -> Vec<u64> {
        self.log
            .iter()
            .filter_map(|(t, a)| matches!(a, Action::Raise { cause, .. } if cause.key() == key).then_some(*t))
            .collect()
    }

    fn cleared(&self, key: &str) -> Vec<u64> {
        self.log
            .iter()
            .filter_map(|(t, a)| matches!(a, Action::Clear { cause, .. } if cause.key() == key).then_some(*t))
            .collect()
    }

    /// (instant, step, target) of every notification for the alarm `key`.
    fn notified(&self, key: &str) -> Vec<(u64, usize, usize)> {
        self.log
            .iter()
            .filter_map(|(t, a)| match a {
                Action::Notify { cause, step, target, .. } if cause.key() == key => Some((*t, *step, *target)),
                _ => None,
            })
            .collect()
    }
}

/// Advances both stations' time to `until`, stopping at every timer either one asked for,
/// so each action is logged at exactly the instant it became due.
fn run_until(stations: &mut [&mut Station], now: &mut u64, until: u64) {
    loop {
        let next = stations.iter().filter_map(|s| s.watch.poll_timeout()).filter(|t| *t <= until).min();
        let Some(t) = next else { break };
        assert!(t >= *now, "a timer in the past: {t} < {now}");
        *now = t;
        for s in stations.iter_mut() {
            s.watch.handle_timeout(t);
            s.drain(t);
        }
    }
    *now = until;
    for s in stations.iter_mut() {
        s.watch.handle_timeout(until);
        s.drain(until);
    }
}

fn both_up(alpha: &mut Station, bravo: &mut Station, now: u64) {
    alpha.watch.on_line_up("bravo", now);
    bravo.watch.on_line_up("alpha", now);
    alpha.drain(now);
    bravo.drain(now);
}

#[test]
fn a_missed_watch_check_raises_at_both_ends_and_escalates_in_order_until_acknowledged() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    let mut bravo = Station::new("alpha", now);
    both_up(&mut alpha, &mut bravo, now + 500);

    // The hourly check comes due at alpha exactly one interval after start.
    run_until(&mut [&mut alpha, &mut bravo], &mut now, T0 + 60 * MIN);
    let starts: Vec<u64> =
        alpha.log.iter().filter(|(_, a)| matches!(a, Action::StartWatchCheck { .. })).map(|(t, _)| *t).collect();
    assert_eq!(starts, vec![T0 + 60 * MIN]);
    let sent = now;
    let deadline = alpha.watch.on_check_sent("bravo", "check-1", sent);
    assert_eq!(deadline, sent + 5 * MIN);
    bravo.watch.on_check_received("alpha", "check-1", deadline); // arrives 40 ms later; same deadline

    // Nobody at bravo answers.
    run_until(&mut [&mut alpha, &mut bravo], &mut now, deadline + 4 * MIN);
    let ours = "watch_check_missed:bravo:out";
    let theirs = "watch_check_missed:alpha:in";
    assert_eq!(alpha.raised(ours), vec![deadline], "alpha raises at the deadline");
    assert_eq!(bravo.raised(theirs), vec![deadline], "bravo raises at the same instant");
    assert!(alpha.log.iter().any(|(t, a)| *t == deadline
        && matches!(a, Action::CheckMissed { check, direction: Direction::Out, .. } if check == "check-1")));
    assert_eq!(alpha.notified(ours), vec![(deadline, 0, 0), (deadline + 2 * MIN, 1, 1)]);
    assert_eq!(bravo.notified(theirs), vec![(deadline, 0, 0), (deadline + 2 * MIN, 1, 1)]);

    // An operator at alpha acknowledges the alarm: alpha's escalation stops before the
    // e-mail step; bravo's, unacknowledged, goes on to it.
    assert!(alpha.watch.on_acknowledged(ours));
    run_until(&mut [&mut alpha, &mut bravo], &mut now, deadline + 30 * MIN);
    assert_eq!(alpha.notified(ours).len(), 2, "no step after the acknowledgment");
    assert_eq!(bravo.notified(theirs), vec![(deadline, 0, 0), (deadline + 2 * MIN, 1, 1), (deadline + 5 * MIN, 2, 2)]);
    assert!(alpha.watch.alarm(ours).is_some_and(|a| a.acknowledged), "acknowledged is not cleared");

    // Bravo answers late: someone is there after all, so both alarms clear themselves.
    let answered = now;
    bravo.watch.on_check_answered("alpha", "check-1", Direction::In, answered);
    alpha.watch.on_check_answered("bravo", "check-1", Direction::Out, answered + 40);
    alpha.drain(answered + 40);
    bravo.drain(answered);
    assert_eq!(alpha.cleared(ours), vec![answered + 40]);
    assert_eq!(bravo.cleared(theirs), vec![answered]);
    assert!(alpha.watch.alarm(ours).is_none());
}

#[test]
fn an_answered_check_raises_nothing() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    let mut bravo = Station::new("alpha", now);
    both_up(&mut alpha, &mut bravo, now + 500);
    let deadline = alpha.watch.on_check_sent("bravo", "c", now + MIN);
    bravo.watch.on_check_received("alpha", "c", deadline);
    bravo.watch.on_check_answered("alpha", "c", Direction::In, now + 2 * MIN);
    alpha.watch.on_check_answered("bravo", "c", Direction::Out, now + 2 * MIN);
    run_until(&mut [&mut alpha, &mut bravo], &mut now, T0 + 59 * MIN);
    assert!(alpha.log.iter().chain(&bravo.log).all(|(_, a)| !matches!(a, Action::Raise { .. })), "{:?}", alpha.log);
}

#[test]
fn an_overdue_flash_raises_at_both_ends_and_clears_when_acknowledged() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    let mut bravo = Station::new("alpha", now);
    both_up(&mut alpha, &mut bravo, now + 500);
    let created = T0 + 10_000;
    alpha.watch.on_message("bravo", "m-flash", Precedence::Flash, Direction::Out, created);
    bravo.watch.on_message("alpha", "m-flash", Precedence::Flash, Direction::In, created);
    alpha.watch.on_message("bravo", "m-routine", Precedence::Routine, Direction::Out, created);
    bravo.watch.on_message("alpha", "m-routine", Precedence::Routine, Direction::In, created);

    run_until(&mut [&mut alpha, &mut bravo], &mut now, created + 3 * MIN);
    let key = "ack_overdue:bravo:out:FLASH";
    let bravo_key = "ack_overdue:alpha:in:FLASH";
    assert_eq!(alpha.raised(key), vec![created + 2 * MIN], "FLASH is due in 2 minutes");
    assert_eq!(bravo.raised(bravo_key), vec![created + 2 * MIN]);
    assert!(matches!(
        alpha.watch.alarm(key),
        Some(OpenAlarm { cause: Cause::AckOverdue { direction: Direction::Out, .. }, .. })
    ));
    assert_eq!(alpha.notified(key), vec![(created + 2 * MIN, 0, 0)]);
    assert!(alpha.raised("ack_overdue:bravo:out:ROUTINE").is_empty(), "ROUTINE is never chased");

    let acked = now;
    bravo.watch.on_message_acknowledged("alpha", "m-flash", acked);
    alpha.watch.on_message_acknowledged("bravo", "m-flash", acked + 40);
    bravo.drain(acked);
    alpha.drain(acked + 40);
    assert_eq!(bravo.cleared(bravo_key), vec![acked]);
    assert_eq!(alpha.cleared(key), vec![acked + 40]);
    run_until(&mut [&mut alpha, &mut bravo], &mut now, created + 60 * MIN);
    assert_eq!(alpha.notified(key), vec![(created + 2 * MIN, 0, 0)], "no steps after clearing");
    assert_eq!(bravo.notified(bravo_key), vec![(created + 2 * MIN, 0, 0)]);
}

#[test]
fn a_message_acknowledged_in_time_raises_nothing() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    alpha.watch.on_line_up("bravo", now);
    alpha.watch.on_message("bravo", "m", Precedence::Immediate, Direction::Out, now);
    alpha.watch.on_message_acknowledged("bravo", "m", now + 9 * MIN);
    run_until(&mut [&mut alpha], &mut now, T0 + 30 * MIN);
    assert!(alpha.raised("ack_overdue:bravo:out:IMMEDIATE").is_empty());
}

#[test]
fn a_restarted_station_keeps_its_deadlines_and_escalation_progress() {
    let mut now = T0;
    let mut before = Station::new("bravo", now);
    before.watch.on_line_up("bravo", now);
    let deadline = before.watch.on_check_sent("bravo", "c1", now + MIN);
    before.watch.on_message("bravo", "m1", Precedence::Flash, Direction::Out, now);
    run_until(&mut [&mut before], &mut now, T0 + 2 * MIN + 1);
    let flash_raised = T0 + 2 * MIN;
    let flash = "ack_overdue:bravo:out:FLASH";
    assert_eq!(before.raised(flash), vec![flash_raised]);
    let flash_steps = before.notified(flash).len();
    assert_eq!(flash_steps, 1);

    // Crash at T0 + 2 min; restart at T0 + 3 min from what the store kept.
    let restart = T0 + 3 * MIN;
    let mut after = Station::new("bravo", restart);
    after.watch.restore_check("bravo", "c1", Direction::Out, deadline);
    after.watch.restore_alarm(OpenAlarm {
        cause: Cause::AckOverdue { peer: "bravo".into(), precedence: Precedence::Flash, direction: Direction::Out },
        raised_ms: flash_raised,
        acknowledged: false,
        steps_done: flash_steps,
        count: 1,
        count_reported_ms: flash_raised,
    });
    // The store still holds the unacknowledged message; the first wake-up after the
    // restart finds it overdue again.
    after.watch.on_message("bravo", "m1", Precedence::Flash, Direction::Out, T0);
    after.watch.handle_timeout(restart);
    after.drain(restart);
    after.watch.on_line_up("bravo", restart + 200);
    let mut now = restart;
    run_until(&mut [&mut after], &mut now, T0 + 20 * MIN);
    assert_eq!(after.raised("watch_check_missed:bravo:out"), vec![deadline], "the pending check's deadline survives");
    assert!(after.raised(flash).is_empty(), "an open alarm is not raised twice");
    assert!(after.log.iter().all(|(_, a)| !matches!(a, Action::Update { .. })), "the count is unchanged");
    assert_eq!(
        after.notified(flash),
        vec![(flash_raised + 2 * MIN, 1, 1), (flash_raised + 5 * MIN, 2, 2)],
        "escalation resumes at the next step, at its original instant"
    );
}

#[test]
fn a_line_down_past_the_threshold_raises_and_clears_when_back() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    alpha.watch.on_line_up("bravo", now + 300);
    alpha.watch.on_line_down("bravo", now + 5_000);
    alpha.watch.on_line_up("bravo", now + 9_000); // 4 s outage: under the 10 s threshold
    alpha.watch.on_line_down("bravo", now + 20_000);
    run_until(&mut [&mut alpha], &mut now, T0 + 40_000);
    assert_eq!(alpha.raised("line_down:bravo"), vec![T0 + 30_000]);
    alpha.watch.on_line_up("bravo", now);
    alpha.drain(now);
    assert_eq!(alpha.cleared("line_down:bravo"), vec![T0 + 40_000]);
}

#[test]
fn scheduled_checks_wait_for_the_line() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    // Down from the start: the alarm speaks for it; no checks pile up meanwhile.
    run_until(&mut [&mut alpha], &mut now, T0 + 150 * MIN);
    assert!(alpha.log.iter().all(|(_, a)| !matches!(a, Action::StartWatchCheck { .. })));
    assert_eq!(alpha.raised("line_down:bravo"), vec![T0 + 10_000]);
    alpha.watch.on_line_up("bravo", now);
    run_until(&mut [&mut alpha], &mut now, T0 + 185 * MIN);
    let starts = alpha.log.iter().filter(|(_, a)| matches!(a, Action::StartWatchCheck { .. })).count();
    assert_eq!(starts, 1, "one check at the next interval after the line came back");
}

#[test]
fn nobody_on_watch_at_the_far_end_is_an_alarm_after_the_threshold() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    alpha.watch.on_line_up("bravo", now);
    alpha.watch.on_peer_presence("bravo", 0, T0 + MIN, T0 + MIN);
    assert_eq!(alpha.watch.nobody_on_watch_since("bravo"), Some(T0 + MIN));
    run_until(&mut [&mut alpha], &mut now, T0 + 20 * MIN);
    assert_eq!(alpha.raised("nobody_on_watch:bravo"), vec![T0 + 11 * MIN]);
    assert_eq!(alpha.notified("nobody_on_watch:bravo"), vec![(T0 + 12 * MIN, 0, 0)], "warning escalation");
    alpha.watch.on_peer_presence("bravo", 2, now, now);
    alpha.drain(now);
    assert_eq!(alpha.cleared("nobody_on_watch:bravo"), vec![now]);
}

#[test]
fn conditions_the_station_observes_are_raised_once_and_evidence_is_never_cleared_by_itself() {
    let mut alpha = Station::new("bravo", T0);
    alpha.watch.raise(Cause::Storage, T0);
    alpha.watch.raise(Cause::Storage, T0 + 1);
    alpha.watch.raise(Cause::RecordFork { peer: "bravo".into() }, T0 + 2);
    alpha.drain(T0 + 2);
    assert_eq!(alpha.raised("storage"), vec![T0 + 2]);
    alpha.watch.condition_ended(&Cause::Storage, T0 + 3);
    alpha.watch.condition_ended(&Cause::RecordFork { peer: "bravo".into() }, T0 + 3);
    alpha.drain(T0 + 3);
    assert_eq!(alpha.cleared("storage"), vec![T0 + 3]);
    assert!(alpha.cleared("record_fork:bravo").is_empty(), "a fork stays until a person clears it");
    assert!(alpha.watch.on_cleared("record_fork:bravo"));
    assert!(alpha.watch.alarm("record_fork:bravo").is_none());
}

/// What a station restores at start-up depends on it: precedences that have a deadline on
/// some line are tracked, the others need not be read back at all.
#[test]
fn precedences_with_a_deadline_on_any_line_are_the_tracked_ones() {
    let defaults = Watch::new(policy(), &["bravo".to_owned()], T0);
    assert!(!defaults.has_ack_deadline(Precedence::Routine));
    for p in [Precedence::Priority, Precedence::Immediate, Precedence::Flash] {
        assert!(defaults.has_ack_deadline(p), "{p:?}");
    }
    // One line that gives ROUTINE a deadline is enough.
    let mut strict = policy();
    let mut line = LinePolicy::default();
    line.ack_deadline_ms[Precedence::Routine as usize] = Some(24 * 60 * MIN);
    strict.lines.insert("charlie".into(), line);
    let watch = Watch::new(strict, &["bravo".to_owned(), "charlie".to_owned()], T0);
    assert!(watch.has_ack_deadline(Precedence::Routine));
}

/// #14.6: a peer that sends a stream of FLASH messages nobody acknowledges used to get a
/// critical alarm (and its escalation) per message. One alarm per line, direction and
/// precedence stands for all of them; its count is reported at most once per
/// `alarm_coalesce_ms`, and it clears with the last acknowledgment.
#[test]
fn overdue_messages_of_one_kind_are_one_alarm_whose_count_is_updated_at_most_once_per_interval() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    alpha.watch.on_line_up("bravo", now);
    let id = |n: u32| format!("m-{n:04}");
    for n in 0..500 {
        alpha.watch.on_message("bravo", &id(n), Precedence::Flash, Direction::In, T0);
    }
    run_until(&mut [&mut alpha], &mut now, T0 + 2 * MIN);
    let key = "ack_overdue:bravo:in:FLASH";
    let raises = alpha.log.iter().filter(|(_, a)| matches!(a, Action::Raise { .. })).count();
    assert_eq!(raises, 1, "500 overdue messages, one alarm");
    assert_eq!(alpha.raised(key), vec![T0 + 2 * MIN]);
    assert_eq!(alpha.notified(key), vec![(T0 + 2 * MIN, 0, 0)], "one escalation");
    let cause = Cause::AckOverdue { peer: "bravo".into(), precedence: Precedence::Flash, direction: Direction::In };
    let (count, first) = alpha.watch.overdue_messages(&cause, 3);
    assert_eq!((count, first), (500, vec![id(0), id(1), id(2)]));
    assert_eq!(alpha.watch.alarm(key).map(|a| a.count), Some(500));

    // One more every second for a minute: the count is reported every 10 s, not 60 times.
    let start = now;
    for n in 500..560u32 {
        let t = start + u64::from(n - 500) * 1000;
        run_until(&mut [&mut alpha], &mut now, t);
        alpha.watch.on_message("bravo", &id(n), Precedence::Flash, Direction::In, t - 2 * MIN);
    }
    run_until(&mut [&mut alpha], &mut now, start + 90_000);
    let updates: Vec<(u64, usize)> = alpha
        .log
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Update { count, .. } => Some((*t, *count)),
            _ => None,
        })
        .collect();
    assert!(updates.windows(2).all(|w| w[1].0 - w[0].0 >= alarm_coalesce_ms), "{updates:?}");
    assert!((5..=7).contains(&updates.len()), "{updates:?}");
    assert_eq!(updates.last().map(|u| u.1), Some(560), "the last report has the final count");
    assert_eq!(alpha.raised(key).len(), 1, "still one alarm");
    assert_eq!(alpha.notified(key).len(), 1, "and one escalation");

    // Acknowledged one by one: the last acknowledgment clears it.
    for n in 0..559 {
        alpha.watch.on_message_acknowledged("bravo", &id(n), now);
    }
    alpha.drain(now);
    assert!(alpha.cleared(key).is_empty(), "one message is still overdue");
    alpha.watch.on_message_acknowledged("bravo", &id(559), now);
    alpha.drain(now);
    assert_eq!(alpha.cleared(key), vec![now]);
    assert_eq!(alpha.watch.poll_timeout(), Some(T0 + 60 * MIN), "nothing pending but the hourly check");
}

/// A person who clears the coalesced alarm has seen those messages: they do not raise it
/// again; a message that becomes overdue afterwards does.
#[test]
fn a_cleared_overdue_alarm_is_raised_again_only_by_a_newly_overdue_message() {
    let mut now = T0;
    let mut alpha = Station::new("bravo", now);
    alpha.watch.on_line_up("bravo", now);
    for n in 0..3 {
        alpha.watch.on_message("bravo", &format!("m{n}"), Precedence::Immediate, Direction::Out, T0);
    }
    run_until(&mut [&mut alpha], &mut now, T0 + 11 * MIN);
    let key = "ack_overdue:bravo:out:IMMEDIATE";
    assert_eq!(alpha.raised(key), vec![T0 + 10 * MIN]);
    assert!(alpha.watch.on_cleared(key));
    run_until(&mut [&mut alpha], &mut now, T0 + 30 * MIN);
    assert_eq!(alpha.raised(key).len(), 1, "not raised again for the same messages");
    alpha.watch.on_message("bravo", "m9", Precedence::Immediate, Direction::Out, now);
    run_until(&mut [&mut alpha], &mut now, T0 + 45 * MIN);
    assert_eq!(alpha.raised(key), vec![T0 + 10 * MIN, T0 + 40 * MIN]);
    let cause =
        Cause::AckOverdue { peer: "bravo".into(), precedence: Precedence::Immediate, direction: Direction::Out };
    assert_eq!(alpha.watch.overdue_messages(&cause, 10), (1, vec!["m9".to_owned()]));
}

/// After a restart, an overdue alarm whose messages were all acknowledged while the
/// station was down (so none is restored) clears itself instead of staying open.
#[test]
fn a_restored_overdue_alarm_with_nothing_overdue_clears_itself() {
    let now = T0;
    let mut after = Station::new("bravo", now);
    let cause = Cause::AckOverdue { peer: "bravo".into(), precedence: Precedence::Flash, direction: Direction::In };
    after.watch.restore_alarm(OpenAlarm {
        cause: cause.clone(),
        raised_ms: T0 - MIN,
        acknowledged: false,
        steps_done: 1,
        count: 4,
        count_reported_ms: T0 - MIN,
    });
    after.watch.handle_timeout(now);
    after.drain(now);
    assert_eq!(after.cleared(&cause.key()), vec![T0]);
}

/// A line added while the station runs is watched from then on (its outage raises after
/// the threshold counted from the addition); a line removed is no longer watched, and its
/// line-down alarm ends with it.
#[test]
fn a_line_added_while_running_is_watched_and_a_removed_one_is_forgotten() {
    let mut now = T0;
    let mut station = Station { watch: Watch::new(policy(), &[], now), log: Vec::new() };
    run_until(&mut [&mut station], &mut now, T0 + 60_000);
    assert!(station.raised("line_down:bravo").is_empty(), "no line, no alarm");
    station.watch.add_line("bravo", now);
    assert_eq!(station.watch.lines().collect::<Vec<_>>(), vec!["bravo"]);
    run_until(&mut [&mut station], &mut now, T0 + 80_000);
    assert_eq!(station.raised("line_down:bravo"), vec![T0 + 70_000], "10 s after it was added");
    // Added again: the watch it has is kept (the outage still counts from before).
    station.watch.add_line("bravo", now);
    assert!(station.watch.alarm("line_down:bravo").is_some());
    station.watch.remove_line("bravo", now);
    station.drain(now);
    assert_eq!(station.cleared("line_down:bravo"), vec![T0 + 80_000]);
    assert_eq!(station.watch.lines().count(), 0);
    run_until(&mut [&mut station], &mut now, T0 + 200_000);
    assert_eq!(station.raised("line_down:bravo").len(), 1, "a removed line raises nothing more");
}
