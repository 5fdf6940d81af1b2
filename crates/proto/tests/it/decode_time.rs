//! A wall-clock budget for the frame decoder. It lives here, outside `src/`, because the
//! protocol core itself never reads a clock (the tidy test checks `src/` for that).

use hotline_proto::{Frame, FrameDecoder};

/// Issue #14: decoding must be linear in the bytes held. 200,000 pings are 2.8 MB; the
/// old decoder shifted the whole remaining buffer after every frame (about 280 GB of
/// copying here: 12.4 s on the 2-core build machine); the read cursor takes 34 ms.
#[test]
#[allow(clippy::disallowed_methods)] // A wall-clock budget is the point of this test.
fn many_tiny_frames_decode_in_linear_time() {
    let count = 200_000;
    let mut bytes = Vec::new();
    for nonce in 0..count {
        Frame::Ping { nonce }.encode(&mut bytes);
    }
    let started = std::time::Instant::now();
    let mut decoder = FrameDecoder::default();
    decoder.extend(&bytes);
    let mut next_nonce = 0;
    while let Some(frame) = decoder.next_frame().expect("valid frames") {
        assert_eq!(frame, Frame::Ping { nonce: next_nonce });
        next_nonce += 1;
    }
    let elapsed = started.elapsed();
    assert_eq!(next_nonce, count);
    assert_eq!(decoder.buffered_bytes(), 0);
    eprintln!("decoded {count} frames ({} bytes) in {elapsed:?}", bytes.len());
    assert!(elapsed < std::time::Duration::from_secs(2), "decoding {count} frames took {elapsed:?}");
}
