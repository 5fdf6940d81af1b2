const A = process.env.ALPHA_URL, B = process.env.BRAVO_URL, PW = process.env.HOTLINE_PASSWORD;
async function login(url) {
  const r = await fetch(`${url}/api/v1/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: "op", password: PW }) });
  return r.headers.get("set-cookie").split(";")[0];
}
const ca = await login(A), cb = await login(B);
// wait line up
for (;;) { const l = await (await fetch(`${A}/api/v1/lines`, { headers: { Cookie: ca } })).json(); if (l[0].state === "up") break; await new Promise(r => setTimeout(r, 100)); }
console.log("line up"); const es = await fetch(`${B}/api/v1/events`, { headers: { Cookie: cb, Accept: "text/event-stream" } });
const reader = es.body.getReader(); const dec = new TextDecoder();
let waiters = []; let buf = "";
(async () => { for (;;) { const { value, done } = await reader.read(); if (done) break; const now = performance.now(); buf += dec.decode(value); if (process.env.RAW) console.log(JSON.stringify(dec.decode(value)).slice(0,300));
  let i; while ((i = buf.indexOf("\n\n")) >= 0) { const ev = buf.slice(0, i); buf = buf.slice(i + 2); const kind = (ev.match(/^event: (.*)$/m) || [])[1]; for (const w of waiters) w(kind, now); } } })();
const next = (k) => new Promise(r => { const f = (kind, now) => { if (kind === k) { waiters = waiters.filter(x => x !== f); r(now); } }; waiters.push(f); });
console.log("sse open", es.status); await new Promise(r => setTimeout(r, 6000));
for (let i = 0; i < 10; i++) {
  const p = next("call.ringing");
  const t0 = performance.now();
  const res = await fetch(`${A}/api/v1/lines/bravo/calls`, { method: "POST", headers: { Cookie: ca, Origin: A } });
  const t1 = performance.now();
  const c = await res.json();
  if (res.status !== 201) { console.log(res.status, c); continue; }
  const t2 = await p;
  console.log(`POST ${res.status} ${(t1 - t0).toFixed(1)} ms; ringing event at bravo ${(t2 - t0).toFixed(1)} ms`);
  await fetch(`${A}/api/v1/calls/${c.id}/hangup`, { method: "POST", headers: { Cookie: ca, Origin: A } });
  for (;;) { const l = await (await fetch(`${B}/api/v1/calls?state=active`, { headers: { Cookie: cb } })).json(); const m = await (await fetch(`${A}/api/v1/calls?state=active`, { headers: { Cookie: ca } })).json(); if (!l.length && !m.length) break; await new Promise(r => setTimeout(r, 20)); }
}
process.exit(0);
