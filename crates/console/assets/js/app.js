// The operator console: login, line board, conversation, alerts, record, notices map.
// Plain ES modules, no build step; the station serves this file from the binary.
//
// Data flow: on start (and after every reconnection) `resync` fetches lines, messages,
// session, checkpoint and notices; between resyncs the event stream (/api/v1/events,
// Server-Sent Events) updates the same state. Every update is idempotent (messages are
// keyed by id), so replays and resyncs never duplicate anything.

import { api, allMessages, setUnauthorizedHandler } from "./api.js";
import { setLang, t, l10n, lang, LANGS } from "./i18n.js";
import { dtg, hms, stamp, duration } from "./time.js";
import * as alerts from "./alerts.js";
import { NoticeMap } from "./map.js";

const $ = (id) => document.getElementById(id);
const PRECEDENCE_RANK = { FLASH: 0, IMMEDIATE: 1, PRIORITY: 2, ROUTINE: 3 };
const linesPollMs = 5000;
// Checkpoints are made every few seconds and cosignatures are not record entries, so poll.
const checkpointPollMs = 10000;

const S = {
  me: null, // {user, role}
  station: null, // {name, key, lang, lines}
  session: null, // {on_watch}
  lines: new Map(), // peer -> line from /api/v1/lines
  messages: new Map(), // peer -> Map(id -> message), in the order this station stored them
  selected: null,
  events: null, // EventSource
  lastEventId: null,
  disconnected: false,
  started: false,
  notices: [],
  conflicts: [],
  noticesApi: null, // true, false (404), or null (not asked yet)
  checkpoint: undefined,
  lastCosigned: null, // {size, name, time}: the newest checkpoint seen cosigned by the peer
  noticeDraft: null,
};

// ---------------------------------------------------------------- login and session

function showLogin(expired) {
  $("login-view").hidden = false;
  $("login-expired").hidden = !expired;
  $("login-error").textContent = "";
  $("login-password").value = "";
  if (S.me && !$("login-user").value) $("login-user").value = S.me.user;
  ($("login-user").value ? $("login-password") : $("login-user")).focus();
}

function sessionEnded() {
  if ($("login-view").hidden === false) return;
  closeEvents();
  saveDraft();
  showLogin(S.started);
}

async function onLogin(ev) {
  ev.preventDefault();
  alerts.unlockAudio();
  const user = $("login-user").value.trim();
  const password = $("login-password").value;
  $("login-submit").disabled = true;
  try {
    const me = await api("POST", "/api/v1/login", { user, password });
    const sameUser = S.me && S.me.user === me.user;
    S.me = { user: me.user, role: me.role };
    $("login-view").hidden = true;
    $("login-password").value = "";
    if (S.started && sameUser) {
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

async function onLogout() {
  saveDraft();
  try {
    await api("POST", "/api/v1/logout");
  } catch (e) {
    // Already logged out or unreachable: the console logs out locally either way.
  }
  closeEvents();
  S.started = false;
  S.me = null;
  $("app").hidden = true;
  showLogin(false);
}

function langKey() {
  return `hotline.lang.${S.station.name}.${S.me.user}`;
}

async function start() {
  S.station = await api("GET", "/api/v1/station");
  S.session = await api("GET", "/api/v1/session");
  S.me = { user: S.session.user, role: S.session.role };
  await setLang(localStorage.getItem(langKey()) || S.station.lang || "en");
  $("lang-select").value = lang();
  $("compose-lang").value = S.station.lang || "en";
  S.lines.clear();
  S.messages.clear();
  S.selected = null;
  for (const l of S.station.lines) S.messages.set(l.peer, new Map());
  S.selected = S.station.lines.length ? S.station.lines[0].peer : null;
  S.started = true;
  restoreDraft();
  $("app").hidden = false;
  document.title = `hotline — ${S.station.name}`;
  openEvents();
  await resync();
  map.fit(true);
}

// ---------------------------------------------------------------- synchronisation

async function resync() {
  try {
    const [lines, session] = await Promise.all([api("GET", "/api/v1/lines"), api("GET", "/api/v1/session")]);
    S.session = session;
    for (const l of lines) setLine(l, false);
    await Promise.all(lines.map(async (l) => {
      const list = await allMessages(l.peer);
      const map = S.messages.get(l.peer) || new Map();
      for (const m of list) map.set(m.id, m);
      S.messages.set(l.peer, map);
      for (const m of list) alertForMessage(m);
    }));
    renderAll();
  } catch (e) {
    if (e.status !== 401) console.warn("resync failed:", e);
  }
  loadCheckpoint();
  loadNotices();
  loadWatch();
}

async function refreshLines() {
  if (!S.started || !$("login-view").hidden) return;
  try {
    for (const l of await api("GET", "/api/v1/lines")) setLine(l, true);
    renderLines();
  } catch (e) {
    // The event stream's banner reports a lost station; nothing more to say here.
  }
}

async function refreshSession() {
  try {
    S.session = await api("GET", "/api/v1/session");
    renderWho();
  } catch (e) {
    // Reported elsewhere.
  }
}

function closeEvents() {
  if (S.events) S.events.close();
  S.events = null;
}

function setDisconnected(on) {
  S.disconnected = on;
  $("console-disconnected").hidden = !on;
  document.body.classList.toggle("console-disconnected", on);
}

function openEvents() {
  closeEvents();
  const url = "/api/v1/events" + (S.lastEventId ? `?after=${S.lastEventId}` : "");
  const es = new EventSource(url, { withCredentials: true });
  S.events = es;
  es.onopen = () => {
    if (S.disconnected) {
      setDisconnected(false);
      resync();
    }
  };
  es.onerror = () => {
    if (S.events !== es) return;
    setDisconnected(true);
    if (es.readyState === EventSource.CLOSED) {
      S.events = null;
      setTimeout(probe, 2000);
    }
  };
  const kinds = [
    "message.queued", "message.sent", "message.delivered", "message.received", "message.acknowledged",
    "message.acknowledged_by_peer", "line.state", "login", "logout", "alarm.raised", "record.checkpoint",
    "notice.filed", "notice.acknowledged", "notice.amended", "notice.cancelled", "notice.expired",
    "notice.received", "notice.acknowledged_by_peer", "conflict.detected", "conflict.raised",
    "conflict.acknowledged", "conflict.resolved",
    "alarm.acknowledged", "alarm.cleared", "watch_check.sent", "watch_check.received", "watch_check.answered",
    "watch_check.missed", "presence.received",
  ];
  for (const kind of kinds) es.addEventListener(kind, (ev) => onEvent(kind, ev));
}

/** After the stream failed for good (e.g. the station refused it): log in again or retry. */
async function probe() {
  if (!S.started || S.events) return;
  try {
    await api("GET", "/api/v1/session");
    openEvents();
  } catch (e) {
    if (e.status !== 401) setTimeout(probe, 2000);
  }
}

function onEvent(kind, ev) {
  if (ev.lastEventId) S.lastEventId = ev.lastEventId;
  let data;
  try {
    data = JSON.parse(ev.data);
  } catch (e) {
    return;
  }
  if (kind.startsWith("message.") && data.message) {
    upsertMessage(data.message);
    alertForMessage(data.message);
  } else if (kind === "line.state") {
    const old = S.lines.get(data.peer);
    setLine({ ...(old || {}), peer: data.peer, state: data.state, since: data.at || new Date().toISOString(),
      rtt_ms: data.state === "up" ? old && old.rtt_ms : null }, true);
    renderLines();
    refreshLines();
  } else if (kind === "login" || kind === "logout") {
    refreshSession();
  } else if (kind === "alarm.raised" && data.alarm) {
    alertForAlarm(data.alarm);
  } else if (kind === "alarm.raised") {
    const text = data.message || data.cause || kind;
    alerts.raise(`alarm:${ev.lastEventId}`, "critical", () => t("alert-critical", { message: text }), null);
  } else if ((kind === "alarm.acknowledged" || kind === "alarm.cleared") && data.alarm) {
    alerts.clear(`alarm:${data.alarm.id}`);
  } else if (kind === "watch_check.received") {
    alertForCheck({ id: data.id, peer: data.peer, direction: "in", state: "pending", deadline: data.deadline });
  } else if (kind === "watch_check.answered" || kind === "watch_check.missed" || kind === "watch_check.sent"
    || kind === "presence.received") {
    if (kind === "watch_check.answered" && data.direction === "in") alerts.clear(`check:${data.id}`);
    refreshLines();
  } else if (kind === "record.checkpoint") {
    loadCheckpoint();
  } else if (kind.startsWith("notice.") || kind.startsWith("conflict.")) {
    loadNotices();
  }
}

function setLine(l, alertOnChange) {
  const old = S.lines.get(l.peer);
  S.lines.set(l.peer, l);
  if (!S.messages.has(l.peer)) S.messages.set(l.peer, new Map());
  if (!S.selected) S.selected = l.peer;
  const wasDown = old ? old.state === "down" : false;
  const key = `down:${l.peer}`;
  if (l.state === "down" && (!wasDown || !old) && (alertOnChange || !old)) {
    alerts.raise(key, "down", () => t("alert-line-down", { peer: l.peer }), null);
  } else if (l.state === "up" && alerts.has(key)) {
    alerts.note(key, "alert-line-restored");
  }
}

function upsertMessage(m) {
  if (!S.messages.has(m.peer)) S.messages.set(m.peer, new Map());
  S.messages.get(m.peer).set(m.id, m);
  if (m.peer === S.selected) renderConversation();
  renderLines();
}

function needsAck(m) {
  return m.direction === "in" && m.state !== "acknowledged";
}

function alertForMessage(m) {
  const key = `msg:${m.id}`;
  if (!needsAck(m)) {
    alerts.clear(key);
    return;
  }
  if (alerts.has(key) || (m.precedence !== "FLASH" && m.precedence !== "IMMEDIATE")) return;
  const level = m.precedence === "FLASH" ? "flash" : "immediate";
  alerts.raise(key, level, () => t(`alert-${level}`, { peer: m.peer }) + ": " + m.body.slice(0, 120),
    () => acknowledge(m.id));
}

/** An open, unacknowledged alarm is an alert; acknowledging it stops its escalation. */
function alertForAlarm(a) {
  const key = `alarm:${a.id}`;
  if (a.state !== "raised") {
    alerts.clear(key);
    return;
  }
  const level = a.severity === "critical" ? "critical" : "immediate";
  const label = a.severity === "critical" ? "alert-critical" : "alert-warning";
  alerts.raise(key, level, () => t(label, { message: a.text }), async () => {
    try {
      await api("POST", `/api/v1/alarms/${a.id}/ack`);
      return true;
    } catch (e) {
      console.warn("alarm ack failed:", e);
      return false;
    }
  });
}

/** The peer's watch check waits for any operator here to answer it. */
function alertForCheck(c) {
  const key = `check:${c.id}`;
  if (c.direction !== "in" || c.state !== "pending") {
    alerts.clear(key);
    return;
  }
  alerts.raise(key, "immediate", () => t("alert-watch-check", { peer: c.peer, deadline: stamp(c.deadline) }), async () => {
    try {
      await api("POST", `/api/v1/watch-checks/${c.id}/answer`);
      return true;
    } catch (e) {
      console.warn("watch check answer failed:", e);
      return false;
    }
  });
}

async function loadWatch() {
  try {
    const [alarms, checks] = await Promise.all([api("GET", "/api/v1/alarms"), api("GET", "/api/v1/watch-checks?limit=50")]);
    for (const a of alarms) alertForAlarm(a);
    for (const c of checks) alertForCheck(c);
  } catch (e) {
    if (e.status !== 401) console.warn("watch load failed:", e);
  }
}

async function acknowledge(id) {
  try {
    const m = await api("POST", `/api/v1/messages/${id}/ack`);
    upsertMessage(m);
    alertForMessage(m);
    return true;
  } catch (e) {
    console.warn("ack failed:", e);
    return false;
  }
}

// ---------------------------------------------------------------- rendering

function h(tag, props = {}, ...children) {
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

function renderAll() {
  renderWho();
  renderLines();
  renderConversation();
  renderRecord();
  renderNotices();
  alerts.render();
  tick();
}

function renderWho() {
  if (!S.station) return;
  $("station-name").textContent = S.station.name.toUpperCase();
  if (S.me) $("who-me").textContent = t("logged-in-as", { user: S.me.user, role: t(`role-${S.me.role}`) });
  const others = (S.session && S.session.on_watch) || [];
  const names = others.map((o) => (o.sessions > 1 ? `${o.user} ×${o.sessions}` : o.user)).join(", ");
  $("who-watch").textContent = names ? t("on-watch", { users: names }) : t("on-watch-none");
}

function renderLines() {
  const ul = $("lines");
  const peers = [...S.lines.keys()];
  if (!peers.length) {
    ul.replaceChildren(h("li", { class: "empty", text: t("lines-none") }));
    return;
  }
  const focusedPeer = document.activeElement && document.activeElement.closest("#lines li")?.dataset.peer;
  ul.replaceChildren(...peers.map((peer) => {
    const l = S.lines.get(peer);
    const waiting = l.undelivered || 0;
    const btn = h("button", { type: "button", class: "line-select", "aria-pressed": String(peer === S.selected),
      onclick: () => selectLine(peer) },
      h("span", { class: `lamp ${l.state}`, dataset: { state: l.state }, role: "img",
        "aria-label": t(`line-state-${l.state}`) }),
      h("span", { class: "line-info" },
        h("span", { class: "line-name", text: peer.toUpperCase() }),
        h("span", { class: `line-state ${l.state}`, text: t(`line-state-${l.state}`) }),
        h("span", { class: "line-since", dataset: { since: l.since || "" } }),
        h("span", { class: "line-rtt", text: l.rtt_ms == null || l.state !== "up" ? t("line-rtt-none")
          : t("line-rtt", { rtt: l.rtt_ms.toFixed(1) }) }),
        h("span", { class: `line-waiting${waiting ? " some" : ""}`, text: waiting ? t("line-undelivered", { count: waiting }) : "" }),
        h("span", { class: "line-watch", text: watchText(l.last_watch_check) }),
        h("span", { class: `line-presence${presenceClass(l.peer_on_watch)}`, text: presenceText(peer, l.peer_on_watch) }),
        h("span", { class: "line-figures", text: figuresText(l.responsiveness_24h) })));
    return h("li", { class: `line ${l.state}`, dataset: { peer, state: l.state } }, btn);
  }));
  if (focusedPeer) ul.querySelector(`li[data-peer="${focusedPeer}"] button`)?.focus();
  tick();
}

function watchText(w) {
  if (!w) return t("line-watch-none");
  if (w.state === "pending") return t("line-watch-pending", { time: stamp(w.sent) });
  if (w.state === "missed" || w.late) return t("line-watch-missed", { time: stamp(w.sent) });
  return t("line-watch", { time: stamp(w.sent), seconds: Math.round(w.answered_in_s), user: w.answered_by || "?" });
}

/** The peer's responsiveness over 24 h: watch checks answered and time to answer, and
 * the time to acknowledge our FLASH messages. */
function figuresText(f) {
  const out = f && f.out;
  if (!out || !out.watch_checks || !out.watch_checks.sent) return t("line-figures-none");
  const w = out.watch_checks;
  const flash = out.time_to_acknowledge && out.time_to_acknowledge.FLASH;
  return t("line-figures", {
    answered: w.answered, sent: w.sent, missed: w.missed,
    p50: w.p50_s == null ? "–" : Math.round(w.p50_s), max: w.max_s == null ? "–" : Math.round(w.max_s),
    flash: flash && flash.p50_s != null ? Math.round(flash.p50_s) : "–",
  });
}

/** "bravo: 2 on watch"; nobody on watch at the far end is a warning. */
function presenceText(peer, p) {
  if (!p) return t("line-presence-unknown");
  return t("line-presence", { peer: peer.toUpperCase(), count: p.count });
}

function presenceClass(p) {
  return p && p.count === 0 ? " none" : "";
}

function selectLine(peer) {
  saveDraft();
  S.selected = peer;
  renderLines();
  renderConversation();
  restoreDraft();
  loadNotices();
}

function messageEl(m, where) {
  const mine = m.direction === "out";
  const from = mine ? S.station.name : m.peer;
  const to = mine ? m.peer : S.station.name;
  const tipId = `tip-${where}-${m.id}`;
  const times = mine
    ? [["time-created", m.created], ["time-sent", m.sent], ["time-delivered", m.delivered], ["time-acknowledged", m.acknowledged]]
    : [["time-created", m.created], ["time-received", m.delivered], ["time-acknowledged", m.acknowledged]];
  const tip = h("span", { class: "tip", role: "tooltip", id: tipId },
    ...times.map(([id, v]) => h("span", { text: t(id, { time: stamp(v) }) })),
    m.acknowledged_by ? h("span", { text: t("acknowledged-by", { user: m.acknowledged_by, time: stamp(m.acknowledged) }) }) : null);
  // The receiver's words for an incoming message: it needs acknowledging, or it has been.
  const chipText = mine || m.state === "acknowledged" ? t(`state-${m.state}`) : t("state-awaiting-ack");
  const chip = h("span", { class: `state-chip ${mine ? m.state : needsAck(m) ? "awaiting" : m.state}`, tabindex: "0",
    "aria-describedby": tipId, dataset: { state: m.state }, text: chipText });
  let action = null;
  if (needsAck(m) && where === "pinned") {
    action = h("button", { type: "button", class: "ack primary", onclick: (ev) => { ev.target.disabled = true; acknowledge(m.id); } });
    l10n(action, "acknowledge");
  }
  return h("li", { class: `msg ${m.direction} prec-${m.precedence} state-${m.state}`, dataset: { id: m.id, state: m.state, precedence: m.precedence } },
    h("div", { class: "meta" },
      h("span", { class: `badge prec-${m.precedence}`, text: t(`precedence-${m.precedence}`) }),
      h("span", { class: "dir", text: `${from.toUpperCase()} → ${to.toUpperCase()}` }),
      h("time", { datetime: m.created, text: dtg(new Date(m.created)) }),
      h("span", { class: "author", text: m.author ? t("author", { user: m.author }) : "" }),
      h("span", { class: "lang-tag", text: (m.lang || "").toUpperCase() })),
    h("p", { class: "body", lang: m.lang, text: m.body }),
    h("div", { class: "status" }, h("span", { class: "chip-wrap" }, chip, tip), action));
}

/** Replaces the children of `list` with `items`, reusing elements whose revision is unchanged. */
function reconcile(list, items, build, where) {
  const old = new Map([...list.children].map((c) => [c.dataset.id, c]));
  const focused = document.activeElement;
  const next = items.map((m) => {
    const rev = `${m.state}|${lang()}|${m.acknowledged || ""}|${m.sent || ""}|${m.delivered || ""}`;
    const prev = old.get(m.id);
    if (prev && prev.dataset.rev === rev) return prev;
    const e = build(m, where);
    e.dataset.rev = rev;
    return e;
  });
  const same = next.length === list.children.length && next.every((e, i) => list.children[i] === e);
  if (!same) list.replaceChildren(...next);
  if (focused && !document.contains(focused)) list.focus();
}

function renderConversation() {
  const peer = S.selected;
  const heading = $("conversation-heading");
  if (!peer) {
    heading.textContent = t("conversation-none");
    return;
  }
  heading.textContent = t("conversation-heading", { peer: peer.toUpperCase() });
  $("compose-label").textContent = t("compose-body", { peer: peer.toUpperCase() });
  const msgs = [...(S.messages.get(peer) || new Map()).values()];
  const pinned = msgs.filter(needsAck)
    .sort((a, b) => PRECEDENCE_RANK[a.precedence] - PRECEDENCE_RANK[b.precedence] || a.created.localeCompare(b.created));
  $("pinned").hidden = pinned.length === 0;
  reconcile($("pinned-list"), pinned, messageEl, "pinned");
  const log = $("log");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  if (!msgs.length) {
    log.replaceChildren(h("li", { class: "empty", dataset: { id: "empty" }, text: t("log-empty") }));
  } else {
    reconcile(log, msgs, messageEl, "log");
  }
  if (atBottom) log.scrollTop = log.scrollHeight;
}

// ---------------------------------------------------------------- compose and drafts

function draftKey(peer = S.selected) {
  return S.station && S.me && peer ? `hotline.draft.${S.station.name}.${S.me.user}.${peer}` : null;
}

function saveDraft() {
  const key = draftKey();
  if (!key) return;
  const body = $("compose-body").value;
  if (body) {
    localStorage.setItem(key, JSON.stringify({ body, precedence: $("compose-precedence").value, lang: $("compose-lang").value }));
  } else {
    localStorage.removeItem(key);
  }
}

function restoreDraft() {
  const key = draftKey();
  if (!key) return;
  let d = null;
  try {
    d = JSON.parse(localStorage.getItem(key) || "null");
  } catch (e) {
    d = null;
  }
  $("compose-body").value = d ? d.body : "";
  $("compose-precedence").value = d ? d.precedence : "ROUTINE";
  $("compose-lang").value = d ? d.lang : (S.station.lang || "en");
  markPrecedence();
}

function markPrecedence() {
  $("compose").dataset.precedence = $("compose-precedence").value;
}

async function onSend(ev) {
  ev.preventDefault();
  const body = $("compose-body").value;
  const peer = S.selected;
  if (!peer || !body.trim()) return;
  saveDraft();
  const status = $("compose-status");
  $("compose-send").disabled = true;
  try {
    const res = await api("POST", `/api/v1/lines/${encodeURIComponent(peer)}/messages`, {
      body, precedence: $("compose-precedence").value, lang: $("compose-lang").value,
    });
    if (res && res.message) upsertMessage(res.message);
    $("compose-body").value = "";
    $("compose-precedence").value = "ROUTINE";
    markPrecedence();
    localStorage.removeItem(draftKey(peer));
    status.textContent = "";
    const log = $("log");
    log.scrollTop = log.scrollHeight;
  } catch (e) {
    status.textContent = e.status === 401 ? t("draft-kept")
      : t("send-failed", { reason: e.status === 0 ? t("error-network") : e.message });
  } finally {
    $("compose-send").disabled = false;
  }
}

// ---------------------------------------------------------------- record

async function loadCheckpoint() {
  try {
    S.checkpoint = await api("GET", "/api/v1/log/checkpoint");
  } catch (e) {
    S.checkpoint = e.status === 404 ? null : S.checkpoint ?? null;
  }
  renderRecord();
}

/** A C2SP signed note: origin, tree size, root hash, blank line, "— name base64" lines. */
function parseCheckpoint(text) {
  const [body, sigs = ""] = text.split("\n\n");
  const [origin, size, root] = body.split("\n");
  const signatures = sigs.split("\n").filter((l) => l.startsWith("— ")).map((l) => {
    const [, name, b64] = l.split(" ");
    let time = null;
    try {
      const raw = atob(b64);
      // tlog-cosignature/v1: 4-byte key hash, 8-byte big-endian timestamp (s), 64-byte signature.
      if (raw.length === 76) {
        let secs = 0;
        for (let i = 4; i < 12; i++) secs = secs * 256 + raw.charCodeAt(i);
        time = new Date(secs * 1000).toISOString();
      }
    } catch (e) {
      time = null;
    }
    return { name, time };
  });
  return { origin, size, root, signatures };
}

function renderRecord() {
  const box = $("record-body");
  const exportLink = $("record-export");
  if (typeof S.checkpoint !== "string" || !S.checkpoint.trim()) {
    box.replaceChildren(h("p", { class: "muted", text: S.checkpoint === undefined ? "…" : t("record-unavailable") }));
    exportLink.classList.add("disabled");
    exportLink.setAttribute("aria-disabled", "true");
    return;
  }
  exportLink.classList.remove("disabled");
  exportLink.removeAttribute("aria-disabled");
  const cp = parseCheckpoint(S.checkpoint);
  const own = cp.signatures.filter((s) => s.name === S.station.name);
  const peers = cp.signatures.filter((s) => s.name !== S.station.name);
  // The newest checkpoint is often not cosigned yet (the peer cosigns within seconds), so
  // also say which was the last one this console saw cosigned.
  const lastKey = `hotline.last-cosigned.${S.station.name}`;
  if (peers.length) {
    S.lastCosigned = { size: cp.size, name: peers[0].name, time: peers[0].time };
    sessionStorage.setItem(lastKey, JSON.stringify(S.lastCosigned));
  }
  const last = S.lastCosigned || JSON.parse(sessionStorage.getItem(lastKey) || "null");
  box.replaceChildren(...[
    h("dl", { class: "kv" },
      h("dt", { text: t("record-origin") }), h("dd", { text: cp.origin }),
      h("dt", { text: t("record-size") }), h("dd", { class: "record-size", text: cp.size }),
      h("dt", { text: t("record-root") }), h("dd", { class: "hash", title: cp.root, text: cp.root })),
    ...own.map((s) => h("p", { class: "sig own", text: t("record-signed-by", { name: s.name }) })),
    ...(peers.length
      ? peers.map((s) => h("p", { class: "sig cosigned", text: t("record-cosigned", { name: s.name, time: s.time ? stamp(s.time) : "?" }) }))
      : [h("p", { class: "sig missing", text: t("record-not-cosigned") }),
        last ? h("p", { class: "sig last-cosigned", text: t("record-last-cosigned",
          { size: last.size, name: last.name, time: last.time ? stamp(last.time) : "?" }) }) : null]),
  ].filter(Boolean));
}

// ---------------------------------------------------------------- notices and conflicts

const DEMO_NOTICES = [
  { id: "demo-ours-1", side: "ours", kind: "air_operations", title: "CAP North",
    area: { type: "Point", coordinates: [30.5, 50.4], radius_m: 60000 }, altitude: { min_m: 0, max_m: 9000 },
    start: "2026-11-25T10:00:00Z", end: "2026-11-25T12:00:00Z", state: "filed" },
  { id: "demo-theirs-1", side: "theirs", kind: "naval_exercise", title: "EX WINTER",
    area: { type: "Polygon", coordinates: [[[30.9, 50.0], [32.2, 50.0], [32.2, 51.0], [30.9, 51.0], [30.9, 50.0]]] },
    altitude: { min_m: 3000, max_m: 12000 }, start: "2026-11-25T11:00:00Z", end: "2026-11-25T14:00:00Z", state: "filed" },
  { id: "demo-theirs-2", side: "theirs", kind: "naval_exercise", title: "NAVEX",
    area: { type: "Point", coordinates: [33.0, 45.0], radius_m: 40000 }, altitude: null,
    start: "2026-11-25T08:00:00Z", end: "2026-11-25T18:00:00Z", state: "acknowledged" },
];
const DEMO_CONFLICTS = [{ id: "demo-conflict-1", notices: ["demo-ours-1", "demo-theirs-1"], state: "open" }];

function sideOf(n) {
  if (n.side) return n.side;
  const origin = n.station || n.origin || n.filed_by_station;
  if (origin) return origin === S.station.name ? "ours" : "theirs";
  return n.direction === "in" ? "theirs" : "ours";
}

async function loadNotices() {
  if (new URLSearchParams(location.search).has("demo-notices")) {
    S.notices = DEMO_NOTICES;
    S.conflicts = DEMO_CONFLICTS;
    S.noticesApi = true;
  } else if (S.selected) {
    try {
      const [notices, conflicts] = await Promise.all([
        api("GET", `/api/v1/lines/${encodeURIComponent(S.selected)}/notices`),
        api("GET", "/api/v1/conflicts"),
      ]);
      S.notices = (Array.isArray(notices) ? notices : notices.notices || []).map((n) => ({ ...n, side: sideOf(n) }));
      S.conflicts = (Array.isArray(conflicts) ? conflicts : conflicts.conflicts || []).map((c) => ({
        ...c, notices: c.notices || [c.a, c.b].map((x) => (x && x.id) || x).filter(Boolean) }));
      S.noticesApi = true;
    } catch (e) {
      if (e.status === 404) S.noticesApi = false;
    }
  }
  for (const c of S.conflicts) {
    const key = `conflict:${c.id}`;
    if (c.state === "acknowledged" || c.acknowledged) alerts.clear(key);
    else if (!alerts.has(key)) {
      alerts.raise(key, "conflict", () => t("alert-conflict", { title: conflictTitle(c) }), () => ackConflict(c));
    }
  }
  map.setData(S.notices, S.conflicts);
  renderNotices();
}

function conflictTitle(c) {
  const title = (id) => (S.notices.find((n) => n.id === id) || {}).title || id;
  return t("conflict-between", { a: title(c.notices[0]), b: title(c.notices[1]) });
}

async function ackConflict(c) {
  if (String(c.id).startsWith("demo-")) {
    c.state = "acknowledged";
    map.setData(S.notices, S.conflicts);
    renderNotices();
    return true;
  }
  try {
    await api("POST", `/api/v1/conflicts/${encodeURIComponent(c.id)}/ack`);
    loadNotices();
    return true;
  } catch (e) {
    return false;
  }
}

function noticeItem(n) {
  const a = n.area || {};
  const where = a.type === "Point" ? t("notice-radius", { km: ((a.radius_m || 0) / 1000).toFixed(1) }) : a.type;
  const alt = n.altitude ? t("notice-alt", { min: n.altitude.min_m, max: n.altitude.max_m }) : "";
  return h("li", { class: `notice-item ${n.side}`, dataset: { id: n.id } },
    h("span", { class: `swatch ${n.side}` }),
    h("span", { class: "notice-title", text: n.title || n.id }),
    h("span", { class: "muted", text: [t(`kind-${n.kind}`), where, alt, `${stamp(n.start)} – ${stamp(n.end)}`].filter(Boolean).join(" · ") }),
    noticeAckControl(n));
}

// The other side's notice needs one of our operators to acknowledge it; ours shows who at
// the far end did.
function noticeAckControl(n) {
  if (n.state === "acknowledged") {
    return h("span", { class: "muted notice-acked", text: t("acknowledged-by", { user: n.acknowledged_by || "?", time: stamp(n.acknowledged) }) });
  }
  if (n.side !== "theirs" || n.state === "cancelled" || n.state === "expired" || String(n.id).startsWith("demo-")) return null;
  return h("button", { type: "button", class: "small notice-ack", onclick: async () => {
    try {
      await api("POST", `/api/v1/notices/${encodeURIComponent(n.id)}/ack`);
    } catch (e) {
      return;
    }
    loadNotices();
  } }, t("acknowledge"));
}

function renderNotices() {
  const box = $("notice-lists");
  if (S.noticesApi === false) {
    box.replaceChildren(h("p", { class: "muted", id: "notices-unavailable", text: t("notices-unavailable") }));
    return;
  }
  const list = (side) => {
    const items = S.notices.filter((n) => n.side === side);
    return items.length ? h("ul", {}, ...items.map(noticeItem)) : h("p", { class: "muted", text: t("notices-none") });
  };
  const conflicts = S.conflicts.length
    ? h("ul", { class: "conflict-list" }, ...S.conflicts.map((c) => {
      const acked = c.state === "acknowledged" || c.acknowledged;
      const btn = acked ? null : h("button", { type: "button", class: "small", onclick: async () => {
        if (await ackConflict(c)) alerts.clear(`conflict:${c.id}`);
      } }, t("acknowledge"));
      return h("li", { class: `conflict-item${acked ? " acked" : ""}`, dataset: { id: c.id } },
        h("span", { class: "swatch conflict" }), h("span", { text: conflictTitle(c) }), btn);
    }))
    : h("p", { class: "muted", text: t("conflicts-none") });
  box.replaceChildren(
    h("section", { class: "conflicts" }, h("h3", { text: t("conflicts") }), conflicts),
    h("section", {}, h("h3", { text: t("notices-ours") }), list("ours")),
    h("section", {}, h("h3", { text: t("notices-theirs") }), list("theirs")));
}

function utcInput(date) {
  return date.toISOString().slice(0, 16);
}

function noticeJson() {
  const num = (id) => ($(id).value === "" ? null : Number($(id).value));
  const min = num("notice-alt-min"), max = num("notice-alt-max");
  const notice = {
    kind: $("notice-kind").value,
    area: S.noticeDraft,
    start: $("notice-start").value ? `${$("notice-start").value}:00Z` : null,
    end: $("notice-end").value ? `${$("notice-end").value}:00Z` : null,
    title: $("notice-title").value,
    remarks: $("notice-remarks").value,
    lang: lang(),
  };
  if (min !== null || max !== null) notice.altitude = { min_m: min ?? 0, max_m: max ?? min };
  return notice;
}

function showNoticeJson() {
  $("notice-json").textContent = JSON.stringify(noticeJson(), null, 2);
}

function onDraftArea(area) {
  S.noticeDraft = area;
  const form = $("notice-form");
  form.hidden = false;
  if (!$("notice-start").value) {
    const start = new Date(Math.ceil(Date.now() / 3600000) * 3600000);
    $("notice-start").value = utcInput(start);
    $("notice-end").value = utcInput(new Date(start.getTime() + 2 * 3600000));
  }
  $("notice-status").textContent = "";
  showNoticeJson();
  $("notice-title").focus();
}

async function onFileNotice(ev) {
  ev.preventDefault();
  const notice = noticeJson();
  const status = $("notice-status");
  try {
    await api("POST", `/api/v1/lines/${encodeURIComponent(S.selected)}/notices`, notice);
    status.textContent = t("notice-filed");
    discardNotice();
    loadNotices();
  } catch (e) {
    status.textContent = t("notice-file-failed", {
      reason: e.status === 404 ? t("notices-unavailable") : e.status === 0 ? t("error-network") : e.message });
  }
}

function discardNotice() {
  S.noticeDraft = null;
  map.clearDraft();
  $("notice-form").hidden = true;
  $("notice-form").reset();
}

function onMapMode(mode) {
  $("draw-cancel").hidden = !mode;
  $("draw-finish").hidden = mode !== "polygon";
  $("draw-polygon").setAttribute("aria-pressed", String(mode === "polygon"));
  $("draw-circle").setAttribute("aria-pressed", String(mode === "circle"));
  const hint = $("draw-hint");
  if (mode) l10n(hint, `draw-hint-${mode}`);
  else {
    delete hint.dataset.l10nId;
    hint.textContent = "";
  }
}

// ---------------------------------------------------------------- clock

function tick() {
  const now = new Date();
  $("clock-utc").textContent = hms(now);
  $("clock-dtg").textContent = dtg(now);
  for (const span of document.querySelectorAll(".line-since")) {
    const since = span.dataset.since;
    span.textContent = since ? t("line-in-state", { duration: duration(now - new Date(since)) }) : "";
  }
}

// ---------------------------------------------------------------- wiring

const map = new NoticeMap($("map"), { onDraft: onDraftArea, onMode: onMapMode });

async function boot() {
  alerts.init($("alert-list"), $("mute-toggle"));
  setUnauthorizedHandler(sessionEnded);
  const guess = (localStorage.getItem("hotline.lang") || navigator.language || "en").slice(0, 2);
  await setLang(LANGS.includes(guess) ? guess : "en");
  $("login-lang").value = lang();
  $("login-form").addEventListener("submit", onLogin);
  $("login-lang").addEventListener("change", async (e) => {
    localStorage.setItem("hotline.lang", e.target.value);
    await setLang(e.target.value);
  });
  $("logout").addEventListener("click", onLogout);
  $("lang-select").addEventListener("change", async (e) => {
    localStorage.setItem(langKey(), e.target.value);
    localStorage.setItem("hotline.lang", e.target.value);
    await setLang(e.target.value);
    renderAll();
  });
  $("compose").addEventListener("submit", onSend);
  $("compose-body").addEventListener("input", saveDraft);
  $("compose-precedence").addEventListener("change", () => { markPrecedence(); saveDraft(); });
  $("compose-lang").addEventListener("change", saveDraft);
  $("compose-body").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("compose").requestSubmit();
    }
  });
  $("record-refresh").addEventListener("click", loadCheckpoint);
  $("record-export").addEventListener("click", (e) => {
    if ($("record-export").classList.contains("disabled")) e.preventDefault();
  });
  $("draw-polygon").addEventListener("click", () => { map.setMode("polygon"); $("map").focus(); });
  $("draw-circle").addEventListener("click", () => { map.setMode("circle"); $("map").focus(); });
  $("draw-finish").addEventListener("click", () => map.finishPolygon());
  $("draw-cancel").addEventListener("click", () => map.cancel());
  $("map-zoom-in").addEventListener("click", () => map.zoom(1.5));
  $("map-zoom-out").addEventListener("click", () => map.zoom(1 / 1.5));
  $("map-reset").addEventListener("click", () => map.fit(true));
  $("notice-form").addEventListener("input", showNoticeJson);
  $("notice-form").addEventListener("submit", onFileNotice);
  $("notice-discard").addEventListener("click", discardNotice);
  window.addEventListener("beforeunload", saveDraft);
  setInterval(tick, 1000);
  setInterval(refreshLines, linesPollMs);
  setInterval(() => {
    if (S.started && $("login-view").hidden) loadCheckpoint();
  }, checkpointPollMs);
  map.load();

  try {
    const health = await (await fetch("/healthz")).json();
    $("login-station").textContent = (health.station || "").toUpperCase();
  } catch (e) {
    // The login shows the error when the operator tries.
  }
  try {
    await api("GET", "/api/v1/session");
    await start();
  } catch (e) {
    if (!S.started) showLogin(false);
  }
}

// Exposed for the browser tests and for debugging from the devtools console.
window.hotline = { state: S, map, onEvent };

boot();
