//! Two stations' media links over loopback QUIC: datagrams both ways, pinned keys at the
//! handshake, and strict parsing and routing of what a peer sends.

use std::net::SocketAddr;

use hotline_call::{CallId, Side};
use hotline_identity::{StationKey, VerifierKey};
use hotline_media::{CallRoutes, Carrier, MediaError, MediaPacket, PeerEndpoint, PeerLink};

const DATAGRAMS: u16 = 1000;

pub fn call_id(byte: u8) -> CallId {
    let mut id = [byte; 16];
    id[6] = 0x70 | (byte & 0x0f);
    id[8] = 0x80 | (byte & 0x3f);
    CallId::from_bytes(id).expect("a UUIDv7")
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("an address")
}

fn endpoint(own: &StationKey, peers: &[&StationKey]) -> PeerEndpoint {
    let peers: Vec<VerifierKey> = peers.iter().map(|p| p.verifier()).collect();
    PeerEndpoint::bind(own, peers, loopback(), CallRoutes::new()).expect("bind a media endpoint")
}

/// Dials `to` from `from`, returning (dialer's link, acceptor's link).
pub async fn connect(from: &PeerEndpoint, to: &PeerEndpoint, to_key: &StationKey) -> (PeerLink, PeerLink) {
    let addr = to.local_addr().expect("address");
    let to_verifier = to_key.verifier();
    let (dialed, accepted) = tokio::join!(from.connect(&to_verifier, addr), to.accept());
    (dialed.expect("dialed"), accepted.expect("accepted"))
}

fn packet(call: CallId, speaker: Side, sequence: u16) -> MediaPacket {
    MediaPacket {
        call,
        speaker,
        rtp_timestamp: u32::from(sequence) * 960,
        sequence,
        payload: crate::browser_sim::payload(speaker as u8, sequence),
    }
}

async fn send_all(link: &PeerLink, call: CallId, speaker: Side) {
    for sequence in 0..DATAGRAMS {
        link.send(&packet(call, speaker, sequence));
        if sequence % 25 == 0 {
            // 25 packets is half a second of one call's audio; let quinn drain.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

async fn receive_all(link: &PeerLink) -> Vec<MediaPacket> {
    let mut received = Vec::new();
    while received.len() < usize::from(DATAGRAMS) {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), link.recv()).await;
        match next {
            Ok(Ok(packet)) => received.push(packet),
            Ok(Err(e)) => panic!("link closed: {e}"),
            Err(_) => break,
        }
    }
    received
}

#[tokio::test]
async fn a_thousand_datagrams_each_way_between_pinned_stations() {
    let alpha_key = StationKey::generate("alpha").expect("key");
    let bravo_key = StationKey::generate("bravo").expect("key");
    let alpha = endpoint(&alpha_key, &[&bravo_key]);
    let bravo = endpoint(&bravo_key, &[&alpha_key]);
    let (to_bravo, to_alpha) = connect(&alpha, &bravo, &bravo_key).await;
    assert_eq!(to_alpha.peer(), &alpha_key.verifier(), "bravo knows the dialer by its key");
    let call = call_id(1);
    assert!(alpha.routes().open(call, &bravo_key.verifier(), Side::Caller));
    assert!(bravo.routes().open(call, &alpha_key.verifier(), Side::Callee));

    let (_, _, at_bravo, at_alpha) = tokio::join!(
        send_all(&to_bravo, call, Side::Caller),
        send_all(&to_alpha, call, Side::Callee),
        receive_all(&to_alpha),
        receive_all(&to_bravo),
    );
    for (received, speaker) in [(&at_bravo, Side::Caller), (&at_alpha, Side::Callee)] {
        assert_eq!(received.len(), usize::from(DATAGRAMS), "all datagrams arrive on loopback");
        for (sequence, got) in received.iter().enumerate() {
            assert_eq!(got, &packet(call, speaker, sequence as u16));
        }
    }
    assert_eq!(to_bravo.counts().sent, u64::from(DATAGRAMS));
    assert_eq!(to_alpha.counts().received, u64::from(DATAGRAMS));
}

#[tokio::test]
async fn a_station_with_another_key_is_refused_at_the_handshake() {
    let alpha_key = StationKey::generate("alpha").expect("key");
    let bravo_key = StationKey::generate("bravo").expect("key");
    let charlie_key = StationKey::generate("charlie").expect("key");
    let alpha = endpoint(&alpha_key, &[&bravo_key]);
    let alpha_addr = alpha.local_addr().expect("address");
    let accepting = async {
        // The acceptor skips refused handshakes and waits for a pinned peer.
        alpha.accept().await
    };
    let dialing = async {
        // charlie pins alpha's real key, but alpha does not pin charlie.
        let charlie = endpoint(&charlie_key, &[&alpha_key]);
        let refused = charlie.connect(&alpha_key.verifier(), alpha_addr).await;
        assert!(matches!(refused, Err(MediaError::Handshake(_))), "charlie refused");
        // bravo dials alpha's address believing charlie is there: bravo refuses alpha.
        let confused = endpoint(&bravo_key, &[&charlie_key]);
        let refused = confused.connect(&charlie_key.verifier(), alpha_addr).await;
        assert!(matches!(refused, Err(MediaError::Handshake(_))), "the wrong server refused");
        // And the real bravo gets in.
        let bravo = endpoint(&bravo_key, &[&alpha_key]);
        bravo.connect(&alpha_key.verifier(), alpha_addr).await.expect("bravo admitted");
    };
    let (accepted, ()) = tokio::join!(accepting, dialing);
    assert_eq!(accepted.expect("bravo accepted").peer(), &bravo_key.verifier());
    assert!(alpha.refused_handshakes() >= 1, "alpha counted charlie");
}

#[tokio::test]
async fn bad_datagrams_and_misrouted_calls_are_dropped_and_counted() {
    let alpha_key = StationKey::generate("alpha").expect("key");
    let bravo_key = StationKey::generate("bravo").expect("key");
    let charlie_key = StationKey::generate("charlie").expect("key");
    let alpha = endpoint(&alpha_key, &[&bravo_key, &charlie_key]);
    let bravo = endpoint(&bravo_key, &[&alpha_key]);
    let charlie = endpoint(&charlie_key, &[&alpha_key]);
    let (bravo_to_alpha, alpha_from_bravo) = connect(&bravo, &alpha, &alpha_key).await;
    let (charlie_to_alpha, alpha_from_charlie) = connect(&charlie, &alpha, &alpha_key).await;
    let bravo_call = call_id(2);
    let charlie_call = call_id(3);
    assert!(alpha.routes().open(bravo_call, &bravo_key.verifier(), Side::Caller));
    assert!(alpha.routes().open(charlie_call, &charlie_key.verifier(), Side::Callee));

    let raw = |link: &PeerLink, bytes: Vec<u8>| link.connection().send_datagram(bytes.into()).expect("sent");
    let datagram = |call, speaker, sequence| packet(call, speaker, sequence).encode(Carrier::Datagram);
    let good = datagram(bravo_call, Side::Callee, 7);
    raw(&bravo_to_alpha, good[..10].to_vec()); // shorter than the header
    raw(&bravo_to_alpha, good[..24].to_vec()); // a header and no payload
    let mut bad_kind = good.clone();
    bad_kind[0] = Carrier::LineFallback as u8; // a fallback item replayed as a datagram
    raw(&bravo_to_alpha, bad_kind);
    raw(&bravo_to_alpha, datagram(call_id(4), Side::Callee, 1)); // a call alpha does not have
    raw(&bravo_to_alpha, datagram(bravo_call, Side::Caller, 2)); // alpha's own side
    raw(&bravo_to_alpha, good);
    // charlie sends for bravo's call: the call is not on charlie's line.
    raw(&charlie_to_alpha, datagram(bravo_call, Side::Callee, 8));
    raw(&charlie_to_alpha, datagram(charlie_call, Side::Caller, 9));

    let within = std::time::Duration::from_secs(5);
    let from_bravo = tokio::time::timeout(within, alpha_from_bravo.recv()).await.expect("in time").expect("open");
    assert_eq!(from_bravo, packet(bravo_call, Side::Callee, 7));
    let from_charlie = tokio::time::timeout(within, alpha_from_charlie.recv()).await.expect("in time").expect("open");
    assert_eq!(from_charlie, packet(charlie_call, Side::Caller, 9));
    let counts = alpha_from_bravo.counts();
    assert_eq!(counts.dropped_malformed, 3, "{counts:?}");
    assert_eq!(counts.dropped_unknown_call, 1, "{counts:?}");
    assert_eq!(counts.dropped_wrong_speaker, 1, "{counts:?}");
    assert_eq!(counts.received, 1, "{counts:?}");
    let counts = alpha_from_charlie.counts();
    assert_eq!((counts.dropped_wrong_line, counts.received), (1, 1), "{counts:?}");
}
