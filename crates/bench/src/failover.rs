//! Failover: alpha knows bravo by two addresses, a TCP relay run here (primary) and
//! bravo's real line port (backup). Bravo knows alpha only by a dead address, so every
//! connection is alpha's dial. With the line up through the relay, the relay is either
//! killed (its sockets close, as when the primary listener's process dies) or frozen (it
//! stops forwarding and accepting but keeps its sockets open, as when a path goes silent),
//! and we time alpha's `line.state` events until the line is up again, on the backup.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hotline_testkit::{Binary, Station, free_port};
use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::api::{Api, operated, unoperated, wait_line_up};

/// A loopback TCP relay that can be killed or frozen.
struct Relay {
    accept: AbortHandle,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    frozen: watch::Sender<bool>,
}

impl Relay {
    async fn start(port: u16, target: SocketAddr) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (frozen, frozen_rx) = watch::channel(false);
        let list = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let task = tokio::spawn(pipe(socket, target, frozen_rx.clone()));
                list.lock().expect("lock").push(task.abort_handle());
            }
        });
        Ok(Relay { accept: accept.abort_handle(), connections, frozen })
    }

    /// Closes the listener and every relayed connection.
    fn kill(&self) {
        self.accept.abort();
        for c in self.connections.lock().expect("lock").iter() {
            c.abort();
        }
    }

    /// Closes the listener; relayed connections stay open and carry nothing more.
    fn freeze(&self) {
        self.accept.abort();
        let _ = self.frozen.send(true);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn pipe(mut a: TcpStream, target: SocketAddr, mut frozen: watch::Receiver<bool>) {
    let Ok(mut b) = TcpStream::connect(target).await else { return };
    let _ = (a.set_nodelay(true), b.set_nodelay(true));
    let (mut ar, mut aw) = a.split();
    let (mut br, mut bw) = b.split();
    let (mut x, mut y) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        tokio::select! {
            n = ar.read(&mut x) => match n {
                Ok(n) if n > 0 => if bw.write_all(&x[..n]).await.is_err() { return },
                _ => return,
            },
            n = br.read(&mut y) => match n {
                Ok(n) if n > 0 => if aw.write_all(&y[..n]).await.is_err() { return },
                _ => return,
            },
            _ = frozen.changed() => {
                // Hold both sockets open, silent, until the relay is dropped.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Trial {
    pub mode: String,
    /// From the cut to alpha's first `line.state` other than `up`.
    pub cut_to_not_up_s: f64,
    /// From the cut to the line `up` again.
    pub cut_to_up_s: f64,
    pub remote_after: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Failover {
    pub trials: Vec<Trial>,
    /// Median `cut_to_up_s` over the `kill` trials.
    pub kill_median_s: f64,
    pub freeze_median_s: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

async fn trial(alpha: &mut Station, bravo: &Station, relay_port: u16, mode: &str) -> anyhow::Result<Trial> {
    let relay = Relay::start(relay_port, bravo.line_addr().parse()?).await?;
    alpha.start()?;
    let api = Api::of(alpha)?;
    wait_line_up(alpha, "bravo", Duration::from_secs(20))?;
    let lines = api.get_json("/api/v1/lines").await?;
    let remote = lines[0]["remote"].as_str().unwrap_or_default().to_owned();
    if !remote.ends_with(&format!(":{relay_port}")) {
        bail!("failover: the line came up via {remote}, not the relay on port {relay_port}");
    }
    let mut events = api.events().await?;
    // Let a few heartbeats pass on the primary.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cut = Instant::now();
    if mode == "kill" {
        relay.kill()
    } else {
        relay.freeze()
    }
    let mut not_up = None;
    loop {
        let next = tokio::time::timeout_at((cut + Duration::from_secs(30)).into(), events.next()).await;
        let (kind, data) = next.context("failover: line not up on the backup within 30 s")??.context("stream ended")?;
        if kind != "line.state" {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&data)?;
        if v["state"] != "up" {
            not_up.get_or_insert_with(Instant::now);
        } else if not_up.is_some() {
            let up = Instant::now();
            alpha.stop();
            return Ok(Trial {
                mode: mode.into(),
                cut_to_not_up_s: not_up.unwrap_or(up).duration_since(cut).as_secs_f64(),
                cut_to_up_s: up.duration_since(cut).as_secs_f64(),
                remote_after: v["remote"].as_str().unwrap_or_default().to_owned(),
            });
        }
    }
}

pub async fn run(bin: &Binary, base: &std::path::Path, kills: usize, freezes: usize) -> anyhow::Result<Failover> {
    let base = base.join("failover");
    std::fs::create_dir_all(&base)?;
    let mut alpha = operated(bin, &base, "alpha")?;
    let mut bravo = unoperated(bin, &base, "bravo")?;
    let relay_port = free_port()?;
    let dead_port = free_port()?;
    alpha.add_line("bravo", &bravo.key, &[format!("127.0.0.1:{relay_port}"), bravo.line_addr()])?;
    bravo.add_line("alpha", &alpha.key, &[format!("127.0.0.1:{dead_port}")])?;
    bravo.start()?;
    let mut trials = Vec::new();
    for mode in std::iter::repeat_n("kill", kills).chain(std::iter::repeat_n("freeze", freezes)) {
        let t = trial(&mut alpha, &bravo, relay_port, mode).await?;
        eprintln!("  {mode}: line up on {} after {:.3} s", t.remote_after, t.cut_to_up_s);
        trials.push(t);
    }
    bravo.stop();
    let of = |m: &str| median(trials.iter().filter(|t| t.mode == m).map(|t| t.cut_to_up_s).collect());
    Ok(Failover { kill_median_s: of("kill"), freeze_median_s: of("freeze"), trials })
}
