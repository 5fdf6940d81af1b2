//! Strict parsing of Opus packets from the network (RFC 6716 §3.1–3.2, requirements
//! R1–R7) and their re-framing into the self-delimiting framing of RFC 6716 Appendix B,
//! which a multistream packet needs for every stream but the last.
//!
//! Re-framing inserts or removes exactly one length field; the TOC byte, the code-3
//! count and padding-length bytes, the frame lengths, the frames and the padding are
//! kept byte for byte, so the round trip restores the packet exactly.

/// The longest Opus frame (RFC 6716 §3.2.1, R2).
pub const FRAME_BYTES_MAX: usize = 1275;
/// The longest packet duration, 120 ms at 48 kHz (RFC 6716 §3.2.5, R5).
pub const PACKET_SAMPLES_MAX: u32 = 5760;

/// Why bytes are not an Opus packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("empty packet (R1)")]
    Empty,
    #[error("the packet ends inside its header or a frame")]
    Truncated,
    #[error("a frame of {0} bytes is longer than 1275 (R2)")]
    FrameTooLong(usize),
    #[error("a code 1 packet with an odd payload length (R3)")]
    OddCbr,
    #[error("a code 3 packet with no frames (R5)")]
    NoFrames,
    #[error("a packet of {0} samples is longer than 120 ms (R5)")]
    TooLong(u32),
    #[error("a code 3 CBR payload does not divide into its frames (R6)")]
    UnevenCbr,
}

/// The structure of one parsed packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The TOC byte (RFC 6716 §3.1).
    pub toc: u8,
    /// The length of each frame in bytes.
    pub frames: Vec<usize>,
    /// Where the self-delimiting length field sits (in both framings).
    length_at: usize,
    /// How many bytes the self-delimiting length field takes in the self-delimited form.
    length_bytes: usize,
    /// How many bytes the packet takes in the framing it was parsed from.
    pub len: usize,
}

impl Packet {
    /// The TOC configuration number, 0–31.
    pub fn config(&self) -> u8 {
        self.toc >> 3
    }

    /// The packet's duration in 48 kHz samples.
    pub fn samples(&self) -> u32 {
        frame_samples(self.config()) * self.frames.len() as u32
    }

    /// Whether every frame is empty: no audio at all, which decoders treat as a lost
    /// packet (RFC 6716 §3.2.1).
    pub fn is_silent(&self) -> bool {
        self.frames.iter().all(|&f| f == 0)
    }

    /// The length that self-delimiting framing adds (Appendix B): the only frame (code
    /// 0), the common frame length (codes 1 and 3 CBR), or the last frame (2, 3 VBR).
    fn delimiting_length(&self) -> usize {
        self.frames.last().copied().unwrap_or(0)
    }
}

/// The duration of one frame of TOC configuration `config` in 48 kHz samples (RFC 6716
/// §3.1, Table 2).
pub fn frame_samples(config: u8) -> u32 {
    match config {
        0..=11 => [480, 960, 1920, 2880][(config % 4) as usize],
        12..=15 => [480, 960][(config % 2) as usize],
        _ => [120, 240, 480, 960][(config % 4) as usize],
    }
}

/// The TOC configuration of the 20 ms frame with the same mode and bandwidth as `config`.
pub fn twenty_ms_config(config: u8) -> u8 {
    match config {
        0..=11 => config - config % 4 + 1,
        12..=15 => config | 1,
        _ => config | 3,
    }
}

/// Appends a frame length in the one- or two-byte form of RFC 6716 §3.2.1.
pub fn push_length(out: &mut Vec<u8>, len: usize) {
    debug_assert!(len <= FRAME_BYTES_MAX);
    if len < 252 {
        out.push(len as u8);
    } else {
        let first = 252 + (len - 252) % 4;
        out.push(first as u8);
        out.push(((len - first) / 4) as u8);
    }
}

fn read_length(bytes: &[u8], at: &mut usize) -> Result<usize, PacketError> {
    let first = *bytes.get(*at).ok_or(PacketError::Truncated)? as usize;
    if first < 252 {
        *at += 1;
        return Ok(first);
    }
    let second = *bytes.get(*at + 1).ok_or(PacketError::Truncated)? as usize;
    *at += 2;
    Ok(second * 4 + first)
}

/// Parses a packet in normal framing; it takes all of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Packet, PacketError> {
    parse_framing(bytes, false)
}

/// Parses a self-delimited packet at the start of `bytes`; its `len` says where it ends.
pub fn parse_self_delimited(bytes: &[u8]) -> Result<Packet, PacketError> {
    parse_framing(bytes, true)
}

fn parse_framing(bytes: &[u8], delimited: bool) -> Result<Packet, PacketError> {
    let toc = *bytes.first().ok_or(PacketError::Empty)?;
    let total = bytes.len();
    let mut at = 1;
    let mut length_bytes = 0;
    let mut delimiter = |at: &mut usize| -> Result<Option<usize>, PacketError> {
        if !delimited {
            return Ok(None);
        }
        let before = *at;
        let len = read_length(bytes, at)?;
        length_bytes = *at - before;
        Ok(Some(len))
    };
    let (frames, length_at, padding) = match toc & 3 {
        0 => {
            let length_at = at;
            let len = delimiter(&mut at)?.unwrap_or(total - 1);
            (vec![len], length_at, 0)
        }
        1 => {
            let length_at = at;
            let len = match delimiter(&mut at)? {
                Some(len) => len,
                None if (total - 1) % 2 == 1 => return Err(PacketError::OddCbr),
                None => (total - 1) / 2,
            };
            (vec![len, len], length_at, 0)
        }
        2 => {
            let first = read_length(bytes, &mut at)?;
            let length_at = at;
            let second = match delimiter(&mut at)? {
                Some(len) => len,
                None => (total - at).checked_sub(first).ok_or(PacketError::Truncated)?,
            };
            (vec![first, second], length_at, 0)
        }
        _ => parse_code3(bytes, &mut at, &mut delimiter)?,
    };
    if let Some(&long) = frames.iter().find(|&&f| f > FRAME_BYTES_MAX) {
        return Err(PacketError::FrameTooLong(long));
    }
    let len = at + frames.iter().sum::<usize>() + padding;
    if len > total || (!delimited && len != total) {
        return Err(PacketError::Truncated);
    }
    let packet = Packet { toc, frames, length_at, length_bytes, len };
    if packet.samples() > PACKET_SAMPLES_MAX {
        return Err(PacketError::TooLong(packet.samples()));
    }
    Ok(packet)
}

type Delimiter<'d> = dyn FnMut(&mut usize) -> Result<Option<usize>, PacketError> + 'd;

/// Parses the rest of a code 3 packet after its TOC byte: the frame count byte, the
/// padding length, the frame lengths; returns the frames, where the self-delimiting
/// length sits, and the padding length.
fn parse_code3(
    bytes: &[u8],
    at: &mut usize,
    delimiter: &mut Delimiter,
) -> Result<(Vec<usize>, usize, usize), PacketError> {
    let count_byte = *bytes.get(1).ok_or(PacketError::Truncated)?;
    *at = 2;
    let (vbr, padded, count) = (count_byte & 0x80 != 0, count_byte & 0x40 != 0, (count_byte & 0x3f) as usize);
    if count == 0 {
        return Err(PacketError::NoFrames);
    }
    let samples = frame_samples(bytes[0] >> 3) * count as u32;
    if samples > PACKET_SAMPLES_MAX {
        return Err(PacketError::TooLong(samples));
    }
    let mut padding = 0;
    if padded {
        loop {
            let value = *bytes.get(*at).ok_or(PacketError::Truncated)? as usize;
            *at += 1;
            if value == 255 {
                padding += 254;
            } else {
                padding += value;
                break;
            }
        }
    }
    let mut frames = Vec::with_capacity(count);
    if vbr {
        for _ in 1..count {
            frames.push(read_length(bytes, at)?);
        }
    }
    let length_at = *at;
    let delimited_len = delimiter(at)?;
    // In normal framing the last (VBR) or common (CBR) length is what is left over.
    let rest = || bytes.len().checked_sub(*at + padding).ok_or(PacketError::Truncated);
    match (delimited_len, vbr) {
        (Some(len), true) => frames.push(len),
        (Some(len), false) => frames.resize(count, len),
        (None, true) => {
            let last = rest()?.checked_sub(frames.iter().sum()).ok_or(PacketError::Truncated)?;
            frames.push(last);
        }
        (None, false) => {
            let rest = rest()?;
            if rest % count != 0 {
                return Err(PacketError::UnevenCbr);
            }
            frames.resize(count, rest / count);
        }
    }
    Ok((frames, length_at, padding))
}

/// Re-frames a packet in normal framing (already parsed as `packet`) as self-delimited.
pub fn to_self_delimited(bytes: &[u8], packet: &Packet, out: &mut Vec<u8>) {
    debug_assert_eq!(packet.len, bytes.len());
    out.extend_from_slice(&bytes[..packet.length_at]);
    push_length(out, packet.delimiting_length());
    out.extend_from_slice(&bytes[packet.length_at..]);
}

/// Re-frames a self-delimited packet (parsed as `packet`) in normal framing.
pub fn to_normal(bytes: &[u8], packet: &Packet) -> Vec<u8> {
    let mut out = Vec::with_capacity(packet.len);
    out.extend_from_slice(&bytes[..packet.length_at]);
    out.extend_from_slice(&bytes[packet.length_at + packet.length_bytes..packet.len]);
    out
}

/// The 20 ms packet with one empty frame that stands for a stream with no packet in a
/// slot: decoders conceal it as a lost packet (RFC 6716 §3.2.1), which after silence is
/// silence. `config` must be a 20 ms configuration.
pub fn filler(config: u8, delimited: bool, out: &mut Vec<u8>) {
    debug_assert_eq!(frame_samples(config), 960);
    out.push(config << 3);
    if delimited {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `normal`, re-frames it, checks the self-delimited bytes and the way back,
    /// and that the self-delimited packet ends where it should when another follows.
    fn check(normal: &[u8], delimited: &[u8], frames: &[usize], samples: u32) {
        let packet = parse(normal).expect("parses");
        assert_eq!(packet.frames, frames);
        assert_eq!(packet.samples(), samples);
        let mut out = Vec::new();
        to_self_delimited(normal, &packet, &mut out);
        assert_eq!(out, delimited);
        out.extend_from_slice(&[0xf8, 1, 2, 3]);
        let back = parse_self_delimited(&out).expect("self-delimited parses");
        assert_eq!((back.len, &back.frames[..]), (delimited.len(), frames));
        assert_eq!(to_normal(&out, &back), normal);
    }

    fn bytes(len: usize, value: u8) -> Vec<u8> {
        vec![value; len]
    }

    #[test]
    fn code_0_with_a_two_byte_length() {
        // SILK NB 20 ms; 300 = 252 + 4 × 12.
        let normal = [&[0x08][..], &bytes(300, 7)].concat();
        let delimited = [&[0x08, 252, 12][..], &bytes(300, 7)].concat();
        check(&normal, &delimited, &[300], 960);
    }

    #[test]
    fn code_1_two_equal_frames() {
        // CELT NB 10 ms × 2.
        let normal = [&[0x91][..], &bytes(10, 1)].concat();
        let delimited = [&[0x91, 5][..], &bytes(10, 1)].concat();
        check(&normal, &delimited, &[5, 5], 960);
    }

    #[test]
    fn code_2_gets_the_second_frame_length() {
        let normal = [&[0x92, 3][..], &bytes(3, 1), &bytes(4, 2)].concat();
        let delimited = [&[0x92, 3, 4][..], &bytes(3, 1), &bytes(4, 2)].concat();
        check(&normal, &delimited, &[3, 4], 960);
    }

    #[test]
    fn code_3_cbr_with_chained_padding() {
        // CELT NB 5 ms × 4, padding 300 = 254 + 46, kept byte for byte.
        let padding: Vec<u8> = (0..300).map(|i| i as u8).collect();
        let normal = [&[0x8b, 0x44, 255, 46][..], &bytes(24, 3), &padding].concat();
        let delimited = [&[0x8b, 0x44, 255, 46, 6][..], &bytes(24, 3), &padding].concat();
        check(&normal, &delimited, &[6; 4], 960);
    }

    #[test]
    fn code_3_vbr_gets_the_last_frame_length() {
        // CELT NB 2.5 ms × 8.
        let frames: Vec<u8> = (1..=8u8).flat_map(|n| vec![n; n as usize]).collect();
        let normal = [&[0x83, 0x88, 1, 2, 3, 4, 5, 6, 7][..], &frames].concat();
        let delimited = [&[0x83, 0x88, 1, 2, 3, 4, 5, 6, 7, 8][..], &frames].concat();
        check(&normal, &delimited, &[1, 2, 3, 4, 5, 6, 7, 8], 960);
    }

    #[test]
    fn malformed_packets_are_refused() {
        use PacketError::*;
        let cases: [(&[u8], PacketError); 10] = [
            (&[], Empty),
            (&[0x09, 1, 2, 3], OddCbr),
            (&[0x0a, 5, 1], Truncated),
            (&[0x0a, 252], Truncated),
            (&[0x0b, 0x00], NoFrames),
            (&[0x1b, 0x03, 1, 2, 3], TooLong(8640)),
            (&[0x8b, 0x04, 1, 2, 3, 4, 5], UnevenCbr),
            (&[0x8b, 0x44, 255], Truncated),
            (&[0x8b, 0x41, 10], Truncated),
            (&[0x83, 0x83, 5, 1, 2], Truncated),
        ];
        for (packet, error) in cases {
            assert_eq!(parse(packet), Err(error), "{packet:02x?}");
        }
        let long = [&[0x08][..], &bytes(1276, 0)].concat();
        assert_eq!(parse(&long), Err(FrameTooLong(1276)));
        assert_eq!(parse_self_delimited(&[0x08, 10, 1, 2]), Err(Truncated));
    }

    #[test]
    fn lengths_round_trip_in_their_canonical_form() {
        for len in 0..=FRAME_BYTES_MAX {
            let mut out = Vec::new();
            push_length(&mut out, len);
            assert_eq!(out.len(), if len < 252 { 1 } else { 2 });
            let mut at = 0;
            assert_eq!(read_length(&out, &mut at), Ok(len));
            assert_eq!(at, out.len());
        }
    }

    #[test]
    fn fillers_are_silent_20_ms_packets() {
        for config in 0..32u8 {
            let twenty = twenty_ms_config(config);
            assert_eq!(frame_samples(twenty), 960, "config {config}");
            assert_eq!(twenty / 4, config / 4, "same mode and bandwidth");
            let (mut normal, mut delimited) = (Vec::new(), Vec::new());
            filler(twenty, false, &mut normal);
            filler(twenty, true, &mut delimited);
            let (n, d) = (parse(&normal).expect("filler"), parse_self_delimited(&delimited).expect("filler"));
            assert!(n.is_silent() && d.is_silent());
            assert_eq!((n.samples(), d.samples(), d.len), (960, 960, 2));
        }
    }
}
