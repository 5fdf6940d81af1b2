//! Ogg page framing (RFC 3533): the CRC, lacing values, header flags and page sequence
//! numbers, in both directions. `PageBuilder` lays packets into pages (a packet may span
//! pages; a packet whose length is a multiple of 255 ends with a zero lacing value), and
//! `parse_page` reads one page back, checking its capture pattern, version and CRC.

/// The header-type flag of a page whose first packet continues from the previous page.
pub const FLAG_CONTINUED: u8 = 0x01;
/// The header-type flag of the first page of a logical stream.
pub const FLAG_BOS: u8 = 0x02;
/// The header-type flag of the last page of a logical stream.
pub const FLAG_EOS: u8 = 0x04;
/// The granule position of a page on which no packet ends (-1 in the specification).
pub const GRANULE_NONE: u64 = u64::MAX;
/// A page holds at most 255 lacing values (RFC 3533 §6).
pub const PAGE_SEGMENTS_MAX: usize = 255;
/// The fixed part of a page header, before the segment table.
pub const PAGE_HEADER_BYTES: usize = 27;
const CRC_OFFSET: usize = 22;

/// The Ogg CRC-32: polynomial 0x04c11db7, not reflected, initial value 0, no final xor.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04c1_1db7 } else { r << 1 };
            bit += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
};

/// The Ogg CRC-32 of `bytes` (a whole page with its CRC field zeroed).
pub fn crc32(bytes: &[u8]) -> u32 {
    crc_update(0, bytes)
}

fn crc_update(crc: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(crc, |crc, &b| (crc << 8) ^ CRC_TABLE[((crc >> 24) as u8 ^ b) as usize])
}

/// Lays packets of one logical stream into pages. Pages are appended to a caller's buffer
/// as they fill; `flush` closes the page under construction.
#[derive(Debug)]
pub struct PageBuilder {
    serial: u32,
    sequence: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
    /// The granule position of the last packet that ends on the page under construction.
    granule: u64,
    /// Whether the page under construction starts with the tail of a packet.
    continued: bool,
    /// Whether the first page (BOS) has been emitted.
    started: bool,
}

impl PageBuilder {
    pub fn new(serial: u32) -> PageBuilder {
        PageBuilder {
            serial,
            sequence: 0,
            lacing: Vec::new(),
            body: Vec::new(),
            granule: GRANULE_NONE,
            continued: false,
            started: false,
        }
    }

    /// How many lacing values a packet of `len` bytes takes: one per 255 bytes, plus the
    /// final value below 255 (zero when `len` is a multiple of 255).
    pub fn segments_for(len: usize) -> usize {
        len / 255 + 1
    }

    /// Whether a packet of `len` bytes fits whole on the page under construction.
    pub fn fits(&self, len: usize) -> bool {
        self.lacing.len() + Self::segments_for(len) <= PAGE_SEGMENTS_MAX
    }

    /// Whether the page under construction holds nothing yet.
    pub fn is_empty(&self) -> bool {
        self.lacing.is_empty()
    }

    /// How many pages have been emitted, which is the next page's sequence number.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Adds a packet ending at `granule`. Pages that fill up on the way are appended to
    /// `out`; the packet's tail stays on the page under construction.
    pub fn push_packet(&mut self, packet: &[u8], granule: u64, out: &mut Vec<u8>) {
        let mut rest = packet;
        loop {
            if self.lacing.len() == PAGE_SEGMENTS_MAX {
                // The packet goes on: the next page starts with its continuation.
                self.emit(false, out);
                self.continued = true;
            }
            let take = rest.len().min(255);
            self.lacing.push(take as u8);
            self.body.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if take < 255 {
                break;
            }
        }
        self.granule = granule;
    }

    /// Closes the page under construction and appends it to `out`. With `eos` the page is
    /// the last of the stream; an empty page is only emitted when it must carry EOS.
    pub fn flush(&mut self, eos: bool, out: &mut Vec<u8>) {
        if !self.lacing.is_empty() || eos {
            self.emit(eos, out);
        }
    }

    fn emit(&mut self, eos: bool, out: &mut Vec<u8>) {
        let mut flags = 0;
        if self.continued {
            flags |= FLAG_CONTINUED;
        }
        if !self.started {
            flags |= FLAG_BOS;
        }
        if eos {
            flags |= FLAG_EOS;
        }
        let start = out.len();
        out.extend_from_slice(b"OggS");
        out.push(0);
        out.push(flags);
        out.extend_from_slice(&self.granule.to_le_bytes());
        out.extend_from_slice(&self.serial.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.push(self.lacing.len() as u8);
        out.extend_from_slice(&self.lacing);
        out.extend_from_slice(&self.body);
        let crc = crc32(&out[start..]);
        out[start + CRC_OFFSET..start + CRC_OFFSET + 4].copy_from_slice(&crc.to_le_bytes());
        self.sequence += 1;
        self.started = true;
        self.continued = false;
        self.granule = GRANULE_NONE;
        self.lacing.clear();
        self.body.clear();
    }
}

/// Why bytes are not a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The bytes end before the page does: a torn write at the end of a file.
    #[error("the page is incomplete")]
    Incomplete,
    #[error("no Ogg capture pattern")]
    NoCapture,
    #[error("unsupported Ogg version {0}")]
    Version(u8),
    #[error("page CRC mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Crc { stored: u32, computed: u32 },
}

/// One page read back, borrowing from the bytes it was read from.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    pub flags: u8,
    pub granule: u64,
    pub serial: u32,
    pub sequence: u32,
    pub lacing: &'a [u8],
    pub body: &'a [u8],
    /// The whole page, header included.
    pub bytes: &'a [u8],
}

impl Page<'_> {
    /// Whether the page's last packet continues on the next page.
    pub fn ends_open(&self) -> bool {
        self.lacing.last() == Some(&255)
    }

    /// The packet pieces on this page, each with whether it ends here.
    pub fn pieces(&self) -> Vec<(&[u8], bool)> {
        let mut pieces = Vec::new();
        let (mut start, mut at) = (0, 0);
        for &value in self.lacing {
            at += value as usize;
            if value < 255 {
                pieces.push((&self.body[start..at], true));
                start = at;
            }
        }
        if start < at {
            pieces.push((&self.body[start..at], false));
        }
        pieces
    }
}

/// Reads the page at the start of `bytes`, checking its CRC.
pub fn parse_page(bytes: &[u8]) -> Result<Page<'_>, PageError> {
    if bytes.len() < PAGE_HEADER_BYTES {
        return Err(if b"OggS".starts_with(&bytes[..bytes.len().min(4)]) {
            PageError::Incomplete
        } else {
            PageError::NoCapture
        });
    }
    if &bytes[..4] != b"OggS" {
        return Err(PageError::NoCapture);
    }
    if bytes[4] != 0 {
        return Err(PageError::Version(bytes[4]));
    }
    let field = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let segments = bytes[26] as usize;
    let lacing_end = PAGE_HEADER_BYTES + segments;
    let lacing = bytes.get(PAGE_HEADER_BYTES..lacing_end).ok_or(PageError::Incomplete)?;
    let body_len: usize = lacing.iter().map(|&v| v as usize).sum();
    let page = bytes.get(..lacing_end + body_len).ok_or(PageError::Incomplete)?;
    let stored = field(CRC_OFFSET);
    let computed = crc32_with_zeroed_field(page);
    if stored != computed {
        return Err(PageError::Crc { stored, computed });
    }
    Ok(Page {
        flags: bytes[5],
        granule: u64::from_le_bytes(bytes[6..14].try_into().unwrap_or([0; 8])),
        serial: field(14),
        sequence: field(18),
        lacing,
        body: &page[lacing_end..],
        bytes: page,
    })
}

/// The CRC of a page as if its CRC field were zero, without copying the page.
fn crc32_with_zeroed_field(page: &[u8]) -> u32 {
    let head = crc_update(0, &page[..CRC_OFFSET]);
    crc_update(crc_update(head, &[0; 4]), &page[CRC_OFFSET + 4..])
}

/// Sets the EOS flag on a whole page in place and recomputes its CRC.
pub fn set_eos(page: &mut [u8]) {
    page[5] |= FLAG_EOS;
    page[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&[0; 4]);
    let crc = crc32(page);
    page[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpusHead page of a file written by ffmpeg's own Ogg muxer.
    const FFMPEG_HEAD_PAGE: &str =
        "4f6767530002000000000000000047ab17930000000045ba235701134f707573486561640101380180bb0000000000";

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or(0)).collect()
    }

    #[test]
    fn crc_and_framing_match_a_page_written_elsewhere() {
        let known = unhex(FFMPEG_HEAD_PAGE);
        let page = parse_page(&known).expect("ffmpeg's page parses");
        assert_eq!((page.flags, page.granule, page.serial, page.sequence), (FLAG_BOS, 0, 0x9317_ab47, 0));
        assert_eq!(page.pieces(), vec![(&known[28..], true)]);
        let mut built = Vec::new();
        let mut builder = PageBuilder::new(0x9317_ab47);
        builder.push_packet(&known[28..], 0, &mut built);
        builder.flush(false, &mut built);
        assert_eq!(built, known, "the same packet makes the same bytes, CRC included");

        let mut corrupt = known.clone();
        corrupt[40] ^= 1;
        assert!(matches!(parse_page(&corrupt), Err(PageError::Crc { stored: 0x5723_ba45, .. })));
        assert_eq!(parse_page(&known[..30]).err(), Some(PageError::Incomplete));
        assert_eq!(parse_page(b"OggS").err(), Some(PageError::Incomplete));
        assert_eq!(parse_page(b"RIFF....").err(), Some(PageError::NoCapture));
    }

    /// The pages `packets` make, each packet ending at granule 100 × its number.
    fn pages_of(packets: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut builder = PageBuilder::new(7);
        for (i, packet) in packets.iter().enumerate() {
            builder.push_packet(packet, 100 * (i as u64 + 1), &mut out);
        }
        builder.flush(true, &mut out);
        out
    }

    #[test]
    fn a_multiple_of_255_ends_with_a_zero_lacing_value() {
        for (len, lacing) in [(254, vec![254]), (255, vec![255, 0]), (510, vec![255, 255, 0]), (0, vec![0])] {
            let bytes = pages_of(&[vec![0xab; len]]);
            let page = parse_page(&bytes).expect("page");
            assert_eq!(page.lacing, &lacing[..], "{len} bytes");
            assert_eq!(page.pieces(), vec![(&vec![0xab; len][..], true)]);
            assert_eq!(page.flags, FLAG_BOS | FLAG_EOS);
            assert_eq!(PageBuilder::segments_for(len), lacing.len());
        }
    }

    #[test]
    fn a_long_packet_spans_pages() {
        // 255 lacing values of 255 fill a page; 70,000 bytes go on into a second page.
        let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let bytes = pages_of(&[vec![1; 10], big.clone(), vec![2; 3]]);
        let first = parse_page(&bytes).expect("first");
        assert_eq!(first.lacing.len(), 255);
        assert!(first.ends_open());
        assert_eq!(first.granule, 100, "only the small packet ends on the first page");
        let second = parse_page(&bytes[first.bytes.len()..]).expect("second");
        assert_eq!(second.flags, FLAG_CONTINUED | FLAG_EOS);
        assert_eq!((second.sequence, second.granule), (1, 300));
        let packets = crate::ogg_packets(&bytes).expect("packets");
        let lens: Vec<usize> = packets.iter().map(|(p, _)| p.len()).collect();
        assert_eq!(lens, vec![10, 70_000, 3]);
        assert_eq!(packets[1].0, big);
        assert_eq!(packets.iter().map(|(_, g)| *g).collect::<Vec<_>>(), vec![100, 300, 300]);
    }

    #[test]
    fn a_packet_that_exactly_fills_a_page_ends_on_the_next() {
        // 254 × 255 bytes take 254 values of 255 and a 0: one whole page.
        let one_page = pages_of(&[vec![9u8; 255 * 254]]);
        assert_eq!(parse_page(&one_page).expect("page").bytes.len(), one_page.len());
        // 255 × 255 bytes fill a page with 255s; the closing 0 goes on the next page.
        let exact = vec![9u8; 255 * 255];
        let bytes = pages_of(std::slice::from_ref(&exact));
        let first = parse_page(&bytes).expect("first");
        assert_eq!((first.lacing.len(), first.granule), (255, GRANULE_NONE));
        let second = parse_page(&bytes[first.bytes.len()..]).expect("second");
        assert_eq!((second.lacing, second.flags), (&[0u8][..], FLAG_CONTINUED | FLAG_EOS));
        assert_eq!(crate::ogg_packets(&bytes).expect("packets")[0].0, exact);
    }

    #[test]
    fn set_eos_keeps_the_page_valid() {
        let mut bytes = pages_of(&[vec![5; 20]]);
        bytes[5] &= !FLAG_EOS;
        let mut page = bytes.clone();
        set_eos(&mut page);
        assert_eq!(parse_page(&page).expect("valid").flags, FLAG_BOS | FLAG_EOS);
        assert_eq!(page, pages_of(&[vec![5; 20]]));
    }
}
