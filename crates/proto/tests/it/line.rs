//! Focused behaviours of one `Line` pair, driven by hand in virtual time.

use std::time::{Duration, Instant};

use hotline_proto::{Event, Frame, FrameDecoder, Lane, Line, LineConfig, LineError, LineState, Restored};

/// The base of virtual time: the only clock read, as in the simulation.
#[allow(clippy::disallowed_methods)]
fn t0() -> Instant {
    Instant::now()
}

fn pair(now: Instant) -> (Line, Line) {
    let a = Line::new(LineConfig::default(), "alpha", "bravo", now, Restored::default());
    let b = Line::new(LineConfig::default(), "bravo", "alpha", now, Restored::default());
    (a, b)
}

/// Everything `from` wants to send, as frames.
fn frames(from: &mut Line, now: Instant) -> Vec<Frame> {
    let mut bytes = Vec::new();
    while from.poll_transmit(now, &mut bytes) {}
    let mut d = FrameDecoder::default();
    d.extend(&bytes);
    let mut out = Vec::new();
    while let Ok(Some(f)) = d.next_frame() {
        out.push(f);
    }
    out
}

fn pump(from: &mut Line, to: &mut Line, now: Instant) -> usize {
    let mut bytes = Vec::new();
    while from.poll_transmit(now, &mut bytes) {}
    let n = bytes.len();
    to.handle_input(now, &bytes).expect("valid input");
    n
}

fn events(line: &mut Line) -> Vec<Event> {
    std::iter::from_fn(|| line.poll_event()).collect()
}

#[test]
fn flash_overtakes_routine_items_queued_behind_a_down_line() {
    let now = t0();
    let (mut a, mut b) = pair(now);
    for seq in 1..=100 {
        a.push(Lane::Routine, seq, format!("routine {seq}").into_bytes());
    }
    a.push(Lane::Flash, 1, b"flash".to_vec());
    a.connect(now);
    b.connect(now);
    pump(&mut b, &mut a, now); // bravo's Hello: alpha may now send items
    let sent = frames(&mut a, now);
    let items: Vec<(Lane, u64)> = sent
        .iter()
        .filter_map(|f| match f {
            Frame::Item { lane, seq, .. } => Some((*lane, *seq)),
            _ => None,
        })
        .collect();
    assert_eq!(items.first(), Some(&(Lane::Flash, 1)), "FLASH goes first");
    let routine: Vec<u64> = items.iter().filter(|(l, _)| *l == Lane::Routine).map(|(_, s)| *s).collect();
    assert_eq!(routine, (1..=100).collect::<Vec<_>>(), "ROUTINE keeps its order");
}

#[test]
fn a_receipt_waits_for_the_durable_write() {
    let now = t0();
    let (mut a, mut b) = pair(now);
    a.push(Lane::Routine, 1, b"one".to_vec());
    a.connect(now);
    b.connect(now);
    pump(&mut a, &mut b, now);
    pump(&mut b, &mut a, now);
    pump(&mut a, &mut b, now);
    assert!(events(&mut b).contains(&Event::Received { lane: Lane::Routine, seq: 1, payload: b"one".to_vec() }));
    assert!(!frames(&mut b, now).iter().any(|f| matches!(f, Frame::Receipt { .. })), "no receipt before the write");
    b.mark_durable(Lane::Routine, 1);
    pump(&mut b, &mut a, now);
    assert!(events(&mut a).contains(&Event::Delivered { lane: Lane::Routine, seq: 1 }));
    assert_eq!(a.undelivered_items(), 0);
}

#[test]
fn three_missed_heartbeats_bring_the_line_down() {
    let start = t0();
    let (mut a, mut b) = pair(start);
    a.connect(start);
    b.connect(start);
    pump(&mut a, &mut b, start);
    pump(&mut b, &mut a, start);
    assert_eq!(a.state(), LineState::Up);
    assert!(a.rtt().is_some(), "the first ping's pong measures the round trip");
    // Bravo goes silent. Alpha keeps pinging; after 3 s of silence the line is down.
    let mut now = start;
    while a.state() == LineState::Up {
        now = a.poll_timeout().expect("a timer is set");
        assert!(now <= start + Duration::from_millis(3000), "still up at {:?}", now - start);
        a.handle_timeout(now);
        let _ = frames(&mut a, now);
    }
    assert_eq!(now - start, Duration::from_secs(3));
    assert_eq!(a.state(), LineState::Down);
    assert_eq!(a.since(), now);
    assert!(events(&mut a).iter().any(|e| matches!(e, Event::Closed { reason } if reason.contains("no sign of life"))));
}

#[test]
fn a_line_that_never_comes_up_turns_from_connecting_to_down() {
    let start = t0();
    let (mut a, _) = pair(start);
    assert_eq!(a.state(), LineState::Connecting);
    let at = a.poll_timeout().expect("timer");
    a.handle_timeout(at);
    assert_eq!(a.state(), LineState::Down);
    assert_eq!(at - start, Duration::from_secs(3));
}

#[test]
fn a_peer_claiming_another_name_is_refused() {
    let now = t0();
    let mut a = Line::new(LineConfig::default(), "alpha", "bravo", now, Restored::default());
    let mut c = Line::new(LineConfig::default(), "charlie", "alpha", now, Restored::default());
    a.connect(now);
    c.connect(now);
    let mut bytes = Vec::new();
    while c.poll_transmit(now, &mut bytes) {}
    let err = a.handle_input(now, &bytes).expect_err("refused");
    assert!(matches!(err, LineError::WrongStation { .. }), "{err}");
    assert!(!a.is_connected() || frames(&mut a, now).iter().any(|f| matches!(f, Frame::Close { .. })));
}

#[test]
fn a_receipt_for_items_never_sent_is_refused() {
    let now = t0();
    let (mut a, mut b) = pair(now);
    a.connect(now);
    b.connect(now);
    pump(&mut b, &mut a, now);
    let mut bytes = Vec::new();
    Frame::Receipt { lane: Lane::Routine, seq: 5 }.encode(&mut bytes);
    let err = a.handle_input(now, &bytes).expect_err("refused");
    assert!(matches!(err, LineError::ReceiptBeyondSent { .. }), "{err}");
}

#[test]
fn an_item_before_hello_is_refused() {
    let now = t0();
    let (mut a, _) = pair(now);
    a.connect(now);
    let mut bytes = Vec::new();
    Frame::Item { lane: Lane::Routine, seq: 1, payload: b"x".to_vec() }.encode(&mut bytes);
    assert!(matches!(a.handle_input(now, &bytes), Err(LineError::BeforeHello(_))));
    let mut garbage = vec![1, 77, 0, 0, 0, 0];
    garbage.extend_from_slice(b"junk");
    a.connect(now);
    assert!(matches!(a.handle_input(now, &garbage), Err(LineError::Frame(_))));
}
