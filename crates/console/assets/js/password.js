// Changing one's own password, for every role (POST /api/v1/session/password). The station
// ends all of the user's sessions when it changes, this console's included, so on success
// the console shows the login with a note to use the new password; the draft is kept as
// for any ended session.

import { api, apiPath } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { passwordChanged } from "./session.js";

const passwordChars = 8;

function open() {
  $("password-form").reset();
  $("password-error").textContent = "";
  $("password-dialog").showModal();
  $("password-current").focus();
}

function close() {
  $("password-form").reset();
  if ($("password-dialog").open) $("password-dialog").close();
}

async function onSubmit(ev) {
  ev.preventDefault();
  const current = $("password-current").value;
  const next = $("password-new").value;
  const error = $("password-error");
  if (next.length < passwordChars) {
    error.textContent = t("password-too-short");
    return;
  }
  if (next !== $("password-repeat").value) {
    error.textContent = t("password-mismatch");
    return;
  }
  $("password-submit").disabled = true;
  try {
    await api("POST", apiPath("session", "password"), { current_password: current, new_password: next });
    close();
    passwordChanged();
  } catch (e) {
    if (e.status === 401) close(); // the session had ended anyway: the login is showing
    else error.textContent = e.status === 403 ? t("password-wrong") : t("admin-failed", { reason: e.message });
  } finally {
    $("password-submit").disabled = false;
  }
}

export function wire() {
  $("change-password").addEventListener("click", open);
  $("password-cancel").addEventListener("click", close);
  $("password-form").addEventListener("submit", onSubmit);
}
