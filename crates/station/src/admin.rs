//! Station administration from the command line: `init`, `key`, `line add`, `user add`,
//! `token create`.
//!
//! These work on the station directory directly (configuration file, key file, database)
//! and may run while the station serves: the database is in WAL mode with a busy timeout,
//! and configuration changes take effect at the next `hotline serve`.

use std::net::SocketAddr;
use std::path::Path;

use hotline_identity::{StationKey, VerifierKey, check_station_name};
use hotline_store::{Role, Store};

use crate::auth;
use crate::config::{CONFIG_FILE, Config, DB_FILE, KEY_FILE, LANGS, valid_host_port};
use crate::core::entry_text;
use crate::now_ms;

/// Why an administrative command failed; each message is one sentence for stderr.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Identity(#[from] hotline_identity::IdentityError),
    #[error("{0}")]
    Auth(#[from] auth::AuthError),
    #[error("{path}: {what}")]
    File { path: String, what: String },
    #[error("station database: {0}")]
    Store(#[from] hotline_store::StoreError),
    #[error("{0}")]
    Refused(String),
}

fn file_error(path: &Path, what: impl std::fmt::Display) -> AdminError {
    AdminError::File { path: path.display().to_string(), what: what.to_string() }
}

/// Settings for a new station.
pub struct InitOptions {
    pub name: String,
    pub http: SocketAddr,
    pub line: SocketAddr,
    pub lang: String,
}

/// Creates a station in `dir` and returns its public key.
pub fn init(dir: &Path, options: &InitOptions) -> Result<VerifierKey, AdminError> {
    check_station_name(&options.name)?;
    if !LANGS.contains(&options.lang.as_str()) {
        return Err(AdminError::Refused(format!("language {:?} is not shipped; use en or ru", options.lang)));
    }
    let config_path = dir.join(CONFIG_FILE);
    if config_path.exists() {
        return Err(AdminError::Refused(format!(
            "{} already exists: {} is already a station (use `hotline key {}`)",
            config_path.display(),
            dir.display(),
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    let key = StationKey::generate(&options.name)?;
    write_private(&dir.join(KEY_FILE), format!("{}\n", key.to_private_text()).as_bytes())?;
    let text = Config::initial_text(&options.name, &options.lang, options.http, options.line);
    std::fs::write(&config_path, text).map_err(|e| file_error(&config_path, e))?;
    let db = dir.join(DB_FILE);
    let mut store = Store::open(&db)?;
    let at = now_ms();
    let body = entry_text(
        "station.created",
        serde_json::json!({"station": options.name, "key": key.verifier().to_string(), "by": "cli"}),
        at,
    );
    store.write(|tx| tx.append_entry(at, "station.created", &body))?;
    Ok(key.verifier())
}

/// Writes a file only its owner can read, created with that mode (no window where it
/// is readable by others).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AdminError> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).map_err(|e| file_error(path, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| file_error(path, e))
}

/// Reads the station key, checking it belongs to the configured name.
pub fn load_key(dir: &Path, config: &Config) -> Result<StationKey, AdminError> {
    let path = dir.join(KEY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(&path, e))?;
    let key = StationKey::from_private_text(&text).map_err(|e| file_error(&path, e))?;
    if key.name() != config.name {
        return Err(file_error(
            &path,
            format!("key is for station {:?} but station.toml says {:?}", key.name(), config.name),
        ));
    }
    Ok(key)
}

/// The station's public key.
pub fn key(dir: &Path) -> Result<VerifierKey, AdminError> {
    let config = Config::load(dir)?;
    Ok(load_key(dir, &config)?.verifier())
}

/// Adds a `[[line]]` to the configuration, keeping the file's comments and layout.
pub fn line_add(dir: &Path, peer: &str, key: &str, addrs: &[String]) -> Result<(), AdminError> {
    let config = Config::load(dir)?;
    check_station_name(peer)?;
    let verifier = VerifierKey::parse(key)?;
    if verifier.name() != peer {
        return Err(AdminError::Refused(format!(
            "the key is for station {:?}, not {peer:?}: paste the output of `hotline key` run on {peer}",
            verifier.name()
        )));
    }
    if config.lines.iter().any(|l| l.peer == peer) {
        return Err(AdminError::Refused(format!(
            "a line to {peer} is already configured in {}; edit the file to change it",
            dir.join(CONFIG_FILE).display()
        )));
    }
    if addrs.is_empty() {
        return Err(AdminError::Refused("give at least one --addr HOST:PORT".into()));
    }
    if let Some(bad) = addrs.iter().find(|a| !valid_host_port(a)) {
        return Err(AdminError::Refused(format!("address {bad:?} is not HOST:PORT")));
    }
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(&path, e))?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| file_error(&path, e))?;
    let mut table = toml_edit::Table::new();
    table["peer"] = toml_edit::value(peer);
    table["key"] = toml_edit::value(verifier.to_string());
    let mut list = toml_edit::Array::new();
    for a in addrs {
        list.push(a.as_str());
    }
    table["addrs"] = toml_edit::value(list);
    table.decor_mut().set_prefix("\n# Primary address first, then backups.\n");
    let lines = doc.entry("line").or_insert(toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
    let Some(lines) = lines.as_array_of_tables_mut() else {
        return Err(file_error(&path, "`line` must be an array of tables ([[line]])"));
    };
    lines.push(table);
    let new_text = doc.to_string();
    // Check the result before replacing the file, so a bad edit never lands.
    Config::parse(&path, &new_text)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, &new_text).map_err(|e| file_error(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| file_error(&path, e))?;
    Ok(())
}

/// Adds an operator, or with `replace` sets a new password and role for an existing one.
pub fn user_add(dir: &Path, name: &str, role: &str, password: &str, replace: bool) -> Result<(), AdminError> {
    let role = Role::parse(role)
        .ok_or_else(|| AdminError::Refused(format!("role {role:?} is unknown; use operator, supervisor or auditor")))?;
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(AdminError::Refused(format!(
            "user name {name:?} is not allowed: use 1 to 64 of a-z, A-Z, 0-9, '-', '_' and '.'"
        )));
    }
    let config = Config::load(dir)?;
    let phc = auth::hash_password(password)?;
    let mut store = Store::open(&dir.join(DB_FILE))?;
    let at = now_ms();
    let body = entry_text("user.added", serde_json::json!({"user": name, "role": role.as_str(), "by": "cli"}), at);
    store
        .write(|tx| {
            let added = tx.add_user(name, role, &phc, now_ms())?;
            if !added && !replace {
                return Ok(false);
            }
            if !added {
                tx.set_password(name, role, &phc)?;
            }
            tx.append_entry(at, "user.added", &body)?;
            Ok(true)
        })?
        .then_some(())
        .ok_or_else(|| AdminError::Refused(format!("user {name:?} already exists on station {}", config.name)))
}

/// Creates an API token for `user`; returns the token, shown only this once.
pub fn token_create(dir: &Path, user: &str) -> Result<String, AdminError> {
    let config = Config::load(dir)?;
    let mut store = Store::open(&dir.join(DB_FILE))?;
    let (token, hash) = auth::new_secret()?;
    let at = now_ms();
    let body = entry_text("token.created", serde_json::json!({"user": user, "by": "cli"}), at);
    store
        .write(|tx| {
            if tx.user(user)?.is_none() {
                return Ok(false);
            }
            tx.add_token(&hash, user, now_ms())?;
            tx.append_entry(at, "token.created", &body)?;
            Ok(true)
        })?
        .then_some(token)
        .ok_or_else(|| {
            AdminError::Refused(format!("no user {user:?} on station {}; add one with `hotline user add`", config.name))
        })
}
