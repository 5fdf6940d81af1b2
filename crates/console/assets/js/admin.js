// The supervisor page: administering the station while it serves, without a restart and
// without the command line. Only a supervisor's console shows it (the station refuses its
// API to anyone else anyway). It replaces the console's panels while open; the alerts
// strip stays above it, so nothing that needs the supervisor is hidden. Its sections are
// their own modules (admin-users.js, admin-tokens.js, admin-lines.js); this one opens the
// page and loads them.

import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { S } from "./state.js";
import * as users from "./admin-users.js";
import * as tokens from "./admin-tokens.js";
import * as lines from "./admin-lines.js";

let shownFor = null; // the user whose data the page holds

function isSupervisor() {
  return Boolean(S.me && S.me.role === "supervisor");
}

export function isOpen() {
  return !$("admin-view").hidden;
}

/** Shows the console's panels (`"console"`) or this page (`"admin"`). */
export function showPage(page) {
  const admin = page === "admin" && isSupervisor();
  $("admin-view").hidden = !admin;
  $("console-view").hidden = admin;
  $("nav-admin").setAttribute("aria-pressed", String(admin));
  $("nav-console").setAttribute("aria-pressed", String(!admin));
  if (admin) document.body.dataset.page = "admin";
  else delete document.body.dataset.page;
  if (admin) load();
}

/** Someone logged in: the page is there for supervisors only, and forgets the last user's data. */
export function applyRole() {
  $("app-nav").hidden = !isSupervisor();
  const who = S.me ? S.me.user : null;
  if (who !== shownFor) {
    shownFor = who;
    tokens.hideSecret();
    for (const id of ["admin-users", "admin-tokens", "admin-lines"]) $(id).replaceChildren();
    for (const id of ["admin-users-status", "admin-tokens-status", "admin-lines-status"]) $(id).textContent = "";
  }
  if (!isSupervisor()) showPage("console");
  else if (isOpen()) load();
}

function linesStatus(text, error = false) {
  const el = $("admin-lines-status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

/** Loads all three sections from the station. */
export async function load() {
  if (!isSupervisor()) return;
  linesStatus(t("admin-loading"));
  const results = await Promise.allSettled([
    users.load().then(() => tokens.renderUserChoice()),
    tokens.load(),
    lines.load(),
  ]);
  const failure = results.find((r) => r.status === "rejected");
  if (!failure) {
    linesStatus("");
  } else if (failure.reason.status === 403) {
    linesStatus(t("admin-forbidden"), true);
  } else if (failure.reason.status !== 401) {
    linesStatus(t("admin-failed", { reason: failure.reason.message }), true);
  }
}

/** The language changed: the page's tables are redrawn in it. */
export function render() {
  if (!isSupervisor()) return;
  users.render();
  tokens.render();
  lines.render();
}

export function wire() {
  $("nav-console").addEventListener("click", () => showPage("console"));
  $("nav-admin").addEventListener("click", () => showPage("admin"));
  $("admin-refresh").addEventListener("click", load);
  $("user-add-form").addEventListener("submit", users.onAdd);
  $("token-create-form").addEventListener("submit", tokens.onCreate);
  $("line-add-form").addEventListener("submit", lines.onAdd);
  $("token-secret-copy").addEventListener("click", tokens.copySecret);
  $("token-secret-done").addEventListener("click", tokens.hideSecret);
  users.setChangedHandler(() => tokens.load().catch(() => {}));
}
