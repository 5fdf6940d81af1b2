// Keeping the console in step with its station. On start and after every reconnection
// `resync` fetches lines, messages, session, checkpoint, notices, alarms, watch checks and calls;
// in between, the event stream (GET /api/v1/events, Server-Sent Events, one event per
// record entry) updates the same state. Every update is idempotent, so the replay after a
// reconnection (the stream resumes after the last event id it gave) duplicates nothing.

import { api, apiPath, allMessages, withQuery } from "./api.js";
import { $ } from "./dom.js";
import * as alerts from "./alerts.js";
import { S } from "./state.js";
import { setLine, lineStateChanged, refreshLines, renderLines } from "./board.js";
import { upsertMessage, alertForMessage, renderConversation } from "./conversation.js";
import { alertForAlarm, alarmEnded, alertForCheck, checkAnswered, loadWatch } from "./watch.js";
import { loadCheckpoint, renderRecord } from "./record.js";
import { loadNotices, renderNotices } from "./notices.js";
import { renderWho, refreshSession, tickClock } from "./topbar.js";
import { loadCalls, onCallEvent, render as renderCalls } from "./calls.js";

/**
 * The record entry kinds this console acts on, as the station writes them (its
 * `Journal::append` calls) and names them in the event stream. Kinds not here (receipts,
 * refused items, escalations, station start and stop, ...) change nothing on screen.
 */
export const FOLLOWED_KINDS = [
  "message.queued",
  "message.sent",
  "message.received",
  "message.delivered",
  "message.acknowledged",
  "message.acknowledged_by_peer",
  "line.state",
  "line.added",
  "line.changed",
  "line.removed",
  "login",
  "logout",
  "alarm.raised",
  "alarm.updated",
  "alarm.acknowledged",
  "alarm.cleared",
  "watch_check.sent",
  "watch_check.received",
  "watch_check.answered",
  "watch_check.missed",
  "presence.received",
  "notice.filed",
  "notice.amended",
  "notice.cancelled",
  "notice.acknowledged",
  "notice.acknowledged_by_peer",
  "notice.received",
  "notice.expired",
  "conflict.raised",
  "conflict.acknowledged",
  "conflict.resolved",
  "call.started",
  "call.ringing",
  "call.stale",
  "call.superseded",
  "call.answering",
  "call.leaving",
  "call.answered",
  "call.declined",
  "call.missed",
  "call.cancelled",
  "call.failed",
  "call.ended",
  "call.refused",
  "call.recorded",
  "call.recording_deleted",
  "call.recording_stopped",
  "call.recording_stopped_by_peer",
];

const probeRetryMs = 2000;

let events = null; // the EventSource, while open
let lastEventId = null; // the record index of the last event seen
let disconnected = false;

/** Fetches everything the console shows and redraws it. */
export async function resync() {
  try {
    const [lines, session] = await Promise.all([api("GET", apiPath("lines")), api("GET", apiPath("session"))]);
    S.session = session;
    for (const l of lines) setLine(l, false);
    await Promise.all(lines.map(async (l) => {
      const list = await allMessages(l.peer);
      const byId = S.messages.get(l.peer) || new Map();
      for (const m of list) byId.set(m.id, m);
      S.messages.set(l.peer, byId);
      for (const m of list) alertForMessage(m);
    }));
    renderAll();
  } catch (e) {
    if (e.status !== 401) console.warn("resync failed:", e);
  }
  loadCheckpoint();
  loadNotices();
  loadWatch();
  loadCalls();
}

export function renderAll() {
  renderWho();
  renderLines();
  renderConversation();
  renderRecord();
  renderNotices();
  renderCalls();
  alerts.render();
  tickClock(new Date());
}

export function closeEvents() {
  if (events) events.close();
  events = null;
}

function setDisconnected(on) {
  disconnected = on;
  $("console-disconnected").hidden = !on;
  document.body.classList.toggle("console-disconnected", on);
}

export function openEvents() {
  closeEvents();
  const es = new EventSource(withQuery(apiPath("events"), { after: lastEventId }), { withCredentials: true });
  events = es;
  es.onopen = () => {
    if (disconnected) {
      setDisconnected(false);
      resync();
    }
  };
  es.onerror = () => {
    if (events !== es) return;
    setDisconnected(true);
    // The station ends a stream when its credential ends (a logout elsewhere, the user
    // disabled, removed or given a new password): ask at once whether the session still
    // holds, so the login shows now; a 401 goes to api.js's handler (session ended).
    checkSession();
    if (es.readyState === EventSource.CLOSED) {
      events = null;
      setTimeout(probe, probeRetryMs);
    }
  };
  for (const kind of FOLLOWED_KINDS) es.addEventListener(kind, (ev) => onEvent(kind, ev));
}

let checking = false;

/** Whether the session still holds; a 401 ends it on screen (api.js), anything else waits. */
async function checkSession() {
  if (checking || !S.started) return;
  checking = true;
  try {
    await api("GET", apiPath("session"));
  } catch (e) {
    // 401: handled by api.js; unreachable: the stream reconnects by itself.
  } finally {
    checking = false;
  }
}

/** After the stream failed for good (e.g. the station refused it): log in again or retry. */
async function probe() {
  if (!S.started || events) return;
  try {
    await api("GET", apiPath("session"));
    openEvents();
  } catch (e) {
    if (e.status !== 401) setTimeout(probe, probeRetryMs);
  }
}

/** One event from the stream: `kind` is the record entry's kind, `ev.data` its JSON body. */
export function onEvent(kind, ev) {
  if (ev.lastEventId) lastEventId = ev.lastEventId;
  let data;
  try {
    data = JSON.parse(ev.data);
  } catch (e) {
    return;
  }
  const family = kind.split(".")[0];
  if (family === "message") {
    // message.acknowledged_by_peer carries no message when the station has none by that id.
    if (data.message) {
      upsertMessage(data.message);
      alertForMessage(data.message);
    }
  } else if (kind === "line.state") {
    lineStateChanged(data.peer, data.state);
  } else if (family === "line") {
    // A supervisor added, changed or removed a line: the board follows at once.
    refreshLines();
    if (kind === "line.added" && !S.messages.has(data.peer)) S.messages.set(data.peer, new Map());
  } else if (kind === "login" || kind === "logout") {
    refreshSession();
  } else if (kind === "alarm.raised" || kind === "alarm.updated") {
    // An update (a coalesced alarm's new count) redraws the same alert with its new text.
    alertForAlarm(data.alarm);
  } else if (kind === "alarm.acknowledged" || kind === "alarm.cleared") {
    alarmEnded(data.alarm);
  } else if (kind === "watch_check.received") {
    alertForCheck({ id: data.id, peer: data.peer, direction: "in", state: "pending", deadline: data.deadline });
  } else if (family === "watch_check" || family === "presence") {
    if (kind === "watch_check.answered" && data.direction === "in") checkAnswered(data.id);
    refreshLines();
  } else if (family === "notice" || family === "conflict") {
    loadNotices();
  } else if (family === "call") {
    onCallEvent(kind, data);
  }
}
