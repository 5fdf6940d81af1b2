//! The HTTP listener on real sockets (127.0.0.1:0, through `serve::start`): a header that
//! never ends, connections past the cap and a body that trickles are all cut, the event
//! stream outlives every one of those timeouts, HTTPS serves with a certificate from
//! station.toml, and plain HTTP on an address other hosts reach is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_station::admin::{self, InitOptions};
use hotline_station::serve::{self, Running};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

pub const PASSWORD: &str = "a long passphrase for duty";

/// A new station directory whose station.toml ends with `extra` (an `[http]` section).
pub fn station_dir(root: &Path, http: &str, extra: &str) -> PathBuf {
    let dir = root.join("alpha");
    let options = InitOptions {
        name: "alpha".into(),
        http: http.parse().expect("addr"),
        line: "127.0.0.1:0".parse().expect("addr"),
        lang: "en".into(),
    };
    admin::init(&dir, &options).expect("init");
    let path = dir.join("station.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, format!("{text}\n{extra}")).expect("write");
    dir
}

async fn serving(root: &Path, extra: &str) -> Running {
    let dir = station_dir(root, "127.0.0.1:0", extra);
    serve::start(&dir).await.expect("serve")
}

/// Reads until the far end closes (or `limit` passes: then `None`); what was read.
async fn read_to_close(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

async fn healthz(addr: std::net::SocketAddr) -> Option<String> {
    let mut tcp = TcpStream::connect(addr).await.ok()?;
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: alpha\r\nConnection: close\r\n\r\n").await.ok()?;
    read_to_close(&mut tcp, Duration::from_secs(5)).await.filter(|r| r.starts_with("HTTP/1.1 200"))
}

#[tokio::test]
async fn a_header_that_never_ends_and_an_idle_connection_are_cut_after_the_header_read_timeout() {
    let root = tempfile::tempdir().expect("tempdir");
    let running = serving(root.path(), "[http]\nheader_read_timeout_ms = 500\n").await;
    let started = Instant::now();
    let mut half = TcpStream::connect(running.http_addr).await.expect("connect");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: alpha\r\nX-Slow: ").await.expect("write");
    let mut idle = TcpStream::connect(running.http_addr).await.expect("connect");
    // A kept-alive connection after one answer: the wait for its next request is bounded too.
    let mut kept = TcpStream::connect(running.http_addr).await.expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: alpha\r\n\r\n").await.expect("write");
    for (what, stream) in [("half a header", &mut half), ("nothing sent", &mut idle), ("kept alive", &mut kept)] {
        let answer = read_to_close(stream, Duration::from_secs(5)).await;
        assert!(answer.is_some(), "{what}: still open after 5 s");
        if what == "kept alive" {
            assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")), "{what}: answered first");
        }
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(450), "cut only after the timeout: {elapsed:?}");
    assert!(healthz(running.http_addr).await.is_some(), "the station still answers");
    running.stop().await;
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once_and_the_station_answers_afterwards() {
    let root = tempfile::tempdir().expect("tempdir");
    let running = serving(root.path(), "[http]\nconnections_max = 3\n").await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(running.http_addr).await.expect("connect"));
    }
    // Let the listener take them (each takes a slot when accepted).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let mut over = TcpStream::connect(running.http_addr).await.expect("the kernel accepts the TCP connection");
    let _ = over.write_all(b"GET /healthz HTTP/1.1\r\nHost: alpha\r\n\r\n").await;
    let answer = read_to_close(&mut over, Duration::from_secs(3)).await;
    assert_eq!(answer.as_deref(), Some(""), "closed without an answer");
    assert!(started.elapsed() < Duration::from_secs(2), "at once: {:?}", started.elapsed());
    // The held ones are still served: one of them asks and is answered.
    held[0].write_all(b"GET /healthz HTTP/1.1\r\nHost: alpha\r\nConnection: close\r\n\r\n").await.expect("write");
    let answer = read_to_close(&mut held[0], Duration::from_secs(5)).await;
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")), "a connection under the cap is served");
    // Its slot is free again: a new client is answered.
    let mut answered = false;
    for _ in 0..20 {
        if healthz(running.http_addr).await.is_some() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "the station answers a normal request once a slot is free");
    drop(held);
    running.stop().await;
}

#[tokio::test]
async fn a_body_that_trickles_is_cut_with_408() {
    let root = tempfile::tempdir().expect("tempdir");
    let running = serving(root.path(), "[http]\nbody_read_timeout_ms = 800\n").await;
    let mut tcp = TcpStream::connect(running.http_addr).await.expect("connect");
    let head = "POST /api/v1/login HTTP/1.1\r\nHost: alpha\r\nContent-Type: application/json\r\n\
                Content-Length: 200\r\n\r\n";
    tcp.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let (mut read, mut write) = tcp.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if write.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let answer = read_to_close(&mut read, Duration::from_secs(5)).await.expect("cut within 5 s");
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(elapsed >= Duration::from_millis(700), "not before the timeout: {elapsed:?}");
    running.stop().await;
}

#[tokio::test]
async fn the_event_stream_outlives_every_listener_timeout() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir =
        station_dir(root.path(), "127.0.0.1:0", "[http]\nheader_read_timeout_ms = 300\nbody_read_timeout_ms = 300\n");
    admin::user_add(&dir, "duty", "operator", PASSWORD, false).expect("user");
    let token = admin::token_create(&dir, "duty").expect("token");
    let running = serve::start(&dir).await.expect("serve");
    let base = format!("http://{}", running.http_addr);
    let http = reqwest::Client::new();
    let mut events = http.get(format!("{base}/api/v1/events")).bearer_auth(&token).send().await.expect("events");
    assert_eq!(events.status(), 200);
    // Well past both timeouts, something happens; the stream still carries it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let login = http
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"user": "duty", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("event: login\n") {
        match tokio::time::timeout_at(deadline, events.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the event stream ended or stalled: {other:?}; saw {seen}"),
        }
    }
    drop(events);
    running.stop().await;
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM into `dir`.
fn self_signed(dir: &Path) -> rcgen::CertifiedKey<rcgen::KeyPair> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("certificate");
    std::fs::write(dir.join("cert.pem"), certified.cert.pem()).expect("cert");
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).expect("key");
    certified
}

#[tokio::test]
async fn https_serves_with_the_certificate_station_toml_names() {
    use tokio_rustls::rustls;
    let root = tempfile::tempdir().expect("tempdir");
    let certified = self_signed(root.path());
    let extra = format!(
        "[http]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        root.path().join("cert.pem").display(),
        root.path().join("key.pem").display()
    );
    let running = serving(root.path(), &extra).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    // A browser offers both; the station picks HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(running.http_addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake with the configured certificate");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("write");
    let answer = read_to_close(&mut tls, Duration::from_secs(5)).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Plain HTTP on the HTTPS port gets no answer.
    assert!(healthz(running.http_addr).await.is_none(), "plain HTTP is not served beside HTTPS");
    running.stop().await;
}

#[tokio::test]
async fn https_files_that_do_not_load_stop_the_start_with_the_file_named() {
    let root = tempfile::tempdir().expect("tempdir");
    self_signed(root.path());
    std::fs::write(root.path().join("junk.pem"), "not a key\n").expect("write");
    let extra = format!(
        "[http]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
        root.path().join("cert.pem").display(),
        root.path().join("junk.pem").display()
    );
    let dir = station_dir(root.path(), "127.0.0.1:0", &extra);
    let e = serve::start(&dir).await.err().expect("refused").to_string();
    assert!(e.contains("junk.pem") && e.contains("Fix:"), "{e}");
}

#[tokio::test]
async fn plain_http_on_an_address_others_reach_is_refused_unless_allowed() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = station_dir(root.path(), "0.0.0.0:0", "");
    let e = serve::start(&dir).await.err().expect("refused").to_string();
    assert!(e.contains("station.toml:") && e.contains("plain HTTP") && e.contains("tls_cert"), "{e}");
    // The fix the sentence offers works.
    let path = dir.join("station.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, format!("{text}[http]\nallow_plain_http = true\n")).expect("write");
    let running = serve::start(&dir).await.expect("allowed explicitly");
    running.stop().await;
}
