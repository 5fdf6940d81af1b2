//! Drives `hotline` processes the way an operator would: `init`, `line add`, `user add`,
//! `token create`, `serve`, and the HTTP API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_hotline");

/// Wall-clock milliseconds since the Unix epoch, as the stations write them.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs `hotline ARGS` to completion; returns (exit ok, stdout, stderr).
pub fn hotline(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hotline");
    if let Some(input) = stdin {
        child.stdin.as_mut().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

pub fn hotline_ok(args: &[&str], stdin: Option<&str>) -> String {
    let (ok, out, err) = hotline(args, stdin);
    assert!(ok, "hotline {args:?} failed: {err}");
    out
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
    pub log: PathBuf,
    child: Option<Child>,
}

impl Station {
    pub fn init(base: &Path, name: &str) -> Station {
        let dir = base.join(name);
        let (http_port, line_port) = (free_port(), free_port());
        let out = hotline_ok(
            &[
                "init",
                dir.to_str().expect("utf-8 path"),
                "--name",
                name,
                "--http",
                &format!("127.0.0.1:{http_port}"),
                "--line",
                &format!("127.0.0.1:{line_port}"),
            ],
            None,
        );
        let key = last_word(&out);
        assert_eq!(last_word(&hotline_ok(&["key", dir.to_str().expect("path")], None)), key);
        hotline_ok(
            &["user", "add", dir.to_str().expect("path"), "--name", "op", "--role", "operator"],
            Some("correct horse battery staple\n"),
        );
        let token = last_word(&hotline_ok(&["token", "create", dir.to_str().expect("path"), "--user", "op"], None));
        let log = base.join(format!("{name}.log"));
        Station { name: name.into(), dir, http_port, line_port, key, token, log, child: None }
    }

    pub fn add_line(&self, peer: &str, key: &str, port: u16) {
        hotline_ok(
            &[
                "line",
                "add",
                self.dir.to_str().expect("path"),
                "--peer",
                peer,
                "--key",
                key,
                "--addr",
                &format!("127.0.0.1:{port}"),
            ],
            None,
        );
    }

    /// Makes the station sign checkpoints every `ms` instead of every 10 s.
    pub fn set_checkpoint_interval_ms(&self, ms: u64) {
        let path = self.dir.join("station.toml");
        let text = std::fs::read_to_string(&path).expect("config");
        let text = text.replacen("\n[listen]", &format!("\ncheckpoint_interval_ms = {ms}\n\n[listen]"), 1);
        std::fs::write(&path, text).expect("write config");
    }

    /// `hotline log export DIR --out FILE`; returns the file's path.
    pub fn export(&self, base: &Path) -> PathBuf {
        let out = base.join(format!("{}-export.json", self.name));
        hotline_ok(&["log", "export", self.dir.to_str().expect("path"), "--out", out.to_str().expect("path")], None);
        out
    }

    /// Reads the event stream from the start until an event of `kind` whose data contains
    /// `needle` arrives or the timeout passes; returns that event's data.
    pub fn wait_event(&self, kind: &str, needle: &str, timeout: Duration) -> Option<String> {
        use std::io::BufRead as _;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let agent = ureq::Agent::new_with_config(
                ureq::config::Config::builder().timeout_global(Some(deadline - Instant::now())).build(),
            );
            let Ok(resp) = agent
                .get(&format!("{}/api/v1/events?after=0", self.url()))
                .header("Authorization", &format!("Bearer {}", self.token))
                .call()
            else {
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

    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log file");
        let child = Command::new(BIN)
            .args(["serve", self.dir.to_str().expect("path")])
            .env("HOTLINE_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if ureq::get(&format!("{}/healthz", self.url())).call().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{}: /healthz not OK within 20 s; log:\n{}", self.name, self.log_text());
    }

    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL on Unix
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit status success.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// (status, JSON body) of an API call with this station's token.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(20)))
                .build(),
        );
        let url = format!("{}{path}", self.url());
        let auth = format!("Bearer {}", self.token);
        let result = match (method, body) {
            ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
            (_, Some(b)) => agent.post(&url).header("Authorization", &auth).send_json(&b),
            (_, None) => agent.post(&url).header("Authorization", &auth).send_empty(),
        };
        match result {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let v = resp.body_mut().read_json::<Value>().unwrap_or(Value::Null);
                (status, v)
            }
            Err(e) => (0, Value::String(e.to_string())),
        }
    }

    pub fn line_state(&self, peer: &str) -> Option<String> {
        let (status, v) = self.api("GET", "/api/v1/lines", None);
        if status != 200 {
            return None;
        }
        v.as_array()?.iter().find(|l| l["peer"] == peer).and_then(|l| l["state"].as_str()).map(Into::into)
    }

    pub fn wait_line(&self, peer: &str, want: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.line_state(peer).as_deref() == Some(want) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Every message on the line, paging through `?after=`.
    pub fn messages(&self, peer: &str) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        loop {
            let after = out.last().and_then(|m| m["id"].as_str()).map(|id| format!("&after={id}")).unwrap_or_default();
            let (status, v) = self.api("GET", &format!("/api/v1/lines/{peer}/messages?limit=1000{after}"), None);
            assert_eq!(status, 200, "list messages: {v}");
            let page = v.as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                return out;
            }
            out.extend(page);
        }
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Two stations that pin each other's keys, not yet started.
pub fn pair(base: &Path) -> (Station, Station) {
    let a = Station::init(base, "alpha");
    let b = Station::init(base, "bravo");
    a.add_line("bravo", &b.key, b.line_port);
    b.add_line("alpha", &a.key, a.line_port);
    (a, b)
}
