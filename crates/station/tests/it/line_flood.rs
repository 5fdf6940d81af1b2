//! The line port under a flood of stalled connections from one address: each address
//! has a few handshake slots of its own (`pending_handshakes_per_address_max`), so the
//! real peer, from another address, still gets in. Linux routes all of 127/8 to the
//! loopback interface, so the flood comes from 127.0.0.2 and the peer from 127.0.0.1.

use std::time::Duration;

use hotline_identity::StationKey;
use hotline_station::admin;
use hotline_station::line::net;
use hotline_station::serve;
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpSocket, TcpStream};

async fn from_127_0_0_2(to: std::net::SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind("127.0.0.2:0".parse().expect("addr"))?;
    socket.connect(to).await
}

#[tokio::test]
async fn a_flood_of_stalled_connections_from_one_address_does_not_keep_the_peer_out() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = crate::listener::station_dir(root.path(), "127.0.0.1:0", "");
    let bravo = StationKey::generate("bravo").expect("key");
    admin::line_add(&dir, "bravo", &bravo.verifier().to_string(), &["127.0.0.1:9".into()]).expect("line add");
    let alpha = admin::key(&dir).expect("alpha's key");
    let running = serve::start(&dir).await.expect("serve");

    // More stalled connections than there are handshake slots, all from one address.
    let mut flood = Vec::new();
    for _ in 0..net::pending_handshakes_max + 36 {
        flood.push(from_127_0_0_2(running.line_addr).await.expect("connect from 127.0.0.2"));
    }
    let started = std::time::Instant::now();
    let dialed = net::dial(&[running.line_addr.to_string()], &bravo, &alpha).await;
    assert!(dialed.result.is_ok(), "the peer is let in: {:?}", dialed.result.err());
    assert!(started.elapsed() < Duration::from_secs(2), "at once, not after the flood: {:?}", started.elapsed());

    // The flood's connections past its address's quota were closed at once.
    let mut closed = 0;
    for tcp in &mut flood {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(50), tcp.read(&mut byte)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, flood.len() - net::pending_handshakes_per_address_max, "all but the quota are closed");
    running.stop().await;
}
