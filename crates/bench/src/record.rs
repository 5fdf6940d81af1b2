//! The record at scale: a station with a record of N entries, its start-up time to
//! `/healthz`, and `hotline log export` + `hotline verify` of it.
//!
//! Building a million entries through the HTTP API would take most of an hour, so the
//! record is written with the station's own library code instead: `Core::write` (the
//! one path every station write takes: one SQLite transaction, then the in-memory Merkle
//! tree), with entries of exactly the shape a real conversation leaves at the sender — per
//! message `message.queued` (item signed by alpha), `message.sent`, `receipt.received`
//! (item signed by bravo) and `message.delivered` — together with the message rows and
//! outbox items, many messages per transaction. Half the entries carry a signature, as
//! at a sender whose peer receipts each message in its own round.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hotline_identity::StationKey;
use hotline_proto::Lane;
use hotline_station::config::{Config, DB_FILE};
use hotline_station::core::Core;
use hotline_station::entry_kind::EntryKind;
use hotline_station::item::{Item, ReceiptEntry, SignedItem};
use hotline_station::views::message_json;
use hotline_store::{Direction, MessageRow, Store};
use hotline_testkit::{Binary, free_port};
use serde::Serialize;
use serde_json::json;

use crate::api::unoperated;
use crate::footprint::memory;

/// Messages written per transaction while building the record.
#[allow(non_upper_case_globals)]
const batch_messages: usize = 2500;
/// Record entries per message (queued, sent, receipt, delivered).
#[allow(non_upper_case_globals)]
const entries_per_message: usize = 4;

#[derive(Clone, Debug, Serialize)]
pub struct RecordResult {
    pub entries: u64,
    pub signed_entries: u64,
    pub build_s: f64,
    /// Entries per second through `Core::write`, signing items, `batch_messages` messages
    /// per transaction.
    pub build_entries_per_s: f64,
    pub db_mib: f64,
    /// Time from spawning `hotline serve` to `/healthz` OK, per start.
    pub startup_s: Vec<f64>,
    pub rss_after_start_mib: f64,
    pub export_s: f64,
    pub export_mib: f64,
    pub verify_s: f64,
    pub verify_ok: bool,
}

fn now_ms() -> i64 {
    hotline_station::now_ms()
}

/// Writes `messages` messages (4 entries each) to alpha's record.
async fn build(
    dir: &Path,
    alpha_key: Arc<StationKey>,
    bravo_key: Arc<StationKey>,
    messages: usize,
) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    let store = Store::open(&dir.join(DB_FILE))?;
    let core = Core::new(config.name.clone(), config.lang.clone(), store)?;
    let body = crate::delivery::body(64);
    let mut seq = 0u64;
    while (seq as usize) < messages {
        let first = seq + 1;
        let last = (seq + batch_messages as u64).min(messages as u64);
        seq = last;
        let (alpha_key, bravo_key, body) = (alpha_key.clone(), bravo_key.clone(), body.clone());
        core.write(move |j| {
            for seq in first..=last {
                let now = now_ms();
                let id = uuid::Uuid::now_v7().to_string();
                let mut row = MessageRow {
                    id: id.clone(),
                    peer: "bravo".into(),
                    direction: Direction::Out,
                    precedence: "ROUTINE".into(),
                    lang: "en".into(),
                    body: body.clone(),
                    reply_to: None,
                    author: "op".into(),
                    created_ms: now,
                    sent_ms: None,
                    delivered_ms: None,
                    acked_ms: None,
                    acked_by: None,
                };
                let item = Item::Message {
                    from: "alpha".into(),
                    to: "bravo".into(),
                    id: id.clone(),
                    precedence: row.precedence.clone(),
                    lang: row.lang.clone(),
                    body: row.body.clone(),
                    reply_to: None,
                    author: row.author.clone(),
                    created_ms: now,
                };
                let signed = SignedItem::sign(item, &alpha_key);
                j.tx.insert_message(&row)?;
                j.tx.insert_outbox("bravo", Lane::Routine, seq, &signed.envelope(), Some(&id), now)?;
                j.append(
                    EntryKind::MessageQueued,
                    json!({"peer": "bravo", "message": message_json(&row), "item": signed.text, "sig": signed.sig}),
                )?;
                j.tx.mark_sent("bravo", Lane::Routine, seq, now)?;
                row.sent_ms = Some(now);
                j.append(EntryKind::MessageSent, json!({"peer": "bravo", "id": id, "message": message_json(&row)}))?;
                let receipt = Item::Receipt {
                    from: "bravo".into(),
                    to: "alpha".into(),
                    at_ms: now,
                    messages: vec![ReceiptEntry { id: id.clone(), item_sha256: signed.sha256_hex() }],
                };
                let receipt = SignedItem::sign(receipt, &bravo_key);
                j.append(
                    EntryKind::ReceiptReceived,
                    json!({"peer": "bravo", "item": receipt.text, "sig": receipt.sig}),
                )?;
                row.delivered_ms = Some(now);
                j.append(
                    EntryKind::MessageDelivered,
                    json!({"peer": "bravo", "id": id, "message": message_json(&row)}),
                )?;
            }
            // One receipt mark per batch: `mark_receipted` scans the lane's outbox.
            j.tx.mark_receipted("bravo", Lane::Routine, last, now_ms())?;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

fn file_mib(path: &Path) -> f64 {
    std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / (1024.0 * 1024.0))
}

/// With `keep`, the export file stays beside the station directory.
pub async fn run(bin: &Binary, base: &Path, entries: usize, starts: usize, keep: bool) -> anyhow::Result<RecordResult> {
    let base = base.join("record");
    std::fs::create_dir_all(&base)?;
    let mut alpha = unoperated(bin, &base, "alpha")?;
    let bravo = unoperated(bin, &base, "bravo")?;
    // The peer never runs: the line stays down, as it may at any start.
    alpha.add_line("bravo", &bravo.key, &[format!("127.0.0.1:{}", free_port()?)])?;
    let load = |dir: &Path| -> anyhow::Result<Arc<StationKey>> {
        let config = Config::load(dir)?;
        Ok(Arc::new(hotline_station::admin::load_key(dir, &config)?))
    };
    let (alpha_key, bravo_key) = (load(&alpha.dir)?, load(&bravo.dir)?);
    let messages = entries.div_ceil(entries_per_message);
    let started = Instant::now();
    build(&alpha.dir, alpha_key, bravo_key, messages).await?;
    let build_s = started.elapsed().as_secs_f64();
    let written = (messages * entries_per_message) as u64;
    eprintln!("  built {written} entries in {build_s:.1} s");

    let mut startup_s = Vec::new();
    let mut rss_after_start_mib = 0.0;
    for _ in 0..starts {
        // The record was written by this benchmark's copy of the store; the binary must
        // be built from the same sources to read it.
        let took = alpha.start().context(
            "the hotline binary cannot serve the record this benchmark wrote; rebuild both with \
             `cargo build --release -p hotline-cli -p hotline-bench`",
        )?;
        startup_s.push(took.as_secs_f64());
        tokio::time::sleep(Duration::from_millis(300)).await;
        rss_after_start_mib = memory(alpha.pid().context("pid")?)?.0;
        alpha.stop();
    }

    let t = Instant::now();
    let export = alpha.export(&base)?;
    let export_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let verified = bin.command().arg("verify").arg(&export).output()?;
    let verify_s = t.elapsed().as_secs_f64();
    if !verified.status.success() {
        bail!("hotline verify failed: {}", String::from_utf8_lossy(&verified.stderr).trim());
    }
    let export_mib = file_mib(&export);
    if !keep {
        std::fs::remove_file(&export)?;
    }
    Ok(RecordResult {
        entries: written,
        signed_entries: written / 2,
        build_s,
        build_entries_per_s: written as f64 / build_s,
        db_mib: file_mib(&alpha.dir.join(DB_FILE)) + file_mib(&alpha.dir.join(format!("{DB_FILE}-wal"))),
        startup_s,
        rss_after_start_mib,
        export_s,
        export_mib,
        verify_s,
        verify_ok: verified.status.success(),
    })
}
