//! The client and server configurations for the line: TLS 1.3, ring, pinned keys only.
//!
//! Both ends present their station certificate and check the other's against the pins, so
//! the dialing station and the accepting station are authenticated alike. Session
//! resumption is turned off on both sides: a resumed session would skip the certificate
//! verifiers, and the line must prove possession of a pinned key on every connection (a
//! full handshake costs a few Ed25519 operations, nothing next to a line that stays up).

use std::sync::Arc;

use hotline_identity::{StationKey, VerifierKey};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, ServerConfig};

use crate::TlsError;
use crate::cert::station_certificate;
use crate::verify::{PinnedClientVerifier, PinnedServerVerifier};

/// The one crypto provider the line uses.
fn line_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The configuration for dialing `peer`: the server must present `peer`'s pinned key.
///
/// The server name passed when connecting is ignored by the verifier and not sent (SNI is
/// off), but `rustls` still needs one: `ServerName::try_from(peer.name())` always works
/// for station names.
pub fn client_config(own: &StationKey, peer: &VerifierKey) -> Result<Arc<ClientConfig>, TlsError> {
    let config_failed = |source| TlsError::Config { station: own.name().to_owned(), source };
    let provider = line_provider();
    let verifier = Arc::new(PinnedServerVerifier::new(peer.clone(), provider.signature_verification_algorithms));
    let certificate = station_certificate(own)?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(config_failed)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(certificate.chain, certificate.key)
        .map_err(config_failed)?;
    config.resumption = Resumption::disabled();
    // The peer's name would only tell an observer which line this is; the server ignores it.
    config.enable_sni = false;
    Ok(Arc::new(config))
}

/// The configuration for accepting peers: the client must present one of `peers`' keys.
///
/// With no peers every client is refused. The peer list is fixed for the life of the
/// configuration; when lines are added or removed, build a new one.
pub fn server_config(own: &StationKey, peers: Vec<VerifierKey>) -> Result<Arc<ServerConfig>, TlsError> {
    let config_failed = |source| TlsError::Config { station: own.name().to_owned(), source };
    let provider = line_provider();
    let verifier = Arc::new(PinnedClientVerifier::new(peers, provider.signature_verification_algorithms));
    let certificate = station_certificate(own)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(config_failed)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certificate.chain, certificate.key)
        .map_err(config_failed)?;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}
