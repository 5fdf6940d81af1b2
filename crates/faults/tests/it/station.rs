//! One station as an operator runs it: `hotline init`, `key`, `line add`, `user add`,
//! `token create`, then `hotline serve` as a child process — inside a network namespace
//! when the scenario has hosts, on loopback otherwise — and its HTTP API.
//!
//! The same steps as `crates/cli/tests/it/harness.rs`; the difference is that a station
//! here may live in a namespace, so its process enters the namespace before `exec` and
//! every API call is made from a thread inside it (see `netns::in_ns`).

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bin;
use crate::netns;

/// HTTP and line ports of a station inside its own namespace (each host has its own ports).
pub const NS_HTTP_PORT: u16 = 8470;
pub const NS_LINE_PORT: u16 = 8471;

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs `hotline ARGS` to completion; returns (exit ok, stdout, stderr).
pub fn hotline(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(bin::hotline())
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

/// The answer to one API call: an HTTP status and JSON body, or no answer at all.
#[derive(Debug)]
pub enum Answer {
    Http(u16, Value),
    /// No HTTP answer (refused connection, reset, timeout): the request may or may not
    /// have been acted on.
    NoAnswer(String),
}

pub struct Station {
    pub name: String,
    pub dir: PathBuf,
    /// The namespace the station runs in, if any.
    pub ns: Option<String>,
    pub http_addr: String,
    pub line_port: u16,
    pub key: String,
    pub token: String,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Station {
    /// A new station in `dir` (`base/name` unless given), listening inside `ns` on the fixed
    /// ports, or on free loopback ports.
    pub fn init(base: &Path, name: &str, ns: Option<&str>) -> Station {
        Station::init_in(base, &base.join(name), name, ns)
    }

    pub fn init_in(base: &Path, dir: &Path, name: &str, ns: Option<&str>) -> Station {
        let (http_addr, line_listen, line_port) = match ns {
            Some(_) => (format!("127.0.0.1:{NS_HTTP_PORT}"), format!("0.0.0.0:{NS_LINE_PORT}"), NS_LINE_PORT),
            None => {
                let line_port = free_port();
                (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{line_port}"), line_port)
            }
        };
        let d = dir.to_str().expect("utf-8 path");
        let key =
            last_word(&hotline_ok(&["init", d, "--name", name, "--http", &http_addr, "--line", &line_listen], None));
        assert_eq!(last_word(&hotline_ok(&["key", d], None)), key);
        hotline_ok(&["user", "add", d, "--name", "op", "--role", "operator"], Some("correct horse battery staple\n"));
        let token = last_word(&hotline_ok(&["token", "create", d, "--user", "op"], None));
        let log = base.join(format!("{name}.log"));
        Station {
            name: name.into(),
            dir: dir.to_owned(),
            ns: ns.map(Into::into),
            http_addr,
            line_port,
            key,
            token,
            log,
            child: None,
        }
    }

    /// `hotline line add` with the peer's addresses, primary first; optionally a heartbeat
    /// interval other than the default (appended to the `[[line]]` table just written).
    pub fn add_line(&self, peer: &str, key: &str, addrs: &[String], heartbeat_interval_ms: Option<u64>) {
        let d = self.dir.to_str().expect("path");
        let mut args = vec!["line", "add", d, "--peer", peer, "--key", key];
        for addr in addrs {
            args.extend(["--addr", addr.as_str()]);
        }
        hotline_ok(&args, None);
        if let Some(ms) = heartbeat_interval_ms {
            let path = self.dir.join("station.toml");
            let mut text = std::fs::read_to_string(&path).expect("config");
            assert!(text.trim_end().ends_with(']'), "the [[line]] table is not last in {}", path.display());
            text.push_str(&format!("heartbeat_interval_ms = {ms}\n"));
            std::fs::write(&path, text).expect("write config");
        }
    }

    /// Starts `hotline serve` and waits for `/healthz`.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log file");
        let mut command = Command::new(bin::hotline());
        command
            .args(["serve", self.dir.to_str().expect("path")])
            .env("HOTLINE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        if let Some(ns) = &self.ns {
            let path = netns::ns_path(ns);
            // SAFETY: only async-signal-safe calls (open, setns) between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                    if fd < 0 || libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                    Ok(())
                });
            }
        }
        self.child = Some(command.spawn().expect("spawn hotline serve"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.get_raw("/healthz", Duration::from_secs(2)), Answer::Http(200, _)) {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("{} exited at start with {status}; log:\n{}", self.name, self.log_tail(40));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{}: /healthz not OK within 30 s; log:\n{}", self.name, self.log_tail(40));
    }

    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL on Unix
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        // SAFETY: signalling our own child, which has not been reaped yet.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
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

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn get_raw(&self, path: &str, timeout: Duration) -> Answer {
        self.client().call("GET", path, None, timeout)
    }

    /// A handle for API calls that other threads can own.
    pub fn client(&self) -> Client {
        Client { ns: self.ns.clone(), http_addr: self.http_addr.clone(), token: self.token.clone() }
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>, timeout: Duration) -> Answer {
        self.client().call(method, path, body, timeout)
    }

    /// (status, JSON) of an API call; status 0 when there was no HTTP answer.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        match self.call(method, path, body, Duration::from_secs(20)) {
            Answer::Http(status, v) => (status, v),
            Answer::NoAnswer(e) => (0, Value::String(e)),
        }
    }

    /// This station's view of its line to `peer`: (state, remote address).
    pub fn line(&self, peer: &str) -> Option<(String, Option<String>)> {
        let Answer::Http(200, v) = self.call("GET", "/api/v1/lines", None, Duration::from_secs(5)) else {
            return None;
        };
        let line = v.as_array()?.iter().find(|l| l["peer"] == peer)?;
        Some((line["state"].as_str()?.to_owned(), line["remote"].as_str().map(Into::into)))
    }

    pub fn line_state(&self, peer: &str) -> Option<String> {
        self.line(peer).map(|(state, _)| state)
    }

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
    pub fn messages(&self, peer: &str) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        loop {
            let after = out.last().and_then(|m| m["id"].as_str()).map(|id| format!("&after={id}")).unwrap_or_default();
            let (status, v) = self.api("GET", &format!("/api/v1/lines/{peer}/messages?limit=1000{after}"), None);
            assert_eq!(status, 200, "{}: list messages: {v}", self.name);
            let page = v.as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                return out;
            }
            out.extend(page);
        }
    }

    /// `hotline log export DIR --out FILE` (reads the station directory; works whether
    /// or not the station runs).
    pub fn export(&self, out_dir: &Path) -> PathBuf {
        let out = out_dir.join(format!("{}-export.json", self.name));
        hotline_ok(&["log", "export", self.dir.to_str().expect("path"), "--out", out.to_str().expect("path")], None);
        out
    }
}

/// What an API call needs: where, from which namespace, with which token.
#[derive(Clone, Debug)]
pub struct Client {
    pub ns: Option<String>,
    pub http_addr: String,
    pub token: String,
}

impl Client {
    /// One API call with the station's token, made from inside its namespace.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>, timeout: Duration) -> Answer {
        let url = format!("http://{}{path}", self.http_addr);
        let auth = format!("Bearer {}", self.token);
        netns::in_ns(self.ns.as_deref(), move || {
            let agent = ureq::Agent::new_with_config(
                ureq::config::Config::builder().http_status_as_error(false).timeout_global(Some(timeout)).build(),
            );
            let result = match (method, body) {
                ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
                (_, Some(b)) => agent.post(&url).header("Authorization", &auth).send_json(&b),
                (_, None) => agent.post(&url).header("Authorization", &auth).send_empty(),
            };
            match result {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let v = resp
                        .body_mut()
                        .with_config()
                        .limit(512 * 1024 * 1024)
                        .read_json::<Value>()
                        .unwrap_or(Value::Null);
                    Answer::Http(status, v)
                }
                Err(e) => Answer::NoAnswer(e.to_string()),
            }
        })
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        self.kill9();
    }
}
