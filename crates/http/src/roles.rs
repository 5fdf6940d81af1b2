//! Who may call which route, and how large a body each route takes: one table.
//!
//! The API's middleware ([`super::guard::enforce`]) looks every request up here before
//! any handler runs, so the table is the rule itself, not a description of it: a route
//! with no row is not served (`404` once authenticated), and a route's row decides
//! whether it needs credentials, which roles it admits and how many body bytes it reads.
//! The tests read the OpenAPI document and fail if an operation has no row (or a row
//! names no operation), then call every route as every role. Roles rank auditor (reads
//! and verifies only) < operator (sends, acknowledges) < supervisor (also manages users,
//! lines and alarms), as PRODUCT.md defines them.

use axum::http::Method;
use hotline_store::Role;

use super::state::request_bytes_max;

/// Largest login body: a user name and a password of at most
/// [`hotline_core::auth::password_bytes_max`] bytes, every byte escaped as `\u00XX` in the worst case.
#[allow(non_upper_case_globals)]
pub const login_request_bytes_max: usize = 8 * 1024;
/// Largest notice body: a 10,000-vertex area (`hotline_notice::Limits::vertices_max`)
/// pretty-printed at up to about 100 bytes a position, plus the title and remarks.
#[allow(non_upper_case_globals)]
pub const notice_request_bytes_max: usize = 2 * 1024 * 1024;
/// Largest line administration body: eight addresses and a verifier key fit many
/// times over.
#[allow(non_upper_case_globals)]
pub const line_request_bytes_max: usize = 16 * 1024;
/// Largest media offer body: an SDP offer of at most `hotline_media::Limits::sdp_bytes_max`
/// (32 KiB) in JSON, with headroom for escaped line ends.
#[allow(non_upper_case_globals)]
pub const media_request_bytes_max: usize = 40 * 1024;
/// Largest recording deletion body: a reason of at most
/// `hotline_core::recording_retention::deletion_reason_bytes_max` bytes, escaped.
#[allow(non_upper_case_globals)]
pub const recording_deletion_bytes_max: usize = 8 * 1024;
/// Routes that read no body take none: any body byte is refused.
#[allow(non_upper_case_globals)]
pub const no_body_bytes_max: usize = 0;
/// The largest body any route takes; the router's backstop limit.
#[allow(non_upper_case_globals)]
pub const route_body_bytes_max: usize = notice_request_bytes_max;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials: the login and the liveness probe.
    Public,
    /// Any logged-in role, auditors included: reading, and ending one's own session.
    Any,
    /// Operators and supervisors: sending, acknowledging, filing notices, watch checks.
    Operator,
    /// Supervisors only: managing users, lines and alarms.
    Supervisor,
}

impl Access {
    /// Whether a user with `role` may call a route with this access.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Any => true,
            Access::Operator => matches!(role, Role::Operator | Role::Supervisor),
            Access::Supervisor => role == Role::Supervisor,
        }
    }

    /// The least role admitted, for error messages (`None` for public routes).
    pub fn least_role(self) -> Option<Role> {
        match self {
            Access::Public => None,
            Access::Any => Some(Role::Auditor),
            Access::Operator => Some(Role::Operator),
            Access::Supervisor => Some(Role::Supervisor),
        }
    }
}

/// One route: method, path pattern as in the OpenAPI document (`{name}` matches one
/// non-empty segment), who may call it, and its body limit.
#[derive(Debug)]
pub struct RouteRule {
    /// Upper case, as on the wire; `GET` also admits `HEAD`.
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub body_bytes_max: usize,
}

const fn rule(method: &'static str, path: &'static str, access: Access, body_bytes_max: usize) -> RouteRule {
    RouteRule { method, path, access, body_bytes_max }
}

use Access::{Any, Operator, Public, Supervisor};

/// Every route of the API. Keep it in the order of `router::router`.
pub const ROUTE_RULES: &[RouteRule] = &[
    rule("POST", "/api/v1/login", Public, login_request_bytes_max),
    rule("GET", "/healthz", Public, no_body_bytes_max),
    rule("GET", "/api/v1/station", Any, no_body_bytes_max),
    rule("GET", "/api/v1/lines", Any, no_body_bytes_max),
    rule("POST", "/api/v1/lines", Supervisor, line_request_bytes_max),
    rule("PATCH", "/api/v1/lines/{peer}", Supervisor, line_request_bytes_max),
    rule("DELETE", "/api/v1/lines/{peer}", Supervisor, no_body_bytes_max),
    rule("POST", "/api/v1/lines/{peer}/messages", Operator, request_bytes_max),
    rule("GET", "/api/v1/lines/{peer}/messages", Any, no_body_bytes_max),
    rule("GET", "/api/v1/messages/{id}", Any, no_body_bytes_max),
    rule("POST", "/api/v1/messages/{id}/ack", Operator, no_body_bytes_max),
    rule("GET", "/api/v1/events", Any, no_body_bytes_max),
    // Ending one's own session changes nothing but that session: auditors may.
    rule("POST", "/api/v1/logout", Any, no_body_bytes_max),
    rule("GET", "/api/v1/session", Any, no_body_bytes_max),
    rule("GET", "/metrics", Any, no_body_bytes_max),
    rule("POST", "/api/v1/lines/{peer}/notices", Operator, notice_request_bytes_max),
    rule("GET", "/api/v1/lines/{peer}/notices", Any, no_body_bytes_max),
    rule("PATCH", "/api/v1/notices/{id}", Operator, notice_request_bytes_max),
    rule("DELETE", "/api/v1/notices/{id}", Operator, no_body_bytes_max),
    rule("POST", "/api/v1/notices/{id}/ack", Operator, no_body_bytes_max),
    rule("GET", "/api/v1/conflicts", Any, no_body_bytes_max),
    rule("POST", "/api/v1/conflicts/{id}/ack", Operator, no_body_bytes_max),
    rule("POST", "/api/v1/lines/{peer}/watch-check", Operator, no_body_bytes_max),
    rule("GET", "/api/v1/watch-checks", Any, no_body_bytes_max),
    rule("POST", "/api/v1/watch-checks/{id}/answer", Operator, no_body_bytes_max),
    rule("GET", "/api/v1/lines/{peer}/responsiveness", Any, no_body_bytes_max),
    rule("GET", "/api/v1/alarms", Any, no_body_bytes_max),
    rule("POST", "/api/v1/alarms/{id}/ack", Operator, no_body_bytes_max),
    rule("POST", "/api/v1/alarms/{id}/clear", Supervisor, no_body_bytes_max),
    rule("GET", "/api/v1/log/checkpoint", Any, no_body_bytes_max),
    rule("GET", "/api/v1/log/export", Any, no_body_bytes_max),
    rule("POST", "/api/v1/lines/{peer}/calls", Operator, no_body_bytes_max),
    rule("GET", "/api/v1/calls", Any, no_body_bytes_max),
    rule("GET", "/api/v1/calls/{id}", Any, no_body_bytes_max),
    rule("GET", "/api/v1/calls/{id}/recording", Any, no_body_bytes_max),
    rule("POST", "/api/v1/calls/{id}/recording/delete", Supervisor, recording_deletion_bytes_max),
    rule("POST", "/api/v1/calls/{id}/answer", Operator, no_body_bytes_max),
    rule("POST", "/api/v1/calls/{id}/decline", Operator, no_body_bytes_max),
    rule("POST", "/api/v1/calls/{id}/hangup", Operator, no_body_bytes_max),
    rule("POST", "/api/v1/calls/{id}/media", Operator, media_request_bytes_max),
    rule("GET", "/api/v1/users", Supervisor, no_body_bytes_max),
    rule("POST", "/api/v1/users", Supervisor, login_request_bytes_max),
    rule("PATCH", "/api/v1/users/{name}", Supervisor, login_request_bytes_max),
    rule("DELETE", "/api/v1/users/{name}", Supervisor, no_body_bytes_max),
    // Any user changes their own password (proving the current one).
    rule("POST", "/api/v1/session/password", Any, login_request_bytes_max),
    rule("GET", "/api/v1/tokens", Supervisor, no_body_bytes_max),
    rule("POST", "/api/v1/tokens", Supervisor, login_request_bytes_max),
    rule("DELETE", "/api/v1/tokens/{id}", Supervisor, no_body_bytes_max),
    rule("GET", "/api/v1/openapi.json", Any, no_body_bytes_max),
];

/// What the table says about a request.
#[derive(Debug)]
pub enum Lookup {
    /// A route of the API.
    Route(&'static RouteRule),
    /// A path of the API whose routes take other methods (`Allow` lists them).
    OtherMethods(Vec<&'static str>),
    /// A path under `/api/` that is no route.
    NoRoute,
    /// Not the API: the console's files, public, read-only.
    Console,
}

/// Looks a request up in [`ROUTE_RULES`].
pub fn lookup(method: &Method, path: &str) -> Lookup {
    let method = if *method == Method::HEAD { "GET" } else { method.as_str() };
    let mut others = Vec::new();
    for r in ROUTE_RULES {
        if path_matches(r.path, path) {
            if r.method == method {
                return Lookup::Route(r);
            }
            others.push(r.method);
        }
    }
    if !others.is_empty() {
        Lookup::OtherMethods(others)
    } else if is_api_path(path) {
        Lookup::NoRoute
    } else {
        Lookup::Console
    }
}

/// Whether `path` belongs to the API (JSON answers, credentials) rather than the console.
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api" || path == "/metrics" || path == "/healthz"
}

/// Whether a concrete `path` matches `pattern`, where `{name}` stands for one non-empty segment.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_one_segment_per_parameter() {
        assert!(path_matches("/api/v1/notices/{id}", "/api/v1/notices/abc"));
        assert!(!path_matches("/api/v1/notices/{id}", "/api/v1/notices/"));
        assert!(!path_matches("/api/v1/notices/{id}", "/api/v1/notices/a/b"));
        assert!(!path_matches("/api/v1/lines", "/api/v1/lines/"));
        assert!(path_matches("/api/v1/lines/{peer}/messages", "/api/v1/lines/bravo/messages"));
    }

    #[test]
    fn lookups_name_the_rule_or_say_why_not() {
        let post = Method::POST;
        assert!(matches!(lookup(&post, "/api/v1/alarms/x/clear"), Lookup::Route(r) if r.access == Supervisor));
        assert!(matches!(lookup(&Method::HEAD, "/api/v1/lines"), Lookup::Route(r) if r.method == "GET"));
        assert!(
            matches!(lookup(&Method::PUT, "/api/v1/notices/x"), Lookup::OtherMethods(m) if m == ["PATCH", "DELETE"])
        );
        assert!(matches!(lookup(&Method::GET, "/api/v2/nothing"), Lookup::NoRoute));
        assert!(matches!(lookup(&Method::GET, "/js/app.js"), Lookup::Console));
    }

    #[test]
    fn every_rule_is_unique_and_only_bodies_that_are_read_are_admitted() {
        for (i, a) in ROUTE_RULES.iter().enumerate() {
            for b in &ROUTE_RULES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {} twice", a.method, a.path);
            }
            if a.method == "GET" || a.method == "DELETE" {
                assert_eq!(a.body_bytes_max, 0, "{} {} reads no body", a.method, a.path);
            }
            assert!(a.body_bytes_max <= route_body_bytes_max);
        }
    }

    #[test]
    fn auditors_read_operators_act_supervisors_manage() {
        assert!(Any.admits(Role::Auditor) && !Operator.admits(Role::Auditor));
        assert!(Operator.admits(Role::Operator) && Operator.admits(Role::Supervisor));
        assert!(!Supervisor.admits(Role::Operator) && Supervisor.admits(Role::Supervisor));
    }
}
