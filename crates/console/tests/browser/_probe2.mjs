import { chromium } from "playwright-core";
const A = process.env.ALPHA_URL, B = process.env.BRAVO_URL, PW = process.env.HOTLINE_PASSWORD;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic"] });
async function open(url) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.log("page error", e.message));
  await page.goto(url); await page.locator("#login-user").waitFor({ state: "visible" });
  await page.fill("#login-user", "op"); await page.fill("#login-password", PW); await page.click("#login-submit");
  await page.locator("#app").waitFor({ state: "visible" });
  return page;
}
const alpha = await open(A), bravo = await open(B);
await alpha.locator('#lines li[data-peer="bravo"][data-state="up"]').waitFor({ timeout: 15000 });
await new Promise(r => setTimeout(r, 6000));
await alpha.evaluate(() => {
  window.__m = {};
  const f = window.fetch;
  window.fetch = async (u, o) => { const t0 = performance.timeOrigin + performance.now(); const r = await f(u, o); if (String(u).endsWith("/calls") && o && o.method === "POST") { window.__m.fetch0 = t0; window.__m.fetch1 = performance.timeOrigin + performance.now(); } return r; };
  document.addEventListener("click", (ev) => { if (ev.target.closest('[data-action="call"]')) window.__m.click = performance.timeOrigin + ev.timeStamp; window.__m.clickNow = performance.timeOrigin + performance.now(); }, true);
});
await bravo.evaluate(() => {
  window.__m = {};
  const es = new EventSource("/api/v1/events");
  es.addEventListener("call.ringing", () => { window.__m.sse = performance.timeOrigin + performance.now(); });
  new MutationObserver(() => { if (document.body.dataset.call === "ringing") window.__m.ring = performance.timeOrigin + performance.now(); }).observe(document.body, { attributes: true, attributeFilter: ["data-call"] });
});
await new Promise(r => setTimeout(r, 1000));
for (let i = 0; i < 10; i++) {
  await alpha.click('#lines li[data-peer="bravo"] [data-action="call"]');
  await bravo.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  await alpha.locator('body[data-call="ringing"]').waitFor({ timeout: 3000 });
  const a = await alpha.evaluate(() => window.__m), b = await bravo.evaluate(() => window.__m);
  const r = (x) => (x - a.click).toFixed(1);
  console.log(`clickNow ${r(a.clickNow)} fetch0 ${r(a.fetch0)} fetch1 ${r(a.fetch1)} sse@bravo ${r(b.sse)} ring@bravo ${r(b.ring)}`);
  await alpha.click('#call-bar [data-action="hangup"]');
  for (const p of [alpha, bravo]) await p.locator("body:not([data-call])").waitFor({ timeout: 3000 });
  await new Promise(r => setTimeout(r, 300));
}
await browser.close();
process.exit(0);
