//! What stands in front of every handler: the route table's rules, cross-origin refusal
//! for cookie sessions, body limits and security headers (the login limiter is its own
//! room, [`super::login_limit`]).
//!
//! The console authenticates with a cookie, which a browser attaches to requests that
//! other sites make it send; so a state-changing request that arrives with the session
//! cookie must show that it came from the console's own origin (`Sec-Fetch-Site`, else
//! `Origin`, else `Referer`). Bearer-token requests need no such check: a browser never
//! adds a token by itself. Every route reads at most its table's body limit
//! ([`super::roles`]), so no handler buffers more than its route needs.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use futures_util::StreamExt as _;

use super::listener::BodyReadDeadline;
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
    let deadline = parts.extensions.get::<BodyReadDeadline>().map(|d| d.0);
    let rule = match roles::lookup(&parts.method, parts.uri.path()) {
        Lookup::Route(rule) => rule,
        Lookup::Console if parts.method == Method::GET || parts.method == Method::HEAD => {
            let body = match read_body(body, roles::no_body_bytes_max, deadline).await {
                Ok(body) => body,
                Err(refusal) => return Ok(refusal),
            };
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
    // A declared length over the limit is refused before anything is read, but only after
    // the credentials: someone without any learns nothing about a route, not even its limit.
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let declared_too_large = declared.is_some_and(|n| n > rule.body_bytes_max as u64);
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
    if declared_too_large {
        return Err(too_large(rule.body_bytes_max));
    }
    let body = match read_body(body, rule.body_bytes_max, deadline).await {
        Ok(body) => body,
        Err(refusal) => return Ok(refusal),
    };
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
/// without Content-Length is counted as it arrives) or when `deadline` (the listener's
/// [`BodyReadDeadline`]) passes first: a body that trickles in is cut, with `408` and the
/// connection closed. The refusal is the answer to send.
async fn read_body(body: Body, limit: usize, deadline: Option<tokio::time::Instant>) -> Result<Body, Response> {
    let read = async {
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
    };
    let outcome = match deadline {
        Some(deadline) => match tokio::time::timeout_at(deadline, read).await {
            Ok(outcome) => outcome,
            Err(_) => return Err(body_timed_out()),
        },
        None => read.await,
    };
    outcome.map_err(|e| e.into_response())
}

/// `408` for a body that did not arrive in time. `ApiError` has no such variant yet, so
/// the answer is built here in its shape (`{"error": {"code", "message"}}`).
fn body_timed_out() -> Response {
    let body = crate::error::ErrorBody {
        error: crate::error::ErrorDetail {
            code: "body_timeout",
            message: "the request body did not arrive in time; send it at once after the header".into(),
        },
    };
    let mut resp = (axum::http::StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response();
    resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
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

#[cfg(test)]
mod tests {
    use super::*;

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
