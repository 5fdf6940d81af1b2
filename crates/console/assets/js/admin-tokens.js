// The API tokens section of the supervisor page: tokens let programs (a dashboard, a
// bridge to another system) use the API as a user. The station never shows a token's
// secret again after creating it, so the new secret is shown here once, in a box to copy
// from, with that warning; the list shows only ids, owners, labels and dates. Revoking a
// token makes the next request with it fail with 401.

import { api, apiPath } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { stamp } from "./time.js";
import * as users from "./admin-users.js";

const dayS = 86400;

let tokens = []; // GET /api/v1/tokens, as last loaded

function status(text, error = false) {
  const el = $("admin-tokens-status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

export async function load() {
  tokens = await api("GET", apiPath("tokens"));
  render();
}

export function render() {
  const body = $("admin-tokens");
  body.replaceChildren(...tokens.map(row));
  if (!tokens.length) body.append(h("tr", {}, h("td", { colspan: "6", class: "empty", text: t("admin-none") })));
  renderUserChoice();
}

function row(k) {
  return h("tr", { dataset: { token: k.id, user: k.user } },
    h("td", { class: "mono", text: k.id }),
    h("td", { text: k.user }),
    h("td", { text: k.label || "" }),
    h("td", { class: "mono", text: stamp(k.created) }),
    h("td", { class: "mono", text: k.expires ? stamp(k.expires) : t("token-never") }),
    h("td", { class: "row-actions" },
      h("button", { type: "button", class: "small danger", dataset: { action: "token-revoke" }, text: t("token-revoke"),
        onclick: () => revoke(k) })));
}

/** The create form's user choice: every user not disabled, keeping what was chosen. */
export function renderUserChoice() {
  const select = $("token-user");
  const chosen = select.value;
  const names = users.list().filter((u) => !u.disabled).map((u) => u.name);
  select.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
  if (names.includes(chosen)) select.value = chosen;
}

async function revoke(k) {
  try {
    await api("DELETE", apiPath("tokens", k.id));
    tokens = tokens.filter((x) => x.id !== k.id);
    render();
    status(t("token-revoked", { id: k.id }));
  } catch (e) {
    status(t("admin-failed", { reason: e.message }), true);
  }
}

/** The create form's submit: POST /api/v1/tokens, then the secret, once. */
export async function onCreate(ev) {
  ev.preventDefault();
  const user = $("token-user").value;
  const label = $("token-label").value.trim();
  const days = $("token-days").value;
  const body = { user };
  if (label) body.label = label;
  if (days) body.expires_in_s = Math.round(Number(days) * dayS);
  $("token-create").disabled = true;
  try {
    const created = await api("POST", apiPath("tokens"), body);
    showSecret(created, user);
    $("token-label").value = "";
    $("token-days").value = "";
    status("");
    await load();
  } catch (e) {
    status(t("admin-failed", { reason: e.message }), true);
  } finally {
    $("token-create").disabled = false;
  }
}

function showSecret(created, user) {
  $("token-secret-for").textContent = t("token-created-for", { id: created.id, user });
  $("token-secret").value = created.token;
  $("token-secret-box").dataset.token = created.id;
  $("token-copy-status").textContent = "";
  $("token-secret-box").hidden = false;
  $("token-secret").focus();
  $("token-secret").select();
}

/** Forgets the secret: it is not kept anywhere once the supervisor has copied it. */
export function hideSecret() {
  $("token-secret").value = "";
  $("token-copy-status").textContent = "";
  delete $("token-secret-box").dataset.token;
  $("token-secret-box").hidden = true;
}

export async function copySecret() {
  const input = $("token-secret");
  input.focus();
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    $("token-copy-status").textContent = t("token-copied");
  } catch (e) {
    // No clipboard permission (or not a secure context): the text is selected for Ctrl+C.
    $("token-copy-status").textContent = t("token-copy-failed");
  }
}
