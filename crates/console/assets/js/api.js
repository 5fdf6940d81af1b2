// The station's HTTP API, same origin, with the session cookie. A 401 anywhere but the
// login means the session ended: the app shows the login form and keeps everything else.
//
// Every API URL is built here, by `apiPath` and `withQuery`, never by pasting a value into
// a string. Ids in URLs are often chosen by the peer station (a message's or a watch
// check's id comes over the line), and a pasted id such as `../notices/N/ack#` would make
// an operator's click act on something else. So each value is encoded as exactly one path
// segment, and query parameters go through URLSearchParams.

export const API_ROOT = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The API path made of `segments`, each encoded as one path segment:
 * `apiPath("messages", id, "ack")` is `/api/v1/messages/<id>/ack` whatever `id` holds.
 * Throws for an empty, `.` or `..` segment: the browser's URL parser would drop or climb
 * over those (even percent-encoded), so no encoding can keep them in place.
 */
export function apiPath(...segments) {
  const parts = segments.map((s) => {
    const text = String(s);
    if (text === "" || text === "." || text === "..") {
      throw new TypeError(`apiPath: ${JSON.stringify(text)} cannot be a URL path segment`);
    }
    return encodeURIComponent(text);
  });
  return [API_ROOT, ...parts].join("/");
}

/** `path` with the query `params`; parameters that are null or undefined are left out. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

const LOGIN = apiPath("login");
let onUnauthorized = () => {};

export function setUnauthorizedHandler(f) {
  onUnauthorized = f;
}

/** One request; `path` comes from `apiPath` (and `withQuery`). Resolves to the JSON or text body. */
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
  if (res.status === 401 && path !== LOGIN) {
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

const messagesPageMax = 1000;

/** All messages on a line, oldest first, paging with ?after=. */
export async function allMessages(peer) {
  const out = [];
  let after = null;
  for (;;) {
    const page = await api("GET", withQuery(apiPath("lines", peer, "messages"), { limit: messagesPageMax, after }));
    out.push(...page);
    if (page.length < messagesPageMax) return out;
    after = page[page.length - 1].id;
  }
}
