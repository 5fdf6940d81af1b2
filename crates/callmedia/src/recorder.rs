//! Recording every call whose media runs here: [`RecorderTaps`] is the station's
//! `TapFactory`. Each call's tap hands the packets it is shown to a thread of the call's
//! own that owns a `hotline_recording::Recorder`, so file writes and fsyncs never run on
//! the media task and a slow or failing disk can never stall or drop the call: the tap
//! only `try_send`s into a bounded queue, and a recorder that cannot be created becomes a
//! `NoTap` with the reason logged.
//!
//! The call clock: milliseconds since the factory was made (a monotonic `Instant`), so
//! every call's `now_ms` is on one scale and the recording starts (granule 0) when the
//! call's media starts, which is when the record's `call.*` entry showing it answered is
//! published. A recording is written as `recordings/<call-id>.opus.part` and handed to
//! [`crate::recordings`] once finished, which seals it (see there).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use hotline_call::{CallId, Side};
use hotline_core::core::Core;
use hotline_line::Lines;
use hotline_media::{NoTap, Tap};
use hotline_recording::{CallInfo, Config, Direction, Error, Recorder};

use crate::TapFactory;
use crate::recordings::{self, Finished, Shared};

/// Packets waiting for one call's recorder thread: 10 s of both directions. A recorder
/// further behind than this has a disk that does not keep up; what does not fit is
/// dropped from the recording (counted), never held up in the media path.
#[allow(non_upper_case_globals)]
const recorder_queue_packets_max: usize = 1000;

/// What a tap tells its recorder thread.
enum Input {
    Packet {
        direction: Direction,
        now_ms: u64,
        rtp_timestamp: u32,
        payload: Vec<u8>,
    },
    /// The call ended here at `now_ms`; the peer's last packets may still follow,
    /// stamped no later than that, so the call's time stops here.
    Ending {
        now_ms: u64,
    },
    /// The call's media ended (at `now_ms`, or at its `Ending`).
    End {
        now_ms: u64,
    },
}

/// The station's recorder: one recording per call whose media starts here.
pub struct RecorderTaps {
    pub(crate) shared: Arc<Shared>,
}

impl RecorderTaps {
    /// The recorder writing into `station_dir/recordings` (made 0700 if missing). Must be
    /// called inside the station's tokio runtime. Recordings a crash left unsealed are
    /// recovered and recorded by [`RecorderTaps::recover_unsealed`].
    pub fn new(station_dir: &std::path::Path, core: Arc<Core>, lines: Lines) -> std::io::Result<RecorderTaps> {
        let dir = recordings::ensure_dir(station_dir)?;
        let shared = Shared {
            dir,
            core,
            lines,
            runtime: tokio::runtime::Handle::current(),
            config: Config::default(),
            epoch: Instant::now(),
        };
        Ok(RecorderTaps { shared: Arc::new(shared) })
    }

    /// Closes, marks cut off and records every recording a crash left unsealed, in the
    /// background (the station serves meanwhile).
    pub fn recover_unsealed(&self) {
        let shared = self.shared.clone();
        self.shared.runtime.spawn(async move {
            let blocking = shared.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || recordings::recover_all(&blocking)).await {
                tracing::error!(error = %e, "recovering unsealed recordings failed");
            }
        });
    }

    fn start(&self, call: CallId, peer: &str) -> Result<RecordingTap, Error> {
        let shared = self.shared.clone();
        let path = recordings::part_path(&shared.dir, call);
        let now_ms = shared.now_ms(Instant::now());
        let call_id = call.to_string();
        let start_time = hotline_core::rfc3339(hotline_core::now_ms());
        let info =
            CallInfo { call_id: &call_id, station: &shared.core.name, peer, start_time: &start_time, start_ms: now_ms };
        let recorder = Recorder::create(&path, &info, shared.config, now_ms)?;
        recordings::restrict(&path);
        let (inputs, input_rx) = sync_channel(recorder_queue_packets_max);
        let thread_shared = shared.clone();
        std::thread::Builder::new().name(format!("recorder-{call_id}")).spawn({
            let peer = peer.to_owned();
            move || record(thread_shared, call, &peer, recorder, now_ms, input_rx)
        })?;
        tracing::info!(call = %call, path = %path.display(), "recording the call");
        Ok(RecordingTap { shared, inputs, dropped: 0, ended_ms: None })
    }
}

impl TapFactory for RecorderTaps {
    fn tap(&self, call: CallId, peer: &str, _our_side: Side) -> Box<dyn Tap + Send> {
        match self.start(call, peer) {
            Ok(tap) => Box::new(tap),
            Err(e) => {
                // The call goes on without a recording; the record and the alarm say so.
                tracing::error!(call = %call, error = %e, "the call cannot be recorded");
                recordings::report_stopped(&self.shared, call, peer, &e);
                Box::new(NoTap)
            }
        }
    }
}

/// One call's tap: hands each packet to the call's recorder thread, never waiting.
struct RecordingTap {
    shared: Arc<Shared>,
    inputs: SyncSender<Input>,
    dropped: u64,
    /// When the call ended here, once it has: the call time of every later packet.
    ended_ms: Option<u64>,
}

impl Tap for RecordingTap {
    fn packet(&mut self, direction: Direction, now: Instant, rtp_timestamp: u32, payload: &[u8]) {
        let now_ms = self.shared.now_ms(now);
        // A packet in flight at the end is the call's, but is placed by its RTP time:
        // the wall time after the end must not lengthen the recording.
        let now_ms = self.ended_ms.map_or(now_ms, |end| now_ms.min(end));
        let input = Input::Packet { direction, now_ms, rtp_timestamp, payload: payload.to_vec() };
        match self.inputs.try_send(input) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped += 1;
                if self.dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped = self.dropped,
                        "the recorder falls behind; packets left out of the recording"
                    );
                }
            }
        }
    }

    fn ending(&mut self, now: Instant) {
        let now_ms = self.shared.now_ms(now);
        self.ended_ms = Some(now_ms);
        let _ = self.inputs.try_send(Input::Ending { now_ms });
    }
}

impl Drop for RecordingTap {
    fn drop(&mut self) {
        // The media task ends: the call is over here. Were the queue full, dropping the
        // sender ends the recording all the same, at the moment the thread notices.
        let now_ms = self.ended_ms.unwrap_or_else(|| self.shared.now_ms(Instant::now()));
        let _ = self.inputs.try_send(Input::End { now_ms });
    }
}

/// The recorder thread of one call: writes what the tap sends until the call ends, then
/// finishes the file and hands it on to be recorded and sealed.
fn record(
    shared: Arc<Shared>,
    call: CallId,
    peer: &str,
    mut recorder: Recorder,
    started_ms: u64,
    inputs: Receiver<Input>,
) {
    let mut failed: Option<Error> = None;
    // Once the call has ended here, no timer runs: the time line stays where the end
    // left it, and the last packets are placed by their RTP time.
    let mut ending_ms: Option<u64> = None;
    let end_ms = loop {
        let now_ms = shared.now_ms(Instant::now());
        let timed = failed.is_none() && ending_ms.is_none();
        let wait_ms = if timed { recorder.poll_timeout().saturating_sub(now_ms) } else { u64::MAX };
        let step = match inputs.recv_timeout(Duration::from_millis(wait_ms.min(60_000))) {
            Ok(Input::Packet { direction, now_ms, rtp_timestamp, payload }) => {
                if failed.is_some() {
                    continue;
                }
                recorder.push(direction, now_ms, rtp_timestamp, &payload)
            }
            Ok(Input::Ending { now_ms }) => {
                ending_ms = Some(now_ms);
                continue;
            }
            Ok(Input::End { now_ms }) => break ending_ms.map_or(now_ms, |end| end.min(now_ms)),
            Err(RecvTimeoutError::Disconnected) => break ending_ms.unwrap_or_else(|| shared.now_ms(Instant::now())),
            Err(RecvTimeoutError::Timeout) if timed => recorder.handle_timeout(now_ms),
            Err(RecvTimeoutError::Timeout) => continue,
        };
        match step {
            Ok(()) | Err(Error::Refused { .. }) => {}
            Err(e) => {
                tracing::error!(call = %call, error = %e, "the recording stopped; the call goes on");
                recordings::report_stopped(&shared, call, peer, &e);
                failed = Some(e);
            }
        }
    };
    let finished = match failed {
        None => recorder.finish(end_ms).map(|done| {
            // Where each speaker starts and stops in the file, against the call's end here:
            // what to read first when a recording's length and the call's differ.
            let slot_ms = hotline_recording::SLOT_MS;
            let slot_ms = |p: Option<(u64, u64)>| p.map(|(first, last)| (first * slot_ms, (last + 1) * slot_ms));
            tracing::info!(
                call = %call,
                duration_ms = done.summary.duration_ms,
                ended_ms = end_ms.saturating_sub(started_ms),
                ours_ms = ?slot_ms(done.placed[0]),
                theirs_ms = ?slot_ms(done.placed[1]),
                "recording finished (times from the recording's start)"
            );
            Finished::Whole(done.summary)
        }),
        Some(e) => Err(e),
    };
    let finished = finished.unwrap_or_else(|e| {
        tracing::error!(call = %call, error = %e, "the recording could not be finished; closing what was written");
        Finished::Broken
    });
    recordings::seal(&shared, call, finished);
}
