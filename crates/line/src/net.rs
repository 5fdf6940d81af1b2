//! Sockets: dialing a peer and accepting peers, both ending in a TLS 1.3 connection whose
//! far end has proved possession of its pinned station key.
//!
//! A refusal happens inside the TLS handshake (`hotline-tls` verifiers), so a peer with
//! the wrong key never gets an application byte read; the refusal is logged there with both
//! keys' fingerprints, and here with the remote address.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_identity::{StationKey, VerifierKey};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::{TlsAcceptor, TlsConnector, TlsStream};

use super::{Command, LineHandle, Lines};

/// Time allowed for a TCP connect to one address before trying the next.
#[allow(non_upper_case_globals)]
pub const connect_timeout_ms: u64 = 1000;
/// Time allowed for a TLS handshake.
#[allow(non_upper_case_globals)]
pub const handshake_timeout_ms: u64 = 3000;
/// Incoming handshakes in progress at once; more wait for a slot.
#[allow(non_upper_case_globals)]
pub const pending_handshakes_max: usize = 64;
/// Incoming handshakes in progress at once from one remote address (an IPv6 /64); one
/// more from there is closed at once, without taking a slot, so nobody can keep the real
/// peer out by filling the slots from one address.
#[allow(non_upper_case_globals)]
pub const pending_handshakes_per_address_max: usize = 4;
/// Least time between two log lines about connections refused over the per-address
/// limit, so a flood does not become a flood of log lines.
#[allow(non_upper_case_globals)]
const refusal_log_interval_ms: u64 = 10_000;

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

/// The TLS acceptor for the lines of `snapshot`: it pins exactly their keys. `None`
/// (logged) when the configuration cannot be built; no peer can dial in then.
fn acceptor_for(own: &StationKey, snapshot: &BTreeMap<String, LineHandle>) -> Option<TlsAcceptor> {
    let peers: Vec<VerifierKey> = snapshot.values().map(|l| l.key.clone()).collect();
    match hotline_tls::server_config(own, peers) {
        Ok(c) => Some(TlsAcceptor::from(c)),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the line's TLS configuration; no peer can dial in");
            None
        }
    }
}

/// Accepts peers on the line listener until the task is aborted. The lines may change
/// while it runs: the TLS configuration is rebuilt for the next connection whenever the
/// registry holds another set of lines, so a newly added peer is accepted and a removed
/// one refused in the handshake.
pub async fn accept_loop(listener: TcpListener, own: Arc<StationKey>, lines: impl Into<Lines>) {
    let lines: Lines = lines.into();
    let mut pinned = lines.snapshot();
    let mut acceptor = acceptor_for(&own, &pinned);
    let slots = Arc::new(Semaphore::new(pending_handshakes_max));
    let per_address = Arc::new(Mutex::new(HashMap::new()));
    let (mut refused, mut last_refusal_log) = (0u64, None::<tokio::time::Instant>);
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "line listener accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(quota) = AddressQuota::take(&per_address, remote.ip()) else {
            drop(tcp);
            refused += 1;
            let now = tokio::time::Instant::now();
            if last_refusal_log.is_none_or(|t| now - t >= Duration::from_millis(refusal_log_interval_ms)) {
                tracing::warn!(%remote, refused, pending_handshakes_per_address_max,
                    "incoming line connection closed: too many handshakes under way from its address");
                last_refusal_log = Some(now);
            }
            continue;
        };
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let now = lines.snapshot();
        if !Arc::ptr_eq(&now, &pinned) {
            acceptor = acceptor_for(&own, &now);
            pinned = now;
        }
        let Some(acceptor) = acceptor.clone() else { continue };
        let lines = lines.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _quota = quota;
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
            // Looked up after the handshake: a line removed meanwhile is refused here.
            let key = hotline_tls::peer_key(tls.get_ref().1);
            let Some(line) = key.and_then(|k| lines.by_key(&k)) else {
                tracing::warn!(%remote, "incoming line connection with a key no line pins; closed");
                return;
            };
            let command = Command::Attach {
                stream: Box::new(TlsStream::Server(tls)),
                origin: hotline_proto::Origin::Accepted,
                remote: remote.to_string(),
            };
            let _ = line.commands.send(command).await;
        });
    }
}

/// Handshakes under way per remote address (IPv6 per /64): at most one entry per pending
/// handshake, so the map is bounded by the slots.
type PerAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// One handshake counted against its remote address; given back when dropped.
struct AddressQuota {
    per_address: PerAddress,
    address: IpAddr,
}

impl AddressQuota {
    /// Counts a handshake from `ip`, or `None` when its address has as many under way as
    /// it may.
    fn take(per_address: &PerAddress, ip: IpAddr) -> Option<AddressQuota> {
        let address = address_key(ip);
        let mut counts = per_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(address).or_insert(0);
        if *count >= pending_handshakes_per_address_max {
            return None;
        }
        *count += 1;
        Some(AddressQuota { per_address: per_address.clone(), address })
    }
}

impl Drop for AddressQuota {
    fn drop(&mut self) {
        let mut counts = self.per_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// A remote address as the per-address limit counts it: IPv6 per /64 (one host usually
/// holds a whole /64), IPv4-mapped addresses as IPv4.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_quota_given_back_when_done() {
        let per_address = PerAddress::default();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let held: Vec<_> = (0..pending_handshakes_per_address_max)
            .map(|_| AddressQuota::take(&per_address, a).expect("under the quota"))
            .collect();
        assert!(AddressQuota::take(&per_address, a).is_none(), "one over the quota");
        assert!(AddressQuota::take(&per_address, "::ffff:192.0.2.1".parse().expect("ip")).is_none());
        let other = AddressQuota::take(&per_address, "192.0.2.2".parse().expect("ip")).expect("another address");
        drop(held);
        drop(other);
        assert!(per_address.lock().expect("lock").is_empty(), "nothing left behind");
        assert!(AddressQuota::take(&per_address, a).is_some());
    }
}
