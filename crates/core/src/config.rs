//! The station's configuration file, `station.toml`.
//!
//! Written by `hotline init` and `hotline line add`, readable and editable by hand. Every
//! error names the file, the line where the problem is, and what to do about it, because
//! the person reading it is setting up a hotline, not debugging a parser.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hotline_identity::{VerifierKey, check_station_name};
use serde::{Deserialize, Serialize};

/// Name of the configuration file inside a station directory.
pub const CONFIG_FILE: &str = "station.toml";
/// Name of the key file inside a station directory (mode 0600).
pub const KEY_FILE: &str = "station.key";
/// Name of the database inside a station directory.
pub const DB_FILE: &str = "station.db";

/// Most lines one station may configure.
#[allow(non_upper_case_globals)]
pub const lines_max: usize = 64;
/// Most addresses per line.
#[allow(non_upper_case_globals)]
pub const line_addrs_max: usize = 8;
/// The range of a line's `heartbeat_interval_ms`.
#[allow(non_upper_case_globals)]
pub const heartbeat_interval_ms_min: u64 = 100;
#[allow(non_upper_case_globals)]
pub const heartbeat_interval_ms_max: u64 = 60_000;
/// The range of a line's `reconnect_backoff_max_ms`.
#[allow(non_upper_case_globals)]
pub const reconnect_backoff_max_ms_min: u64 = 100;
#[allow(non_upper_case_globals)]
pub const reconnect_backoff_max_ms_max: u64 = 600_000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}. Fix: run `hotline init {dir}` first, or check the path", dir = .path.parent().map(|p| p.display().to_string()).unwrap_or_default())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}. Fix: {fix}")]
    Invalid { path: PathBuf, line: usize, message: String, fix: String },
}

/// The whole file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This station's name, `[a-z0-9-]{1,32}`.
    pub name: String,
    /// Language of the console and structured content: `en` or `ru`.
    #[serde(default = "default_lang")]
    pub lang: String,
    /// How often a new signed checkpoint is made while the record grows.
    #[serde(default = "default_checkpoint_interval_ms")]
    pub checkpoint_interval_ms: u64,
    pub listen: Listen,
    /// HTTPS and the limits of the console and API's listener.
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default, rename = "line")]
    pub lines: Vec<PeerLine>,
    /// Watch checks, acknowledgment deadlines and alarm thresholds (defaults for all lines).
    #[serde(default)]
    pub watch: WatchConfig,
    /// Who is notified of an alarm, per severity, after how long.
    #[serde(default, rename = "escalation")]
    pub escalations: Vec<EscalationConfig>,
    /// The mail server for e-mail escalation targets.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// Where call audio flows: the consoles' WebRTC legs and the QUIC path to peers.
    #[serde(default)]
    pub media: MediaConfig,
}

/// `[media]`: the UDP addresses of call audio. Both are optional; the defaults suit a
/// station whose consoles run on the same host and whose peers reach its line address.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// The host candidate offered to consoles (WebRTC, UDP): the address a console's
    /// browser sends its audio to. Port 0 (the default, `127.0.0.1:0`) gives each call's
    /// leg a port of its own; a fixed port serves one console leg at a time.
    pub browser_udp: Option<SocketAddr>,
    /// Where peer stations' QUIC media connections arrive (UDP). Default: the line's
    /// listen address, the same port over UDP, which is where peers dial it: a peer
    /// reaches our media at the primary address of its line to us.
    pub peer_udp: Option<SocketAddr>,
}

impl MediaConfig {
    /// The browser legs' address (loopback, a fresh port per call, unless configured).
    pub fn browser_udp(&self) -> SocketAddr {
        self.browser_udp.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
    }
}

/// Watch settings; every field is optional, so a line's `[line.watch]` overrides only
/// what it names. Times are seconds (fractions allowed).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// How often a watch check is sent; 0 = only on demand. Default 3600.
    pub check_interval_s: Option<f64>,
    /// How long the far end has to answer a check. Default 300.
    pub check_deadline_s: Option<f64>,
    /// Acknowledgment deadline per precedence; 0 or absent for ROUTINE = not chased.
    /// Defaults: FLASH 120, IMMEDIATE 600, PRIORITY 3600.
    pub ack_deadline_s: Option<std::collections::BTreeMap<String, f64>>,
    /// How long a line may be not up before it is an alarm. Default 10.
    pub line_down_alarm_s: Option<f64>,
    /// How long the peer may report nobody on watch before it is an alarm. Default 600.
    pub nobody_on_watch_alarm_s: Option<f64>,
    /// Free space on the data directory below which a low-disk alarm is raised (station
    /// level only). Default 100.
    pub low_disk_alarm_mb: Option<u64>,
}

/// One escalation step: `after_s` after an alarm of `severity` is raised and still not
/// acknowledged, notify a webhook or send e-mail.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// `critical` or `warning`.
    pub severity: String,
    pub after_s: f64,
    /// An HTTP(S) URL that receives the alarm as JSON, signed with HMAC-SHA256.
    pub webhook: Option<String>,
    /// The HMAC key for `webhook` (shared with the receiver).
    pub secret: Option<String>,
    /// E-mail addresses (needs `[smtp]`).
    pub email: Option<Vec<String>>,
}

/// An SMTP relay for e-mail escalation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// `HOST:PORT` of the relay.
    pub server: String,
    /// The sender address.
    pub from: String,
    /// Upgrade the connection with STARTTLS (required unless the relay is on loopback).
    #[serde(default)]
    pub starttls: bool,
    pub user: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// Where the console and API listen.
    pub http: SocketAddr,
    /// Where peers dial in.
    pub line: SocketAddr,
}

/// `[http]`: HTTPS for the console and API, and the listener's limits (each absent one
/// takes the named default in `http::listener`). Relative paths are read from the
/// station directory.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// PEM certificate chain (the server's certificate first); needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address that is not loopback: only behind a proxy that
    /// terminates TLS on the same host or a network that is private in fact.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// How long a client has to send a request's header (and, idle, the next one's).
    pub header_read_timeout_ms: Option<u64>,
    /// How long a client has to send a request's body once its header has arrived.
    pub body_read_timeout_ms: Option<u64>,
    /// Connections served at once; one over it is closed as soon as it is accepted.
    pub connections_max: Option<usize>,
}

impl HttpConfig {
    /// The certificate and key files, resolved against the station directory `dir`, when
    /// HTTPS is configured.
    pub fn tls_files(&self, dir: &Path) -> Option<(PathBuf, PathBuf)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some((dir.join(cert), dir.join(key))),
            _ => None,
        }
    }

    /// The scheme of the console's URL: `https` when the listener has a certificate and
    /// key (then plain `http://` would not even connect).
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() && self.tls_key.is_some() { "https" } else { "http" }
    }
}

/// The URL people open to reach a console listening on `addr` with `scheme`.
pub fn console_url(scheme: &str, addr: SocketAddr) -> String {
    format!("{scheme}://{addr}/")
}

/// One `[[lines]]` entry of `station.toml`: a peer, its pinned key, how to reach it.
/// (Not `hotline_proto::LineConfig`, the protocol's timers, which `serve` builds from it.)
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerLine {
    pub peer: String,
    /// The peer's verifier key, `NAME+KEYHASH+BASE64`.
    pub key: String,
    /// The peer's line addresses, primary first.
    pub addrs: Vec<String>,
    #[serde(default = "default_heartbeat_interval_ms")]
    pub heartbeat_interval_ms: u64,
    #[serde(default = "default_reconnect_backoff_max_ms")]
    pub reconnect_backoff_max_ms: u64,
    /// This line's own watch settings, over the station's `[watch]`.
    #[serde(default)]
    pub watch: WatchConfig,
    /// How long a call we start on this line rings before it is missed (PRODUCT.md's
    /// `call_ring_timeout_s`; default 60). The ring carries it, so the far consoles ring
    /// as long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_ring_timeout_s: Option<u64>,
    /// How long an answered call on this line outlives the line being down (default 5;
    /// 0 ends it at once): a reconnect or a connection swap is over well within it, and
    /// the audio does not need the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_line_grace_s: Option<u64>,
    /// How many days we keep the recording of a call on this line (default 90); the
    /// peer's own setting, which its `call_recorded` item states, is kept if longer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_retention_days: Option<u32>,
}

/// How long a call recording is kept when a line does not say (`recording_retention_days`).
#[allow(non_upper_case_globals)]
pub const recording_retention_days_default: u32 = 90;

fn default_lang() -> String {
    "en".into()
}
fn default_checkpoint_interval_ms() -> u64 {
    10_000
}
/// 500 ms: a silent line is declared down after three missed heartbeats, 1.5 s, so a
/// failover to the backup path completes within about 2 s.
fn default_heartbeat_interval_ms() -> u64 {
    500
}
fn default_reconnect_backoff_max_ms() -> u64 {
    5000
}

/// Languages the console ships.
pub const LANGS: &[&str] = &["en", "ru"];

impl PeerLine {
    /// A line to `peer` with every option at its default and no key or address yet.
    pub fn defaults(peer: &str) -> PeerLine {
        PeerLine {
            peer: peer.to_owned(),
            key: String::new(),
            addrs: Vec::new(),
            heartbeat_interval_ms: default_heartbeat_interval_ms(),
            reconnect_backoff_max_ms: default_reconnect_backoff_max_ms(),
            watch: WatchConfig::default(),
            call_ring_timeout_s: None,
            call_line_grace_s: None,
            recording_retention_days: None,
        }
    }

    /// The ring timeout of calls started on this line, in ms (`call_ring_timeout_s`).
    pub fn call_ring_timeout_ms(&self) -> u64 {
        self.call_ring_timeout_s.map_or(hotline_call::RING_TIMEOUT_MS_DEFAULT, |s| s.saturating_mul(1000))
    }

    /// How long an answered call on this line outlives the line being down, in ms.
    pub fn call_line_grace_ms(&self) -> u64 {
        self.call_line_grace_s.map_or(hotline_call::ANSWERED_LINE_GRACE_MS_DEFAULT, |s| s.saturating_mul(1000))
    }

    /// How many days we keep a recording of a call on this line.
    pub fn recording_retention_days(&self) -> u32 {
        self.recording_retention_days.unwrap_or(recording_retention_days_default)
    }

    /// The pinned key, already checked by [`Config::load`].
    pub fn verifier(&self) -> VerifierKey {
        // `load` refuses files whose keys do not parse, so this holds for loaded configs.
        VerifierKey::parse(&self.key).unwrap_or_else(|e| panic!("line {}: unchecked key: {e}", self.peer))
    }
}

impl Config {
    /// Where people reach this station's console, as texts that send them there say it
    /// (escalation e-mail): `https://` when `[http]` has TLS.
    pub fn console_url(&self) -> String {
        console_url(self.http.scheme(), self.listen.http)
    }

    /// Reads and checks `DIR/station.toml`.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        Config::parse(&path, &text)
    }

    /// Parses and checks the text of a configuration file.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let invalid = |line: usize, message: String, fix: &str| ConfigError::Invalid {
            path: path.to_owned(),
            line,
            message,
            fix: fix.to_owned(),
        };
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            invalid(
                line,
                e.message().trim().to_owned(),
                "correct the value as the message says (see README, Configuration)",
            )
        })?;
        let at = |needle: &str| line_containing(text, needle);
        check_station_name(&config.name)
            .map_err(|e| invalid(at("name"), e.to_string(), "use lowercase letters, digits and '-'"))?;
        if !LANGS.contains(&config.lang.as_str()) {
            return Err(invalid(
                at("lang"),
                format!("language {:?} is not shipped", config.lang),
                "use \"en\" or \"ru\"",
            ));
        }
        if !(100..=3_600_000).contains(&config.checkpoint_interval_ms) {
            return Err(invalid(
                at("checkpoint_interval_ms"),
                "checkpoint_interval_ms out of range".into(),
                "use 100 to 3600000",
            ));
        }
        config.check_http().map_err(|(needle, message, fix)| invalid(at(needle), message, fix))?;
        if config.lines.len() > lines_max {
            return Err(invalid(
                1,
                format!("{} lines configured, at most {lines_max}", config.lines.len()),
                "remove lines",
            ));
        }
        for (i, line) in config.lines.iter().enumerate() {
            let line_no = at(&format!("\"{}\"", line.peer));
            check_station_name(&line.peer)
                .map_err(|e| invalid(line_no, e.to_string(), "use the peer station's name"))?;
            if line.peer == config.name {
                return Err(invalid(line_no, "a line to this station itself".into(), "use the peer station's name"));
            }
            if config.lines[..i].iter().any(|l| l.peer == line.peer) {
                return Err(invalid(
                    line_no,
                    format!("line to {:?} is configured twice", line.peer),
                    "keep one [[line]]",
                ));
            }
            let key = VerifierKey::parse(&line.key).map_err(|e| {
                invalid(at(&line.key), e.to_string(), "paste the output of `hotline key DIR` run on the peer station")
            })?;
            if key.name() != line.peer {
                return Err(invalid(
                    at(&line.key),
                    format!("the key is for station {:?}, but the line is to {:?}", key.name(), line.peer),
                    "use the peer's own key, or correct `peer`",
                ));
            }
            if line.addrs.is_empty() || line.addrs.len() > line_addrs_max {
                return Err(invalid(
                    line_no,
                    format!("line to {:?} needs 1 to {line_addrs_max} addresses", line.peer),
                    "list HOST:PORT addresses, primary first",
                ));
            }
            for addr in &line.addrs {
                if !valid_host_port(addr) {
                    return Err(invalid(
                        at(addr),
                        format!("address {addr:?} is not HOST:PORT"),
                        "write it like \"10.0.0.2:8471\"",
                    ));
                }
            }
            if !(heartbeat_interval_ms_min..=heartbeat_interval_ms_max).contains(&line.heartbeat_interval_ms) {
                return Err(invalid(
                    at("heartbeat_interval_ms"),
                    "heartbeat_interval_ms out of range".into(),
                    "use 100 to 60000",
                ));
            }
            if !(reconnect_backoff_max_ms_min..=reconnect_backoff_max_ms_max).contains(&line.reconnect_backoff_max_ms) {
                return Err(invalid(
                    at("reconnect_backoff_max_ms"),
                    "reconnect_backoff_max_ms out of range".into(),
                    "use 100 to 600000",
                ));
            }
            let ring_ms = line.call_ring_timeout_ms();
            if !(hotline_call::RING_TIMEOUT_MS_MIN..=hotline_call::RING_TIMEOUT_MS_MAX).contains(&ring_ms) {
                return Err(invalid(
                    at("call_ring_timeout_s"),
                    "call_ring_timeout_s out of range".into(),
                    "use 1 to 600 (seconds)",
                ));
            }
            if line.call_line_grace_ms() > hotline_call::WAIT_MS_LIMIT {
                return Err(invalid(
                    at("call_line_grace_s"),
                    "call_line_grace_s out of range".into(),
                    "use 0 to 3600 (seconds)",
                ));
            }
            use hotline_item::peer_input::{recording_retention_days_max as max, recording_retention_days_min as min};
            if !(min..=max).contains(&line.recording_retention_days()) {
                return Err(invalid(
                    at("recording_retention_days"),
                    "recording_retention_days out of range".into(),
                    "use 1 to 3650 (days)",
                ));
            }
        }
        config.policy().map_err(|(needle, message)| {
            invalid(at(&needle), message, "see README, Configuration: watch and escalation")
        })?;
        Ok(config)
    }

    /// Checks `[http]`: HTTPS named whole or not at all, limits in range, and no plain HTTP
    /// on an address other hosts can reach unless asked for. An error names the key to
    /// look for, what is wrong and the fix.
    fn check_http(&self) -> Result<(), (&'static str, String, &'static str)> {
        let h = &self.http;
        match (&h.tls_cert, &h.tls_key) {
            (Some(_), None) => {
                return Err((
                    "tls_cert",
                    "[http] tls_cert is set without tls_key".into(),
                    "add tls_key = \"PATH\" (the PEM private key)",
                ));
            }
            (None, Some(_)) => {
                return Err((
                    "tls_key",
                    "[http] tls_key is set without tls_cert".into(),
                    "add tls_cert = \"PATH\" (the PEM certificate chain)",
                ));
            }
            _ => {}
        }
        let ranges: [(&'static str, Option<u64>, std::ops::RangeInclusive<u64>, &'static str); 3] = [
            ("header_read_timeout_ms", h.header_read_timeout_ms, 100..=600_000, "use 100 to 600000"),
            ("body_read_timeout_ms", h.body_read_timeout_ms, 100..=3_600_000, "use 100 to 3600000"),
            ("connections_max", h.connections_max.map(|n| n as u64), 1..=65_536, "use 1 to 65536"),
        ];
        for (key, value, range, fix) in ranges {
            if let Some(v) = value
                && !range.contains(&v)
            {
                return Err((key, format!("[http] {key} = {v} is out of range"), fix));
            }
        }
        let ip = self.listen.http.ip();
        let tls = h.tls_cert.is_some();
        if !ip.is_loopback() && !tls && !h.allow_plain_http {
            // Point at the `http =` line of [listen], not at the [http] section.
            return Err((
                "http =",
                format!(
                    "the console and API would listen on {}, which other hosts can reach, over plain HTTP: \
                     passwords and session cookies would cross the network in clear",
                    self.listen.http
                ),
                "set [http] tls_cert and tls_key, or listen on 127.0.0.1, or set [http] allow_plain_http = true \
                 if a proxy on this host terminates TLS",
            ));
        }
        Ok(())
    }

    /// The watch policy: the defaults, then `[watch]`, then each line's
    /// `[line.watch]`; escalation steps per severity in order of delay, each naming its
    /// index in [`Config::escalations`]. An error names the key to look for and what is wrong.
    pub fn policy(&self) -> Result<hotline_watch::Policy, (String, String)> {
        use hotline_watch::{LinePolicy, Policy, Precedence, Severity, Step};
        let ms = |what: &str, s: f64| -> Result<u64, (String, String)> {
            if s.is_finite() && (0.0..=30.0 * 24.0 * 3600.0).contains(&s) {
                Ok((s * 1000.0).round() as u64)
            } else {
                Err((what.to_owned(), format!("{what} = {s} is not between 0 and 30 days in seconds")))
            }
        };
        let apply = |base: &mut LinePolicy, w: &WatchConfig| -> Result<(), (String, String)> {
            if let Some(s) = w.check_interval_s {
                base.check_interval_ms = Some(ms("check_interval_s", s)?).filter(|v| *v > 0);
            }
            if let Some(s) = w.check_deadline_s {
                base.check_deadline_ms = ms("check_deadline_s", s)?;
            }
            if let Some(s) = w.line_down_alarm_s {
                base.line_down_alarm_ms = ms("line_down_alarm_s", s)?;
            }
            if let Some(s) = w.nobody_on_watch_alarm_s {
                base.nobody_on_watch_alarm_ms = ms("nobody_on_watch_alarm_s", s)?;
            }
            for (name, s) in w.ack_deadline_s.iter().flatten() {
                let p = Precedence::parse(&name.to_ascii_uppercase()).ok_or_else(|| {
                    (
                        "ack_deadline_s".to_owned(),
                        format!("{name:?} is not a precedence (ROUTINE, PRIORITY, IMMEDIATE, FLASH)"),
                    )
                })?;
                base.ack_deadline_ms[p as usize] = Some(ms("ack_deadline_s", *s)?).filter(|v| *v > 0);
            }
            Ok(())
        };
        let mut station = LinePolicy::default();
        apply(&mut station, &self.watch)?;
        let mut policy = Policy { station: station.clone(), ..Policy::default() };
        for line in &self.lines {
            let mut lp = station.clone();
            apply(&mut lp, &line.watch)?;
            if line.watch.low_disk_alarm_mb.is_some() {
                return Err((
                    "low_disk_alarm_mb".into(),
                    "low_disk_alarm_mb is a station setting, not a line's".into(),
                ));
            }
            policy.lines.insert(line.peer.clone(), lp);
        }
        for (target, e) in self.escalations.iter().enumerate() {
            let severity = Severity::parse(&e.severity).ok_or_else(|| {
                (
                    "severity".to_owned(),
                    format!("escalation severity {:?} is not \"critical\" or \"warning\"", e.severity),
                )
            })?;
            match (&e.webhook, &e.email) {
                (Some(url), None) => {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        // Errors reach logs: the URL may carry credentials (`redact`).
                        let shown = crate::redact::redacted_url(url);
                        return Err((url.clone(), format!("webhook {shown:?} is not an http(s) URL")));
                    }
                    if e.secret.as_deref().is_none_or(|s| s.len() < 16) {
                        return Err((
                            "webhook".into(),
                            format!(
                                "webhook {:?} needs a `secret` of at least 16 characters for its HMAC",
                                crate::redact::redacted_url(url)
                            ),
                        ));
                    }
                }
                (None, Some(to)) => {
                    if self.smtp.is_none() {
                        return Err(("email".into(), "e-mail escalation needs an [smtp] section".into()));
                    }
                    if to.is_empty() || to.iter().any(|a| !a.contains('@')) {
                        return Err(("email".into(), format!("e-mail targets {to:?} must be addresses")));
                    }
                }
                _ => {
                    return Err((
                        "[[escalation]]".into(),
                        "each [[escalation]] names exactly one of `webhook` or `email`".into(),
                    ));
                }
            }
            let after_ms = ms("after_s", e.after_s)?;
            policy.escalation.entry(severity).or_default().push(Step { after_ms, target });
        }
        for steps in policy.escalation.values_mut() {
            steps.sort_by_key(|s| s.after_ms);
        }
        policy.check().map_err(|e| ("[watch]".to_owned(), e.to_string()))?;
        Ok(policy)
    }

    /// The text `hotline init` writes: the values, with comments that say what they are.
    pub fn initial_text(name: &str, lang: &str, http: SocketAddr, line: SocketAddr) -> String {
        format!(
            "# hotline station configuration. Edit it, then restart `hotline serve`.\n\
             # Lines to peer stations are added with `hotline line add`.\n\n\
             # This station's name: 1 to 32 of a-z, 0-9 and '-'.\n\
             name = \"{name}\"\n\
             # Language of the console and structured content: \"en\" or \"ru\".\n\
             lang = \"{lang}\"\n\n\
             [listen]\n\
             # Console and HTTP API.\n\
             http = \"{http}\"\n\
             # Where peer stations dial in (TLS 1.3, pinned keys).\n\
             line = \"{line}\"\n"
        )
    }
}

/// Whether `addr` looks like `HOST:PORT` (a name or IP, and a port number).
pub fn valid_host_port(addr: &str) -> bool {
    match addr.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0) && !host.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The permission bits of `path` when its group or others may read it (Unix); `None`
/// when only its owner may, when it does not exist, or off Unix.
pub fn readable_by_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o044 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn line_containing(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(1, |offset| line_of(text, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("/s/station.toml"), text).map_err(|e| e.to_string())
    }

    const BASE: &str = "name = \"alpha\"\n[listen]\nhttp = \"127.0.0.1:1\"\nline = \"127.0.0.1:2\"\n";

    #[test]
    fn the_initial_text_parses() {
        let text = Config::initial_text("alpha", "ru", "127.0.0.1:1".parse().unwrap(), "0.0.0.0:2".parse().unwrap());
        let c = parse(&text).expect("parses");
        assert_eq!(c.name, "alpha");
        assert_eq!(c.lang, "ru");
        assert!(c.lines.is_empty());
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_fix() {
        let e = parse("name = \"Alpha\"\n[listen]\nhttp = \"127.0.0.1:1\"\nline = \"127.0.0.1:2\"\n").unwrap_err();
        assert!(e.starts_with("/s/station.toml:1: "), "{e}");
        assert!(e.contains("Fix:"), "{e}");
        let e =
            parse(&format!("{BASE}[[line]]\npeer = \"bravo\"\nkey = \"nonsense\"\naddrs = [\"x:1\"]\n")).unwrap_err();
        assert!(e.starts_with("/s/station.toml:7: "), "{e}");
        assert!(e.contains("hotline key"), "{e}");
        let e = parse("name = \"alpha\"\n[listen]\nhttp = \"not an address\"\nline = \"127.0.0.1:2\"\n").unwrap_err();
        assert!(e.starts_with("/s/station.toml:3: "), "{e}");
        let e = parse(&format!("{BASE}colour = 1\n")).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn http_tls_is_named_whole_and_plain_http_off_loopback_is_refused() {
        let e = parse(&format!("{BASE}[http]\ntls_cert = \"c.pem\"\n")).unwrap_err();
        assert!(e.starts_with("/s/station.toml:6: ") && e.contains("tls_key"), "{e}");
        let e = parse(&format!("{BASE}[http]\nconnections_max = 0\n")).unwrap_err();
        assert!(e.starts_with("/s/station.toml:6: ") && e.contains("1 to 65536"), "{e}");
        let open = "name = \"alpha\"\n[listen]\nhttp = \"0.0.0.0:8470\"\nline = \"0.0.0.0:8471\"\n";
        let e = parse(open).unwrap_err();
        assert!(e.starts_with("/s/station.toml:3: ") && e.contains("plain HTTP") && e.contains("Fix:"), "{e}");
        assert!(parse(&format!("{open}[http]\nallow_plain_http = true\n")).is_ok());
        let tls = parse(&format!("{open}[http]\ntls_cert = \"c.pem\"\ntls_key = \"/k.pem\"\n")).expect("HTTPS");
        assert_eq!(
            tls.http.tls_files(Path::new("/s")),
            Some((PathBuf::from("/s/c.pem"), PathBuf::from("/k.pem"))),
            "relative to the station directory"
        );
        let v6 = parse("name = \"alpha\"\n[listen]\nhttp = \"[::1]:8470\"\nline = \"[::]:8471\"\n");
        assert!(v6.is_ok(), "loopback needs no TLS: {v6:?}");
    }

    /// Texts that send people to the console (escalation e-mail) must not say http:// to
    /// a listener that speaks only HTTPS.
    #[test]
    fn the_console_url_says_https_when_the_listener_has_tls() {
        let open = "name = \"alpha\"\n[listen]\nhttp = \"0.0.0.0:8470\"\nline = \"0.0.0.0:8471\"\n";
        let tls = parse(&format!("{open}[http]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n")).expect("HTTPS");
        assert_eq!(tls.console_url(), "https://0.0.0.0:8470/");
        let plain = parse("name = \"alpha\"\n[listen]\nhttp = \"[::1]:8470\"\nline = \"[::1]:8471\"\n").expect("plain");
        assert_eq!(plain.console_url(), "http://[::1]:8470/");
    }

    #[test]
    fn media_addresses_the_ring_timeout_and_recording_retention_have_defaults_and_bounds() {
        let key = hotline_identity::StationKey::generate("bravo").expect("key").verifier();
        let line = format!("[[line]]\npeer = \"bravo\"\nkey = \"{key}\"\naddrs = [\"127.0.0.1:9\"]\n");
        let c = parse(&format!("{BASE}{line}")).expect("defaults");
        assert_eq!(c.media.browser_udp(), "127.0.0.1:0".parse().expect("address"));
        assert_eq!(c.media.peer_udp, None, "the line's own address, over UDP");
        assert_eq!(c.lines[0].call_ring_timeout_ms(), 60_000);
        let c = parse(&format!(
            "{BASE}[media]\nbrowser_udp = \"10.0.0.5:0\"\npeer_udp = \"0.0.0.0:7001\"\n{line}call_ring_timeout_s = 20\n"
        ))
        .expect("set");
        assert_eq!(c.media.browser_udp(), "10.0.0.5:0".parse().expect("address"));
        assert_eq!(c.media.peer_udp, Some("0.0.0.0:7001".parse().expect("address")));
        assert_eq!(c.lines[0].call_ring_timeout_ms(), 20_000);
        for bad in [0, 601] {
            let e = parse(&format!("{BASE}{line}call_ring_timeout_s = {bad}\n")).unwrap_err();
            assert!(e.contains("call_ring_timeout_s") && e.contains("1 to 600"), "{e}");
        }
        assert_eq!(c.lines[0].recording_retention_days(), 90);
        assert_eq!(c.lines[0].call_line_grace_ms(), 5_000);
        let graced = parse(&format!("{BASE}{line}call_line_grace_s = 0\n")).expect("no grace");
        assert_eq!(graced.lines[0].call_line_grace_ms(), 0);
        let e = parse(&format!("{BASE}{line}call_line_grace_s = 3601\n")).unwrap_err();
        assert!(e.contains("call_line_grace_s") && e.contains("0 to 3600"), "{e}");
        let kept = parse(&format!("{BASE}{line}recording_retention_days = 3650\n")).expect("ten years");
        assert_eq!(kept.lines[0].recording_retention_days(), 3650);
        for bad in [0, 3651] {
            let e = parse(&format!("{BASE}{line}recording_retention_days = {bad}\n")).unwrap_err();
            assert!(e.contains("recording_retention_days") && e.contains("1 to 3650"), "{e}");
        }
        let e = parse(&format!("{BASE}[media]\nstun = \"stun.example:3478\"\n")).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn host_port_checks() {
        assert!(valid_host_port("127.0.0.1:80"));
        assert!(valid_host_port("bravo.example:8471"));
        assert!(valid_host_port("[::1]:8471"));
        assert!(!valid_host_port("127.0.0.1"));
        assert!(!valid_host_port(":80"));
        assert!(!valid_host_port("h:0"));
        assert!(!valid_host_port("h:99999"));
    }
}
