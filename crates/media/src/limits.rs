//! Named bounds on everything a browser or a peer station can make a station hold or do,
//! and the token bucket that enforces a packet rate per call.
//!
//! The numbers are for one mono Opus call at 20 ms per packet: 50 packets per second
//! each way, a payload of at most one maximal Opus frame (RFC 6716 §3.4 R2: 1275 bytes).

use std::time::{Duration, Instant};

/// The bounds of one call's media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest Opus payload relayed; RFC 6716 caps one frame at 1275 bytes and a
    /// 20 ms mono packet carries one frame.
    pub rtp_payload_bytes_max: usize,
    /// Packets per second accepted from the browser or from the peer for one call. A
    /// call sends 50; the rest is headroom for RTCP, STUN keep-alives and bursts after a
    /// stall. The bucket holds one second's worth.
    pub packets_per_s_max: u32,
    /// The largest SDP offer read; a browser's audio-only offer is 3-6 KiB.
    pub sdp_bytes_max: usize,
    /// The largest datagram handed to the browser leg (a UDP payload on a 1500-byte MTU
    /// is at most 1472 bytes; some slack for jumbo loopback).
    pub datagram_bytes_max: usize,
    /// Frames waiting for the TLS line in fallback are dropped once older than this: late
    /// audio is worse than a gap the decoder conceals.
    pub fallback_frame_age_ms_max: u64,
    /// Frames queued for the TLS line at most (fallback); 150 ms is 8 frames.
    pub fallback_queue_frames_max: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            rtp_payload_bytes_max: 1275,
            packets_per_s_max: 150,
            sdp_bytes_max: 32 * 1024,
            datagram_bytes_max: 2048,
            fallback_frame_age_ms_max: 150,
            fallback_queue_frames_max: 16,
        }
    }
}

/// A token bucket of `packets_per_s_max` tokens refilled at that rate, driven by the
/// caller's clock (sans-IO: time is an argument).
#[derive(Debug)]
pub(crate) struct RateLimit {
    tokens_per_s: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    pub(crate) fn new(packets_per_s_max: u32, now: Instant) -> RateLimit {
        let tokens_per_s = f64::from(packets_per_s_max.max(1));
        RateLimit { tokens_per_s, tokens: tokens_per_s, last: now }
    }

    /// Takes one token if there is one; `false` means the packet is over the rate.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.tokens_per_s).min(self.tokens_per_s);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Milliseconds between two instants, zero if `later` is not later.
pub(crate) fn age_ms(earlier: Instant, later: Instant) -> u64 {
    let age: Duration = later.saturating_duration_since(earlier);
    u64::try_from(age.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_admits_a_second_of_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = RateLimit::new(50, start);
        let burst = (0..100).filter(|_| bucket.admit(start)).count();
        assert_eq!(burst, 50);
        // 20 ms later one token has come back, and only one.
        let later = start + Duration::from_millis(20);
        assert!(bucket.admit(later));
        assert!(!bucket.admit(later));
        // A clock that goes backwards refills nothing.
        assert!(!bucket.admit(start));
    }

    #[test]
    fn ages_saturate() {
        let start = Instant::now();
        assert_eq!(age_ms(start + Duration::from_millis(5), start), 0);
        assert_eq!(age_ms(start, start + Duration::from_millis(151)), 151);
    }
}
