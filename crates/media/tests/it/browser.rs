//! The browser leg against a str0m peer playing the browser: ICE over loopback UDP,
//! DTLS, then Opus RTP both ways; and malformed offers refused with a typed error.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hotline_media::{BrowserLeg, LegEvent, Limits, MediaError, Output};

use crate::browser_sim::{BrowserSim, payload};

const PACKETS: u16 = 100;

#[test]
fn opus_flows_both_ways_intact_and_in_order() {
    let _alone = crate::heavy();
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the station socket");
    let local = socket.local_addr().expect("local address");
    let mut browser = BrowserSim::new();
    let (mut leg, answer) =
        BrowserLeg::accept_offer(&browser.offer, local, Instant::now(), Limits::default()).expect("offer accepted");
    assert!(answer.contains("a=ice-lite"), "the station answers ICE-lite:\n{answer}");
    assert!(answer.contains("opus/48000/2"), "the station answers Opus:\n{answer}");
    browser.accept_answer(&answer);
    let browser_addr = browser.local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    // The browser counts from 65500 so the sequence numbers roll over on the way.
    let browser = browser.spawn(0xa1, PACKETS, 65_500, stop.clone());

    // The station echoes every packet back to the browser, as a relay would pass on the
    // far side's; it must arrive as the browser sent it.
    let mut from_browser = Vec::new();
    let mut connected = false;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut buf = vec![0_u8; 2048];
    while Instant::now() < deadline && from_browser.len() < usize::from(PACKETS) {
        let timeout = loop {
            match leg.poll_output() {
                Output::Transmit { to, bytes } => {
                    socket.send_to(&bytes, to).expect("send");
                }
                Output::Timeout(at) => break at,
                Output::Rtp { ts, seq, payload } => {
                    from_browser.push((ts, seq, payload.clone()));
                    leg.send_rtp(Instant::now(), ts, seq, &payload);
                }
                Output::Event(LegEvent::Connected) => connected = true,
                Output::Event(other) => panic!("unexpected event {other:?}"),
            }
        };
        let wait = timeout
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_micros(200), Duration::from_millis(5));
        socket.set_read_timeout(Some(wait)).expect("read timeout");
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => leg.handle_datagram(Instant::now(), from, local, &buf[..n]),
            Err(_) => leg.handle_timeout(Instant::now()),
        }
    }
    // Let the last echoes reach the browser.
    let linger = Instant::now() + Duration::from_millis(300);
    while Instant::now() < linger {
        while let Output::Transmit { to, bytes } = leg.poll_output() {
            socket.send_to(&bytes, to).expect("send");
        }
        socket.set_read_timeout(Some(Duration::from_millis(2))).expect("read timeout");
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            leg.handle_datagram(Instant::now(), from, local, &buf[..n]);
        } else {
            leg.handle_timeout(Instant::now());
        }
    }
    stop.store(true, Ordering::Relaxed);
    let report = browser.join().expect("the browser thread");

    assert!(connected, "the leg connected");
    assert_eq!(leg.selected_addr(), Some(browser_addr));
    assert_eq!(from_browser.len(), usize::from(PACKETS), "every packet reached the station");
    for (i, (ts, seq, bytes)) in from_browser.iter().enumerate() {
        let sent = &report.sent[i];
        assert_eq!((*ts, *seq), (sent.ts, sent.seq), "packet {i} in order");
        assert_eq!(bytes, &payload(0xa1, sent.seq), "packet {i} intact");
    }
    assert_eq!(report.received.len(), usize::from(PACKETS), "every echo reached the browser");
    for (sent, received) in report.sent.iter().zip(&report.received) {
        assert_eq!((sent.ts, sent.seq, &sent.payload), (received.ts, received.seq, &received.payload));
    }
    let counts = leg.counts();
    assert_eq!((counts.rtp_in, counts.rtp_out), (u64::from(PACKETS), u64::from(PACKETS)));
    assert_eq!(counts.dropped_malformed + counts.dropped_not_selected + counts.dropped_rate, 0, "{counts:?}");
}

#[test]
fn malformed_offers_get_a_typed_error() {
    let local = "127.0.0.1:9".parse().expect("an address");
    let video_only = BrowserSim::new().offer.replace("m=audio", "m=video");
    let no_opus = BrowserSim::new().offer.replace("opus/48000/2", "speex/48000");
    let huge = "v=0\r\n".repeat(10_000);
    for (offer, why) in [
        ("", "empty"),
        ("hello", "not SDP"),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "truncated"),
        (huge.as_str(), "too long"),
        (video_only.as_str(), "no audio"),
        (no_opus.as_str(), "no Opus"),
    ] {
        match BrowserLeg::accept_offer(offer, local, Instant::now(), Limits::default()) {
            Err(MediaError::BadOffer(reason)) => {
                assert!(!reason.is_empty() && reason.len() <= 120, "{why}: {reason}");
            }
            Err(other) => panic!("{why}: wrong error {other}"),
            Ok(_) => panic!("{why}: accepted"),
        }
    }
}

#[test]
fn datagrams_from_elsewhere_or_over_the_bounds_are_dropped_and_counted() {
    let local = "127.0.0.1:40000".parse().expect("an address");
    let stranger = "127.0.0.1:40001".parse().expect("an address");
    let browser = BrowserSim::new();
    let limits = Limits { packets_per_s_max: 5, ..Limits::default() };
    let now = Instant::now();
    let (mut leg, _) = BrowserLeg::accept_offer(&browser.offer, local, now, limits).expect("offer accepted");
    // An SRTP-looking datagram from an address ICE never saw.
    leg.handle_datagram(now, stranger, local, &[0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 42]);
    // Garbage that is none of STUN, DTLS, RTP.
    leg.handle_datagram(now, stranger, local, &[0xff; 20]);
    leg.handle_datagram(now, stranger, local, &vec![0x80; 4096]);
    for _ in 0..10 {
        leg.handle_datagram(now, stranger, local, &[0x80; 12]);
    }
    let counts = leg.counts();
    assert_eq!(counts.dropped_too_large, 1);
    // Five tokens: two for the first datagrams, three of the ten; the oversized one
    // was refused before it could take one.
    assert_eq!(counts.dropped_rate, 7, "{counts:?}");
    assert_eq!(counts.dropped_malformed + counts.dropped_not_selected, 5, "{counts:?}");
    assert_eq!(counts.rtp_in, 0);
    // Nothing goes to the browser before the leg is connected.
    leg.send_rtp(now, 0, 0, &[1, 2, 3]);
    assert_eq!(leg.counts().dropped_not_connected, 1);
}
