//! The step form: every step survives the trip, and hostile bytes are named, not guessed.

use expect_test::{Expect, expect};

use super::*;

fn id(n: u8) -> CallId {
    let mut b = [n; 16];
    b[6] = 0x70;
    b[8] = 0x80;
    CallId::from_bytes(b).expect("v7")
}

fn op(name: &str) -> Operator {
    Operator::new(name).expect("name")
}

fn every_step() -> Vec<Step> {
    let call = id(1);
    vec![
        Step::Ring { call, caller: op("ana"), started_ms: 1_800_000_000_000, ring_timeout_ms: 60_000 },
        Step::Answer { call, operator: op("bo") },
        Step::Leave { call, why: Why::Operator(op("bo")) },
        Step::Leave { call, why: Why::LineLost },
        Step::Leave { call, why: Why::Restarted },
        Step::Leave { call, why: Why::NoVerdict },
        Step::Connect { call },
        Step::Verdict { call, verdict: Verdict::Declined },
        Step::Verdict { call, verdict: Verdict::Missed },
        Step::Verdict { call, verdict: Verdict::Cancelled(op("ana")) },
        Step::Verdict { call, verdict: Verdict::Glare },
        Step::Verdict { call, verdict: Verdict::Failed { by: Side::Callee, why: Why::Restarted } },
        Step::Hangup { call, why: Why::Operator(op("ana")) },
        Step::Hangup { call, why: Why::LineLost },
    ]
}

#[test]
fn every_step_parses_back_to_itself() {
    for step in every_step() {
        let bytes = step.encode();
        assert!(bytes.len() <= STEP_BYTES_MAX);
        assert_eq!(Step::parse(&bytes), Ok(step));
    }
}

#[test]
fn the_form_is_compact() {
    let ring = &every_step()[0];
    let hex: String = ring.encode().iter().map(|b| format!("{b:02x}")).collect();
    expect!["010101010101010170018001010101010101000001a3185c50000000ea6003616e61"].assert_eq(&hex);
    let longest = Step::Ring { call: id(1), caller: op(&"x".repeat(64)), started_ms: 1, ring_timeout_ms: 1_000 };
    assert_eq!(longest.encode().len(), 95);
}

/// Parses `bytes` and shows the error (or the step).
fn check(bytes: &[u8], expect: Expect) {
    expect.assert_eq(&format!("{:?}", Step::parse(bytes)));
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for step in every_step() {
        let bytes = step.encode();
        for n in 0..bytes.len() {
            assert!(Step::parse(&bytes[..n]).is_err(), "{step:?} cut at {n}");
        }
    }
}

#[test]
fn hostile_steps_are_rejected_by_name() {
    let ring = every_step()[0].encode();
    let mut trailing = ring.clone();
    trailing.push(0);
    check(&trailing, expect!["Err(TrailingBytes { extra: 1 })"]);
    check(&[1; 200], expect!["Err(TooLong { bytes: 200 })"]);
    check(&[], expect!["Err(Truncated)"]);
    let mut version = ring.clone();
    version[0] = 2;
    check(&version, expect!["Err(UnknownVersion(2))"]);
    let mut kind = ring.clone();
    kind[1] = 9;
    check(&kind, expect!["Err(UnknownKind(9))"]);
    let mut not_v7 = ring.clone();
    not_v7[2 + 6] = 0x40;
    check(&not_v7, expect!["Err(CallId(NotUuidV7))"]);
    let mut zero_time = ring.clone();
    zero_time[18..26].fill(0);
    check(&zero_time, expect!["Err(Time(0))"]);
    let mut far_future = ring.clone();
    far_future[18..26].copy_from_slice(&u64::MAX.to_be_bytes());
    check(&far_future, expect!["Err(Time(18446744073709551615))"]);
    let mut long_ring = ring.clone();
    long_ring[26..30].copy_from_slice(&3_600_000u32.to_be_bytes());
    check(&long_ring, expect!["Err(RingTimeout(3600000))"]);
    let mut empty_name = ring.clone();
    empty_name.truncate(30);
    empty_name.push(0);
    check(&empty_name, expect!["Err(Operator(OperatorLength { bytes: 0 }))"]);
    let mut long_name = ring.clone();
    long_name[30] = 65;
    check(&long_name, expect!["Err(Operator(OperatorLength { bytes: 65 }))"]);
    let mut bad_utf8 = ring.clone();
    bad_utf8[31] = 0xff;
    check(&bad_utf8, expect!["Err(OperatorUtf8)"]);
    let mut control = ring;
    control[31] = b'\n';
    check(&control, expect!["Err(Operator(OperatorControl))"]);
}

#[test]
fn reasons_that_make_no_sense_for_their_step_are_rejected() {
    let mut hangup = Step::Hangup { call: id(1), why: Why::LineLost }.encode();
    *hangup.last_mut().expect("tag") = 4;
    check(&hangup, expect![[r#"Err(UnknownTag { field: "hang-up reason", tag: 4 })"#]]);
    let mut verdict = Step::Verdict { call: id(1), verdict: Verdict::Missed }.encode();
    *verdict.last_mut().expect("tag") = 9;
    check(&verdict, expect![[r#"Err(UnknownTag { field: "verdict", tag: 9 })"#]]);
    let failed_by_operator =
        [&Step::Connect { call: id(1) }.encode()[..2], id(1).as_bytes(), &[5, 1, 1, 1, b'x']].concat();
    let mut failed_by_operator = failed_by_operator;
    failed_by_operator[1] = 5;
    check(&failed_by_operator, expect![[r#"Err(UnknownTag { field: "failure reason", tag: 1 })"#]]);
    let mut side =
        Step::Verdict { call: id(1), verdict: Verdict::Failed { by: Side::Caller, why: Why::LineLost } }.encode();
    side[19] = 3;
    check(&side, expect![[r#"Err(UnknownTag { field: "side", tag: 3 })"#]]);
}
