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

use super::{Command, LineHandle};

/// Time allowed for a TCP connect to one address before trying the next.
#[allow(non_upper_case_globals)]
pub const connect_timeout_ms: u64 = 1000;
/// Time allowed for a TLS handshake.
#[allow(non_upper_case_globals)]
pub const handshake_timeout_ms: u64 = 3000;
/// Incoming handshakes in progress at once; more wait for a slot.
#[allow(non_upper_case_globals)]
pub const pending_handshakes_max: usize = 64;

/// How long a dial waits on one address before also trying the next: a silently dead
/// primary costs this much, not a whole connect timeout.
#[allow(non_upper_case_globals)]
pub const dial_stagger_ms: u64 = 250;

/// What one dial found.
pub struct Dialed {
    /// The first authenticated connection, its address and that address's index in the
    /// list (0: the primary), or why every address failed.
    pub result: Result<(TlsStream<TcpStream>, String, usize), String>,
    /// Addresses where something presented a key other than the pinned one.
    pub key_mismatches: Vec<String>,
}

/// Dials `addrs`, primary first: each next address starts `dial_stagger_ms` after the one
/// before it unless a connection is made first, and the first authenticated connection
/// wins (the others are dropped). A line whose primary path has gone silent thus fails
/// over in about a stagger, not a connect timeout per dead address.
pub async fn dial(addrs: &[String], own: &StationKey, peer: &VerifierKey) -> Dialed {
    use futures_util::StreamExt as _;
    let failed = |reason: String| Dialed { result: Err(reason), key_mismatches: Vec::new() };
    let config = match hotline_tls::client_config(own, peer) {
        Ok(c) => c,
        Err(e) => return failed(e.to_string()),
    };
    let Some(server_name) = rustls_server_name(peer.name()) else {
        return failed(format!("peer name {} cannot be used as a TLS server name", peer.name()));
    };
    let connector = TlsConnector::from(config);
    let mut attempts = futures_util::stream::FuturesUnordered::new();
    for (i, addr) in addrs.iter().enumerate() {
        let (connector, server_name, addr) = (connector.clone(), server_name.clone(), addr.clone());
        let peer_name = peer.name().to_owned();
        attempts.push(async move {
            tokio::time::sleep(Duration::from_millis(dial_stagger_ms * i as u64)).await;
            let outcome = attempt(&connector, server_name, &addr, &peer_name).await;
            (i, addr, outcome)
        });
    }
    let (mut failures, mut key_mismatches) = (Vec::new(), Vec::new());
    while let Some((index, addr, outcome)) = attempts.next().await {
        match outcome {
            Ok(tls) => return Dialed { result: Ok((TlsStream::Client(tls), addr, index)), key_mismatches },
            Err(Failure::KeyMismatch) => {
                failures.push(format!("{addr}: presented a key other than the pinned one"));
                key_mismatches.push(addr);
            }
            Err(Failure::Other(e)) => failures.push(format!("{addr}: {e}")),
        }
    }
    Dialed { result: Err(failures.join("; ")), key_mismatches }
}

enum Failure {
    KeyMismatch,
    Other(String),
}

async fn attempt(
    connector: &TlsConnector,
    server_name: tokio_rustls::rustls::pki_types::ServerName<'static>,
    addr: &str,
    peer: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Failure> {
    let tcp = match tokio::time::timeout(Duration::from_millis(connect_timeout_ms), TcpStream::connect(addr)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Err(Failure::Other(e.to_string())),
        Err(_) => return Err(Failure::Other(format!("no answer within {connect_timeout_ms} ms"))),
    };
    let _ = tcp.set_nodelay(true);
    match tokio::time::timeout(Duration::from_millis(handshake_timeout_ms), connector.connect(server_name, tcp)).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(e)) => {
            tracing::warn!(%peer, %addr, error = %e, "line handshake refused");
            // The verifier logged both fingerprints; the line task raises the alarm.
            Err(if is_key_mismatch(&e) { Failure::KeyMismatch } else { Failure::Other(e.to_string()) })
        }
        Err(_) => Err(Failure::Other(format!("TLS handshake took over {handshake_timeout_ms} ms"))),
    }
}

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
                addr_index: None,
            };
            let _ = line.commands.send(command).await;
        });
    }
}
