//! The frame decoder on arbitrary bytes from the wire.
//!
//! Beyond "no panic": the frames found are the same whether the bytes arrive at once or
//! in pieces; every frame re-encodes to exactly the bytes it was read from (a frame has
//! one wire form), except a Close whose reason was not UTF-8, which is read lossily and
//! must then decode back to what was read (cut to the reason limit); and the decoder
//! never holds more than one frame's worth of bytes.

#![no_main]

use hotline_proto::{Frame, FrameDecoder, FrameError, frame_bytes_max, frame_header_bytes};
use libfuzzer_sys::fuzz_target;

/// Piece sizes for the split run: small and uneven, so that headers and length prefixes
/// are cut at every offset.
const PIECES: [usize; 8] = [1, 2, 3, 5, 8, 13, 64, 7];

/// Close reasons longer than this are cut by the encoder (the decoder refuses them).
const CLOSE_REASON_BYTES_MAX: usize = 256;

/// Decodes frames from `pieces` until the first error, as a connection reads them.
fn decode_all<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> (Vec<Frame>, Option<FrameError>) {
    let mut decoder = FrameDecoder::default();
    let mut frames = Vec::new();
    for piece in pieces {
        decoder.extend(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
        // Whatever is held is less than one complete frame.
        assert!(decoder.buffered_bytes() < frame_header_bytes + frame_bytes_max);
    }
    (frames, None)
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    for &n in PIECES.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(n.min(rest.len()));
        pieces.push(head);
        rest = tail;
    }
    pieces
}

fn decode_one(bytes: &[u8]) -> Frame {
    let mut decoder = FrameDecoder::default();
    decoder.extend(bytes);
    let frame = decoder.next_frame().expect("an encoded frame decodes").expect("an encoded frame is complete");
    assert_eq!(decoder.buffered_bytes(), 0, "an encoded frame is exactly one frame");
    frame
}

fuzz_target!(|data: &[u8]| {
    let whole = decode_all(std::iter::once(data));
    let pieces = decode_all(split(data).into_iter());
    assert_eq!(whole, pieces, "frames must not depend on how the bytes were split");

    let (frames, _) = whole;
    let mut offset = 0;
    for frame in &frames {
        let len = u32::from_be_bytes(data[offset + 2..offset + 6].try_into().expect("4 bytes")) as usize;
        let wire = &data[offset..offset + frame_header_bytes + len];
        offset += wire.len();
        let mut encoded = Vec::new();
        frame.encode(&mut encoded);
        match frame {
            Frame::Close { reason } if std::str::from_utf8(&wire[10..]).is_err() => {
                // Read lossily: the re-encoding is the lossy text, cut at the limit.
                let Frame::Close { reason: again } = decode_one(&encoded) else {
                    panic!("a Close re-encodes as a Close");
                };
                assert!(reason.starts_with(&again) && again.len() <= CLOSE_REASON_BYTES_MAX);
            }
            _ => {
                assert_eq!(encoded, wire, "{frame:?} must re-encode to the bytes it was read from");
                assert_eq!(&decode_one(&encoded), frame);
            }
        }
    }
});
