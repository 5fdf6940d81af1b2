// Call audio: the WebRTC leg between this console and its own station for the call it
// holds (issue #16). The microphone opens at the operator's own click (Call or Answer),
// so the browser asks for it while the operator is looking; once the call is answered the
// console offers one audio track, POSTs the SDP to /api/v1/calls/{id}/media and plays the
// far side's audio in an <audio> element (a remote WebRTC stream only plays, and can only
// be analysed, once attached to one). On hang-up, or when the call ends in any other way,
// the peer connection closes and the microphone is released.
//
// No ICE servers: the station answers ICE-lite with a host candidate of its own, and
// nothing may be fetched from outside the station. calls.js decides which call is ours
// and tells this module through `sync`.

import { api, apiPath } from "./api.js";

// Echo cancellation keeps the far side's voice out of ours; noise suppression and gain
// control stay off, since a tone or an alarm in the room is part of what was said.
const micConstraints = { audio: { echoCancellation: true, noiseSuppression: false, autoGainControl: false }, video: false };

// The far end's audio has stopped arriving when no packet came for this long: browsers
// send Opus without DTX, 50 packets a second even in silence, so a gap this long is a
// broken path (UDP between the stations cut, say), not a quiet operator.
const farSilentMs = 2500;
const statsEveryMs = 500;

const legs = new Map(); // call id -> {pc, audio, closed, error, microphone, packets, heardAt, silent, timer}
let mic = null; // Promise of the microphone's MediaStream (or null if refused), while a call needs it
let changed = () => {}; // calls.js redraws the call bar when a leg's state changes

/** `f()` runs whenever a leg's audio state changes (see `stateOf`). */
export function onChange(f) {
  changed = f;
}

/**
 * What the operator should know about call `id`'s audio: {state: "connecting" |
 * "connected" | "far-silent" | "no-microphone" | "failed", reason?}, or null without a leg.
 */
export function stateOf(id) {
  const leg = legs.get(id);
  if (!leg) return null;
  if (leg.error) return { state: "failed", reason: leg.error };
  const s = leg.pc.connectionState;
  if (s === "failed" || s === "closed") return { state: "failed", reason: s };
  if (s !== "connected") return { state: "connecting" };
  if (!leg.microphone) return { state: "no-microphone" };
  return leg.silent ? { state: "far-silent" } : { state: "connected" };
}

/** Opens the microphone, at the operator's gesture (the Call or Answer click). */
export function armMicrophone() {
  if (!mic) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return Promise.resolve(null);
    mic = navigator.mediaDevices.getUserMedia(micConstraints).catch((e) => {
      console.warn("no microphone:", e);
      return null;
    });
  }
  return mic;
}

function releaseMicrophone() {
  const opened = mic;
  mic = null;
  if (opened) opened.then((stream) => stream && stream.getTracks().forEach((t) => t.stop()));
}

/** Makes the legs match `ids`, the calls this console holds that are answered. */
export function sync(ids) {
  const wanted = new Set(ids);
  for (const id of wanted) if (!legs.has(id)) connect(id);
  for (const id of [...legs.keys()]) if (!wanted.has(id)) close(id);
  if (!wanted.size && !legs.size) releaseMicrophone();
}

async function connect(id) {
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
  const audio = document.createElement("audio");
  audio.autoplay = true;
  audio.dataset.callId = id;
  audio.className = "call-audio";
  document.body.append(audio);
  const leg = { pc, audio, closed: false, error: null, microphone: false, packets: 0, heardAt: Date.now(),
    silent: false, timer: null };
  legs.set(id, leg);
  pc.onconnectionstatechange = () => changed();
  leg.timer = setInterval(() => watchFarEnd(leg), statsEveryMs);
  pc.ontrack = (ev) => {
    audio.srcObject = ev.streams[0] || new MediaStream([ev.track]);
    audio.play().catch((e) => console.warn("call audio does not play:", e));
  };
  try {
    const stream = await armMicrophone();
    if (leg.closed) return;
    if (stream && stream.getAudioTracks().length) {
      for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
      leg.microphone = true;
    } else {
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await api("POST", apiPath("calls", id, "media"), { type: "offer", sdp: pc.localDescription.sdp });
    if (leg.closed) return;
    await pc.setRemoteDescription(answer);
  } catch (e) {
    leg.error = e.message || e.code || String(e);
    console.warn("call audio not connected:", e);
  }
  changed();
}

/** Marks the leg silent while the far end's packets have stopped coming (see farSilentMs). */
async function watchFarEnd(leg) {
  if (leg.closed || leg.pc.connectionState !== "connected") return;
  let packets = 0;
  try {
    (await leg.pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") packets += r.packetsReceived || 0;
    });
  } catch (e) {
    return;
  }
  const now = Date.now();
  if (packets > leg.packets) {
    leg.packets = packets;
    leg.heardAt = now;
  }
  const silent = now - leg.heardAt > farSilentMs;
  if (silent !== leg.silent) {
    leg.silent = silent;
    changed();
  }
}

function close(id) {
  const leg = legs.get(id);
  if (!leg) return;
  legs.delete(id);
  clearInterval(leg.timer);
  leg.closed = true;
  leg.pc.close();
  leg.audio.srcObject = null;
  leg.audio.remove();
  if (!legs.size) releaseMicrophone();
}

/** The legs as they stand, for the browser tests and the devtools. */
export function status() {
  return [...legs.entries()].map(([id, leg]) => ({ id, connection: leg.pc.connectionState,
    ice: leg.pc.iceConnectionState, playing: !!leg.audio.srcObject, error: leg.error, audio: stateOf(id) }));
}
