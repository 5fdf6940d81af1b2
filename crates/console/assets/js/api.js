// The station's HTTP API, same origin, with the session cookie. A 401 anywhere but the
// login means the session ended: the app shows the login form and keeps everything else.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};

export function setUnauthorizedHandler(f) {
  onUnauthorized = f;
}

export async function api(method, path, body) {
  const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, "network", e.message);
  }
  if (res.status === 401 && path !== "/api/v1/login") {
    onUnauthorized();
    throw new ApiError(401, "unauthorized", "session ended");
  }
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: String(res.status), message: String(data) };
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

/** All messages on a line, oldest first, paging with ?after=. */
export async function allMessages(peer) {
  const out = [];
  let after = null;
  for (;;) {
    const q = `/api/v1/lines/${encodeURIComponent(peer)}/messages?limit=1000` + (after ? `&after=${after}` : "");
    const page = await api("GET", q);
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1].id;
  }
}
