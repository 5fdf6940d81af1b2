//! The bytes of one relayed Opus packet between stations, as a QUIC datagram or as a
//! fallback item on the TLS line; parsed strictly, since the peer is an adversary.
//!
//! Layout (all integers big-endian), 24 bytes of header then the payload:
//!
//! ```text
//! 0       kind         1 = QUIC datagram, 2 = fallback item on the TLS line
//! 1..17   call id      the call's UUIDv7, as both stations know it
//! 17      speaker      whose voice this is: 1 = caller's operator, 2 = callee's
//! 18..22  timestamp    the browser's RTP timestamp (48 kHz), unchanged
//! 22..24  sequence     the browser's RTP sequence number, unchanged
//! 24..    payload      the Opus packet, 1..=rtp_payload_bytes_max bytes, never transcoded
//! ```
//!
//! The speaker byte lets a station refuse its own audio reflected back at it, and the
//! kind byte keeps a datagram from being replayed as a fallback item or the reverse.
//! Nothing else (SSRC, marker, extensions) crosses: the receiving station writes its own
//! RTP header toward its console.

use hotline_call::{CallId, Side};

/// Bytes before the payload.
pub const HEADER_BYTES: usize = 24;

/// The first byte of a datagram or fallback item: which carrier it was framed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// An unreliable QUIC datagram (RFC 9221) on the media connection.
    Datagram = 1,
    /// A fallback item carried on the TLS line when UDP between the stations is blocked.
    LineFallback = 2,
}

/// One Opus packet of one call, as relayed between stations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaPacket {
    pub call: CallId,
    /// Whose operator spoke it.
    pub speaker: Side,
    pub rtp_timestamp: u32,
    pub sequence: u16,
    pub payload: Vec<u8>,
}

/// Why bytes from the peer are not a media packet; each is counted where it is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("shorter than the {HEADER_BYTES}-byte header")]
    Short,
    #[error("framed for another carrier (kind byte {0})")]
    WrongCarrier(u8),
    #[error("call id is not a UUIDv7")]
    CallId,
    #[error("speaker byte {0} is neither caller (1) nor callee (2)")]
    Speaker(u8),
    #[error("no Opus payload")]
    EmptyPayload,
    #[error("payload of {0} bytes is over the bound")]
    PayloadTooLarge(usize),
}

impl MediaPacket {
    /// The bytes for `carrier`: header then payload.
    pub fn encode(&self, carrier: Carrier) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + self.payload.len());
        bytes.push(carrier as u8);
        bytes.extend_from_slice(self.call.as_bytes());
        bytes.push(self.speaker as u8);
        bytes.extend_from_slice(&self.rtp_timestamp.to_be_bytes());
        bytes.extend_from_slice(&self.sequence.to_be_bytes());
        bytes.extend_from_slice(&self.payload);
        // Paired with the length check in `parse`: the header is exactly HEADER_BYTES.
        debug_assert_eq!(bytes.len(), HEADER_BYTES + self.payload.len());
        bytes
    }

    /// Parses bytes from the peer framed for `carrier`, with at most
    /// `payload_bytes_max` bytes of payload.
    pub fn parse(bytes: &[u8], carrier: Carrier, payload_bytes_max: usize) -> Result<MediaPacket, WireError> {
        let Some((header, payload)) = bytes.split_at_checked(HEADER_BYTES) else {
            return Err(WireError::Short);
        };
        if header[0] != carrier as u8 {
            return Err(WireError::WrongCarrier(header[0]));
        }
        let mut call = [0_u8; 16];
        call.copy_from_slice(&header[1..17]);
        let call = CallId::from_bytes(call).map_err(|_| WireError::CallId)?;
        let speaker = match header[17] {
            1 => Side::Caller,
            2 => Side::Callee,
            other => return Err(WireError::Speaker(other)),
        };
        let rtp_timestamp = u32::from_be_bytes([header[18], header[19], header[20], header[21]]);
        let sequence = u16::from_be_bytes([header[22], header[23]]);
        if payload.is_empty() {
            return Err(WireError::EmptyPayload);
        }
        if payload.len() > payload_bytes_max {
            return Err(WireError::PayloadTooLarge(payload.len()));
        }
        Ok(MediaPacket { call, speaker, rtp_timestamp, sequence, payload: payload.to_vec() })
    }
}

/// The other end of a call from `side`.
pub fn other_side(side: Side) -> Side {
    match side {
        Side::Caller => Side::Callee,
        Side::Callee => Side::Caller,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn call_id() -> CallId {
        let mut bytes = [0x11_u8; 16];
        bytes[6] = 0x70;
        bytes[8] = 0x80;
        CallId::from_bytes(bytes).expect("a UUIDv7")
    }

    fn packet() -> MediaPacket {
        MediaPacket {
            call: call_id(),
            speaker: Side::Callee,
            rtp_timestamp: 0xdead_beef,
            sequence: 65535,
            payload: vec![0xfc, 1, 2, 3],
        }
    }

    #[test]
    fn a_packet_survives_both_carriers() {
        for carrier in [Carrier::Datagram, Carrier::LineFallback] {
            let bytes = packet().encode(carrier);
            assert_eq!(bytes.len(), HEADER_BYTES + 4);
            assert_eq!(MediaPacket::parse(&bytes, carrier, 1275), Ok(packet()));
        }
    }

    #[test]
    fn every_bad_field_is_refused() {
        let good = packet().encode(Carrier::Datagram);
        let check = |bytes: &[u8], expect: WireError| {
            assert_eq!(MediaPacket::parse(bytes, Carrier::Datagram, 8), Err(expect));
        };
        check(&good[..HEADER_BYTES - 1], WireError::Short);
        check(&[], WireError::Short);
        check(&good[..HEADER_BYTES], WireError::EmptyPayload);
        check(&packet().encode(Carrier::LineFallback), WireError::WrongCarrier(2));
        let mut bad = good.clone();
        bad[7] = 0x40; // UUID version 4
        check(&bad, WireError::CallId);
        let mut bad = good.clone();
        bad[17] = 3;
        check(&bad, WireError::Speaker(3));
        let mut big = good.clone();
        big.extend_from_slice(&[0; 5]);
        check(&big, WireError::PayloadTooLarge(9));
    }
}
