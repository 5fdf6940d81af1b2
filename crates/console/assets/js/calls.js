// Calls (PRODUCT.md "Calls"): the console's view of the station's voice calls and their
// controls. The call button on each line card; the call bar, with a ringing call's banner
// (caller, Answer, Decline), our own call ringing at the far end ("ringing bravo…") and
// the call in progress, each with Hang up; a refused call's reason; and the history panel
// (who called, who answered, when, how long, how it ended, and the recording to play). `document.body.dataset.call`
// is the state of this console's current call: `ringing`, `answered`, or absent.
//
// The calls come from GET /api/v1/calls on every (re)sync and from the `call.*` entries of
// the event stream. Views of one call can cross (a POST's answer and the stream's entry
// for the same step), so a view never replaces one further along (ringing < answered <
// over). Which calls are "this console's" is local: the ones it started or answered here
// (kept for the tab's life in sessionStorage); a call another console of this station
// holds shows as such, without making this one ring or look busy. ring.js does the ringing,
// call-audio.js the audio of the answered call this console holds.

import { api, apiPath, withQuery } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { duration, stamp } from "./time.js";
import * as ring from "./ring.js";
import * as callAudio from "./call-audio.js";
import { S } from "./state.js";

const historyShownMax = 50;
const statusShownMs = 15000;
const mineKey = "hotline.calls.mine";
const mineKept = 50;

const calls = new Map(); // id -> the latest call view (the API's shape)
const steps = new Map(); // id -> the last `call.*` kind seen for it (event stream or our own click)
const starting = new Set(); // peers this console is starting a call to (POST in flight)
const busy = new Set(); // call ids with an answer, decline or hang-up in flight from here
let mine = loadMine(); // ids of calls this console started or answered
let status = null; // {id, args} of the last refusal shown, or null
let statusTimer = null;

function loadMine() {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(mineKey) || "[]"));
  } catch (e) {
    return new Set();
  }
}

function remember(id) {
  mine.add(id);
  sessionStorage.setItem(mineKey, JSON.stringify([...mine].slice(-mineKept)));
}

function forget(id) {
  mine.delete(id);
  sessionStorage.setItem(mineKey, JSON.stringify([...mine]));
}

const live = (c) => c.state === "ringing" || c.state === "answered";
const rank = (c) => (c.state === "ringing" ? 0 : c.state === "answered" || c.state === "superseded" ? 1 : 2);

/**
 * What call `c` is to this console: "ringing-in" (it rings here), "connecting" (answered
 * here, the caller's station is connecting it), "ringing-out" (ours, ringing there),
 * "answered" (ours, in progress), "elsewhere" (live, held by another console here), or
 * null (over, or ending: declined here and waiting for the caller's verdict, a stale ring).
 */
function role(c) {
  if (!live(c)) return null;
  const step = steps.get(c.id);
  if (c.direction === "in" && c.state === "ringing") {
    if (c.alerting && step !== "call.leaving") return "ringing-in";
    if (step === "call.answering") return mine.has(c.id) ? "connecting" : "elsewhere";
    return null;
  }
  if (c.state === "ringing") return mine.has(c.id) ? "ringing-out" : "elsewhere";
  return mine.has(c.id) ? "answered" : "elsewhere";
}

/** Stores a view of a call unless we hold one further along; claims our own new call. */
function upsert(c) {
  const old = calls.get(c.id);
  if (old && rank(c) < rank(old)) return;
  // A step's view of the call never carries the recording; the API's and call.recorded do.
  if (old && old.recording && !c.recording) c = { ...c, recording: old.recording };
  // The API's view says where a recording stopped; a step's view does not, so keep it.
  const stopped = c.recording_stopped
    ? { here: c.recording_stopped.here && c.recording_stopped.here.why, peer: c.recording_stopped.peer && c.recording_stopped.peer.why }
    : old && old.recordingStopped;
  if (stopped) c = { ...c, recordingStopped: stopped };
  if (c.direction === "out" && c.state === "ringing" && starting.has(c.peer)) remember(c.id);
  calls.set(c.id, c);
}

/** Forgets everything (logout, another user, a session that ended); the next sync reloads. */
export function reset() {
  calls.clear();
  steps.clear();
  starting.clear();
  busy.clear();
  showStatus(null);
  render();
}

/** All calls (newest first), after a (re)connection. */
export async function loadCalls() {
  try {
    for (const c of await api("GET", withQuery(apiPath("calls"), { state: "all" }))) upsert(c);
    render();
  } catch (e) {
    if (e.status !== 401) console.warn("calls load failed:", e);
  }
}

callAudio.onChange(() => render());

/** A `call.*` entry from the event stream (`data.call` is the call after the step). */
export function onCallEvent(kind, data) {
  if (kind === "call.recorded") return onRecorded(data);
  if (kind === "call.recording_deleted") return onRecordingDeleted(data);
  if (kind === "call.recording_stopped" || kind === "call.recording_stopped_by_peer") {
    return onRecordingStopped(data, kind === "call.recording_stopped" ? "here" : "peer");
  }
  if (!data || !data.call) return; // call.refused: no call; the refused POST says why
  steps.set(data.id, kind);
  upsert(data.call);
  render();
}

/** This station sealed its recording of a call (`call.recorded`): it can be played. */
function onRecorded(data) {
  const c = data && calls.get(data.id);
  if (!c) return; // not loaded here yet: the next sync's GET /api/v1/calls brings it
  const recording = { sha256: data.sha256, bytes: data.bytes, duration_s: data.duration_ms / 1000, cut_off: data.cut_off };
  calls.set(c.id, { ...c, recording });
  render();
}

/**
 * A recorder stopped before the call ended (`where`: "here", or "peer" when the peer says
 * its own did): the call goes on, and the operators must know it is no longer recorded.
 */
function onRecordingStopped(data, where) {
  const c = data && calls.get(data.id);
  if (!c) return; // the alarm board says so too
  calls.set(c.id, { ...c, recordingStopped: { ...(c.recordingStopped || {}), [where]: data.why || "?" } });
  render();
}

/** The call bar's mark of a recording that stopped, if one did. */
function stoppedMark(c) {
  const s = c.recordingStopped;
  if (!s) return null;
  const texts = [s.here && t("call-recording-stopped-here", { why: s.here }),
    s.peer && t("call-recording-stopped-peer", { peer: c.peer.toUpperCase(), why: s.peer })].filter(Boolean);
  return h("span", { class: "call-recording-stopped", role: "alert", text: texts.join(" ") });
}

/** This station deleted a call's recording (retention, or a supervisor): no more player. */
function onRecordingDeleted(data) {
  const c = data && calls.get(data.id);
  if (!c || !c.recording) return; // the next sync's GET /api/v1/calls brings it
  const why = data.why === "supervisor" ? `by supervisor ${data.by}: ${data.reason}` : data.why;
  calls.set(c.id, { ...c, recording: { ...c.recording, deleted: { at: data.at, why } } });
  render();
}

/** The player of a call's recording in the history, fetched only when played. */
function recordingPlayer(c) {
  const r = c.recording;
  const length = duration(Math.round(r.duration_s * 1000));
  if (r.deleted) {
    const at = stamp(r.deleted.at);
    const text = r.deleted.why === "retention"
      ? t("call-recording-deleted-retention", { duration: length, at })
      : t("call-recording-deleted-by", { duration: length, at, why: r.deleted.why });
    return h("span", { class: "call-recording call-recording-deleted", dataset: { sha256: r.sha256 } },
      h("span", { class: "call-recording-label", text }));
  }
  return h("span", { class: "call-recording", dataset: { sha256: r.sha256, cutOff: r.cut_off ? "true" : "false" } },
    h("span", { class: "call-recording-label",
      text: t(r.cut_off ? "call-recording-cut-off" : "call-recording", { duration: length }) }),
    h("audio", { class: "call-recording-audio", controls: true, preload: "none",
      src: apiPath("calls", c.id, "recording"), "aria-label": t("call-recording-label") }));
}

/** The call button of line `peer`, for its card on the board. */
export function callButton(peer) {
  return h("button", { type: "button", class: "line-call", dataset: { action: "call", peer },
    disabled: starting.has(peer), title: t("call-button-label", { peer: peer.toUpperCase() }),
    "aria-label": t("call-button-label", { peer: peer.toUpperCase() }), onclick: () => startCall(peer) },
  t("call-button"));
}

async function startCall(peer) {
  starting.add(peer);
  callAudio.armMicrophone(); // at the click: the browser grants the microphone to a gesture
  const posted = api("POST", apiPath("lines", peer, "calls")); // first: the far end's ring waits on it
  showStatus(null);
  render();
  try {
    const c = await posted;
    remember(c.id);
    upsert(c);
  } catch (e) {
    showStatus(refusal(e, peer));
  } finally {
    starting.delete(peer);
    render();
  }
}

function refusal(e, peer) {
  const args = { peer: peer.toUpperCase(), message: e.message || e.code || String(e.status) };
  if (e.code === "line_down" || e.code === "call_in_progress") return { id: `call-error-${e.code}`, args };
  return { id: "call-error", args };
}

/** Answer, decline or hang up call `id`; `step` is what it means here at once. */
async function act(id, action, step) {
  if (busy.has(id)) return;
  busy.add(id);
  const before = steps.get(id);
  if (action === "answer") {
    remember(id);
    callAudio.armMicrophone();
  }
  if (step) steps.set(id, step);
  showStatus(null);
  render();
  try {
    upsert(await api("POST", apiPath("calls", id, action)));
  } catch (e) {
    if (action === "answer") forget(id);
    if (step && steps.get(id) === step) steps.set(id, before);
    showStatus({ id: "call-error-action", args: { message: e.message || e.code } });
    if (e.status === 404 || e.status === 409) refresh(id);
  } finally {
    busy.delete(id);
    render();
  }
}

/** Re-reads one call (after a refused action: someone else may have acted first). */
async function refresh(id) {
  try {
    upsert(await api("GET", apiPath("calls", id)));
    render();
  } catch (e) {
    // Shown by the refusal already.
  }
}

function showStatus(s) {
  status = s;
  clearTimeout(statusTimer);
  if (s) statusTimer = setTimeout(() => showStatus(null), statusShownMs);
  const el = $("call-status");
  if (!el) return;
  el.textContent = s ? t(s.id, s.args) : "";
  el.hidden = !s;
}

/** Redraws the call bar, the line cards' call buttons, the history and the ring. */
export function render() {
  const current = [...calls.values()].map((c) => [c, role(c)]).filter(([, r]) => r)
    .sort(([a], [b]) => (b.started || "").localeCompare(a.started || ""));
  $("call-bar").replaceChildren(...current.map(([c, r]) => barItem(c, r)));
  $("call-bar").hidden = current.length === 0;
  const roles = current.map(([, r]) => r);
  const state = roles.includes("answered") ? "answered"
    : roles.some((r) => r === "ringing-in" || r === "ringing-out" || r === "connecting") ? "ringing" : null;
  if (state) document.body.dataset.call = state;
  else delete document.body.dataset.call;
  callAudio.sync(current.filter(([, r]) => r === "answered").map(([c]) => c.id));
  for (const b of document.querySelectorAll('#lines [data-action="call"]')) b.disabled = starting.has(b.dataset.peer);
  const ringingIn = current.filter(([, r]) => r === "ringing-in");
  if (ringingIn.length) ring.start(t("call-title-ringing", { peer: ringingIn[0][0].peer.toUpperCase() }));
  else ring.stop();
  if (status) $("call-status").textContent = t(status.id, status.args);
  renderHistory();
  tick(new Date());
}

function button(action, id, label, cls, step) {
  return h("button", { type: "button", class: cls, dataset: { action }, disabled: busy.has(id),
    onclick: () => act(id, action, step) }, t(label));
}

function barItem(c, r) {
  const peer = c.peer.toUpperCase();
  const li = h("li", { class: `call-item ${r}`, dataset: { callId: c.id, peer: c.peer, role: r, state: c.state,
    direction: c.direction } });
  if (r === "ringing-in") {
    li.setAttribute("role", "alert");
    li.append(h("span", { class: "call-icon", "aria-hidden": "true", text: "☎" }),
      h("span", { class: "call-text", text: t("call-incoming", { station: peer, operator: c.started_by || "?" }) }),
      button("answer", c.id, "call-answer", "call-answer", "call.answering"),
      button("decline", c.id, "call-decline", "call-decline", "call.leaving"));
  } else if (r === "ringing-out") {
    li.append(h("span", { class: "call-icon", "aria-hidden": "true", text: "☎" }),
      h("span", { class: "call-text", text: t("call-ringing-out", { peer: c.peer }) }),
      button("hangup", c.id, "call-hangup", "call-hangup"));
  } else if (r === "connecting") {
    li.append(h("span", { class: "call-text", text: t("call-connecting", { peer }) }));
  } else if (r === "answered") {
    li.append(h("span", { class: "call-icon", "aria-hidden": "true", text: "☎" }),
      h("span", { class: "call-text", text: t("call-answered", { peer, user: c.answered_by || "?" }) }),
      h("span", { class: "call-timer", dataset: { since: c.answered || "" } }),
      audioState(c.id),
      stoppedMark(c),
      button("hangup", c.id, "call-hangup", "call-hangup"));
  } else {
    const id = c.state === "answered" ? "call-elsewhere-answered"
      : c.direction === "in" ? "call-elsewhere-in" : "call-elsewhere-out";
    li.append(h("span", { class: "call-text", text: t(id, { peer, user: c.answered_by || c.started_by || "?" }) }));
    if (c.state === "answered" || c.direction === "out") li.append(button("hangup", c.id, "call-end-elsewhere", "small"));
  }
  return li;
}

/** This console's audio of call `id`, as the operator should know it (a silent line is the worst failure). */
function audioState(id) {
  const a = callAudio.stateOf(id) || { state: "connecting" };
  return h("span", { class: `call-audio-state ${a.state}`, dataset: { audio: a.state }, role: "status",
    text: t(`call-audio-${a.state}`, { reason: a.reason || "" }) });
}

/** "op at alpha": an operator and their station. */
function who(user, station) {
  return user ? t("call-who", { user, station: station.toUpperCase() }) : null;
}

function renderHistory() {
  const ol = $("calls-history");
  const list = [...calls.values()].sort((a, b) => (b.started || "").localeCompare(a.started || "")).slice(0, historyShownMax);
  if (!list.length) {
    ol.replaceChildren(h("li", { class: "empty", text: t("calls-none") }));
    return;
  }
  const here = S.station ? S.station.name : "";
  ol.replaceChildren(...list.map((c) => {
    const [from, to] = c.direction === "out" ? [here, c.peer] : [c.peer, here];
    const caller = who(c.started_by, from);
    const answerer = who(c.answered_by, to);
    const talked = c.answered ? (c.ended ? new Date(c.ended) : null) : null;
    return h("li", { class: `call-row ${c.direction} ${c.state}`, dataset: { callId: c.id, state: c.state,
      direction: c.direction, peer: c.peer } },
    h("span", { class: "call-dir", text: t(`call-dir-${c.direction}`) }),
    h("span", { class: "call-peer", text: c.peer.toUpperCase() }),
    h("time", { class: "call-when", datetime: c.started, text: stamp(c.started) }),
    h("span", { class: `call-outcome ${c.state}`, text: t(`call-state-${c.state}`) }),
    h("span", { class: "call-who", text: [caller && t("call-called-by", { who: caller }),
      answerer ? t("call-answered-by", { who: answerer }) : live(c) ? null : t("call-not-answered")]
      .filter(Boolean).join("; ") }),
    h("span", { class: "call-length", dataset: c.answered && !c.ended ? { since: c.answered } : {},
      text: talked ? duration(talked - new Date(c.answered)) : "" }),
    c.recording ? recordingPlayer(c) : null);
  }));
}

/** Rewrites the running calls' timers; the clock calls it every second. */
export function tick(now) {
  for (const el of document.querySelectorAll(".call-timer[data-since], .call-length[data-since]")) {
    const since = el.dataset.since;
    if (since) el.textContent = duration(now - new Date(since));
  }
}

/** This console's calls as they stand, for the browser tests and the devtools. */
export function snapshot() {
  return [...calls.values()].map((c) => ({ ...c, role: role(c), mine: mine.has(c.id) }));
}
