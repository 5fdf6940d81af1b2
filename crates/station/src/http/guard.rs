//! What stands in front of every handler: the route table's rules, cross-origin refusal
//! for cookie sessions, body limits, security headers, and the login limiter.
//!
//! The console authenticates with a cookie, which a browser attaches to requests that
//! other sites make it send; so a state-changing request that arrives with the session
//! cookie must show that it came from the console's own origin (`Sec-Fetch-Site`, else
//! `Origin`, else `Referer`). Bearer-token requests need no such check: a browser never
//! adds a token by itself. Every route reads at most its table's body limit
//! ([`super::roles`]), so no handler buffers more than its route needs. Failed logins
//! are counted per user name and per client address in [`LoginLimiter`], a pure struct
//! that takes the time as an argument, so a password cannot be guessed faster than a
//! few tries per quarter of an hour and the record cannot be flooded with failures.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use futures_util::StreamExt as _;

use super::roles::{self, Access, Lookup};
use super::state::{AppState, Credential, Operator, authenticate};
use crate::error::ApiError;

/// The console's policy: its own scripts, styles, images and API only; no inline code,
/// no plugins, never inside a frame.
const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";
/// API answers are data, never a document to render.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// The client's address, when the server knows it (`ConnectInfo`); `None` in tests that
/// call the router directly.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub Option<IpAddr>);

/// Adds the security headers to every answer, the API's and the console's, errors included.
/// An API error that axum's own extractors answered in plain text (a query string that does
/// not parse, say) is rewritten as the API's JSON error, so every API error has one shape.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let api = roles::is_api_path(req.uri().path());
    let mut resp = next.run(req).await;
    if api {
        resp = json_errors_only(resp).await;
    }
    let h = resp.headers_mut();
    let csp = if api { API_CSP } else { CONSOLE_CSP };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    if api {
        // Operators' messages and the record must not linger in shared or browser caches.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Largest plain-text error body kept as the JSON error's message.
#[allow(non_upper_case_globals)]
const text_error_bytes_max: usize = 1024;

async fn json_errors_only(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, text_error_bytes_max).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let error = match status.as_u16() {
        404 => ApiError::NotFound(text),
        405 => {
            let allow = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default();
            ApiError::MethodNotAllowed { allow: allow.to_owned() }
        }
        413 => ApiError::TooLarge(text),
        400..=499 => {
            ApiError::bad("bad_request", if text.is_empty() { "the request is malformed".into() } else { text })
        }
        _ => ApiError::Internal(format!("{status} answered in plain text: {text}")),
    };
    let mut out = error.into_response();
    // A 4xx keeps its own status (415, 422, ...); the body is what changes.
    if status.is_client_error() {
        *out.status_mut() = status;
    }
    out
}

/// The route table in force: looks the request up, refuses what its rule refuses, and
/// hands the handler the operator and a body of at most the route's limit.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, ApiError> {
    let (mut parts, body) = req.into_parts();
    let address = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    parts.extensions.insert(ClientAddress(address));
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let rule = match roles::lookup(&parts.method, parts.uri.path()) {
        Lookup::Route(rule) => rule,
        Lookup::Console if parts.method == Method::GET || parts.method == Method::HEAD => {
            let body = read_body(body, roles::no_body_bytes_max).await?;
            return Ok(next.run(Request::from_parts(parts, body)).await);
        }
        Lookup::Console => return Err(ApiError::MethodNotAllowed { allow: "GET, HEAD".into() }),
        // Say nothing about the API's routes to someone without credentials.
        Lookup::NoRoute => {
            authenticate(&state, &parts.headers).await?.ok_or(ApiError::Unauthorized)?;
            return Err(ApiError::NotFound("no such route".into()));
        }
        Lookup::OtherMethods(methods) => {
            authenticate(&state, &parts.headers).await?.ok_or(ApiError::Unauthorized)?;
            return Err(ApiError::MethodNotAllowed { allow: methods.join(", ") });
        }
    };
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > rule.body_bytes_max as u64) {
        return Err(too_large(rule.body_bytes_max));
    }
    let origin = request_origin(&parts.headers, host(&parts));
    if rule.access == Access::Public {
        // Login CSRF: another site must not log a browser in to an account of its choosing.
        if !safe && let Origin::Cross(why) = origin {
            return Err(ApiError::CrossOrigin(why.into()));
        }
    } else {
        let (user, credential) = authenticate(&state, &parts.headers).await?.ok_or(ApiError::Unauthorized)?;
        if credential == Credential::Session && !safe {
            match origin {
                Origin::Same => {}
                Origin::Cross(why) => return Err(ApiError::CrossOrigin(why.into())),
                Origin::Unknown => {
                    return Err(ApiError::CrossOrigin(
                        "a request with the session cookie that changes something must carry Origin or Referer".into(),
                    ));
                }
            }
        }
        if !rule.access.admits(user.role) {
            return Err(refusal(rule.access, &user));
        }
        parts.extensions.insert(Operator(user));
    }
    let body = read_body(body, rule.body_bytes_max).await?;
    Ok(next.run(Request::from_parts(parts, body)).await)
}

fn refusal(access: Access, user: &hotline_store::User) -> ApiError {
    if user.role == hotline_store::Role::Auditor && access == Access::Operator {
        return ApiError::ReadOnly("auditor");
    }
    let least = access.least_role().map_or("another", |r| r.as_str());
    ApiError::Forbidden(format!("this needs the {least} role; {} has the {} role", user.name, user.role.as_str()))
}

fn too_large(limit: usize) -> ApiError {
    if limit == 0 {
        ApiError::TooLarge("this route takes no request body".into())
    } else {
        ApiError::TooLarge(format!("request body over {limit} bytes, this route's limit"))
    }
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes (a body sent
/// without Content-Length is counted as it arrives).
async fn read_body(body: Body, limit: usize) -> Result<Body, ApiError> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad("bad_request", "the request body could not be read"))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Body::from(buf))
}

fn host(parts: &axum::http::request::Parts) -> Option<String> {
    let header = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_owned);
    header.or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
}

/// Where a browser says a request came from, relative to this station.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The console's own origin.
    Same,
    /// Another origin; the reason names the header that said so.
    Cross(&'static str),
    /// No header says (not a browser, or a very old one).
    Unknown,
}

/// Reads `Sec-Fetch-Site`, then `Origin`, then `Referer`, comparing the latter two with
/// the `Host` the request was sent to. A proxy in front of the station must pass `Host`
/// through unchanged.
pub fn request_origin(headers: &HeaderMap, host: Option<String>) -> Origin {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::trim);
    match text("sec-fetch-site") {
        Some("same-origin") => return Origin::Same,
        Some("same-site" | "cross-site") => return Origin::Cross("Sec-Fetch-Site says another site sent it"),
        _ => {}
    }
    let Some(host) = host else { return Origin::Unknown };
    if let Some(origin) = text("origin") {
        return if same_authority(origin, &host) {
            Origin::Same
        } else {
            Origin::Cross("its Origin is not this station")
        };
    }
    if let Some(referer) = text("referer") {
        return if same_authority(referer, &host) {
            Origin::Same
        } else {
            Origin::Cross("its Referer is not this station")
        };
    }
    Origin::Unknown
}

/// Whether the URL (or serialized origin) `url` names the authority `host`, default
/// ports made explicit on both sides.
fn same_authority(url: &str, host: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let with_port = |a: &str| {
        let a = a.to_ascii_lowercase();
        // An IPv6 literal ends in `]` when it carries no port.
        if a.rsplit_once(':').is_some_and(|(_, p)| !p.contains(']')) { a } else { format!("{a}:{default_port}") }
    };
    !authority.is_empty() && !authority.contains('@') && with_port(authority) == with_port(host)
}

/// Whether the browser reached the station over HTTPS (directly or through a proxy that
/// says so), so the session cookie can be marked `Secure`. Trusting a proxy's header here
/// can only make the cookie stricter.
pub fn request_is_https(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_ascii_lowercase);
    text("origin").is_some_and(|o| o.starts_with("https://"))
        || text("x-forwarded-proto").is_some_and(|p| p.trim() == "https")
        || text("forwarded").is_some_and(|f| f.split([';', ',']).any(|kv| kv.trim() == "proto=https"))
}

/// Bounds on login attempts.
#[derive(Clone, Debug)]
pub struct LoginLimits {
    /// Failures for one user name within the window that lock it.
    pub user_failures_max: u32,
    /// Failures from one client address (an IPv6 /64) within the window that lock it;
    /// higher than per user, since many people may share one address.
    pub address_failures_max: u32,
    /// The sliding window failures are counted in.
    pub failure_window_ms: i64,
    /// How long a lock lasts.
    pub lockout_ms: i64,
    /// User names and addresses tracked at once; bounds the limiter's memory.
    pub login_trackers_max: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            user_failures_max: 5,
            address_failures_max: 20,
            failure_window_ms: 15 * 60 * 1000,
            lockout_ms: 15 * 60 * 1000,
            login_trackers_max: 10_000,
        }
    }
}

/// What login failures are counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LoginKey {
    User(String),
    Address(IpAddr),
}

impl LoginKey {
    /// The key for a client address: IPv6 clients are counted per /64, since one host
    /// usually holds a whole /64; IPv4-mapped addresses count as IPv4.
    pub fn address(ip: IpAddr) -> LoginKey {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => LoginKey::Address(IpAddr::V4(v4)),
                None => {
                    let masked = u128::from(v6) & !((1u128 << 64) - 1);
                    LoginKey::Address(IpAddr::V6(masked.into()))
                }
            },
            v4 => LoginKey::Address(v4),
        }
    }
}

/// A login refused before the password was looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub retry_after_ms: i64,
}

/// A user name or address that has just been locked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lockout {
    pub key: LoginKey,
    pub until_ms: i64,
    pub failures: u32,
}

#[derive(Debug, Default)]
struct Tracker {
    /// Times of failures inside the window, oldest first; never more than the key's maximum.
    failures: VecDeque<i64>,
    /// Attempts begun and not yet finished: counted against the maximum, so parallel
    /// guesses cannot overshoot it.
    in_flight: u32,
    locked_until_ms: i64,
}

impl Tracker {
    fn forget_before(&mut self, cutoff_ms: i64) {
        while self.failures.front().is_some_and(|&t| t <= cutoff_ms) {
            self.failures.pop_front();
        }
    }

    fn idle(&self, now_ms: i64) -> bool {
        self.failures.is_empty() && self.in_flight == 0 && self.locked_until_ms <= now_ms
    }
}

/// Counts login failures per user name and per client address; pure (the caller passes
/// the time), so it is tested without a clock.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    trackers: HashMap<LoginKey, Tracker>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter { limits, trackers: HashMap::new() }
    }

    fn failures_max(&self, key: &LoginKey) -> u32 {
        match key {
            LoginKey::User(_) => self.limits.user_failures_max,
            LoginKey::Address(_) => self.limits.address_failures_max,
        }
    }

    /// Number of user names and addresses tracked now (at most `login_trackers_max`).
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.trackers.len()
    }

    /// Starts an attempt for `keys`, or refuses it while any of them is locked or has
    /// as many failures and attempts under way as it may have.
    pub fn begin(&mut self, keys: &[LoginKey], now_ms: i64) -> Result<(), Refused> {
        let cutoff = now_ms - self.limits.failure_window_ms;
        let mut retry_after_ms = 0;
        for key in keys {
            let max = self.failures_max(key);
            let window = self.limits.failure_window_ms;
            if let Some(t) = self.trackers.get_mut(key) {
                t.forget_before(cutoff);
                if t.locked_until_ms > now_ms {
                    retry_after_ms = retry_after_ms.max(t.locked_until_ms - now_ms);
                } else if t.failures.len() as u32 + t.in_flight >= max {
                    let oldest_leaves = t.failures.front().map_or(1000, |&first| first + window - now_ms);
                    retry_after_ms = retry_after_ms.max(oldest_leaves.max(1000));
                }
            }
        }
        if retry_after_ms > 0 {
            return Err(Refused { retry_after_ms });
        }
        let new_keys = keys.iter().filter(|k| !self.trackers.contains_key(k)).count();
        self.make_room(new_keys, now_ms)?;
        for key in keys {
            self.trackers.entry(key.clone()).or_default().in_flight += 1;
        }
        Ok(())
    }

    /// Ends an attempt begun with the same `keys`. A failure counts against every key and
    /// may lock them (returned, to be recorded); a success clears the user name's
    /// failures but not the address's, so one good account does not reset the count of
    /// guesses at others.
    pub fn finish(&mut self, keys: &[LoginKey], succeeded: bool, now_ms: i64) -> Vec<Lockout> {
        let cutoff = now_ms - self.limits.failure_window_ms;
        let mut locked = Vec::new();
        for key in keys {
            let max = self.failures_max(key);
            let lockout_ms = self.limits.lockout_ms;
            if !self.trackers.contains_key(key) && (succeeded || self.make_room(1, now_ms).is_err()) {
                continue;
            }
            let t = self.trackers.entry(key.clone()).or_default();
            t.in_flight = t.in_flight.saturating_sub(1);
            t.forget_before(cutoff);
            if succeeded {
                if matches!(key, LoginKey::User(_)) {
                    t.failures.clear();
                }
            } else {
                t.failures.push_back(now_ms);
                if t.failures.len() as u32 >= max {
                    t.failures.clear();
                    t.locked_until_ms = now_ms + lockout_ms;
                    locked.push(Lockout { key: key.clone(), until_ms: t.locked_until_ms, failures: max });
                }
            }
            if t.idle(now_ms) {
                self.trackers.remove(key);
            }
        }
        locked
    }

    /// Makes room for `needed` new trackers: first forgets idle ones, then the unlocked
    /// one whose last failure is oldest. Locked keys and attempts under way are kept, so
    /// a flood of new names cannot unlock anyone; if only those remain, the attempt is
    /// refused until the first lock ends.
    fn make_room(&mut self, needed: usize, now_ms: i64) -> Result<(), Refused> {
        let max = self.limits.login_trackers_max;
        if self.trackers.len() + needed <= max {
            return Ok(());
        }
        let cutoff = now_ms - self.limits.failure_window_ms;
        self.trackers.retain(|_, t| {
            t.forget_before(cutoff);
            !t.idle(now_ms)
        });
        while self.trackers.len() + needed > max {
            let evictable = self
                .trackers
                .iter()
                .filter(|(_, t)| t.in_flight == 0 && t.locked_until_ms <= now_ms)
                .min_by_key(|(_, t)| t.failures.back().copied().unwrap_or(i64::MIN))
                .map(|(k, _)| k.clone());
            let Some(key) = evictable else {
                let first_unlock = self.trackers.values().map(|t| t.locked_until_ms).filter(|&u| u > now_ms).min();
                return Err(Refused { retry_after_ms: first_unlock.map_or(1000, |u| (u - now_ms).max(1000)) });
            };
            self.trackers.remove(&key);
        }
        Ok(())
    }
}

/// The station's login limiter, shared by the login route.
#[derive(Debug)]
pub struct LoginGuard {
    limiter: Mutex<LoginLimiter>,
}

impl LoginGuard {
    pub fn new(limits: LoginLimits) -> Arc<LoginGuard> {
        Arc::new(LoginGuard { limiter: Mutex::new(LoginLimiter::new(limits)) })
    }

    fn with<R>(&self, f: impl FnOnce(&mut LoginLimiter) -> R) -> R {
        // The limiter's state stays consistent at every step, so a panic elsewhere while
        // it was held leaves nothing half-done.
        let mut limiter = self.limiter.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut limiter)
    }

    /// Begins an attempt by `user` from `address`; see [`LoginLimiter::begin`].
    pub fn begin(self: &Arc<Self>, user: &str, address: Option<IpAddr>, now_ms: i64) -> Result<Attempt, Refused> {
        let mut keys = vec![LoginKey::User(user.to_owned())];
        keys.extend(address.map(LoginKey::address));
        self.with(|l| l.begin(&keys, now_ms))?;
        Ok(Attempt { guard: self.clone(), keys, finished: false })
    }
}

/// A login attempt under way. Dropped without [`Attempt::finish`] (the client went away
/// during the password check), it counts as a failure.
#[derive(Debug)]
pub struct Attempt {
    guard: Arc<LoginGuard>,
    keys: Vec<LoginKey>,
    finished: bool,
}

impl Attempt {
    pub fn finish(mut self, succeeded: bool, now_ms: i64) -> Vec<Lockout> {
        self.finished = true;
        self.guard.with(|l| l.finish(&self.keys, succeeded, now_ms))
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.finished {
            let locked = self.guard.with(|l| l.finish(&self.keys, false, crate::now_ms()));
            for lock in locked {
                tracing::warn!(key = ?lock.key, "login locked after an abandoned attempt");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60 * 1000;

    fn user(name: &str) -> LoginKey {
        LoginKey::User(name.into())
    }

    fn fail(l: &mut LoginLimiter, keys: &[LoginKey], now: i64) -> Result<Vec<Lockout>, Refused> {
        l.begin(keys, now)?;
        Ok(l.finish(keys, false, now))
    }

    #[test]
    fn five_failures_in_the_window_lock_the_user_for_the_lockout() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let keys = [user("duty")];
        for i in 0..4 {
            assert_eq!(fail(&mut l, &keys, i * MIN), Ok(vec![]));
        }
        let locked = fail(&mut l, &keys, 4 * MIN).expect("fifth attempt is allowed");
        assert_eq!(locked, vec![Lockout { key: user("duty"), until_ms: 19 * MIN, failures: 5 }]);
        assert_eq!(l.begin(&keys, 5 * MIN), Err(Refused { retry_after_ms: 14 * MIN }));
        // Another user is not affected, and the lock ends by itself.
        assert!(l.begin(&[user("other")], 5 * MIN).is_ok());
        assert!(l.begin(&keys, 19 * MIN).is_ok());
    }

    #[test]
    fn old_failures_leave_the_window_and_success_clears_the_user() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let keys = [user("duty")];
        for i in 0..4 {
            fail(&mut l, &keys, i * MIN).expect("allowed");
        }
        // At 16 minutes the first failure (at 0) has left the 15-minute window.
        assert_eq!(fail(&mut l, &keys, 16 * MIN), Ok(vec![]));
        l.begin(&keys, 17 * MIN).expect("allowed");
        assert!(l.finish(&keys, true, 17 * MIN).is_empty());
        assert_eq!(l.tracked(), 0, "a success leaves nothing to remember");
        for i in 0..4 {
            assert_eq!(fail(&mut l, &keys, 18 * MIN + i), Ok(vec![]));
        }
    }

    #[test]
    fn parallel_attempts_cannot_overshoot_the_maximum() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let keys = [user("duty")];
        for _ in 0..5 {
            l.begin(&keys, 0).expect("allowed");
        }
        assert!(l.begin(&keys, 0).is_err(), "a sixth guess while five are under way");
    }

    #[test]
    fn an_address_is_locked_across_user_names_and_a_success_does_not_clear_it() {
        let mut l = LoginLimiter::new(LoginLimits::default());
        let ip = LoginKey::address("192.0.2.7".parse().expect("ip"));
        for i in 0..19 {
            let keys = [user(&format!("u{i}")), ip.clone()];
            assert_eq!(fail(&mut l, &keys, i), Ok(vec![]));
        }
        let good = [user("real"), ip.clone()];
        l.begin(&good, 20).expect("allowed");
        l.finish(&good, true, 20);
        let locked = fail(&mut l, &[user("u19"), ip.clone()], 21).expect("allowed");
        assert_eq!(locked.iter().map(|x| &x.key).collect::<Vec<_>>(), vec![&ip]);
        assert!(l.begin(&[user("real"), ip], 22).is_err());
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a = LoginKey::address("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = LoginKey::address("2001:db8:1:2:bbbb::9".parse().expect("ip"));
        let c = LoginKey::address("2001:db8:1:3::1".parse().expect("ip"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = LoginKey::address("::ffff:192.0.2.1".parse().expect("ip"));
        assert_eq!(mapped, LoginKey::address("192.0.2.1".parse().expect("ip")));
    }

    #[test]
    fn memory_is_bounded_and_a_flood_of_names_unlocks_nobody() {
        let limits = LoginLimits { login_trackers_max: 3, ..LoginLimits::default() };
        let mut l = LoginLimiter::new(limits);
        for i in 0..5 {
            fail(&mut l, &[user("victim")], i).expect("allowed");
        }
        for i in 0..100 {
            let _ = fail(&mut l, &[user(&format!("flood{i}"))], 10 + i);
            assert!(l.tracked() <= 3);
        }
        assert!(l.begin(&[user("victim")], 200).is_err(), "still locked");
    }

    #[test]
    fn when_only_locked_keys_remain_new_names_wait_for_the_first_unlock() {
        let limits = LoginLimits { login_trackers_max: 1, ..LoginLimits::default() };
        let mut l = LoginLimiter::new(limits);
        for i in 0..5 {
            fail(&mut l, &[user("a")], i).expect("allowed");
        }
        let refused = l.begin(&[user("b")], 10).expect_err("no room");
        assert_eq!(refused.retry_after_ms, 4 + 15 * MIN - 10);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn origins_are_judged_by_fetch_metadata_then_origin_then_referer() {
        let host = || Some("127.0.0.1:8470".to_owned());
        let check = |pairs: &[(&'static str, &str)]| request_origin(&headers(pairs), host());
        assert_eq!(check(&[("sec-fetch-site", "same-origin")]), Origin::Same);
        assert!(matches!(
            check(&[("sec-fetch-site", "cross-site"), ("origin", "http://127.0.0.1:8470")]),
            Origin::Cross(_)
        ));
        assert_eq!(check(&[("origin", "http://127.0.0.1:8470")]), Origin::Same);
        assert!(matches!(check(&[("origin", "http://127.0.0.1:8471")]), Origin::Cross(_)));
        assert!(matches!(check(&[("origin", "null")]), Origin::Cross(_)));
        assert!(matches!(check(&[("origin", "http://evil@127.0.0.1:8470")]), Origin::Cross(_)));
        assert_eq!(check(&[("referer", "http://127.0.0.1:8470/index.html?x")]), Origin::Same);
        assert!(matches!(check(&[("referer", "http://127.0.0.1:8470.evil.example/")]), Origin::Cross(_)));
        assert_eq!(check(&[]), Origin::Unknown);
        let default_port =
            request_origin(&headers(&[("origin", "https://hotline.example")]), Some("hotline.example:443".into()));
        assert_eq!(default_port, Origin::Same);
        let v6 = request_origin(&headers(&[("origin", "http://[::1]:8470")]), Some("[::1]:8470".into()));
        assert_eq!(v6, Origin::Same);
    }

    #[test]
    fn https_is_recognised_directly_or_from_a_proxy() {
        assert!(request_is_https(&headers(&[("origin", "https://h.example")])));
        assert!(request_is_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(request_is_https(&headers(&[("forwarded", "for=192.0.2.1;proto=https")])));
        assert!(!request_is_https(&headers(&[("origin", "http://127.0.0.1:1")])));
    }
}
