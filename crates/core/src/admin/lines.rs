//! Lines added, changed and removed while the station serves, and from the command line
//! when it does not: the checks every request passes, the `station.toml` change that
//! keeps it across a restart, and the record entry naming who did it.
//!
//! The line tasks live a floor above (`hotline-line`), so this module does not run them:
//! whoever does implements [`LineControl`] — the serving station (`hotline_station::lines`,
//! which also starts and stops the tasks), or [`OfflineLines`] here when no station
//! serves. The API and the administrative socket talk only to that trait.
//!
//! A pinned key never changes in place: a line is removed (`line.removed`, with the old
//! key's fingerprint) and added again (`line.added`, with the new one), so the record
//! shows both, and both operators compare the new safety number aloud before trusting it.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use hotline_identity::{VerifierKey, check_station_name};
use hotline_store::StoreError;
use serde_json::{Value, json};

use super::station_toml::{self, Explicit};
use super::{AdminError, load_key};
use crate::config::{
    Config, PeerLine, WatchConfig, heartbeat_interval_ms_max, heartbeat_interval_ms_min, line_addrs_max, lines_max,
    reconnect_backoff_max_ms_max, reconnect_backoff_max_ms_min, valid_host_port,
};
use crate::core::Core;
use crate::entry_kind::EntryKind;

/// Why a line change was refused; each message is one sentence an operator can act on.
/// A refused change changes nothing: not the file, not the record, not the running lines.
#[derive(Debug, thiserror::Error)]
pub enum LineAdminError {
    /// Bad input, with a stable code: `bad_peer`, `bad_key`, `bad_addr`, `bad_option`,
    /// `key_pinned` (a key change asked of PATCH), `bad_request`.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Admin(#[from] AdminError),
    #[error("station database: {0}")]
    Store(#[from] StoreError),
}

fn invalid(code: &'static str, message: impl Into<String>) -> LineAdminError {
    LineAdminError::Invalid { code, message: message.into() }
}

/// A line to add, as the API and the command line ask for it; options left out take
/// `station.toml`'s defaults.
#[derive(Clone, Debug)]
pub struct NewLine {
    pub peer: String,
    /// The peer's verifier key, `NAME+KEYHASH+BASE64` (what `hotline key` prints there).
    pub key: String,
    /// Primary first.
    pub addrs: Vec<String>,
    pub heartbeat_interval_ms: Option<u64>,
    pub reconnect_backoff_max_ms: Option<u64>,
}

/// What a change to a line asks for; `None` leaves that part as it is.
#[derive(Clone, Debug, Default)]
pub struct LineChange {
    pub addrs: Option<Vec<String>>,
    pub heartbeat_interval_ms: Option<u64>,
    pub reconnect_backoff_max_ms: Option<u64>,
}

/// A line as administration shows it.
#[derive(Clone, Debug)]
pub struct LineInfo {
    pub line: PeerLine,
    /// The pinned key's fingerprint in digit groups.
    pub fingerprint: String,
    /// The line's safety number (the same at both ends).
    pub safety_number: String,
    /// `up`, `connecting` or `down` while the station serves; `None` when it does not.
    pub state: Option<&'static str>,
}

impl LineInfo {
    pub fn new(own: &VerifierKey, line: PeerLine, state: Option<&'static str>) -> LineInfo {
        let key = line.verifier();
        LineInfo {
            fingerprint: key.fingerprint_digits(),
            safety_number: own.safety_number(&key).to_string(),
            line,
            state,
        }
    }
}

/// An answer that is still being worked out.
pub type Reply<'a, T> = Pin<Box<dyn Future<Output = Result<T, LineAdminError>> + Send + 'a>>;

/// Whoever runs the station's lines: each change takes effect at once, survives a
/// restart (`station.toml`) and is a record entry naming `by`.
pub trait LineControl: Send + Sync {
    fn list(&self) -> Reply<'_, Vec<LineInfo>>;
    fn add(&self, line: NewLine, by: String) -> Reply<'_, LineInfo>;
    fn change(&self, peer: String, change: LineChange, by: String) -> Reply<'_, LineInfo>;
    /// Returns the line as it was.
    fn remove(&self, peer: String, by: String) -> Reply<'_, LineInfo>;
}

fn check_addrs(peer: &str, addrs: &[String]) -> Result<(), LineAdminError> {
    if addrs.is_empty() || addrs.len() > line_addrs_max {
        return Err(invalid(
            "bad_addr",
            format!("a line to {peer} needs 1 to {line_addrs_max} addresses, primary first"),
        ));
    }
    for (i, addr) in addrs.iter().enumerate() {
        if !valid_host_port(addr) {
            let shown: String = addr.chars().take(80).collect();
            return Err(invalid("bad_addr", format!("address {shown:?} is not HOST:PORT (like \"10.0.0.2:8471\")")));
        }
        if addrs[..i].contains(addr) {
            return Err(invalid("bad_addr", format!("address {addr:?} is listed twice")));
        }
    }
    Ok(())
}

fn check_options(heartbeat_interval_ms: u64, reconnect_backoff_max_ms: u64) -> Result<(), LineAdminError> {
    if !(heartbeat_interval_ms_min..=heartbeat_interval_ms_max).contains(&heartbeat_interval_ms) {
        return Err(invalid(
            "bad_option",
            format!(
                "heartbeat_interval_ms = {heartbeat_interval_ms} is out of range: use {heartbeat_interval_ms_min} to {heartbeat_interval_ms_max}"
            ),
        ));
    }
    if !(reconnect_backoff_max_ms_min..=reconnect_backoff_max_ms_max).contains(&reconnect_backoff_max_ms) {
        return Err(invalid(
            "bad_option",
            format!(
                "reconnect_backoff_max_ms = {reconnect_backoff_max_ms} is out of range: use {reconnect_backoff_max_ms_min} to {reconnect_backoff_max_ms_max}"
            ),
        ));
    }
    Ok(())
}

/// Checks a new line against the configuration it joins; returns the `[[line]]` entry
/// to write and which options were named.
pub fn check_new(config: &Config, new: NewLine) -> Result<(PeerLine, Explicit), LineAdminError> {
    let NewLine { peer, key, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms } = new;
    check_station_name(&peer).map_err(|e| invalid("bad_peer", e.to_string()))?;
    if peer == config.name {
        return Err(invalid("bad_peer", format!("{peer} is this station: a line goes to another station")));
    }
    let verifier = VerifierKey::parse(&key).map_err(|e| {
        invalid("bad_key", format!("{e}; paste the last line `hotline key` prints on the peer station"))
    })?;
    if verifier.name() != peer {
        return Err(invalid(
            "bad_key",
            format!("the key is for station {:?}, not {peer:?}: use {peer}'s own key", verifier.name()),
        ));
    }
    check_addrs(&peer, &addrs)?;
    let defaults = PeerLine::defaults(&peer);
    let line = PeerLine {
        key: verifier.to_string(),
        addrs,
        heartbeat_interval_ms: heartbeat_interval_ms.unwrap_or(defaults.heartbeat_interval_ms),
        reconnect_backoff_max_ms: reconnect_backoff_max_ms.unwrap_or(defaults.reconnect_backoff_max_ms),
        watch: WatchConfig::default(),
        call_ring_timeout_s: None,
        call_line_grace_s: None,
        recording_retention_days: None,
        peer,
    };
    check_options(line.heartbeat_interval_ms, line.reconnect_backoff_max_ms)?;
    if config.lines.iter().any(|l| l.peer == line.peer) {
        return Err(LineAdminError::Conflict(format!(
            "a line to {} already exists; change its addresses and options, or remove it and add it again to pin another key",
            line.peer
        )));
    }
    if config.lines.len() >= lines_max {
        return Err(LineAdminError::Conflict(format!("this station has {lines_max} lines, the most it may have")));
    }
    let explicit = Explicit {
        heartbeat_interval_ms: heartbeat_interval_ms.is_some(),
        reconnect_backoff_max_ms: reconnect_backoff_max_ms.is_some(),
    };
    Ok((line, explicit))
}

/// The configured line to `peer`.
pub fn configured(config: &Config, peer: &str) -> Result<PeerLine, LineAdminError> {
    config.lines.iter().find(|l| l.peer == peer).cloned().ok_or_else(|| {
        let shown: String = peer.chars().take(40).collect();
        LineAdminError::NotFound(format!("no line to a station named {shown:?}"))
    })
}

/// Checks a change to the line to `peer`; returns the line before and after it.
pub fn check_change(config: &Config, peer: &str, change: LineChange) -> Result<(PeerLine, PeerLine), LineAdminError> {
    let old = configured(config, peer)?;
    if change.addrs.is_none() && change.heartbeat_interval_ms.is_none() && change.reconnect_backoff_max_ms.is_none() {
        return Err(invalid(
            "bad_request",
            "nothing to change: give addrs, heartbeat_interval_ms or reconnect_backoff_max_ms",
        ));
    }
    let mut new = old.clone();
    if let Some(addrs) = change.addrs {
        check_addrs(peer, &addrs)?;
        new.addrs = addrs;
    }
    new.heartbeat_interval_ms = change.heartbeat_interval_ms.unwrap_or(old.heartbeat_interval_ms);
    new.reconnect_backoff_max_ms = change.reconnect_backoff_max_ms.unwrap_or(old.reconnect_backoff_max_ms);
    check_options(new.heartbeat_interval_ms, new.reconnect_backoff_max_ms)?;
    Ok((old, new))
}

fn options_json(line: &PeerLine) -> Value {
    json!({
        "addrs": line.addrs,
        "heartbeat_interval_ms": line.heartbeat_interval_ms,
        "reconnect_backoff_max_ms": line.reconnect_backoff_max_ms,
    })
}

/// Writes `station.toml`, then the record entry; if the entry cannot be written, the
/// file is put back, so the two never disagree about a change that failed.
async fn commit(
    core: &Core,
    previous: station_toml::Previous,
    kind: EntryKind,
    body: Value,
) -> Result<(), LineAdminError> {
    match core.write(move |j| j.append(kind, body)).await {
        Ok(_) => Ok(()),
        Err(e) => {
            previous.restore();
            Err(e.into())
        }
    }
}

/// `line.added`: the line is in `station.toml` and the record.
pub async fn record_added(
    core: &Core,
    dir: &std::path::Path,
    own: &VerifierKey,
    line: &PeerLine,
    explicit: Explicit,
    by: &str,
) -> Result<LineInfo, LineAdminError> {
    let info = LineInfo::new(own, line.clone(), None);
    let previous = station_toml::add_line(dir, line, explicit)?;
    let mut body = options_json(line);
    body["peer"] = json!(line.peer);
    body["key"] = json!(line.key);
    body["fingerprint"] = json!(info.fingerprint);
    body["safety_number"] = json!(info.safety_number);
    body["by"] = json!(by);
    let (peer, key) = (line.peer.clone(), line.key.clone());
    let written = core
        .write(move |j| {
            // Added again with another key than the one it was removed with: another
            // station, whose line starts afresh (`hotline_store::LineRestart`).
            if let Some(was) = last_removed_key(j.tx, &peer)?
                && was != key
            {
                let retired = format!("{peer}/retired@{}", j.tx.last_entry_idx()? + 1);
                let restart = j.tx.restart_line(&peer, &retired)?;
                body["restarted"] = json!({
                    "was": was,
                    "messages_carried": restart.messages_carried,
                    "control_items_dropped": restart.control_items_dropped,
                });
            }
            j.append(EntryKind::LineAdded, body)
        })
        .await;
    if let Err(e) = written {
        previous.restore();
        return Err(e.into());
    }
    Ok(info)
}

/// `line.removed` entries read at most, to learn the keys removed lines pinned: lines are
/// removed by a supervisor's hand, a handful in a station's life.
#[allow(non_upper_case_globals)]
const removals_read_max: i64 = 10_000;

/// Per peer, the key (text) its line pinned when it was last removed, among the first
/// `up_to` entries: what a re-pinning compares with, and what an export lists for a
/// peer whose line is gone. An entry without readable `peer` and `key` (only an edited
/// record has one) is skipped; the auditor names it.
pub fn removed_keys(
    tx: &hotline_store::Tx<'_>,
    up_to: i64,
) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    let mut keys = std::collections::BTreeMap::new();
    for body in tx.entry_bodies_of_kind(EntryKind::LineRemoved.as_str(), up_to, removals_read_max)? {
        let Ok(v) = serde_json::from_str::<Value>(&body) else { continue };
        if let (Some(peer), Some(key)) = (v["peer"].as_str(), v["key"].as_str()) {
            // Oldest first: the last removal of a peer wins.
            keys.insert(peer.to_owned(), key.to_owned());
        }
    }
    Ok(keys)
}

/// The key the line to `peer` pinned when it was last removed, if it ever was.
fn last_removed_key(tx: &hotline_store::Tx<'_>, peer: &str) -> Result<Option<String>, StoreError> {
    Ok(removed_keys(tx, i64::MAX)?.remove(peer))
}

/// `line.changed`: the new addresses and options, and `was`, the old ones.
pub async fn record_changed(
    core: &Core,
    dir: &std::path::Path,
    own: &VerifierKey,
    old: &PeerLine,
    new: &PeerLine,
    by: &str,
) -> Result<LineInfo, LineAdminError> {
    let info = LineInfo::new(own, new.clone(), None);
    let previous = station_toml::change_line(dir, new, old)?;
    let mut body = options_json(new);
    body["peer"] = json!(new.peer);
    body["fingerprint"] = json!(info.fingerprint);
    body["was"] = options_json(old);
    body["by"] = json!(by);
    commit(core, previous, EntryKind::LineChanged, body).await?;
    Ok(info)
}

/// `line.removed`: the key that was pinned, so a later `line.added` shows the change.
pub async fn record_removed(
    core: &Core,
    dir: &std::path::Path,
    own: &VerifierKey,
    line: &PeerLine,
    by: &str,
) -> Result<LineInfo, LineAdminError> {
    let info = LineInfo::new(own, line.clone(), None);
    let previous = station_toml::remove_line(dir, &line.peer)?;
    let body = json!({
        "peer": line.peer,
        "key": line.key,
        "fingerprint": info.fingerprint,
        "addrs": line.addrs,
        "by": by,
    });
    commit(core, previous, EntryKind::LineRemoved, body).await?;
    Ok(info)
}

/// The lines of a station that is not serving: changes go to `station.toml` and the
/// record (through a `Core` of the command's own, which holds the directory's lock), and
/// the lines come up at the next `hotline serve`.
pub struct OfflineLines {
    pub dir: PathBuf,
    pub core: Arc<Core>,
}

impl OfflineLines {
    fn load(&self) -> Result<(Config, VerifierKey), LineAdminError> {
        let config = Config::load(&self.dir).map_err(AdminError::from)?;
        let own = load_key(&self.dir, &config)?.verifier();
        Ok((config, own))
    }
}

impl LineControl for OfflineLines {
    fn list(&self) -> Reply<'_, Vec<LineInfo>> {
        Box::pin(async move {
            let (config, own) = self.load()?;
            Ok(config.lines.into_iter().map(|l| LineInfo::new(&own, l, None)).collect())
        })
    }

    fn add(&self, line: NewLine, by: String) -> Reply<'_, LineInfo> {
        Box::pin(async move {
            let (config, own) = self.load()?;
            let (line, explicit) = check_new(&config, line)?;
            record_added(&self.core, &self.dir, &own, &line, explicit, &by).await
        })
    }

    fn change(&self, peer: String, change: LineChange, by: String) -> Reply<'_, LineInfo> {
        Box::pin(async move {
            let (config, own) = self.load()?;
            let (old, new) = check_change(&config, &peer, change)?;
            record_changed(&self.core, &self.dir, &own, &old, &new, &by).await
        })
    }

    fn remove(&self, peer: String, by: String) -> Reply<'_, LineInfo> {
        Box::pin(async move {
            let (config, own) = self.load()?;
            let line = configured(&config, &peer)?;
            record_removed(&self.core, &self.dir, &own, &line, &by).await
        })
    }
}
