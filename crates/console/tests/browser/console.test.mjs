// End-to-end tests of the console in headless Chromium against two real stations that
// run.sh made and started (alpha and bravo, each with operator `op` and supervisor `sup`). The tests run in
// order and share the two consoles, like two duty officers through one shift.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { openSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with run.sh`);
  return v;
};
const ALPHA = env("ALPHA_URL");
const BRAVO = env("BRAVO_URL");
const BIN = env("HOTLINE_BIN");
const WORK = env("HOTLINE_E2E_WORK");
const SHOTS = env("HOTLINE_SCREENSHOTS");
const PASSWORD = env("HOTLINE_PASSWORD");
const SUPERVISOR = env("HOTLINE_SUPERVISOR");

let browser;
let alphaCtx, bravoCtx;
let alpha, bravo;

async function waitHealthy(url, ms = 20000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/healthz not OK within ${ms} ms`);
}

async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  const bytes = readFileSync(path);
  assert.ok(bytes.length > 1000, `${path} is too small (${bytes.length} bytes)`);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${path} is not a PNG`);
  console.log(`screenshot: ${path} (${statSync(path).size} bytes)`);
}

async function login(page, url, user = "op", password = PASSWORD) {
  await page.goto(url);
  await page.locator("#login-user").waitFor({ state: "visible" });
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible" });
}

async function send(page, body, precedence) {
  await page.fill("#compose-body", body);
  if (precedence) await page.selectOption("#compose-precedence", precedence);
  await page.focus("#compose-body");
  await page.keyboard.press("Control+Enter");
  const item = page.locator("#log li.msg.out", { hasText: body });
  await item.waitFor({ timeout: 3000 });
  return item.getAttribute("data-id");
}

function stationPid(name) {
  return Number(readFileSync(join(WORK, `${name}.pid`), "utf8").trim());
}

async function stopStation(name) {
  const pid = stationPid(name);
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not stop within 10 s of SIGTERM`);
}

async function startStation(name, url) {
  const log = openSync(join(WORK, `${name}.log`), "a");
  const child = spawn(BIN, ["serve", join(WORK, name)], { stdio: ["ignore", log, log], detached: true });
  writeFileSync(join(WORK, `${name}.pid`), `${child.pid}\n`);
  child.unref();
  await waitHealthy(url);
}

before(async () => {
  await Promise.all([waitHealthy(ALPHA), waitHealthy(BRAVO)]);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const opts = { viewport: { width: 1366, height: 768 }, locale: "en-US", timezoneId: "UTC" };
  alphaCtx = await browser.newContext(opts);
  bravoCtx = await browser.newContext(opts);
  alpha = await alphaCtx.newPage();
  bravo = await bravoCtx.newPage();
  for (const [name, page] of [["alpha", alpha], ["bravo", bravo]]) {
    page.on("pageerror", (e) => console.log(`${name} page error: ${e.message}`));
  }
});

after(async () => {
  if (browser) await browser.close();
});

/** A fresh browser context (its own cookies) and page, with page errors logged. */
async function newConsole(name) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "en-US", timezoneId: "UTC" });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.log(`${name} page error: ${e.message}`));
  return { ctx, page };
}

/** The status of `GET /api/v1/session` at `url` with the given request headers, from Node. */
async function sessionStatus(url, headers) {
  const r = await fetch(`${url}/api/v1/session`, { headers: { Accept: "application/json", ...headers } });
  await r.arrayBuffer();
  return r.status;
}

test("log in at alpha and at bravo; both lamps are green", async () => {
  await alpha.goto(ALPHA);
  await alpha.locator("#login-form").waitFor();
  await shot(alpha, "00-alpha-login");
  await login(alpha, ALPHA);
  await login(bravo, BRAVO);
  await alpha.locator('#lines li[data-peer="bravo"][data-state="up"]').waitFor({ timeout: 15000 });
  await bravo.locator('#lines li[data-peer="alpha"][data-state="up"]').waitFor({ timeout: 15000 });
  assert.match(await alpha.textContent("#who-me"), /op/);
  assert.match(await alpha.textContent("#who-watch"), /op/);
  assert.match(await alpha.textContent("#clock-dtg"), /^\d{6}Z [A-Z]{3} \d{2}$/);
  await shot(alpha, "01-alpha-logged-in");
  await shot(bravo, "01-bravo-logged-in");
});

test("alpha sends FLASH: bravo shows it within 1 s with the alert; bravo acknowledges; alpha shows acknowledged", async () => {
  const body = `FLASH test ${Date.now()}: unidentified aircraft heading 270, please confirm`;
  await alpha.fill("#compose-body", body);
  await alpha.selectOption("#compose-precedence", "FLASH");
  await alpha.focus("#compose-body");
  const sentAt = Date.now();
  await alpha.keyboard.press("Control+Enter");
  const pinned = bravo.locator("#pinned-list li.msg", { hasText: body });
  await pinned.waitFor({ timeout: 1000 });
  await bravo.locator("#alert-list li.alert.flash").waitFor({ timeout: 1000 });
  const elapsed = Date.now() - sentAt;
  assert.ok(elapsed <= 1000, `bravo showed the FLASH after ${elapsed} ms`);
  assert.equal(await pinned.getAttribute("data-precedence"), "FLASH");
  assert.equal(await bravo.locator("body").getAttribute("data-tone"), "sounding");
  const id = await alpha.locator("#log li.msg.out", { hasText: body }).getAttribute("data-id");
  await shot(bravo, "02-bravo-flash-alert");
  await shot(alpha, "02-alpha-flash-sent");

  await pinned.locator("button.ack").click();
  await bravo.locator("#alert-list li.alert.flash").waitFor({ state: "detached", timeout: 3000 });
  await bravo.locator(`#pinned-list li[data-id="${id}"]`).waitFor({ state: "detached", timeout: 3000 });
  const chip = alpha.locator(`#log li[data-id="${id}"] .state-chip`);
  await alpha.locator(`#log li[data-id="${id}"] .state-chip[data-state="acknowledged"]`).waitFor({ timeout: 5000 });
  // The times show on focus.
  await chip.focus();
  const tip = alpha.locator(`#log li[data-id="${id}"] .tip`);
  await tip.waitFor({ state: "visible" });
  assert.match(await tip.textContent(), /Acknowledged by op/);
  await shot(alpha, "03-alpha-flash-acknowledged");
  await shot(bravo, "03-bravo-flash-acknowledged");
});

test("stop bravo: alpha's lamp turns red within 5 s and a message shows queued; restart: green and delivered", async () => {
  await stopStation("bravo");
  const stoppedAt = Date.now();
  await alpha.locator('#lines li[data-peer="bravo"][data-state="down"]').waitFor({ timeout: 5000 });
  assert.ok(Date.now() - stoppedAt <= 5000);
  await alpha.locator('#alert-list li.alert.down').waitFor({ timeout: 2000 });
  await bravo.locator("#console-disconnected").waitFor({ state: "visible", timeout: 5000 });

  const body = `queued while the line is down ${Date.now()}`;
  const id = await send(alpha, body, "IMMEDIATE");
  await alpha.locator(`#log li[data-id="${id}"] .state-chip[data-state="queued"]`).waitFor({ timeout: 2000 });
  await shot(alpha, "04-alpha-line-down-message-queued");
  await shot(bravo, "04-bravo-console-disconnected");

  await startStation("bravo", BRAVO);
  await alpha.locator('#lines li[data-peer="bravo"][data-state="up"]').waitFor({ timeout: 20000 });
  await alpha.locator(`#log li[data-id="${id}"] .state-chip[data-state="delivered"]`).waitFor({ timeout: 20000 });
  // Bravo's console resynchronises by itself, without a reload.
  await bravo.locator("#console-disconnected").waitFor({ state: "hidden", timeout: 15000 });
  await bravo.locator(`#pinned-list li[data-id="${id}"]`).waitFor({ timeout: 5000 });
  await bravo.locator("#alert-list li.alert.immediate").waitFor({ timeout: 2000 });
  await shot(alpha, "05-alpha-line-up-delivered");
  await shot(bravo, "05-bravo-resynchronised");
  await bravo.locator(`#pinned-list li[data-id="${id}"] button.ack`).click();
  await alpha.locator(`#log li[data-id="${id}"] .state-chip[data-state="acknowledged"]`).waitFor({ timeout: 5000 });
  // Alpha's line-down alert stays until an operator acknowledges it.
  await alpha.locator("#alert-list li.alert.down button").click();
  await alpha.locator("#alert-list li.alert.down").waitFor({ state: "detached" });
});

test("record panel: the latest checkpoint, cosigned by the peer, and the export downloads", async () => {
  const deadline = Date.now() + 25000;
  const cosigned = alpha.locator("#record-body .sig.cosigned");
  while (!(await cosigned.count())) {
    assert.ok(Date.now() < deadline, "alpha's checkpoint was not shown cosigned by bravo within 25 s");
    await alpha.click("#record-refresh");
    await alpha.waitForTimeout(1000);
  }
  assert.match(await cosigned.textContent(), /Cosigned by bravo at \d\d [A-Z]{3} \d\d:\d\d:\d\dZ/);
  assert.match(await alpha.textContent("#record-body"), /hotline\/alpha\//);
  assert.ok(Number(await alpha.textContent("#record-body .record-size")) > 0);
  await shot(alpha, "06-alpha-record-cosigned");
  const [download] = await Promise.all([alpha.waitForEvent("download"), alpha.click("#record-export")]);
  const exported = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.ok(Array.isArray(exported.checkpoints) && exported.checkpoints.length > 0);
});

test("switch bravo to Russian: the interface's labels change", async () => {
  assert.equal((await bravo.textContent("#lines-heading")).trim(), "Lines");
  await bravo.selectOption("#lang-select", "ru");
  await bravo.locator("#lines-heading", { hasText: "Линии" }).waitFor({ timeout: 2000 });
  assert.equal((await bravo.textContent("#compose-send")).trim(), "Отправить");
  assert.equal((await bravo.textContent("#logout")).trim(), "Выйти");
  assert.match(await bravo.textContent(`#lines li[data-peer="alpha"] .line-state`), /РАБОТАЕТ/);
  assert.match(await bravo.textContent("#clock-dtg"), /^\d{6}Z [А-Я]{3} \d{2}$/);
  await shot(bravo, "07-bravo-russian");
  // Per operator: a reload keeps Russian for this operator.
  await bravo.reload();
  await bravo.locator("#lines-heading", { hasText: "Линии" }).waitFor({ timeout: 5000 });
  // Alpha is still in English.
  assert.equal((await alpha.textContent("#lines-heading")).trim(), "Lines");
});

test("session expiry keeps the half-typed message", async () => {
  const draft = `half-typed ${Date.now()}`;
  await alpha.fill("#compose-body", draft);
  await alphaCtx.clearCookies();
  await alpha.focus("#compose-body");
  await alpha.keyboard.press("Control+Enter");
  await alpha.locator("#login-expired").waitFor({ state: "visible", timeout: 5000 });
  await shot(alpha, "08-alpha-session-expired");
  // Even a reload does not lose it: the draft is in localStorage.
  await login(alpha, ALPHA);
  assert.equal(await alpha.inputValue("#compose-body"), draft);
  await alpha.fill("#compose-body", "");
  await alpha.dispatchEvent("#compose-body", "input");
});

// Notices and a conflict in the shapes the station sends (notices.rs `notice_json` and
// `conflict_json`), served in place of alpha's own for the map-style test.
function noticeFixtures() {
  const notice = (id, side, kind, title, area, altitude, start, end, state) => ({
    kind, title, area, altitude, start, end, remarks: "", lang: "en", id, version: 1, side, state,
    acknowledged_by: state === "acknowledged" ? "op" : null,
    acknowledged: state === "acknowledged" ? "2026-11-25T09:30:00Z" : null,
    station: side === "ours" ? "alpha" : "bravo", peer: "bravo", updated: "2026-11-25T09:00:00Z",
  });
  const notices = [
    notice("fixture-ours-1", "ours", "air_operations", "CAP North",
      { type: "Point", coordinates: [30.5, 50.4], radius_m: 60000 }, { min_m: 0, max_m: 9000 },
      "2026-11-25T10:00:00Z", "2026-11-25T12:00:00Z", "filed"),
    notice("fixture-theirs-1", "theirs", "naval_exercise", "EX WINTER",
      { type: "Polygon", coordinates: [[[30.9, 50.0], [32.2, 50.0], [32.2, 51.0], [30.9, 51.0], [30.9, 50.0]]] },
      { min_m: 3000, max_m: 12000 }, "2026-11-25T11:00:00Z", "2026-11-25T14:00:00Z", "filed"),
    notice("fixture-theirs-2", "theirs", "naval_exercise", "NAVEX",
      { type: "Point", coordinates: [33.0, 45.0], radius_m: 40000 }, null,
      "2026-11-25T08:00:00Z", "2026-11-25T18:00:00Z", "acknowledged"),
  ];
  const conflicts = [{ id: "fixture-conflict-1", peer: "bravo", notices: ["fixture-ours-1", "fixture-theirs-1"],
    state: "open", detail: {}, raised: "2026-11-25T09:00:00Z", acknowledged_by: null, acknowledged: null, resolved: null }];
  return { notices, conflicts };
}

test("map: basemap, both sides' notice styles, and drawing a circle and a polygon make notice JSON", async () => {
  const { notices, conflicts } = noticeFixtures();
  const serve = (body) => (route) => (route.request().method() === "GET" ? route.fulfill({ json: body }) : route.continue());
  await alpha.route(`${ALPHA}/api/v1/lines/bravo/notices`, serve(notices));
  await alpha.route(`${ALPHA}/api/v1/conflicts`, serve(conflicts));
  await alpha.goto(ALPHA);
  await alpha.locator("#app").waitFor({ state: "visible" });
  await alpha.locator("#map path.land").waitFor();
  await alpha.locator('#map path.notice.ours').first().waitFor();
  await alpha.locator('#map path.notice.theirs').first().waitFor();
  await alpha.locator('#map path.conflict-ring').first().waitFor();
  await shot(alpha, "09-alpha-map-notice-styles");

  const box = await alpha.locator("#map").boundingBox();
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  await alpha.click("#draw-circle");
  await alpha.mouse.click(cx, cy);
  await alpha.mouse.click(cx + 40, cy);
  await alpha.locator("#notice-form").waitFor({ state: "visible" });
  await alpha.fill("#notice-title", "CAP South");
  let notice = JSON.parse(await alpha.textContent("#notice-json"));
  assert.equal(notice.area.type, "Point");
  assert.ok(notice.area.radius_m > 0);
  assert.equal(notice.kind, "air_operations");
  assert.equal(notice.title, "CAP South");
  assert.match(notice.start, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
  assert.deepEqual(notice.altitude, { min_m: 0, max_m: 9000 });
  await alpha.click("#notice-discard");

  // The polygon by keyboard only: arrows move the map under the crosshair, Space places.
  await alpha.focus("#draw-polygon");
  await alpha.keyboard.press("Enter");
  for (const key of ["Space", "ArrowRight", "Space", "ArrowDown", "Space", "Enter"]) await alpha.keyboard.press(key);
  await alpha.locator("#notice-form").waitFor({ state: "visible" });
  notice = JSON.parse(await alpha.textContent("#notice-json"));
  assert.equal(notice.area.type, "Polygon");
  const ring = notice.area.coordinates[0];
  assert.equal(ring.length, 4);
  assert.deepEqual(ring[0], ring[3]);
  await alpha.locator("details:has(#notice-json) summary").click();
  await shot(alpha, "10-alpha-drawn-notice");
  await alpha.click("#notice-discard");
  await alpha.unroute(`${ALPHA}/api/v1/lines/bravo/notices`);
  await alpha.unroute(`${ALPHA}/api/v1/conflicts`);
});

test("a notice drawn at alpha that overlaps one of bravo's shows the conflict at both consoles", async () => {
  await alpha.goto(ALPHA);
  await alpha.locator("#app").waitFor({ state: "visible" });
  await alpha.locator("#map path.land").waitFor();
  // Draw a circle at the map's centre and read where it is.
  const box = await alpha.locator("#map").boundingBox();
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  await alpha.click("#draw-circle");
  await alpha.mouse.click(cx, cy);
  await alpha.mouse.click(cx + 40, cy);
  await alpha.locator("#notice-form").waitFor({ state: "visible" });
  await alpha.fill("#notice-title", "CAP SOUTH");
  const drawn = JSON.parse(await alpha.textContent("#notice-json"));
  // Bravo's operator files an exercise on the same spot (through bravo's own API, with
  // bravo's session), then alpha files the drawn notice.
  const theirs = { ...drawn, title: "EX WINTER", kind: "naval_exercise" };
  const status = await bravo.evaluate(async (n) => {
    const r = await fetch("/api/v1/lines/alpha/notices", { method: "POST", body: JSON.stringify(n),
      headers: { "Content-Type": "application/json" } });
    return r.status;
  }, theirs);
  assert.equal(status, 201);
  await alpha.click("#notice-file");
  for (const page of [alpha, bravo]) {
    await page.locator(".conflict-list li").first().waitFor({ timeout: 10000 });
    await page.locator("#map path.conflict-ring").first().waitFor({ timeout: 10000 });
  }
  await shot(alpha, "12-alpha-conflict-on-map");
  await shot(bravo, "12-bravo-conflict-on-map");
  // Bravo's operator acknowledges alpha's notice; alpha's list shows who did.
  await bravo.locator("li.notice-item.theirs button.notice-ack").first().click();
  await alpha.locator("li.notice-item.ours .notice-acked").first().waitFor({ timeout: 10000 });
  await shot(alpha, "13-alpha-notice-acknowledged-by-bravo");
});

test("a critical record alarm shows a banner and sounds until acknowledged", async () => {
  // No test can fork a real record from here (the Rust fork test does); feed the console
  // the event exactly as the station's stream carries it.
  // The entry's body as alarms.rs `record_raised` writes it; the acknowledgment goes to the
  // station, which knows no such alarm, so this test answers for it.
  const alarm = { id: "test-record-fork", key: "record_fork:bravo", cause: "record_fork", severity: "critical",
    peer: "bravo", detail: { peer: "bravo" }, text: "bravo's record does not extend what we cosigned: test",
    state: "raised", raised: new Date().toISOString(), acknowledged_by: null, acknowledged: null,
    cleared_by: null, cleared: null, escalation_steps: 0 };
  const acks = [];
  await alpha.route(`${ALPHA}/api/v1/alarms/test-record-fork/ack`, (route) => {
    acks.push(route.request().method());
    route.fulfill({ json: { ...alarm, state: "acknowledged", acknowledged_by: "op", acknowledged: new Date().toISOString() } });
  });
  await alpha.evaluate((body) => window.hotline.onEvent("alarm.raised", { lastEventId: "", data: JSON.stringify(body) }),
    { alarm, severity: alarm.severity, cause: alarm.cause, peer: alarm.peer, message: alarm.text });
  const banner = alpha.locator("#alert-list li.alert.critical", { hasText: "does not extend what we cosigned: test" });
  await banner.waitFor({ timeout: 1000 });
  assert.match(await banner.textContent(), /CRITICAL: bravo's record does not extend/);
  assert.equal(await alpha.locator("body").getAttribute("data-tone"), "sounding");
  await alpha.click("#mute-toggle");
  assert.equal(await alpha.locator("#mute-toggle").getAttribute("aria-pressed"), "true");
  assert.equal(await alpha.locator("body").getAttribute("data-tone"), "muted");
  await shot(alpha, "11-alpha-critical-alarm-muted");
  await alpha.click("#mute-toggle");
  await banner.locator("button").click();
  await banner.waitFor({ state: "detached" });
  assert.deepEqual(acks, ["POST"]);
  await alpha.unroute(`${ALPHA}/api/v1/alarms/test-record-fork/ack`);
});

test("a watch check from alpha: bravo's console asks for an answer; alpha shows who answered and how fast", async () => {
  const status = await alpha.evaluate(async () =>
    (await fetch("/api/v1/lines/bravo/watch-check", { method: "POST", credentials: "same-origin" })).status);
  assert.equal(status, 202);
  const banner = bravo.locator("#alert-list li.alert.immediate", { hasText: "alpha" });
  await banner.waitFor({ timeout: 3000 });
  await shot(bravo, "12-bravo-watch-check");
  await banner.locator("button").click();
  await banner.waitFor({ state: "detached", timeout: 3000 });
  const board = alpha.locator('#lines li[data-peer="bravo"]');
  await board.locator(".line-watch", { hasText: /answered in \d+ s by op/ }).waitFor({ timeout: 5000 });
  // Bravo's console is open: alpha's board shows one operator on watch there.
  await board.locator(".line-presence", { hasText: "BRAVO: 1 on watch" }).waitFor({ timeout: 5000 });
  // And the day's figures: one check sent, answered in time.
  await board.locator(".line-figures", { hasText: /24 h: 1\/1 checks answered in time \(0 missed\)/ }).waitFor({ timeout: 5000 });
  await shot(alpha, "12-alpha-watch-check-answered");
});

test("every API path segment is encoded: a peer-chosen id cannot reach another route", async () => {
  const got = await alpha.evaluate(async () => {
    const { apiPath, withQuery } = await import("/js/api.js");
    const id = "../notices/x/ack#";
    const path = apiPath("messages", id, "ack");
    const url = new URL(path, location.origin);
    const refused = [];
    for (const bad of ["..", ".", ""]) {
      try {
        apiPath("notices", bad, "ack");
      } catch (e) {
        refused.push(bad);
      }
    }
    return {
      path, pathname: url.pathname, hash: url.hash, segments: url.pathname.split("/").map(decodeURIComponent),
      query: withQuery(apiPath("lines", "a b/c", "messages"), { limit: 5, after: "1&x=2", absent: null }), refused,
    };
  });
  assert.equal(got.path, "/api/v1/messages/..%2Fnotices%2Fx%2Fack%23/ack");
  assert.equal(got.pathname, got.path);
  assert.equal(got.hash, "");
  assert.deepEqual(got.segments, ["", "api", "v1", "messages", "../notices/x/ack#", "ack"]);
  assert.equal(got.query, "/api/v1/lines/a%20b%2Fc/messages?limit=5&after=1%26x%3D2");
  assert.deepEqual(got.refused, ["..", ".", ""]);
});

test("acknowledging a message whose id the peer chose posts to that message's own URL", async () => {
  // A message as line/mod.rs `message_json` gives it, with an id made to climb out of its
  // path segment; the station is not asked (it has no such message): this test answers.
  const id = "../notices/x/ack#";
  const message = { id, peer: "bravo", direction: "in", state: "delivered", precedence: "ROUTINE", lang: "en",
    body: `hostile id ${Date.now()}`, reply_to: null, author: "op", created: new Date().toISOString(),
    sent: null, delivered: new Date().toISOString(), acknowledged: null, acknowledged_by: null };
  const posted = [];
  await alpha.route(`${ALPHA}/api/v1/**`, (route) => {
    if (route.request().method() !== "POST") return route.continue();
    posted.push(new URL(route.request().url()).pathname);
    return route.fulfill({ json: { ...message, state: "acknowledged", acknowledged: new Date().toISOString(), acknowledged_by: "op" } });
  });
  await alpha.evaluate((body) => window.hotline.onEvent("message.received", { lastEventId: "", data: JSON.stringify(body) }),
    { peer: "bravo", id, message });
  const pinned = alpha.locator("#pinned-list li.msg", { hasText: message.body });
  await pinned.waitFor({ timeout: 2000 });
  assert.equal(await pinned.getAttribute("data-id"), id);
  await pinned.locator("button.ack").click();
  await pinned.waitFor({ state: "detached", timeout: 3000 });
  assert.deepEqual(posted, ["/api/v1/messages/..%2Fnotices%2Fx%2Fack%23/ack"]);
  await alpha.unroute(`${ALPHA}/api/v1/**`);
  await alpha.reload();
  await alpha.locator("#app").waitFor({ state: "visible" });
});

test("markup in a message from the peer shows as text", async () => {
  const body = `<img src=x onerror="window.__hotlineInjected=1"><b>bold</b> ${Date.now()}`;
  await send(bravo, body, "IMMEDIATE");
  const pinned = alpha.locator("#pinned-list li.msg", { hasText: body });
  await pinned.waitFor({ timeout: 5000 });
  assert.equal(await pinned.locator(".body").textContent(), body);
  assert.equal(await alpha.locator("#app img, #app b, #alert-list img").count(), 0);
  const banner = alpha.locator("#alert-list li.alert.immediate", { hasText: "<img src=x" });
  await banner.waitFor({ timeout: 2000 });
  assert.equal(await alpha.evaluate(() => window.__hotlineInjected), undefined);
  await shot(alpha, "14-alpha-markup-as-text");
  await pinned.locator("button.ack").click();
  await banner.waitFor({ state: "detached", timeout: 3000 });
});

test("a supervisor adds duty2 and a token in the page; revoking and disabling end both at once", async () => {
  const sup = await newConsole("alpha-sup");
  const duty = await newConsole("alpha-duty2");
  try {
    const page = sup.page;
    await login(page, ALPHA, SUPERVISOR);
    // Operators never see the page; a supervisor has it behind the nav.
    assert.equal(await alpha.locator('[data-action="admin"]').isVisible(), false);
    await page.click('[data-action="admin"]');
    await page.locator("#admin-view").waitFor({ state: "visible" });
    await page.locator(`#admin-users tr[data-user="${SUPERVISOR}"]`).waitFor();
    await page.locator('#admin-users tr[data-user="op"][data-state="active"]').waitFor();
    await page.locator('#admin-lines tr[data-peer="bravo"]').waitFor();
    assert.match(await page.textContent("#admin-lines"), new RegExp(`127\\.0\\.0\\.1:\\d+`));
    assert.match(await page.textContent(".admin-lines"), /without a restart/);
    // Its own row cannot be disabled or removed.
    assert.equal(await page.locator(`tr[data-user="${SUPERVISOR}"] [data-action="user-disable"]`).isDisabled(), true);

    // Add operator duty2 through the form.
    const dutyPassword = "duty two password";
    await page.fill("#user-add-name", "duty2");
    await page.selectOption("#user-add-role", "operator");
    await page.fill("#user-add-password", dutyPassword);
    await page.click('[data-action="user-add"]');
    const row = page.locator('#admin-users tr[data-user="duty2"]');
    await row.waitFor({ timeout: 5000 });
    assert.equal(await row.getAttribute("data-role"), "operator");
    assert.equal(await row.getAttribute("data-state"), "active");
    assert.match(await row.textContent(), /never/);

    // A token for duty2: the secret is shown once, with the warning.
    await page.selectOption("#token-user", "duty2");
    await page.fill("#token-label", "duty2 laptop");
    await page.fill("#token-days", "2");
    await page.click('[data-action="token-create"]');
    await page.locator("#token-secret-box").waitFor({ state: "visible", timeout: 5000 });
    const secret = await page.inputValue("#token-secret");
    const tokenId = await page.locator("#token-secret-box").getAttribute("data-token");
    assert.ok(secret.length >= 16, `token secret ${JSON.stringify(secret)}`);
    assert.match(await page.textContent("#token-secret-box"), /will not be shown again/);
    const tokenRow = page.locator(`#admin-tokens tr[data-token="${tokenId}"]`);
    await tokenRow.waitFor({ timeout: 5000 });
    assert.match(await tokenRow.textContent(), /duty2 laptop/);
    assert.ok(!(await page.textContent("#admin-tokens")).includes(secret), "the list shows the secret");
    await shot(page, "15-alpha-admin-token-created");
    assert.equal(await sessionStatus(ALPHA, { Authorization: `Bearer ${secret}` }), 200);
    await page.click('[data-action="token-secret-done"]');
    assert.equal(await page.locator("#token-secret-box").isVisible(), false);
    assert.equal(await page.inputValue("#token-secret"), "");

    // duty2 logs in elsewhere and has the console open.
    await login(duty.page, ALPHA, "duty2", dutyPassword);
    await duty.page.locator('#lines li[data-peer="bravo"][data-state="up"]').waitFor({ timeout: 15000 });
    assert.equal(await duty.page.locator('[data-action="admin"]').isVisible(), false);
    const cookie = (await duty.ctx.cookies(ALPHA)).map((c) => `${c.name}=${c.value}`).join("; ");
    assert.ok(cookie, "duty2 has a session cookie");
    assert.equal(await sessionStatus(ALPHA, { Cookie: cookie }), 200);

    // The supervisor revokes the token, then disables duty2 (which asks first).
    await tokenRow.locator('[data-action="token-revoke"]').click();
    await tokenRow.waitFor({ state: "detached", timeout: 5000 });
    await row.locator('[data-action="user-disable"]').click();
    const confirm = page.locator("dialog[open]");
    await confirm.waitFor({ timeout: 2000 });
    assert.match(await confirm.textContent(), /Disable duty2\?/);
    await shot(page, "16-alpha-admin-confirm-disable");
    await confirm.locator('[data-action="confirm"]').click();
    const disabledAt = Date.now();
    await page.locator('#admin-users tr[data-user="duty2"][data-state="disabled"]').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#admin-users tr[data-user="duty2"] [data-action="user-enable"]').count(), 1);

    // Both credentials fail at once, and duty2's open console shows it is logged out.
    assert.equal(await sessionStatus(ALPHA, { Authorization: `Bearer ${secret}` }), 401);
    assert.equal(await sessionStatus(ALPHA, { Cookie: cookie }), 401);
    await duty.page.locator("#login-expired").waitFor({ state: "visible", timeout: 5000 });
    await duty.page.locator("#login-form").waitFor({ state: "visible" });
    const shownAfter = Date.now() - disabledAt;
    console.log(`duty2's console showed the login ${shownAfter} ms after the disable`);
    assert.ok(shownAfter <= 5000, `duty2's console showed the login after ${shownAfter} ms`);
    await shot(duty.page, "17-alpha-duty2-logged-out");
    await shot(page, "18-alpha-admin-duty2-disabled");

    // Enabling brings duty2 back; a role change and a password reset take effect at the station.
    await page.locator('#admin-users tr[data-user="duty2"] [data-action="user-enable"]').click();
    await page.locator('#admin-users tr[data-user="duty2"][data-state="active"]').waitFor({ timeout: 5000 });
    await page.selectOption('#admin-users tr[data-user="duty2"] [data-action="user-role"]', "auditor");
    await page.locator('#admin-users tr[data-user="duty2"][data-role="auditor"]').waitFor({ timeout: 5000 });
    await page.locator('#admin-users tr[data-user="duty2"] [data-action="user-reset-password"]').click();
    await page.fill("dialog[open] input[type=password]", "reset by the supervisor");
    await page.click('dialog[open] [data-action="confirm"]');
    await page.locator("#admin-users-status", { hasText: "New password set for duty2" }).waitFor({ timeout: 5000 });
    const relogin = await fetch(`${ALPHA}/api/v1/login`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: "duty2", password: "reset by the supervisor" }) });
    assert.equal(relogin.status, 200);
    assert.equal((await relogin.json()).role, "auditor");
    // Removal asks, and takes the row away.
    await page.locator('#admin-users tr[data-user="duty2"] [data-action="user-remove"]').click();
    await page.locator('dialog[open] [data-action="confirm"]').click();
    await page.locator('#admin-users tr[data-user="duty2"]').waitFor({ state: "detached", timeout: 5000 });
  } finally {
    await sup.ctx.close();
    await duty.ctx.close();
  }
});

test("Both consoles of a line show the same safety number", async () => {
  const safetyRe = /^(\d{5} ){11}\d{5}$/;
  // The operators' boards at both ends.
  const board = async (page, peer) => {
    const el = page.locator(`#lines li[data-peer="${peer}"] .line-safety`);
    await el.waitFor({ timeout: 5000 });
    return el.getAttribute("data-safety-number");
  };
  const atAlpha = await board(alpha, "bravo");
  const atBravo = await board(bravo, "alpha");
  assert.match(atAlpha, safetyRe);
  assert.equal(atAlpha, atBravo, "the two operators read the same number");
  assert.match(await alpha.textContent('#lines li[data-peer="bravo"]'), new RegExp(atAlpha));
  // And the supervisors' pages at both ends.
  const supA = await newConsole("alpha-sup-lines");
  const supB = await newConsole("bravo-sup-lines");
  try {
    for (const [page, url] of [[supA.page, ALPHA], [supB.page, BRAVO]]) {
      await login(page, url, SUPERVISOR);
      await page.click('[data-action="admin"]');
      await page.locator("#admin-view").waitFor({ state: "visible" });
    }
    const admin = async (page, peer) => {
      const el = page.locator(`#admin-lines tr[data-peer="${peer}"] .safety-number`);
      await el.waitFor({ timeout: 5000 });
      return el.getAttribute("data-safety-number");
    };
    assert.equal(await admin(supA.page, "bravo"), atAlpha);
    assert.equal(await admin(supB.page, "alpha"), atAlpha);
    assert.equal(await supA.page.locator('#admin-lines tr[data-peer="bravo"]').getAttribute("data-state"), "up");
    await shot(supA.page, "18a-alpha-admin-lines-safety-number");

    // A line to a third station, charlie, added in the page: it is there at once, with
    // its safety number, on the supervisor's page and on the operator's board.
    const charlieDir = join(WORK, "charlie");
    const init = spawn(BIN, ["init", charlieDir, "--name", "charlie", "--http", "127.0.0.1:0", "--line", "127.0.0.1:0"]);
    let out = "";
    init.stdout.on("data", (d) => { out += d; });
    await new Promise((resolve, reject) => init.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`init: ${code}`)))));
    const charlieKey = out.trim().split(/\s+/).pop();
    const page = supA.page;
    await page.fill("#line-add-peer", "charlie");
    await page.fill("#line-add-key", charlieKey);
    await page.fill("#line-add-addrs", "127.0.0.1:9");
    await page.click('[data-action="line-add"]');
    const row = page.locator('#admin-lines tr[data-peer="charlie"]');
    await row.waitFor({ timeout: 5000 });
    const charlieNumber = await row.locator(".safety-number").getAttribute("data-safety-number");
    assert.match(charlieNumber, safetyRe);
    assert.notEqual(charlieNumber, atAlpha);
    assert.match(await page.textContent("#admin-lines-status"), new RegExp(charlieNumber));
    await alpha.locator('#lines li[data-peer="charlie"]').waitFor({ timeout: 5000 });
    // A bad key is refused with the station's sentence, and nothing is added.
    await page.fill("#line-add-peer", "delta");
    await page.fill("#line-add-key", "delta+00000000+AAAA");
    await page.fill("#line-add-addrs", "127.0.0.1:9");
    await page.click('[data-action="line-add"]');
    await page.locator("#admin-lines-status.error").waitFor({ timeout: 5000 });
    assert.equal(await page.locator('#admin-lines tr[data-peer="delta"]').count(), 0);
    await shot(page, "18b-alpha-admin-line-added");

    // Removing asks first, then the line leaves the page and the operator's board.
    await row.locator('[data-action="line-remove"]').click();
    const confirm = page.locator("dialog[open]");
    await confirm.waitFor({ timeout: 2000 });
    assert.match(await confirm.textContent(), /Remove the line to charlie\?/);
    await confirm.locator('[data-action="confirm"]').click();
    await row.waitFor({ state: "detached", timeout: 5000 });
    await alpha.locator('#lines li[data-peer="charlie"]').waitFor({ state: "detached", timeout: 5000 });
    await page.locator('#admin-lines tr[data-peer="bravo"][data-state="up"]').waitFor({ timeout: 5000 });
  } finally {
    await supA.ctx.close();
    await supB.ctx.close();
  }
});

test("the supervisor page in Russian, and changing one's own password shows the login", async () => {
  const sup = await newConsole("bravo-sup");
  try {
    const page = sup.page;
    await login(page, BRAVO, SUPERVISOR);
    await page.selectOption("#lang-select", "ru");
    await page.click('[data-action="admin"]');
    await page.locator("#admin-users-heading", { hasText: "Пользователи" }).waitFor({ timeout: 5000 });
    await page.locator('#admin-users tr[data-user="op"]').waitFor({ timeout: 5000 });
    assert.match(await page.textContent('#admin-users tr[data-user="op"] [data-action="user-disable"]'), /Отключить/);
    await shot(page, "19-bravo-admin-russian");
    await page.selectOption("#lang-select", "en");
    await page.locator("#admin-users-heading", { hasText: "Users" }).waitFor({ timeout: 5000 });

    // A wrong current password is refused in the form; the right one ends the session.
    const fresh = "a brand new supervisor password";
    await page.click('[data-action="change-password"]');
    await page.fill("#password-current", "not the password");
    await page.fill("#password-new", fresh);
    await page.fill("#password-repeat", fresh);
    await page.click('[data-action="password-change"]');
    await page.locator("#password-error", { hasText: "current password is wrong" }).waitFor({ timeout: 5000 });
    await page.fill("#password-current", PASSWORD);
    await page.click('[data-action="password-change"]');
    await page.locator("#login-password-changed").waitFor({ state: "visible", timeout: 5000 });
    assert.equal(await page.locator("#password-dialog").isVisible(), false);
    await shot(page, "20-bravo-password-changed");
    await page.fill("#login-password", PASSWORD);
    await page.click("#login-submit");
    await page.locator("#login-error", { hasText: "Wrong user or password" }).waitFor({ timeout: 5000 });
    await page.fill("#login-password", fresh);
    await page.click("#login-submit");
    await page.locator("#app").waitFor({ state: "visible" });
    await page.locator("#login-view").waitFor({ state: "hidden" });
    // Put it back for anything after this test.
    const back = await page.evaluate(async ([current, next]) => {
      const r = await fetch("/api/v1/session/password", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ current_password: current, new_password: next }) });
      return r.status;
    }, [fresh, PASSWORD]);
    assert.equal(back, 204);
  } finally {
    await sup.ctx.close();
  }
});

// Calls (PRODUCT.md "Calls", issue #16): alpha calls, every console logged in at bravo
// rings (banner, tone, title); answered, declined, cancelled; both records list them.

/** The operator's cookie at `url` in browser context `ctx`, for fetches from Node. */
async function cookieOf(ctx, url) {
  return (await ctx.cookies(url)).map((c) => `${c.name}=${c.value}`).join("; ");
}

/** GET `path` at station `url` as the session in `ctx`. */
async function apiGet(ctx, url, path) {
  const r = await fetch(`${url}${path}`, { headers: { Accept: "application/json", Cookie: await cookieOf(ctx, url) } });
  assert.equal(r.status, 200, `GET ${path} at ${url}`);
  return r.json();
}

/** Waits until neither station holds a live call (a declined call ends at the callee only
 * when the caller's verdict arrives). */
async function linesFree(ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const [a, b] = await Promise.all([apiGet(alphaCtx, ALPHA, "/api/v1/calls?state=active"),
      apiGet(bravoCtx, BRAVO, "/api/v1/calls?state=active")]);
    if (!a.length && !b.length) return;
    assert.ok(Date.now() < deadline, `calls still live: ${JSON.stringify([a, b])}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Marks, in page time (ms since the epoch, sub-ms), when body[data-call] changes. */
async function watchCallState(page) {
  await page.evaluate(() => {
    window.__callMarks = [];
    new MutationObserver(() => window.__callMarks.push([document.body.dataset.call || null,
      performance.timeOrigin + performance.now()])).observe(document.body, { attributes: true, attributeFilter: ["data-call"] });
  });
}

/** Marks when a call button is clicked (the DOM event's own time). */
async function watchCallClicks(page) {
  await page.evaluate(() => {
    window.__clickMarks = [];
    document.addEventListener("click", (ev) => {
      if (ev.target.closest('[data-action="call"]')) window.__clickMarks.push(performance.timeOrigin + ev.timeStamp);
    }, true);
  });
}

const firstMark = (page, state) => page.evaluate((s) => {
  const m = window.__callMarks.find(([v]) => v === s);
  return m ? m[1] : null;
}, state);

/** Polls the page's ring hook until the tone is heard (a peak above `floor`). */
async function toneHeard(page, floor = 0.01, ms = 4000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await page.evaluate(() => window.hotline.ringing());
    if (last.ringing && last.sounding && last.audio === "running" && last.level > floor) return last;
    await page.waitForTimeout(50);
  }
  assert.fail(`no ring tone: ${JSON.stringify(last)}`);
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const callButtonAt = (page, peer) => page.locator(`#lines li[data-peer="${peer}"] [data-action="call"]`);
let bravo2; // a second console at bravo, as op in a browser of its own
let latencyCalls = 0; // how many calls the latency test measured

test("calls: alpha calls bravo again and again; every bravo console rings within 300 ms (p95), tone and title too", async () => {
  // A reload leaves a live session but no gesture: the browser keeps the page silent, so
  // the console says so and offers the click.
  await bravo.reload();
  await bravo.locator("#app").waitFor({ state: "visible" });
  await bravo.locator("#sound-enable").waitFor({ state: "visible", timeout: 3000 });
  assert.equal(await bravo.locator("body").getAttribute("data-sound"), "off");
  await shot(bravo, "21-bravo-click-to-enable-sound");
  await bravo.click("#sound-enable");
  await bravo.locator("#sound-enable").waitFor({ state: "hidden", timeout: 3000 });
  assert.equal(await bravo.locator("body").getAttribute("data-sound"), "on");
  bravo2 = await newConsole("bravo-2");
  await login(bravo2.page, BRAVO);
  for (const [page, peer] of [[alpha, "bravo"], [bravo, "alpha"], [bravo2.page, "alpha"]]) {
    await page.locator(`#lines li[data-peer="${peer}"][data-state="up"]`).waitFor({ timeout: 15000 });
  }
  await linesFree();
  // Headless Chromium paints in software here: the map's pulsing conflict ring (an earlier
  // test left a conflict) would repaint the whole map on every frame on both consoles and
  // take the CPU from the stations being measured. Reduced motion stops the animations.
  for (const page of [alpha, bravo, bravo2.page]) await page.emulateMedia({ reducedMotion: "reduce" });
  await watchCallClicks(alpha);
  for (const page of [alpha, bravo, bravo2.page]) await watchCallState(page);

  // One call first that is not measured (it warms the stations' and pages' paths), then
  // `measured` calls. Twenty by default, not ten: of ten, the p95 is the maximum, and one
  // scheduling hiccup on a loaded machine (debug stations, two CPUs shared with builds)
  // would decide it alone.
  const measured = Number(process.env.HOTLINE_CALL_SAMPLES || 20);
  const samples = [];
  const posts = []; // alpha's POST .../calls round trip, per call
  for (let i = -1; i < measured; i++) {
    await Promise.all([alpha, bravo, bravo2.page].map((p) => p.evaluate(() => { window.__callMarks = []; window.__clickMarks = []; })));
    await callButtonAt(alpha, "bravo").click();
    await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
    await bravo2.page.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
    const [clicked] = await alpha.evaluate(() => window.__clickMarks);
    const rang = Math.max(await firstMark(bravo, "ringing"), await firstMark(bravo2.page, "ringing"));
    if (i >= 0) samples.push(rang - clicked);
    // How much of it alpha's station took to answer the POST (start, record, send).
    const post = await alpha.evaluate(() => {
      const r = performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/calls") && e.initiatorType === "fetch");
      performance.clearResourceTimings();
      return r.length ? r[r.length - 1].responseEnd - r[r.length - 1].startTime : null;
    });
    if (i >= 0) posts.push(post);
    await alpha.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
    const banner = bravo.locator('#call-bar li[data-role="ringing-in"]');
    if (i === -1) {
      // Bravo's operator works in Russian (an earlier test): the banner names the caller.
      assert.match(await banner.textContent(), /ВЫЗОВ от ALPHA — op/);
      assert.ok(await banner.locator('[data-action="answer"]').isVisible());
      assert.ok(await banner.locator('[data-action="decline"]').isVisible());
      assert.match(await alpha.textContent("#call-bar"), /Ringing bravo…/);
      assert.ok(await alpha.locator('#call-bar [data-action="hangup"]').isVisible());
      const tone = await toneHeard(bravo);
      await toneHeard(bravo2.page);
      console.log(`bravo's ring: ${JSON.stringify(tone)}`);
      await bravo.waitForFunction(() => document.title.includes("ALPHA"), null, { timeout: 3000 });
      await shot(bravo, "22-bravo-ringing");
      await shot(alpha, "22-alpha-ringing-bravo");
      // A second call on the busy line is refused, and the console says why.
      await callButtonAt(alpha, "bravo").click();
      await alpha.locator("#call-status", { hasText: "already ringing or in progress on the line to BRAVO" })
        .waitFor({ timeout: 3000 });
    }
    if (i % 2 !== 1) await alpha.click('#call-bar [data-action="hangup"]');
    else await banner.locator('[data-action="decline"]').click();
    for (const page of [alpha, bravo, bravo2.page]) await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
    if (i === -1) {
      for (const page of [bravo, bravo2.page]) {
        const after = await page.evaluate(() => window.hotline.ringing());
        assert.equal(after.ringing, false);
        assert.equal(after.sounding, false);
        assert.ok(!(await page.title()).includes("☎"), await page.title());
      }
    }
    await linesFree();
  }
  latencyCalls = measured;
  for (const page of [alpha, bravo, bravo2.page]) await page.emulateMedia({ reducedMotion: null });
  const sorted = [...samples].sort((a, b) => a - b);
  const [p50, p95] = [pct(sorted, 50), pct(sorted, 95)];
  console.log(`click → far console ringing (worst of bravo's two consoles), ${samples.length} calls: ` +
    `p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms; ` +
    `all: ${samples.map((s) => s.toFixed(0)).join(" ")}; alpha's POST round trip of each: ` +
    `${posts.map((s) => (s == null ? "?" : s.toFixed(0))).join(" ")}`);
  assert.ok(p95 < 300, `p95 click → ringing ${p95.toFixed(1)} ms`);
});

test("calls: bravo answers, alpha hangs up; bravo's other console declines one; both records list who did what", async () => {
  // Answered at one bravo console: the other stops ringing and shows it taken.
  await callButtonAt(alpha, "bravo").click();
  await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  await bravo2.page.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  const answeredId = await alpha.locator("#call-bar li[data-call-id]").getAttribute("data-call-id");
  await bravo.click('#call-bar [data-action="answer"]');
  await alpha.locator('body[data-call="answered"]').waitFor({ timeout: 3000 });
  await bravo.locator('body[data-call="answered"]').waitFor({ timeout: 3000 });
  await bravo2.page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
  await bravo2.page.locator('#call-bar li[data-role="elsewhere"]').waitFor({ timeout: 3000 });
  assert.equal((await bravo2.page.evaluate(() => window.hotline.ringing())).sounding, false);
  assert.equal((await bravo.evaluate(() => window.hotline.ringing())).sounding, false);
  assert.match(await alpha.textContent("#call-bar"), /On call with BRAVO \(answered by op\)/);
  await alpha.waitForTimeout(1200);
  await shot(alpha, "23-alpha-call-answered");
  await shot(bravo, "23-bravo-call-answered");
  await alpha.click('#call-bar [data-action="hangup"]');
  for (const page of [alpha, bravo, bravo2.page]) await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
  await linesFree();

  // Declined at the other bravo console: any operator there may.
  await callButtonAt(alpha, "bravo").click();
  await bravo2.page.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  const declinedId = await alpha.locator("#call-bar li[data-call-id]").getAttribute("data-call-id");
  await bravo2.page.click('#call-bar [data-action="decline"]');
  for (const page of [alpha, bravo, bravo2.page]) await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
  await linesFree();

  // A line that is down refuses at once (the station's answer, as the contract gives it).
  await alpha.route(`${ALPHA}/api/v1/lines/bravo/calls`, (route) => route.fulfill({ status: 503,
    json: { error: { code: "line_down", message: "the line to bravo is down" } } }));
  await callButtonAt(alpha, "bravo").click();
  await alpha.locator("#call-status", { hasText: "The line to BRAVO is down" }).waitFor({ timeout: 3000 });
  await alpha.unroute(`${ALPHA}/api/v1/lines/bravo/calls`);

  // Both stations' records: the same calls, each side's direction, who called and answered.
  const atAlpha = await apiGet(alphaCtx, ALPHA, "/api/v1/calls");
  const atBravo = await apiGet(bravoCtx, BRAVO, "/api/v1/calls");
  const byId = (list) => new Map(list.map((c) => [c.id, c]));
  const [a, b] = [byId(atAlpha), byId(atBravo)];
  for (const [id, state, answeredBy] of [[answeredId, "ended", "op"], [declinedId, "declined", null]]) {
    for (const [side, calls, direction] of [["alpha", a, "out"], ["bravo", b, "in"]]) {
      const c = calls.get(id);
      assert.ok(c, `${side} lists call ${id}`);
      assert.equal(c.direction, direction, `${side} ${id}`);
      assert.equal(c.state, state, `${side} ${id}: ${JSON.stringify(c)}`);
      assert.equal(c.started_by, "op");
      assert.equal(c.answered_by, answeredBy);
      assert.ok(c.started && c.ended, JSON.stringify(c));
      if (answeredBy) assert.ok(c.answered && c.ended_by === "op", JSON.stringify(c));
    }
  }
  // The calls of the latency run (one more than measured): cancelled by alpha or declined at bravo.
  const run = latencyCalls + 1;
  const states = (list) => list.slice(2, 2 + run).map((c) => c.state).sort();
  const declined = Math.floor(run / 2);
  const expected = [...Array(run - declined).fill("cancelled"), ...Array(declined).fill("declined")];
  assert.deepEqual(states(atAlpha), expected);
  assert.deepEqual(states(atBravo), expected);
  assert.deepEqual(atAlpha.slice(0, 2 + run).map((c) => c.id), atBravo.slice(0, 2 + run).map((c) => c.id));
  for (const c of [...atAlpha.slice(2, 2 + run), ...atBravo.slice(2, 2 + run)]) {
    assert.equal(c.started_by, "op");
    assert.equal(c.answered_by, null);
    assert.equal(c.ended_by, "op", JSON.stringify(c));
  }

  // The history panels, at both ends.
  const row = alpha.locator(`#calls-history li[data-call-id="${answeredId}"][data-state="ended"]`);
  await row.waitFor({ timeout: 3000 });
  assert.match(await row.textContent(), /OUT.*BRAVO.*ended.*called by op at ALPHA; answered by op at BRAVO.*\d+ s/);
  assert.match(await alpha.locator(`#calls-history li[data-call-id="${declinedId}"]`).textContent(), /declined.*not answered/);
  const rowB = bravo.locator(`#calls-history li[data-call-id="${answeredId}"][data-state="ended"]`);
  await rowB.waitFor({ timeout: 3000 });
  assert.match(await rowB.textContent(), /ВХ\..*ALPHA.*завершён.*звонил op \(ALPHA\); ответил op \(BRAVO\)/);
  await shot(alpha, "24-alpha-calls-history");
  await shot(bravo, "24-bravo-calls-history");
  await bravo2.ctx.close();
});

test("log out", async () => {
  await bravo.click("#logout");
  await bravo.locator("#login-form").waitFor({ state: "visible" });
  await bravo.goto(BRAVO);
  await bravo.locator("#login-form").waitFor({ state: "visible" });
});
