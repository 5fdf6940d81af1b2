//! The serving station's door for the command line: `DIR/admin.sock`, a Unix socket only
//! the station's own user can open (mode 0600), speaking one JSON request and one JSON
//! answer per connection. The record-writing commands (`user ...`, `token ...`,
//! `line ...`) use it while the station serves, so their record entries go through the
//! station's `Core` — the record's one writer — instead of around it, and a line added or
//! removed there starts or stops at once.
//!
//! Whoever can open the socket can already read the station's key and database, so the
//! socket needs no credential of its own; its mode is what keeps everyone else out.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::UnixListener;
use tokio::sync::Semaphore;

use super::lines::{LineChange, LineControl, LineInfo, NewLine};
use super::{self as admin, AdminError};
use crate::core::Core;

/// The socket in a station directory.
pub const SOCKET_FILE: &str = "admin.sock";
/// Largest request line (a user name, a role and a password fit many times over).
#[allow(non_upper_case_globals)]
pub const request_bytes_max: usize = 16 * 1024;
/// Administrative connections handled at once.
#[allow(non_upper_case_globals)]
const connections_max: usize = 4;
/// How long a client may take to send its request, and we to answer it.
#[allow(non_upper_case_globals)]
const exchange_timeout_ms: u64 = 30_000;

/// What the command line asks of a serving station.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    UserAdd {
        name: String,
        role: String,
        password: String,
        replace: bool,
    },
    TokenCreate {
        user: String,
    },
    UserList,
    UserDisable {
        name: String,
    },
    UserEnable {
        name: String,
    },
    UserRemove {
        name: String,
    },
    TokenList,
    TokenRevoke {
        id: String,
    },
    LineList,
    LineAdd {
        peer: String,
        key: String,
        addrs: Vec<String>,
        heartbeat_interval_ms: Option<u64>,
        reconnect_backoff_max_ms: Option<u64>,
    },
    LineChange {
        peer: String,
        addrs: Option<Vec<String>>,
        heartbeat_interval_ms: Option<u64>,
        reconnect_backoff_max_ms: Option<u64>,
    },
    LineRemove {
        peer: String,
    },
}

/// The station's answer: `error` is one sentence for stderr.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub ok: bool,
    /// Lines to print (listings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Binds `dir/admin.sock` (replacing a stale one: we hold the directory's lock, so no
/// other station can be listening on it) with mode 0600.
pub fn bind(dir: &Path) -> std::io::Result<(UnixListener, PathBuf)> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(SOCKET_FILE);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok((listener, path))
}

/// Answers administrative requests until the task is aborted; `lines` runs the
/// station's lines.
pub async fn serve(listener: UnixListener, core: Arc<Core>, lines: Arc<dyn LineControl>) {
    let slots = Arc::new(Semaphore::new(connections_max));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let (core, lines) = (core.clone(), lines.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let exchange = async {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                let mut reader = tokio::io::BufReader::new(read).take(request_bytes_max as u64);
                reader.read_line(&mut line).await?;
                let answer = match serde_json::from_str::<Request>(&line) {
                    Ok(request) => answer(&core, &*lines, request).await,
                    Err(e) => {
                        Answer { error: Some(format!("not an administrative request: {e}")), ..Answer::default() }
                    }
                };
                let mut text = serde_json::to_string(&answer).unwrap_or_default();
                text.push('\n');
                write.write_all(text.as_bytes()).await?;
                write.shutdown().await
            };
            match tokio::time::timeout(Duration::from_millis(exchange_timeout_ms), exchange).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "administrative connection failed"),
                Err(_) => tracing::warn!("administrative connection timed out"),
            }
        });
    }
}

/// Carries out `request` on `core` and `lines`: the serving station's for a socket
/// request, or the command's own when no station serves — the same code either way.
pub async fn answer(core: &Core, lines: &dyn LineControl, request: Request) -> Answer {
    use super::accounts;
    let done = |lines: Vec<String>| Answer { ok: true, lines, ..Answer::default() };
    let refused = |e: &dyn std::fmt::Display| Answer { error: Some(e.to_string()), ..Answer::default() };
    tracing::info!(request = ?RequestKind(&request), "administrative request");
    let by = "cli";
    match request {
        Request::UserAdd { name, role, password, replace } => {
            match admin::user_add_on(core, &name, &role, password, replace).await {
                Ok(()) => done(Vec::new()),
                Err(e) => refused(&e),
            }
        }
        Request::TokenCreate { user } => match admin::token_create_on(core, &user).await {
            Ok(token) => Answer { ok: true, token: Some(token), ..Answer::default() },
            Err(e) => refused(&e),
        },
        Request::UserList => match accounts::list_users(core).await {
            Ok(users) => done(
                users
                    .iter()
                    .map(|u| {
                        let state = if u.disabled_ms.is_some() { "disabled" } else { "active" };
                        let last = u.last_login_ms.map_or("never".to_owned(), crate::rfc3339);
                        format!("{}\t{}\t{state}\tlast login {last}", u.name, u.role.as_str())
                    })
                    .collect(),
            ),
            Err(e) => refused(&e),
        },
        Request::UserDisable { name } => {
            let change = accounts::UserChange { disabled: Some(true), ..Default::default() };
            match accounts::change_user(core, &name, change, by).await {
                Ok(_) => done(vec![format!("user {name} disabled; its sessions and tokens ended")]),
                Err(e) => refused(&e),
            }
        }
        Request::UserEnable { name } => {
            let change = accounts::UserChange { disabled: Some(false), ..Default::default() };
            match accounts::change_user(core, &name, change, by).await {
                Ok(_) => done(vec![format!("user {name} enabled; it needs a new token or login")]),
                Err(e) => refused(&e),
            }
        }
        Request::UserRemove { name } => match accounts::remove_user(core, &name, by).await {
            Ok(()) => done(vec![format!("user {name} removed; its sessions and tokens ended")]),
            Err(e) => refused(&e),
        },
        Request::TokenList => match accounts::list_tokens(core, crate::now_ms()).await {
            Ok(tokens) => done(
                tokens
                    .iter()
                    .map(|t| {
                        let expires = t.expires_ms.map_or("never".to_owned(), crate::rfc3339);
                        let label = t.label.as_deref().unwrap_or("-");
                        format!(
                            "{}\t{}\t{label}\tcreated {}\texpires {expires}",
                            t.id,
                            t.user,
                            crate::rfc3339(t.created_ms)
                        )
                    })
                    .collect(),
            ),
            Err(e) => refused(&e),
        },
        Request::TokenRevoke { id } => match accounts::revoke_token(core, &id, by).await {
            Ok(()) => done(vec![format!("token {id} revoked")]),
            Err(e) => refused(&e),
        },
        Request::LineList => match lines.list().await {
            Ok(list) => done(list.iter().map(line_row).collect()),
            Err(e) => refused(&e),
        },
        Request::LineAdd { peer, key, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms } => {
            let new = NewLine { peer, key, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms };
            match lines.add(new, by.to_owned()).await {
                Ok(info) => {
                    let peer = &info.line.peer;
                    let when = if info.state.is_some() {
                        "it is starting now (no restart needed)"
                    } else {
                        "it comes up when `hotline serve` starts"
                    };
                    done(vec![
                        format!("line to {peer} added; {when}"),
                        format!("safety number: {}", info.safety_number),
                        format!(
                            "read it aloud with {peer}'s operator: their `hotline line add` for this station shows the same"
                        ),
                    ])
                }
                Err(e) => refused(&e),
            }
        }
        Request::LineChange { peer, addrs, heartbeat_interval_ms, reconnect_backoff_max_ms } => {
            let change = LineChange { addrs, heartbeat_interval_ms, reconnect_backoff_max_ms };
            match lines.change(peer, change, by.to_owned()).await {
                Ok(info) => done(vec![format!("line to {} changed", info.line.peer), line_row(&info)]),
                Err(e) => refused(&e),
            }
        }
        Request::LineRemove { peer } => match lines.remove(peer, by.to_owned()).await {
            Ok(info) => done(vec![format!(
                "line to {} removed (it pinned the key with fingerprint {}); its history stays in the record",
                info.line.peer, info.fingerprint
            )]),
            Err(e) => refused(&e),
        },
    }
}

/// One line of `hotline line list`: peer, state, addresses, safety number.
fn line_row(info: &LineInfo) -> String {
    format!(
        "{}\t{}\t{}\tsafety number {}",
        info.line.peer,
        info.state.unwrap_or("not serving"),
        info.line.addrs.join(","),
        info.safety_number
    )
}

/// A request without its secrets, for the log.
struct RequestKind<'r>(&'r Request);

impl std::fmt::Debug for RequestKind<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Request::UserAdd { name, role, .. } => write!(f, "user add {name} ({role})"),
            Request::TokenCreate { user } => write!(f, "token create for {user}"),
            Request::UserList => write!(f, "user list"),
            Request::UserDisable { name } => write!(f, "user disable {name}"),
            Request::UserEnable { name } => write!(f, "user enable {name}"),
            Request::UserRemove { name } => write!(f, "user remove {name}"),
            Request::TokenList => write!(f, "token list"),
            Request::TokenRevoke { id } => write!(f, "token revoke {id}"),
            Request::LineList => write!(f, "line list"),
            Request::LineAdd { peer, addrs, .. } => write!(f, "line add {peer} at {addrs:?}"),
            Request::LineChange { peer, .. } => write!(f, "line change {peer}"),
            Request::LineRemove { peer } => write!(f, "line remove {peer}"),
        }
    }
}

/// Sends `request` to the station serving `dir` and returns its answer.
pub fn ask(dir: &Path, request: &Request) -> Result<Answer, AdminError> {
    let path = dir.join(SOCKET_FILE);
    let unreachable = |e: std::io::Error| {
        AdminError::Refused(format!(
            "the station in {} is serving but does not answer on {} ({e}); run this command again once it is up, or stop it",
            dir.display(),
            path.display()
        ))
    };
    let mut stream = std::os::unix::net::UnixStream::connect(&path).map_err(unreachable)?;
    let timeout = Some(Duration::from_millis(exchange_timeout_ms));
    stream.set_read_timeout(timeout).and_then(|()| stream.set_write_timeout(timeout)).map_err(unreachable)?;
    let mut text = serde_json::to_string(request).map_err(|e| AdminError::Refused(e.to_string()))?;
    text.push('\n');
    stream.write_all(text.as_bytes()).map_err(unreachable)?;
    let mut line = String::new();
    BufReader::new(stream).take(64 * 1024).read_line(&mut line).map_err(unreachable)?;
    serde_json::from_str(&line)
        .map_err(|e| AdminError::Refused(format!("the station in {} gave an unreadable answer: {e}", dir.display())))
}
