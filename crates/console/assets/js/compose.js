// Writing and sending a message on the selected line. The text being written is a draft
// kept in localStorage per station, operator and line, so an expired session, a reload or
// switching lines never loses what an operator was typing; sending clears it.

import { api, apiPath } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { S } from "./state.js";
import { upsertMessage } from "./conversation.js";

function draftKey(peer = S.selected) {
  return S.station && S.me && peer ? `hotline.draft.${S.station.name}.${S.me.user}.${peer}` : null;
}

export function saveDraft() {
  const key = draftKey();
  if (!key) return;
  const body = $("compose-body").value;
  if (body) {
    localStorage.setItem(key, JSON.stringify({ body, precedence: $("compose-precedence").value, lang: $("compose-lang").value }));
  } else {
    localStorage.removeItem(key);
  }
}

export function restoreDraft() {
  const key = draftKey();
  if (!key) return;
  let d = null;
  try {
    d = JSON.parse(localStorage.getItem(key) || "null");
  } catch (e) {
    d = null;
  }
  $("compose-body").value = d ? d.body : "";
  $("compose-precedence").value = d ? d.precedence : "ROUTINE";
  $("compose-lang").value = d ? d.lang : (S.station.lang || "en");
  markPrecedence();
}

/** The form shows the chosen precedence (FLASH is red) before it is sent. */
export function markPrecedence() {
  $("compose").dataset.precedence = $("compose-precedence").value;
}

export async function onSend(ev) {
  ev.preventDefault();
  const body = $("compose-body").value;
  const peer = S.selected;
  if (!peer || !body.trim()) return;
  saveDraft();
  const status = $("compose-status");
  $("compose-send").disabled = true;
  try {
    const res = await api("POST", apiPath("lines", peer, "messages"), {
      body, precedence: $("compose-precedence").value, lang: $("compose-lang").value,
    });
    upsertMessage(res.message);
    $("compose-body").value = "";
    $("compose-precedence").value = "ROUTINE";
    markPrecedence();
    localStorage.removeItem(draftKey(peer));
    status.textContent = "";
    const log = $("log");
    log.scrollTop = log.scrollHeight;
  } catch (e) {
    status.textContent = e.status === 401 ? t("draft-kept")
      : t("send-failed", { reason: e.status === 0 ? t("error-network") : e.message });
  } finally {
    $("compose-send").disabled = false;
  }
}
