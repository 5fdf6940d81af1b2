//! `hotline send`: a thin client of the HTTP API, as any script would be.
//!
//! It posts the message, prints the id, and with `--wait` polls the message until it
//! reaches the requested state, so a script can tell "accepted" from "on the far disk"
//! from "a person read it".

use std::time::Duration;

use serde_json::{Value, json};

/// Longest `--wait` before giving up.
#[allow(non_upper_case_globals)]
pub const wait_ms_max: u64 = 10 * 60 * 1000;
#[allow(non_upper_case_globals)]
const poll_interval_ms: u64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("set HOTLINE_TOKEN to an API token (`hotline token create DIR --user NAME`)")]
    NoToken,
    #[error("cannot reach the station at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the station refused: {0}")]
    Refused(String),
    #[error("the message {id} did not reach {want} within {seconds} s (it is {state})")]
    Timeout { id: String, want: String, seconds: u64, state: String },
}

pub struct SendOptions {
    pub url: String,
    pub token: String,
    pub line: String,
    pub precedence: Option<String>,
    pub lang: Option<String>,
    pub text: String,
    pub wait: Option<String>,
    pub wait_seconds: u64,
}

fn refused(status: reqwest::StatusCode, body: &Value) -> ClientError {
    let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no reason given");
    ClientError::Refused(format!("{message} (HTTP {})", status.as_u16()))
}

/// Sends and optionally waits; returns the message id.
pub async fn send(o: SendOptions) -> Result<String, ClientError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| ClientError::Unreachable { url: o.url.clone(), reason: e.to_string() })?;
    let base = o.url.trim_end_matches('/').to_owned();
    let unreachable = |e: reqwest::Error| ClientError::Unreachable { url: base.clone(), reason: e.to_string() };
    let mut body = json!({"body": o.text});
    if let Some(p) = &o.precedence {
        body["precedence"] = json!(p);
    }
    if let Some(l) = &o.lang {
        body["lang"] = json!(l);
    }
    let url = format!("{base}/api/v1/lines/{}/messages", o.line);
    let resp = client.post(&url).bearer_auth(&o.token).json(&body).send().await.map_err(unreachable)?;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(refused(status, &answer));
    }
    let id = answer.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    println!("{id}");
    let Some(want) = o.wait else { return Ok(id) };
    let rank = |s: &str| ["queued", "sent", "delivered", "acknowledged"].iter().position(|x| *x == s);
    let want_rank = rank(&want);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(o.wait_seconds);
    loop {
        let resp = client
            .get(format!("{base}/api/v1/messages/{id}"))
            .bearer_auth(&o.token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        let m: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(refused(status, &m));
        }
        let state = m.get("state").and_then(Value::as_str).unwrap_or("queued").to_owned();
        if rank(&state) >= want_rank {
            eprintln!("{state}");
            return Ok(id);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ClientError::Timeout { id, want, seconds: o.wait_seconds, state });
        }
        tokio::time::sleep(Duration::from_millis(poll_interval_ms)).await;
    }
}
