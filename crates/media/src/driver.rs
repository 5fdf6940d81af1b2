//! The thin tokio shell around one call's [`Relay`]: it owns the browser leg's UDP
//! socket, reads the call's [`PeerLink`], keeps the relay's timer, and moves bytes. Every
//! decision is the relay's; this module only follows str0m's rule of draining all
//! outputs after each input, with the time read once per input.

use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use crate::MediaError;
use crate::browser::LegEvent;
use crate::link::PeerLink;
use crate::relay::{Relay, RelayOutput, Tap};

/// Datagrams read from the browser at most this large; larger ones are cut and then
/// refused by the leg's `datagram_bytes_max`.
const RECV_BUFFER_BYTES: usize = 4096;

/// Why [`run_call`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `stop` fired or its sender was dropped.
    Stopped,
    /// The browser leg closed (the console left, or WebRTC failed).
    BrowserClosed(String),
    /// The QUIC connection to the peer station is gone; the call may go on over the
    /// fallback path, which the station drives.
    LinkLost(String),
}

/// Runs `relay` until `stop` fires (or its sender is dropped), the browser leg closes, or
/// the link to the peer is lost; returns the relay, for its counts, and why it ended.
/// Fails only when the socket has no local address.
pub async fn run_call<T: Tap>(
    socket: UdpSocket,
    link: PeerLink,
    mut relay: Relay<T>,
    mut stop: oneshot::Receiver<()>,
) -> Result<(Relay<T>, Ended), MediaError> {
    let local = socket.local_addr()?;
    let mut buf = vec![0_u8; RECV_BUFFER_BYTES];
    loop {
        let timeout = match drain(&mut relay, &socket, &link).await {
            Ok(timeout) => timeout,
            Err(why) => return Ok((relay, Ended::BrowserClosed(why))),
        };
        tokio::select! {
            _ = &mut stop => return Ok((relay, Ended::Stopped)),
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, from)) => relay.handle_datagram(Instant::now(), from, local, &buf[..n]),
                // ICMP port unreachable from a closed browser socket surfaces here.
                Err(e) => tracing::debug!(error = %e, "browser socket"),
            },
            packet = link.recv() => match packet {
                Ok(packet) => relay.handle_peer(Instant::now(), &packet),
                Err(e) => return Ok((relay, Ended::LinkLost(e.to_string()))),
            },
            () = sleep_until(timeout) => relay.handle_timeout(Instant::now()),
        }
    }
}

/// Carries out the relay's outputs until it asks for a timeout (`None`: no leg, no
/// timer); `Err(why)` once the browser leg has closed.
async fn drain<T: Tap>(relay: &mut Relay<T>, socket: &UdpSocket, link: &PeerLink) -> Result<Option<Instant>, String> {
    loop {
        match relay.poll_output() {
            RelayOutput::Transmit { to, bytes } => {
                if let Err(e) = socket.send_to(&bytes, to).await {
                    tracing::debug!(error = %e, "send to the browser");
                }
            }
            RelayOutput::ToPeer(packet) => link.send(&packet),
            RelayOutput::Timeout(at) => return Ok(Some(at)),
            RelayOutput::Idle => return Ok(None),
            RelayOutput::Event(LegEvent::Closed(why)) => {
                tracing::info!(call = %relay.call(), why, "browser leg closed");
                return Err(why);
            }
            RelayOutput::Event(event) => tracing::debug!(call = %relay.call(), ?event, "browser leg"),
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
