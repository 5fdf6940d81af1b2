// The line board: one row per line with its lamp, how long it has been in that state, the
// round trip, messages waiting, the last watch check, who is on watch at the far end and
// the peer's responsiveness over 24 hours, its safety number, and the line's call button
// (calls.js). A line going down raises an alert here, and coming back up notes it on that
// alert (which stays until acknowledged).

import { api, apiPath } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { duration, stamp } from "./time.js";
import * as alerts from "./alerts.js";
import { S, active } from "./state.js";
import { callButton } from "./calls.js";

let onSelect = () => {};

/** `f(peer)` runs when the operator picks a line on the board. */
export function setSelectHandler(f) {
  onSelect = f;
}

/**
 * Stores line `l` (as GET /api/v1/lines gives it). A line seen down for the first time, or
 * going down when `alertOnChange`, raises the line-down alert.
 */
export function setLine(l, alertOnChange) {
  const old = S.lines.get(l.peer);
  S.lines.set(l.peer, l);
  if (!S.messages.has(l.peer)) S.messages.set(l.peer, new Map());
  if (!S.selected) S.selected = l.peer;
  const wasDown = old ? old.state === "down" : false;
  const key = `down:${l.peer}`;
  if (l.state === "down" && (!wasDown || !old) && (alertOnChange || !old)) {
    alerts.raise(key, "down", () => t("alert-line-down", { peer: l.peer }), null);
  } else if (l.state === "up" && alerts.has(key)) {
    alerts.note(key, "alert-line-restored");
  }
}

/** A `line.state` event: the new state now; the rest of the line comes with the next poll. */
export function lineStateChanged(peer, state) {
  const old = S.lines.get(peer);
  setLine({ ...(old || {}), peer, state, since: new Date().toISOString(),
    rtt_ms: state === "up" ? old && old.rtt_ms : null }, true);
  renderLines();
  refreshLines();
}

/** Polls GET /api/v1/lines: round trips, watch checks and presence are not events. A
 * line no longer listed was removed by a supervisor: it leaves the board (its messages
 * stay at the station). */
export async function refreshLines() {
  if (!active()) return;
  try {
    const now = await api("GET", apiPath("lines"));
    for (const l of now) setLine(l, true);
    const listed = new Set(now.map((l) => l.peer));
    let reselect = false;
    for (const peer of [...S.lines.keys()]) {
      if (listed.has(peer)) continue;
      S.lines.delete(peer);
      alerts.clear(`down:${peer}`);
      reselect = reselect || S.selected === peer;
    }
    renderLines();
    if (reselect && now.length) onSelect(now[0].peer);
  } catch (e) {
    // The event stream's banner reports a lost station; nothing more to say here.
  }
}

export function renderLines() {
  const ul = $("lines");
  const peers = [...S.lines.keys()];
  if (!peers.length) {
    ul.replaceChildren(h("li", { class: "empty", text: t("lines-none") }));
    return;
  }
  const focusedPeer = document.activeElement && document.activeElement.closest("#lines li")?.dataset.peer;
  ul.replaceChildren(...peers.map((peer) => lineItem(peer, S.lines.get(peer))));
  const focusedCall = document.activeElement && document.activeElement.dataset.action === "call";
  if (focusedPeer) {
    ul.querySelector(`li[data-peer="${CSS.escape(focusedPeer)}"] ${focusedCall ? '[data-action="call"]' : "button"}`)?.focus();
  }
  updateSince(new Date());
}

function lineItem(peer, l) {
  const waiting = l.undelivered || 0;
  const btn = h("button", { type: "button", class: "line-select", "aria-pressed": String(peer === S.selected),
    onclick: () => onSelect(peer) },
    h("span", { class: `lamp ${l.state}`, dataset: { state: l.state }, role: "img",
      "aria-label": t(`line-state-${l.state}`) }),
    h("span", { class: "line-info" },
      h("span", { class: "line-name", text: peer.toUpperCase() }),
      h("span", { class: `line-state ${l.state}`, text: t(`line-state-${l.state}`) }),
      h("span", { class: "line-since", dataset: { since: l.since || "" } }),
      h("span", { class: "line-rtt", text: l.rtt_ms == null || l.state !== "up" ? t("line-rtt-none")
        : t("line-rtt", { rtt: l.rtt_ms.toFixed(1) }) }),
      h("span", { class: `line-waiting${waiting ? " some" : ""}`, text: waiting ? t("line-undelivered", { count: waiting }) : "" }),
      h("span", { class: "line-watch", text: watchText(l.last_watch_check) }),
      h("span", { class: `line-presence${presenceClass(l.peer_on_watch)}`, text: presenceText(peer, l.peer_on_watch) }),
      h("span", { class: "line-figures", text: figuresText(l.responsiveness_24h) }),
      // The same number at both ends: the two operators can read it aloud to each other.
      h("span", { class: "line-safety mono", dataset: { safetyNumber: l.safety_number || "" },
        text: l.safety_number ? t("line-safety-number", { number: l.safety_number }) : "" })));
  return h("li", { class: `line ${l.state}`, dataset: { peer, state: l.state } }, btn, callButton(peer));
}

/** Rewrites each line's "in this state for ..." text; the clock calls it every second. */
export function updateSince(now) {
  for (const span of document.querySelectorAll(".line-since")) {
    const since = span.dataset.since;
    span.textContent = since ? t("line-in-state", { duration: duration(now - new Date(since)) }) : "";
  }
}

/** Our last watch check on the line (GET /api/v1/lines `last_watch_check`). */
function watchText(w) {
  if (!w) return t("line-watch-none");
  if (w.state === "pending") return t("line-watch-pending", { time: stamp(w.sent) });
  if (w.state === "missed" || w.late) return t("line-watch-missed", { time: stamp(w.sent) });
  return t("line-watch", { time: stamp(w.sent), seconds: Math.round(w.answered_in_s), user: w.answered_by || "?" });
}

/** The peer's responsiveness over 24 h: watch checks answered and time to answer, and
 * the time to acknowledge our FLASH messages. */
function figuresText(f) {
  const out = f && f.out;
  if (!out || !out.watch_checks || !out.watch_checks.sent) return t("line-figures-none");
  const w = out.watch_checks;
  const flash = out.time_to_acknowledge && out.time_to_acknowledge.FLASH;
  return t("line-figures", {
    answered: w.answered, sent: w.sent, missed: w.missed,
    p50: w.p50_s == null ? "–" : Math.round(w.p50_s), max: w.max_s == null ? "–" : Math.round(w.max_s),
    flash: flash && flash.p50_s != null ? Math.round(flash.p50_s) : "–",
  });
}

/** "bravo: 2 on watch"; nobody on watch at the far end is a warning. */
function presenceText(peer, p) {
  if (!p) return t("line-presence-unknown");
  return t("line-presence", { peer: peer.toUpperCase(), count: p.count });
}

function presenceClass(p) {
  return p && p.count === 0 ? " none" : "";
}
