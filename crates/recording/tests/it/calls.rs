//! Whole calls: both directions recorded, heard back on the right channels, with the
//! right length when packets are lost and when a side goes quiet for a second.

use hotline_recording::{Direction, summarize};

use crate::kit::{self, Arrival};

/// Ours sends from the start with RTP timestamps that wrap mid-call; theirs starts
/// 300 ms later from another base.
fn arrivals(skip_ours: impl Fn(usize) -> bool, skip_theirs: impl Fn(usize) -> bool) -> (Vec<Arrival>, u64) {
    let (ones, twos) = (kit::tone_packets(1000), kit::tone_packets(2000));
    let mut all = kit::direction(Direction::Ours, ones, 0, 0xFFFF_0000, skip_ours);
    all.extend(kit::direction(Direction::Theirs, twos, 300, 12_345, skip_theirs));
    let end_ms = (ones.len() as u64 * 20).max(300 + twos.len() as u64 * 20);
    (all, end_ms)
}

fn check_call(
    name: &str,
    skip_ours: impl Fn(usize) -> bool,
    skip_theirs: impl Fn(usize) -> bool,
) -> std::path::PathBuf {
    let dir = kit::scratch_dir(name);
    let path = dir.join("rec.opus");
    let (arrivals, end_ms) = arrivals(&skip_ours, &skip_theirs);
    let finished = kit::record(&path, arrivals);
    assert_eq!(finished.summary.duration_ms, end_ms, "the recording lasts until the last packet's end");

    let probed = kit::ffprobe_duration_ms(&path);
    assert!((probed - end_ms as f64).abs() <= 20.0, "ffprobe says {probed} ms, expected {end_ms} ms");
    kit::assert_opusinfo_clean(&path);

    let (left, right) = kit::decode(&path);
    let decoded_ms = left.len() as u64 / 48;
    assert!(decoded_ms.abs_diff(end_ms) <= 20, "decoded {decoded_ms} ms, expected {end_ms} ms");
    kit::assert_tone(kit::window(&left, 500, 1900), 1000.0, 2000.0, "left (ours) early");
    kit::assert_tone(kit::window(&left, 3100, 5500), 1000.0, 2000.0, "left (ours) late");
    kit::assert_tone(kit::window(&right, 800, 5800), 2000.0, 1000.0, "right (theirs)");
    // libopus (opus_multistream_decode) reads the multistream packets as ffmpeg does.
    let (lib_left, lib_right) = kit::decode_with(&path, "libopus");
    assert_eq!(lib_left.len(), left.len(), "libopus decodes the same length");
    kit::assert_tone(kit::window(&lib_left, 500, 1900), 1000.0, 2000.0, "libopus left");
    kit::assert_tone(kit::window(&lib_right, 800, 5800), 2000.0, 1000.0, "libopus right");

    let report = summarize(&path).expect("read back");
    assert_eq!(report.problems, vec![], "a finished recording reads back clean");
    assert!(report.eos);
    assert_eq!(report.summary, finished.summary, "the file sums up as the recorder said");
    let tag = |name: &str| report.tags.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(tag("HOTLINE_CALL_ID"), Some(kit::call_info().call_id));
    assert_eq!(tag("HOTLINE_PEER"), Some("south"));
    path
}

#[test]
fn both_directions_are_heard_on_their_own_channels() {
    check_call("clean", |_| false, |_| false);
}

#[test]
fn five_percent_loss_keeps_the_length_and_the_tone() {
    // About one packet in twenty of theirs never arrives, spread without a pattern.
    let lost = |i: usize| (i * 7919 + 13) % 100 < 5;
    let path = check_call("loss", |_| false, lost);
    let report = summarize(&path).expect("read back");
    let sent = kit::tone_packets(2000).len() as u64;
    let dropped = (0..sent as usize).filter(|&i| lost(i)).count() as u64;
    assert!(dropped >= sent / 25, "the test drops {dropped} of {sent}");
    assert_eq!(report.summary.theirs.packets, sent - dropped);
}

#[test]
fn a_second_without_packets_stays_a_second_of_silence() {
    // Ours sends nothing from 2.0 s to 3.0 s (DTX, a muted microphone, a dead link).
    let path = check_call("gap", |i| (100..150).contains(&i), |_| false);
    let (left, right) = kit::decode(&path);
    let quiet = kit::tone_power(kit::window(&left, 2150, 2950), 1000.0);
    assert!(quiet < 1e-6, "the gap is silent on the left (1 kHz power {quiet:e})");
    kit::assert_tone(kit::window(&right, 2150, 2950), 2000.0, 1000.0, "right through ours' gap");
    kit::assert_tone(kit::window(&left, 3050, 3500), 1000.0, 2000.0, "left after the gap");
}
