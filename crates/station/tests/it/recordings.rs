//! Call recordings at both stations: an answered call is recorded by each station into
//! `recordings/<call-id>.opus` (0600), a whole RFC 7845 file once the call ends; a
//! recording a crash left unsealed is closed and sealed, marked cut off, at the next start.

use std::time::Duration;

use hotline_call::CallId;
use hotline_recording::{CallInfo, Config, Direction, Recorder};
use hotline_station::line::calls::CallOp;

use crate::calls::{call, pair, wait_state};

pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "{what} did not happen within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

#[tokio::test]
async fn an_answered_call_is_recorded_at_both_stations_and_sealed_when_it_ends() {
    let (dir, alpha, bravo) = pair().await;
    let started = call(&alpha, "bravo", CallOp::Start, "op").await.expect("call");
    let id: CallId = started["id"].as_str().expect("id").parse().expect("call id");
    wait_state(&bravo, &id.to_string(), "ringing").await;
    call(&bravo, "alpha", CallOp::Answer(id), "op").await.expect("answer");
    wait_state(&alpha, &id.to_string(), "answered").await;
    let part = |station: &str| dir.path().join(station).join(format!("recordings/{id}.opus.part"));
    let sealed = |station: &str| dir.path().join(station).join(format!("recordings/{id}.opus"));
    eventually("recordings under way at both stations", || part("alpha").exists() && part("bravo").exists()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    call(&alpha, "bravo", CallOp::Hangup(id), "op").await.expect("hang up");
    eventually("both recordings sealed", || sealed("alpha").exists() && sealed("bravo").exists()).await;
    for station in ["alpha", "bravo"] {
        let report = hotline_recording::summarize(&sealed(station)).expect("the recording reads back");
        assert_eq!(report.problems, vec![], "{station}'s recording is sound");
        assert!(report.eos, "{station}'s recording ends with its EOS page");
        assert!(report.summary.duration_ms >= 400, "{station}: {} ms", report.summary.duration_ms);
        assert!(report.tags.iter().any(|(k, v)| k == "HOTLINE_CALL_ID" && *v == id.to_string()));
        #[cfg(unix)]
        assert_eq!(mode(&sealed(station)), 0o600, "{station}'s recording is the station user's only");
        assert!(!part(station).exists());
    }
    // Each record holds its own summary and the peer's, signed; the packet hashes agree.
    let mut own = Vec::new();
    for (r, peer_station) in [(&alpha, "bravo"), (&bravo, "alpha")] {
        let ours = entry(r, "call.recorded", id).await;
        let file = hotline_recording::summarize(&sealed(&r.name)).expect("reads").summary;
        assert_eq!(ours["sha256"], file.sha256_hex(), "{}'s record names its file", r.name);
        assert_eq!((ours["bytes"].as_u64(), ours["duration_ms"].as_u64()), (Some(file.bytes), Some(file.duration_ms)));
        assert_eq!(ours["cut_off"], false);
        let peer_file = hotline_recording::summarize(&sealed(peer_station)).expect("reads").summary;
        let theirs = eventually_entry(r, "call.recorded_by_peer", id).await;
        assert_eq!(theirs["sha256"], peer_file.sha256_hex(), "{} holds {peer_station}'s hash", r.name);
        own.push(ours);
    }
    for side in ["caller", "callee"] {
        assert_eq!(own[0][side], own[1][side], "both stations relayed the same {side} packets");
    }
    // The API's view of the call carries the recording as the record states it.
    for (r, ours) in [(&alpha, &own[0]), (&bravo, &own[1])] {
        let wanted = id.to_string();
        let row = r.state.core.read(move |tx| tx.call_recording(&wanted)).await.expect("read");
        let row = row.expect("the recording is stored beside the record");
        assert_eq!(serde_json::json!(row.sha256), ours["sha256"], "{}", r.name);
        assert_eq!(Some(row.bytes), ours["bytes"].as_u64());
    }
    // The auditor's cross-check: each record holds the other's statement; both agree.
    let (a, b) = (export_of(&alpha, "bravo").await, export_of(&bravo, "alpha").await);
    let report = hotline_audit::cross_check(&a, &b).expect("the records agree");
    assert_eq!(report.recordings.len(), 1, "{}", report.render());
    let m = &report.recordings[0];
    assert_eq!(m.call, id.to_string());
    assert!(m.a_witnessed_by_b && m.b_witnessed_by_a, "{}", report.render());
    assert_eq!((m.caller, m.callee), (Some(hotline_audit::Agreement::Agree), Some(hotline_audit::Agreement::Agree)));
    assert_eq!(m.a.as_ref().and_then(|r| r.station_is_caller()), Some(true), "alpha called");
    assert!(report.render().contains("witnessed by bravo"), "{}", report.render());
    assert_eq!(hotline_audit::recordings(&a).expect("stated").len(), 1);
    alpha.stop().await;
    bravo.stop().await;
}

pub(crate) async fn export_of(r: &hotline_station::serve::Running, peer: &str) -> hotline_audit::Export {
    let key = r.state.lines.get(peer).expect("line").key.clone();
    let text = hotline_station::export::export(&r.state.core, r.state.key.clone(), vec![key]).await.expect("export");
    hotline_audit::parse_export(text.as_bytes()).expect("parse")
}

pub(crate) async fn entry(r: &hotline_station::serve::Running, kind: &str, id: CallId) -> serde_json::Value {
    let entries = r.state.core.read(|tx| tx.entries_after(0, 100_000)).await.expect("entries");
    let found = entries
        .into_iter()
        .rev()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str::<serde_json::Value>(&e.body).expect("body"))
        .find(|b| b["id"] == id.to_string());
    found.unwrap_or(serde_json::Value::Null)
}

pub(crate) async fn eventually_entry(r: &hotline_station::serve::Running, kind: &str, id: CallId) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = entry(r, kind, id).await;
        if !found.is_null() {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "no {kind} for {id} at {}", r.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_recording_a_crash_left_unsealed_is_closed_and_sealed_at_the_next_start() {
    let (dir, alpha, bravo) = pair().await;
    // A real call of the line, whose recording alpha then loses to a "crash": its file is
    // replaced by an unfinished one, as a SIGKILL mid-call leaves it.
    let started = call(&alpha, "bravo", CallOp::Start, "op").await.expect("call");
    let id: CallId = started["id"].as_str().expect("id").parse().expect("call id");
    wait_state(&bravo, &id.to_string(), "ringing").await;
    call(&bravo, "alpha", CallOp::Answer(id), "op").await.expect("answer");
    wait_state(&alpha, &id.to_string(), "answered").await;
    call(&alpha, "bravo", CallOp::Hangup(id), "op").await.expect("hang up");
    eventually_entry(&alpha, "call.recorded", id).await;
    alpha.stop().await;
    std::fs::remove_file(dir.path().join(format!("alpha/recordings/{id}.opus"))).expect("remove");
    let recordings = dir.path().join("alpha/recordings");
    let part = recordings.join(format!("{id}.opus.part"));
    let info = CallInfo {
        call_id: &id.to_string(),
        station: "alpha",
        peer: "bravo",
        start_time: "2026-12-03T00:00:00Z",
        start_ms: 0,
    };
    // Two seconds of our side, written and synced, then the recorder is dropped unfinished,
    // as a SIGKILL would leave it.
    let mut recorder = Recorder::create(&part, &info, Config::default(), 0).expect("create");
    for slot in 0..100u32 {
        let packet = [0x78, 0x01, 0x02, 0x03];
        let now_ms = u64::from(slot) * 20;
        recorder.push(Direction::Ours, now_ms, 1000 + slot * 960, &packet).expect("push");
    }
    recorder.handle_timeout(4_000).expect("sync");
    drop(recorder);
    assert!(!hotline_recording::summarize(&part).expect("reads").eos, "cut off: no EOS page yet");

    let alpha = hotline_station::serve::start(&dir.path().join("alpha")).await.expect("alpha again");
    let sealed = recordings.join(format!("{id}.opus"));
    eventually("the cut-off recording sealed", || sealed.exists()).await;
    let recorded = entry(&alpha, "call.recorded", id).await;
    assert_eq!(recorded["cut_off"], true, "the record says the recording was cut off: {recorded}");
    assert_eq!(recorded["sha256"], hotline_recording::summarize(&sealed).expect("reads").summary.sha256_hex());
    eventually("the cut-off recording sealed", || sealed.exists()).await;
    let report = hotline_recording::summarize(&sealed).expect("reads back");
    assert!(report.eos && report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.summary.ours.packets >= 90, "what was synced is kept: {}", report.summary.ours.packets);
    alpha.stop().await;
    bravo.stop().await;
}

/// A full tmpfs mounted over a station's recordings directory for one test, unmounted
/// when dropped (the test runs as root, as the namespace tests do).
struct FullDisk(std::path::PathBuf);

impl FullDisk {
    fn over(dir: &std::path::Path) -> FullDisk {
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(mounted.success(), "mounting a tmpfs over {} (needs root)", dir.display());
        let disk = FullDisk(dir.to_owned());
        // Fill it: every later write there fails with ENOSPC.
        let ballast = std::fs::File::create(dir.join("ballast")).expect("ballast");
        let mut ballast = std::io::BufWriter::new(ballast);
        let block = [0_u8; 4096];
        while std::io::Write::write_all(&mut ballast, &block).and_then(|()| std::io::Write::flush(&mut ballast)).is_ok()
        {
        }
        disk
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_recording_that_cannot_be_written_does_not_drop_the_call_and_the_record_and_an_alarm_say_so() {
    let (dir, alpha, bravo) = pair().await;
    let _full = FullDisk::over(&dir.path().join("alpha/recordings"));
    let started = call(&alpha, "bravo", CallOp::Start, "op").await.expect("call");
    let id: CallId = started["id"].as_str().expect("id").parse().expect("call id");
    wait_state(&bravo, &id.to_string(), "ringing").await;
    call(&bravo, "alpha", CallOp::Answer(id), "op").await.expect("answer");
    let answered = wait_state(&alpha, &id.to_string(), "answered").await;
    let stopped = eventually_entry(&alpha, "call.recording_stopped", id).await;
    assert_eq!(stopped["peer"], "bravo");
    let why = stopped["why"].as_str().expect("why");
    assert!(why.contains("No space left on device"), "the record says why: {why}");
    let ms = |v: &serde_json::Value| {
        let t = time::OffsetDateTime::parse(v.as_str().expect("time"), &time::format_description::well_known::Rfc3339);
        let t = t.expect("RFC 3339");
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).expect("ms")
    };
    let late_ms = ms(&stopped["stopped_at"]) - ms(&answered["answered"]);
    assert!((0..1_000).contains(&late_ms), "stopped {late_ms} ms after the answer: the recorder failed at once");
    // A critical alarm for the operators, within a second of the fault.
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    let alarm = raised_by(&alpha, "recording_stopped", deadline).await;
    assert_eq!((alarm["peer"].as_str(), alarm["severity"].as_str()), (Some("bravo"), Some("critical")), "{alarm}");
    assert!(alarm["message"].as_str().unwrap_or_default().contains(&id.to_string()), "{alarm}");
    // Bravo is told, signed, and raises the same alarm: both operators see it.
    let told = eventually_entry(&bravo, "call.recording_stopped_by_peer", id).await;
    assert_eq!((told["peer"].as_str(), told["why"].as_str()), (Some("alpha"), Some(why)), "{told}");
    let alarm_at_bravo = raised_by(&bravo, "peer_recording_stopped", deadline).await;
    assert_eq!(alarm_at_bravo["peer"], "alpha", "{alarm_at_bravo}");
    let told_text = alarm_at_bravo["message"].as_str().unwrap_or_default();
    assert!(
        told_text.contains("alpha reports that its recording") && told_text.contains(&id.to_string()),
        "{told_text}"
    );
    assert_eq!(alarm_at_bravo["severity"], "critical");
    // A console that loads the call (a reload, an operator logging in mid-call) is told too.
    for (r, side, other) in [(&alpha, "here", "peer"), (&bravo, "peer", "here")] {
        let auditor = crate::recording_retention::token(r, "au", hotline_store::Role::Auditor).await;
        let path = format!("/api/v1/calls/{id}");
        let (status, view) = crate::recording_retention::api(r, "GET", &path, &auditor, None).await;
        assert_eq!(status, axum::http::StatusCode::OK, "{view}");
        let stop = &view["recording_stopped"][side];
        assert!(stop["why"].as_str().is_some_and(|w| w.contains("No space left on device")), "{}: {view}", r.name);
        assert!(stop["at"].is_string(), "{view}");
        assert!(view["recording_stopped"][other].is_null(), "{}: {view}", r.name);
    }
    // The call goes on, and bravo records it as ever.
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_state(&alpha, &id.to_string(), "answered").await;
    call(&alpha, "bravo", CallOp::Hangup(id), "op").await.expect("hang up");
    let ours = eventually_entry(&bravo, "call.recorded", id).await;
    assert_eq!(ours["cut_off"], false, "bravo's recording is whole");
    assert!(entry(&bravo, "call.recording_stopped", id).await.is_null(), "bravo's recorder had no fault");
    // Both records still verify and agree: the statement is signed like any other.
    let (a, b) = (export_of(&alpha, "bravo").await, export_of(&bravo, "alpha").await);
    let report = hotline_audit::cross_check(&a, &b).expect("the records agree");
    assert!(report.render().contains(&id.to_string()), "{}", report.render());
    alpha.stop().await;
    bravo.stop().await;
}

/// The first `alarm.raised` entry of `cause` at `r`, waited for until `deadline`.
async fn raised_by(
    r: &hotline_station::serve::Running,
    cause: &str,
    deadline: std::time::Instant,
) -> serde_json::Value {
    loop {
        let entries = r.state.core.read(|tx| tx.entries_after(0, 100_000)).await.expect("entries");
        let raised = entries
            .into_iter()
            .filter(|e| e.kind == "alarm.raised")
            .map(|e| serde_json::from_str::<serde_json::Value>(&e.body).expect("body"))
            .find(|b| b["cause"] == cause);
        if let Some(alarm) = raised {
            return alarm;
        }
        assert!(std::time::Instant::now() < deadline, "no {cause} alarm at {} within 1 s", r.name);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
