// UTC clock, date-time groups and durations.
import { t } from "./i18n.js";

const pad = (n) => String(n).padStart(2, "0");

/** Military date-time group, e.g. "241530Z NOV 26". */
export function dtg(date) {
  const months = t("dtg-months").split(" ");
  return `${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}Z ` +
    `${months[date.getUTCMonth()] || ""} ${pad(date.getUTCFullYear() % 100)}`;
}

export function hms(date) {
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}Z`;
}

/** "24 NOV 15:30:05Z" style for a timestamp (RFC 3339 string), or "—". */
export function stamp(rfc3339) {
  if (!rfc3339) return t("time-pending");
  const d = new Date(rfc3339);
  const months = t("dtg-months").split(" ");
  return `${pad(d.getUTCDate())} ${months[d.getUTCMonth()] || ""} ${hms(d)}`;
}

export function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const [uh, um, us] = [t("unit-hours"), t("unit-minutes"), t("unit-seconds")];
  if (h > 0) return `${h} ${uh} ${pad(m)} ${um}`;
  if (m > 0) return `${m} ${um} ${pad(sec)} ${us}`;
  return `${sec} ${us}`;
}
