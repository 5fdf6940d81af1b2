//! The two header packets of an Ogg Opus stream (RFC 7845 §5): the identification
//! header `OpusHead` with the recording's fixed channel layout, and the comment header
//! `OpusTags` with the vendor string and the call's tags.

/// The recording's pre-skip: exactly one 20 ms slot, the lead-in filler that the writer
/// puts before the call's first slot (`LEAD_IN_SLOTS`). Nothing is re-encoded, so there
/// is no encoder delay of our own to skip, but players reject or warn about a pre-skip
/// below an encoder's delay (opusinfo: "implausibly low"); one whole slot keeps granule
/// position G at call time (G - 960) / 48 000 s exactly, and what players skip is a
/// filler, never a packet of the call.
pub const PRE_SKIP_SAMPLES: u16 = 960;
/// The filler slots before the call's first slot, which the pre-skip covers.
pub const LEAD_IN_SLOTS: u64 = 1;
/// The Opus clock: granule positions count 48 kHz samples (RFC 7845 §4).
pub const SAMPLE_RATE_HZ: u32 = 48_000;
/// The longest tag value accepted, so that a call's tags always fit one small page.
pub const TAG_VALUE_BYTES_MAX: usize = 512;

/// The identification header of a recording: two channels, mapping family 1 (left and
/// right), two streams, none coupled, stream 0 (ours) to the left, stream 1 (theirs) to
/// the right (RFC 7845 §5.1.1).
pub fn opus_head() -> Vec<u8> {
    let mut head = Vec::with_capacity(21);
    head.extend_from_slice(b"OpusHead");
    head.push(1); // version
    head.push(2); // output channel count
    head.extend_from_slice(&PRE_SKIP_SAMPLES.to_le_bytes());
    head.extend_from_slice(&SAMPLE_RATE_HZ.to_le_bytes()); // the input was 48 kHz
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(1); // channel mapping family
    head.push(2); // stream count
    head.push(0); // coupled stream count
    head.extend_from_slice(&[0, 1]); // channel mapping
    head
}

/// Why a header packet is not the header of a recording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("the first packet is not an OpusHead")]
    NotOpusHead,
    #[error("the OpusHead is not version 1")]
    Version,
    #[error(
        "the OpusHead does not describe a recording's layout (2 channels, family 1, 2 streams, 0 coupled, mapping 0 1)"
    )]
    Layout,
    #[error("the second packet is not a well-formed OpusTags")]
    Tags,
}

/// The fields of an OpusHead that a reader needs: it checks the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub pre_skip: u16,
}

/// Checks an OpusHead against the recording's layout.
pub fn parse_head(packet: &[u8]) -> Result<Head, HeadError> {
    if packet.len() < 19 || &packet[..8] != b"OpusHead" {
        return Err(HeadError::NotOpusHead);
    }
    if packet[8] >> 4 != 0 {
        return Err(HeadError::Version);
    }
    let pre_skip = u16::from_le_bytes([packet[10], packet[11]]);
    if packet[9] != 2 || packet.get(18..23) != Some(&[1, 2, 0, 0, 1][..]) {
        return Err(HeadError::Layout);
    }
    Ok(Head { pre_skip })
}

/// The comment header: `vendor` and the `NAME=value` tags, in order.
pub fn opus_tags(vendor: &str, tags: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"OpusTags");
    out.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    out.extend_from_slice(vendor.as_bytes());
    out.extend_from_slice(&(tags.len() as u32).to_le_bytes());
    for (name, value) in tags {
        let field = format!("{name}={value}");
        out.extend_from_slice(&(field.len() as u32).to_le_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// Whether `name` may be a tag name (RFC 7845 §5.2: ASCII 0x20–0x7D except `=`).
pub fn is_tag_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (0x20..=0x7d).contains(&b) && b != b'=')
}

/// Reads an OpusTags back into its vendor string and `(name, value)` tags.
pub fn parse_tags(packet: &[u8]) -> Result<(String, Vec<(String, String)>), HeadError> {
    let rest = packet.strip_prefix(b"OpusTags").ok_or(HeadError::Tags)?;
    let mut reader = Reader { bytes: rest };
    let vendor = reader.string()?;
    let count = reader.u32()?;
    let mut tags = Vec::new();
    for _ in 0..count {
        let field = reader.string()?;
        let (name, value) = field.split_once('=').ok_or(HeadError::Tags)?;
        tags.push((name.to_owned(), value.to_owned()));
    }
    Ok((vendor, tags))
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32, HeadError> {
        let (head, rest) = self.bytes.split_first_chunk::<4>().ok_or(HeadError::Tags)?;
        self.bytes = rest;
        Ok(u32::from_le_bytes(*head))
    }

    fn string(&mut self) -> Result<String, HeadError> {
        let len = self.u32()? as usize;
        if len > self.bytes.len() {
            return Err(HeadError::Tags);
        }
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        String::from_utf8(text.to_vec()).map_err(|_| HeadError::Tags)
    }
}
