// Asking the supervisor before an action that cannot be taken back (disabling or removing
// a user ends that user's consoles at once) and asking for a new password, in a modal
// <dialog> on the page rather than window.confirm/prompt: it is translated, styled like
// the console, reachable by keyboard (Escape cancels, Enter confirms) and automatable
// (`data-action="confirm"` / `data-action="cancel"`).

import { h } from "./dom.js";
import { l10n, t } from "./i18n.js";

/**
 * Shows a modal question and resolves when it is answered: to `null` if cancelled, else
 * to `true`, or (with `password: true`) to the password typed (at least 8 characters).
 * `title` and `text` are shown as text; `ok` is the confirm button's label.
 */
export function ask({ title, text, ok, danger = false, password = false }) {
  return new Promise((resolve) => {
    const input = password
      ? l10n(h("input", { type: "password", required: true, minlength: "8", autocomplete: "new-password",
        class: "dialog-password", "aria-label": title }), "password-min-hint")
      : null;
    const cancel = h("button", { type: "button", dataset: { action: "cancel" }, text: t("dialog-cancel") });
    const confirm = h("button", { type: "submit", class: danger ? "primary danger" : "primary",
      dataset: { action: "confirm" }, text: ok });
    const form = h("form", { class: "dialog-form", method: "dialog" },
      h("h2", { text: title }),
      text ? h("p", { text }) : null,
      input,
      h("div", { class: "dialog-buttons" }, cancel, confirm));
    const dialog = h("dialog", { class: "dialog", "aria-label": title }, form);
    let answer = null;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (input && !input.reportValidity()) return;
      answer = input ? input.value : true;
      dialog.close();
    });
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    (input || cancel).focus();
  });
}
