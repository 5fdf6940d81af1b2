// Call audio end to end (issue #16): two consoles in two headless Chromium processes, each
// with a fake microphone playing a tone from a WAV file this test writes (1 kHz at alpha,
// 2 kHz at bravo). Alpha calls, bravo's console rings, bravo answers; each console's
// received audio, played in its <audio> element and analysed with an AnalyserNode, peaks
// at the other side's frequency — so the Opus packets went browser → station → QUIC →
// station → browser both ways. Then hang-up; the same the other way (bravo calls, alpha
// answers and hangs up); a declined call and a missed one; and both stations' records of
// all four. Runs beside console.test.mjs, one file at a time, against
// the same stations; neither depends on the other's calls.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with run.sh`);
  return v;
};
const ALPHA = env("ALPHA_URL");
const BRAVO = env("BRAVO_URL");
const WORK = env("HOTLINE_E2E_WORK");
const PASSWORD = env("HOTLINE_PASSWORD");
/** The stations' line ports: their QUIC media endpoints listen on the same ports, over UDP. */
const MEDIA_PORTS = [env("ALPHA_LINE_PORT"), env("BRAVO_LINE_PORT")];
/** The ring timeout run.sh gave the line (call_ring_timeout_s), for the missed call. */
const RING_TIMEOUT_S = Number(process.env.HOTLINE_CALL_RING_TIMEOUT_S || 60);

const TONES = { alpha: 1000, bravo: 2000 };
const SAMPLE_RATE = 48000;

/** A mono 16-bit PCM WAV of `seconds` of a sine at `hz` (Chromium loops it). */
function toneWav(path, hz, seconds = 10) {
  const samples = SAMPLE_RATE * seconds;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    data.writeInt16LE(Math.round(0.5 * 32767 * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE)), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8);
  header.write("fmt ", 12);
  header.writeUInt32LE(16, 16); // PCM format chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write("data", 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}

// Cutting UDP between the stations (not the consoles' legs, which use other ports) with an
// nftables table of this process's own, removed again in any case.
const cutTable = `hotline_e2e_media_${process.pid}`;
const nft = (...args) => execFileSync("nft", args, { stdio: ["ignore", "pipe", "pipe"] });
function cutStationUdp() {
  nft("add", "table", "inet", cutTable);
  nft("add", "chain", "inet", cutTable, "out", "{ type filter hook output priority 0; policy accept; }");
  nft("add", "rule", "inet", cutTable, "out", "udp", "dport", `{ ${MEDIA_PORTS.join(", ")} }`, "drop");
}
function healStationUdp() {
  try {
    nft("delete", "table", "inet", cutTable);
  } catch {
    // Not there: nothing to heal.
  }
}

const browsers = [];
const consoles = {}; // name -> {ctx, page}

async function launch(name) {
  const wav = join(WORK, `${name}-${TONES[name]}hz.wav`);
  toneWav(wav, TONES[name]);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}`, "--autoplay-policy=no-user-gesture-required"],
  });
  browsers.push(browser);
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "en-US", timezoneId: "UTC" });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.log(`${name} page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "warning" || m.type() === "error") console.log(`${name} console: ${m.text()}`); });
  return { ctx, page };
}

async function login(page, url) {
  await page.goto(url);
  await page.locator("#login-user").waitFor({ state: "visible" });
  await page.fill("#login-user", "op");
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible" });
}

async function apiGet({ ctx }, url, path) {
  const cookie = (await ctx.cookies(url)).map((c) => `${c.name}=${c.value}`).join("; ");
  const r = await fetch(`${url}${path}`, { headers: { Accept: "application/json", Cookie: cookie } });
  assert.equal(r.status, 200, `GET ${path} at ${url}`);
  return r.json();
}

async function linesFree(ms = 8000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const [a, b] = await Promise.all([apiGet(consoles.alpha, ALPHA, "/api/v1/calls?state=active"),
      apiGet(consoles.bravo, BRAVO, "/api/v1/calls?state=active")]);
    if (!a.length && !b.length) return;
    assert.ok(Date.now() < deadline, `calls still live: ${JSON.stringify([a, b])}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Listens to the far side's audio of call `id` in the page: the <audio> element's stream
 * through an AnalyserNode (fftSize 8192: 5.9 Hz bins), until the loudest bin sits within
 * 30 Hz of `hz` in 5 readings in a row (100 ms apart). Returns what it heard.
 */
function hears(page, id, hz, ms = 15000) {
  return page.evaluate(async ([id, hz, ms]) => {
    const deadline = Date.now() + ms;
    const sleep = (t) => new Promise((r) => setTimeout(r, t));
    let audio;
    while (Date.now() < deadline) {
      audio = document.querySelector(`audio.call-audio[data-call-id="${id}"]`);
      if (audio && audio.srcObject) break;
      await sleep(50);
    }
    if (!audio || !audio.srcObject) return { ok: false, why: "no audio element with a stream", legs: window.hotline.callAudio() };
    const ctx = new AudioContext();
    await ctx.resume();
    const source = ctx.createMediaStreamSource(audio.srcObject);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    source.connect(analyser);
    const bins = new Float32Array(analyser.frequencyBinCount);
    const binHz = ctx.sampleRate / analyser.fftSize;
    let run = 0;
    const readings = [];
    while (Date.now() < deadline) {
      await sleep(100);
      analyser.getFloatFrequencyData(bins);
      let peak = 0;
      for (let i = 1; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
      const reading = { hz: Math.round(peak * binHz), db: Math.round(bins[peak]) };
      readings.push(reading);
      run = Math.abs(reading.hz - hz) <= 30 && reading.db > -70 ? run + 1 : 0;
      if (run >= 5) {
        await ctx.close();
        return { ok: true, reading, readings: readings.length, legs: window.hotline.callAudio() };
      }
    }
    await ctx.close();
    return { ok: false, why: "the tone was not heard", last: readings.slice(-10), legs: window.hotline.callAudio() };
  }, [id, hz, ms]);
}

const callButton = (page, peer) => page.locator(`#lines li[data-peer="${peer}"] [data-action="call"]`);

before(async () => {
  consoles.alpha = await launch("alpha");
  consoles.bravo = await launch("bravo");
  await login(consoles.alpha.page, ALPHA);
  await login(consoles.bravo.page, BRAVO);
  for (const [name, peer] of [["alpha", "bravo"], ["bravo", "alpha"]]) {
    await consoles[name].page.locator(`#lines li[data-peer="${peer}"][data-state="up"]`).waitFor({ timeout: 15000 });
  }
  // A line's first minutes may see its connection replaced (the preferred dialer's probe,
  // about 5 s after start), which shows the line down for an instant and fails a live call:
  // wait until both lines have been up for 6 s when these tests run on fresh stations.
  for (const [name, url, peer] of [["alpha", ALPHA, "bravo"], ["bravo", BRAVO, "alpha"]]) {
    const cookie = (await consoles[name].ctx.cookies(url)).map((c) => `${c.name}=${c.value}`).join("; ");
    const deadline = Date.now() + 20000;
    for (;;) {
      const metrics = await (await fetch(`${url}/metrics`, { headers: { Cookie: cookie } })).text();
      const up = new RegExp(`^hotline_line_up\\{peer="${peer}"\\} 1$`, "m").test(metrics);
      const since = Number((metrics.match(new RegExp(`^hotline_line_state_seconds\\{peer="${peer}"\\} ([\\d.]+)$`, "m")) || [])[1]);
      if (up && since >= 6) break;
      assert.ok(Date.now() < deadline, `${name}'s line to ${peer} not steadily up`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await linesFree();
});

after(async () => {
  healStationUdp();
  for (const browser of browsers) await browser.close();
});

const ids = {}; // what each call was: answered, declined, missed

test("call audio: alpha calls, bravo answers; each console hears the other's tone; hang-up closes both legs", async () => {
  const alpha = consoles.alpha.page;
  const bravo = consoles.bravo.page;
  await callButton(alpha, "bravo").click();
  await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  ids.answered = await alpha.locator("#call-bar li[data-call-id]").getAttribute("data-call-id");
  await bravo.click('#call-bar [data-action="answer"]');
  await alpha.locator('body[data-call="answered"]').waitFor({ timeout: 3000 });
  await bravo.locator('body[data-call="answered"]').waitFor({ timeout: 3000 });
  const [atAlpha, atBravo] = await Promise.all([hears(alpha, ids.answered, TONES.bravo),
    hears(bravo, ids.answered, TONES.alpha)]);
  console.log(`alpha heard: ${JSON.stringify(atAlpha)}`);
  console.log(`bravo heard: ${JSON.stringify(atBravo)}`);
  assert.ok(atAlpha.ok, `alpha does not hear bravo's ${TONES.bravo} Hz: ${JSON.stringify(atAlpha)}`);
  assert.ok(atBravo.ok, `bravo does not hear alpha's ${TONES.alpha} Hz: ${JSON.stringify(atBravo)}`);
  // Each call bar says the audio is on (a silent line would say why).
  for (const page of [alpha, bravo]) {
    await page.locator('#call-bar .call-audio-state[data-audio="connected"]').waitFor({ timeout: 3000 });
  }
  assert.match(await alpha.textContent("#call-bar"), /audio on/);

  // UDP between the stations cut mid-call: both consoles say the far end went silent (no
  // fallback over the TLS line yet); healed within the QUIC idle timeout, audio comes back.
  cutStationUdp();
  try {
    for (const page of [alpha, bravo]) {
      await page.locator('#call-bar .call-audio-state[data-audio="far-silent"]').waitFor({ timeout: 6000 });
    }
    assert.match(await bravo.textContent("#call-bar"), /no audio from the far end/);
  } finally {
    healStationUdp();
  }
  for (const page of [alpha, bravo]) {
    await page.locator('#call-bar .call-audio-state[data-audio="connected"]').waitFor({ timeout: 10000 });
  }
  const [again, againB] = await Promise.all([hears(alpha, ids.answered, TONES.bravo), hears(bravo, ids.answered, TONES.alpha)]);
  assert.ok(again.ok && againB.ok, `audio after the cut healed: ${JSON.stringify([again, againB])}`);
  // The stations relayed and counted it (a call's counts reach /metrics every second).
  for (const [name, url] of [["alpha", ALPHA], ["bravo", BRAVO]]) {
    const cookie = (await consoles[name].ctx.cookies(url)).map((c) => `${c.name}=${c.value}`).join("; ");
    const deadline = Date.now() + 3000;
    for (;;) {
      const metrics = await (await fetch(`${url}/metrics`, { headers: { Cookie: cookie } })).text();
      const count = (name) => Number((metrics.match(new RegExp(`^${name} (\\d+)$`, "m")) || [])[1]);
      const [ours, theirs] = [count('hotline_media_packets_total\\{direction="ours"\\}'),
        count('hotline_media_packets_total\\{direction="theirs"\\}')];
      if (ours > 0 && theirs > 0) break;
      assert.ok(Date.now() < deadline, `${name}'s metrics: ${metrics.split("\n").filter((l) => l.startsWith("hotline_media")).join("; ")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  await alpha.click('#call-bar [data-action="hangup"]');
  for (const page of [alpha, bravo]) {
    await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
    await page.waitForFunction(() => window.hotline.callAudio().length === 0 && !document.querySelector("audio.call-audio"),
      null, { timeout: 3000 });
  }
  await linesFree();
});

test("call audio the other way: bravo calls, alpha answers; each still hears the other (fresh legs; bravo's station dials alpha's this time)", async () => {
  const alpha = consoles.alpha.page;
  const bravo = consoles.bravo.page;
  await callButton(bravo, "alpha").click();
  await alpha.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  ids.reverse = await bravo.locator("#call-bar li[data-call-id]").getAttribute("data-call-id");
  await alpha.click('#call-bar [data-action="answer"]');
  for (const page of [alpha, bravo]) await page.locator('body[data-call="answered"]').waitFor({ timeout: 3000 });
  const [atAlpha, atBravo] = await Promise.all([hears(alpha, ids.reverse, TONES.bravo),
    hears(bravo, ids.reverse, TONES.alpha)]);
  assert.ok(atAlpha.ok, `alpha does not hear bravo's ${TONES.bravo} Hz: ${JSON.stringify(atAlpha)}`);
  assert.ok(atBravo.ok, `bravo does not hear alpha's ${TONES.alpha} Hz: ${JSON.stringify(atBravo)}`);
  // The callee hangs up this time.
  await alpha.click('#call-bar [data-action="hangup"]');
  for (const page of [alpha, bravo]) {
    await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
    await page.waitForFunction(() => window.hotline.callAudio().length === 0, null, { timeout: 3000 });
  }
  await linesFree();
});

test("call audio: a declined call and a missed call; both records show all four calls", async () => {
  const alpha = consoles.alpha.page;
  const bravo = consoles.bravo.page;
  await callButton(alpha, "bravo").click();
  await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  ids.declined = await alpha.locator("#call-bar li[data-call-id]").getAttribute("data-call-id");
  await bravo.click('#call-bar [data-action="decline"]');
  for (const page of [alpha, bravo]) await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
  await linesFree();

  await callButton(alpha, "bravo").click();
  await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  ids.missed = await alpha.locator("#call-bar li[data-call-id]").getAttribute("data-call-id");
  // Nobody answers: the call is missed after the line's ring timeout, at both ends.
  const wait = (RING_TIMEOUT_S + 5) * 1000;
  for (const page of [alpha, bravo]) await page.locator("body:not([data-call])").waitFor({ timeout: wait });
  await linesFree();
  // No audio leg was ever opened for a call that did not connect.
  for (const page of [alpha, bravo]) assert.equal((await page.evaluate(() => window.hotline.callAudio())).length, 0);

  const atAlpha = new Map((await apiGet(consoles.alpha, ALPHA, "/api/v1/calls")).map((c) => [c.id, c]));
  const atBravo = new Map((await apiGet(consoles.bravo, BRAVO, "/api/v1/calls")).map((c) => [c.id, c]));
  const outOf = (what, side) => (what === "reverse") === (side === "bravo") ? "out" : "in";
  for (const [what, state, answeredBy] of [["answered", "ended", "op"], ["reverse", "ended", "op"],
    ["declined", "declined", null], ["missed", "missed", null]]) {
    for (const [side, calls] of [["alpha", atAlpha], ["bravo", atBravo]]) {
      const direction = outOf(what, side);
      const c = calls.get(ids[what]);
      assert.ok(c, `${side} lists the ${what} call`);
      assert.equal(c.state, state, `${side}: ${JSON.stringify(c)}`);
      assert.equal(c.direction, direction);
      assert.equal(c.started_by, "op");
      assert.equal(c.answered_by, answeredBy, `${side}: ${JSON.stringify(c)}`);
    }
  }
  const row = alpha.locator(`#calls-history li[data-call-id="${ids.missed}"][data-state="missed"]`);
  await row.waitFor({ timeout: 3000 });
  assert.match(await row.textContent(), /not answered/);
});
