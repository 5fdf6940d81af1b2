// The Users section of the supervisor page: who may use this station, in which role, and
// whether they may now. Every change goes to the station (PATCH/POST/DELETE /api/v1/users),
// which records who made it; disabling, a password reset and removal end the user's
// sessions, open consoles and API tokens at once, so those ask first. A supervisor's own
// row cannot be disabled, demoted or removed (the station refuses it too).

import { api, apiPath } from "./api.js";
import { $, h } from "./dom.js";
import { l10n, t } from "./i18n.js";
import { stamp } from "./time.js";
import { S } from "./state.js";
import { ask } from "./dialog.js";

export const ROLES = ["operator", "supervisor", "auditor"];

let users = []; // GET /api/v1/users, as last loaded
let onChanged = () => {};

/** `f()` runs after any change here (the token section lists users too). */
export function setChangedHandler(f) {
  onChanged = f;
}

export function list() {
  return users;
}

function status(text, error = false) {
  const el = $("admin-users-status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function failed(e) {
  status(t("admin-failed", { reason: e.message || String(e) }), true);
}

export async function load() {
  users = await api("GET", apiPath("users"));
  render();
}

export function render() {
  const body = $("admin-users");
  body.replaceChildren(...users.map(row));
  if (!users.length) body.append(h("tr", {}, h("td", { colspan: "5", class: "empty", text: t("admin-none") })));
}

function row(u) {
  const self = S.me && u.name === S.me.user;
  const locked = (el) => (self ? l10n(el, "admin-self-locked") : el);
  const role = h("select", { dataset: { action: "user-role" }, disabled: self,
    onchange: (e) => changeRole(u, e.target) },
    ...ROLES.map((r) => h("option", { value: r, text: t(`role-${r}`), selected: r === u.role })));
  l10n(role, "admin-role-of", { user: u.name });
  const toggle = u.disabled
    ? h("button", { type: "button", class: "small", dataset: { action: "user-enable" }, text: t("user-enable"),
      onclick: () => setDisabled(u, false) })
    : locked(h("button", { type: "button", class: "small", dataset: { action: "user-disable" }, text: t("user-disable"),
      disabled: self, onclick: () => setDisabled(u, true) }));
  const reset = locked(h("button", { type: "button", class: "small", dataset: { action: "user-reset-password" },
    text: t("user-reset-password"), disabled: self, onclick: () => resetPassword(u) }));
  const remove = locked(h("button", { type: "button", class: "small danger", dataset: { action: "user-remove" },
    text: t("user-remove"), disabled: self, onclick: () => removeUser(u) }));
  return h("tr", { dataset: { user: u.name, state: u.disabled ? "disabled" : "active", role: u.role },
    class: u.disabled ? "disabled" : null },
  h("td", { class: "user-name" }, u.name, self ? h("span", { class: "muted", text: ` ${t("admin-you")}` }) : null),
  h("td", {}, role),
  h("td", { class: u.disabled ? "user-state disabled" : "user-state",
    text: t(u.disabled ? "user-state-disabled" : "user-state-active") }),
  h("td", { class: "mono", text: u.last_login ? stamp(u.last_login) : t("admin-never") }),
  h("td", { class: "row-actions" }, toggle, reset, remove));
}

/** Puts the station's answer for one user in the list, or takes it out (`gone`). */
function replace(name, updated) {
  users = updated ? users.map((u) => (u.name === name ? updated : u)) : users.filter((u) => u.name !== name);
  render();
  onChanged();
}

async function changeRole(u, select) {
  try {
    const updated = await api("PATCH", apiPath("users", u.name), { role: select.value });
    replace(u.name, updated);
    status(t("user-role-changed", { user: u.name, role: t(`role-${updated.role}`) }));
  } catch (e) {
    select.value = u.role;
    failed(e);
  }
}

async function setDisabled(u, disabled) {
  if (disabled) {
    const ok = await ask({ title: t("user-disable"), text: t("user-disable-confirm", { user: u.name }),
      ok: t("user-disable"), danger: true });
    if (!ok) return;
  }
  try {
    replace(u.name, await api("PATCH", apiPath("users", u.name), { disabled }));
    status(t(disabled ? "user-disabled" : "user-enabled", { user: u.name }));
  } catch (e) {
    failed(e);
  }
}

async function resetPassword(u) {
  const password = await ask({ title: t("user-reset-title", { user: u.name }), text: t("user-reset-explain"),
    ok: t("user-reset-password"), password: true });
  if (password === null) return;
  try {
    replace(u.name, await api("PATCH", apiPath("users", u.name), { password }));
    status(t("user-password-reset", { user: u.name }));
  } catch (e) {
    failed(e);
  }
}

async function removeUser(u) {
  const ok = await ask({ title: t("user-remove"), text: t("user-remove-confirm", { user: u.name }),
    ok: t("user-remove"), danger: true });
  if (!ok) return;
  try {
    await api("DELETE", apiPath("users", u.name));
    replace(u.name, null);
    status(t("user-removed", { user: u.name }));
  } catch (e) {
    failed(e);
  }
}

/** The add form's submit: POST /api/v1/users. */
export async function onAdd(ev) {
  ev.preventDefault();
  const name = $("user-add-name").value.trim();
  const role = $("user-add-role").value;
  const password = $("user-add-password").value;
  $("user-add").disabled = true;
  try {
    const created = await api("POST", apiPath("users"), { name, role, password });
    users = [...users.filter((u) => u.name !== created.name), created];
    render();
    onChanged();
    $("user-add-form").reset();
    status(t("user-added", { user: created.name }));
  } catch (e) {
    failed(e);
  } finally {
    $("user-add").disabled = false;
  }
}
