//! Closing a recording left without its EOS page, because the station was killed or lost
//! power mid-call: `recover` keeps every whole, CRC-correct page, cuts a torn or corrupt
//! tail off, marks the last page kept as the end of the stream, and says how much audio
//! was saved, so that the station can record the call's recording as cut off.

use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;

use crate::Error;
use crate::page::{self, FLAG_EOS};
use crate::read::{self, Report};

/// The header pages, OpusHead and OpusTags, that a recording cannot do without.
const HEADER_PAGES: usize = 2;

/// What `recover` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Whether the recording had been cut off (no EOS page): it now ends with one.
    pub cut_off: bool,
    /// How many bytes of torn or corrupt tail were cut off.
    pub dropped_bytes: u64,
    /// The recording as it is now, with its duration and sums for the record.
    pub report: Report,
}

/// Recovers the recording at `path` in place. A recording that already ends with its
/// EOS page is left as it is (`cut_off` false). Fails with `NotARecording` when not even
/// the header pages are whole.
pub fn recover(path: &Path) -> Result<Recovery, Error> {
    let bytes = std::fs::read(path)?;
    let (pages, mut end) = whole_pages(&bytes);
    if pages.len() < HEADER_PAGES {
        return Err(Error::NotARecording("the header pages are not whole".to_owned()));
    }
    let (last_at, last_len) = pages[pages.len() - 1];
    let last_flags = bytes[last_at + 5];
    let cut_off = last_flags & FLAG_EOS == 0;
    let dropped_bytes = (bytes.len() - end) as u64;
    if cut_off || dropped_bytes > 0 {
        let mut file = File::options().write(true).open(path)?;
        file.set_len(end as u64)?;
        if cut_off {
            let mut last = bytes[last_at..last_at + last_len].to_vec();
            page::set_eos(&mut last);
            file.seek(SeekFrom::Start(last_at as u64))?;
            file.write_all(&last)?;
            end = last_at + last.len();
        }
        file.sync_data()?;
    }
    let report = read::summarize(path)?;
    debug_assert_eq!(report.summary.bytes, end as u64, "the file is what was kept");
    Ok(Recovery { cut_off, dropped_bytes, report })
}

/// The offset and length of each whole, CRC-correct page from the start, up to the first
/// that is not, and where the last one that ends a packet ends. Pages after the last
/// packet boundary are dropped with the torn tail: half a packet cannot be played.
fn whole_pages(bytes: &[u8]) -> (Vec<(usize, usize)>, usize) {
    let mut pages = Vec::new();
    let mut offset = 0;
    let mut end = 0;
    let mut kept = 0;
    while let Ok(page) = page::parse_page(&bytes[offset..]) {
        pages.push((offset, page.bytes.len()));
        offset += page.bytes.len();
        if !page.ends_open() {
            end = offset;
            kept = pages.len();
        }
        if page.flags & FLAG_EOS != 0 {
            break;
        }
    }
    pages.truncate(kept);
    (pages, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::{PageBuilder, parse_page};

    /// Headers, then pages of small packets, the last of which starts a packet that
    /// goes on into a next page that was never written.
    fn torn_mid_packet() -> (Vec<u8>, usize) {
        let mut out = Vec::new();
        let mut pages = PageBuilder::new(1);
        for header in [crate::head::opus_head(), crate::head::opus_tags("test", &[])] {
            pages.push_packet(&header, 0, &mut out);
            pages.flush(false, &mut out);
        }
        let filler = [0xf8, 0x00, 0xf8];
        pages.push_packet(&filler, 960, &mut out);
        pages.flush(false, &mut out);
        let whole = out.len();
        pages.push_packet(&filler, 1920, &mut out);
        // 70,000 bytes fill this page with 255s; their end would have come next.
        pages.push_packet(&vec![0; 70_000], 99, &mut out);
        (out, whole)
    }

    #[test]
    fn whole_pages_stop_at_the_last_packet_boundary() {
        let (bytes, whole) = torn_mid_packet();
        let open_page = parse_page(&bytes[whole..]).expect("the open page is whole");
        assert!(open_page.ends_open());
        let (pages, end) = whole_pages(&bytes);
        assert_eq!((pages.len(), end), (3, whole), "the open page goes with the missing one");
        let (pages, end) = whole_pages(&bytes[..bytes.len() - 1]);
        assert_eq!((pages.len(), end), (3, whole), "a torn page is not whole");
    }

    #[test]
    fn recover_cuts_a_half_packet_and_ends_the_stream() {
        let (bytes, whole) = torn_mid_packet();
        let path = std::env::temp_dir().join(format!("hotline-recover-unit-{}.opus", std::process::id()));
        std::fs::write(&path, &bytes).expect("write");
        let recovery = recover(&path);
        let _ = std::fs::remove_file(&path);
        let recovery = recovery.expect("recover");
        assert!(recovery.cut_off);
        assert_eq!(recovery.dropped_bytes, (bytes.len() - whole) as u64);
        assert_eq!(recovery.report.summary.bytes, whole as u64);
        assert_eq!(recovery.report.problems, vec![]);
        assert!(recovery.report.eos);
        assert_eq!(recovery.report.summary.duration_samples, 0, "the lead-in slot is all there was");
    }
}
