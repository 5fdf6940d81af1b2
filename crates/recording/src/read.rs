//! Reading a recording back for verification: `summarize` checks every page (capture
//! pattern, CRC, serial, sequence, BOS/EOS, granule positions), the headers and every
//! multistream packet, and recomputes the file hash, the duration and both directions'
//! packet hashes, so that `hotline verify` can compare a file with the record and say at
//! which page it first goes wrong.

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::Error;
use crate::compare::PacketMark;
use crate::head::{self, HeadError};
use crate::packet::{self, PacketError};
use crate::page::{self, FLAG_BOS, FLAG_CONTINUED, FLAG_EOS, GRANULE_NONE, PageError};
use crate::summary::{DirectionSummary, PacketHasher, Summary};
use crate::timeline::{SLOT_MS, SLOT_SAMPLES};

/// What is wrong at one place in a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("unreadable page: {0}")]
    Page(PageError),
    #[error("the page belongs to another logical stream (serial {0:#010x})")]
    Serial(u32),
    #[error("page sequence number {found}, expected {expected}")]
    Sequence { expected: u32, found: u32 },
    #[error("the BOS flag is wrong: only the first page carries it")]
    Bos,
    #[error("an EOS page that is not the last page")]
    EarlyEos,
    #[error("the last page has no EOS flag: the recording was cut off")]
    NoEos,
    #[error("the continued-packet flag does not match the previous page")]
    Continuation,
    #[error("header: {0}")]
    Head(HeadError),
    #[error("a header packet does not end its page, or the OpusHead is not alone on the first")]
    HeaderPage,
    #[error("an unreadable multistream packet: {0}")]
    Packet(PacketError),
    #[error("the two streams of a packet differ in duration, or it is not 20 ms")]
    Duration,
    #[error("granule position {found:#x}, expected {expected:#x}")]
    Granule { expected: u64, found: u64 },
}

/// A problem and the page it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The page's index in the file (0 is the OpusHead page).
    pub page: u32,
    /// The page's byte offset in the file.
    pub offset: u64,
    pub kind: ProblemKind,
}

/// One page as read, with both directions' packet hashes through the end of the page,
/// so that two files, or a file and a log of packets, can be compared page by page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    pub offset: u64,
    pub bytes: u64,
    pub granule: u64,
    pub ours: DirectionSummary,
    pub theirs: DirectionSummary,
}

/// Everything `summarize` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub summary: Summary,
    pub pre_skip: u16,
    pub vendor: String,
    pub tags: Vec<(String, String)>,
    /// Whether the last readable page carries EOS: false for a cut-off recording.
    pub eos: bool,
    pub pages: Vec<PageInfo>,
    /// Every problem, in file order; empty for a sound recording.
    pub problems: Vec<Problem>,
}

impl Report {
    /// The first page where something is wrong.
    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.first()
    }
}

/// Reads and checks the recording at `path`. Only an I/O error is an `Err`: whatever is
/// wrong with the contents is in `Report::problems`, and the sums cover what was read.
pub fn summarize(path: &Path) -> Result<Report, Error> {
    let bytes = std::fs::read(path)?;
    Ok(summarize_bytes(&bytes))
}

/// The same as `summarize`, for a recording in memory.
pub fn summarize_bytes(bytes: &[u8]) -> Report {
    walk(bytes, Walk::default()).0
}

/// Reads a recording and keeps, per direction, a mark of every recorded packet (for
/// [`crate::first_difference`]); the report as `summarize_bytes` gives it.
pub(crate) fn walk_with_marks(bytes: &[u8]) -> (Report, [Vec<PacketMark>; 2]) {
    let (report, walk) = walk(bytes, Walk { marks: Some(Default::default()), ..Walk::default() });
    (report, walk.marks.unwrap_or_default())
}

fn walk(bytes: &[u8], mut walk: Walk) -> (Report, Walk) {
    let mut offset = 0usize;
    while offset < bytes.len() {
        let index = walk.pages.len() as u32;
        let at = offset as u64;
        let page = match page::parse_page(&bytes[offset..]) {
            Ok(page) => page,
            Err(error) => {
                walk.problem(index, at, ProblemKind::Page(error));
                break;
            }
        };
        offset += page.bytes.len();
        walk.page(index, at, &page, offset == bytes.len());
    }
    if !walk.eos {
        let last = walk.pages.len().saturating_sub(1) as u32;
        let at = walk.pages.last().map_or(0, |p| p.offset);
        walk.problem(last, at, ProblemKind::NoEos);
    }
    let pre_skip = walk.pre_skip.unwrap_or(0) as u64;
    let duration_samples = walk.samples.saturating_sub(pre_skip);
    let summary = Summary {
        sha256: Sha256::digest(bytes).into(),
        bytes: bytes.len() as u64,
        duration_samples,
        duration_ms: duration_samples / (SLOT_SAMPLES as u64 / SLOT_MS),
        ours: walk.hashers[0].summary(),
        theirs: walk.hashers[1].summary(),
    };
    let report = Report {
        summary,
        pre_skip: pre_skip as u16,
        vendor: std::mem::take(&mut walk.vendor),
        tags: std::mem::take(&mut walk.tags),
        eos: walk.eos,
        pages: std::mem::take(&mut walk.pages),
        problems: std::mem::take(&mut walk.problems),
    };
    (report, walk)
}

#[derive(Default)]
struct Walk {
    serial: Option<u32>,
    packets: u64,
    partial: Vec<u8>,
    samples: u64,
    pre_skip: Option<u16>,
    vendor: String,
    tags: Vec<(String, String)>,
    hashers: [PacketHasher; 2],
    eos: bool,
    pages: Vec<PageInfo>,
    problems: Vec<Problem>,
    /// Every recorded packet per direction, when asked for (`walk_with_marks`).
    marks: Option<[Vec<PacketMark>; 2]>,
}

impl Walk {
    fn record(&mut self, direction: usize, slot: u64, packet: &[u8]) {
        self.hashers[direction].update(slot, packet);
        if let Some(marks) = self.marks.as_mut() {
            marks[direction].push(PacketMark::new(slot, packet));
        }
    }

    fn problem(&mut self, page: u32, offset: u64, kind: ProblemKind) {
        self.problems.push(Problem { page, offset, kind });
    }

    fn page(&mut self, index: u32, at: u64, page: &page::Page, last: bool) {
        if *self.serial.get_or_insert(page.serial) != page.serial {
            self.problem(index, at, ProblemKind::Serial(page.serial));
        }
        if page.sequence != index {
            self.problem(index, at, ProblemKind::Sequence { expected: index, found: page.sequence });
        }
        if (page.flags & FLAG_BOS != 0) != (index == 0) {
            self.problem(index, at, ProblemKind::Bos);
        }
        self.eos = page.flags & FLAG_EOS != 0;
        if self.eos && !last {
            self.problem(index, at, ProblemKind::EarlyEos);
        }
        let continued = page.flags & FLAG_CONTINUED != 0;
        if continued == self.partial.is_empty() {
            self.problem(index, at, ProblemKind::Continuation);
            self.partial.clear();
        }
        let pieces = page.pieces();
        if index == 0 && (pieces.len() != 1 || !pieces[0].1) {
            self.problem(index, at, ProblemKind::HeaderPage);
        }
        let mut ended = false;
        for (i, (piece, complete)) in pieces.iter().enumerate() {
            self.partial.extend_from_slice(piece);
            if !complete {
                continue;
            }
            let packet = std::mem::take(&mut self.partial);
            if self.packets == 1 && i + 1 != pieces.len() {
                self.problem(index, at, ProblemKind::HeaderPage);
            }
            if let Err(kind) = self.packet(&packet) {
                self.problem(index, at, kind);
                if self.packets >= 2 {
                    // Count the slot anyway, so one bad packet is one problem, not a
                    // granule mismatch on every later page.
                    self.samples += SLOT_SAMPLES as u64;
                }
            }
            self.packets += 1;
            ended = true;
        }
        let expected = if !ended {
            GRANULE_NONE
        } else if self.packets <= 2 {
            0
        } else {
            self.samples
        };
        if page.granule != expected {
            self.problem(index, at, ProblemKind::Granule { expected, found: page.granule });
        }
        self.pages.push(PageInfo {
            offset: at,
            bytes: page.bytes.len() as u64,
            granule: page.granule,
            ours: self.hashers[0].summary(),
            theirs: self.hashers[1].summary(),
        });
    }

    fn packet(&mut self, bytes: &[u8]) -> Result<(), ProblemKind> {
        match self.packets {
            0 => {
                self.pre_skip = Some(head::parse_head(bytes).map_err(ProblemKind::Head)?.pre_skip);
                return Ok(());
            }
            1 => {
                (self.vendor, self.tags) = head::parse_tags(bytes).map_err(ProblemKind::Head)?;
                return Ok(());
            }
            _ => {}
        }
        let first = packet::parse_self_delimited(bytes).map_err(ProblemKind::Packet)?;
        let second_bytes = &bytes[first.len..];
        let second = packet::parse(second_bytes).map_err(ProblemKind::Packet)?;
        if first.samples() != SLOT_SAMPLES || second.samples() != SLOT_SAMPLES {
            return Err(ProblemKind::Duration);
        }
        // Slots count from the call's start, after the lead-in that the pre-skip covers.
        let pre_skip = self.pre_skip.unwrap_or(0) as u64;
        let slot = self.samples.saturating_sub(pre_skip) / SLOT_SAMPLES as u64;
        // A stream whose frames are all empty is a filler: the writer never records a
        // packet without audio, so nothing real is skipped here.
        if !first.is_silent() {
            self.record(0, slot, &packet::to_normal(bytes, &first));
        }
        if !second.is_silent() {
            self.record(1, slot, second_bytes);
        }
        self.samples += SLOT_SAMPLES as u64;
        Ok(())
    }
}
