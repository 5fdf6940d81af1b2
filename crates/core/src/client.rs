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

/// What `hotline notice file` sends: the area from a GeoJSON file and the rest from flags
/// (or from the file, when it is already a whole notice or a Feature with properties).
pub struct NoticeOptions {
    pub url: String,
    pub token: String,
    pub line: String,
    pub file_text: String,
    pub fields: Vec<(&'static str, Option<Value>)>,
}

/// Builds the notice JSON from a GeoJSON geometry, Feature or whole notice, and flags.
pub fn notice_from_geojson(text: &str, fields: &[(&'static str, Option<Value>)]) -> Result<Value, ClientError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| ClientError::Refused(format!("the file is not JSON: {e}")))?;
    let mut notice = if doc.get("area").is_some() {
        doc
    } else if doc.get("type").and_then(Value::as_str) == Some("Feature") {
        let mut n = doc.get("properties").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
        n["area"] = doc.get("geometry").cloned().unwrap_or(Value::Null);
        n
    } else {
        json!({"area": doc})
    };
    for (name, value) in fields {
        if let Some(v) = value {
            if name.starts_with("altitude.") {
                let key = name.trim_start_matches("altitude.");
                if !notice["altitude"].is_object() {
                    notice["altitude"] = json!({});
                }
                notice["altitude"][key] = v.clone();
            } else {
                notice[*name] = v.clone();
            }
        }
    }
    Ok(notice)
}

/// Files the notice; returns its id.
pub async fn file_notice(o: NoticeOptions) -> Result<String, ClientError> {
    let notice = notice_from_geojson(&o.file_text, &o.fields)?;
    let base = o.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| ClientError::Unreachable { url: base.clone(), reason: e.to_string() })?;
    let url = format!("{base}/api/v1/lines/{}/notices", o.line);
    let resp = client
        .post(&url)
        .bearer_auth(&o.token)
        .json(&notice)
        .send()
        .await
        .map_err(|e| ClientError::Unreachable { url: base.clone(), reason: e.to_string() })?;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(refused(status, &answer));
    }
    Ok(answer.get("id").and_then(Value::as_str).unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_geometry_feature_or_notice_file_becomes_a_notice() {
        let fields = [("title", Some(json!("CAP"))), ("altitude.max_m", Some(json!(9000)))];
        let from_geometry =
            super::notice_from_geojson(r#"{"type":"Point","coordinates":[30,50],"radius_m":1000}"#, &fields)
                .expect("geometry");
        assert_eq!(from_geometry["area"]["type"], "Point");
        assert_eq!(from_geometry["title"], "CAP");
        assert_eq!(from_geometry["altitude"]["max_m"], 9000);
        let feature = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[30,50],"radius_m":1},"properties":{"kind":"other"}}"#;
        let from_feature = super::notice_from_geojson(feature, &[]).expect("feature");
        assert_eq!(from_feature["kind"], "other");
        assert_eq!(from_feature["area"]["coordinates"], json!([30, 50]));
        assert!(super::notice_from_geojson("not json", &[]).is_err());
    }
}
