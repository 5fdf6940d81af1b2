//! What tests read from a running station's API: its lines, the messages on one, and
//! the event stream. Each helper polls or pages until it has an answer, so the callers
//! can assert on the result without loops of their own.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;

use crate::client::{Answer, Client};
use crate::station::Station;

impl Station {
    /// `GET /api/v1/lines`, or `None` without a 200 answer.
    pub fn lines(&self) -> Option<Vec<Value>> {
        match self.call("GET", "/api/v1/lines", None, Duration::from_secs(5)) {
            Answer::Http(200, Value::Array(lines)) => Some(lines),
            _ => None,
        }
    }

    /// This station's view of its line to `peer`: (state, remote address).
    pub fn line(&self, peer: &str) -> Option<(String, Option<String>)> {
        let lines = self.lines()?;
        let line = lines.iter().find(|l| l["peer"] == peer)?;
        Some((line["state"].as_str()?.to_owned(), line["remote"].as_str().map(Into::into)))
    }

    /// The state of the line to `peer` (`up`, `connecting`, `down`, …).
    pub fn line_state(&self, peer: &str) -> Option<String> {
        self.line(peer).map(|(state, _)| state)
    }

    /// Polls until the line to `peer` is in state `want`; `false` after `timeout`.
    pub fn wait_line(&self, peer: &str, want: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.line_state(peer).as_deref() == Some(want) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Every message on the line to `peer`, both directions, paging through `?after=`.
    pub fn messages(&self, peer: &str) -> anyhow::Result<Vec<Value>> {
        let mut out: Vec<Value> = Vec::new();
        loop {
            let after = out.last().and_then(|m| m["id"].as_str()).map(|id| format!("&after={id}")).unwrap_or_default();
            let (status, v) = self.api("GET", &format!("/api/v1/lines/{peer}/messages?limit=1000{after}"), None);
            if status != 200 {
                bail!("{}: list messages to {peer}: {status} {v}", self.name);
            }
            let page = v.as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                return Ok(out);
            }
            out.extend(page);
        }
    }

    /// Reads the event stream from the start until an event of `kind` whose data contains
    /// `needle` arrives or `timeout` passes; returns that event's data. Reconnects when the
    /// stream breaks (the station may be restarting).
    pub fn wait_event(&self, kind: &str, needle: &str, timeout: Duration) -> Option<String> {
        let client = self.client();
        let mut found = None;
        client.host.run(&mut || found = read_events_until(&client, kind, needle, timeout));
        found
    }
}

/// The body of [`Station::wait_event`], on the station's host.
fn read_events_until(client: &Client, kind: &str, needle: &str, timeout: Duration) -> Option<String> {
    use std::io::BufRead as _;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder().timeout_global(Some(deadline - Instant::now())).build(),
        );
        let Ok(resp) = client.authorize(agent.get(&client.url("/api/v1/events?after=0"))).call() else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        let reader = std::io::BufReader::new(resp.into_body().into_reader());
        let mut current = String::new();
        for line in reader.lines() {
            let Ok(line) = line else { break };
            if let Some(event) = line.strip_prefix("event: ") {
                current = event.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ")
                && current == kind
                && data.contains(needle)
            {
                return Some(data.to_owned());
            }
        }
    }
    None
}
