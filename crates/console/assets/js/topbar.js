// The top bar: which station this is, who is logged in here, who else is on watch, and the
// UTC clock with the date-time group operators write in messages.

import { api, apiPath } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { dtg, hms } from "./time.js";
import { S } from "./state.js";

export function renderWho() {
  if (!S.station) return;
  $("station-name").textContent = S.station.name.toUpperCase();
  if (S.me) $("who-me").textContent = t("logged-in-as", { user: S.me.user, role: t(`role-${S.me.role}`) });
  const others = (S.session && S.session.on_watch) || [];
  const names = others.map((o) => (o.sessions > 1 ? `${o.user} ×${o.sessions}` : o.user)).join(", ");
  $("who-watch").textContent = names ? t("on-watch", { users: names }) : t("on-watch-none");
}

/** Someone logged in or out here: who is on watch changed. */
export async function refreshSession() {
  try {
    S.session = await api("GET", apiPath("session"));
    renderWho();
  } catch (e) {
    // Reported elsewhere.
  }
}

export function tickClock(now) {
  $("clock-utc").textContent = hms(now);
  $("clock-dtg").textContent = dtg(now);
}
