// End-to-end tests of the console in headless Chromium against two real stations that
// run.sh made and started (alpha and bravo, each with operator `op`). The tests run in
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

async function login(page, url) {
  await page.goto(url);
  await page.locator("#login-user").waitFor({ state: "visible" });
  await page.fill("#login-user", "op");
  await page.fill("#login-password", PASSWORD);
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

test("map: basemap, both sides' notice styles, and drawing a circle and a polygon make notice JSON", async () => {
  await alpha.goto(`${ALPHA}/?demo-notices`);
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
  await alpha.evaluate(() => window.hotline.onEvent("alarm.raised", {
    lastEventId: "",
    data: JSON.stringify({ kind: "alarm.raised", severity: "critical", cause: "record_fork", peer: "bravo",
      message: "bravo's record does not extend what we cosigned: test" }),
  }));
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

test("log out", async () => {
  await bravo.click("#logout");
  await bravo.locator("#login-form").waitFor({ state: "visible" });
  await bravo.goto(BRAVO);
  await bravo.locator("#login-form").waitFor({ state: "visible" });
});
