//! Blocking HTTP calls to one station's API with its operator token, made from the
//! station's [`Host`].
//!
//! A call never panics and never fails outright: the answer is an HTTP status and JSON
//! body, or [`Answer::NoAnswer`] when the station gave none. Fault scenarios need that
//! difference (a request without an answer may or may not have been acted on), and
//! tests assert on statuses rather than unwrap results.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::host::Host;

/// The most a JSON answer may hold: an export of a long fault scenario is large.
const ANSWER_BYTES_MAX: u64 = 512 * 1024 * 1024;

/// The answer to one API call.
#[derive(Debug)]
pub enum Answer {
    /// An HTTP status and the body as JSON (`Value::Null` when it is not JSON).
    Http(u16, Value),
    /// No HTTP answer (refused connection, reset, timeout): the request may or may not
    /// have been acted on.
    NoAnswer(String),
}

/// What an API call needs: where, from which host, with which token. Cheap to clone, so
/// a sender thread can own one.
#[derive(Clone, Debug)]
pub struct Client {
    /// `IP:PORT` of the station's HTTP listener, as seen from `host`.
    pub http_addr: String,
    /// Bearer token; empty for a station without an operator.
    pub token: String,
    pub host: Arc<dyn Host>,
}

impl Client {
    /// One API call: `GET` and `DELETE` with any `body` ignored, `PATCH` as it says,
    /// anything else as `POST` (JSON when there is a body).
    pub fn call(&self, method: &str, path: &str, body: Option<Value>, timeout: Duration) -> Answer {
        let mut body = body;
        let mut answer = None;
        self.host.run(&mut || answer = Some(self.call_here(method, path, body.take(), timeout)));
        answer.unwrap_or_else(|| Answer::NoAnswer(format!("{:?} did not run the call", self.host)))
    }

    /// (status, JSON body) of a call with a 20 s timeout; status 0, with the error as the
    /// body, when there was no HTTP answer.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        match self.call(method, path, body, Duration::from_secs(20)) {
            Answer::Http(status, v) => (status, v),
            Answer::NoAnswer(e) => (0, Value::String(e)),
        }
    }

    /// The URL of `path` on this station.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr)
    }

    /// Adds the token, if there is one (a station without an operator has none, and
    /// `/healthz` needs none).
    pub(crate) fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        if self.token.is_empty() { request } else { request.header("Authorization", &format!("Bearer {}", self.token)) }
    }

    /// The call itself, on the current thread.
    fn call_here(&self, method: &str, path: &str, body: Option<Value>, timeout: Duration) -> Answer {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder().http_status_as_error(false).timeout_global(Some(timeout)).build(),
        );
        let url = self.url(path);
        let result = match (method, body) {
            ("GET", _) => self.authorize(agent.get(&url)).call(),
            ("DELETE", _) => self.authorize(agent.delete(&url)).call(),
            ("PATCH", Some(b)) => self.authorize(agent.patch(&url)).send_json(&b),
            ("PATCH", None) => self.authorize(agent.patch(&url)).send_empty(),
            (_, Some(b)) => self.authorize(agent.post(&url)).send_json(&b),
            (_, None) => self.authorize(agent.post(&url)).send_empty(),
        };
        match result {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let v =
                    resp.body_mut().with_config().limit(ANSWER_BYTES_MAX).read_json::<Value>().unwrap_or(Value::Null);
                Answer::Http(status, v)
            }
            Err(e) => Answer::NoAnswer(e.to_string()),
        }
    }
}
