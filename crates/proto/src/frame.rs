//! Frames: how the protocol's units are laid out on the wire.
//!
//! Every frame is a six-byte header — version (1 byte), type (1 byte), payload length
//! (4 bytes, big-endian) — and a payload of at most [`frame_bytes_max`] bytes. The length
//! is checked against the maximum before a single payload byte is buffered, so a peer
//! cannot make us allocate more than one frame's worth. Fields inside a payload are fixed
//! width big-endian integers and length-prefixed byte strings; the layout is simple enough
//! to read in a hex dump at 3 a.m., and every decode error says which field was wrong.

use crate::lane::{LANES, Lane};

/// The version byte this implementation speaks. A frame with another version is refused.
#[allow(non_upper_case_globals)]
pub const protocol_version: u8 = 1;

/// Header: version, type, length.
#[allow(non_upper_case_globals)]
pub const frame_header_bytes: usize = 6;

/// Largest item payload (a message body of 64 KiB plus its envelope and signature).
#[allow(non_upper_case_globals)]
pub const payload_bytes_max: usize = 96 * 1024;

/// Largest frame payload: an item payload plus the item frame's own fields.
#[allow(non_upper_case_globals)]
pub const frame_bytes_max: usize = payload_bytes_max + 64;

/// Longest station name carried in a Hello, in bytes.
#[allow(non_upper_case_globals)]
const station_name_bytes_max: usize = 32;

/// Longest close reason, in bytes.
#[allow(non_upper_case_globals)]
const close_reason_bytes_max: usize = 256;

const TYPE_HELLO: u8 = 1;
const TYPE_ITEM: u8 = 2;
const TYPE_RECEIPT: u8 = 3;
const TYPE_PING: u8 = 4;
const TYPE_PONG: u8 = 5;
const TYPE_CLOSE: u8 = 6;

/// One protocol unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// First frame on every connection, from both ends: who I am and, per lane, the next
    /// sequence number I still need from you (everything below it is on my disk).
    Hello {
        station: String,
        durable_next: [u64; LANES],
    },
    /// One item (a message, an acknowledgment, ...) on a lane, with its sequence number.
    Item {
        lane: Lane,
        seq: u64,
        payload: Vec<u8>,
    },
    /// Cumulative receipt: every item on `lane` up to and including `seq` is on my disk.
    Receipt {
        lane: Lane,
        seq: u64,
    },
    /// Heartbeat; answered by a Pong with the same nonce.
    Ping {
        nonce: u64,
    },
    Pong {
        nonce: u64,
    },
    /// The sender is closing this connection, and why.
    Close {
        reason: String,
    },
}

/// Why bytes from the wire are not a frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame has protocol version {0}, this station speaks version {protocol_version}")]
    Version(u8),
    #[error("frame type {0} is unknown")]
    UnknownType(u8),
    #[error("frame of {0} bytes is over the limit of {frame_bytes_max} bytes")]
    TooLarge(usize),
    #[error("frame type {frame_type} is malformed: {what}")]
    Malformed { frame_type: u8, what: &'static str },
}

impl Frame {
    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[protocol_version, self.type_byte(), 0, 0, 0, 0]);
        match self {
            Frame::Hello { station, durable_next } => {
                put_bytes(out, station.as_bytes());
                for next in durable_next {
                    out.extend_from_slice(&next.to_be_bytes());
                }
            }
            Frame::Item { lane, seq, payload } => {
                out.push(*lane as u8);
                out.extend_from_slice(&seq.to_be_bytes());
                put_bytes(out, payload);
            }
            Frame::Receipt { lane, seq } => {
                out.push(*lane as u8);
                out.extend_from_slice(&seq.to_be_bytes());
            }
            Frame::Ping { nonce } | Frame::Pong { nonce } => out.extend_from_slice(&nonce.to_be_bytes()),
            Frame::Close { reason } => {
                let mut end = reason.len().min(close_reason_bytes_max);
                while !reason.is_char_boundary(end) {
                    end -= 1;
                }
                put_bytes(out, &reason.as_bytes()[..end]);
            }
        }
        let len = out.len() - start - frame_header_bytes;
        // Every frame we build stays within the limit we enforce on others.
        assert!(len <= frame_bytes_max, "encoded frame of {len} bytes exceeds frame_bytes_max");
        out[start + 2..start + 6].copy_from_slice(&(len as u32).to_be_bytes());
    }

    fn type_byte(&self) -> u8 {
        match self {
            Frame::Hello { .. } => TYPE_HELLO,
            Frame::Item { .. } => TYPE_ITEM,
            Frame::Receipt { .. } => TYPE_RECEIPT,
            Frame::Ping { .. } => TYPE_PING,
            Frame::Pong { .. } => TYPE_PONG,
            Frame::Close { .. } => TYPE_CLOSE,
        }
    }

    fn decode_payload(frame_type: u8, payload: &[u8]) -> Result<Frame, FrameError> {
        let mut r = Reader { bytes: payload, frame_type };
        let frame = match frame_type {
            TYPE_HELLO => {
                let station = r.bytes(station_name_bytes_max, "station name too long")?;
                let station = String::from_utf8(station.to_vec()).map_err(|_| r.bad("station name is not UTF-8"))?;
                let mut durable_next = [0u64; LANES];
                for next in &mut durable_next {
                    *next = r.u64("lane position")?;
                    if *next == 0 {
                        return Err(r.bad("lane position 0 (positions start at 1)"));
                    }
                }
                Frame::Hello { station, durable_next }
            }
            TYPE_ITEM => {
                let lane = r.lane()?;
                let seq = r.u64("sequence number")?;
                if seq == 0 {
                    return Err(r.bad("sequence number 0 (sequences start at 1)"));
                }
                let payload = r.bytes(payload_bytes_max, "item payload over payload_bytes_max")?.to_vec();
                Frame::Item { lane, seq, payload }
            }
            TYPE_RECEIPT => Frame::Receipt { lane: r.lane()?, seq: r.u64("sequence number")? },
            TYPE_PING => Frame::Ping { nonce: r.u64("nonce")? },
            TYPE_PONG => Frame::Pong { nonce: r.u64("nonce")? },
            TYPE_CLOSE => {
                let reason = r.bytes(close_reason_bytes_max, "close reason too long")?;
                Frame::Close { reason: String::from_utf8_lossy(reason).into_owned() }
            }
            other => return Err(FrameError::UnknownType(other)),
        };
        if !r.bytes.is_empty() {
            return Err(r.bad("trailing bytes after the last field"));
        }
        Ok(frame)
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A cursor over one frame's payload that turns every shortfall into a named error.
struct Reader<'a> {
    bytes: &'a [u8],
    frame_type: u8,
}

impl<'a> Reader<'a> {
    fn bad(&self, what: &'static str) -> FrameError {
        FrameError::Malformed { frame_type: self.frame_type, what }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FrameError> {
        if self.bytes.len() < n {
            return Err(self.bad(what));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, FrameError> {
        let raw = self.take(8, what)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(raw);
        Ok(u64::from_be_bytes(b))
    }

    fn lane(&mut self) -> Result<Lane, FrameError> {
        let raw = self.take(1, "lane missing")?;
        Lane::from_wire(raw[0]).ok_or_else(|| self.bad("unknown lane"))
    }

    fn bytes(&mut self, max: usize, too_long: &'static str) -> Result<&'a [u8], FrameError> {
        let raw = self.take(4, "length prefix missing")?;
        let len = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize;
        if len > max {
            return Err(self.bad(too_long));
        }
        self.take(len, "byte string shorter than its length prefix")
    }
}

/// Reassembles frames from a byte stream that arrives in arbitrary pieces.
///
/// Decoding is linear in the bytes received (issue #14): a decoded frame only moves a read
/// cursor, and the consumed prefix is dropped once it is at least as long as what is still
/// unread, so every byte is copied at most once more after it arrives. (Shifting the whole
/// buffer after every frame, as the first version did, made one chunk of many tiny frames
/// quadratic: 200,000 pings took 12 s.) A caller that decodes until `Ok(None)` after each
/// [`extend`](Self::extend) holds less than one frame unread, and so less than two frames
/// in memory, whatever the peer sends.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// Received bytes; those before `read` are decoded and wait to be dropped.
    buffer: Vec<u8>,
    /// Where the next frame starts in `buffer`.
    read: usize,
}

impl FrameDecoder {
    /// Adds bytes read from the connection.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed, or the error that
    /// makes the rest of this connection's stream meaningless.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let unread = &self.buffer[self.read..];
        if unread.len() < frame_header_bytes {
            return Ok(None);
        }
        let version = unread[0];
        if version != protocol_version {
            return Err(FrameError::Version(version));
        }
        let frame_type = unread[1];
        let len = u32::from_be_bytes([unread[2], unread[3], unread[4], unread[5]]) as usize;
        if len > frame_bytes_max {
            return Err(FrameError::TooLarge(len));
        }
        if unread.len() < frame_header_bytes + len {
            return Ok(None);
        }
        let frame = Frame::decode_payload(frame_type, &unread[frame_header_bytes..frame_header_bytes + len]);
        self.read += frame_header_bytes + len;
        self.compact();
        frame.map(Some)
    }

    /// Drops the decoded prefix when that is cheap: at once when nothing is left unread,
    /// otherwise once the prefix is at least as long as the rest, so that the bytes copied
    /// are paid for by the bytes dropped.
    fn compact(&mut self) {
        let unread = self.buffer.len() - self.read;
        if unread == 0 {
            self.buffer.clear();
            self.read = 0;
        } else if self.read >= unread {
            self.buffer.drain(..self.read);
            self.read = 0;
        }
        // Paired with the rule above: what is held beyond the unread bytes never exceeds them.
        debug_assert!(self.read <= self.buffer.len() - self.read);
    }

    /// Bytes held that do not yet form a frame.
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.len() - self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(frame: Frame) {
        let mut bytes = Vec::new();
        frame.encode(&mut bytes);
        // Feed one byte at a time: the decoder must cope with any split.
        let mut decoder = FrameDecoder::default();
        let mut got = None;
        for b in &bytes {
            decoder.extend(std::slice::from_ref(b));
            if let Some(f) = decoder.next_frame().expect("valid frame") {
                got = Some(f);
            }
        }
        assert_eq!(got, Some(frame));
        assert_eq!(decoder.buffered_bytes(), 0);
    }

    #[test]
    fn every_frame_type_round_trips() {
        round_trip(Frame::Hello { station: "alpha".into(), durable_next: [1, 2, 3, 4, 5] });
        round_trip(Frame::Item { lane: Lane::Flash, seq: 7, payload: b"hello".to_vec() });
        round_trip(Frame::Item { lane: Lane::Routine, seq: 1, payload: vec![0; payload_bytes_max] });
        round_trip(Frame::Receipt { lane: Lane::Control, seq: 0 });
        round_trip(Frame::Ping { nonce: u64::MAX });
        round_trip(Frame::Pong { nonce: 0 });
        round_trip(Frame::Close { reason: "superseded".into() });
    }

    fn decode(bytes: &[u8]) -> Result<Option<Frame>, FrameError> {
        let mut d = FrameDecoder::default();
        d.extend(bytes);
        d.next_frame()
    }

    #[test]
    fn bad_frames_are_refused_with_a_reason() {
        assert_eq!(decode(&[2, 4, 0, 0, 0, 8]), Err(FrameError::Version(2)));
        assert_eq!(decode(&[1, 99, 0, 0, 0, 0]), Err(FrameError::UnknownType(99)));
        assert_eq!(decode(&[1, 2, 0xff, 0xff, 0xff, 0xff]), Err(FrameError::TooLarge(0xffff_ffff)));
        assert!(matches!(decode(&[1, 4, 0, 0, 0, 2, 0, 0]), Err(FrameError::Malformed { .. })));
        // An item on lane 9, which does not exist.
        let mut bytes = vec![1, 2, 0, 0, 0, 13, 9];
        bytes.extend_from_slice(&1u64.to_be_bytes());
        bytes.extend_from_slice(&0u32.to_be_bytes());
        assert!(matches!(decode(&bytes), Err(FrameError::Malformed { what: "unknown lane", .. })));
        // Trailing garbage inside a ping.
        assert!(matches!(decode(&[1, 4, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 7]), Err(FrameError::Malformed { .. })));
        // An item whose inner length claims more than the frame holds.
        let mut bytes = vec![1, 2, 0, 0, 0, 13, 1];
        bytes.extend_from_slice(&1u64.to_be_bytes());
        bytes.extend_from_slice(&100u32.to_be_bytes());
        assert!(matches!(decode(&bytes), Err(FrameError::Malformed { .. })));
        assert_eq!(decode(&[1, 2, 0]), Ok(None));
    }

    /// Many tiny frames in one buffer, as a peer can send them in one TLS record burst:
    /// the encoded pings for `count` nonces.
    fn tiny_frames(count: u64) -> Vec<u8> {
        let mut bytes = Vec::new();
        for nonce in 0..count {
            Frame::Ping { nonce }.encode(&mut bytes);
        }
        bytes
    }

    /// Fed in reads of 4 KiB and drained after each, as `Line::handle_input` does, the
    /// decoder holds less than one frame unread and less than two frames in memory, for
    /// tiny frames, a largest frame split across many reads, and both interleaved.
    #[test]
    fn held_bytes_stay_below_two_frames() {
        let mut bytes = tiny_frames(10_000);
        Frame::Item { lane: Lane::Routine, seq: 1, payload: vec![7; payload_bytes_max] }.encode(&mut bytes);
        bytes.extend_from_slice(&tiny_frames(10_000));
        let mut decoder = FrameDecoder::default();
        let mut decoded = 0;
        for read in bytes.chunks(4096) {
            decoder.extend(read);
            while decoder.next_frame().expect("valid frames").is_some() {
                decoded += 1;
            }
            assert!(decoder.buffered_bytes() < frame_header_bytes + frame_bytes_max);
            assert!(decoder.buffer.len() < 2 * (frame_header_bytes + frame_bytes_max));
        }
        assert_eq!(decoded, 20_001);
        assert_eq!(decoder.buffered_bytes(), 0);
    }

    /// A caller that decodes one frame per read still gets every frame, in order, and the
    /// consumed prefix never outgrows the unread bytes.
    #[test]
    fn one_frame_per_read_keeps_order() {
        let bytes = tiny_frames(1_000);
        let mut decoder = FrameDecoder::default();
        let mut next_nonce = 0;
        for read in bytes.chunks(100) {
            decoder.extend(read);
            if let Some(frame) = decoder.next_frame().expect("valid frames") {
                assert_eq!(frame, Frame::Ping { nonce: next_nonce });
                next_nonce += 1;
            }
            assert!(decoder.read <= decoder.buffer.len() - decoder.read);
        }
        while let Some(frame) = decoder.next_frame().expect("valid frames") {
            assert_eq!(frame, Frame::Ping { nonce: next_nonce });
            next_nonce += 1;
        }
        assert_eq!(next_nonce, 1_000);
        assert_eq!(decoder.buffered_bytes(), 0);
    }

    /// A malformed frame is consumed before its error is returned (as before), so the
    /// error is about that frame and the cursor stays on a frame boundary.
    #[test]
    fn malformed_frame_is_consumed() {
        let mut decoder = FrameDecoder::default();
        decoder.extend(&[1, 4, 0, 0, 0, 2, 0, 0]);
        Frame::Ping { nonce: 5 }.encode(&mut decoder.buffer);
        assert!(matches!(decoder.next_frame(), Err(FrameError::Malformed { .. })));
        assert_eq!(decoder.next_frame(), Ok(Some(Frame::Ping { nonce: 5 })));
        assert_eq!(decoder.buffered_bytes(), 0);
    }
}
