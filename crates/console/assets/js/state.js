// What the whole console shares: who is logged in, at which station, its lines and their
// messages, and the line on screen. Each panel keeps its own state in its own module; only
// what several of them read lives here. Resyncs and events update it idempotently
// (messages are keyed by id), so replays never duplicate anything.

export const S = {
  me: null, // {user, role}
  station: null, // GET /api/v1/station: {name, key, lang, lines}
  session: null, // GET /api/v1/session: {user, role, station, on_watch: [{user, sessions}]}
  lines: new Map(), // peer -> line from GET /api/v1/lines
  messages: new Map(), // peer -> Map(id -> message), in the order this station stored them
  selected: null, // the peer whose conversation is on screen
  started: false, // the console has loaded a session's data at least once
};

/** The console is showing a session, not the login form. */
export function active() {
  return S.started && document.getElementById("login-view").hidden;
}
