//! The peer is an adversary: every field of an item it sends is checked here, as strictly
//! as the API checks our own operators' input, before anything is stored or answered.
//!
//! A signed item from the pinned key proves who sent it, not that it is sane. Ids become
//! URLs in our console and keys in our store, names and reasons go into our record and
//! into items we send back, and times drive our alarms — so ids must be canonical UUIDs
//! (ours are; a peer that follows the protocol makes them the same way), names and texts
//! are bounded, times lie in a plausible range. A refusal says what is wrong in our own
//! words, quoting at most [`quoted_chars_max`] characters of the peer's text, so a
//! refusal is always small enough to record and to send back.

use super::{Item, PacketStream, Precedence, ReceiptEntry, message_body_bytes_max, receipt_messages_max};
use crate::validate::{canonical_uuid, valid_lang_tag, valid_operator_name};

/// How many characters of a peer's text a refusal quotes.
#[allow(non_upper_case_globals)]
pub const quoted_chars_max: usize = 40;
/// Longest checkpoint note: origin, size and root lines plus a few signatures.
#[allow(non_upper_case_globals)]
pub const checkpoint_note_bytes_max: usize = 4096;
/// Most hashes in a consistency proof: a tree of 2^64 entries needs fewer.
#[allow(non_upper_case_globals)]
pub const proof_hashes_max: usize = 128;
/// Longest cosignature line (`— name keyhash+base64`, about 150 bytes).
#[allow(non_upper_case_globals)]
pub const cosignature_line_bytes_max: usize = 512;
/// Longest refusal reason the peer may send us, and the longest we send.
#[allow(non_upper_case_globals)]
pub const refusal_reason_bytes_max: usize = 1024;
/// Longest notice JSON on the line (the notice parser bounds its vertices too).
#[allow(non_upper_case_globals)]
pub const notice_bytes_max: usize = 64 * 1024;
/// Most operators a peer can report on watch.
#[allow(non_upper_case_globals)]
pub const on_watch_max: u32 = 10_000;
/// Longest call step on the line: base64 of at most `hotline_call::STEP_BYTES_MAX` bytes.
#[allow(non_upper_case_globals)]
pub const call_step_base64_bytes_max: usize = hotline_call::STEP_BYTES_MAX.div_ceil(3) * 4;
/// The longest recording a peer may report: 7 days (a call is never left open longer).
#[allow(non_upper_case_globals)]
pub const recording_duration_ms_max: u64 = 7 * 24 * 3600 * 1000;
/// The largest recording file a peer may report: 7 days of two 510 kbit/s Opus streams.
#[allow(non_upper_case_globals)]
pub const recording_bytes_max: u64 = 80 * 1024 * 1024 * 1024;
/// The most packets a direction of a recording can hold: one per 20 ms of its duration.
#[allow(non_upper_case_globals)]
pub const recording_packets_max: u64 = recording_duration_ms_max / 20;
/// Most bytes of a refused payload its `line.item_refused` entry keeps. A payload that
/// does not open or does not pass [`check`] is the peer's, up to `payload_bytes_max`
/// (96 KiB): kept whole, an attacker could grow our record by that much per item, at
/// line speed, until the disk is full. Longer payloads are kept as their SHA-256, their
/// length and this many bytes of their start: enough to see what was sent, and to
/// match the payload if the peer's own copy is produced in a dispute.
#[allow(non_upper_case_globals)]
pub const refused_payload_kept_bytes_max: usize = 4096;
/// The shortest and longest a station keeps a call recording (`recording_retention_days`),
/// ours as the configuration allows it and the peer's as its `call_recorded` item may
/// state it: a peer cannot make us keep a file longer than ten years.
#[allow(non_upper_case_globals)]
pub const recording_retention_days_min: u32 = 1;
#[allow(non_upper_case_globals)]
pub const recording_retention_days_max: u32 = 3650;
/// The latest time an item may name: 2100-01-01 UTC. Anything later is nonsense.
#[allow(non_upper_case_globals)]
pub const item_time_ms_max: i64 = 4_102_444_800_000;
/// The longest and shortest answer window a peer's watch check may ask of us.
#[allow(non_upper_case_globals)]
pub const check_window_ms_max: i64 = 24 * 3600 * 1000;
#[allow(non_upper_case_globals)]
pub const check_window_ms_min: i64 = 1_000;

/// At most [`quoted_chars_max`] characters of `text`, escaped, for a refusal's reason.
pub fn quote(text: &str) -> String {
    let head: String = text.chars().take(quoted_chars_max).collect();
    let more = if head.len() < text.len() { "…" } else { "" };
    format!("{:?}{more}", head)
}

/// `reason` cut to [`refusal_reason_bytes_max`] bytes at a character boundary.
pub fn bounded_reason(reason: &str) -> String {
    if reason.len() <= refusal_reason_bytes_max {
        return reason.to_owned();
    }
    let mut end = refusal_reason_bytes_max - 3;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &reason[..end])
}

/// What a `line.item_refused` entry keeps of a refused payload: `payload` (as text, the
/// whole of it or its first [`refused_payload_kept_bytes_max`] bytes), `payload_bytes`,
/// `payload_sha256`, and `payload_cut` when it is not whole.
pub fn kept_payload(payload: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    let cut = payload.len() > refused_payload_kept_bytes_max;
    let head = &payload[..payload.len().min(refused_payload_kept_bytes_max)];
    let mut kept = serde_json::Map::new();
    // Lossy: a cut can split a character, and the peer's bytes need not be UTF-8 at all.
    kept.insert("payload".into(), String::from_utf8_lossy(head).into_owned().into());
    kept.insert("payload_bytes".into(), payload.len().into());
    kept.insert("payload_sha256".into(), super::sha256_hex(payload).into());
    if cut {
        kept.insert("payload_cut".into(), true.into());
    }
    kept
}

fn id(what: &str, value: &str) -> Result<(), String> {
    if canonical_uuid(value) { Ok(()) } else { Err(format!("{what} {} is not a UUID", quote(value))) }
}

fn name(what: &str, value: &str) -> Result<(), String> {
    if valid_operator_name(value) {
        Ok(())
    } else {
        Err(format!("{what} {} is not an operator name (1 to 64 of a-z, A-Z, 0-9, '-', '_', '.')", quote(value)))
    }
}

/// Lower-case hex of 32 bytes, as the record writes hashes.
fn sha256_hex(what: &str, value: &str) -> Result<(), String> {
    let hex = value.len() == 64 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex { Ok(()) } else { Err(format!("{what} {} is not 64 lower-case hex digits", quote(value))) }
}

/// A direction of a recording: its hash, and no more packets than 20 ms slots.
fn packet_stream(side: &str, stream: &PacketStream, duration_ms: u64) -> Result<(), String> {
    sha256_hex(&format!("{side} packets_sha256"), &stream.packets_sha256)?;
    let slots = duration_ms / 20 + 1;
    if stream.packets > slots.min(recording_packets_max) {
        return Err(format!("{side}: {} packets do not fit in {duration_ms} ms of 20 ms packets", stream.packets));
    }
    Ok(())
}

fn time(what: &str, ms: i64) -> Result<(), String> {
    if (0..=item_time_ms_max).contains(&ms) { Ok(()) } else { Err(format!("{what} {ms} is not a time before 2100")) }
}

fn bytes(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() <= max { Ok(()) } else { Err(format!("{what} of {} bytes is over the limit of {max}", value.len())) }
}

fn receipt_entry(e: &ReceiptEntry) -> Result<(), String> {
    id("receipt entry", &e.id)?;
    let hex =
        e.item_sha256.len() == 64 && e.item_sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex { Ok(()) } else { Err(format!("receipt hash {} is not 64 lower-case hex digits", quote(&e.item_sha256))) }
}

/// Checks every field of an item the peer sent; the error is the refusal's reason.
pub fn check(item: &Item) -> Result<(), String> {
    match item {
        Item::Message { id: i, precedence, lang, body, reply_to, author, created_ms, .. } => {
            id("message id", i)?;
            if Precedence::parse(precedence).is_none() {
                let names: Vec<&str> = Precedence::ALL.iter().map(|p| p.as_str()).collect();
                return Err(format!("precedence {} is not one of {}", quote(precedence), names.join(", ")));
            }
            if !valid_lang_tag(lang) {
                return Err(format!("language tag {} is not a BCP 47 tag", quote(lang)));
            }
            bytes("message body", body, message_body_bytes_max)?;
            if let Some(r) = reply_to {
                id("reply_to", r)?;
            }
            name("author", author)?;
            time("created_ms", *created_ms)
        }
        Item::Ack { id: i, by, at_ms, .. } => {
            id("acknowledged message id", i)?;
            name("by", by)?;
            time("at_ms", *at_ms)
        }
        Item::Receipt { at_ms, messages, .. } => {
            if messages.len() > receipt_messages_max {
                return Err(format!(
                    "receipt names {} messages, over the limit of {receipt_messages_max}",
                    messages.len()
                ));
            }
            messages.iter().try_for_each(receipt_entry)?;
            time("at_ms", *at_ms)
        }
        Item::Checkpoint { note, proof, .. } => {
            bytes("checkpoint note", note, checkpoint_note_bytes_max)?;
            if proof.len() > proof_hashes_max {
                return Err(format!(
                    "consistency proof of {} hashes is over the limit of {proof_hashes_max}",
                    proof.len()
                ));
            }
            match proof.iter().find(|h| h.len() != 44) {
                Some(h) => Err(format!("proof hash {} is not 32 bytes of base64", quote(h))),
                None => Ok(()),
            }
        }
        Item::Cosignature { line, .. } => bytes("cosignature line", line, cosignature_line_bytes_max),
        Item::Notice { id: i, version, state, notice, .. } => {
            id("notice id", i)?;
            if *version == 0 || *version > u64::from(u32::MAX) {
                return Err(format!("notice version {version} is out of range"));
            }
            if !matches!(state.as_str(), "filed" | "amended" | "cancelled") {
                return Err(format!("notice state {} is not filed, amended or cancelled", quote(state)));
            }
            bytes("notice", notice, notice_bytes_max)
        }
        Item::NoticeAck { id: i, by, at_ms, .. } => {
            id("acknowledged notice id", i)?;
            name("by", by)?;
            time("at_ms", *at_ms)
        }
        Item::WitnessRefusal { reason, .. } => bytes("refusal reason", reason, refusal_reason_bytes_max),
        Item::WatchCheck { id: i, sent_ms, deadline_ms, .. } => {
            id("watch check id", i)?;
            time("sent_ms", *sent_ms)?;
            time("deadline_ms", *deadline_ms)?;
            let window = deadline_ms - sent_ms;
            if !(check_window_ms_min..=check_window_ms_max).contains(&window) {
                return Err(format!(
                    "watch check window of {window} ms is outside {check_window_ms_min}..={check_window_ms_max} ms"
                ));
            }
            Ok(())
        }
        Item::WatchAnswer { id: i, by, at_ms, .. } => {
            id("answered watch check id", i)?;
            name("by", by)?;
            time("at_ms", *at_ms)
        }
        Item::CallStep { step, .. } => {
            // The call crate's parser is strict (every field against a named bound).
            bytes("call step", step, call_step_base64_bytes_max)?;
            let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, step)
                .map_err(|_| format!("call step {} is not base64", quote(step)))?;
            hotline_call::Step::parse(&raw).map(|_| ()).map_err(|e| format!("call step refused: {e}"))
        }
        Item::CallRecorded { call, sha256, bytes, duration_ms, caller, callee, retention_days, .. } => {
            id("recorded call id", call)?;
            if !(recording_retention_days_min..=recording_retention_days_max).contains(retention_days) {
                return Err(format!(
                    "a retention of {retention_days} days is not {recording_retention_days_min} to {recording_retention_days_max}"
                ));
            }
            sha256_hex("recording sha256", sha256)?;
            if *bytes > recording_bytes_max {
                return Err(format!("a recording of {bytes} bytes is over the limit of {recording_bytes_max}"));
            }
            if *duration_ms > recording_duration_ms_max {
                return Err(format!(
                    "a recording of {duration_ms} ms is over the limit of {recording_duration_ms_max}"
                ));
            }
            for (side, stream) in [("caller", caller), ("callee", callee)] {
                packet_stream(side, stream, *duration_ms)?;
            }
            Ok(())
        }
        Item::CallRecordingStopped { call, stopped_ms, why, .. } => {
            id("call id of a stopped recording", call)?;
            bytes("why the recording stopped", why, refusal_reason_bytes_max)?;
            time("stopped_ms", *stopped_ms)
        }
        Item::Presence { on_watch, since_ms, .. } => {
            if *on_watch > on_watch_max {
                return Err(format!("{on_watch} operators on watch is over the limit of {on_watch_max}"));
            }
            time("since_ms", *since_ms)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    #[test]
    fn only_canonical_uuids_are_ids() {
        assert!(canonical_uuid("01937a2c-0000-7000-8000-000000000001"));
        for bad in [
            "../notices/01937a2c-0000-7000-8000-000000000001/ack#",
            "01937A2C-0000-7000-8000-000000000001",
            "{01937a2c-0000-7000-8000-000000000001}",
            "01937a2c000070008000000000000001",
            "",
        ] {
            assert!(!canonical_uuid(bad), "{bad}");
        }
    }

    fn recorded(sha256: &str, duration_ms: u64, caller_packets: u64) -> Item {
        let stream = |packets| PacketStream { packets_sha256: "ab".repeat(32), packets };
        Item::CallRecorded {
            from: "b".into(),
            to: "a".into(),
            call: "01937a2c-0000-7000-8000-000000000001".into(),
            sha256: sha256.into(),
            bytes: 4096,
            duration_ms,
            cut_off: false,
            caller: stream(caller_packets),
            callee: stream(0),
            retention_days: 90,
        }
    }

    #[test]
    fn a_stopped_recording_is_checked_field_by_field() {
        let stopped = |call: &str, stopped_ms: i64, why: String| Item::CallRecordingStopped {
            from: "b".into(),
            to: "a".into(),
            call: call.into(),
            stopped_ms,
            why,
        };
        let call = "01937a2c-0000-7000-8000-000000000001";
        assert_eq!(check(&stopped(call, 1_800_000_000_000, "No space left on device".into())), Ok(()));
        for (item, why) in [
            (stopped("../calls", 1_800_000_000_000, "full".into()), "call id"),
            (stopped(call, -1, "full".into()), "stopped_ms"),
            (stopped(call, 1_800_000_000_000, "x".repeat(refusal_reason_bytes_max + 1)), "why the recording stopped"),
        ] {
            let refused = check(&item).expect_err("refused");
            assert!(refused.contains(why), "{refused}");
        }
    }

    #[test]
    fn a_recording_summary_is_checked_field_by_field() {
        let kept = |days: u32| {
            let mut item = recorded(&"0f".repeat(32), 6000, 300);
            if let Item::CallRecorded { retention_days, .. } = &mut item {
                *retention_days = days;
            }
            item
        };
        assert_eq!(check(&kept(recording_retention_days_max)), Ok(()));
        assert_eq!(check(&recorded(&"0f".repeat(32), 6000, 300)), Ok(()));
        for (item, why) in [
            (recorded(&"0F".repeat(32), 6000, 300), "not 64 lower-case hex"),
            (recorded(&"0f".repeat(31), 6000, 300), "not 64 lower-case hex"),
            (recorded(&"0f".repeat(32), 6000, 302), "do not fit in 6000 ms"),
            (recorded(&"0f".repeat(32), u64::MAX, 0), "over the limit"),
            (kept(0), "retention of 0 days"),
            (kept(100_000), "retention of 100000 days"),
        ] {
            let refused = check(&item).expect_err("refused");
            assert!(refused.contains(why), "{refused}");
        }
    }

    #[test]
    fn refusals_quote_little_and_stay_bounded() {
        let hostile = "\"".repeat(20_000);
        assert!(quote(&hostile).len() < 4 * quoted_chars_max);
        assert!(bounded_reason(&"é".repeat(5000)).len() <= refusal_reason_bytes_max);
        let item = Item::Ack { from: "b".into(), to: "a".into(), id: hostile, by: "op".into(), at_ms: 1 };
        let why = check(&item).expect_err("refused");
        assert!(why.len() < 200, "{why}");
    }

    #[test]
    fn a_refused_payload_is_kept_whole_when_small_and_cut_with_its_hash_when_not() {
        let text = r#"{"not": "an item"}"#;
        let small = kept_payload(text.as_bytes());
        assert_eq!(small["payload"], text);
        assert_eq!(small["payload_bytes"], text.len());
        assert!(!small.contains_key("payload_cut"));
        // 96 KiB of `é` with a cut in the middle of a character: bounded, and still text.
        let big = "é".repeat(48 * 1024 + 1);
        let kept = kept_payload(big.as_bytes());
        let text = kept["payload"].as_str().expect("text");
        assert!(text.len() <= refused_payload_kept_bytes_max + 3, "{} bytes", text.len());
        assert!(text.starts_with("éé"));
        assert_eq!(kept["payload_bytes"], big.len());
        assert_eq!(kept["payload_cut"], true);
        let sha256: String = Sha256::digest(big.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(kept["payload_sha256"], sha256.as_str());
    }
}
