// Call audio end to end (issue #16): two consoles in two headless Chromium processes, each
// with a fake microphone playing a tone from a WAV file this test writes (1 kHz at alpha,
// 2 kHz at bravo). Alpha calls, bravo's console rings, bravo answers; each console's
// received audio, played in its <audio> element and analysed with an AnalyserNode, peaks
// at the other side's frequency — so the Opus packets went browser → station → QUIC →
// station → browser both ways. Then hang-up; the same the other way (bravo calls, alpha
// answers and hangs up); a 6 s call whose recordings at both stations are fetched through the
// API, decoded (ffprobe, opusinfo, ffmpeg), timed, listened to, matched with both records
// and checked by `hotline verify` (then a changed byte and a deleted file); a declined call
// and a missed one; and both stations' records of all of them; then (#17) a 6 s call with 5 %
// of the datagrams between the stations dropped (an nftables `numgen random` rule), whose
// recordings keep the call's length, and a call during which alpha's station is SIGKILLed
// and started again, whose recovered recording plays and is marked cut off. Runs beside
// console.test.mjs, one file at a time, against the same stations; neither depends on the
// other's calls.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
const BIN = env("HOTLINE_BIN");
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
/** Drops `percent` % of the UDP datagrams between the stations, at random, both ways. */
function lossyStationUdp(percent) {
  nft("add", "table", "inet", cutTable);
  nft("add", "chain", "inet", cutTable, "out", "{ type filter hook output priority 0; policy accept; }");
  nft("add", "rule", "inet", cutTable, "out", "udp", "dport", `{ ${MEDIA_PORTS.join(", ")} }`,
    "numgen", "random", "mod", "100", "<", String(percent), "drop");
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

/** Alpha calls bravo and bravo answers; the call's id and when bravo says it was answered. */
async function answeredCall() {
  const [alpha, bravo] = [consoles.alpha.page, consoles.bravo.page];
  await callButton(alpha, "bravo").click();
  await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  const id = await alpha.locator("#call-bar li[data-call-id]").getAttribute("data-call-id");
  await bravo.click('#call-bar [data-action="answer"]');
  for (const page of [alpha, bravo]) await page.locator('body[data-call="answered"]').waitFor({ timeout: 3000 });
  const answeredAt = new Date((await apiGet(consoles.bravo, BRAVO, `/api/v1/calls/${id}`)).answered).getTime();
  return { id, answeredAt };
}

/** Waits until station `url` lists its sealed recording of call `id`; returns the call. */
async function recorded(side, url, id, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = await apiGet(side, url, `/api/v1/calls/${id}`);
    if (c.recording) return c;
    assert.ok(Date.now() < deadline, `${url} has no recording of call ${id}: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The recording's bytes as the API serves them, whole or a byte range. */
async function fetchRecording({ ctx }, url, id, range) {
  const cookie = (await ctx.cookies(url)).map((c) => `${c.name}=${c.value}`).join("; ");
  const headers = { Cookie: cookie, ...(range ? { Range: range } : {}) };
  const r = await fetch(`${url}/api/v1/calls/${id}/recording`, { headers });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

/** Power of frequency `hz` in `samples` (Goertzel), for telling the two tones apart. */
function power(samples, hz) {
  const k = (2 * Math.PI * hz) / SAMPLE_RATE;
  const coeff = 2 * Math.cos(k);
  let [s1, s2] = [0, 0];
  for (const x of samples) [s1, s2] = [x + coeff * s1 - s2, s1];
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** Decodes a recording with ffmpeg into its two channels (ours, theirs) of 48 kHz floats. */
function channels(file) {
  const pcm = execFileSync("ffmpeg", ["-v", "error", "-i", file, "-f", "f32le", "-ac", "2", "-ar", "48000", "-"],
    { maxBuffer: 256 * 1024 * 1024 });
  const all = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.length / 4);
  const left = new Float32Array(all.length / 2);
  const right = new Float32Array(all.length / 2);
  for (let i = 0; i < left.length; i++) [left[i], right[i]] = [all[2 * i], all[2 * i + 1]];
  return [left, right];
}

/** The entries of a station's export (JSON texts) as objects. */
function exportEntries(file) {
  return JSON.parse(readFileSync(file, "utf8")).entries.map((e) => JSON.parse(e));
}

test("recording: a 6 s call is recorded at both stations; the files decode, last the call, hold both tones and match both records; verify catches a changed or deleted file", async () => {
  const alpha = consoles.alpha.page;
  const bravo = consoles.bravo.page;
  const { id, answeredAt } = await answeredCall();
  ids.recorded = id;
  const [atAlpha, atBravo] = await Promise.all([hears(alpha, id, TONES.bravo), hears(bravo, id, TONES.alpha)]);
  assert.ok(atAlpha.ok && atBravo.ok, `both hear the other: ${JSON.stringify([atAlpha, atBravo])}`);
  // Six seconds after the answer, bravo hangs up.
  await bravo.waitForTimeout(Math.max(0, answeredAt + 6000 - Date.now()));
  await bravo.click('#call-bar [data-action="hangup"]');
  for (const page of [alpha, bravo]) await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
  await linesFree();

  const dir = join(WORK, "recordings-test");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const views = {};
  for (const [name, url, side] of [["alpha", ALPHA, consoles.alpha], ["bravo", BRAVO, consoles.bravo]]) {
    const c = await recorded(side, url, id);
    views[name] = c;
    const span = new Date(c.ended).getTime() - new Date(c.answered).getTime();
    const whole = await fetchRecording(side, url, id);
    assert.equal(whole.status, 200, `${name} serves the recording`);
    assert.match(whole.headers.get("content-type"), /^audio\/ogg/);
    assert.equal(whole.bytes.length, c.recording.bytes, `${name}: the size the record states`);
    assert.equal(createHash("sha256").update(whole.bytes).digest("hex"), c.recording.sha256,
      `${name}: the file is the one whose SHA-256 the record holds`);
    // A byte range, as an <audio> element seeking asks for it.
    const part = await fetchRecording(side, url, id, "bytes=100-199");
    assert.equal(part.status, 206, `${name}: a range request`);
    assert.equal(part.headers.get("content-range"), `bytes 100-199/${whole.bytes.length}`);
    assert.deepEqual(part.bytes, whole.bytes.subarray(100, 200));
    const beyond = await fetchRecording(side, url, id, `bytes=${whole.bytes.length + 10}-`);
    assert.equal(beyond.status, 416, `${name}: a range past the end`);

    const file = join(dir, `${name}.opus`);
    writeFileSync(file, whole.bytes);
    const opusinfo = spawnSync("opusinfo", [file], { encoding: "utf8" });
    assert.equal(opusinfo.status, 0, `opusinfo reads ${name}'s recording: ${opusinfo.stdout}${opusinfo.stderr}`);
    assert.doesNotMatch(opusinfo.stdout + opusinfo.stderr, /WARNING|ERROR/i, `opusinfo: ${opusinfo.stdout}${opusinfo.stderr}`);
    const probed = execFileSync("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file],
      { encoding: "utf8" });
    // opusinfo's playback length subtracts the pre-skip (RFC 7845 §4.2); ffprobe's format
    // duration counts it (the one 20 ms lead-in slot, 960 samples).
    const playback = (opusinfo.stdout.match(/Playback length: (\d+)m:([\d.]+)s/) || []);
    assert.ok(playback.length === 3, `opusinfo gives a playback length: ${opusinfo.stdout}`);
    const durationMs = (Number(playback[1]) * 60 + Number(playback[2])) * 1000;
    const probedMs = Number(probed.trim()) * 1000;
    console.log(`${name}: recording ${c.recording.bytes} bytes, opusinfo ${durationMs.toFixed(1)} ms, ` +
      `ffprobe ${probedMs.toFixed(1)} ms with the pre-skip, record ${c.recording.duration_s * 1000} ms, answered → ended ${span} ms`);
    // Within two 20 ms slots: the start rounds to a slot, and the far side's packets in
    // flight at hang-up (sent before it learned of the end) are recorded after it.
    assert.ok(Math.abs(durationMs - span) <= 40,
      `${name}: the recording lasts ${durationMs} ms, the call ${span} ms (answered ${c.answered}, ended ${c.ended})`);
    assert.ok(Math.abs(durationMs - c.recording.duration_s * 1000) <= 1.5, `${name}: opusinfo and the record agree`);
    assert.ok(Math.abs(probedMs - 20 - durationMs) <= 1.5, `${name}: ffprobe reads the same length (${probedMs} ms)`);

    // Both tones, each in its speaker's channel: ours on the left, the peer's on the right.
    assertTones(file, name);
  }

  // The records: each station's own statement, the peer's copy of it, the packet hashes.
  const exports = {};
  for (const name of ["alpha", "bravo"]) {
    const out = join(dir, `${name}-export.json`);
    execFileSync(BIN, ["log", "export", join(WORK, name), "--out", out, "--recordings", join(dir, `${name}-files`)]);
    exports[name] = exportEntries(out);
  }
  const statement = (entries, kind) => entries.filter((e) => e.kind === kind && e.id === id);
  for (const [name, peer] of [["alpha", "bravo"], ["bravo", "alpha"]]) {
    const [own] = statement(exports[name], "call.recorded");
    assert.ok(own, `${name}'s record states its recording`);
    assert.equal(own.sha256, views[name].recording.sha256);
    const [held] = statement(exports[peer], "call.recorded_by_peer");
    assert.ok(held, `${peer}'s record holds ${name}'s recording`);
    assert.equal(held.sha256, own.sha256, `${peer} holds ${name}'s SHA-256`);
    assert.equal(held.item, own.item, `${peer} holds ${name}'s signed statement byte for byte`);
  }
  const [a] = statement(exports.alpha, "call.recorded");
  const [b] = statement(exports.bravo, "call.recorded");
  assert.deepEqual([a.caller, a.callee], [b.caller, b.callee], "both stations relayed the same packets");
  assert.ok(a.caller.packets > 250 && a.callee.packets > 250, `6 s of audio each way: ${JSON.stringify([a.caller, a.callee])}`);

  // hotline verify: both records, both stations' files; then a changed byte, then a deletion.
  const verify = (alphaFiles) => spawnSync(BIN, ["verify", join(dir, "alpha-export.json"), join(dir, "bravo-export.json"),
    "--recordings", alphaFiles, "--peer-recordings", join(dir, "bravo-files")], { encoding: "utf8" });
  const good = verify(join(dir, "alpha-files"));
  assert.equal(good.status, 0, `verify: ${good.stdout}${good.stderr}`);
  assert.match(good.stdout, new RegExp(`call ${id}: .*matches alpha's record`));
  assert.match(good.stdout, /the caller's audio: the same \d+ packet\(s\) in both recordings/);
  assert.match(good.stdout, /the callee's audio: the same \d+ packet\(s\) in both recordings/);
  const tampered = join(dir, "alpha-files-tampered");
  mkdirSync(tampered);
  const original = readFileSync(join(dir, "alpha-files", `${id}.opus`));
  const changed = Buffer.from(original);
  changed[Math.floor(changed.length / 2)] ^= 0x01;
  writeFileSync(join(tampered, `${id}.opus`), changed);
  const caught = verify(tampered);
  assert.notEqual(caught.status, 0, `a changed byte fails verify: ${caught.stdout}`);
  assert.match(caught.stdout, new RegExp(`call ${id}: CHANGED: .*first problem at page \\d+`));
  rmSync(join(tampered, `${id}.opus`));
  const deleted = verify(tampered);
  assert.notEqual(deleted.status, 0, `a deleted recording fails verify: ${deleted.stdout}`);
  assert.match(deleted.stdout, new RegExp(`call ${id}: MISSING`));

  // The console's history plays it (every role: the auditor's view is the same list).
  const row = alpha.locator(`#calls-history li[data-call-id="${id}"] .call-recording audio`);
  await row.waitFor({ timeout: 5000 });
  assert.equal(await row.getAttribute("src"), `/api/v1/calls/${id}/recording`);
  const playable = await alpha.evaluate(async (id) => {
    const audio = document.querySelector(`#calls-history li[data-call-id="${id}"] audio`);
    audio.preload = "auto";
    audio.load();
    await new Promise((resolve) => {
      audio.addEventListener("loadedmetadata", resolve, { once: true });
      audio.addEventListener("error", resolve, { once: true });
      setTimeout(resolve, 5000);
    });
    return { duration: audio.duration, error: audio.error && audio.error.message };
  }, id);
  assert.ok(!playable.error && Math.abs(playable.duration * 1000 - views.alpha.recording.duration_s * 1000) < 50,
    `the console's <audio> loads the recording: ${JSON.stringify(playable)}`);
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

/** Opus info and decoded length of a recording file: `{ok, ms, text}`. */
function opusLength(file) {
  const opusinfo = spawnSync("opusinfo", [file], { encoding: "utf8" });
  const text = opusinfo.stdout + opusinfo.stderr;
  const playback = text.match(/Playback length: (\d+)m:([\d.]+)s/) || [];
  return { ok: opusinfo.status === 0 && !/WARNING|ERROR/i.test(text) && playback.length === 3,
    ms: (Number(playback[1]) * 60 + Number(playback[2])) * 1000, text };
}

/** Both tones, each in its speaker's channel, from 2 s to 5 s into the recording. */
function assertTones(file, name) {
  const [ours, theirs] = channels(file);
  const middle = (x) => x.subarray(SAMPLE_RATE * 2, SAMPLE_RATE * 5);
  const peer = name === "alpha" ? "bravo" : "alpha";
  for (const [channel, speaker] of [[ours, name], [theirs, peer]]) {
    const [wanted, other] = speaker === "alpha" ? [TONES.alpha, TONES.bravo] : [TONES.bravo, TONES.alpha];
    const [pw, po] = [power(middle(channel), wanted), power(middle(channel), other)];
    assert.ok(pw > 100 * po && pw > 1e3, `${name}'s recording: ${speaker}'s channel holds ${wanted} Hz (power ${pw.toExponential(2)} vs ${po.toExponential(2)} at ${other} Hz)`);
  }
}

test("recording under 5 % loss between the stations: both recordings keep the call's length and both tones; verify says where the two first differ", async () => {
  const alpha = consoles.alpha.page;
  const bravo = consoles.bravo.page;
  const { id, answeredAt } = await answeredCall();
  lossyStationUdp(5);
  try {
    await bravo.waitForTimeout(Math.max(0, answeredAt + 6000 - Date.now()));
    await bravo.click('#call-bar [data-action="hangup"]');
    for (const page of [alpha, bravo]) await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
    await linesFree();
  } finally {
    healStationUdp();
  }
  const dir = join(WORK, "recordings-lossy");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const [name, url, side] of [["alpha", ALPHA, consoles.alpha], ["bravo", BRAVO, consoles.bravo]]) {
    const c = await recorded(side, url, id);
    const span = new Date(c.ended).getTime() - new Date(c.answered).getTime();
    const file = join(dir, `${name}.opus`);
    writeFileSync(file, (await fetchRecording(side, url, id)).bytes);
    const length = opusLength(file);
    assert.ok(length.ok, `opusinfo reads ${name}'s recording: ${length.text}`);
    console.log(`${name} (5 % loss): opusinfo ${length.ms.toFixed(1)} ms, answered → ended ${span} ms`);
    // Lost packets are gaps in time, not a shorter file.
    assert.ok(Math.abs(length.ms - span) <= 40, `${name}: the recording lasts ${length.ms} ms, the call ${span} ms`);
    assertTones(file, name);
  }
  const exports = {};
  for (const name of ["alpha", "bravo"]) {
    const out = join(dir, `${name}-export.json`);
    execFileSync(BIN, ["log", "export", join(WORK, name), "--out", out, "--recordings", join(dir, `${name}-files`)]);
    exports[name] = exportEntries(out).find((e) => e.kind === "call.recorded" && e.id === id);
  }
  const [a, b] = [exports.alpha, exports.bravo];
  // Each station hears the far side through the lossy path, its own operator directly.
  assert.ok(a.callee.packets < b.callee.packets, `alpha lost some of bravo's packets: ${a.callee.packets} of ${b.callee.packets}`);
  assert.ok(b.caller.packets < a.caller.packets, `bravo lost some of alpha's packets: ${b.caller.packets} of ${a.caller.packets}`);
  for (const [got, sent] of [[a.callee.packets, b.callee.packets], [b.caller.packets, a.caller.packets]]) {
    assert.ok(got >= sent * 0.85, `about 5 % lost, not more: ${got} of ${sent}`);
  }
  const verify = spawnSync(BIN, ["verify", join(dir, "alpha-export.json"), join(dir, "bravo-export.json"),
    "--recordings", join(dir, "alpha-files"), "--peer-recordings", join(dir, "bravo-files")], { encoding: "utf8" });
  assert.match(verify.stdout, /the caller's audio DIFFERS/, `verify: ${verify.stdout}${verify.stderr}`);
  assert.match(verify.stdout, /the callee's audio DIFFERS/, `verify: ${verify.stdout}`);
  assert.match(verify.stdout, new RegExp(`call ${id}: .*matches alpha's record`), "the files are as stated");
});

test("a recorder whose disk fills mid-call: the call goes on, both operators see \"recording stopped\" within 1 s, the record says when", async (t) => {
  // Alpha's recordings directory becomes a 16 KiB tmpfs: the first second or two of audio
  // fit, then every write fails with "no space left on device".
  const recordingsDir = join(WORK, "alpha", "recordings");
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", recordingsDir], { encoding: "utf8" });
  if (mounted.status !== 0) {
    t.skip(`needs root to mount a small tmpfs over alpha's recordings: ${mounted.stderr.trim()}`);
    return;
  }
  try {
    const alpha = consoles.alpha.page;
    const bravo = consoles.bravo.page;
    const { id } = await answeredCall();
    const seen = {};
    await Promise.all([["alpha", alpha], ["bravo", bravo]].map(async ([name, page]) => {
      await page.locator(`#call-bar li[data-call-id="${id}"] .call-recording-stopped`).waitFor({ timeout: 15000 });
      seen[name] = Date.now();
    }));
    const marks = await Promise.all([alpha, bravo].map((p) => p.locator("#call-bar .call-recording-stopped").textContent()));
    assert.match(marks[0], /Not recorded here any more/, marks[0]);
    assert.match(marks[1], /ALPHA no longer records this call/, marks[1]);
    // The call goes on: both still talk and hear each other.
    for (const page of [alpha, bravo]) assert.equal(await page.evaluate(() => document.body.dataset.call), "answered");
    const [atAlpha, atBravo] = await Promise.all([hears(alpha, id, TONES.bravo), hears(bravo, id, TONES.alpha)]);
    assert.ok(atAlpha.ok && atBravo.ok, `both still hear the other: ${JSON.stringify([atAlpha, atBravo])}`);
    await bravo.click('#call-bar [data-action="hangup"]');
    for (const page of [alpha, bravo]) await page.locator("body:not([data-call])").waitFor({ timeout: 3000 });
    await linesFree();
    const out = join(WORK, "recorder-fault-export.json");
    execFileSync(BIN, ["log", "export", join(WORK, "alpha"), "--out", out]);
    const entries = exportEntries(out);
    const [stopped] = entries.filter((e) => e.kind === "call.recording_stopped" && e.id === id);
    assert.ok(stopped, "alpha's record says its recording stopped");
    assert.match(stopped.why, /space/i, stopped.why);
    const stoppedAt = new Date(stopped.stopped_at).getTime();
    console.log(`recorder fault: its entry written ${new Date(stopped.at).getTime() - stoppedAt} ms after the recorder stopped; ` +
      `seen at alpha after ${seen.alpha - stoppedAt} ms, at bravo after ${seen.bravo - stoppedAt} ms`);
    for (const name of ["alpha", "bravo"]) {
      assert.ok(seen[name] - stoppedAt <= 1000, `${name}'s operator saw it ${seen[name] - stoppedAt} ms after the recorder stopped`);
    }
    const raised = entries.filter((e) => e.kind === "alarm.raised" && e.cause === "recording_stopped");
    assert.ok(raised.length >= 1, "and an alarm was raised");
  } finally {
    spawnSync("umount", ["-l", recordingsDir]);
  }
});

test("a station SIGKILLed mid-call keeps a playable recording of all but its last seconds, and its record says it was cut", async () => {
  const alpha = consoles.alpha.page;
  const bravo = consoles.bravo.page;
  const { id, answeredAt } = await answeredCall();
  await alpha.waitForTimeout(Math.max(0, answeredAt + 5000 - Date.now()));
  // Alpha's station dies mid-call, as a power cut would leave it; then it starts again.
  const pidFile = join(WORK, "alpha.pid");
  const killedAt = Date.now();
  process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL");
  await new Promise((r) => setTimeout(r, 500));
  const log = openSync(join(WORK, "alpha.log"), "a");
  const restarted = spawn(BIN, ["serve", join(WORK, "alpha")], { detached: true, stdio: ["ignore", log, log] });
  restarted.unref();
  closeSync(log);
  writeFileSync(pidFile, `${restarted.pid}\n`);
  const deadline = Date.now() + 20000;
  for (;;) {
    const up = await fetch(`${ALPHA}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    assert.ok(Date.now() < deadline, "alpha serves again");
    await new Promise((r) => setTimeout(r, 200));
  }
  await alpha.reload();
  await alpha.locator("#app").waitFor({ state: "visible", timeout: 10000 });
  // Alpha's recording: recovered at the start, sealed, marked cut off, and playable.
  const c = await recorded(consoles.alpha, ALPHA, id, 20000);
  assert.equal(c.recording.cut_off, true, `alpha's record says the recording was cut: ${JSON.stringify(c.recording)}`);
  const dir = join(WORK, "recordings-killed");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const file = join(dir, "alpha.opus");
  writeFileSync(file, (await fetchRecording(consoles.alpha, ALPHA, id)).bytes);
  const length = opusLength(file);
  assert.ok(length.ok, `opusinfo reads the recovered recording: ${length.text}`);
  const talked = killedAt - answeredAt;
  console.log(`alpha (SIGKILL at ${talked} ms): the recovered recording holds ${length.ms.toFixed(1)} ms`);
  // Synced every 2 s: at most the last 2 s (and the page being written) are lost.
  assert.ok(length.ms >= talked - 3000 && length.ms <= talked + 100, `${length.ms} ms of ${talked} ms kept`);
  const out = join(dir, "alpha-export.json");
  execFileSync(BIN, ["log", "export", join(WORK, "alpha"), "--out", out]);
  const stated = exportEntries(out).filter((e) => e.kind === "call.recorded" && e.id === id);
  assert.equal(stated.length, 1, "one statement of the recovered recording");
  assert.equal(stated[0].cut_off, true);
  // Bravo recorded the whole call, which ended for it when alpha's line was lost.
  const atBravo = await recorded(consoles.bravo, BRAVO, id, 20000);
  assert.equal(atBravo.recording.cut_off, false, JSON.stringify(atBravo.recording));
  await alpha.locator('#lines li[data-peer="bravo"][data-state="up"]').waitFor({ timeout: 20000 });
  await linesFree(15000);
});
