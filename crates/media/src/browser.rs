//! The browser leg: one WebRTC peer connection between an operator's console and its own
//! station, terminated with str0m, sans-IO (bytes and time in, datagrams and packets out).
//!
//! Configured for one thing: Opus audio both ways, in str0m's RTP mode, because frame
//! mode's audio reordering holds up to 15 packets (1 s) after a single loss and a relay
//! must pass each packet on as it comes. The station is ICE-lite with one host UDP
//! candidate: everything is local, there is no STUN or TURN server, and the browser
//! (the full ICE agent) picks the pair.
//!
//! Bad input never panics and never ends the call: a malformed offer is a typed
//! `MediaError::BadOffer`; a datagram over the size bound or the rate, one that is not
//! STUN from an address other than the ICE-selected one, or an RTP packet that is not
//! the negotiated Opus or is too large, is dropped and counted in [`LegCounts`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, IceConnectionState, Input, Rtc, RtcConfig};

use crate::MediaError;
use crate::limits::{Limits, RateLimit};
use crate::seq::SeqExtender;

/// The timeout a closed leg asks for: it will never need one again.
const CLOSED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// What the leg asks of its driver, from [`BrowserLeg::poll_output`].
#[derive(Debug)]
pub enum Output {
    /// Send `bytes` in one UDP datagram to `to` from the leg's local address.
    Transmit {
        to: SocketAddr,
        bytes: Vec<u8>,
    },
    /// Nothing more until this time or the next input: call `handle_timeout` then.
    Timeout(Instant),
    /// An Opus packet from the browser, as it came (no reordering, no buffering).
    Rtp {
        ts: u32,
        seq: u16,
        payload: Vec<u8>,
    },
    Event(LegEvent),
}

/// Changes of the leg's state worth telling the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegEvent {
    /// ICE and DTLS are done: media can flow both ways.
    Connected,
    /// The browser stopped answering ICE checks (str0m's ICE state `Disconnected`).
    Disconnected,
    /// The leg is closed, by the browser or after a fatal error; it will do nothing more.
    Closed(String),
}

/// What the leg dropped, by reason, and what it passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LegCounts {
    pub datagrams_in: u64,
    pub rtp_in: u64,
    pub rtp_out: u64,
    pub dropped_too_large: u64,
    pub dropped_rate: u64,
    /// DTLS, RTP or RTCP from an address that is not the ICE-selected one.
    pub dropped_not_selected: u64,
    /// Not a STUN, DTLS, RTP or RTCP datagram, or one str0m refused.
    pub dropped_malformed: u64,
    /// RTP with a payload type other than the negotiated Opus.
    pub dropped_payload_type: u64,
    /// Packets for the browser before the leg was connected.
    pub dropped_not_connected: u64,
    /// Packets for the browser from before the first one sent (no sequence number).
    pub dropped_late: u64,
}

/// One operator console's WebRTC audio session with its own station.
pub struct BrowserLeg {
    rtc: Rtc,
    local_addr: SocketAddr,
    limits: Limits,
    mid: Mid,
    opus_pt: Pt,
    /// Where str0m last sent DTLS or SRTP: the pair the browser nominated.
    selected: Option<SocketAddr>,
    rate: RateLimit,
    seq_out: SeqExtender,
    connected: bool,
    closed: bool,
    /// The latest time given as input (the leg never reads the clock).
    now: Instant,
    pending: VecDeque<Output>,
    counts: LegCounts,
}

impl BrowserLeg {
    /// Answers the browser's `sdp_offer` for a leg whose UDP socket is bound to
    /// `local_addr` (the address the browser can reach). Returns the leg and the answer.
    pub fn accept_offer(
        sdp_offer: &str,
        local_addr: SocketAddr,
        now: Instant,
        limits: Limits,
    ) -> Result<(BrowserLeg, String), MediaError> {
        if sdp_offer.len() > limits.sdp_bytes_max {
            return Err(MediaError::BadOffer(format!("longer than {} bytes", limits.sdp_bytes_max)));
        }
        let offer = SdpOffer::from_sdp_string(sdp_offer).map_err(|e| MediaError::BadOffer(short(&e.to_string())))?;
        let mid = audio_mid(&offer)?;
        let mut rtc =
            RtcConfig::new().set_ice_lite(true).set_rtp_mode(true).clear_codecs().enable_opus(true, false).build(now);
        let candidate =
            Candidate::host(local_addr, "udp").map_err(|e| MediaError::BadOffer(format!("local candidate: {e}")))?;
        rtc.add_local_candidate(candidate);
        let answer =
            rtc.sdp_api().accept_offer(offer).map_err(|e| MediaError::BadOffer(short(&e.to_string())))?.to_sdp_string();
        let opus_pt = opus_pt(&rtc, mid)?;
        let leg = BrowserLeg {
            rtc,
            local_addr,
            limits,
            mid,
            opus_pt,
            selected: None,
            rate: RateLimit::new(limits.packets_per_s_max, now),
            seq_out: SeqExtender::default(),
            connected: false,
            closed: false,
            now,
            pending: VecDeque::new(),
            counts: LegCounts::default(),
        };
        Ok((leg, answer))
    }

    /// Feeds one UDP datagram received on the leg's socket from `from` (to `to`, the
    /// local address it arrived on). Then drain `poll_output` until `Timeout`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        self.now = self.now.max(now);
        self.counts.datagrams_in += 1;
        if bytes.len() > self.limits.datagram_bytes_max {
            self.counts.dropped_too_large += 1;
            return;
        }
        if !self.rate.admit(now) {
            self.counts.dropped_rate += 1;
            return;
        }
        // RFC 7983 demultiplexing: STUN starts with 0..=3. STUN is authenticated by the
        // ICE credentials from the offer, and may come from a new address (the browser
        // trying another pair); anything else must come from the selected pair.
        let stun = bytes.first().is_some_and(|b| *b <= 3);
        if !stun && self.selected.is_some_and(|selected| selected != from) {
            self.counts.dropped_not_selected += 1;
            return;
        }
        let Ok(receive) = Receive::new(Protocol::Udp, from, to, bytes) else {
            self.counts.dropped_malformed += 1;
            return;
        };
        let input = Input::Receive(now, receive);
        if !self.rtc.accepts(&input) {
            self.counts.dropped_not_selected += 1;
            return;
        }
        if let Err(e) = self.rtc.handle_input(input) {
            self.counts.dropped_malformed += 1;
            tracing::debug!(error = %e, "browser leg refused a datagram");
        }
    }

    /// Moves time forward to `now`; call it when the last `Timeout` has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
            self.close(format!("timeout handling failed: {e}"));
        }
    }

    /// Sends one Opus packet toward the browser with the sender's RTP timestamp and
    /// sequence number (so the browser sees the real gaps). Dropped before connection.
    pub fn send_rtp(&mut self, now: Instant, ts: u32, seq: u16, payload: &[u8]) {
        if !self.connected || self.closed {
            self.counts.dropped_not_connected += 1;
            return;
        }
        if payload.is_empty() || payload.len() > self.limits.rtp_payload_bytes_max {
            self.counts.dropped_too_large += 1;
            return;
        }
        let Some(seq) = self.seq_out.extend(seq) else {
            self.counts.dropped_late += 1;
            return;
        };
        let mut direct = self.rtc.direct_api();
        let Some(stream) = direct.stream_tx_by_mid(self.mid, None) else {
            self.counts.dropped_not_connected += 1;
            return;
        };
        stream.write_rtp(RtpWrite::new(self.opus_pt, seq.into(), ts, now, payload.to_vec()));
        self.counts.rtp_out += 1;
        self.handle_timeout(now);
    }

    /// The next thing to do. Call after every input until it returns `Timeout`.
    #[must_use]
    pub fn poll_output(&mut self) -> Output {
        if let Some(output) = self.pending.pop_front() {
            return output;
        }
        loop {
            let output = match self.rtc.poll_output() {
                Ok(output) => output,
                Err(e) => {
                    self.close(format!("WebRTC failure: {e}"));
                    return self.pending.pop_front().unwrap_or(Output::Timeout(self.now + CLOSED_TIMEOUT));
                }
            };
            match output {
                str0m::Output::Timeout(at) => return Output::Timeout(at),
                str0m::Output::Transmit(transmit) => {
                    let bytes: &[u8] = &transmit.contents;
                    if bytes.first().is_some_and(|b| *b > 3) {
                        self.selected = Some(transmit.destination);
                    }
                    return Output::Transmit { to: transmit.destination, bytes: bytes.to_vec() };
                }
                str0m::Output::Event(event) => {
                    if let Some(output) = self.on_event(event) {
                        return output;
                    }
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) -> Option<Output> {
        match event {
            Event::Connected => {
                self.connected = true;
                Some(Output::Event(LegEvent::Connected))
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                Some(Output::Event(LegEvent::Disconnected))
            }
            Event::Closed => {
                self.close("closed by the browser".to_owned());
                self.pending.pop_front()
            }
            Event::RtpPacket(packet) => {
                if packet.header.payload_type != self.opus_pt {
                    self.counts.dropped_payload_type += 1;
                    return None;
                }
                if packet.payload.is_empty() || packet.payload.len() > self.limits.rtp_payload_bytes_max {
                    self.counts.dropped_too_large += 1;
                    return None;
                }
                self.counts.rtp_in += 1;
                Some(Output::Rtp {
                    ts: packet.header.timestamp,
                    seq: packet.header.sequence_number,
                    payload: packet.payload.to_vec(),
                })
            }
            _ => None,
        }
    }

    fn close(&mut self, why: String) {
        if !self.closed {
            self.closed = true;
            self.connected = false;
            self.rtc.disconnect();
            self.pending.push_back(Output::Event(LegEvent::Closed(why)));
        }
    }

    /// The local address of the leg's host candidate.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The browser's address on the ICE-selected pair, once DTLS or SRTP has flowed.
    pub fn selected_addr(&self) -> Option<SocketAddr> {
        self.selected
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn counts(&self) -> LegCounts {
        self.counts
    }
}

/// The mid of the offer's first audio section (the console offers exactly one).
fn audio_mid(offer: &SdpOffer) -> Result<Mid, MediaError> {
    // str0m does not export its media-type enum; its Display is the SDP token.
    offer
        .media_lines
        .iter()
        .find(|line| line.typ.to_string() == "audio")
        .map(|line| line.mid())
        .ok_or_else(|| MediaError::BadOffer("no audio section".to_owned()))
}

/// The payload type the browser offered for Opus in the audio section.
fn opus_pt(rtc: &Rtc, mid: Mid) -> Result<Pt, MediaError> {
    let remote = rtc.media(mid).map(|media| media.remote_pts().to_vec()).unwrap_or_default();
    rtc.codec_config()
        .iter()
        .find(|params| params.spec().codec == Codec::Opus && remote.contains(&params.pt()))
        .map(|params| params.pt())
        .ok_or_else(|| MediaError::BadOffer("no Opus in the audio section".to_owned()))
}

/// A reason cut to one short line: it may reach an operator's 4xx.
fn short(reason: &str) -> String {
    const REASON_CHARS_MAX: usize = 120;
    let line = reason.lines().next().unwrap_or("unreadable");
    line.chars().take(REASON_CHARS_MAX).collect()
}
