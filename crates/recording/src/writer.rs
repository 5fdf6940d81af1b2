//! The recorder: writes one call's recording as the call goes. Packets come in with
//! `push`, time passes with `handle_timeout`, and `finish` closes the file with an EOS
//! page and returns its `Summary`. Pages go to the file as they fill (about one a
//! second) and the file is synced every `sync_interval_ms`, so a station killed mid-call
//! keeps all but the last seconds; `recover` closes such a file later.
//!
//! The recorder never reads the clock: every entry point takes `now_ms`, the caller's
//! monotonic milliseconds, on the same scale as `CallInfo::start_ms`.

use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::head::{self, LEAD_IN_SLOTS, TAG_VALUE_BYTES_MAX};
use crate::packet;
use crate::page::{self, PageBuilder};
use crate::summary::{PacketHasher, Summary};
use crate::timeline::{self, Limits, SLOT_MS, SLOT_SAMPLES, Slot, Timeline};
use crate::{Direction, Error, RefusalCounts};

/// The recorder's limits and intervals.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The longest packet accepted from the network.
    pub packet_bytes_max: usize,
    /// How often the file is synced to disk (fdatasync) during the call.
    pub sync_interval_ms: u64,
    /// How long a slot waits for late and reordered packets.
    pub reorder_window_ms: u64,
    /// How far ahead of the call clock a packet's RTP timestamp may place it.
    pub lead_ms_max: u64,
    /// How many packets of one direction may wait in the reorder window.
    pub pending_packets_max: usize,
    /// How much audio a page holds at most before it is written.
    pub page_duration_ms_max: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            packet_bytes_max: 1500,
            sync_interval_ms: 2000,
            reorder_window_ms: 100,
            lead_ms_max: 5000,
            pending_packets_max: 250,
            page_duration_ms_max: 1000,
        }
    }
}

/// What the recording's OpusTags say about the call, and when the call started.
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    pub call_id: &'a str,
    /// This station's name: its operator is `Ours`, on the left.
    pub station: &'a str,
    /// The peer station's name: its operator is `Theirs`, on the right.
    pub peer: &'a str,
    /// The start time as the record writes it (RFC 3339).
    pub start_time: &'a str,
    /// The start on the `now_ms` scale: granule position 0.
    pub start_ms: u64,
}

/// What `finish` returns: the summary for the record and what was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub summary: Summary,
    /// Indexed by `Direction::index`.
    pub refused: [RefusalCounts; 2],
    /// Each direction's first and newest slot (20 ms from the call's start), if it sent
    /// anything: where in the file each speaker starts and stops.
    pub placed: [Option<(u64, u64)>; 2],
}

/// The recording of one call under way.
#[derive(Debug)]
pub struct Recorder {
    file: File,
    /// Set by a failed write: the file's end is then unknown, so nothing more is written.
    failed: bool,
    config: Config,
    timeline: Timeline,
    pages: PageBuilder,
    /// SHA-256 of every byte written before `last_page`.
    sha: Sha256,
    /// The last page written and where: `finish` may set its EOS flag.
    last_page: Vec<u8>,
    last_page_at: u64,
    hashers: [PacketHasher; 2],
    refused: [RefusalCounts; 2],
    /// Each stream's last TOC configuration, for the filler of its missing slots.
    configs: [Option<u8>; 2],
    last_sync_ms: u64,
    scratch: Vec<u8>,
}

impl Recorder {
    /// Creates the recording at `path` (which must not exist) and writes and syncs its
    /// two header pages.
    pub fn create(path: &Path, call: &CallInfo, config: Config, now_ms: u64) -> Result<Recorder, Error> {
        let tags = [
            ("HOTLINE_CALL_ID", call.call_id),
            ("HOTLINE_STATION", call.station),
            ("HOTLINE_PEER", call.peer),
            ("HOTLINE_START_TIME", call.start_time),
            ("HOTLINE_CHANNELS", "left=station right=peer"),
        ];
        if let Some((name, _)) = tags.iter().find(|(n, v)| !head::is_tag_name(n) || v.len() > TAG_VALUE_BYTES_MAX) {
            return Err(Error::Tag((*name).to_owned()));
        }
        let digest = Sha256::digest(call.call_id.as_bytes());
        let serial = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let file = File::options().write(true).create_new(true).open(path)?;
        sync_parent(path)?;
        let limits = Limits {
            reorder_window_ms: config.reorder_window_ms,
            lead_ms_max: config.lead_ms_max,
            pending_packets_max: config.pending_packets_max,
        };
        let mut recorder = Recorder {
            file,
            failed: false,
            config,
            timeline: Timeline::new(call.start_ms, limits),
            pages: PageBuilder::new(serial),
            sha: Sha256::new(),
            last_page: Vec::new(),
            last_page_at: 0,
            hashers: Default::default(),
            refused: Default::default(),
            configs: [None; 2],
            last_sync_ms: now_ms,
            scratch: Vec::new(),
        };
        let vendor = concat!("hotline-recording ", env!("CARGO_PKG_VERSION"));
        for header in [head::opus_head(), head::opus_tags(vendor, &tags)] {
            // RFC 7845 §3: each header ends its page, and audio starts on a fresh one.
            let mut spilled = Vec::new();
            recorder.pages.push_packet(&header, 0, &mut spilled);
            debug_assert!(spilled.is_empty(), "bounded tags fit one page");
            recorder.flush_page(false)?;
        }
        recorder.sync(now_ms)?;
        recorder.lead_in();
        Ok(recorder)
    }

    /// Takes a packet of `direction` with its RTP timestamp, which arrived at `now_ms`.
    /// A refused packet is counted and returned as `Error::Refused`; the recording goes
    /// on. Also writes whatever slots are due, as `handle_timeout` does.
    pub fn push(&mut self, direction: Direction, now_ms: u64, rtp_timestamp: u32, payload: &[u8]) -> Result<(), Error> {
        if self.failed {
            return Err(Error::Closed);
        }
        let placed = timeline::check_packet(payload, self.config.packet_bytes_max)
            .and_then(|_| self.timeline.insert(direction, now_ms, rtp_timestamp, payload));
        self.handle_timeout(now_ms)?;
        placed.map_err(|reason| {
            self.refused[direction.index()].count(&reason);
            Error::Refused { direction, reason }
        })
    }

    /// Writes the slots whose reorder window has passed and syncs when due. Call it at
    /// `poll_timeout` or later.
    pub fn handle_timeout(&mut self, now_ms: u64) -> Result<(), Error> {
        if self.failed {
            return Err(Error::Closed);
        }
        while let Some(slot) = self.timeline.pop_ready(now_ms) {
            self.write_slot(slot)?;
        }
        if now_ms.saturating_sub(self.last_sync_ms) >= self.config.sync_interval_ms {
            self.sync(now_ms)?;
        }
        Ok(())
    }

    /// When `handle_timeout` next has work, on the `now_ms` scale.
    #[must_use]
    pub fn poll_timeout(&self) -> u64 {
        self.timeline.next_ready_ms().min(self.last_sync_ms + self.config.sync_interval_ms)
    }

    /// The packets refused so far, by direction.
    pub fn refused(&self, direction: Direction) -> &RefusalCounts {
        &self.refused[direction.index()]
    }

    /// Ends the recording at `now_ms`: writes every waiting packet, ends the stream with
    /// an EOS page, syncs, and sums the file up.
    pub fn finish(mut self, now_ms: u64) -> Result<Finished, Error> {
        self.handle_timeout(now_ms)?;
        while let Some(slot) = self.timeline.pop_remaining() {
            self.write_slot(slot)?;
        }
        if self.pages.is_empty() {
            // Everything is on disk already: the last page written becomes the EOS page.
            page::set_eos(&mut self.last_page);
            self.file.seek(SeekFrom::Start(self.last_page_at))?;
            self.file.write_all(&self.last_page)?;
            self.file.seek(SeekFrom::End(0))?;
        } else {
            self.flush_page(true)?;
        }
        self.file.sync_data()?;
        self.sha.update(&self.last_page);
        let bytes = self.last_page_at + self.last_page.len() as u64;
        let duration_samples = self.timeline.next_slot() * SLOT_SAMPLES as u64;
        let summary = Summary {
            sha256: self.sha.clone().finalize().into(),
            bytes,
            duration_samples,
            duration_ms: duration_samples / (SLOT_SAMPLES as u64 / SLOT_MS),
            ours: self.hashers[0].summary(),
            theirs: self.hashers[1].summary(),
        };
        let placed = [self.timeline.placed(Direction::Ours), self.timeline.placed(Direction::Theirs)];
        Ok(Finished { summary, refused: self.refused, placed })
    }

    /// Starts the first audio page with the filler slots that the pre-skip covers.
    fn lead_in(&mut self) {
        for slot in 0..LEAD_IN_SLOTS {
            let mut ogg_packet = Vec::new();
            packet::filler(31, true, &mut ogg_packet);
            packet::filler(31, false, &mut ogg_packet);
            let mut spilled = Vec::new();
            self.pages.push_packet(&ogg_packet, (slot + 1) * SLOT_SAMPLES as u64, &mut spilled);
            debug_assert!(spilled.is_empty());
        }
    }

    /// Puts one slot into the page under construction as one multistream packet: stream
    /// 0 (ours) self-delimited, then stream 1 (theirs), a filler for a missing one.
    fn write_slot(&mut self, slot: Slot) -> Result<(), Error> {
        let mut ogg_packet = std::mem::take(&mut self.scratch);
        ogg_packet.clear();
        let present = slot.packets.iter().flatten().find_map(|p| packet::parse(p).ok()).map(|p| p.config());
        for (stream, payload) in slot.packets.iter().enumerate() {
            let delimited = stream == 0;
            // Checked by `check_packet` before it entered the time line; were it not, a
            // filler would still keep the multistream packet whole.
            match payload.as_ref().and_then(|p| packet::parse(p).ok().map(|parsed| (p, parsed))) {
                Some((payload, parsed)) => {
                    self.configs[stream] = Some(packet::twenty_ms_config(parsed.config()));
                    self.hashers[stream].update(slot.index, payload);
                    if delimited {
                        packet::to_self_delimited(payload, &parsed, &mut ogg_packet);
                    } else {
                        ogg_packet.extend_from_slice(payload);
                    }
                }
                None => {
                    let config = self.configs[stream].or(present.map(packet::twenty_ms_config)).unwrap_or(31);
                    packet::filler(config, delimited, &mut ogg_packet);
                }
            }
        }
        debug_assert!(check_round_trip(&ogg_packet, &slot), "the multistream packet must read back as written");
        if !self.pages.fits(ogg_packet.len()) {
            self.flush_page(false)?;
        }
        let granule = (LEAD_IN_SLOTS + slot.index + 1) * SLOT_SAMPLES as u64;
        let mut out = Vec::new();
        self.pages.push_packet(&ogg_packet, granule, &mut out);
        debug_assert!(out.is_empty(), "a packet that fits never spans pages");
        self.scratch = ogg_packet;
        // Pages end on whole multiples of the page duration of call time, so that what
        // a crash keeps is easy to tell: whole pages up to the last sync or page end.
        let slots_per_page = (self.config.page_duration_ms_max / SLOT_MS).max(1);
        if (slot.index + 1).is_multiple_of(slots_per_page) {
            self.flush_page(false)?;
        }
        Ok(())
    }

    /// Closes the page under construction and writes it to the file.
    fn flush_page(&mut self, eos: bool) -> Result<(), Error> {
        let mut out = Vec::new();
        self.pages.flush(eos, &mut out);
        if out.is_empty() {
            return Ok(());
        }
        self.sha.update(&self.last_page);
        self.last_page_at += self.last_page.len() as u64;
        let written = self.file.write_all(&out);
        self.last_page = out;
        self.failed |= written.is_err();
        Ok(written?)
    }

    fn sync(&mut self, now_ms: u64) -> Result<(), Error> {
        self.flush_page(false)?;
        let synced = self.file.sync_data();
        self.failed |= synced.is_err();
        self.last_sync_ms = now_ms;
        Ok(synced?)
    }
}

/// Whether a multistream packet splits back into the slot's packets.
fn check_round_trip(ogg_packet: &[u8], slot: &Slot) -> bool {
    let Ok(first) = packet::parse_self_delimited(ogg_packet) else { return false };
    let Ok(second) = packet::parse(&ogg_packet[first.len..]) else { return false };
    let ours_ok = slot.packets[0].as_ref().is_none_or(|p| packet::to_normal(ogg_packet, &first) == *p);
    let theirs_ok = slot.packets[1].as_ref().is_none_or(|p| ogg_packet[first.len..] == p[..]);
    ours_ok && theirs_ok && first.samples() == SLOT_SAMPLES && second.samples() == SLOT_SAMPLES
}

/// Syncs the directory of a new file, so that the file itself survives a power loss.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
