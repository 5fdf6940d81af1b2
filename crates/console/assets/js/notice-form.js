// Filing a new notice: the operator draws an area on the map (a polygon or a circle),
// fills in the form that then opens, sees the exact JSON that will be filed, and files it
// on the selected line (POST /api/v1/lines/{peer}/notices).

import { api, apiPath } from "./api.js";
import { $ } from "./dom.js";
import { t, l10n, lang } from "./i18n.js";
import { S } from "./state.js";
import { loadNotices } from "./notices.js";

const defaultNoticeHours = 2;
const hourMs = 3600000;

let map = null;
// The drawn area (GeoJSON, or a Point with radius_m) waiting to be filed.
let draftArea = null;

/** The NoticeMap the operator draws on. */
export function useMap(m) {
  map = m;
}

function utcInput(date) {
  return date.toISOString().slice(0, 16);
}

/** The notice as it will be filed, from the drawn area and the form. */
function noticeJson() {
  const num = (id) => ($(id).value === "" ? null : Number($(id).value));
  const min = num("notice-alt-min"), max = num("notice-alt-max");
  const notice = {
    kind: $("notice-kind").value,
    area: draftArea,
    start: $("notice-start").value ? `${$("notice-start").value}:00Z` : null,
    end: $("notice-end").value ? `${$("notice-end").value}:00Z` : null,
    title: $("notice-title").value,
    remarks: $("notice-remarks").value,
    lang: lang(),
  };
  if (min !== null || max !== null) notice.altitude = { min_m: min ?? 0, max_m: max ?? min };
  return notice;
}

export function showNoticeJson() {
  $("notice-json").textContent = JSON.stringify(noticeJson(), null, 2);
}

/** The map's `onDraft`: an area was drawn; open the form for it, starting next hour. */
export function onDraftArea(area) {
  draftArea = area;
  $("notice-form").hidden = false;
  if (!$("notice-start").value) {
    const start = new Date(Math.ceil(Date.now() / hourMs) * hourMs);
    $("notice-start").value = utcInput(start);
    $("notice-end").value = utcInput(new Date(start.getTime() + defaultNoticeHours * hourMs));
  }
  $("notice-status").textContent = "";
  showNoticeJson();
  $("notice-title").focus();
}

export async function onFileNotice(ev) {
  ev.preventDefault();
  const notice = noticeJson();
  const status = $("notice-status");
  try {
    await api("POST", apiPath("lines", S.selected, "notices"), notice);
    status.textContent = t("notice-filed");
    discardNotice();
    loadNotices();
  } catch (e) {
    status.textContent = t("notice-file-failed", {
      reason: e.status === 404 ? t("notices-unavailable") : e.status === 0 ? t("error-network") : e.message });
  }
}

export function discardNotice() {
  draftArea = null;
  map.clearDraft();
  $("notice-form").hidden = true;
  $("notice-form").reset();
}

/** The map's `onMode`: the drawing tools show what the operator is drawing, if anything. */
export function onMapMode(mode) {
  $("draw-cancel").hidden = !mode;
  $("draw-finish").hidden = mode !== "polygon";
  $("draw-polygon").setAttribute("aria-pressed", String(mode === "polygon"));
  $("draw-circle").setAttribute("aria-pressed", String(mode === "circle"));
  const hint = $("draw-hint");
  if (mode) l10n(hint, `draw-hint-${mode}`);
  else {
    delete hint.dataset.l10nId;
    hint.textContent = "";
  }
}
