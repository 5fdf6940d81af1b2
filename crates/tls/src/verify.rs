//! The two certificate verifiers: each accepts exactly the pinned Ed25519 keys.
//!
//! `rustls` normally trusts a certificate because a certificate authority signed it for
//! the right name at the right time. On the line none of that applies: a certificate is
//! accepted only if its key is a pinned station key, and the TLS 1.3 handshake signature
//! made with that key proves the peer holds the private half. Names, issuers and dates are
//! never looked at, so neither a wrong clock nor a hostname can take the line down. Every
//! refusal is logged with the fingerprints of the presented and the expected keys, so an
//! operator can tell a rotated key from a wrong address.

use hotline_identity::VerifierKey;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

use crate::cert::{PresentedKey, presented_key};

/// The only handshake signature scheme the line offers and accepts: station keys are Ed25519.
const LINE_SIGNATURE_SCHEMES: [SignatureScheme; 1] = [SignatureScheme::ED25519];

/// The error every refused certificate turns into: the key is not one we pin.
fn refused() -> Error {
    Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
}

fn tls12_refused() -> Error {
    Error::General("the line only speaks TLS 1.3, so a TLS 1.2 signature is never accepted".to_owned())
}

/// The fingerprint of a presented key, computed under the certificate's common name (or
/// "unknown") so it matches the fingerprint the presenting station prints for itself.
fn describe_presented(presented: &PresentedKey) -> String {
    let name = presented.common_name.as_deref().unwrap_or("unknown");
    match presented.key {
        Some(key) => {
            let fingerprint: String =
                hotline_identity::key_hash(name, &key).iter().map(|b| format!("{b:02x}")).collect();
            format!("key with fingerprint {fingerprint} (certificate name {name:?})")
        }
        None => format!("a certificate without an Ed25519 key (certificate name {name:?})"),
    }
}

/// Checks the TLS 1.3 handshake signature with the certificate's own key, after checking
/// again that the key is pinned (`accepts`), so a signature is never checked against a key
/// we would not trust even if `rustls` were to pass a different certificate than it verified.
fn check_tls13_signature(
    message: &[u8],
    certificate: &CertificateDer<'_>,
    signed: &DigitallySignedStruct,
    algorithms: &WebPkiSupportedAlgorithms,
    accepts: impl Fn(&[u8; 32]) -> bool,
) -> Result<HandshakeSignatureValid, Error> {
    if signed.scheme != SignatureScheme::ED25519 {
        return Err(Error::PeerMisbehaved(rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme));
    }
    match presented_key(certificate).key {
        Some(key) if accepts(&key) => verify_tls13_signature(message, certificate, signed, algorithms),
        _ => Err(refused()),
    }
}

/// Client side: accepts the server only if it presents the one key the line pins.
#[derive(Debug)]
pub(crate) struct PinnedServerVerifier {
    peer: VerifierKey,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedServerVerifier {
    pub(crate) fn new(peer: VerifierKey, algorithms: WebPkiSupportedAlgorithms) -> PinnedServerVerifier {
        PinnedServerVerifier { peer, algorithms }
    }
}

impl ServerCertVerifier for PinnedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let presented = presented_key(end_entity);
        if presented.key.as_ref() == Some(self.peer.key_bytes()) {
            return Ok(ServerCertVerified::assertion());
        }
        tracing::warn!(
            "peer presented {}, but line to {} pins key {} (fingerprint {}); connection refused",
            describe_presented(&presented),
            self.peer.name(),
            self.peer,
            self.peer.fingerprint(),
        );
        Err(refused())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _certificate: &CertificateDer<'_>,
        _signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(tls12_refused())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        check_tls13_signature(message, certificate, signed, &self.algorithms, |key| key == self.peer.key_bytes())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        LINE_SIGNATURE_SCHEMES.to_vec()
    }
}

/// Server side: requires a client certificate whose key is one of the configured peers'.
#[derive(Debug)]
pub(crate) struct PinnedClientVerifier {
    peers: Vec<VerifierKey>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedClientVerifier {
    pub(crate) fn new(peers: Vec<VerifierKey>, algorithms: WebPkiSupportedAlgorithms) -> PinnedClientVerifier {
        PinnedClientVerifier { peers, algorithms }
    }

    fn pins(&self, key: &[u8; 32]) -> bool {
        self.peers.iter().any(|peer| peer.key_bytes() == key)
    }
}

impl ClientCertVerifier for PinnedClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// Empty: the peers' certificates are self-signed, there is no authority to hint at.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let presented = presented_key(end_entity);
        if presented.key.as_ref().is_some_and(|key| self.pins(key)) {
            return Ok(ClientCertVerified::assertion());
        }
        let configured: Vec<String> =
            self.peers.iter().map(|peer| format!("{} (fingerprint {})", peer.name(), peer.fingerprint())).collect();
        let configured = if configured.is_empty() { "none".to_owned() } else { configured.join(", ") };
        tracing::warn!(
            "incoming peer presented {}, which no line pins; configured peers: {configured}; connection refused",
            describe_presented(&presented),
        );
        Err(refused())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _certificate: &CertificateDer<'_>,
        _signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(tls12_refused())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        check_tls13_signature(message, certificate, signed, &self.algorithms, |key| self.pins(key))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        LINE_SIGNATURE_SCHEMES.to_vec()
    }
}
