//! A stand-in for the operator's browser: a full-ICE str0m peer on its own UDP socket
//! and thread, which offers Opus, sends a numbered packet every 20 ms once connected,
//! and records what it sends and receives with the instant of each.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc};

/// One packet as the simulated browser saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub ts: u32,
    pub seq: u16,
    pub payload: Vec<u8>,
}

/// What the browser thread hands back when it stops.
#[derive(Debug, Default)]
pub struct Report {
    pub sent: Vec<Seen>,
    pub received: Vec<Seen>,
    pub connected_at: Option<Instant>,
}

pub struct BrowserSim {
    rtc: Rtc,
    socket: UdpSocket,
    mid: Mid,
    pending: Option<SdpPendingOffer>,
    pub offer: String,
}

/// The payload of packet `seq` of a browser tagged `tag`: distinct bytes and lengths.
pub fn payload(tag: u8, seq: u16) -> Vec<u8> {
    let length = 40 + usize::from(seq % 120);
    let mut bytes = vec![0x78, tag];
    bytes.extend_from_slice(&seq.to_be_bytes());
    bytes.extend((0..length).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seq as u8)));
    bytes
}

impl BrowserSim {
    pub fn new() -> BrowserSim {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the browser socket");
        let local = socket.local_addr().expect("local address");
        let mut rtc = Rtc::builder().set_rtp_mode(true).clear_codecs().enable_opus(true, false).build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").expect("host candidate"));
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().expect("an offer");
        BrowserSim { rtc, socket, mid, pending: Some(pending), offer: offer.to_sdp_string() }
    }

    pub fn accept_answer(&mut self, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).expect("the station's answer parses");
        let pending = self.pending.take().expect("one answer");
        self.rtc.sdp_api().accept_answer(pending, answer).expect("answer accepted");
    }

    /// Runs the browser until `stop`: once connected it sends `packets` packets tagged
    /// `tag`, one per 20 ms, with RTP timestamps 960 apart starting at `first_seq`.
    pub fn spawn(mut self, tag: u8, packets: u16, first_seq: u16, stop: Arc<AtomicBool>) -> JoinHandle<Report> {
        std::thread::spawn(move || {
            let mut report = Report::default();
            self.socket.set_read_timeout(Some(Duration::from_millis(1))).expect("read timeout");
            let local = self.socket.local_addr().expect("local address");
            let pt = self.rtc.codec_config().iter().find(|p| p.spec().codec == Codec::Opus).map(|p| p.pt());
            let pt = pt.expect("Opus configured");
            let mut next_send: Option<Instant> = None;
            let mut sent: u16 = 0;
            let mut buf = vec![0_u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                let timeout = self.drain(&mut report);
                let now = Instant::now();
                if let Some(at) = next_send.filter(|at| sent < packets && now >= *at) {
                    let seq = first_seq.wrapping_add(sent);
                    let ts = 960_u32.wrapping_mul(u32::from(sent)).wrapping_add(12_345);
                    let bytes = payload(tag, seq);
                    let mut direct = self.rtc.direct_api();
                    let stream = direct.stream_tx_by_mid(self.mid, None).expect("a send stream");
                    // str0m wants the extended number: the rollover counter is SRTP's.
                    let extended = u64::from(first_seq) + u64::from(sent);
                    stream.write_rtp(RtpWrite::new(pt, extended.into(), ts, now, bytes.clone()));
                    report.sent.push(Seen { at: now, ts, seq, payload: bytes });
                    sent += 1;
                    next_send = Some(at + Duration::from_millis(20));
                    self.rtc.handle_input(Input::Timeout(now)).expect("time");
                    continue;
                }
                if report.connected_at.is_some() && next_send.is_none() {
                    next_send = Some(now + Duration::from_millis(100));
                }
                let wait = timeout.saturating_duration_since(now).min(Duration::from_millis(1));
                self.socket.set_read_timeout(Some(wait.max(Duration::from_micros(200)))).expect("read timeout");
                match self.socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        let at = Instant::now();
                        if let Ok(receive) = Receive::new(Protocol::Udp, from, local, &buf[..n]) {
                            let _ = self.rtc.handle_input(Input::Receive(at, receive));
                        }
                    }
                    Err(_) => {
                        let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                    }
                }
            }
            report
        })
    }

    /// Sends what str0m has to send and records events, until str0m asks for a timeout.
    fn drain(&mut self, report: &mut Report) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => return at,
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::Connected)) => report.connected_at = Some(Instant::now()),
                Ok(Output::Event(Event::RtpPacket(p))) => report.received.push(Seen {
                    at: Instant::now(),
                    ts: p.header.timestamp,
                    seq: p.header.sequence_number,
                    payload: p.payload.to_vec(),
                }),
                Ok(Output::Event(_)) => {}
                Err(e) => panic!("browser str0m failed: {e}"),
            }
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("local address")
    }
}
