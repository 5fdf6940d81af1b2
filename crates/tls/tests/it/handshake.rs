//! Handshakes between stations with matching and mismatching pins.
//!
//! Each test builds the configurations exactly as a station would, then pumps TLS records
//! between a `ClientConnection` and a `ServerConnection` in memory until both sides are
//! quiet or one has failed. The refusal cases also check what matters most on the line: the
//! side that refuses never hands an application byte to the station.

use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};

use hotline_identity::{StationKey, VerifierKey};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, ClientConnection, Connection, ServerConfig, ServerConnection};

/// Rounds of pumping after which a handshake that has not settled counts as stuck.
#[allow(non_upper_case_globals)]
const pump_rounds_max: usize = 16;

/// How each side ended up after pumping.
#[derive(Debug, Default)]
struct Outcome {
    client_error: Option<rustls::Error>,
    server_error: Option<rustls::Error>,
}

/// Moves everything `from` wants to send into `to`; returns false if nothing moved.
/// The first error `to` reports is kept in `error` and stops it from reading further.
fn transfer(from: &mut Connection, to: &mut Connection, error: &mut Option<rustls::Error>) -> bool {
    let mut bytes = Vec::new();
    while from.wants_write() {
        from.write_tls(&mut bytes).expect("writing to a Vec cannot fail");
    }
    if bytes.is_empty() || error.is_some() {
        return !bytes.is_empty();
    }
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        if to.read_tls(&mut rest).is_err() {
            break;
        }
        if let Err(e) = to.process_new_packets() {
            *error = Some(e);
            break;
        }
    }
    true
}

/// Pumps records both ways until neither side has anything to send.
fn pump(client: &mut Connection, server: &mut Connection) -> Outcome {
    let mut outcome = Outcome::default();
    for _ in 0..pump_rounds_max {
        let sent_to_server = transfer(client, server, &mut outcome.server_error);
        let sent_to_client = transfer(server, client, &mut outcome.client_error);
        if !sent_to_server && !sent_to_client {
            return outcome;
        }
    }
    panic!("the connections were still talking after {pump_rounds_max} rounds");
}

fn key(name: &str) -> StationKey {
    StationKey::generate(name).expect("station key")
}

/// A client at `own` dialing a line pinned to `pinned`, and a server at `server_own`
/// accepting `server_peers`, as the station builds them.
fn connections(
    own: &StationKey,
    pinned: &VerifierKey,
    server_own: &StationKey,
    server_peers: Vec<VerifierKey>,
) -> (Connection, Connection) {
    let client_config = hotline_tls::client_config(own, pinned).expect("client config");
    let server_name = ServerName::try_from(pinned.name().to_owned()).expect("station names are server names");
    let client = ClientConnection::new(client_config, server_name).expect("client connection");
    let server_config = hotline_tls::server_config(server_own, server_peers).expect("server config");
    let server = ServerConnection::new(server_config).expect("server connection");
    (Connection::Client(client), Connection::Server(server))
}

/// Reads whatever plaintext `conn` has for the application; empty when it has none.
fn plaintext(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = conn.reader().read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Runs `f` with warnings captured, and returns what was logged.
fn capture_warnings(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buffer.0.lock().expect("log buffer").clone();
    String::from_utf8(bytes).expect("logs are text")
}

fn is_refused_certificate(error: &Option<rustls::Error>) -> bool {
    matches!(error, Some(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure)))
}

#[test]
fn matching_pins_complete_the_handshake_and_carry_data_both_ways() {
    let (alpha, bravo) = (key("alpha"), key("bravo"));
    let (mut client, mut server) =
        connections(&alpha, &bravo.verifier(), &bravo, vec![key("charlie").verifier(), alpha.verifier()]);
    let outcome = pump(&mut client, &mut server);
    assert!(outcome.client_error.is_none() && outcome.server_error.is_none(), "{outcome:?}");
    assert!(!client.is_handshaking() && !server.is_handshaking());

    client.writer().write_all(b"alpha calling").expect("client write");
    pump(&mut client, &mut server);
    assert_eq!(plaintext(&mut server), b"alpha calling");
    server.writer().write_all(b"bravo answering").expect("server write");
    pump(&mut client, &mut server);
    assert_eq!(plaintext(&mut client), b"bravo answering");

    assert_eq!(hotline_tls::peer_key(&client), Some(*bravo.verifier().key_bytes()));
    assert_eq!(hotline_tls::peer_key(&server), Some(*alpha.verifier().key_bytes()));
}

#[test]
fn a_server_with_another_key_than_the_pinned_one_is_refused_by_the_client() {
    let (alpha, bravo, impostor) = (key("alpha"), key("bravo"), key("bravo"));
    let (mut client, mut server) = connections(&alpha, &bravo.verifier(), &impostor, vec![alpha.verifier()]);
    // Written before the handshake: rustls holds it until the server is verified.
    client.writer().write_all(b"for bravo only").expect("client write");
    let logs = capture_warnings(|| {
        let outcome = pump(&mut client, &mut server);
        assert!(is_refused_certificate(&outcome.client_error), "{outcome:?}");
        assert!(outcome.server_error.is_some(), "the server hears the client's alert: {outcome:?}");
    });
    assert!(plaintext(&mut server).is_empty());
    assert_eq!(hotline_tls::peer_key(&client), None);
    assert_eq!(hotline_tls::peer_key(&server), None);
    let presented = impostor.verifier().fingerprint();
    let pinned = bravo.verifier().fingerprint();
    assert!(logs.contains(&format!("peer presented key with fingerprint {presented}")), "{logs}");
    assert!(logs.contains(&format!("line to bravo pins key {} (fingerprint {pinned})", bravo.verifier())), "{logs}");
}

#[test]
fn a_client_whose_key_no_line_pins_is_refused_by_the_server() {
    let (alpha, bravo, charlie, delta) = (key("alpha"), key("bravo"), key("charlie"), key("delta"));
    let (mut client, mut server) =
        connections(&delta, &bravo.verifier(), &bravo, vec![alpha.verifier(), charlie.verifier()]);
    client.writer().write_all(b"let me in").expect("client write");
    let logs = capture_warnings(|| {
        let outcome = pump(&mut client, &mut server);
        assert!(is_refused_certificate(&outcome.server_error), "{outcome:?}");
        assert!(outcome.client_error.is_some(), "the client hears the server's alert: {outcome:?}");
    });
    // In TLS 1.3 the client may send data right after its Finished message, before the
    // server has judged its certificate; the server must drop it unread.
    assert!(plaintext(&mut server).is_empty());
    assert_eq!(hotline_tls::peer_key(&server), None);
    let presented = delta.verifier().fingerprint();
    assert!(logs.contains(&format!("incoming peer presented key with fingerprint {presented}")), "{logs}");
    for peer in [alpha.verifier(), charlie.verifier()] {
        assert!(logs.contains(&format!("{} (fingerprint {})", peer.name(), peer.fingerprint())), "{logs}");
    }
}

#[test]
fn a_server_with_no_peers_refuses_every_client() {
    let (alpha, bravo) = (key("alpha"), key("bravo"));
    let (mut client, mut server) = connections(&alpha, &bravo.verifier(), &bravo, Vec::new());
    let outcome = pump(&mut client, &mut server);
    assert!(is_refused_certificate(&outcome.server_error), "{outcome:?}");
    assert!(plaintext(&mut server).is_empty());
}

#[test]
fn peer_key_is_none_before_the_handshake() {
    let (alpha, bravo) = (key("alpha"), key("bravo"));
    let (mut client, mut server) = connections(&alpha, &bravo.verifier(), &bravo, vec![alpha.verifier()]);
    assert_eq!(hotline_tls::peer_key(&client), None);
    assert_eq!(hotline_tls::peer_key(&server), None);
    // Halfway through (the server has seen the hello, the client nothing back) still none.
    let mut ignored = None;
    transfer(&mut client, &mut server, &mut ignored);
    assert!(ignored.is_none());
    assert_eq!(hotline_tls::peer_key(&client), None);
    assert_eq!(hotline_tls::peer_key(&server), None);
}

/// Presents one fixed certificate and signs with one fixed key, however little they match.
#[derive(Debug)]
struct FixedCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

#[test]
fn a_server_replaying_the_pinned_certificate_without_its_key_is_refused() {
    let (alpha, bravo, impostor) = (key("alpha"), key("bravo"), key("bravo"));
    // Bravo's real certificate, as anyone who once connected to bravo could have kept it.
    let bravo_pkcs8 = PrivatePkcs8KeyDer::from(bravo.pkcs8_der());
    let bravo_key_pair =
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&bravo_pkcs8, &rcgen::PKCS_ED25519).expect("bravo key pair");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "bravo");
    let bravo_certificate = params.self_signed(&bravo_key_pair).expect("bravo certificate");
    // ...but the handshake is signed with the impostor's key.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let impostor_key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(impostor.pkcs8_der())))
        .expect("impostor signing key");
    let certified = CertifiedKey::new(vec![bravo_certificate.der().clone()], impostor_key);
    let server_config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedCertificate(Arc::new(certified))));
    let mut server = Connection::Server(ServerConnection::new(Arc::new(server_config)).expect("server connection"));
    let client_config = hotline_tls::client_config(&alpha, &bravo.verifier()).expect("client config");
    let server_name = ServerName::try_from("bravo").expect("server name");
    let mut client = Connection::Client(ClientConnection::new(client_config, server_name).expect("client"));
    client.writer().write_all(b"for bravo only").expect("client write");

    let outcome = pump(&mut client, &mut server);
    assert!(
        matches!(outcome.client_error, Some(rustls::Error::InvalidCertificate(CertificateError::BadSignature))),
        "{outcome:?}"
    );
    assert!(plaintext(&mut server).is_empty());
    assert_eq!(hotline_tls::peer_key(&client), None);
}
