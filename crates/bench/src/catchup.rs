//! Catch-up: messages queued at alpha while the line is down (bravo stopped), then the time
//! from bravo's start, and from the line coming up, until alpha has every receipt.
//!
//! Queuing goes through the HTTP API like any operator's message, so its rate is also the
//! station's sustained rate of accepted, signed, synced record appends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use hotline_testkit::Station;
use serde::Serialize;

use crate::api::Api;

/// Requests in flight while queueing.
#[allow(non_upper_case_globals)]
pub const queue_concurrency: usize = 32;

#[derive(Clone, Debug, Serialize)]
pub struct CatchUp {
    pub messages: usize,
    pub queue_s: f64,
    pub queue_per_s: f64,
    pub queue_concurrency: usize,
    pub bravo_start_to_line_up_s: f64,
    pub line_up_to_all_delivered_s: f64,
    pub bravo_start_to_all_delivered_s: f64,
    /// Messages per second from the line coming up until all are delivered.
    pub catchup_per_s: f64,
}

/// Queues `count` messages with `queue_concurrency` requests in flight; returns seconds.
async fn queue(alpha: &Station, count: usize, text: &str) -> anyhow::Result<f64> {
    let api = Api::of(alpha)?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..queue_concurrency {
        let (api, next, text) = (api.clone(), next.clone(), text.to_owned());
        workers.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count {
                api.send("bravo", &text).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    Ok(started.elapsed().as_secs_f64())
}

pub async fn run(alpha: &Station, bravo: &mut Station, count: usize, text: &str) -> anyhow::Result<CatchUp> {
    let api = Api::of(alpha)?;
    bravo.stop();
    let queue_s = queue(alpha, count, text).await?;
    let depth = api.metric("hotline_queue_depth{peer=\"bravo\"}").await?;
    if (depth as usize) < count {
        bail!("only {depth} items queued for bravo after queueing {count}");
    }
    eprintln!("  queued {count} in {queue_s:.1} s; starting bravo");
    // Count deliveries on alpha's event stream: cheaper for the station than polling
    // `/metrics`, whose queue depth is a scan of the outbox.
    let mut events = api.events().await?;
    let spawned = Instant::now();
    bravo.spawn()?;
    let mut line_up = None;
    let mut delivered = 0;
    let deadline = spawned + Duration::from_secs(900);
    while delivered < count {
        if Instant::now() > deadline {
            bail!("catch-up: {delivered} of {count} delivered after 900 s");
        }
        let Ok(Some((kind, data))) = tokio::time::timeout(Duration::from_secs(30), events.next()).await? else {
            bail!("catch-up: event stream ended after {delivered} deliveries");
        };
        match kind.as_str() {
            "message.delivered" => delivered += 1,
            "line.state" if line_up.is_none() && data.contains("\"state\":\"up\"") => line_up = Some(Instant::now()),
            _ => {}
        }
    }
    let done = Instant::now();
    let up = line_up.unwrap_or(spawned);
    let catchup = done.duration_since(up).as_secs_f64();
    Ok(CatchUp {
        messages: count,
        queue_s,
        queue_per_s: count as f64 / queue_s,
        queue_concurrency,
        bravo_start_to_line_up_s: up.duration_since(spawned).as_secs_f64(),
        line_up_to_all_delivered_s: catchup,
        bravo_start_to_all_delivered_s: done.duration_since(spawned).as_secs_f64(),
        catchup_per_s: count as f64 / catchup,
    })
}
