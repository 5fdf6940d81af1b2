//! The stations' HTTP API as the benchmarks drive it: many requests in flight on one
//! pooled async client, the event stream read event by event, gauges from `/metrics`.
//!
//! Making, starting and stopping the stations is `hotline-testkit`'s (blocking, and
//! outside what is timed); this is the part whose speed is measured.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use hotline_testkit::{Binary, Spec, Station};
use serde_json::{Value, json};

/// A loopback station in `base/name` as the benchmarks make them: it logs warnings only
/// (less work beside the measurement) and has no operator (a user is one more record
/// entry, and most stations here are only ever called by their peers).
pub fn spec(base: &Path, name: &str) -> anyhow::Result<Spec> {
    Ok(Spec { operator: false, log_filter: "warn".to_owned(), ..Spec::loopback(base, name)? })
}

/// [`spec`] with an operator, whose token [`Api::of`] uses.
pub fn operated(bin: &Binary, base: &Path, name: &str) -> anyhow::Result<Station> {
    Station::init(bin, Spec { operator: true, ..spec(base, name)? })
}

/// [`spec`] as it is: a station nobody calls but its peers.
pub fn unoperated(bin: &Binary, base: &Path, name: &str) -> anyhow::Result<Station> {
    Station::init(bin, spec(base, name)?)
}

/// Waits until `station`'s line to `peer` is up (a blocking poll: not part of a timing).
pub fn wait_line_up(station: &Station, peer: &str, timeout: Duration) -> anyhow::Result<()> {
    if !station.wait_line(peer, "up", timeout) {
        bail!(
            "{}: line to {peer} not up within {timeout:?}; log:
{}",
            station.name,
            station.log_tail(20)
        );
    }
    Ok(())
}

/// How many of `station`'s lines are `up` (0 when it does not answer).
pub fn lines_up(station: &Station) -> usize {
    station.lines().map_or(0, |lines| lines.iter().filter(|l| l["state"] == "up").count())
}

/// The HTTP API of one station, with its operator token.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    auth: String,
}

impl Api {
    /// The API of `station` with its operator token.
    pub fn of(station: &Station) -> anyhow::Result<Api> {
        Api::new(&station.url(), &station.token)
    }

    pub fn new(base: &str, token: &str) -> anyhow::Result<Api> {
        let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
        Ok(Api { client, base: base.to_owned(), auth: format!("Bearer {token}") })
    }

    /// `POST /api/v1/lines/{peer}/messages`; returns the message id.
    pub async fn send(&self, peer: &str, body: &str) -> anyhow::Result<String> {
        let resp = self
            .client
            .post(format!("{}/api/v1/lines/{peer}/messages", self.base))
            .header("Authorization", &self.auth)
            .json(&json!({"body": body}))
            .send()
            .await?;
        let status = resp.status();
        let v: Value = resp.json().await?;
        if status.as_u16() != 202 {
            bail!("POST message: {status} {v}");
        }
        v["id"].as_str().map(str::to_owned).context("no id in 202 answer")
    }

    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let resp = self.client.get(format!("{}{path}", self.base)).header("Authorization", &self.auth).send().await?;
        Ok(resp.error_for_status()?.json().await?)
    }

    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let resp = self.client.get(format!("{}{path}", self.base)).header("Authorization", &self.auth).send().await?;
        Ok(resp.error_for_status()?.text().await?)
    }

    /// A gauge from `/metrics`, e.g. `hotline_queue_depth{peer="bravo"}`.
    pub async fn metric(&self, name_and_labels: &str) -> anyhow::Result<f64> {
        let text = self.get_text("/metrics").await?;
        text.lines()
            .find_map(|l| l.strip_prefix(name_and_labels).and_then(|r| r.trim().parse().ok()))
            .with_context(|| format!("no {name_and_labels} in /metrics"))
    }

    /// Opens `GET /api/v1/events` from now on; returns once the server has subscribed.
    pub async fn events(&self) -> anyhow::Result<Events> {
        let resp = self
            .client
            .get(format!("{}/api/v1/events", self.base))
            .header("Authorization", &self.auth)
            .send()
            .await?
            .error_for_status()?;
        Ok(Events { resp, buf: Vec::new(), kind: String::new(), data: String::new() })
    }
}

/// A Server-Sent Events stream, read event by event.
pub struct Events {
    resp: reqwest::Response,
    buf: Vec<u8>,
    kind: String,
    data: String,
}

impl Events {
    /// The next event's (kind, data), or `None` when the stream ends.
    pub async fn next(&mut self) -> anyhow::Result<Option<(String, String)>> {
        loop {
            while let Some(nl) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                if line.is_empty() {
                    if !self.kind.is_empty() || !self.data.is_empty() {
                        return Ok(Some((std::mem::take(&mut self.kind), std::mem::take(&mut self.data))));
                    }
                } else if let Some(k) = line.strip_prefix("event:") {
                    self.kind = k.trim_start().to_owned();
                } else if let Some(d) = line.strip_prefix("data:") {
                    self.data.push_str(d.strip_prefix(' ').unwrap_or(d));
                }
            }
            match self.resp.chunk().await? {
                Some(bytes) => self.buf.extend_from_slice(&bytes),
                None => return Ok(None),
            }
        }
    }
}
