// Logging in and out, and what happens when a session ends by itself (it expired, or a
// supervisor removed the user): the login form comes back over the console, the draft is
// kept, and logging in again as the same operator picks up where the console was, without
// a reload. Logging in as someone else starts the console afresh.

import { api, apiPath } from "./api.js";
import { $ } from "./dom.js";
import { setLang, t, lang } from "./i18n.js";
import * as alerts from "./alerts.js";
import { S } from "./state.js";
import { openEvents, closeEvents, resync } from "./sync.js";
import { saveDraft, restoreDraft } from "./compose.js";
import * as calls from "./calls.js";

let onStarted = () => {};
let onUser = () => {};

/** `f()` runs each time the console has started for a session and loaded its data. */
export function setStartedHandler(f) {
  onStarted = f;
}

/** `f()` runs each time a user has logged in (or the session resumed), with S.me set. */
export function setUserHandler(f) {
  onUser = f;
}

/** The localStorage key of this operator's language at this station. */
export function langKey() {
  return `hotline.lang.${S.station.name}.${S.me.user}`;
}

/** Shows the login form; `expired` says the session ended while the console was in use. */
export function showLogin(expired) {
  // A modal dialog (a confirmation, the password form) would sit above the login.
  for (const d of document.querySelectorAll("dialog[open]")) d.close();
  $("login-view").hidden = false;
  $("login-expired").hidden = !expired;
  $("login-password-changed").hidden = true;
  $("login-error").textContent = "";
  $("login-password").value = "";
  if (S.me && !$("login-user").value) $("login-user").value = S.me.user;
  ($("login-user").value ? $("login-password") : $("login-user")).focus();
}

/** Any request got 401: the session is over. */
export function sessionEnded() {
  if ($("login-view").hidden === false) return;
  closeEvents();
  calls.reset();
  saveDraft();
  showLogin(S.started);
}

/** The user changed their own password: the station ended all their sessions, this one too. */
export function passwordChanged() {
  closeEvents();
  calls.reset();
  saveDraft();
  showLogin(false);
  $("login-password-changed").hidden = false;
}

export async function onLogin(ev) {
  ev.preventDefault();
  alerts.unlockAudio();
  const user = $("login-user").value.trim();
  const password = $("login-password").value;
  $("login-submit").disabled = true;
  try {
    const me = await api("POST", apiPath("login"), { user, password });
    const sameUser = S.me && S.me.user === me.user;
    S.me = { user: me.user, role: me.role };
    $("login-view").hidden = true;
    $("login-password").value = "";
    if (S.started && sameUser) {
      onUser();
      openEvents();
      await resync();
      restoreDraft();
    } else {
      await start();
    }
  } catch (e) {
    $("login-error").textContent = e.status === 401 ? t("login-failed") : t("login-unreachable");
  } finally {
    $("login-submit").disabled = false;
  }
}

export async function onLogout() {
  saveDraft();
  try {
    await api("POST", apiPath("logout"));
  } catch (e) {
    // Already logged out or unreachable: the console logs out locally either way.
  }
  closeEvents();
  calls.reset();
  S.started = false;
  S.me = null;
  $("app").hidden = true;
  showLogin(false);
}

/** Loads the station and the session and shows the console; throws if not logged in. */
export async function start() {
  S.station = await api("GET", apiPath("station"));
  S.session = await api("GET", apiPath("session"));
  S.me = { user: S.session.user, role: S.session.role };
  onUser();
  await setLang(localStorage.getItem(langKey()) || S.station.lang || "en");
  $("lang-select").value = lang();
  $("compose-lang").value = S.station.lang || "en";
  S.lines.clear();
  S.messages.clear();
  calls.reset();
  for (const l of S.station.lines) S.messages.set(l.peer, new Map());
  S.selected = S.station.lines.length ? S.station.lines[0].peer : null;
  S.started = true;
  restoreDraft();
  $("app").hidden = false;
  document.title = `hotline — ${S.station.name}`;
  openEvents();
  await resync();
  onStarted();
}
