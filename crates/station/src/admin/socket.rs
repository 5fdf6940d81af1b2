//! The serving station's door for the command line: `DIR/admin.sock`, a Unix socket only
//! the station's own user can open (mode 0600), speaking one JSON request and one JSON
//! answer per connection. `hotline user add` and `hotline token create` use it while the
//! station serves, so their record entries go through the station's `Core` — the record's
//! one writer — instead of around it.
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
    UserAdd { name: String, role: String, password: String, replace: bool },
    TokenCreate { user: String },
}

/// The station's answer: `error` is one sentence for stderr.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub ok: bool,
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

/// Answers administrative requests until the task is aborted.
pub async fn serve(listener: UnixListener, core: Arc<Core>) {
    let slots = Arc::new(Semaphore::new(connections_max));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let core = core.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let exchange = async {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                let mut reader = tokio::io::BufReader::new(read).take(request_bytes_max as u64);
                reader.read_line(&mut line).await?;
                let answer = match serde_json::from_str::<Request>(&line) {
                    Ok(request) => answer(&core, request).await,
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

async fn answer(core: &Arc<Core>, request: Request) -> Answer {
    let result = match request {
        Request::UserAdd { name, role, password, replace } => {
            tracing::info!(user = %name, %role, "user added through the administrative socket");
            admin::user_add_on(core, &name, &role, password, replace).await.map(|()| None)
        }
        Request::TokenCreate { user } => {
            tracing::info!(%user, "token created through the administrative socket");
            admin::token_create_on(core, &user).await.map(Some)
        }
    };
    match result {
        Ok(token) => Answer { ok: true, token, error: None },
        Err(e) => Answer { ok: false, token: None, error: Some(e.to_string()) },
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
