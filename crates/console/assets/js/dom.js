// Building the page's elements. Everything the console shows is made with `h`, which puts
// text in with textContent and values in with setAttribute, never through innerHTML: much
// of what is shown (message bodies, notice titles, operator names, ids) comes from the
// peer station, and markup in it must stay text.

/** The element with id `id`. */
export const $ = (id) => document.getElementById(id);

/**
 * A new `tag` element. `props`: `class`, `text` (its textContent), `dataset`, `on<event>`
 * handlers, and other attributes (true for an empty attribute; null, undefined and false
 * leave it out). `children` are elements or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}
