//! Station administration from the command line: `init`, `key`, and the commands that
//! write to the record: `user ...`, `token ...`, `line add|list|change|remove`.
//!
//! The record has one writer, the station's `Core`. A command that writes to the record
//! first takes the directory's lock (`station_lock`): if it gets it, no station is
//! serving, and it opens a `Core` of its own for the one write; if not, the station is
//! serving, and the command asks it to do the write through its administrative socket
//! (`socket`). Either way the entry goes through a `Core`, and a serving station's Merkle
//! tree never meets an entry it did not append. Line commands also rewrite
//! `station.toml` (`station_toml`); a serving station starts or stops the line at once
//! (`lines`).

use std::net::SocketAddr;
use std::path::Path;

use hotline_identity::{StationKey, VerifierKey, check_station_name};
use hotline_store::{Role, Store};

use std::sync::Arc;

pub mod accounts;
pub mod lines;
pub mod socket;
pub mod station_toml;

use crate::auth;
use crate::config::{CONFIG_FILE, Config, DB_FILE, KEY_FILE, LANGS};
use crate::core::Core;
use crate::entry_kind::EntryKind;
use crate::station_lock::{self, Locked};
use socket::Request;

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
    // The configuration holds SMTP passwords and webhook secrets once edited: owner only.
    write_private(&config_path, text.as_bytes())?;
    let Locked::Ours(_lock) = station_lock::try_lock(dir).map_err(|e| file_error(dir, e))? else {
        return Err(AdminError::Refused(format!("{} is in use by another hotline process", dir.display())));
    };
    // The database holds every message and the password hashes: created empty with mode
    // 0600 before SQLite opens it (an empty file is a new database), so SQLite gives its
    // -wal and -shm files the same mode.
    let db_path = dir.join(DB_FILE);
    if !db_path.exists() {
        write_private(&db_path, b"")?;
    }
    let body = serde_json::json!({"station": options.name, "key": key.verifier().to_string(), "by": "cli"});
    let core = open_core(dir, &options.name, &options.lang)?;
    on_own_runtime(async move { core.write(move |j| j.append(EntryKind::StationCreated, body)).await })??;
    for suffix in ["", "-wal", "-shm"] {
        let path = dir.join(format!("{DB_FILE}{suffix}"));
        if path.exists() {
            make_private(&path)?;
        }
    }
    Ok(key.verifier())
}

/// Sets `path` to mode 0600 (on Unix).
fn make_private(path: &Path) -> Result<(), AdminError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| file_error(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
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

/// Reads the station key, checking it belongs to the configured name and that only its
/// owner can read it (refused otherwise, with the fix). The configuration and the
/// database are checked too: readable by others, each gets a warning in the log.
pub fn load_key(dir: &Path, config: &Config) -> Result<StationKey, AdminError> {
    let path = dir.join(KEY_FILE);
    if let Some(mode) = crate::config::readable_by_others(&path) {
        return Err(file_error(
            &path,
            format!(
                "the station key is readable by group or others (mode {mode:o}); anyone who can read it can \
                 impersonate this station. Fix: chmod 600 {}",
                path.display()
            ),
        ));
    }
    for name in [CONFIG_FILE, DB_FILE] {
        let file = dir.join(name);
        if let Some(mode) = crate::config::readable_by_others(&file) {
            tracing::warn!(file = %file.display(), mode = format!("{mode:o}"),
                fix = format!("chmod 600 {}", file.display()),
                "readable by group or others: it holds secrets (SMTP and webhook secrets, password hashes, messages)");
        }
    }
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

/// Adds a line to `peer`: at once if the station serves, else from its next start.
/// Returns the lines to print (with the line's safety number).
pub fn line_add(dir: &Path, peer: &str, key: &str, addrs: &[String]) -> Result<Vec<String>, AdminError> {
    run(
        dir,
        Request::LineAdd {
            peer: peer.to_owned(),
            key: key.to_owned(),
            addrs: addrs.to_vec(),
            heartbeat_interval_ms: None,
            reconnect_backoff_max_ms: None,
        },
    )
}

/// Runs `f` on a runtime of its own, on a thread of its own, so an administrative command
/// works the same from plain code and from inside an async caller (the demo).
fn on_own_runtime<T: Send>(f: impl std::future::Future<Output = T> + Send) -> Result<T, AdminError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| AdminError::Refused(format!("cannot start a runtime: {e}")))?;
                Ok(runtime.block_on(f))
            })
            .join()
            .unwrap_or_else(|_| Err(AdminError::Refused("the administrative command failed".into())))
    })
}

/// A `Core` on the directory's database, for a command that holds the directory's lock.
fn open_core(dir: &Path, name: &str, lang: &str) -> Result<Arc<Core>, AdminError> {
    let store = Store::open(&dir.join(DB_FILE))?;
    Ok(Core::new(name.to_owned(), lang.to_owned(), store)?)
}

/// Where a record-writing command runs: on a `Core` of its own, or through the station.
enum Target {
    Offline(Arc<Core>, station_lock::StationLock),
    Serving,
}

fn target(dir: &Path) -> Result<Target, AdminError> {
    let config = Config::load(dir)?;
    match station_lock::try_lock(dir).map_err(|e| file_error(dir, e))? {
        Locked::Ours(lock) => Ok(Target::Offline(open_core(dir, &config.name, &config.lang)?, lock)),
        Locked::Busy => Ok(Target::Serving),
    }
}

fn check_user_name(name: &str) -> Result<(), AdminError> {
    if hotline_item::validate::valid_operator_name(name) {
        Ok(())
    } else {
        Err(AdminError::Refused(format!(
            "user name {name:?} is not allowed: use 1 to 64 of a-z, A-Z, 0-9, '-', '_' and '.'"
        )))
    }
}

/// Runs an administrative request on the station in `dir`: through its socket when it
/// serves, on a `Core` of our own when not. Returns the lines to print.
pub fn run(dir: &Path, request: Request) -> Result<Vec<String>, AdminError> {
    let answer = match target(dir)? {
        Target::Offline(core, _lock) => {
            let lines = lines::OfflineLines { dir: dir.to_owned(), core: core.clone() };
            on_own_runtime(async move { socket::answer(&core, &lines, request).await })?
        }
        Target::Serving => socket::ask(dir, &request)?,
    };
    match answer.error {
        Some(e) => Err(AdminError::Refused(e)),
        None => Ok(answer.lines),
    }
}

/// Adds an operator, or with `replace` sets a new password and role for an existing one.
pub fn user_add(dir: &Path, name: &str, role: &str, password: &str, replace: bool) -> Result<(), AdminError> {
    Role::parse(role)
        .ok_or_else(|| AdminError::Refused(format!("role {role:?} is unknown; use operator, supervisor or auditor")))?;
    check_user_name(name)?;
    match target(dir)? {
        Target::Offline(core, _lock) => {
            let (name, role, password) = (name.to_owned(), role.to_owned(), password.to_owned());
            on_own_runtime(async move { user_add_on(&core, &name, &role, password, replace).await })?
        }
        Target::Serving => {
            let request = Request::UserAdd { name: name.into(), role: role.into(), password: password.into(), replace };
            let answer = socket::ask(dir, &request)?;
            answer.error.map_or(Ok(()), |e| Err(AdminError::Refused(e)))
        }
    }
}

/// Adds (or with `replace` resets) a user through `core`, as the command line does.
pub async fn user_add_on(
    core: &Core,
    name: &str,
    role: &str,
    password: String,
    replace: bool,
) -> Result<(), AdminError> {
    let role = Role::parse(role)
        .ok_or_else(|| AdminError::Refused(format!("role {role:?} is unknown; use operator, supervisor or auditor")))?;
    accounts::add_user(core, name, role, password, replace, "cli").await.map_err(|e| AdminError::Refused(e.to_string()))
}

/// Creates an API token for `user`; returns the token, shown only this once.
pub fn token_create(dir: &Path, user: &str) -> Result<String, AdminError> {
    match target(dir)? {
        Target::Offline(core, _lock) => {
            let user = user.to_owned();
            on_own_runtime(async move { token_create_on(&core, &user).await })?
        }
        Target::Serving => {
            let answer = socket::ask(dir, &Request::TokenCreate { user: user.into() })?;
            match (answer.token, answer.error) {
                (Some(token), None) => Ok(token),
                (_, Some(e)) => Err(AdminError::Refused(e)),
                (None, None) => Err(AdminError::Refused("the station answered without a token".into())),
            }
        }
    }
}

/// Creates a token through `core`, as the command line does; returns the secret.
pub async fn token_create_on(core: &Core, user: &str) -> Result<String, AdminError> {
    accounts::create_token(core, user, None, None, "cli")
        .await
        .map(|(_, token)| token)
        .map_err(|e| AdminError::Refused(e.to_string()))
}
