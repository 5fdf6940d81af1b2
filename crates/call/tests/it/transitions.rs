//! Each transition of a call on its own: what both stations send, record and show.

use expect_test::expect;
use hotline_call::{CallError, CallState, Phase};

use crate::kit::{ALPHA, BRAVO, Pair, T0, id, op};

/// Alpha's `ana` calls bravo, and the ring arrives.
fn ringing() -> Pair {
    let mut p = Pair::new();
    p.s[ALPHA].line.start(p.now, id(1), op("ana")).expect("start");
    p.drain();
    p.deliver(ALPHA);
    p
}

#[test]
fn a_start_rings_at_the_callee() {
    let mut p = ringing();
    expect![[r#"
        alpha: send ring #1 from ana
        alpha: record call.started #1 by alpha/ana
        bravo: record call.ringing #1 by alpha/ana"#]]
    .assert_eq(&p.take_log());
    expect!["alpha ringing; bravo ringing (alerting)"].assert_eq(&p.states(id(1)));
    assert_eq!(p.s[ALPHA].line.poll_timeout(), Some(T0 + 60_000), "missed after the ring timeout");
    assert_eq!(p.s[BRAVO].line.poll_timeout(), Some(T0 + 60_000), "alerts as long");
}

#[test]
fn an_answer_connects_through_the_caller() {
    let mut p = ringing();
    p.take_log();
    p.now += 4_000;
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    expect!["alpha ringing; bravo ringing"].assert_eq(&p.states(id(1)));
    p.settle();
    expect![[r#"
        bravo: send answer #1 by bo
        bravo: record call.answering #1 by bravo/bo
        alpha: send connect #1
        alpha: record call.answered #1 by bravo/bo
        alpha: media on #1
        bravo: record call.answered #1 by bravo/bo
        bravo: media on #1"#]]
    .assert_eq(&p.take_log());
    expect!["alpha answered; bravo answered"].assert_eq(&p.states(id(1)));
    let answered_by = |s: usize| p.s[s].line.call(id(1)).and_then(|c| c.answered_by.clone());
    assert_eq!(answered_by(ALPHA), Some(op("bo")));
    assert_eq!(answered_by(BRAVO), Some(op("bo")));
}

#[test]
fn a_decline_is_settled_by_the_caller() {
    let mut p = ringing();
    p.take_log();
    p.s[BRAVO].line.decline(p.now, id(1), op("bo")).expect("decline");
    p.drain();
    assert!(!p.s[BRAVO].line.call(id(1)).expect("call").alerting(), "the consoles stop ringing at once");
    p.settle();
    expect![[r#"
        bravo: send leave #1 (operator bo)
        bravo: record call.leaving #1 by bravo/bo (operator)
        alpha: send verdict #1 declined
        alpha: record call.declined #1 by bravo/bo (operator)
        bravo: record call.declined #1 by bravo/bo (operator)"#]]
    .assert_eq(&p.take_log());
    expect!["alpha declined (operator, by Callee); bravo declined (operator, by Callee)"].assert_eq(&p.states(id(1)));
}

#[test]
fn the_caller_hanging_up_first_cancels() {
    let mut p = ringing();
    p.take_log();
    p.s[ALPHA].line.hangup(p.now, id(1), op("ana")).expect("hangup");
    p.drain();
    p.settle();
    expect![[r#"
        alpha: send verdict #1 cancelled by ana
        alpha: record call.cancelled #1 by alpha/ana (operator)
        bravo: record call.cancelled #1 by alpha/ana (operator)"#]]
    .assert_eq(&p.take_log());
    expect!["alpha cancelled (operator, by Caller); bravo cancelled (operator, by Caller)"].assert_eq(&p.states(id(1)));
}

#[test]
fn nobody_answering_is_missed_at_the_ring_timeout() {
    let mut p = ringing();
    p.take_log();
    p.run_until(T0 + 59_999);
    expect!["alpha ringing; bravo ringing (alerting)"].assert_eq(&p.states(id(1)));
    p.run_until(T0 + 60_000);
    p.settle();
    expect![[r#"
        alpha: send verdict #1 missed
        alpha: record call.missed #1 by alpha (timeout)
        bravo: record call.missed #1 by alpha (timeout)"#]]
    .assert_eq(&p.take_log());
    expect!["alpha missed (timeout, by Caller); bravo missed (timeout, by Caller)"].assert_eq(&p.states(id(1)));
    assert_eq!(p.s[ALPHA].line.poll_timeout(), None);
    assert_eq!(p.s[BRAVO].line.poll_timeout(), None);
}

#[test]
fn the_callee_stops_alerting_at_the_timeout_even_before_the_verdict() {
    let mut p = ringing();
    p.s[ALPHA].outbox.clear(); // Nothing more from alpha for now.
    p.s[BRAVO].line.handle_timeout(T0 + 60_000);
    p.drain();
    expect!["alpha ringing; bravo ringing"].assert_eq(&p.states(id(1)));
    let late = p.s[BRAVO].line.answer(T0 + 60_001, id(1), op("bo"));
    assert_eq!(late, Err(CallError::RingTimedOut(id(1))));
}

/// Alpha calls, bravo answers, both connected.
fn answered() -> Pair {
    let mut p = ringing();
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    p.settle();
    p.take_log();
    p
}

#[test]
fn either_end_hangs_up_an_answered_call() {
    for (who, name) in [(ALPHA, "ana"), (BRAVO, "bo")] {
        let mut p = answered();
        p.now += 90_000;
        p.s[who].line.hangup(p.now, id(1), op(name)).expect("hangup");
        p.drain();
        p.settle();
        let log = p.take_log();
        let states = p.states(id(1));
        if who == ALPHA {
            expect![[r#"
                alpha: send hangup #1 (operator ana)
                alpha: media off #1
                alpha: record call.ended #1 by alpha/ana (operator)
                bravo: media off #1
                bravo: record call.ended #1 by alpha/ana (operator)"#]]
            .assert_eq(&log);
            expect!["alpha ended (operator, by Caller); bravo ended (operator, by Caller)"].assert_eq(&states);
        } else {
            expect![[r#"
                bravo: send hangup #1 (operator bo)
                bravo: media off #1
                bravo: record call.ended #1 by bravo/bo (operator)
                alpha: media off #1
                alpha: record call.ended #1 by bravo/bo (operator)"#]]
            .assert_eq(&log);
            expect!["alpha ended (operator, by Callee); bravo ended (operator, by Callee)"].assert_eq(&states);
        }
        assert!(p.s.iter().all(|s| s.media.is_empty()));
    }
}

#[test]
fn a_start_on_a_line_that_is_down_is_refused_and_recorded() {
    let mut p = Pair::new();
    p.line_down(ALPHA);
    let refused = p.s[ALPHA].line.start(p.now, id(1), op("ana"));
    assert_eq!(refused, Err(CallError::LineDown));
    p.drain();
    expect!["alpha: record call.refused #1 by alpha/ana (line_down)"].assert_eq(&p.take_log());
    assert!(p.s[ALPHA].outbox.is_empty(), "nothing is sent for a refused start");
    assert!(p.s[ALPHA].line.call(id(1)).is_none(), "a refused start is no call");
}

#[test]
fn one_call_per_line() {
    let mut p = ringing();
    p.take_log();
    let second = p.s[ALPHA].line.start(p.now, id(2), op("al"));
    assert_eq!(second, Err(CallError::CallInProgress { active: id(1) }));
    let from_bravo = p.s[BRAVO].line.start(p.now, id(3), op("bo"));
    assert_eq!(from_bravo, Err(CallError::CallInProgress { active: id(1) }));
    let reused = p.s[ALPHA].line.start(p.now, id(1), op("al"));
    assert_eq!(reused, Err(CallError::DuplicateCallId(id(1))));
    p.drain();
    expect![[r#"
        alpha: record call.refused #2 by alpha/al (call_in_progress)
        bravo: record call.refused #3 by bravo/bo (call_in_progress)"#]]
    .assert_eq(&p.take_log());
}

#[test]
fn requests_that_do_not_fit_the_call_are_refused() {
    let mut p = ringing();
    let n = p.now;
    let checks = [
        p.s[ALPHA].line.answer(n, id(1), op("ana")),
        p.s[ALPHA].line.decline(n, id(1), op("ana")),
        p.s[BRAVO].line.answer(n, id(9), op("bo")),
    ];
    expect![[r#"
        [
            Err(
                WrongDirection {
                    call: CallId(00000000-0001-7000-8000-000000000000),
                    direction: Out,
                },
            ),
            Err(
                WrongDirection {
                    call: CallId(00000000-0001-7000-8000-000000000000),
                    direction: Out,
                },
            ),
            Err(
                UnknownCall(
                    CallId(00000000-0009-7000-8000-000000000000),
                ),
            ),
        ]
    "#]]
    .assert_debug_eq(&checks);
    p.s[BRAVO].line.answer(n, id(1), op("bo")).expect("answer");
    let twice = p.s[BRAVO].line.answer(n, id(1), op("bo2"));
    assert_eq!(twice, Err(CallError::NotPossible { call: id(1), state: CallState::Ringing }));
    p.drain();
    p.settle();
    p.s[ALPHA].line.hangup(n, id(1), op("ana")).expect("hangup");
    let again = p.s[ALPHA].line.hangup(n, id(1), op("ana"));
    assert_eq!(again, Err(CallError::NotPossible { call: id(1), state: CallState::Ended }));
}

#[test]
fn the_callee_hanging_up_a_ringing_call_declines_it() {
    let mut p = ringing();
    p.take_log();
    p.s[BRAVO].line.hangup(p.now, id(1), op("bo")).expect("hangup");
    p.drain();
    assert!(matches!(p.s[BRAVO].line.call(id(1)).expect("call").phase, Phase::Leaving { .. }));
    p.settle();
    expect!["alpha declined (operator, by Callee); bravo declined (operator, by Callee)"].assert_eq(&p.states(id(1)));
}

#[test]
fn the_history_is_bounded() {
    let mut config = crate::kit::config("alpha", "bravo");
    config.calls_history_max = 3;
    let mut line = hotline_call::CallLine::new(config).expect("config");
    line.line_up(T0);
    for n in 1..=10 {
        line.start(T0 + n, id(n), op("ana")).expect("start");
        line.hangup(T0 + n, id(n), op("ana")).expect("hangup");
    }
    let kept: Vec<u64> = line.calls().map(|c| crate::kit::number(c.id)).collect();
    assert_eq!(kept, [8, 9, 10]);
}

#[test]
fn the_persisted_state_reads_back_through_the_same_checks() {
    let mut p = ringing();
    p.s[BRAVO].line.answer(p.now, id(1), op("bo")).expect("answer");
    p.drain();
    let calls = p.s[BRAVO].persisted();
    let json = serde_json::to_string(&calls).expect("serialize");
    let back: Vec<hotline_call::Call> = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, calls);
    let hostile = json.replace("\"bo\"", "\"\"");
    let err = serde_json::from_str::<Vec<hotline_call::Call>>(&hostile).expect_err("an empty name");
    expect!["an operator name has 1 to 64 bytes, not 0 at line 1 column 255"].assert_eq(&err.to_string());
    let restored = hotline_call::CallLine::restore(crate::kit::config("bravo", "alpha"), p.now, back);
    assert!(restored.is_ok());
    let two_live =
        [calls.clone(), calls.iter().map(|c| hotline_call::Call { id: id(2), ..c.clone() }).collect()].concat();
    let err = hotline_call::CallLine::restore(crate::kit::config("bravo", "alpha"), p.now, two_live).err();
    assert_eq!(err, Some(hotline_call::RestoreError::SeveralLive { count: 2 }));
}
