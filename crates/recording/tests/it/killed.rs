//! A station killed mid-call: the recording keeps what was written, `recover` closes it
//! with an EOS page and reports it cut off, and players play it to where it stopped.

use hotline_recording::{Config, Direction, Error, ProblemKind, recover, summarize};

use crate::kit;

/// Records 3.5 s of a call and "kills" the recorder: dropped, never finished.
fn killed_recording(name: &str) -> std::path::PathBuf {
    let path = kit::scratch_dir(name).join("rec.opus");
    let ones = &kit::tone_packets(1000)[..175];
    let twos = &kit::tone_packets(2000)[..175];
    let mut arrivals = kit::direction(Direction::Ours, ones, 0, 1, |_| false);
    arrivals.extend(kit::direction(Direction::Theirs, twos, 0, 2, |_| false));
    let (recorder, _) = kit::record_unfinished(&path, arrivals, Config::default());
    drop(recorder);
    path
}

fn check_playable(path: &std::path::Path, duration_ms: u64) {
    let probed = kit::ffprobe_duration_ms(path);
    assert!((probed - duration_ms as f64).abs() <= 20.0, "ffprobe says {probed} ms, recovered {duration_ms} ms");
    kit::assert_opusinfo_clean(path);
    let (left, right) = kit::decode(path);
    kit::assert_tone(kit::window(&left, 200, duration_ms - 100), 1000.0, 2000.0, "left");
    kit::assert_tone(kit::window(&right, 200, duration_ms - 100), 2000.0, 1000.0, "right");
}

#[test]
fn a_killed_recording_keeps_what_was_written_and_recovers() {
    let path = killed_recording("killed");
    let before = summarize(&path).expect("read");
    assert!(!before.eos);
    assert_eq!(before.problems.iter().map(|p| &p.kind).collect::<Vec<_>>(), vec![&ProblemKind::NoEos]);
    // Pages end on whole seconds and the file is synced every 2 s: the kill came at
    // 3.48 s, the page of second 3 was not full, so 3 s are on disk.
    assert_eq!(before.summary.duration_ms, 3000);

    let recovery = recover(&path).expect("recover");
    assert!(recovery.cut_off);
    assert_eq!(recovery.dropped_bytes, 0);
    assert_eq!(recovery.report.problems, vec![]);
    assert_eq!(recovery.report.summary.duration_ms, before.summary.duration_ms);
    assert_eq!(recovery.report.summary.ours, before.summary.ours, "no packet is lost by recovery");
    check_playable(&path, recovery.report.summary.duration_ms);

    let again = recover(&path).expect("recover again");
    assert!(!again.cut_off, "a recovered recording is whole");
    assert_eq!(again.report.summary, recovery.report.summary);
}

#[test]
fn a_torn_last_page_is_dropped() {
    let path = killed_recording("torn");
    let before = summarize(&path).expect("read");
    let last = before.pages.last().expect("pages").clone();
    let len = std::fs::metadata(&path).expect("stat").len();
    // The write of the last page was cut short.
    std::fs::OpenOptions::new().write(true).open(&path).expect("open").set_len(len - 10).expect("truncate");

    let recovery = recover(&path).expect("recover");
    assert!(recovery.cut_off);
    assert_eq!(recovery.dropped_bytes, last.bytes - 10);
    assert_eq!(recovery.report.summary.bytes, last.offset);
    assert_eq!(recovery.report.summary.duration_ms, 2000);
    assert_eq!(recovery.report.problems, vec![]);
    check_playable(&path, 2000);
}

#[test]
fn a_corrupt_page_ends_what_is_kept() {
    let path = killed_recording("corrupt");
    let before = summarize(&path).expect("read");
    let third = &before.pages[3];
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[(third.offset + third.bytes / 2) as usize] ^= 0x40;
    std::fs::write(&path, &bytes).expect("write");
    let report = summarize(&path).expect("read");
    assert_eq!(report.first_problem().map(|p| p.page), Some(3), "verify points at the page");
    assert!(matches!(report.problems[0].kind, ProblemKind::Page(_)));

    let recovery = recover(&path).expect("recover");
    assert!(recovery.cut_off);
    assert_eq!(recovery.report.summary.duration_ms, 1000, "pages 0-2 are kept: headers and 1 s");
}

#[test]
fn a_finished_recording_is_left_alone() {
    let path = kit::scratch_dir("finished").join("rec.opus");
    let arrivals = kit::direction(Direction::Ours, &kit::tone_packets(1000)[..50], 0, 5, |_| false);
    let finished = kit::record(&path, arrivals);
    let recovery = recover(&path).expect("recover");
    assert!(!recovery.cut_off);
    assert_eq!(recovery.dropped_bytes, 0);
    assert_eq!(recovery.report.summary, finished.summary);
}

#[test]
fn without_whole_headers_there_is_nothing_to_recover() {
    let path = killed_recording("headless");
    std::fs::OpenOptions::new().write(true).open(&path).expect("open").set_len(40).expect("truncate");
    assert!(matches!(recover(&path), Err(Error::NotARecording(_))));
}
