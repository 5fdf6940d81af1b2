// The Lines section of the supervisor page: the station's lines with their state and
// safety number, a form to add one and a button to remove one — each at once, without a
// restart (POST /api/v1/lines, DELETE /api/v1/lines/{peer}); the station records who did
// it. The safety number is shown in full on every row: both supervisors read it aloud to
// each other before trusting a new line, and it is the same at both ends. A pinned key
// never changes in place: remove the line and add it again, so the record shows both.

import { api, apiPath } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { ask } from "./dialog.js";

let lines = []; // GET /api/v1/lines, as last loaded

function status(text, error = false) {
  const el = $("admin-lines-status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function failed(e) {
  status(t("admin-failed", { reason: e.message || String(e) }), true);
}

export async function load() {
  lines = await api("GET", apiPath("lines"));
  render();
}

export function render() {
  const body = $("admin-lines");
  body.replaceChildren(...lines.map(row));
  if (!lines.length) body.append(h("tr", {}, h("td", { colspan: "5", class: "empty", text: t("lines-none") })));
}

function row(l) {
  return h("tr", { dataset: { peer: l.peer, state: l.state } },
    h("td", { class: "line-peer", text: l.peer }),
    h("td", { class: `line-state ${l.state}`, text: t(`line-state-${l.state}`) }),
    h("td", { class: "mono", text: (l.addrs || []).join(", ") }),
    h("td", { class: "mono key" }, l.key || "",
      h("div", { class: "safety-number", dataset: { safetyNumber: l.safety_number || "" },
        text: l.safety_number ? t("line-safety-number", { number: l.safety_number }) : "" })),
    h("td", { class: "row-actions" },
      h("button", { type: "button", class: "small danger", dataset: { action: "line-remove" }, text: t("line-remove"),
        onclick: () => remove(l) })));
}

async function remove(l) {
  const ok = await ask({ title: t("line-remove"), text: t("line-remove-confirm", { peer: l.peer }),
    ok: t("line-remove"), danger: true });
  if (!ok) return;
  try {
    await api("DELETE", apiPath("lines", l.peer));
    lines = lines.filter((x) => x.peer !== l.peer);
    render();
    status(t("line-removed", { peer: l.peer }));
  } catch (e) {
    failed(e);
  }
}

/** The add form's submit: POST /api/v1/lines; the new line's safety number is shown. */
export async function onAdd(ev) {
  ev.preventDefault();
  const peer = $("line-add-peer").value.trim();
  const key = $("line-add-key").value.trim();
  const addrs = $("line-add-addrs").value.split(/[\s,]+/).filter(Boolean);
  $("line-add").disabled = true;
  try {
    const added = await api("POST", apiPath("lines"), { peer, key, addrs });
    for (const id of ["line-add-peer", "line-add-key", "line-add-addrs"]) $(id).value = "";
    status(t("line-added", { peer: added.peer, number: added.safety_number }));
    await load();
  } catch (e) {
    failed(e);
  } finally {
    $("line-add").disabled = false;
  }
}
