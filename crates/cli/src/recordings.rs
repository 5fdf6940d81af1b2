//! `hotline verify FILE --recordings DIR [PEER_FILE --peer-recordings DIR]`: the call
//! recordings beside an export, held against what the record states of them.
//!
//! Each `call.recorded` entry names a file by its SHA-256 and size; the file must be in
//! DIR as `<call-id>.opus` and hash to exactly that. A missing file (unless the record
//! says it was deleted: `call.recording_deleted`, by retention or a supervisor) or a
//! changed one (one byte is enough) is a failure, reported with where the file first
//! goes wrong (`hotline_recording::summarize`: page, byte offset, call time). With both
//! stations' files, a speaker whose two recordings differ is compared packet by packet
//! and the first difference is given in call time at each station.

use std::path::Path;

use hotline_audit::{Agreement, RecordedCall, RecordingMatch};
use hotline_recording::{DifferenceKind, Direction, Marked, call_time, first_difference};

/// What one stated recording's file is.
enum FileState {
    Sound,
    Missing,
    Unreadable(String),
    /// The file is not the one the record states.
    Changed {
        sha256: String,
        bytes: u64,
        problem: Option<String>,
    },
}

/// The outcome of checking one station's files.
pub struct FilesCheck {
    pub lines: Vec<String>,
    pub failures: usize,
}

/// Checks every recording `stated` (one station's own) against its file in `dir`.
pub fn check_files(station: &str, stated: &[RecordedCall], dir: &Path) -> FilesCheck {
    let mut lines = Vec::new();
    let mut failures = 0;
    for r in stated {
        let path = dir.join(format!("{}.opus", r.call));
        let state = match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::Missing,
            Err(e) => FileState::Unreadable(e.to_string()),
            Ok(bytes) => {
                let report = hotline_recording::summarize_bytes(&bytes);
                if report.summary.sha256_hex() == r.sha256 && report.summary.bytes == r.bytes {
                    FileState::Sound
                } else {
                    let problem = report.first_problem().map(|p| {
                        let granule = report.pages.get(p.page as usize).map_or(0, |page| page.granule);
                        let samples_per_ms = u64::from(hotline_recording::SAMPLE_RATE_HZ / 1000);
                        let at_ms = granule.saturating_sub(u64::from(report.pre_skip)) / samples_per_ms;
                        format!(
                            "page {} (byte {}, near {} into the call): {}",
                            p.page,
                            p.offset,
                            call_time(at_ms),
                            p.kind
                        )
                    });
                    FileState::Changed { sha256: report.summary.sha256_hex(), bytes: report.summary.bytes, problem }
                }
            }
        };
        let name = path.display();
        match state {
            FileState::Sound => lines.push(format!(
                "  call {}: {name} matches {station}'s record (entry {}, SHA-256 {}, {} bytes, {} ms{})",
                r.call,
                r.entry,
                r.sha256,
                r.bytes,
                r.duration_ms,
                if r.cut_off { ", cut off" } else { "" }
            )),
            FileState::Missing if r.deleted.is_some() => {
                let d = r.deleted.as_ref().map(|d| format!("entry {}, {}", d.entry, d.why)).unwrap_or_default();
                lines.push(format!(
                    "  call {}: deleted, as {station}'s record says ({d}); its hashes stay: SHA-256 {}, {} bytes, {} ms",
                    r.call, r.sha256, r.bytes, r.duration_ms
                ));
            }
            FileState::Missing => {
                failures += 1;
                lines.push(format!(
                    "  call {}: MISSING: {name} is not there, but {station}'s record (entry {}) states a recording (SHA-256 {})",
                    r.call, r.entry, r.sha256
                ));
            }
            FileState::Unreadable(why) => {
                failures += 1;
                lines.push(format!("  call {}: UNREADABLE: {name}: {why}", r.call));
            }
            FileState::Changed { sha256, bytes, problem } => {
                failures += 1;
                lines.push(format!(
                    "  call {}: CHANGED: {name} has SHA-256 {sha256} ({bytes} bytes); {station}'s record (entry {}) states {} ({} bytes){}",
                    r.call,
                    r.entry,
                    r.sha256,
                    r.bytes,
                    problem.map(|p| format!("; first problem at {p}")).unwrap_or_default()
                ));
            }
        }
    }
    let header = format!(
        "Recordings of {station} in {}: {} stated by the record, {} as stated, {failures} not",
        dir.display(),
        stated.len(),
        stated.len() - failures
    );
    lines.insert(0, header);
    FilesCheck { lines, failures }
}

/// For each speaker whose two recordings differ, where they first part, read from both
/// stations' files (a file missing or unreadable is skipped: `check_files` said so).
pub fn locate_differences(matches: &[RecordingMatch], a_dir: &Path, b_dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for m in matches {
        let (Some(ra), Some(rb)) = (&m.a, &m.b) else { continue };
        if m.caller != Some(Agreement::Differ) && m.callee != Some(Agreement::Differ) {
            continue;
        }
        let read = |dir: &Path| std::fs::read(dir.join(format!("{}.opus", m.call))).ok().map(|b| Marked::read(&b));
        let (Some(fa), Some(fb)) = (read(a_dir), read(b_dir)) else {
            lines.push(format!("  call {}: the two recordings differ; both files are needed to say where", m.call));
            continue;
        };
        for (speaker, agreement, caller) in [("caller", m.caller, true), ("callee", m.callee, false)] {
            if agreement != Some(Agreement::Differ) {
                continue;
            }
            // In each file, stream 0 is that station's own operator.
            let direction = |r: &RecordedCall| match r.station_is_caller() {
                Some(is_caller) if is_caller == caller => Some(Direction::Ours),
                Some(_) => Some(Direction::Theirs),
                None => None,
            };
            let (Some(da), Some(db)) = (direction(ra), direction(rb)) else {
                lines.push(format!(
                    "  call {}: the {speaker}'s audio differs; the record does not say who called",
                    m.call
                ));
                continue;
            };
            let at = |ms: Option<u64>| ms.map_or("its end".to_owned(), call_time);
            let (a, b) = (&ra.station, &rb.station);
            let what = match first_difference(fa.direction(da), fb.direction(db)) {
                None => "the files hold the same packets: one of the stated hashes is not the file's".to_owned(),
                Some(d) => {
                    let place = match d.kind {
                        DifferenceKind::OnlyInA => {
                            format!("{a} recorded a packet at {} that {b}'s recording lacks", at(d.a_ms))
                        }
                        DifferenceKind::OnlyInB => {
                            format!("{b} recorded a packet at {} that {a}'s recording lacks", at(d.b_ms))
                        }
                        DifferenceKind::Changed => format!(
                            "the packet at {} in {a}'s recording ({} in {b}'s) has different bytes",
                            at(d.a_ms),
                            at(d.b_ms)
                        ),
                    };
                    format!("first difference after {} packet(s) alike: {place}", d.packets_alike)
                }
            };
            lines.push(format!("  call {}: the {speaker}'s audio: {what}", m.call));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_audit::Stream;
    use hotline_recording::{CallInfo, Config, Recorder, Summary};

    const CALL: &str = "0190d1c2-3b4a-7c3e-9a57-2f1f0d3c5b11";

    /// Records a 1 s call at `station`: both voices, 50 packets each, but for the peer's
    /// packet `lost` (it never arrived here).
    fn record(dir: &Path, station: &str, peer: &str, lost: Option<u32>) -> Summary {
        let info = CallInfo { call_id: CALL, station, peer, start_time: "2026-12-03T21:00:00.000Z", start_ms: 0 };
        let path = dir.join(format!("{CALL}.opus"));
        let mut recorder = Recorder::create(&path, &info, Config::default(), 0).expect("recorder");
        // The same voice gives the same packets at both stations: alpha's is [0x78, i, 1].
        let voice = |name: &str, i: u32| vec![0x78, i as u8, if name == "alpha" { 1 } else { 2 }, 7, 7];
        for i in 0..50u32 {
            recorder.push(Direction::Ours, u64::from(i) * 20, i * 960, &voice(station, i)).expect("ours");
            if Some(i) != lost {
                recorder.push(Direction::Theirs, u64::from(i) * 20, i * 960, &voice(peer, i)).expect("theirs");
            }
        }
        recorder.finish(1000).expect("finished").summary
    }

    fn stated(station: &str, peer: &str, summary: &Summary) -> RecordedCall {
        let stream = |d: &hotline_recording::DirectionSummary| Stream {
            packets_sha256: d.packets_sha256_hex(),
            packets: d.packets,
        };
        // alpha called: its own voice (ours at alpha, theirs at bravo) is the caller's.
        let (caller, callee) = if station == "alpha" {
            (stream(&summary.ours), stream(&summary.theirs))
        } else {
            (stream(&summary.theirs), stream(&summary.ours))
        };
        RecordedCall {
            call: CALL.to_owned(),
            station: station.to_owned(),
            peer: peer.to_owned(),
            entry: 7,
            sha256: summary.sha256_hex(),
            bytes: summary.bytes,
            duration_ms: summary.duration_ms,
            cut_off: false,
            caller,
            callee,
            retention_days: Some(90),
            caller_station: Some("alpha".to_owned()),
            deleted: None,
        }
    }

    #[test]
    fn a_file_as_stated_passes_a_changed_byte_or_a_deleted_file_fails_with_where_and_a_recorded_deletion_does_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let summary = record(dir.path(), "alpha", "bravo", None);
        let statement = stated("alpha", "bravo", &summary);
        let sound = check_files("alpha", std::slice::from_ref(&statement), dir.path());
        assert_eq!(sound.failures, 0, "{:?}", sound.lines);
        assert!(sound.lines[1].contains("matches alpha's record (entry 7"), "{:?}", sound.lines);

        let path = dir.path().join(format!("{CALL}.opus"));
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        std::fs::write(&path, &bytes).expect("write");
        let changed = check_files("alpha", std::slice::from_ref(&statement), dir.path());
        assert_eq!(changed.failures, 1);
        assert!(
            changed.lines[1].contains("CHANGED") && changed.lines[1].contains("first problem at page"),
            "{:?}",
            changed.lines
        );

        std::fs::remove_file(&path).expect("delete");
        let missing = check_files("alpha", std::slice::from_ref(&statement), dir.path());
        assert_eq!(missing.failures, 1);
        assert!(missing.lines[1].contains("MISSING"), "{:?}", missing.lines);
        assert!(missing.lines[0].contains("1 stated by the record, 0 as stated, 1 not"), "{:?}", missing.lines);

        // Gone with a deletion the record holds: not a failure, and the hashes are shown.
        let deletion = hotline_audit::Deletion { entry: 9, at_ms: 0, why: "retention".to_owned() };
        let deleted = RecordedCall { deleted: Some(deletion), ..statement };
        let gone = check_files("alpha", std::slice::from_ref(&deleted), dir.path());
        assert_eq!(gone.failures, 0, "{:?}", gone.lines);
        assert!(gone.lines[1].contains("deleted, as alpha's record says (entry 9, retention)"), "{:?}", gone.lines);
        assert!(gone.lines[1].contains(&deleted.sha256), "{:?}", gone.lines);
    }

    #[test]
    fn where_two_stations_recordings_differ_the_first_lost_packet_is_named_in_call_time() {
        let (a_dir, b_dir) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
        let a = stated("alpha", "bravo", &record(a_dir.path(), "alpha", "bravo", None));
        // Alpha's packet 20 (0.4 s into the call) never reached bravo.
        let b = stated("bravo", "alpha", &record(b_dir.path(), "bravo", "alpha", Some(20)));
        assert_ne!(a.caller, b.caller, "the caller's audio differs");
        assert_eq!(a.callee, b.callee, "the callee's does not");
        let matched = RecordingMatch {
            call: CALL.to_owned(),
            caller: Some(Agreement::Differ),
            callee: Some(Agreement::Agree),
            a_witnessed_by_b: true,
            b_witnessed_by_a: true,
            a: Some(a),
            b: Some(b),
        };
        let lines = locate_differences(std::slice::from_ref(&matched), a_dir.path(), b_dir.path());
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("the caller's audio: first difference after 20 packet(s) alike: alpha recorded a packet at 0:00.400 that bravo's recording lacks"),
            "{lines:?}"
        );
    }
}
