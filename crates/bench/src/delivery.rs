//! Durable delivery latency, open loop: send times are fixed in advance (`i / rate` after
//! the start), each send runs in its own task at its time, and latency runs from the
//! scheduled time, so a slow answer cannot hide queueing (no coordinated omission).
//!
//! For hotline the end of a round trip is alpha's `message.delivered` record entry on its
//! event stream: bravo has the message on disk, said so in a receipt, and alpha has
//! committed that receipt (docs: ARCHITECTURE.md, "The data flow of one message").

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::api::Api;
use crate::stats::{Dist, dist, ms};

/// One offered load on one system.
#[derive(Clone, Debug, Serialize)]
pub struct LoadResult {
    pub system: String,
    pub rate_per_s: f64,
    pub offered: usize,
    pub completed: usize,
    /// Sends that failed or never completed within the drain timeout.
    pub failed: usize,
    /// From the scheduled send time to the durable round trip's end.
    pub latency: Dist,
    /// From the scheduled send time to the sender's own acceptance (hotline: `202`,
    /// JetStream: the publish ack).
    pub accept: Dist,
    /// Messages per second actually completed over the run.
    pub achieved_per_s: f64,
}

/// Send times `i / rate` after `start`.
pub fn schedule(start: Instant, rate: f64, count: usize) -> Vec<Instant> {
    (0..count).map(|i| start + Duration::from_secs_f64(i as f64 / rate)).collect()
}

/// The message body: `len` bytes of readable text.
pub fn body(len: usize) -> String {
    "Radar contact, grid 38T, climbing through FL120. ".chars().cycle().take(len).collect()
}

/// Runs `count` messages at `rate` from alpha (`api`) to `peer`.
pub async fn hotline_load(
    api: &Api,
    peer: &str,
    rate: f64,
    count: usize,
    text: &str,
    drain_timeout: Duration,
) -> anyhow::Result<LoadResult> {
    let mut events = api.events().await?;
    let delivered: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let seen = delivered.clone();
    let reader = tokio::spawn(async move {
        while let Ok(Some((kind, data))) = events.next().await {
            if kind != "message.delivered" {
                continue;
            }
            let at = Instant::now();
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&data)
                && let Some(id) = v["id"].as_str()
            {
                seen.lock().expect("lock").insert(id.to_owned(), at);
            }
        }
    });
    let start = Instant::now() + Duration::from_millis(100);
    let times = schedule(start, rate, count);
    let mut sends = JoinSet::new();
    for (i, at) in times.iter().copied().enumerate() {
        tokio::time::sleep_until(at.into()).await;
        let api = api.clone();
        let (peer, text) = (peer.to_owned(), text.to_owned());
        sends.spawn(async move {
            let result = api.send(&peer, &text).await;
            (i, result, at.elapsed())
        });
    }
    let mut ids = Vec::with_capacity(count);
    let mut accept = Vec::with_capacity(count);
    let mut failed = 0;
    while let Some(joined) = sends.join_next().await {
        match joined {
            Ok((i, Ok(id), took)) => {
                ids.push((i, id));
                accept.push(ms(took));
            }
            Ok((_, Err(e), _)) => {
                failed += 1;
                eprintln!("  send failed: {e}");
            }
            Err(e) => {
                failed += 1;
                eprintln!("  send task failed: {e}");
            }
        }
    }
    let deadline = Instant::now() + drain_timeout;
    while Instant::now() < deadline {
        let all_seen = {
            let seen = delivered.lock().expect("lock");
            ids.iter().all(|(_, id)| seen.contains_key(id))
        };
        if all_seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    reader.abort();
    let seen = delivered.lock().expect("lock");
    let mut latency = Vec::with_capacity(ids.len());
    let mut last = start;
    for (i, id) in &ids {
        match seen.get(id) {
            Some(at) => {
                latency.push(ms(at.saturating_duration_since(times[*i])));
                last = last.max(*at);
            }
            None => failed += 1,
        }
    }
    let completed = latency.len();
    Ok(LoadResult {
        system: "hotline".into(),
        rate_per_s: rate,
        offered: count,
        completed,
        failed,
        achieved_per_s: completed as f64 / last.saturating_duration_since(start).as_secs_f64().max(1e-9),
        latency: dist(latency),
        accept: dist(accept),
    })
}
