// Alerts: a banner per alert and a tone generated in the page with Web Audio (no sound
// files), repeating until every alert is acknowledged. The mute toggle silences the tone,
// never the banner, and shows that it is on.
import { t, l10n } from "./i18n.js";

const LEVELS = { critical: 0, flash: 1, down: 2, conflict: 3, immediate: 4 };
// Tone patterns: [frequency Hz, seconds] per beep.
const TONES = {
  critical: [[988, 0.18], [740, 0.18], [988, 0.18], [740, 0.18]],
  flash: [[880, 0.15], [660, 0.15], [880, 0.15]],
  down: [[440, 0.35], [330, 0.45]],
  conflict: [[700, 0.2], [700, 0.2]],
  immediate: [[660, 0.25]],
};
const repeatMs = 2500;

const alerts = new Map();
let audio = null;
let muted = localStorage.getItem("hotline.muted") === "1";
let listEl, muteEl;

export function init(list, muteButton) {
  listEl = list;
  muteEl = muteButton;
  muteEl.addEventListener("click", () => setMuted(!muted));
  setMuted(muted);
  setInterval(tick, repeatMs);
}

/**
 * Creates (or resumes) the audio context; call from a user gesture such as the login.
 * Browsers keep a context made or resumed without a gesture suspended (silent), so this
 * one context, unlocked once, is what every tone of the console plays through (ring.js too).
 */
export function unlockAudio() {
  try {
    if (!audio) {
      audio = new AudioContext();
      audio.addEventListener("statechange", audioStateChanged);
    }
    if (audio.state === "suspended") audio.resume().then(audioStateChanged, () => {});
    audioStateChanged();
  } catch (e) {
    console.warn("no Web Audio:", e);
  }
}

const audioHandlers = [];

/** The console's audio context, or null before the first `unlockAudio`. */
export function audioContext() {
  return audio;
}

/** `f(state)` runs when the audio context's state changes ("running" once unlocked). */
export function onAudioState(f) {
  audioHandlers.push(f);
}

function audioStateChanged() {
  for (const f of audioHandlers) f(audio ? audio.state : "none");
}

function setMuted(on) {
  muted = on;
  localStorage.setItem("hotline.muted", on ? "1" : "0");
  muteEl.setAttribute("aria-pressed", String(on));
  muteEl.classList.toggle("on", on);
  l10n(muteEl, on ? "muted" : "mute");
  updateToneState();
}

/**
 * Raises an alert. `key` identifies it (raising it again updates it); `level` is one of
 * critical, flash, down, conflict, immediate; `text` is a function returning the current
 * language's text; `onAck` runs when the operator acknowledges (return false to keep it).
 */
export function raise(key, level, text, onAck) {
  alerts.set(key, { key, level, text, onAck, raised: Date.now(), note: null });
  render();
  tick();
}

export function clear(key) {
  if (alerts.delete(key)) render();
}

export function has(key) {
  return alerts.has(key);
}

export function note(key, id) {
  const a = alerts.get(key);
  if (a) {
    a.note = id;
    render();
  }
}

export function render() {
  if (!listEl) return;
  listEl.replaceChildren();
  const sorted = [...alerts.values()].sort((a, b) => LEVELS[a.level] - LEVELS[b.level] || a.raised - b.raised);
  for (const a of sorted) {
    const li = document.createElement("li");
    li.className = `alert ${a.level}`;
    li.dataset.key = a.key;
    const text = document.createElement("span");
    text.className = "alert-text";
    text.textContent = a.text() + (a.note ? " " + t(a.note) : "");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "alert-ack";
    btn.textContent = t("alert-ack");
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      const keep = a.onAck ? await a.onAck() : true;
      if (keep === false) btn.disabled = false;
      else clear(a.key);
    });
    li.append(text, btn);
    listEl.append(li);
  }
  updateToneState();
}

function updateToneState() {
  document.body.dataset.tone = alerts.size === 0 ? "off" : muted ? "muted" : "sounding";
}

function tick() {
  updateToneState();
  if (muted || alerts.size === 0 || !audio || audio.state !== "running") return;
  const top = [...alerts.values()].sort((a, b) => LEVELS[a.level] - LEVELS[b.level])[0];
  let at = audio.currentTime + 0.02;
  for (const [freq, secs] of TONES[top.level]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.15, at + 0.01);
    gain.gain.setValueAtTime(0.15, at + secs - 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + secs);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + secs + 0.01);
    at += secs + 0.06;
  }
}
