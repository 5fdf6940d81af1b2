//! Hotline stations as child processes of the release binary, driven the way an operator
//! would: `init`, `line add`, `user add`, `token create`, `serve`, and the HTTP API.
//!
//! Every child is killed when its `Station` is dropped, so an error anywhere in the
//! benchmark leaves no process behind.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

/// A port that was free a moment ago on loopback.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Runs `hotline ARGS` to completion and returns its stdout.
pub fn hotline(bin: &Path, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if let Some(input) = stdin
        && let Some(pipe) = child.stdin.as_mut()
    {
        pipe.write_all(input.as_bytes())?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("hotline {args:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn last_word(text: &str) -> String {
    text.split_whitespace().last().unwrap_or_default().to_owned()
}

pub struct Station {
    pub name: String,
    pub dir: PathBuf,
    pub http_port: u16,
    pub line_port: u16,
    pub key: String,
    pub token: String,
    bin: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Station {
    /// `hotline init` in `base/name`, on fresh loopback ports.
    pub fn init(bin: &Path, base: &Path, name: &str) -> anyhow::Result<Station> {
        let dir = base.join(name);
        let (http_port, line_port) = (free_port()?, free_port()?);
        let path = dir.to_str().context("utf-8 path")?;
        let out = hotline(
            bin,
            &[
                "init",
                path,
                "--name",
                name,
                "--http",
                &format!("127.0.0.1:{http_port}"),
                "--line",
                &format!("127.0.0.1:{line_port}"),
            ],
            None,
        )?;
        Ok(Station {
            name: name.into(),
            key: last_word(&out),
            token: String::new(),
            log: base.join(format!("{name}.log")),
            dir,
            http_port,
            line_port,
            bin: bin.to_path_buf(),
            child: None,
        })
    }

    fn path(&self) -> &str {
        self.dir.to_str().unwrap_or_default()
    }

    /// An operator `op` and an API token for it.
    pub fn add_operator(&mut self) -> anyhow::Result<()> {
        let path = self.path().to_owned();
        hotline(
            &self.bin,
            &["user", "add", &path, "--name", "op", "--role", "operator"],
            Some("correct horse battery staple\n"),
        )?;
        self.token = last_word(&hotline(&self.bin, &["token", "create", &path, "--user", "op"], None)?);
        Ok(())
    }

    pub fn add_line(&self, peer: &str, key: &str, addrs: &[String]) -> anyhow::Result<()> {
        let path = self.path().to_owned();
        let mut args = vec!["line", "add", &path, "--peer", peer, "--key", key];
        for a in addrs {
            args.extend(["--addr", a.as_str()]);
        }
        hotline(&self.bin, &args, None)?;
        Ok(())
    }

    pub fn line_addr(&self) -> String {
        format!("127.0.0.1:{}", self.line_port)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Starts `hotline serve` (without waiting for it).
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = Command::new(&self.bin)
            .args(["serve", self.path()])
            .env("HOTLINE_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Polls `/healthz` every millisecond until it answers 200; returns the time taken
    /// from `since`.
    pub async fn wait_healthy(&mut self, since: Instant, timeout: Duration) -> anyhow::Result<Duration> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let url = format!("{}/healthz", self.url());
        while since.elapsed() < timeout {
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(since.elapsed());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("{} exited with {status} while starting; log {}", self.name, self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        bail!("{}: /healthz not OK within {timeout:?}; log {}", self.name, self.log_tail())
    }

    /// Starts the station and waits until it is healthy.
    pub async fn start(&mut self) -> anyhow::Result<Duration> {
        let since = Instant::now();
        self.spawn()?;
        self.wait_healthy(since, Duration::from_secs(60)).await
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM and wait (up to 20 s, then SIGKILL).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // SAFETY: kill(2) with a pid we spawned and have not reaped yet.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        format!("{}: {}", self.log.display(), tail.into_iter().rev().collect::<Vec<_>>().join(" | "))
    }

    pub fn api(&self) -> anyhow::Result<Api> {
        Api::new(&self.url(), &self.token)
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The HTTP API of one station, with its operator token.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
    auth: String,
}

impl Api {
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

    /// State of the line to `peer` (`up`, `connecting`, `down`).
    pub async fn line_state(&self, peer: &str) -> anyhow::Result<String> {
        let lines = self.get_json("/api/v1/lines").await?;
        let state = lines
            .as_array()
            .and_then(|a| a.iter().find(|l| l["peer"] == peer))
            .and_then(|l| l["state"].as_str())
            .unwrap_or("unknown");
        Ok(state.to_owned())
    }

    /// How many lines are `up`.
    pub async fn lines_up(&self) -> anyhow::Result<usize> {
        let lines = self.get_json("/api/v1/lines").await?;
        Ok(lines.as_array().map_or(0, |a| a.iter().filter(|l| l["state"] == "up").count()))
    }

    pub async fn wait_line_up(&self, peer: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.line_state(peer).await.ok().as_deref() == Some("up") {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("line to {peer} not up within {timeout:?}")
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
