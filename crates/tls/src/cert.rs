//! The station certificate: a self-signed carrier for the station's Ed25519 key.
//!
//! The certificate is generated at start-up from the station key instead of being stored,
//! so there is nothing to renew or keep in step with the key file. Its subject common name
//! is the station name, which only serves to name the presented key in log lines when a
//! peer is refused. This module also reads the key back out of a peer's certificate.

use hotline_identity::StationKey;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::TlsError;

/// The DER encoding of an Ed25519 SubjectPublicKeyInfo before the key itself (RFC 8410):
/// `SEQUENCE(42) { SEQUENCE(5) { OID 1.3.101.112 }, BIT STRING(33) { 0 unused bits, key } }`.
/// Ed25519 keys have one fixed-length encoding and no parameters, so comparing this prefix
/// and the total length identifies an Ed25519 key exactly, with no further ASN.1 to read.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A station's own certificate chain (just the one self-signed certificate) and its key,
/// in the form `rustls` takes them.
pub(crate) struct StationCertificate {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
}

/// Makes the self-signed certificate for `own`, subject CN = station name.
pub(crate) fn station_certificate(own: &StationKey) -> Result<StationCertificate, TlsError> {
    let failed = |source| TlsError::Certificate { station: own.name().to_owned(), source };
    let pkcs8 = PrivatePkcs8KeyDer::from(own.pkcs8_der());
    let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519).map_err(failed)?;
    // No subject alternative names: peers ignore names, the key is what they check.
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    let mut subject = rcgen::DistinguishedName::new();
    subject.push(rcgen::DnType::CommonName, own.name());
    params.distinguished_name = subject;
    let certificate = params.self_signed(&key_pair).map_err(failed)?;
    Ok(StationCertificate { chain: vec![certificate.der().clone()], key: PrivateKeyDer::Pkcs8(pkcs8) })
}

/// What a peer's end-entity certificate says about who it is.
pub(crate) struct PresentedKey {
    /// The Ed25519 public key, if the certificate carries one.
    pub(crate) key: Option<[u8; 32]>,
    /// The subject common name, if the certificate parses and has a printable one.
    pub(crate) common_name: Option<String>,
}

/// Reads the Ed25519 key and common name from a certificate received from the network.
/// Anything that does not parse, or carries another kind of key, yields `None` fields.
pub(crate) fn presented_key(certificate: &CertificateDer<'_>) -> PresentedKey {
    let Ok((rest, parsed)) = X509Certificate::from_der(certificate.as_ref()) else {
        return PresentedKey { key: None, common_name: None };
    };
    if !rest.is_empty() {
        // Bytes after the certificate mean it is not the one DER value it claims to be.
        return PresentedKey { key: None, common_name: None };
    }
    let common_name = parsed.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned);
    PresentedKey { key: ed25519_key_from_spki(parsed.public_key().raw), common_name }
}

/// The 32-byte key of an Ed25519 SubjectPublicKeyInfo in DER, or `None` for any other key.
fn ed25519_key_from_spki(spki_der: &[u8]) -> Option<[u8; 32]> {
    let key = spki_der.strip_prefix(&ED25519_SPKI_PREFIX[..])?;
    key.try_into().ok()
}

/// The Ed25519 key of the peer's end-entity certificate, once the handshake has completed.
///
/// Call it on an established connection (for `tokio_rustls`, `stream.get_ref().1`) to find
/// which configured line an incoming connection belongs to: the server verifier has already
/// checked that the key is one of the configured peers' and that the peer holds its private
/// half. Returns `None` while the handshake is still in progress or when the peer sent no
/// Ed25519 certificate (which the verifiers of this crate never let through).
pub fn peer_key(conn: &rustls::CommonState) -> Option<[u8; 32]> {
    if conn.is_handshaking() {
        return None;
    }
    let end_entity = conn.peer_certificates()?.first()?;
    presented_key(end_entity).key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_station_certificate_carries_the_station_key_and_name() {
        let own = StationKey::generate("alpha").expect("key");
        let certificate = station_certificate(&own).expect("certificate");
        assert_eq!(certificate.chain.len(), 1);
        let presented = presented_key(&certificate.chain[0]);
        assert_eq!(presented.key.as_ref(), Some(own.verifier().key_bytes()));
        assert_eq!(presented.common_name.as_deref(), Some("alpha"));
    }

    #[test]
    fn garbage_and_other_key_types_yield_no_key() {
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let presented = presented_key(&garbage);
        assert!(presented.key.is_none() && presented.common_name.is_none());

        let p256 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("p256 key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, "bravo");
        let certificate = params.self_signed(&p256).expect("certificate");
        let presented = presented_key(certificate.der());
        assert!(presented.key.is_none());
        assert_eq!(presented.common_name.as_deref(), Some("bravo"));

        // A prefix with a truncated or overlong key is not an Ed25519 key either.
        let mut short = ED25519_SPKI_PREFIX.to_vec();
        short.extend_from_slice(&[7; 31]);
        assert!(ed25519_key_from_spki(&short).is_none());
        short.extend_from_slice(&[7; 2]);
        assert!(ed25519_key_from_spki(&short).is_none());
    }
}
