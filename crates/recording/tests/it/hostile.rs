//! A hostile peer: malformed, oversized, mistimed, duplicated and reordered packets are
//! refused with their reason and counted, or put in order; nothing panics and the file
//! stays sound.

use hotline_recording::{Config, Direction, Error, Recorder, Refusal, summarize};

use crate::kit::{self, START_MS};

fn refusal(result: Result<(), Error>) -> Refusal {
    match result {
        Err(Error::Refused { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn bad_packets_are_refused_by_reason_and_counted() {
    let path = kit::scratch_dir("refusals").join("rec.opus");
    let good = &kit::tone_packets(1000)[..3];
    let mut rec = Recorder::create(&path, &kit::call_info(), Config::default(), START_MS).expect("create");
    let t = START_MS;
    rec.push(Direction::Theirs, t, 1000, &good[0]).expect("first");
    assert_eq!(refusal(rec.push(Direction::Theirs, t, 1000, &good[1])), Refusal::Duplicate);
    assert_eq!(refusal(rec.push(Direction::Theirs, t, 1480, &good[1])), Refusal::Misaligned);
    assert_eq!(refusal(rec.push(Direction::Theirs, t, 1000 + 960 * 1000, &good[1])), Refusal::TooFarAhead);
    assert_eq!(refusal(rec.push(Direction::Theirs, t, 1000 - 960, &good[1])), Refusal::TooOld);
    assert_eq!(refusal(rec.push(Direction::Theirs, t, 1960, &vec![0x78; 1501])), Refusal::TooLarge(1501));
    assert_eq!(refusal(rec.push(Direction::Theirs, t, 1960, &[0x08])), Refusal::Silent);
    // A 40 ms SILK frame (config 2) is a well-formed packet of the wrong duration.
    assert_eq!(refusal(rec.push(Direction::Theirs, t, 1960, &[0x10, 1, 2, 3])), Refusal::Duration(1920));
    assert!(matches!(refusal(rec.push(Direction::Theirs, t, 1960, &[0x7a, 5, 1])), Refusal::Malformed(_)));
    assert!(matches!(refusal(rec.push(Direction::Theirs, t, 1960, &[])), Refusal::Malformed(_)));
    rec.push(Direction::Theirs, t + 20, 1960, &good[1]).expect("second");
    // Once the slot is written (after the reorder window), its packet is late.
    rec.handle_timeout(t + 1000).expect("timeout");
    assert_eq!(refusal(rec.push(Direction::Theirs, t + 1000, 1000, &good[0])), Refusal::Late);
    let counts = *rec.refused(Direction::Theirs);
    assert_eq!((counts.duplicate, counts.misaligned, counts.late, counts.malformed), (1, 1, 1, 2));
    assert_eq!(counts.total(), 10);
    assert_eq!(rec.refused(Direction::Ours).total(), 0);
    let finished = rec.finish(t + 1020).expect("finish");
    assert_eq!(finished.summary.theirs.packets, 2);
    assert_eq!(summarize(&path).expect("read").problems, vec![]);
}

#[test]
fn a_peer_filling_its_window_does_not_hurry_ours() {
    let path = kit::scratch_dir("flood").join("rec.opus");
    let ours = kit::tone_packets(1000);
    let config = Config { pending_packets_max: 50, ..Config::default() };
    let mut rec = Recorder::create(&path, &kit::call_info(), config, START_MS).expect("create");
    let mut overflowed = 0;
    for i in 0..100u32 {
        let now = START_MS + 20 * i as u64;
        // Every 20 ms the peer sends 10 packets for slots up to 5 s ahead.
        for k in 0..10 {
            let rtp = 960 * (i * 10 + k) % (960 * 240);
            if let Err(Error::Refused { reason: Refusal::Overflow, .. }) =
                rec.push(Direction::Theirs, now, rtp, &ours[0])
            {
                overflowed += 1;
            }
        }
        // Ours arrives 40 ms late, inside the reorder window, every time.
        let late = now + 40;
        rec.push(Direction::Ours, late, 960 * i, &ours[i as usize]).expect("ours is never hurried out");
    }
    assert!(overflowed > 0, "the flood hit pending_packets_max");
    let finished = rec.finish(START_MS + 3000).expect("finish");
    assert_eq!(finished.summary.ours.packets, 100);
    assert_eq!(finished.refused[1].overflow, overflowed);
}

#[test]
fn reordered_packets_are_recorded_in_order() {
    let packets = &kit::tone_packets(2000)[..60];
    let dir = kit::scratch_dir("reorder");
    let in_order = kit::direction(Direction::Theirs, packets, 0, 77, |_| false);
    let mut shuffled = kit::direction(Direction::Theirs, packets, 0, 77, |_| false);
    // Swap neighbours' arrival times: each pair arrives the wrong way round, 20 ms apart.
    // The first pair stays in order: it sets where the direction starts.
    for pair in shuffled[2..].chunks_mut(2) {
        if let [a, b] = pair {
            std::mem::swap(&mut a.at_ms, &mut b.at_ms);
        }
    }
    let a = kit::record(&dir.join("a.opus"), in_order).summary;
    let b = kit::record(&dir.join("b.opus"), shuffled).summary;
    assert_eq!(a.theirs, b.theirs);
    assert_eq!(a.sha256, b.sha256, "the same packets at the same times make the same file");
}

#[test]
fn random_bytes_never_panic_and_leave_a_sound_file() {
    let path = kit::scratch_dir("fuzz").join("rec.opus");
    let mut rec = Recorder::create(&path, &kit::call_info(), Config::default(), START_MS).expect("create");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut accepted = 0;
    for i in 0..20_000u64 {
        let len = (next() % 64) as usize;
        let mut payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(toc) = payload.first_mut() {
            // Keep to 20 ms configurations half the time, so parsing goes deep.
            if i % 2 == 0 {
                *toc = (*toc & 0x07) | (packet_config(next()) << 3);
            }
        }
        let direction = if next() % 2 == 0 { Direction::Ours } else { Direction::Theirs };
        let now = START_MS + i / 10;
        let rtp = (next() % 200) as u32 * 960;
        match rec.push(direction, now, rtp, &payload) {
            Ok(()) => accepted += 1,
            Err(Error::Refused { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let finished = rec.finish(START_MS + 3000).expect("finish");
    let refused = finished.refused[0].total() + finished.refused[1].total();
    assert_eq!(accepted + refused, 20_000);
    assert!(accepted > 0 && refused > 0, "accepted {accepted}, refused {refused}");
    let report = summarize(&path).expect("read");
    assert_eq!(report.problems, vec![]);
    assert_eq!(report.summary, finished.summary);
}

/// A TOC configuration with 20 ms frames, or 10 ms ones that make 20 ms in pairs.
fn packet_config(random: u64) -> u8 {
    [1, 5, 9, 13, 15, 19, 23, 27, 31, 12, 14, 18][(random % 12) as usize]
}
