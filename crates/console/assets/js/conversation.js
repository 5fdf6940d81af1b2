// The conversation on the selected line: the log of messages both ways, and above it the
// incoming messages that still need an operator's acknowledgment, most urgent first. An
// unacknowledged FLASH or IMMEDIATE message is also an alert until someone acknowledges
// it. Message bodies come from the peer: they are only ever set as text (see dom.js).

import { api, apiPath } from "./api.js";
import { $, h } from "./dom.js";
import { t, l10n, lang } from "./i18n.js";
import { dtg, stamp } from "./time.js";
import * as alerts from "./alerts.js";
import { S } from "./state.js";
import { renderLines } from "./board.js";

const PRECEDENCE_RANK = { FLASH: 0, IMMEDIATE: 1, PRIORITY: 2, ROUTINE: 3 };
const alertBodyChars = 120;
// Tooltip ids are made here, not from message ids, which the peer chooses.
let tipSeq = 0;

/** Stores message `m` (line/mod.rs `message_json`) and redraws what shows it. */
export function upsertMessage(m) {
  if (!S.messages.has(m.peer)) S.messages.set(m.peer, new Map());
  S.messages.get(m.peer).set(m.id, m);
  if (m.peer === S.selected) renderConversation();
  renderLines();
}

export function needsAck(m) {
  return m.direction === "in" && m.state !== "acknowledged";
}

/** Raises (or clears) the alert for an urgent message still waiting for acknowledgment. */
export function alertForMessage(m) {
  const key = `msg:${m.id}`;
  if (!needsAck(m)) {
    alerts.clear(key);
    return;
  }
  if (alerts.has(key) || (m.precedence !== "FLASH" && m.precedence !== "IMMEDIATE")) return;
  const level = m.precedence === "FLASH" ? "flash" : "immediate";
  alerts.raise(key, level, () => t(`alert-${level}`, { peer: m.peer }) + ": " + m.body.slice(0, alertBodyChars),
    () => acknowledge(m.id));
}

/** Acknowledges message `id` as this operator; true when the station took it. */
export async function acknowledge(id) {
  try {
    const m = await api("POST", apiPath("messages", id, "ack"));
    upsertMessage(m);
    alertForMessage(m);
    return true;
  } catch (e) {
    console.warn("ack failed:", e);
    return false;
  }
}

function messageEl(m, where) {
  const mine = m.direction === "out";
  const from = mine ? S.station.name : m.peer;
  const to = mine ? m.peer : S.station.name;
  const tipId = `tip-${where}-${++tipSeq}`;
  const times = mine
    ? [["time-created", m.created], ["time-sent", m.sent], ["time-delivered", m.delivered], ["time-acknowledged", m.acknowledged]]
    : [["time-created", m.created], ["time-received", m.delivered], ["time-acknowledged", m.acknowledged]];
  const tip = h("span", { class: "tip", role: "tooltip", id: tipId },
    ...times.map(([id, v]) => h("span", { text: t(id, { time: stamp(v) }) })),
    m.acknowledged_by ? h("span", { text: t("acknowledged-by", { user: m.acknowledged_by, time: stamp(m.acknowledged) }) }) : null);
  // The receiver's words for an incoming message: it needs acknowledging, or it has been.
  const chipText = mine || m.state === "acknowledged" ? t(`state-${m.state}`) : t("state-awaiting-ack");
  const chip = h("span", { class: `state-chip ${mine ? m.state : needsAck(m) ? "awaiting" : m.state}`, tabindex: "0",
    "aria-describedby": tipId, dataset: { state: m.state }, text: chipText });
  let action = null;
  if (needsAck(m) && where === "pinned") {
    action = h("button", { type: "button", class: "ack primary", onclick: (ev) => { ev.target.disabled = true; acknowledge(m.id); } });
    l10n(action, "acknowledge");
  }
  return h("li", { class: `msg ${m.direction} prec-${m.precedence} state-${m.state}`, dataset: { id: m.id, state: m.state, precedence: m.precedence } },
    h("div", { class: "meta" },
      h("span", { class: `badge prec-${m.precedence}`, text: t(`precedence-${m.precedence}`) }),
      h("span", { class: "dir", text: `${from.toUpperCase()} → ${to.toUpperCase()}` }),
      h("time", { datetime: m.created, text: dtg(new Date(m.created)) }),
      h("span", { class: "author", text: m.author ? t("author", { user: m.author }) : "" }),
      h("span", { class: "lang-tag", text: (m.lang || "").toUpperCase() })),
    h("p", { class: "body", lang: m.lang, text: m.body }),
    h("div", { class: "status" }, h("span", { class: "chip-wrap" }, chip, tip), action));
}

/** Replaces the children of `list` with `items`, reusing elements whose revision is unchanged. */
function reconcile(list, items, where) {
  const old = new Map([...list.children].map((c) => [c.dataset.id, c]));
  const focused = document.activeElement;
  const next = items.map((m) => {
    const rev = `${m.state}|${lang()}|${m.acknowledged || ""}|${m.sent || ""}|${m.delivered || ""}`;
    const prev = old.get(m.id);
    if (prev && prev.dataset.rev === rev) return prev;
    const e = messageEl(m, where);
    e.dataset.rev = rev;
    return e;
  });
  const same = next.length === list.children.length && next.every((e, i) => list.children[i] === e);
  if (!same) list.replaceChildren(...next);
  if (focused && !document.contains(focused)) list.focus();
}

export function renderConversation() {
  const peer = S.selected;
  const heading = $("conversation-heading");
  if (!peer) {
    heading.textContent = t("conversation-none");
    return;
  }
  heading.textContent = t("conversation-heading", { peer: peer.toUpperCase() });
  $("compose-label").textContent = t("compose-body", { peer: peer.toUpperCase() });
  const msgs = [...(S.messages.get(peer) || new Map()).values()];
  const pinned = msgs.filter(needsAck)
    .sort((a, b) => PRECEDENCE_RANK[a.precedence] - PRECEDENCE_RANK[b.precedence] || a.created.localeCompare(b.created));
  $("pinned").hidden = pinned.length === 0;
  reconcile($("pinned-list"), pinned, "pinned");
  const log = $("log");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  if (!msgs.length) {
    log.replaceChildren(h("li", { class: "empty", dataset: { id: "empty" }, text: t("log-empty") }));
  } else {
    reconcile(log, msgs, "log");
  }
  if (atBottom) log.scrollTop = log.scrollHeight;
}
