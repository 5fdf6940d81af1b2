// Ringing that wakes people. While a call rings at this console: a repeating ring through
// Web Audio (a double ring, unlike any alarm tone), the tab title flashing, and — drawn by
// calls.js — the banner. The ring plays through the one audio context alerts.js unlocks
// with the login's gesture, so the first ring of a shift is heard. A console that comes
// back with a live session but no gesture yet (a reload, a browser restart) cannot make a
// sound, and browsers say nothing about it: so it shows a "click to enable sound" control
// until the operator clicks (any click or key in the page arms the sound as well).
// The alarm tones' mute does not silence the ring: a call is answered or declined, and it
// stops by itself when answered at another console, cancelled or missed.

import { audioContext, onAudioState, unlockAudio } from "./alerts.js";
import { $ } from "./dom.js";
import { active } from "./state.js";

// The ring: two bursts of 400 + 450 Hz, then a pause; it repeats every `periodS`.
const RING_FREQS = [400, 450];
const RING_BURSTS = [[0, 0.4], [0.6, 0.4]]; // [offset s, length s] within a period
const periodS = 2.0;
const ringGain = 0.18;
const scheduleAheadS = 0.05;
const titleFlashMs = 800;

let label = null; // the flashing title's text while ringing, else null
let savedTitle = null;
let titleTimer = null;
let sound = null; // {oscs, cadence, analyser, timer, next}: the ring's audio graph while it sounds

/** Starts ringing (or updates the title's text if it already rings). */
export function start(text) {
  const was = label !== null;
  label = text;
  if (!was) {
    savedTitle = document.title;
    flashTitle(true);
    titleTimer = setInterval(() => flashTitle(document.title !== label), titleFlashMs);
  }
  document.body.dataset.ring = "on";
  startSound();
  updateSoundControl();
}

/** Stops ringing: tone, title and all. */
export function stop() {
  if (label === null) return;
  label = null;
  clearInterval(titleTimer);
  titleTimer = null;
  document.title = savedTitle;
  savedTitle = null;
  delete document.body.dataset.ring;
  stopSound();
  updateSoundControl();
}

export function isRinging() {
  return label !== null;
}

function flashTitle(on) {
  document.title = on ? label : savedTitle;
}

/** The tone, if the context runs; otherwise it starts once the operator arms the sound. */
function startSound() {
  const ctx = audioContext();
  if (sound || !ctx || ctx.state !== "running") return;
  const cadence = ctx.createGain();
  cadence.gain.value = 0;
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  cadence.connect(analyser).connect(ctx.destination);
  const oscs = RING_FREQS.map((f) => {
    const osc = ctx.createOscillator();
    osc.type = "sine";
    osc.frequency.value = f;
    osc.connect(cadence);
    osc.start();
    return osc;
  });
  sound = { ctx, oscs, cadence, analyser, next: ctx.currentTime + 0.01, timer: null };
  schedule();
  sound.timer = setInterval(schedule, (periodS * 1000) / 4);
}

/** Schedules the cadence's bursts up to one period ahead, each with short ramps (no clicks). */
function schedule() {
  if (!sound) return;
  const { ctx, cadence } = sound;
  const g = cadence.gain;
  while (sound.next < ctx.currentTime + periodS + scheduleAheadS) {
    const at = Math.max(sound.next, ctx.currentTime);
    for (const [offset, secs] of RING_BURSTS) {
      const a = at + offset;
      g.setValueAtTime(0, a);
      g.linearRampToValueAtTime(ringGain, a + 0.01);
      g.setValueAtTime(ringGain, a + secs - 0.01);
      g.linearRampToValueAtTime(0, a + secs);
    }
    sound.next = at + periodS;
  }
}

function stopSound() {
  if (!sound) return;
  const { ctx, oscs, cadence, analyser, timer } = sound;
  sound = null;
  clearInterval(timer);
  cadence.gain.cancelScheduledValues(0);
  cadence.gain.setValueAtTime(0, ctx.currentTime);
  for (const osc of oscs) {
    osc.stop(ctx.currentTime + 0.02);
    osc.onended = () => osc.disconnect();
  }
  setTimeout(() => { cadence.disconnect(); analyser.disconnect(); }, 100);
}

/**
 * The ring as it is now, for the browser tests and the devtools: ringing (banner and
 * title), the audio context's state, whether the tone's graph is live, and the peak level
 * of the last ~40 ms of its output (0 between bursts).
 */
export function status() {
  const ctx = audioContext();
  let level = 0;
  if (sound) {
    const data = new Float32Array(sound.analyser.fftSize);
    sound.analyser.getFloatTimeDomainData(data);
    for (const v of data) level = Math.max(level, Math.abs(v));
  }
  return { ringing: label !== null, audio: ctx ? ctx.state : "none", sounding: sound !== null, level };
}

/** Shows the "click to enable sound" control when the console is on screen but silent. */
export function updateSoundControl() {
  const el = $("sound-enable");
  if (!el) return;
  const ctx = audioContext();
  const silent = !ctx || ctx.state !== "running";
  el.hidden = !(active() && silent);
  el.classList.toggle("ringing", label !== null);
  document.body.dataset.sound = silent ? "off" : "on";
}

function armed(state) {
  if (state === "running" && label !== null) startSound();
  if (state !== "running") stopSound();
  updateSoundControl();
}

/** Wires the control and arms the sound on the first click or key anywhere in the page. */
export function wire() {
  onAudioState(armed);
  $("sound-enable").addEventListener("click", () => unlockAudio());
  const arm = () => {
    const ctx = audioContext();
    if (!ctx || ctx.state !== "running") unlockAudio();
  };
  document.addEventListener("pointerdown", arm, true);
  document.addEventListener("keydown", arm, true);
}
