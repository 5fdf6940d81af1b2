// Alarms and the peer's watch checks, shown as alerts. An open alarm (GET /api/v1/alarms,
// `alarm.raised`) is an alert until an operator acknowledges it, which stops its
// escalation; a watch check from the peer is an alert that any operator here answers, and
// the answer is what tells the far end someone is on watch.

import { api, apiPath, withQuery } from "./api.js";
import { t } from "./i18n.js";
import { stamp } from "./time.js";
import * as alerts from "./alerts.js";

const checksShownMax = 50;

/** Alarm `a` in the station's alarm shape (alarms.rs `alarm_json`). */
export function alertForAlarm(a) {
  const key = `alarm:${a.id}`;
  if (a.state !== "raised") {
    alerts.clear(key);
    return;
  }
  const level = a.severity === "critical" ? "critical" : "immediate";
  const label = a.severity === "critical" ? "alert-critical" : "alert-warning";
  alerts.raise(key, level, () => t(label, { message: a.text }), () => post(apiPath("alarms", a.id, "ack"), "alarm ack"));
}

/** An alarm acknowledged or cleared (here or by another console): its alert goes. */
export function alarmEnded(a) {
  alerts.clear(`alarm:${a.id}`);
}

/** Watch check `c` (watch_api.rs `check_json`); only the peer's pending checks need us. */
export function alertForCheck(c) {
  const key = `check:${c.id}`;
  if (c.direction !== "in" || c.state !== "pending") {
    alerts.clear(key);
    return;
  }
  alerts.raise(key, "immediate", () => t("alert-watch-check", { peer: c.peer, deadline: stamp(c.deadline) }),
    () => post(apiPath("watch-checks", c.id, "answer"), "watch check answer"));
}

/** An incoming check answered (here or at another console). */
export function checkAnswered(id) {
  alerts.clear(`check:${id}`);
}

/** The open alarms and recent watch checks, after a (re)connection. */
export async function loadWatch() {
  try {
    const [alarms, checks] = await Promise.all([
      api("GET", apiPath("alarms")),
      api("GET", withQuery(apiPath("watch-checks"), { limit: checksShownMax })),
    ]);
    for (const a of alarms) alertForAlarm(a);
    for (const c of checks) alertForCheck(c);
  } catch (e) {
    if (e.status !== 401) console.warn("watch load failed:", e);
  }
}

/** The alert's acknowledgment: true when the station took it (else the alert stays). */
async function post(path, what) {
  try {
    await api("POST", path);
    return true;
  } catch (e) {
    console.warn(`${what} failed:`, e);
    return false;
  }
}
