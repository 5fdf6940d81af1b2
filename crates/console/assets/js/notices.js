// Notices and conflicts on the selected line: both sides' notices in two lists and on the
// map, and the conflicts the station found between them. A conflict is an alert until an
// operator acknowledges it; a notice from the other side waits for one of our operators
// to acknowledge it, and ours shows who at the far end did.
//
// Shapes as the station sends them (notices.rs): a notice is its filed body plus `id`,
// `version`, `side` ("ours" | "theirs"), `state`, `acknowledged_by`, `acknowledged`; a
// conflict is {id, notices: [idA, idB], state: open | acknowledged | resolved, ...}.

import { api, apiPath } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { stamp } from "./time.js";
import * as alerts from "./alerts.js";
import { S } from "./state.js";

let notices = [];
let conflicts = [];
// true, or false after a 404 (a line this station no longer has): then the lists say so.
let available = true;
let map = null;

/** The NoticeMap that shows what this module loads. */
export function useMap(m) {
  map = m;
}

export async function loadNotices() {
  if (S.selected) {
    try {
      [notices, conflicts] = await Promise.all([
        api("GET", apiPath("lines", S.selected, "notices")),
        api("GET", apiPath("conflicts")),
      ]);
      available = true;
    } catch (e) {
      if (e.status === 404) available = false;
    }
  }
  for (const c of conflicts) {
    const key = `conflict:${c.id}`;
    if (acknowledged(c)) alerts.clear(key);
    else if (!alerts.has(key)) {
      alerts.raise(key, "conflict", () => t("alert-conflict", { title: conflictTitle(c) }), () => ackConflict(c));
    }
  }
  map.setData(notices, conflicts);
  renderNotices();
}

function acknowledged(c) {
  return c.state === "acknowledged" || Boolean(c.acknowledged);
}

function conflictTitle(c) {
  const title = (id) => (notices.find((n) => n.id === id) || {}).title || id;
  return t("conflict-between", { a: title(c.notices[0]), b: title(c.notices[1]) });
}

async function ackConflict(c) {
  try {
    await api("POST", apiPath("conflicts", c.id, "ack"));
  } catch (e) {
    return false;
  }
  loadNotices();
  return true;
}

async function ackNotice(n) {
  try {
    await api("POST", apiPath("notices", n.id, "ack"));
  } catch (e) {
    return;
  }
  loadNotices();
}

function noticeItem(n) {
  const a = n.area || {};
  const where = a.type === "Point" ? t("notice-radius", { km: ((a.radius_m || 0) / 1000).toFixed(1) }) : a.type;
  const alt = n.altitude ? t("notice-alt", { min: n.altitude.min_m, max: n.altitude.max_m }) : "";
  return h("li", { class: `notice-item ${n.side}`, dataset: { id: n.id } },
    h("span", { class: `swatch ${n.side}` }),
    h("span", { class: "notice-title", text: n.title || n.id }),
    h("span", { class: "muted", text: [t(`kind-${n.kind}`), where, alt, `${stamp(n.start)} – ${stamp(n.end)}`].filter(Boolean).join(" · ") }),
    noticeAckControl(n));
}

// The other side's notice needs one of our operators to acknowledge it; ours shows who at
// the far end did.
function noticeAckControl(n) {
  if (n.state === "acknowledged") {
    return h("span", { class: "muted notice-acked", text: t("acknowledged-by", { user: n.acknowledged_by || "?", time: stamp(n.acknowledged) }) });
  }
  if (n.side !== "theirs" || n.state === "cancelled" || n.state === "expired") return null;
  return h("button", { type: "button", class: "small notice-ack", onclick: () => ackNotice(n) }, t("acknowledge"));
}

function conflictItem(c) {
  const acked = acknowledged(c);
  const btn = acked ? null : h("button", { type: "button", class: "small", onclick: async () => {
    if (await ackConflict(c)) alerts.clear(`conflict:${c.id}`);
  } }, t("acknowledge"));
  return h("li", { class: `conflict-item${acked ? " acked" : ""}`, dataset: { id: c.id } },
    h("span", { class: "swatch conflict" }), h("span", { text: conflictTitle(c) }), btn);
}

export function renderNotices() {
  const box = $("notice-lists");
  if (!available) {
    box.replaceChildren(h("p", { class: "muted", id: "notices-unavailable", text: t("notices-unavailable") }));
    return;
  }
  const list = (side) => {
    const items = notices.filter((n) => n.side === side);
    return items.length ? h("ul", {}, ...items.map(noticeItem)) : h("p", { class: "muted", text: t("notices-none") });
  };
  const conflictList = conflicts.length
    ? h("ul", { class: "conflict-list" }, ...conflicts.map(conflictItem))
    : h("p", { class: "muted", text: t("conflicts-none") });
  box.replaceChildren(
    h("section", { class: "conflicts" }, h("h3", { text: t("conflicts") }), conflictList),
    h("section", {}, h("h3", { text: t("notices-ours") }), list("ours")),
    h("section", {}, h("h3", { text: t("notices-theirs") }), list("theirs")));
}
