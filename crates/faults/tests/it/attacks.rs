//! Attacks on the line, each made while the real line carries traffic: a peer with the
//! wrong key, a replayed handshake, replayed and reordered TLS records inside a live
//! session, an oversized frame from a peer holding the real key, and a slow-loris flood
//! of handshakes that never finish. Each must be refused and logged, the real line must
//! stay up (or, when the attack is on the session itself, come back by itself), and every
//! accepted message must still arrive exactly once with both records verifying.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_identity::{StationKey, VerifierKey};
use hotline_proto::{Frame, FrameDecoder, LANES, frame_bytes_max};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use serde_json::Value;

use crate::relay::{Relay, Tamper};
use crate::station::{Station, free_port, station};
use crate::traffic::{Sender, finish};

/// The two stations of one attack test, with traffic running both ways.
struct Bench {
    base: tempfile::TempDir,
    alpha: Station,
    bravo: Station,
    /// In front of alpha's listener, when the line runs through it.
    relay: Option<Relay>,
    ab: Option<Sender>,
    ba: Option<Sender>,
}

impl Bench {
    /// Alpha dials bravo directly; or, `via_relay`, alpha cannot dial at all and the line
    /// is bravo's connection through a capturing relay in front of alpha's listener.
    fn start(label: &str, via_relay: bool) -> Bench {
        let base = tempfile::tempdir().expect("tempdir");
        let mut alpha = station(base.path(), "alpha", None);
        let mut bravo = station(base.path(), "bravo", None);
        let relay = via_relay.then(|| {
            let target = format!("127.0.0.1:{}", alpha.line_port).parse().expect("addr");
            Relay::start(None, "127.0.0.1:0".parse().expect("addr"), target, (0, 0), 1)
        });
        let to_bravo = if via_relay { free_port() } else { bravo.line_port };
        alpha.add_line("bravo", &bravo.key, &[format!("127.0.0.1:{to_bravo}")]).expect("line add");
        let to_alpha = relay.as_ref().map_or(format!("127.0.0.1:{}", alpha.line_port), |r| r.addr.to_string());
        bravo.add_line("alpha", &alpha.key, &[to_alpha]).expect("line add");
        alpha.start().expect("station starts");
        bravo.start().expect("station starts");
        assert!(alpha.wait_line("bravo", "up", Duration::from_secs(20)), "line never came up:\n{}", alpha.log_tail(30));
        let ab = Sender::start(alpha.client(), "alpha", "bravo", label, Duration::from_millis(100));
        let ba = Sender::start(bravo.client(), "bravo", "alpha", label, Duration::from_millis(100));
        std::thread::sleep(Duration::from_secs(1));
        Bench { base, alpha, bravo, relay, ab: Some(ab), ba: Some(ba) }
    }

    /// Alpha's line to bravo as the API shows it (state, since, remote...).
    fn line(&self) -> Value {
        let (status, v) = self.alpha.api("GET", "/api/v1/lines", None);
        assert_eq!(status, 200, "{v}");
        v.as_array().and_then(|l| l.iter().find(|l| l["peer"] == "bravo").cloned()).expect("line to bravo")
    }

    fn alpha_log_count(&self, needle: &str) -> usize {
        self.alpha.log_text().matches(needle).count()
    }

    /// Lets traffic run a little longer, then checks everything and prints the result.
    fn finish(mut self, label: &str, extra: &str) {
        std::thread::sleep(Duration::from_secs(2));
        let sent_ab = self.ab.take().expect("sender").finish();
        let sent_ba = self.ba.take().expect("sender").finish();
        finish(label, self.base.path(), &mut self.alpha, &mut self.bravo, &sent_ab, &sent_ba, extra);
        drop(self.relay);
    }
}

/// The real line did not blink: still up, and up since the same instant.
fn assert_line_stayed_up(bench: &Bench, before: &Value) {
    let now = bench.line();
    assert_eq!(now["state"], "up", "the real line is not up after the attack: {now}");
    assert_eq!(now["since"], before["since"], "the real line went down during the attack: {before} -> {now}");
}

/// The log is written with colours; the figures printed from it should not be.
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn own_key(station: &Station) -> StationKey {
    let text = std::fs::read_to_string(station.dir.join("station.key")).expect("station.key");
    StationKey::from_private_text(text.trim()).expect("station key")
}

fn verifier(station: &Station) -> VerifierKey {
    VerifierKey::parse(&station.key).expect("verifier key")
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A TLS 1.3 connection to `port` made exactly as a station dials (hotline-tls's client
/// configuration), presenting `own` and pinning `peer`. `Ok` means our side of the
/// handshake finished; the server may still refuse us afterwards.
fn dial_tls(own: &StationKey, peer: &VerifierKey, port: u16) -> std::io::Result<Tls> {
    let config = hotline_tls::client_config(own, peer).expect("client config");
    let name = ServerName::try_from(peer.name().to_owned()).expect("server name");
    let conn = ClientConnection::new(Arc::clone(&config), name).expect("client connection");
    let sock = TcpStream::connect(("127.0.0.1", port))?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut tls = StreamOwned::new(conn, sock);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tls.conn.is_handshaking() {
        match tls.conn.complete_io(&mut tls.sock) {
            Ok(_) => {}
            Err(e) if is_timeout(&e) && Instant::now() < deadline => {}
            Err(e) => return Err(e),
        }
    }
    Ok(tls)
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
}

/// Reads frames until the connection ends or `within` passes; returns them and how it
/// ended ("eof", "timeout" or the error).
fn read_frames(tls: &mut Tls, within: Duration) -> (Vec<Frame>, String) {
    let mut decoder = FrameDecoder::default();
    let mut frames = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + within;
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return (frames, "eof".into()),
            Ok(n) => {
                decoder.extend(&buf[..n]);
                while let Ok(Some(frame)) = decoder.next_frame() {
                    frames.push(frame);
                }
            }
            Err(e) if is_timeout(&e) => {
                if Instant::now() > deadline {
                    return (frames, "timeout".into());
                }
            }
            Err(e) => return (frames, e.to_string()),
        }
    }
}

/// Reads raw bytes until the far end closes or `within` passes; returns how it ended.
fn read_until_closed(sock: &mut TcpStream, within: Duration) -> (usize, String, Duration) {
    let started = Instant::now();
    let _ = sock.set_read_timeout(Some(Duration::from_millis(100)));
    let mut total = 0;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return (total, "eof".into(), started.elapsed()),
            Ok(n) => total += n,
            Err(e) if is_timeout(&e) => {
                if started.elapsed() > within {
                    return (total, "still open".into(), started.elapsed());
                }
            }
            Err(e) => return (total, e.to_string(), started.elapsed()),
        }
    }
}

#[test]
fn a_peer_with_the_wrong_key_is_refused_and_the_real_line_stays_up() {
    let bench = Bench::start("wrongkey", false);
    let before = bench.line();
    let impostor = StationKey::generate("bravo").expect("key");
    let alpha_key = verifier(&bench.alpha);
    let attempts = 20;
    for _ in 0..attempts {
        // TLS 1.3: the client finishes first; the server's refusal follows as an alert.
        if let Ok(mut tls) = dial_tls(&impostor, &alpha_key, bench.alpha.line_port) {
            let (frames, end) = read_frames(&mut tls, Duration::from_secs(5));
            assert!(frames.is_empty(), "alpha sent line frames to an impostor: {frames:?}");
            assert_ne!(end, "timeout", "alpha kept an impostor's connection open");
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_line_stayed_up(&bench, &before);
    let refused = bench.alpha_log_count("incoming line handshake refused");
    let log = bench.alpha.log_text();
    let impostor_fp = impostor.verifier().fingerprint();
    let real_fp = verifier(&bench.bravo).fingerprint();
    assert!(refused >= attempts, "alpha logged {refused} refusals for {attempts} impostor handshakes");
    assert!(log.contains(&impostor_fp), "the refusal does not name the impostor's fingerprint {impostor_fp}");
    println!(
        "FAULTS wrongkey: {attempts} impostor handshakes, {refused} refusals logged (impostor {impostor_fp}, pinned {real_fp}); line stayed up"
    );
    bench.finish("wrongkey", &format!("attempts={attempts} refusals_logged={refused} line_stayed_up=yes"));
}

#[test]
fn a_replayed_handshake_is_refused_and_the_real_line_stays_up() {
    let bench = Bench::start("replayhandshake", true);
    let before = bench.line();
    let relay = bench.relay.as_ref().expect("relay");
    let capture = relay.captures().into_iter().rev().find(|c| !c.to_server.is_empty()).expect("a captured connection");
    let refused_before = bench.alpha_log_count("incoming line handshake refused");
    let timed_out_before = bench.alpha_log_count("incoming line handshake timed out");

    // The whole client side of a real session: ClientHello, the client's certificate,
    // its signature and Finished, then application records.
    let mut sock = TcpStream::connect(("127.0.0.1", bench.alpha.line_port)).expect("connect");
    sock.write_all(&capture.to_server).expect("replay");
    let (got, end_full, took_full) = read_until_closed(&mut sock, Duration::from_secs(10));
    assert_ne!(end_full, "still open", "alpha kept a replayed handshake open");
    // Only the first flight (the ClientHello record): the server answers a fresh
    // ServerHello and then waits for a client that can never continue.
    let hello_len = 5 + u16::from_be_bytes([capture.to_server[3], capture.to_server[4]]) as usize;
    let mut sock = TcpStream::connect(("127.0.0.1", bench.alpha.line_port)).expect("connect");
    sock.write_all(&capture.to_server[..hello_len]).expect("replay hello");
    let (_, end_hello, took_hello) = read_until_closed(&mut sock, Duration::from_secs(10));
    assert_ne!(end_hello, "still open", "alpha kept a replayed ClientHello open");
    std::thread::sleep(Duration::from_millis(300));
    assert_line_stayed_up(&bench, &before);
    let refused = bench.alpha_log_count("incoming line handshake refused") - refused_before;
    let timed_out = bench.alpha_log_count("incoming line handshake timed out") - timed_out_before;
    assert!(refused >= 1, "alpha did not log the refused replay:\n{}", bench.alpha.log_tail(20));
    assert!(timed_out >= 1, "alpha did not log the replayed ClientHello's timeout:\n{}", bench.alpha.log_tail(20));
    println!(
        "FAULTS replayhandshake: full replay of {} bytes closed after {took_full:?} ({end_full}, {got} bytes back); ClientHello-only replay closed after {took_hello:?} ({end_hello}); logged {refused} refused, {timed_out} timed out; line stayed up",
        capture.to_server.len()
    );
    bench.finish(
        "replayhandshake",
        &format!(
            "full_replay_closed_ms={} hello_replay_closed_ms={} line_stayed_up=yes",
            took_full.as_millis(),
            took_hello.as_millis()
        ),
    );
}

#[test]
fn replayed_and_reordered_tls_records_in_a_session_are_rejected() {
    let bench = Bench::start("records", true);
    let relay = bench.relay.as_ref().expect("relay");
    let mut figures = Vec::new();
    for (name, tamper) in [("replay", Tamper::ReplayNext), ("reorder", Tamper::SwapNext)] {
        let lost_before = bench.alpha_log_count("line connection lost");
        let tampered_before = relay.tampered();
        relay.set_tamper(tamper);
        let at = Instant::now();
        while relay.tampered() == tampered_before {
            assert!(at.elapsed() < Duration::from_secs(10), "{name}: no record went through the relay");
            std::thread::sleep(Duration::from_millis(10));
        }
        // TLS must refuse the record (its sequence number is wrong, so its AEAD tag is),
        // end the session, and the line must come back on a new one.
        let mut rejected_ms = None;
        while at.elapsed() < Duration::from_secs(10) && rejected_ms.is_none() {
            if bench.alpha_log_count("line connection lost") > lost_before {
                rejected_ms = Some(at.elapsed().as_millis());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let Some(rejected_ms) = rejected_ms else {
            panic!("{name}: alpha did not end the session:\n{}", bench.alpha.log_tail(20));
        };
        let log = bench.alpha.log_text();
        let line = log.lines().rfind(|l| l.contains("line connection lost")).unwrap_or_default();
        let reason = line.split("reason").nth(1).map(strip_ansi).unwrap_or_default();
        assert!(
            bench.alpha.wait_line("bravo", "up", Duration::from_secs(20)),
            "{name}: the line did not come back:\n{}",
            bench.alpha.log_tail(20)
        );
        let back_ms = at.elapsed().as_millis();
        println!(
            "FAULTS records: {name}: session ended {rejected_ms} ms after the tampered record (alpha: reason{reason}), line up again after {back_ms} ms"
        );
        figures.push(format!("{name}_rejected_ms={rejected_ms} {name}_line_back_ms={back_ms}"));
        std::thread::sleep(Duration::from_secs(2));
    }
    bench.finish("records", &figures.join(" "));
}

#[test]
fn an_oversized_frame_from_an_authenticated_peer_closes_only_that_connection() {
    let mut bench = Bench::start("oversize", false);
    let bravo_key = own_key(&bench.bravo);
    let alpha_key = verifier(&bench.alpha);
    let oversized = |out: &mut Vec<u8>| {
        Frame::Hello { station: "bravo".into(), durable_next: [1; LANES] }.encode(out);
        out.extend_from_slice(&[hotline_proto::protocol_version, 2]);
        out.extend_from_slice(&((frame_bytes_max + 1) as u32).to_be_bytes());
        out.extend_from_slice(&vec![0u8; 4096]);
    };

    // While the real line is up, a second connection with the real key is refused (the
    // current one is kept) before a byte of it is read.
    let before = bench.line();
    let mut tls = dial_tls(&bravo_key, &alpha_key, bench.alpha.line_port).expect("handshake with the real key");
    let mut bytes = Vec::new();
    oversized(&mut bytes);
    let _ = tls.write_all(&bytes);
    let (frames, end_second) = read_frames(&mut tls, Duration::from_secs(10));
    assert_ne!(end_second, "timeout", "alpha kept a second connection open");
    assert!(frames.is_empty(), "alpha spoke on a second connection: {frames:?}");
    assert_line_stayed_up(&bench, &before);

    // With bravo away, the same connection is the line's: alpha must close it with a
    // Close that says why, log it, and take the real bravo back afterwards.
    assert!(bench.bravo.stop(), "bravo did not stop");
    assert!(bench.alpha.wait_line("bravo", "down", Duration::from_secs(10)), "alpha did not see bravo go");
    let mut tls = dial_tls(&bravo_key, &alpha_key, bench.alpha.line_port).expect("handshake with the real key");
    let mut bytes = Vec::new();
    oversized(&mut bytes);
    tls.write_all(&bytes).expect("send the oversized frame");
    let sent_at = Instant::now();
    let (frames, end) = read_frames(&mut tls, Duration::from_secs(10));
    let closed_ms = sent_at.elapsed().as_millis();
    let close = frames.iter().find_map(|f| match f {
        Frame::Close { reason } => Some(reason.clone()),
        _ => None,
    });
    assert!(matches!(frames.first(), Some(Frame::Hello { .. })), "alpha did not greet the attached peer: {frames:?}");
    let close = close.unwrap_or_else(|| panic!("no Close frame from alpha (ended: {end}): {frames:?}"));
    assert!(close.contains("over the limit"), "Close does not say the frame was too large: {close:?}");
    assert_ne!(end, "timeout", "alpha did not end the connection");
    std::thread::sleep(Duration::from_millis(300));
    let logged = bench.alpha.log_text().lines().any(|l| l.contains("bad input") && l.contains("over the limit"));
    assert!(logged, "alpha did not log the oversized frame:\n{}", bench.alpha.log_tail(20));
    assert!(bench.alpha.line("bravo").is_some(), "alpha's API is gone after the oversized frame");

    let restarted = Instant::now();
    bench.bravo.start().expect("station starts");
    assert!(
        bench.alpha.wait_line("bravo", "up", Duration::from_secs(20)),
        "the real bravo did not get the line back:\n{}",
        bench.alpha.log_tail(20)
    );
    let back_ms = restarted.elapsed().as_millis();
    println!(
        "FAULTS oversize: second connection closed ({end_second}); attached one closed {closed_ms} ms after the frame with Close {close:?}; real bravo back after {back_ms} ms"
    );
    bench.finish("oversize", &format!("close_after_ms={closed_ms} real_line_back_ms={back_ms}"));
}

#[test]
fn slow_loris_handshakes_time_out_and_the_real_line_stays_up() {
    const CONNECTIONS: usize = 100;
    let bench = Bench::start("slowloris", false);
    let before = bench.line();
    let timed_out_before = bench.alpha_log_count("incoming line handshake timed out");
    let port = bench.alpha.line_port;
    let started = Instant::now();
    let lorises: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut sock = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                // The first bytes of a TLS record header, and then nothing, ever.
                sock.write_all(&[0x16, 0x03]).expect("write");
                read_until_closed(&mut sock, Duration::from_secs(30))
            })
        })
        .collect();
    let mut closed_after = Vec::new();
    for l in lorises {
        let (_, end, took) = l.join().expect("loris thread");
        assert_ne!(end, "still open", "a slow-loris connection was still open after 30 s");
        closed_after.push(took);
    }
    let all_closed = started.elapsed();
    let longest = closed_after.iter().max().copied().unwrap_or_default();
    assert_line_stayed_up(&bench, &before);
    std::thread::sleep(Duration::from_millis(300));
    let timed_out = bench.alpha_log_count("incoming line handshake timed out") - timed_out_before;
    // One address may have 4 handshakes under way (`pending_handshakes_per_address_max`):
    // those time out after 3 s, every other loris is closed at once (a rate-limited log
    // line says so), so no address can fill the 64 slots the real peer needs.
    let refused_logged = bench.alpha_log_count("too many handshakes under way from its address");
    assert!(timed_out >= 1 && refused_logged >= 1, "timeouts {timed_out}, refusals logged {refused_logged}");
    assert!(longest < Duration::from_secs(10), "a slow-loris connection lived {longest:?}");
    println!(
        "FAULTS slowloris: {CONNECTIONS} connections that never finish a handshake all closed within {all_closed:?} (longest {longest:?}); {timed_out} timeouts logged; line stayed up"
    );
    bench.finish(
        "slowloris",
        &format!(
            "connections={CONNECTIONS} all_closed_ms={} timeouts_logged={timed_out} line_stayed_up=yes",
            all_closed.as_millis()
        ),
    );
}
