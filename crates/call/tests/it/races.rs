//! The races by name: what happens when two things cross on the line, when the line is
//! cut, when a station restarts, when both sides call at once, when a ring is late.

use expect_test::expect;

use crate::kit::{ALPHA, BRAVO, Pair, T0, id, op};

/// Alpha's `ana` calls bravo (call `n`), and the ring arrives.
fn ringing(n: u64) -> Pair {
    let mut p = Pair::new();
    p.s[ALPHA].line.start(p.now, id(n), op("ana")).expect("start");
    p.drain();
    p.deliver(ALPHA);
    p.take_log();
    p
}

fn answered() -> Pair {
    let mut p = ringing(1);
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    p.settle();
    p.take_log();
    p
}

#[test]
fn answer_vs_cancel_the_caller_settles_first_come() {
    let mut p = ringing(1);
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.s[ALPHA].line.hangup(p.now, id(1), op("ana")).expect("hangup");
    p.drain();
    p.settle();
    expect![[r#"
        alpha: send verdict #1 cancelled by ana
        alpha: record call.cancelled #1 by alpha/ana (operator)
        bravo: send answer #1 by bo
        bravo: record call.answering #1 by bravo/bo
        bravo: record call.cancelled #1 by alpha/ana (operator)"#]]
    .assert_eq(&p.take_log());
    expect!["alpha cancelled (operator, by Caller); bravo cancelled (operator, by Caller)"].assert_eq(&p.states(id(1)));
    assert!(p.s.iter().all(|s| s.media.is_empty()), "nobody started media");
}

#[test]
fn answer_reaching_the_caller_before_its_hangup_connects_then_ends() {
    let mut p = ringing(1);
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    p.deliver(BRAVO);
    p.s[ALPHA].line.hangup(p.now, id(1), op("ana")).expect("the call is answered now");
    p.drain();
    p.settle();
    expect!["alpha ended (operator, by Caller); bravo ended (operator, by Caller)"].assert_eq(&p.states(id(1)));
}

#[test]
fn hangup_from_both_ends_at_once() {
    let mut p = answered();
    p.s[ALPHA].line.hangup(p.now, id(1), op("ana")).expect("hangup");
    p.s[BRAVO].line.hangup(p.now, id(1), op("bo")).expect("hangup");
    p.drain();
    p.settle();
    // Both ended; each end names the operator whose hang-up it saw first (its own).
    expect!["alpha ended (operator, by Caller); bravo ended (operator, by Callee)"].assert_eq(&p.states(id(1)));
    assert!(p.s.iter().all(|s| s.media.is_empty()));
}

#[test]
fn line_cut_while_ringing_both_ends_notice() {
    let mut p = ringing(1);
    p.line_down(ALPHA);
    p.line_down(BRAVO);
    expect!["alpha failed (line_lost, by Caller); bravo ringing"].assert_eq(&p.states(id(1)));
    assert!(!p.s[BRAVO].line.call(id(1)).expect("call").alerting(), "the callee stops ringing at once");
    p.now += 30_000;
    p.line_up();
    p.settle();
    expect![[r#"
        alpha: send verdict #1 failed (line_lost, by Caller)
        alpha: record call.failed #1 by alpha (line_lost)
        bravo: send leave #1 (line_lost)
        bravo: record call.leaving #1 by bravo (line_lost)
        bravo: record call.failed #1 by alpha (line_lost)"#]]
    .assert_eq(&p.take_log());
    expect!["alpha failed (line_lost, by Caller); bravo failed (line_lost, by Caller)"].assert_eq(&p.states(id(1)));
}

#[test]
fn line_cut_while_ringing_only_the_callee_notices() {
    let mut p = ringing(1);
    p.line_down(BRAVO);
    p.line_up();
    p.settle();
    expect!["alpha failed (line_lost, by Callee); bravo failed (line_lost, by Callee)"].assert_eq(&p.states(id(1)));
}

#[test]
fn line_cut_while_ringing_with_the_answer_on_its_way() {
    let mut p = ringing(1);
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    p.line_down(BRAVO); // The answer is sent; the cut comes before the connect.
    p.line_up();
    p.settle();
    // Alpha connected the answer, then saw bravo leave: the call was answered, then ended.
    expect!["alpha ended (line_lost, by Callee); bravo ended (line_lost, by Callee)"].assert_eq(&p.states(id(1)));
    assert!(p.s.iter().all(|s| s.media.is_empty()), "bravo never started media for it");
    let answered_by = |s: usize| p.s[s].line.call(id(1)).and_then(|c| c.answered_by.clone());
    assert_eq!((answered_by(ALPHA), answered_by(BRAVO)), (Some(op("bo")), Some(op("bo"))));
}

#[test]
fn line_cut_while_talking() {
    let mut p = answered();
    p.line_down(ALPHA);
    p.line_down(BRAVO);
    assert!(p.s.iter().all(|s| s.media.is_empty()), "media stops at both ends at once");
    p.line_up();
    p.settle();
    expect!["alpha ended (line_lost, by Caller); bravo ended (line_lost, by Callee)"].assert_eq(&p.states(id(1)));
}

#[test]
fn restart_of_the_caller_while_ringing() {
    let mut p = ringing(1);
    p.line_down(BRAVO);
    p.restart(ALPHA);
    p.line_up();
    p.settle();
    // Bravo's leave (line lost) and alpha's failure (restarted) cross; alpha settles.
    expect!["alpha failed (restarted, by Caller); bravo failed (restarted, by Caller)"].assert_eq(&p.states(id(1)));
}

#[test]
fn restart_of_the_callee_while_ringing() {
    let mut p = ringing(1);
    p.line_down(ALPHA);
    p.restart(BRAVO);
    p.line_up();
    p.settle();
    expect!["alpha failed (line_lost, by Caller); bravo failed (line_lost, by Caller)"].assert_eq(&p.states(id(1)));
    // Had alpha not noticed the cut, bravo's restart would fail it.
    let mut p = ringing(2);
    p.restart(BRAVO);
    p.line_up();
    p.settle();
    expect!["alpha failed (restarted, by Callee); bravo failed (restarted, by Callee)"].assert_eq(&p.states(id(2)));
}

#[test]
fn restart_of_either_station_while_talking() {
    for who in [ALPHA, BRAVO] {
        let mut p = answered();
        p.line_down(1 - who);
        p.restart(who);
        p.line_up();
        p.settle();
        let states = p.states(id(1));
        if who == ALPHA {
            expect!["alpha ended (restarted, by Caller); bravo ended (line_lost, by Callee)"].assert_eq(&states);
        } else {
            expect!["alpha ended (line_lost, by Caller); bravo ended (restarted, by Callee)"].assert_eq(&states);
        }
        assert!(p.s.iter().all(|s| s.media.is_empty()));
    }
}

#[test]
fn restart_of_the_callee_with_its_answer_on_its_way() {
    let mut p = ringing(1);
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    p.restart(BRAVO);
    p.line_up();
    p.settle();
    expect!["alpha ended (restarted, by Callee); bravo ended (restarted, by Callee)"].assert_eq(&p.states(id(1)));
    assert!(p.s.iter().all(|s| s.media.is_empty()));
}

#[test]
fn glare_settles_on_the_lower_id_at_both_ends() {
    let mut p = Pair::new();
    p.s[ALPHA].line.start(p.now, id(7), op("ana")).expect("start");
    p.s[BRAVO].line.start(p.now, id(5), op("bo")).expect("start");
    p.drain();
    p.settle();
    expect![[r#"
        alpha: send ring #7 from ana
        alpha: record call.started #7 by alpha/ana
        bravo: send ring #5 from bo
        bravo: record call.started #5 by bravo/bo
        bravo: record call.superseded #7 by alpha/ana (glare)
        alpha: send verdict #7 glare
        alpha: record call.cancelled #7 by alpha (glare)
        alpha: record call.ringing #5 by bravo/bo
        bravo: record call.cancelled #7 by alpha (glare)"#]]
    .assert_eq(&p.take_log());
    expect!["alpha cancelled (glare, by Caller); bravo cancelled (glare, by Caller)"].assert_eq(&p.states(id(7)));
    expect!["alpha ringing (alerting); bravo ringing"].assert_eq(&p.states(id(5)));
}

#[test]
fn glare_where_the_lower_call_was_already_hung_up() {
    let mut p = Pair::new();
    p.s[ALPHA].line.start(p.now, id(7), op("ana")).expect("start");
    p.s[BRAVO].line.start(p.now, id(5), op("bo")).expect("start");
    p.s[BRAVO].line.hangup(p.now, id(5), op("bo")).expect("hangup");
    p.drain();
    p.settle();
    expect!["alpha cancelled (operator, by Caller); bravo cancelled (operator, by Caller)"].assert_eq(&p.states(id(5)));
    expect!["alpha cancelled (glare, by Caller); bravo cancelled (glare, by Caller)"].assert_eq(&p.states(id(7)));
    assert!(p.s.iter().all(|s| s.line.live_call().is_none()));
}

#[test]
fn a_stale_ring_after_a_long_outage_is_recorded_and_does_not_ring() {
    let mut p = Pair::new();
    p.s[ALPHA].line.start(p.now, id(1), op("ana")).expect("start");
    p.drain();
    // The ring is on the line when it goes silent; alpha's ring times out an hour before
    // the line delivers anything again.
    p.run_until(T0 + 3_600_000);
    p.deliver_one(ALPHA);
    expect!["alpha missed (timeout, by Caller); bravo ringing"].assert_eq(&p.states(id(1)));
    assert_eq!(p.s[BRAVO].line.answer(p.now, id(1), op("bo")), Err(hotline_call::CallError::RingTimedOut(id(1))));
    p.settle();
    expect![[r#"
        alpha: send ring #1 from ana
        alpha: record call.started #1 by alpha/ana
        alpha: send verdict #1 missed
        alpha: record call.missed #1 by alpha (timeout)
        bravo: record call.stale #1 by alpha/ana (stale)
        bravo: record call.missed #1 by alpha (timeout)"#]]
    .assert_eq(&p.take_log());
}

#[test]
fn a_ring_from_a_clock_far_ahead_alerts_no_longer_than_its_timeout() {
    let mut p = Pair::new();
    let ahead = p.now + 3_600_000;
    p.s[ALPHA].line.start(ahead, id(1), op("ana")).expect("start");
    p.drain();
    p.deliver(ALPHA);
    let call = p.s[BRAVO].line.call(id(1)).expect("call");
    assert!(call.alerting());
    assert_eq!(p.s[BRAVO].line.poll_timeout(), Some(p.now + 60_000));
}

#[test]
fn decline_vs_missed_the_caller_settles_first_come() {
    let mut p = ringing(1);
    p.s[BRAVO].line.decline(T0 + 59_999, id(1), op("bo")).expect("decline");
    p.drain();
    p.run_until(T0 + 60_000);
    p.settle();
    expect!["alpha missed (timeout, by Caller); bravo missed (timeout, by Caller)"].assert_eq(&p.states(id(1)));
}

/// Answered at both ends, on a pair whose answered calls outlive a cut by 5 s.
fn answered_with_grace() -> Pair {
    let mut p = Pair::with_grace(5_000);
    p.s[ALPHA].line.start(p.now, id(1), op("ana")).expect("start");
    p.drain();
    p.deliver(ALPHA);
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    p.settle();
    p.take_log();
    p
}

/// The line blips under a call (a connection swap, a reconnect): the people talking
/// never notice. Media runs on, nothing is recorded, and the call goes on after.
#[test]
fn an_answered_call_outlives_a_line_cut_shorter_than_its_grace() {
    let mut p = answered_with_grace();
    let before = p.states(id(1));
    p.line_down(ALPHA);
    p.line_down(BRAVO);
    p.run_until(p.now + 4_900);
    assert!(p.s.iter().all(|s| s.media.contains(&id(1))), "media runs on through the cut");
    p.line_up();
    p.settle();
    p.run_until(p.now + 60_000);
    assert_eq!(p.states(id(1)), before, "still answered at both ends");
    assert_eq!(p.take_log(), "", "nothing sent, nothing recorded");
    p.s[ALPHA].line.hangup(p.now, id(1), op("ana")).expect("hang up");
    p.drain();
    p.settle();
    expect!["alpha ended (operator, by Caller); bravo ended (operator, by Caller)"].assert_eq(&p.states(id(1)));
}

/// A cut that lasts past the grace ends the call at each end when its grace runs out,
/// as a cut without grace would.
#[test]
fn an_answered_call_ends_when_the_line_stays_down_past_its_grace() {
    let mut p = answered_with_grace();
    let cut = p.now;
    p.line_down(ALPHA);
    p.line_down(BRAVO);
    p.run_until(cut + 5_000);
    assert!(p.s.iter().all(|s| s.media.is_empty()), "media stops at both ends when the grace ends");
    p.line_up();
    p.settle();
    expect!["alpha ended (line_lost, by Caller); bravo ended (line_lost, by Callee)"].assert_eq(&p.states(id(1)));
}
