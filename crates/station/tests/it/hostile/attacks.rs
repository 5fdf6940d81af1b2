//! One test per attack: what the peer sends, and what our station must do about it.

use hotline_proto::Lane;
use hotline_record::checkpoint::Checkpoint;
use hotline_record::note::NoteSigner;
use hotline_station::item::{Item, ReceiptEntry};

use super::{Attack, message};

fn checkpoint_item(note: String, old_size: u64, proof: Vec<String>) -> Item {
    Item::Checkpoint { from: "bravo".into(), to: "alpha".into(), note, old_size, proof }
}

/// A checkpoint whose size line is 20,000 `"`: its parse error quotes the text, which
/// once escaped into a refusal item was over the frame limit — `Line::push` asserted and
/// the line task died for good with the lamp green. Now the note is refused by size, a
/// smaller one's refusal is bounded, and the line goes on.
#[tokio::test]
async fn a_checkpoint_with_a_huge_quoted_size_line_is_refused_and_the_line_survives() {
    let mut attack = Attack::start().await;
    let origin = format!("hotline/bravo/{}", attack.bravo.verifier().fingerprint());
    for quotes in [20_000, 3_000] {
        let note = format!("{origin}\n{}\nAAAA\n\n— bravo AAAA\n", "\"".repeat(quotes));
        attack.send(Lane::Control, checkpoint_item(note, 0, Vec::new())).await;
    }
    let refused = attack
        .wait_entry("line.item_refused", |e| e["why"].as_str().is_some_and(|w| w.contains("checkpoint note")))
        .await;
    // The record keeps the start of the payload and its hash, not 40 KB the peer chose.
    let kept = refused["payload"].as_str().map_or(usize::MAX, str::len);
    assert!(kept <= hotline_station::item::peer_input::refused_payload_kept_bytes_max + 3, "{kept} bytes kept");
    assert_eq!(refused["payload_cut"], true, "{refused}");
    assert!(refused["payload_bytes"].as_u64().is_some_and(|n| n > 20_000), "{refused}");
    assert!(refused["payload_sha256"].as_str().is_some_and(|h| h.len() == 64), "{refused}");
    let refusal = attack.wait_item(|i| matches!(i, Item::WitnessRefusal { .. })).await;
    let Item::WitnessRefusal { reason, critical, .. } = refusal else { unreachable!() };
    assert!(reason.len() <= hotline_station::item::peer_input::refusal_reason_bytes_max, "{} bytes", reason.len());
    assert!(!critical);
    attack.still_serving().await;
}

/// The fork: a checkpoint with origin "junk" used to be cosigned as a new log and
/// become "last witnessed"; then one with the real origin, any root and no proof was
/// cosigned too. Another origin is refused; the real log's history is held to.
#[tokio::test]
async fn our_witness_cosigns_only_the_peers_own_origin_and_holds_it_to_its_history() {
    let mut attack = Attack::start().await;
    let signer = NoteSigner::from_station_key(&attack.bravo);
    let junk = Checkpoint::new("junk", 5, [7; 32]).sign(&signer).expect("sign");
    attack.send(Lane::Control, checkpoint_item(junk, 0, Vec::new())).await;
    attack.wait_entry("line.item_refused", |e| e["why"].as_str().is_some_and(|w| w.contains("origin"))).await;
    let refused = attack.wait_item(|i| matches!(i, Item::Cosignature { .. } | Item::WitnessRefusal { .. })).await;
    assert!(matches!(&refused, Item::WitnessRefusal { reason, .. } if reason.contains("origin")), "{refused:?}");
    let origin = format!("hotline/bravo/{}", attack.bravo.verifier().fingerprint());
    let first = Checkpoint::new(&origin, 5, [1; 32]).sign(&signer).expect("sign");
    attack.send(Lane::Control, checkpoint_item(first, 0, Vec::new())).await;
    let cosigned = attack.wait_item(|i| matches!(i, Item::Cosignature { .. } | Item::WitnessRefusal { .. })).await;
    assert!(
        matches!(cosigned, Item::Cosignature { size: 5, .. }),
        "the first real checkpoint is cosigned: {cosigned:?}"
    );
    let rewritten = Checkpoint::new(&origin, 6, [2; 32]).sign(&signer).expect("sign");
    attack.send(Lane::Control, checkpoint_item(rewritten, 5, Vec::new())).await;
    let answer = attack.wait_item(|i| matches!(i, Item::Cosignature { .. } | Item::WitnessRefusal { .. })).await;
    assert!(
        matches!(answer, Item::WitnessRefusal { size: 6, .. }),
        "a checkpoint without a proof is refused: {answer:?}"
    );
    attack.still_serving().await;
}

/// Ids become console URLs and store keys: an id like `../notices/N/ack#` would make an
/// operator's click acknowledge something else. Every peer id must be a canonical UUID.
#[tokio::test]
async fn peer_ids_that_are_not_uuids_are_refused() {
    let attack = Attack::start().await;
    let hostile = "../notices/01937a2c-0000-7000-8000-000000000001/ack#";
    attack.send(Lane::Flash, message(hostile, "click me")).await;
    let ack = Item::Ack { from: "bravo".into(), to: "alpha".into(), id: hostile.into(), by: "op".into(), at_ms: 1 };
    attack.send(Lane::Control, ack).await;
    let receipt = Item::Receipt {
        from: "bravo".into(),
        to: "alpha".into(),
        at_ms: 1,
        messages: vec![ReceiptEntry { id: "x".repeat(40_000), item_sha256: "0".repeat(64) }],
    };
    attack.send(Lane::Control, receipt).await;
    for _ in 0..3 {
        attack
            .wait_entry("line.item_refused", |e| e["why"].as_str().is_some_and(|w| w.contains("is not a UUID")))
            .await;
    }
    let refusals = attack.entries("line.item_refused").await;
    assert_eq!(refusals.iter().filter(|e| e["why"].as_str().is_some_and(|w| w.contains("UUID"))).count(), 3);
    assert!(refusals.iter().all(|e| e["why"].as_str().is_some_and(|w| w.len() < 300)), "reasons are bounded");
    let stored = attack.core().read(|tx| tx.message(hostile)).await.expect("read");
    assert!(stored.is_none(), "a message with a hostile id is not stored");
    attack.still_serving().await;
}

/// The peer chooses `created_ms`, `sent_ms` and `deadline_ms`: a watch check sent "an
/// hour ago" with a deadline already past must not record us as having missed it, and a
/// message backdated a day must not arrive overdue.
#[tokio::test]
async fn backdated_peer_times_are_clamped_to_what_we_observed() {
    let attack = Attack::start().await;
    let now = hotline_station::now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let check = Item::WatchCheck {
        from: "bravo".into(),
        to: "alpha".into(),
        id: id.clone(),
        sent_ms: now - 3_600_000,
        deadline_ms: now - 3_300_000,
    };
    attack.send(Lane::Control, check).await;
    attack.wait_entry("watch_check.received", |e| e["id"] == id.as_str()).await;
    let row = attack.core().read(move |tx| tx.watch_check(&id)).await.expect("read").expect("stored");
    assert!(row.deadline_ms >= now + 300_000 - 1000, "the window counts from arrival: {row:?}");
    assert!(!row.missed);
    let mut old = message(&uuid::Uuid::now_v7().to_string(), "sent yesterday");
    if let Item::Message { created_ms, .. } = &mut old {
        *created_ms = now - 86_400_000;
    }
    attack.send(Lane::Flash, old).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let overdue = attack.core().read(|tx| tx.alarms(true, i64::MAX)).await.expect("alarms");
    assert!(overdue.iter().all(|a| a.cause != "ack_overdue"), "no alarm on arrival: {overdue:?}");
    attack.still_serving().await;
}

/// A peer that stops reading (while its heartbeats keep coming) used to freeze the line
/// task in a socket write: status "up" for ever, sends without an answer. Now every send
/// is answered at once (stored, queued) and the stalled connection is dropped.
#[tokio::test]
async fn a_peer_that_stops_reading_cannot_freeze_the_line() {
    use hotline_station::line::{Command, NewMessage};
    let attack = Attack::start().await;
    attack.stop_reading().await;
    let line = attack.alpha.state.lines.get("bravo").expect("line");
    let body = "x".repeat(60_000);
    let started = std::time::Instant::now();
    let mut went_down = false;
    for n in 0..600 {
        let message = NewMessage {
            precedence: hotline_station::item::Precedence::Routine,
            lang: "en".into(),
            body: body.clone(),
            reply_to: None,
            author: "op".into(),
        };
        let answered =
            tokio::time::timeout(std::time::Duration::from_secs(5), line.ask(|reply| Command::Send { message, reply }))
                .await;
        assert!(matches!(answered, Ok(Ok(_))), "send {n} not answered within 5 s: {:?}", answered.err());
        if attack.line_state() != hotline_proto::LineState::Up {
            went_down = true;
            break;
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !went_down && std::time::Instant::now() < deadline {
        went_down = attack.line_state() != hotline_proto::LineState::Up;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(went_down, "the stalled connection is dropped (after {:?})", started.elapsed());
}

/// K overlapping notices of the peer's own used to raise K²/2 conflicts, each a record
/// entry and a sounding alert. Deconfliction is between the two stations: the peer's
/// notices among themselves raise nothing; one of ours raises one conflict per notice of
/// theirs that it meets.
#[tokio::test]
async fn the_peers_own_overlapping_notices_raise_no_conflicts() {
    use hotline_station::line::{Command, NoticeChange};
    let attack = Attack::start().await;
    let now = hotline_station::now_ms();
    let start = hotline_station::rfc3339(now + 3_600_000);
    let end = hotline_station::rfc3339(now + 7_200_000);
    let notice = format!(
        r#"{{"kind":"air_operations","area":{{"type":"Point","coordinates":[30.5,50.4],"radius_m":20000}},"altitude":{{"min_m":0,"max_m":9000}},"start":"{start}","end":"{end}","title":"exercise","remarks":"","lang":"en"}}"#
    );
    let theirs = 12;
    for _ in 0..theirs {
        let item = Item::Notice {
            from: "bravo".into(),
            to: "alpha".into(),
            id: uuid::Uuid::now_v7().to_string(),
            version: 1,
            state: "filed".into(),
            notice: notice.clone(),
        };
        attack.send(Lane::Priority, item).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while attack.entries("notice.received").await.len() < theirs {
        assert!(std::time::Instant::now() < deadline, "the peer's notices arrive");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(attack.entries("conflict.raised").await.is_empty(), "the peer's own notices raise no conflicts");
    let line = attack.alpha.state.lines.get("bravo").expect("line");
    let end_ms = now + 7_200_000;
    let change = NoticeChange::File { body: notice.clone(), end_ms };
    line.ask(|reply| Command::Notice { change, reply }).await.expect("our notice is filed");
    let raised = attack.entries("conflict.raised").await;
    assert_eq!(raised.len(), theirs, "one conflict per notice of theirs that ours meets");
    attack.still_serving().await;
}

/// A backdated message is not overdue when it arrives (above); nor may it become overdue
/// when our station next starts and rebuilds its deadlines from the store: they run from
/// when we received it there too, not from the creation time the peer claims.
#[tokio::test]
async fn a_backdated_message_does_not_become_overdue_at_our_next_start() {
    let attack = Attack::start().await;
    let id = uuid::Uuid::now_v7().to_string();
    let mut old = message(&id, "sent yesterday");
    if let Item::Message { created_ms, .. } = &mut old {
        *created_ms = hotline_station::now_ms() - 86_400_000;
    }
    attack.send(Lane::Flash, old).await;
    attack.wait_entry("message.received", |e| e["id"] == id.as_str()).await;
    let Attack { _dir: dir, alpha, .. } = attack;
    alpha.stop().await;
    let again = hotline_station::serve::start(&dir.path().join("alpha")).await.expect("alpha starts again");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let open = again.state.core.read(|tx| tx.alarms(true, i64::MAX)).await.expect("alarms");
    assert!(open.iter().all(|a| a.cause != "ack_overdue"), "no alarm at start-up: {open:?}");
    again.stop().await;
}

/// A flood of urgent messages nobody here acknowledges used to raise one critical alarm,
/// with its own escalation, per message. Now one alarm stands for all overdue FLASH
/// messages from bravo, with their count.
#[tokio::test]
async fn a_flood_of_overdue_messages_is_one_alarm_with_their_count() {
    let attack = Attack::start_with("[watch.ack_deadline_s]\nFLASH = 2\n").await;
    let flood = 40;
    for n in 0..flood {
        attack.send(Lane::Flash, message(&uuid::Uuid::now_v7().to_string(), &format!("urgent {n}"))).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while attack.entries("message.received").await.len() < flood {
        assert!(std::time::Instant::now() < deadline, "the flood arrives");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Every message is overdue 2 s after it arrived; a count not complete when the alarm
    // was raised is reported within `alarm_coalesce_ms` (10 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let alarm = loop {
        let open = attack.core().read(|tx| tx.alarms(true, i64::MAX)).await.expect("alarms");
        let overdue: Vec<_> = open.into_iter().filter(|a| a.cause == "ack_overdue").collect();
        assert!(overdue.len() <= 1, "one alarm, not one per message: {} alarms", overdue.len());
        let detail = overdue.first().map(|a| serde_json::from_str::<serde_json::Value>(&a.detail).expect("json"));
        if let (Some(a), Some(detail)) = (overdue.first(), detail)
            && detail["count"] == flood
        {
            break (a.clone(), detail);
        }
        assert!(std::time::Instant::now() < deadline, "no alarm counting all {flood} messages: {overdue:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let (row, detail) = alarm;
    assert_eq!(row.key, "ack_overdue:bravo:in:FLASH");
    assert!(row.text.starts_with(&format!("{flood} FLASH messages from bravo")), "{}", row.text);
    let listed = detail["messages"].as_array().map_or(0, Vec::len);
    assert!((1..=20).contains(&listed), "a bounded sample of the ids: {listed}");
    assert_eq!(attack.entries("alarm.raised").await.iter().filter(|e| e["cause"] == "ack_overdue").count(), 1);
    attack.still_serving().await;
}
