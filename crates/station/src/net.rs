//! Sockets: dialing a peer and accepting peers, both ending in a TLS 1.3 connection whose
//! far end has proved possession of its pinned station key.
//!
//! A refusal happens inside the TLS handshake (`hotline-tls` verifiers), so a peer with
//! the wrong key never gets an application byte read; the refusal is logged there with both
//! keys' fingerprints, and here with the remote address.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hotline_identity::{StationKey, VerifierKey};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};

use crate::link::{Command, LineHandle};

/// Time allowed for a TCP connect to one address before trying the next.
#[allow(non_upper_case_globals)]
pub const connect_timeout_ms: u64 = 1000;
/// Time allowed for a TLS handshake.
#[allow(non_upper_case_globals)]
pub const handshake_timeout_ms: u64 = 3000;
/// Incoming handshakes in progress at once; more wait for a slot.
#[allow(non_upper_case_globals)]
pub const pending_handshakes_max: usize = 64;

/// Dials `addrs` in order (primary first) and returns the first authenticated connection.
pub async fn dial(
    addrs: &[String],
    own: &StationKey,
    peer: &VerifierKey,
) -> Result<(TlsStream<TcpStream>, String), String> {
    let config = hotline_tls::client_config(own, peer).map_err(|e| e.to_string())?;
    let connector = TlsConnector::from(config);
    let mut failures = Vec::new();
    for addr in addrs {
        let tcp = match tokio::time::timeout(Duration::from_millis(connect_timeout_ms), TcpStream::connect(addr)).await
        {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                failures.push(format!("{addr}: {e}"));
                continue;
            }
            Err(_) => {
                failures.push(format!("{addr}: no answer within {connect_timeout_ms} ms"));
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let server_name = match rustls_server_name(peer.name()) {
            Some(n) => n,
            None => return Err(format!("peer name {} cannot be used as a TLS server name", peer.name())),
        };
        let handshake = connector.connect(server_name, tcp);
        match tokio::time::timeout(Duration::from_millis(handshake_timeout_ms), handshake).await {
            Ok(Ok(tls)) => return Ok((TlsStream::Client(tls), addr.clone())),
            Ok(Err(e)) => {
                tracing::warn!(peer = %peer.name(), %addr, error = %e, "line handshake refused");
                if is_key_mismatch(&e) {
                    // The verifier logged both fingerprints; the line task raises the alarm.
                    return Err(format!("{KEY_MISMATCH}{addr}"));
                }
                failures.push(format!("{addr}: {e}"));
            }
            Err(_) => failures.push(format!("{addr}: TLS handshake took over {handshake_timeout_ms} ms")),
        }
    }
    Err(failures.join("; "))
}

/// How a dial failure caused by a wrong key starts: the line task raises an alarm for it.
pub const KEY_MISMATCH: &str = "key mismatch at ";

/// Whether a handshake failed because our verifier refused the key the peer presented
/// (`hotline_tls` refuses exactly that way; it logs both fingerprints).
fn is_key_mismatch(e: &std::io::Error) -> bool {
    use tokio_rustls::rustls::{CertificateError, Error};
    matches!(
        e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()),
        Some(Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
    )
}

fn rustls_server_name(name: &str) -> Option<tokio_rustls::rustls::pki_types::ServerName<'static>> {
    tokio_rustls::rustls::pki_types::ServerName::try_from(name.to_owned()).ok()
}

/// Accepts peers on the line listener until the task is aborted.
pub async fn accept_loop(listener: TcpListener, own: Arc<StationKey>, lines: Arc<BTreeMap<String, LineHandle>>) {
    let peers: Vec<VerifierKey> = lines.values().map(|l| l.key.clone()).collect();
    let config = match hotline_tls::server_config(&own, peers) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the line's TLS configuration; no peer can dial in");
            return;
        }
    };
    let acceptor = TlsAcceptor::from(config);
    let slots = Arc::new(Semaphore::new(pending_handshakes_max));
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "line listener accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let acceptor = acceptor.clone();
        let lines = lines.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tcp.set_nodelay(true);
            let tls =
                match tokio::time::timeout(Duration::from_millis(handshake_timeout_ms), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::warn!(%remote, error = %e, "incoming line handshake refused");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!(%remote, "incoming line handshake timed out");
                        return;
                    }
                };
            let key = hotline_tls::peer_key(tls.get_ref().1);
            let Some(line) = key.and_then(|k| lines.values().find(|l| l.key.key_bytes() == &k)) else {
                tracing::warn!(%remote, "incoming line connection with a key no line pins; closed");
                return;
            };
            let command = Command::Attach {
                stream: Box::new(TlsStream::Server(tls)),
                dialed_by_us: false,
                remote: remote.to_string(),
            };
            let _ = line.commands.send(command).await;
        });
    }
}
