//! The test kit: real Opus packets from ffmpeg, a recorder fed in simulated time, and
//! the outside tools (ffprobe, ffmpeg, opusinfo) that judge the files it writes. The
//! tools are required: a missing one fails the test and says what to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use hotline_recording::{CallInfo, Config, Direction, Finished, Recorder};

pub const START_MS: u64 = 1_000_000;

/// A fresh directory for one test; the first call clears those of earlier runs.
pub fn scratch_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static CLEARED: OnceLock<()> = OnceLock::new();
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let ours = format!("-{}-", std::process::id());
    CLEARED.get_or_init(|| {
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("recording-") && !name.contains(&ours) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = root.join(format!("recording-{name}{ours}{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs a tool, failing clearly when it is not installed.
pub fn run(tool: &str, args: &[&str]) -> std::process::Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "{tool} could not be run ({e}): these tests need ffmpeg and opus-tools \
             (Debian: apt-get install -y ffmpeg opus-tools)"
        ),
    }
}

/// The Opus packets (without the two headers) of a 6 s tone at `hz`, 32 kbit/s, 20 ms
/// frames, VoIP mode, as ffmpeg's libopus encoder makes them. Made once per run.
pub fn tone_packets(hz: u32) -> &'static [Vec<u8>] {
    static TONES: [OnceLock<Vec<Vec<u8>>>; 2] = [OnceLock::new(), OnceLock::new()];
    let cell = match hz {
        1000 => &TONES[0],
        2000 => &TONES[1],
        _ => panic!("only 1 and 2 kHz tones are made"),
    };
    cell.get_or_init(|| {
        let dir = scratch_dir(&format!("tone{hz}"));
        let file = dir.join("tone.opus");
        let source = format!("sine=frequency={hz}:duration=6");
        let out = run(
            "ffmpeg",
            &[
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                &source,
                "-c:a",
                "libopus",
                "-b:a",
                "32k",
                "-frame_duration",
                "20",
                "-application",
                "voip",
                file.to_str().expect("utf-8 path"),
            ],
        );
        assert!(out.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&out.stderr));
        let bytes = std::fs::read(&file).expect("read tone");
        let packets = hotline_recording::ogg_packets(&bytes).expect("ffmpeg's Ogg parses");
        packets.into_iter().skip(2).map(|(p, _)| p).collect()
    })
}

/// One packet as it arrives: which direction, when, its RTP timestamp and bytes.
pub struct Arrival {
    pub direction: Direction,
    pub at_ms: u64,
    pub rtp: u32,
    pub payload: Vec<u8>,
}

/// The arrivals of one direction sending `packets` from `first_ms` after the start,
/// one every 20 ms, with RTP timestamps from `rtp_base`, skipping indices `skip` says.
pub fn direction(
    direction: Direction,
    packets: &[Vec<u8>],
    first_ms: u64,
    rtp_base: u32,
    skip: impl Fn(usize) -> bool,
) -> Vec<Arrival> {
    (0..packets.len())
        .filter(|&i| !skip(i))
        .map(|i| Arrival {
            direction,
            at_ms: START_MS + first_ms + 20 * i as u64,
            rtp: rtp_base.wrapping_add(960 * i as u32),
            payload: packets[i].clone(),
        })
        .collect()
}

pub fn call_info() -> CallInfo<'static> {
    CallInfo {
        call_id: "0190f3a2-7c1e-7d3a-9b2e-5f4c3b2a1d0e",
        station: "north",
        peer: "south",
        start_time: "2026-03-01T12:00:00Z",
        start_ms: START_MS,
    }
}

/// Feeds `arrivals` (merged in arrival order) to a new recorder at `path`.
pub fn record_unfinished(path: &Path, mut arrivals: Vec<Arrival>, config: Config) -> (Recorder, u64) {
    arrivals.sort_by_key(|a| a.at_ms);
    let mut recorder = Recorder::create(path, &call_info(), config, START_MS).expect("create");
    let mut now = START_MS;
    for a in &arrivals {
        now = a.at_ms;
        if recorder.poll_timeout() <= now {
            recorder.handle_timeout(now).expect("timeout");
        }
        match recorder.push(a.direction, now, a.rtp, &a.payload) {
            Ok(()) => {}
            Err(e) => panic!("a good packet was refused: {e}"),
        }
    }
    (recorder, now)
}

/// Feeds `arrivals` and finishes the recording.
pub fn record(path: &Path, arrivals: Vec<Arrival>) -> Finished {
    let (recorder, now) = record_unfinished(path, arrivals, Config::default());
    recorder.finish(now + 20).expect("finish")
}

/// The duration ffprobe reads from the file's granule positions, in milliseconds.
pub fn ffprobe_duration_ms(path: &Path) -> f64 {
    let out = run(
        "ffprobe",
        &["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "ffprobe failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse::<f64>().unwrap_or_else(|_| panic!("ffprobe said {text:?}")) * 1000.0
}

/// The file decoded by ffmpeg's own Opus decoder to 48 kHz stereo: (left, right).
pub fn decode(path: &Path) -> (Vec<f32>, Vec<f32>) {
    decode_with(path, "opus")
}

/// The file decoded by `decoder` ("opus", ffmpeg's own, or "libopus"). Fails on any
/// decoder complaint, so that fillers and re-framing are proven clean, not tolerated.
pub fn decode_with(path: &Path, decoder: &str) -> (Vec<f32>, Vec<f32>) {
    let path = path.to_str().expect("utf-8");
    let out =
        run("ffmpeg", &["-v", "error", "-c:a", decoder, "-i", path, "-f", "f32le", "-ac", "2", "-ar", "48000", "-"]);
    assert!(out.status.success(), "ffmpeg decode failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "ffmpeg complained: {}", String::from_utf8_lossy(&out.stderr));
    let samples: Vec<f32> = out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    (samples.iter().step_by(2).copied().collect(), samples.iter().skip(1).step_by(2).copied().collect())
}

/// opusinfo's verdict: it must report no errors or warnings.
pub fn assert_opusinfo_clean(path: &Path) {
    let out = run("opusinfo", &[path.to_str().expect("utf-8")]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "opusinfo failed:\n{text}");
    let lower = text.to_lowercase();
    assert!(!lower.contains("error") && !lower.contains("warning"), "opusinfo complained:\n{text}");
}

/// The power of `hz` in `samples` (48 kHz), by Goertzel, per sample.
pub fn tone_power(samples: &[f32], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 48_000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s = x as f64 + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.len() as f64).powi(2)
}

/// The samples from `from_ms` to `to_ms`.
pub fn window(samples: &[f32], from_ms: u64, to_ms: u64) -> &[f32] {
    let at = |ms: u64| ((ms * 48) as usize).min(samples.len());
    &samples[at(from_ms)..at(to_ms)]
}

/// Asserts that `samples` carry `hz` clearly above `other_hz`.
pub fn assert_tone(samples: &[f32], hz: f64, other_hz: f64, what: &str) {
    let (power, other) = (tone_power(samples, hz), tone_power(samples, other_hz));
    assert!(power > 1e-4 && power > 100.0 * other, "{what}: {hz} Hz power {power:e}, {other_hz} Hz power {other:e}");
}
