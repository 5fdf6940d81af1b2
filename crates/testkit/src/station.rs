//! One station as an operator runs it: made with `hotline init`, `key`, `line add`,
//! `user add` and `token create`, served by `hotline serve` as a child process with its
//! output in a log file, read through its HTTP API, and stopped with SIGTERM (SIGKILL
//! when it does not go, or on demand).

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::binary::Binary;
use crate::client::{Answer, Client};
use crate::host::{Host, Loopback};

/// The password of every station's operator `op`.
pub const OPERATOR_PASSWORD: &str = "correct horse battery staple";

/// How long [`Station::start`] waits for `/healthz`. Generous: it matters only when a
/// station is slow to come up (a benchmark's million-entry record, a loaded machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How often `/healthz` is polled while starting. Fine-grained, because the benchmark
/// times start-up with it; a refused connection costs next to nothing.
const HEALTH_POLL_INTERVAL: Duration = Duration::from_millis(2);
/// How long [`Station::stop`] waits after SIGTERM before it sends SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// The same when a [`Station`] is dropped: shorter, as a test that forgot to stop its
/// stations (or panicked) should not wait long for one that hangs.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// How to make a station: its name, where it keeps its files, where it listens.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    /// The station directory `hotline init` creates.
    pub dir: PathBuf,
    /// Where `hotline serve` writes its stdout and stderr (appended across starts).
    pub log: PathBuf,
    /// `IP:PORT` of the HTTP listener, also where the API is called (from `host`).
    pub http_listen: String,
    /// `IP:PORT` of the line listener.
    pub line_listen: String,
    /// Whether to add an operator `op` (password [`OPERATOR_PASSWORD`]) and an API token
    /// for it. Without one the station answers only `/healthz` and `/metrics`.
    pub operator: bool,
    /// `HOTLINE_LOG` for `hotline serve`.
    pub log_filter: String,
    pub host: Arc<dyn Host>,
}

impl Spec {
    /// `base/name`, logging to `base/name.log`, on fresh loopback ports, with an operator.
    pub fn loopback(base: &Path, name: &str) -> anyhow::Result<Spec> {
        Ok(Spec {
            name: name.to_owned(),
            dir: base.join(name),
            log: base.join(format!("{name}.log")),
            http_listen: format!("127.0.0.1:{}", crate::free_port()?),
            line_listen: format!("127.0.0.1:{}", crate::free_port()?),
            operator: true,
            log_filter: "info".to_owned(),
            host: Arc::new(Loopback),
        })
    }
}

/// A station made by [`Station::init`]; running while started. Dropping it stops the
/// process (SIGTERM, then SIGKILL after a few seconds).
pub struct Station {
    pub name: String,
    pub dir: PathBuf,
    /// `IP:PORT` of the HTTP API, as seen from the station's host.
    pub http_addr: String,
    pub line_port: u16,
    /// The station's public key as `hotline key` prints it.
    pub key: String,
    /// The operator's bearer token; empty without an operator.
    pub token: String,
    pub log: PathBuf,
    bin: Binary,
    host: Arc<dyn Host>,
    log_filter: String,
    child: Option<Child>,
}

impl Station {
    /// `hotline init` as `spec` says, checks that `hotline key` prints the key `init`
    /// printed, and adds the operator and its token when asked to.
    pub fn init(bin: &Binary, spec: Spec) -> anyhow::Result<Station> {
        let Spec { name, dir, log, http_listen, line_listen, operator, log_filter, host } = spec;
        let line_port = line_listen
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .with_context(|| format!("no port in the line address {line_listen}"))?;
        let d = dir.to_str().with_context(|| format!("{} is not UTF-8", dir.display()))?;
        let init = ["init", d, "--name", &name, "--http", &http_listen, "--line", &line_listen];
        let key = last_word(&bin.run_ok(&init, None)?);
        let shown = last_word(&bin.run_ok(&["key", d], None)?);
        if shown != key {
            bail!("{name}: `hotline key` prints {shown}, `hotline init` printed {key}");
        }
        let mut token = String::new();
        if operator {
            let password = format!("{OPERATOR_PASSWORD}\n");
            bin.run_ok(&["user", "add", d, "--name", "op", "--role", "operator"], Some(&password))?;
            token = last_word(&bin.run_ok(&["token", "create", d, "--user", "op"], None)?);
        }
        Ok(Station {
            name,
            dir,
            http_addr: http_listen,
            line_port,
            key,
            token,
            log,
            bin: bin.clone(),
            host,
            log_filter,
            child: None,
        })
    }

    fn dir_str(&self) -> anyhow::Result<&str> {
        self.dir.to_str().with_context(|| format!("{} is not UTF-8", self.dir.display()))
    }

    /// `hotline line add` to `peer` with its key and addresses, primary first.
    pub fn add_line(&self, peer: &str, key: &str, addrs: &[String]) -> anyhow::Result<()> {
        let mut args = vec!["line", "add", self.dir_str()?, "--peer", peer, "--key", key];
        for addr in addrs {
            args.extend(["--addr", addr.as_str()]);
        }
        self.bin.run_ok(&args, None)?;
        Ok(())
    }

    /// Adds a supervisor `sup` (password [`OPERATOR_PASSWORD`]) with `hotline user add`
    /// and an API token for it, and returns a client that calls the API as `sup`. Works
    /// whether or not the station is serving.
    pub fn supervisor(&self) -> anyhow::Result<Client> {
        let d = self.dir_str()?;
        let password = format!("{OPERATOR_PASSWORD}\n");
        self.bin.run_ok(&["user", "add", d, "--name", "sup", "--role", "supervisor"], Some(&password))?;
        let token = last_word(&self.bin.run_ok(&["token", "create", d, "--user", "sup"], None)?);
        Ok(Client { token, ..self.client() })
    }

    /// Gives the line added last a heartbeat interval other than the default (appended to
    /// the `[[line]]` table `line add` just wrote, which is the last in the file).
    pub fn set_heartbeat_interval_ms(&self, ms: u64) -> anyhow::Result<()> {
        self.edit_config(|text| {
            if !text.trim_end().ends_with(']') {
                bail!("the [[line]] table is not last");
            }
            Ok(format!("{text}heartbeat_interval_ms = {ms}\n"))
        })
    }

    /// Makes the station sign checkpoints every `ms` instead of every 10 s.
    pub fn set_checkpoint_interval_ms(&self, ms: u64) -> anyhow::Result<()> {
        self.edit_config(|text| {
            if !text.contains("\n[listen]") {
                bail!("no [listen] table");
            }
            Ok(text.replacen("\n[listen]", &format!("\ncheckpoint_interval_ms = {ms}\n\n[listen]"), 1))
        })
    }

    /// Rewrites `station.toml` with `edit` (which gets the current text).
    pub fn edit_config(&self, edit: impl FnOnce(String) -> anyhow::Result<String>) -> anyhow::Result<()> {
        let path = self.dir.join("station.toml");
        let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        let text = edit(text).with_context(|| format!("edit {}", path.display()))?;
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))
    }

    /// Starts `hotline serve` without waiting for it.
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            bail!("{} is already running", self.name);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("open {}", self.log.display()))?;
        let mut command = self.bin.command();
        command
            .args(["serve", self.dir_str()?])
            .env("HOTLINE_LOG", &self.log_filter)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicate the log file")?)
            .stderr(log);
        self.host.prepare(&mut command);
        let child = command.spawn().with_context(|| format!("{}: cannot start hotline serve", self.name))?;
        self.child = Some(child);
        Ok(())
    }

    /// Polls `/healthz` until it answers 200; fails (with the log's tail) when the process
    /// exits or `timeout` passes.
    pub fn wait_healthy(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let client = self.client();
        while Instant::now() < deadline {
            if matches!(client.call("GET", "/healthz", None, Duration::from_secs(2)), Answer::Http(200, _)) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().context("wait for hotline serve")?
            {
                self.child = None;
                bail!("{} exited with {status} while starting; log:\n{}", self.name, self.log_tail(40));
            }
            std::thread::sleep(HEALTH_POLL_INTERVAL);
        }
        bail!("{}: /healthz not OK within {timeout:?}; log:\n{}", self.name, self.log_tail(40))
    }

    /// Starts `hotline serve` and waits until it is healthy; returns how long that took.
    pub fn start(&mut self) -> anyhow::Result<Duration> {
        let since = Instant::now();
        self.spawn()?;
        self.wait_healthy(START_TIMEOUT)?;
        Ok(since.elapsed())
    }

    /// The process id while the station runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, as a power cut would; waits until the process is gone.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // An error means it has exited already, which is what we want.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait up to 20 s for the process to exit (then SIGKILL); returns whether
    /// it exited successfully. `true` when it was not running.
    pub fn stop(&mut self) -> bool {
        self.stop_within(STOP_GRACE)
    }

    /// [`Station::stop`] with another grace period.
    pub fn stop_within(&mut self, grace: Duration) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let Ok(pid) = libc::pid_t::try_from(child.id()) else {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        };
        // SAFETY: kill(2) with the pid of our own child, which has not been reaped yet
        // (so the pid cannot belong to another process).
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Everything the station has logged, over all its starts.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// `hotline log export DIR --out OUT_DIR/NAME-export.json`; returns that path. Reads
    /// the station directory, so it works whether or not the station runs.
    pub fn export(&self, out_dir: &Path) -> anyhow::Result<PathBuf> {
        let out = out_dir.join(format!("{}-export.json", self.name));
        let out_str = out.to_str().with_context(|| format!("{} is not UTF-8", out.display()))?;
        self.bin.run_ok(&["log", "export", self.dir_str()?, "--out", out_str], None)?;
        Ok(out)
    }

    /// The base URL of the API, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Where peers on this machine reach the line listener (loopback stations only).
    pub fn line_addr(&self) -> String {
        format!("127.0.0.1:{}", self.line_port)
    }

    /// A handle for API calls that other threads can own.
    pub fn client(&self) -> Client {
        Client { http_addr: self.http_addr.clone(), token: self.token.clone(), host: self.host.clone() }
    }

    /// See [`Client::call`].
    pub fn call(&self, method: &str, path: &str, body: Option<Value>, timeout: Duration) -> Answer {
        self.client().call(method, path, body, timeout)
    }

    /// See [`Client::api`].
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.client().api(method, path, body)
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        self.stop_within(DROP_GRACE);
    }
}

/// Two loopback stations, `alpha` and `bravo` in `base`, each with an operator and a line
/// to the other; not started.
pub fn pair(bin: &Binary, base: &Path) -> anyhow::Result<(Station, Station)> {
    let alpha = Station::init(bin, Spec::loopback(base, "alpha")?)?;
    let bravo = Station::init(bin, Spec::loopback(base, "bravo")?)?;
    alpha.add_line("bravo", &bravo.key, &[bravo.line_addr()])?;
    bravo.add_line("alpha", &alpha.key, &[alpha.line_addr()])?;
    Ok((alpha, bravo))
}

fn last_word(text: &str) -> String {
    text.split_whitespace().last().unwrap_or_default().to_owned()
}
