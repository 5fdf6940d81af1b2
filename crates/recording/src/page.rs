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
