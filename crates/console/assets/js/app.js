// The operator console's wiring: it makes the map, connects each control on the page to
// the module that handles it, starts the timers, and logs in (or resumes the session).
// What each part does is in its own module:
//
//   api.js           the station's HTTP API; every API URL is built by apiPath/withQuery
//   dom.js           building elements, text only ever through textContent
//   state.js         what the panels share: station, operator, lines, messages, selection
//   session.js       login, logout, a session that ends by itself
//   sync.js          resync and the event stream; FOLLOWED_KINDS, the entry kinds acted on
//   topbar.js        station name, who is on watch, the UTC clock
//   board.js         the line board
//   conversation.js  the message log, messages awaiting acknowledgment, acknowledging
//   compose.js       sending and drafts
//   watch.js         alarms and the peer's watch checks as alerts
//   record.js        the checkpoint and cosignature panel
//   calls.js         voice calls: the call buttons, the call bar, the history panel
//   ring.js          ringing: the ring tone, the flashing title, "click to enable sound"
//   notices.js       notices and conflicts: lists, alerts, map data
//   notice-form.js   drawing and filing a new notice
//   admin.js         the supervisor page (admin-users.js, admin-tokens.js, admin-lines.js; dialog.js asks)
//   password.js      changing one's own password
//   map.js, alerts.js, i18n.js, time.js: the map, banners and tones, translations, times
//
// No build step: plain ES modules, embedded in the station's binary and served by it.

import { api, apiPath, setUnauthorizedHandler } from "./api.js";
import { $ } from "./dom.js";
import { setLang, lang, LANGS } from "./i18n.js";
import * as alerts from "./alerts.js";
import { NoticeMap } from "./map.js";
import { S, active } from "./state.js";
import { onLogin, onLogout, sessionEnded, showLogin, start, langKey, setStartedHandler, setUserHandler } from "./session.js";
import { onEvent, renderAll } from "./sync.js";
import { tickClock } from "./topbar.js";
import { refreshLines, renderLines, setSelectHandler, updateSince } from "./board.js";
import { renderConversation } from "./conversation.js";
import { onSend, saveDraft, restoreDraft, markPrecedence } from "./compose.js";
import { loadCheckpoint, checkpointPollMs } from "./record.js";
import * as notices from "./notices.js";
import * as noticeForm from "./notice-form.js";
import * as admin from "./admin.js";
import * as password from "./password.js";
import * as calls from "./calls.js";
import * as ring from "./ring.js";
import * as callAudio from "./call-audio.js";

// Round trips, watch checks and presence on the board are polled, not events.
const linesPollMs = 5000;
const clockTickMs = 1000;

const map = new NoticeMap($("map"), { onDraft: noticeForm.onDraftArea, onMode: noticeForm.onMapMode });
notices.useMap(map);
noticeForm.useMap(map);

function selectLine(peer) {
  saveDraft();
  S.selected = peer;
  renderLines();
  renderConversation();
  restoreDraft();
  notices.loadNotices();
}

function tick() {
  const now = new Date();
  tickClock(now);
  updateSince(now);
  calls.tick(now);
  ring.updateSoundControl();
}

async function onLangChange(e, rerender) {
  if (rerender) localStorage.setItem(langKey(), e.target.value);
  localStorage.setItem("hotline.lang", e.target.value);
  await setLang(e.target.value);
  if (rerender) {
    renderAll();
    admin.render();
  }
}

function wireCompose() {
  $("compose").addEventListener("submit", onSend);
  $("compose-body").addEventListener("input", saveDraft);
  $("compose-precedence").addEventListener("change", () => { markPrecedence(); saveDraft(); });
  $("compose-lang").addEventListener("change", saveDraft);
  $("compose-body").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("compose").requestSubmit();
    }
  });
}

function wireRecord() {
  $("record-refresh").addEventListener("click", loadCheckpoint);
  $("record-export").addEventListener("click", (e) => {
    if ($("record-export").classList.contains("disabled")) e.preventDefault();
  });
}

function wireMap() {
  $("draw-polygon").addEventListener("click", () => { map.setMode("polygon"); $("map").focus(); });
  $("draw-circle").addEventListener("click", () => { map.setMode("circle"); $("map").focus(); });
  $("draw-finish").addEventListener("click", () => map.finishPolygon());
  $("draw-cancel").addEventListener("click", () => map.cancel());
  $("map-zoom-in").addEventListener("click", () => map.zoom(1.5));
  $("map-zoom-out").addEventListener("click", () => map.zoom(1 / 1.5));
  $("map-reset").addEventListener("click", () => map.fit(true));
  $("notice-form").addEventListener("input", noticeForm.showNoticeJson);
  $("notice-form").addEventListener("submit", noticeForm.onFileNotice);
  $("notice-discard").addEventListener("click", noticeForm.discardNotice);
}

async function boot() {
  alerts.init($("alert-list"), $("mute-toggle"));
  setUnauthorizedHandler(sessionEnded);
  setSelectHandler(selectLine);
  setStartedHandler(() => { map.fit(true); ring.updateSoundControl(); });
  setUserHandler(admin.applyRole);
  const guess = (localStorage.getItem("hotline.lang") || navigator.language || "en").slice(0, 2);
  await setLang(LANGS.includes(guess) ? guess : "en");
  $("login-lang").value = lang();
  $("login-form").addEventListener("submit", onLogin);
  $("login-lang").addEventListener("change", (e) => onLangChange(e, false));
  $("logout").addEventListener("click", onLogout);
  $("lang-select").addEventListener("change", (e) => onLangChange(e, true));
  wireCompose();
  wireRecord();
  wireMap();
  admin.wire();
  password.wire();
  ring.wire();
  window.addEventListener("beforeunload", saveDraft);
  setInterval(tick, clockTickMs);
  setInterval(refreshLines, linesPollMs);
  setInterval(() => {
    if (active()) loadCheckpoint();
  }, checkpointPollMs);
  map.load();

  try {
    const health = await (await fetch("/healthz")).json();
    $("login-station").textContent = (health.station || "").toUpperCase();
  } catch (e) {
    // The login shows the error when the operator tries.
  }
  try {
    await api("GET", apiPath("session"));
    await start();
  } catch (e) {
    if (!S.started) showLogin(false);
  }
}

// Exposed for the browser tests and for debugging from the devtools console.
// `ringing()`: whether this console rings and whether its tone is sounding (ring.js).
window.hotline = { state: S, map, onEvent, ringing: ring.status, calls: calls.snapshot, callAudio: callAudio.status };

boot();
