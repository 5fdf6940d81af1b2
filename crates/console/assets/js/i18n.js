// Translations with Fluent (@fluent/bundle, vendored as a classic script: globalThis.FluentBundle).
// Static markup names its message with data-l10n-id (and data-l10n-args as JSON); a message's
// value becomes the element's text and its attributes (.title, .placeholder, .aria-label)
// become the element's attributes. Dynamic views call t() and re-render on a language change.

const { FluentBundle, FluentResource } = globalThis.FluentBundle;

export const LANGS = ["en", "ru"];
const bundles = {};
let bundle = null;
let current = "en";

export function lang() {
  return current;
}

async function load(code) {
  if (!bundles[code]) {
    const res = await fetch(`/i18n/${code}.ftl`, { credentials: "same-origin" });
    const b = new FluentBundle(code, { useIsolating: false });
    const errors = b.addResource(new FluentResource(await res.text()));
    for (const e of errors) console.warn(`i18n/${code}.ftl:`, e);
    bundles[code] = b;
  }
  return bundles[code];
}

export async function setLang(code) {
  if (!LANGS.includes(code)) code = "en";
  bundle = await load(code);
  current = code;
  document.documentElement.lang = code;
  translateAll(document);
}

export function t(id, args) {
  const m = bundle && bundle.getMessage(id);
  if (!m || !m.value) return id;
  return bundle.formatPattern(m.value, args);
}

export function translate(el) {
  const id = el.dataset.l10nId;
  const m = bundle && bundle.getMessage(id);
  if (!m) return;
  const args = el.dataset.l10nArgs ? JSON.parse(el.dataset.l10nArgs) : undefined;
  if (m.value) el.textContent = bundle.formatPattern(m.value, args);
  for (const [name, pattern] of Object.entries(m.attributes)) {
    el.setAttribute(name, bundle.formatPattern(pattern, args));
  }
}

export function translateAll(root) {
  for (const el of root.querySelectorAll("[data-l10n-id]")) translate(el);
}

/** Sets an element's message id (and arguments) and translates it now. */
export function l10n(el, id, args) {
  el.dataset.l10nId = id;
  if (args) el.dataset.l10nArgs = JSON.stringify(args);
  else delete el.dataset.l10nArgs;
  translate(el);
  return el;
}
