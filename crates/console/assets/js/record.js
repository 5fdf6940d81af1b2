// The record panel: the station's latest signed checkpoint (GET /api/v1/log/checkpoint, a
// C2SP signed note), whether the peer has cosigned it, and the link to the full export.
// Checkpoints are made every few seconds and cosignatures are not record entries, so this
// panel polls instead of following events.

import { api, apiPath } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { stamp } from "./time.js";
import { S } from "./state.js";

export const checkpointPollMs = 10000;

// undefined: not loaded yet; null: none (or unreachable before the first load); else the note.
let checkpoint = undefined;
// {size, name, time}: the newest checkpoint this console saw cosigned by the peer.
let lastCosigned = null;

export async function loadCheckpoint() {
  try {
    checkpoint = await api("GET", apiPath("log", "checkpoint"));
  } catch (e) {
    checkpoint = e.status === 404 ? null : checkpoint ?? null;
  }
  renderRecord();
}

/** A C2SP signed note: origin, tree size, root hash, blank line, "— name base64" lines. */
function parseCheckpoint(text) {
  const [body, sigs = ""] = text.split("\n\n");
  const [origin, size, root] = body.split("\n");
  const signatures = sigs.split("\n").filter((l) => l.startsWith("— ")).map((l) => {
    const [, name, b64] = l.split(" ");
    return { name, time: cosignatureTime(b64) };
  });
  return { origin, size, root, signatures };
}

/** tlog-cosignature/v1: 4-byte key hash, 8-byte big-endian timestamp (s), 64-byte signature. */
function cosignatureTime(b64) {
  try {
    const raw = atob(b64);
    if (raw.length !== 76) return null;
    let secs = 0;
    for (let i = 4; i < 12; i++) secs = secs * 256 + raw.charCodeAt(i);
    return new Date(secs * 1000).toISOString();
  } catch (e) {
    return null;
  }
}

export function renderRecord() {
  const box = $("record-body");
  const exportLink = $("record-export");
  if (typeof checkpoint !== "string" || !checkpoint.trim()) {
    box.replaceChildren(h("p", { class: "muted", text: checkpoint === undefined ? "…" : t("record-unavailable") }));
    exportLink.classList.add("disabled");
    exportLink.setAttribute("aria-disabled", "true");
    return;
  }
  exportLink.classList.remove("disabled");
  exportLink.removeAttribute("aria-disabled");
  const cp = parseCheckpoint(checkpoint);
  const own = cp.signatures.filter((s) => s.name === S.station.name);
  const peers = cp.signatures.filter((s) => s.name !== S.station.name);
  // The newest checkpoint is often not cosigned yet (the peer cosigns within seconds), so
  // also say which was the last one this console saw cosigned.
  const lastKey = `hotline.last-cosigned.${S.station.name}`;
  if (peers.length) {
    lastCosigned = { size: cp.size, name: peers[0].name, time: peers[0].time };
    sessionStorage.setItem(lastKey, JSON.stringify(lastCosigned));
  }
  const last = lastCosigned || JSON.parse(sessionStorage.getItem(lastKey) || "null");
  box.replaceChildren(...[
    h("dl", { class: "kv" },
      h("dt", { text: t("record-origin") }), h("dd", { text: cp.origin }),
      h("dt", { text: t("record-size") }), h("dd", { class: "record-size", text: cp.size }),
      h("dt", { text: t("record-root") }), h("dd", { class: "hash", title: cp.root, text: cp.root })),
    ...own.map((s) => h("p", { class: "sig own", text: t("record-signed-by", { name: s.name }) })),
    ...(peers.length
      ? peers.map((s) => h("p", { class: "sig cosigned", text: t("record-cosigned", { name: s.name, time: s.time ? stamp(s.time) : "?" }) }))
      : [h("p", { class: "sig missing", text: t("record-not-cosigned") }),
        last ? h("p", { class: "sig last-cosigned", text: t("record-last-cosigned",
          { size: last.size, name: last.name, time: last.time ? stamp(last.time) : "?" }) }) : null]),
  ].filter(Boolean));
}
