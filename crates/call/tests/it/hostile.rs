//! Steps no honest peer sends: each is rejected with a typed reason and changes nothing.

use expect_test::{Expect, expect};
use hotline_call::{CallLine, STEP_BYTES_MAX, Step, Verdict, Why};

use crate::kit::{ALPHA, BRAVO, Pair, id, op};

/// Alpha rings bravo with call 1; bravo has not answered.
fn ringing() -> Pair {
    let mut p = Pair::new();
    p.s[ALPHA].line.start(p.now, id(1), op("ana")).expect("start");
    p.drain();
    p.deliver(ALPHA);
    p
}

/// Hands `step` to `line`, checks the error and that nothing changed.
fn reject(line: &mut CallLine, now: u64, step: Step, expect: Expect) {
    let before: Vec<_> = line.calls().cloned().collect();
    let result = line.handle_peer_bytes(now, &step.encode());
    expect.assert_eq(&format!("{result:?}"));
    assert!(result.is_err());
    assert_eq!(line.calls().cloned().collect::<Vec<_>>(), before, "a rejected step changes nothing");
    assert_eq!(line.poll_event(), None, "a rejected step has no output");
}

#[test]
fn steps_for_unknown_calls() {
    let mut p = ringing();
    p.drain();
    let (now, alpha) = (p.now, &mut p.s[ALPHA].line);
    reject(
        alpha,
        now,
        Step::Answer { call: id(9), operator: op("bo") },
        expect!["Err(UnknownCall { call: CallId(00000000-0009-7000-8000-000000000000), kind: Answer })"],
    );
    reject(
        alpha,
        now,
        Step::Hangup { call: id(9), why: Why::LineLost },
        expect!["Err(UnknownCall { call: CallId(00000000-0009-7000-8000-000000000000), kind: Hangup })"],
    );
}

#[test]
fn steps_only_the_other_side_of_the_call_sends() {
    let mut p = ringing();
    p.drain();
    let now = p.now;
    // Bravo answering its own incoming call, alpha connecting its own outgoing one.
    reject(
        &mut p.s[BRAVO].line,
        now,
        Step::Answer { call: id(1), operator: op("ana") },
        expect![
            "Err(WrongDirection { call: CallId(00000000-0001-7000-8000-000000000000), kind: Answer, direction: In })"
        ],
    );
    reject(
        &mut p.s[ALPHA].line,
        now,
        Step::Verdict { call: id(1), verdict: Verdict::Missed },
        expect![
            "Err(WrongDirection { call: CallId(00000000-0001-7000-8000-000000000000), kind: Verdict, direction: Out })"
        ],
    );
}

#[test]
fn duplicates_and_steps_out_of_order() {
    let mut p = ringing();
    p.drain();
    let now = p.now;
    let bravo = &mut p.s[BRAVO].line;
    reject(
        bravo,
        now,
        Step::Ring { call: id(1), caller: op("ana"), started_ms: now, ring_timeout_ms: 60_000 },
        expect!["Err(Duplicate { call: CallId(00000000-0001-7000-8000-000000000000), kind: Ring })"],
    );
    // A connect for a call nobody here answered, a hang-up before it connected, a
    // decline verdict for a call nobody here declined.
    reject(
        bravo,
        now,
        Step::Connect { call: id(1) },
        expect!["Err(OutOfOrder { call: CallId(00000000-0001-7000-8000-000000000000), kind: Connect })"],
    );
    reject(
        bravo,
        now,
        Step::Hangup { call: id(1), why: Why::Operator(op("ana")) },
        expect!["Err(OutOfOrder { call: CallId(00000000-0001-7000-8000-000000000000), kind: Hangup })"],
    );
    reject(
        bravo,
        now,
        Step::Verdict { call: id(1), verdict: Verdict::Declined },
        expect!["Err(OutOfOrder { call: CallId(00000000-0001-7000-8000-000000000000), kind: Verdict })"],
    );
    // Alpha: an answer, then the same answer again.
    let alpha = &mut p.s[ALPHA].line;
    alpha.handle_peer(now, Step::Answer { call: id(1), operator: op("bo") }).expect("the first answer connects");
    while alpha.poll_event().is_some() {}
    reject(
        alpha,
        now,
        Step::Answer { call: id(1), operator: op("bo") },
        expect!["Err(Duplicate { call: CallId(00000000-0001-7000-8000-000000000000), kind: Answer })"],
    );
}

#[test]
fn a_ring_while_a_call_runs_that_the_peer_knows_of() {
    let mut p = ringing();
    p.drain();
    let now = p.now;
    reject(
        &mut p.s[BRAVO].line,
        now,
        Step::Ring { call: id(2), caller: op("ana"), started_ms: now, ring_timeout_ms: 60_000 },
        expect![
            "Err(CallInProgress { call: CallId(00000000-0002-7000-8000-000000000000), active: CallId(00000000-0001-7000-8000-000000000000) })"
        ],
    );
}

#[test]
fn oversized_and_malformed_bytes() {
    let mut p = ringing();
    p.drain();
    let bravo = &mut p.s[BRAVO].line;
    let checks = [
        bravo.handle_peer_bytes(p.now, &[1; STEP_BYTES_MAX + 1]),
        bravo.handle_peer_bytes(p.now, &[]),
        bravo.handle_peer_bytes(p.now, &[1, 4, 0, 0]),
    ];
    expect![[r#"
        [
            Err(
                Malformed(
                    TooLong {
                        bytes: 129,
                    },
                ),
            ),
            Err(
                Malformed(
                    Truncated,
                ),
            ),
            Err(
                Malformed(
                    Truncated,
                ),
            ),
        ]
    "#]]
    .assert_debug_eq(&checks);
    assert_eq!(bravo.poll_event(), None);
}

#[test]
fn random_bytes_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
    let mut p = ringing();
    p.drain();
    let valid = Step::Verdict { call: id(1), verdict: Verdict::Cancelled(op("ana")) }.encode();
    for _ in 0..20_000 {
        let mut bytes = valid.clone();
        for _ in 0..rng.random_range(1..4) {
            let at = rng.random_range(0..bytes.len());
            bytes[at] = rng.random();
        }
        bytes.truncate(rng.random_range(0..=bytes.len()));
        let _ = p.s[BRAVO].line.handle_peer_bytes(p.now, &bytes);
        while p.s[BRAVO].line.poll_event().is_some() {}
    }
}
