//! Storage tests: what survives a reopen, what a transaction rolls back, and the shapes
//! the line needs to resume.

use hotline_proto::Lane;

use super::*;

fn message(id: &str, direction: Direction) -> MessageRow {
    MessageRow {
        id: id.into(),
        peer: "bravo".into(),
        direction,
        precedence: "ROUTINE".into(),
        lang: "en".into(),
        body: format!("body of {id}"),
        reply_to: None,
        author: "op".into(),
        created_ms: 1,
        sent_ms: None,
        delivered_ms: None,
        acked_ms: None,
        acked_by: None,
    }
}

fn accept(store: &mut Store, id: &str, lane: Lane) -> u64 {
    store
        .write(|tx| {
            let seq = tx.next_out_seq("bravo", lane)?;
            assert!(tx.insert_message(&message(id, Direction::Out))?);
            tx.insert_outbox("bravo", lane, seq, id.as_bytes(), Some(id), 1)?;
            tx.append_entry(1, "message.queued", id)?;
            Ok(seq)
        })
        .expect("accept")
}

#[test]
fn outbox_restores_what_the_peer_has_not_receipted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("station.db");
    {
        let mut store = Store::open(&path).expect("open");
        assert_eq!(accept(&mut store, "m1", Lane::Routine), 1);
        assert_eq!(accept(&mut store, "m2", Lane::Routine), 2);
        assert_eq!(accept(&mut store, "m3", Lane::Flash), 1);
        let delivered = store.write(|tx| tx.mark_receipted("bravo", Lane::Routine, 1, 5)).expect("receipt");
        assert_eq!(delivered, vec!["m1".to_string()]);
        store.write(|tx| tx.insert_inbox("bravo", Lane::Control, 1, 5)).expect("inbox");
    }
    // Reopen: everything committed is there.
    let mut store = Store::open(&path).expect("reopen");
    let r = store.read(|tx| tx.restore_line("bravo")).expect("restore");
    assert_eq!(r.receipted[Lane::Routine.index()], 1);
    assert_eq!(r.pushed_last[Lane::Routine.index()], 2);
    assert_eq!(r.pushed_last[Lane::Flash.index()], 1);
    assert_eq!(r.durable_next[Lane::Control.index()], 2);
    assert_eq!(r.durable_next[Lane::Routine.index()], 1);
    assert_eq!(r.outbound, vec![(Lane::Flash, 1, b"m3".to_vec()), (Lane::Routine, 2, b"m2".to_vec())]);
    let m1 = store.read(|tx| tx.message("m1")).expect("read").expect("m1");
    assert_eq!(m1.state(), "delivered");
    let m2 = store.read(|tx| tx.message("m2")).expect("read").expect("m2");
    assert_eq!(m2.state(), "queued");
}

#[test]
fn a_failed_transaction_changes_nothing() {
    let mut store = Store::open_in_memory().expect("open");
    accept(&mut store, "m1", Lane::Routine);
    let result = store.write(|tx| {
        tx.append_entry(2, "message.queued", "m2")?;
        tx.insert_message(&message("m2", Direction::Out))?;
        // The same outbox position twice: the primary key refuses it.
        tx.insert_outbox("bravo", Lane::Routine, 1, b"dup", Some("m2"), 2)?;
        Ok(())
    });
    assert!(result.is_err());
    assert_eq!(store.read(|tx| tx.entry_count()).expect("count"), 1);
    assert!(store.read(|tx| tx.message("m2")).expect("read").is_none());
}

#[test]
fn the_record_is_append_only() {
    let mut store = Store::open_in_memory().expect("open");
    store.write(|tx| tx.append_entry(1, "k", "b")).expect("append");
    let update = store.write(|tx| Ok(tx_exec(tx, "UPDATE entries SET body = 'x'")));
    assert!(matches!(update, Ok(Err(_))));
    let entries = store.read(|tx| tx.entries_after(0, 10)).expect("entries");
    assert_eq!(entries[0].body, "b");
}

fn tx_exec(tx: &Tx<'_>, sql: &str) -> Result<usize, rusqlite::Error> {
    tx.raw().execute(sql, [])
}

#[test]
fn duplicate_message_ids_are_ignored() {
    let mut store = Store::open_in_memory().expect("open");
    let first = store.write(|tx| tx.insert_message(&message("x", Direction::In))).expect("insert");
    let second = store.write(|tx| tx.insert_message(&message("x", Direction::In))).expect("insert");
    assert!(first);
    assert!(!second);
}

#[test]
fn sessions_expire_and_tokens_resolve() {
    let mut store = Store::open_in_memory().expect("open");
    store
        .write(|tx| {
            assert!(tx.add_user("op", Role::Operator, "hash", 0)?);
            assert!(!tx.add_user("op", Role::Auditor, "other", 0)?);
            tx.add_session(&[1; 32], "op", 0, 100)?;
            tx.add_token(&[2; 32], "op", 0)
        })
        .expect("setup");
    let mut at = |now| store.read(|tx| tx.session_user(&[1; 32], now)).expect("read");
    assert_eq!(at(50).map(|u| u.role), Some(Role::Operator));
    assert_eq!(at(100), None);
    assert_eq!(store.read(|tx| tx.token_user(&[2; 32], 0)).expect("read").map(|u| u.name), Some("op".into()));
    assert_eq!(store.read(|tx| tx.token_user(&[3; 32], 0)).expect("read"), None);
}

#[test]
fn listing_pages_by_message_id() {
    let mut store = Store::open_in_memory().expect("open");
    for i in 0..5 {
        accept(&mut store, &format!("m{i}"), Lane::Routine);
    }
    let page = store.read(|tx| tx.list_messages("bravo", Some("m1"), 2)).expect("list");
    assert_eq!(page.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["m2", "m3"]);
    let rest = store.read(|tx| tx.list_messages("bravo", Some("m4"), 2)).expect("list");
    assert!(rest.is_empty());
}

/// What the watch restores at start-up: unacknowledged messages of one precedence only,
/// oldest first, whatever their direction; acknowledged ones and other precedences not.
#[test]
fn unacknowledged_messages_of_one_precedence() {
    let mut store = Store::open_in_memory().expect("open");
    store
        .write(|tx| {
            for (id, precedence, direction) in [
                ("f1", "FLASH", Direction::Out),
                ("r1", "ROUTINE", Direction::Out),
                ("f2", "FLASH", Direction::In),
                ("f3", "FLASH", Direction::Out),
                ("p1", "PRIORITY", Direction::In),
            ] {
                let mut m = message(id, direction);
                m.precedence = precedence.into();
                if direction == Direction::In {
                    // The peer claims an old creation time; we received it at 9.
                    m.delivered_ms = Some(9);
                }
                assert!(tx.insert_message(&m)?);
            }
            assert!(tx.set_acked("f3", "op", 5)?);
            Ok(())
        })
        .expect("write");
    let flash = store.read(|tx| tx.unacknowledged_messages("FLASH")).expect("read");
    let ids: Vec<(&str, Direction)> = flash.iter().map(|(_, id, d, _)| (id.as_str(), *d)).collect();
    assert_eq!(ids, vec![("f1", Direction::Out), ("f2", Direction::In)]);
    let from: Vec<i64> = flash.iter().map(|m| m.3).collect();
    assert_eq!(from, vec![1, 9], "ours from creation, theirs from when we received them");
    let routine = store.read(|tx| tx.unacknowledged_messages("ROUTINE")).expect("read");
    assert_eq!(routine.len(), 1);
    assert!(store.read(|tx| tx.unacknowledged_messages("IMMEDIATE")).expect("read").is_empty());
    // The index, not a scan of every message, answers it.
    let sql = "EXPLAIN QUERY PLAN SELECT peer, id, direction, created_ms FROM messages \
               WHERE acked_ms IS NULL AND precedence = 'FLASH' ORDER BY pos";
    let plan: Vec<String> = store
        .read(|tx| {
            let mut st = tx.raw().prepare(sql)?;
            let rows = st.query_map([], |r| r.get::<_, String>(3))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .expect("plan");
    let plan = plan.join("; ");
    assert!(plan.contains("messages_unacknowledged"), "{plan}");
}

/// Disabling, removing or a new password ends a user's credentials; a revoked or expired
/// token authenticates no one; a removed name can be taken again without its old tokens.
#[test]
fn accounts_end_their_credentials() {
    let mut store = Store::open_in_memory().expect("store");
    store
        .write(|tx| {
            assert!(tx.add_user("duty", Role::Operator, "phc", 1)?);
            tx.add_token_with(&[5; 32], "00000000-0000-4000-8000-000000000005", "duty", Some("laptop"), Some(100), 1)?;
            tx.add_token(&[6; 32], "duty", 1)?;
            tx.add_session(&[7; 32], "duty", 1, 1000)?;
            Ok(())
        })
        .expect("write");
    let read = |store: &mut Store, f: fn(&Tx<'_>) -> Result<bool, StoreError>| store.read(f).expect("read");
    assert!(read(&mut store, |tx| Ok(tx.token_user(&[5; 32], 50)?.is_some())), "valid before expiry");
    assert!(read(&mut store, |tx| Ok(tx.token_user(&[5; 32], 100)?.is_none())), "expired");
    assert_eq!(store.read(|tx| tx.tokens(50)).expect("read").len(), 2);
    let id = store.read(|tx| tx.token_id(&[6; 32])).expect("read").expect("id");
    assert!(id.len() == 36 && id.as_bytes()[14] == b'4', "{id}");
    assert_eq!(store.write(|tx| tx.revoke_token(&id, 60)).expect("revoke"), Some("duty".into()));
    assert!(read(&mut store, |tx| Ok(tx.token_user(&[6; 32], 61)?.is_none())), "revoked");
    assert_eq!(store.write(|tx| tx.revoke_token(&id, 62)).expect("again"), None, "once");
    assert!(store.write(|tx| tx.set_disabled("duty", true, 70)).expect("disable"));
    assert!(read(&mut store, |tx| Ok(tx.user("duty")?.is_none() && tx.session_user(&[7; 32], 71)?.is_none())));
    assert_eq!(store.write(|tx| tx.end_credentials("duty", 72)).expect("end"), (1, 1));
    assert!(store.write(|tx| tx.set_disabled("duty", false, 73)).expect("enable"));
    assert!(read(&mut store, |tx| Ok(tx.user("duty")?.is_some())));
    assert!(read(&mut store, |tx| Ok(tx.token_user(&[5; 32], 50)?.is_none())), "ended tokens stay ended");
    assert!(store.write(|tx| tx.remove_user("duty", 80)).expect("remove"));
    assert_eq!(store.read(|tx| tx.user_row("duty")).expect("read"), UserRow::Removed);
    assert!(store.read(|tx| tx.users()).expect("read").is_empty());
    assert!(store.write(|tx| tx.reinstate_user("duty", Role::Auditor, "phc2", 90)).expect("again"));
    assert_eq!(store.read(|tx| tx.users()).expect("read").first().map(|u| u.role), Some(Role::Auditor));
}

/// A line re-pinned to another key starts afresh: our unreceipted messages renumbered
/// from 1 on their lanes (and no longer `sent`), control items and inbox positions gone,
/// the witness history kept under the retired name; other peers untouched.
#[test]
fn a_restarted_line_carries_its_undelivered_messages_and_drops_the_rest() {
    let mut store = Store::open_in_memory().expect("open");
    for (id, lane) in [("m1", Lane::Routine), ("m2", Lane::Routine), ("m3", Lane::Routine), ("m4", Lane::Flash)] {
        accept(&mut store, id, lane);
    }
    store
        .write(|tx| {
            tx.mark_receipted("bravo", Lane::Routine, 1, 5)?;
            tx.mark_sent("bravo", Lane::Routine, 2, 6)?;
            tx.insert_outbox("bravo", Lane::Control, 1, b"receipt", None, 7)?;
            tx.insert_outbox("charlie", Lane::Control, 1, b"other line", None, 7)?;
            tx.insert_inbox("bravo", Lane::Control, 1, 8)?;
            tx.insert_peer_checkpoint("bravo", 3, "old note", true, 9)?;
            Ok(())
        })
        .expect("state");
    let restart = store.write(|tx| tx.restart_line("bravo", "bravo/retired@9")).expect("restart");
    assert_eq!(restart.messages_carried, vec!["m4".to_owned(), "m2".to_owned(), "m3".to_owned()]);
    assert_eq!(restart.control_items_dropped, 1);
    let r = store.read(|tx| tx.restore_line("bravo")).expect("restore");
    assert_eq!(
        r.outbound,
        vec![(Lane::Flash, 1, b"m4".to_vec()), (Lane::Routine, 1, b"m2".to_vec()), (Lane::Routine, 2, b"m3".to_vec())]
    );
    assert_eq!(r.durable_next[Lane::Control.index()], 1, "the new station's items count from 1");
    assert_eq!(r.pushed_last[Lane::Control.index()], 0);
    let m2 = store.read(|tx| tx.message("m2")).expect("read").expect("m2");
    assert_eq!(m2.state(), "queued", "sent to the old key, not to the new station");
    assert_eq!(store.read(|tx| tx.message("m1")).expect("read").expect("m1").state(), "delivered");
    assert_eq!(store.read(|tx| tx.last_witnessed("bravo")).expect("read"), None);
    assert_eq!(store.read(|tx| tx.last_witnessed("bravo/retired@9")).expect("read").as_deref(), Some("old note"));
    let other = store.read(|tx| tx.restore_line("charlie")).expect("restore");
    assert_eq!(other.outbound, vec![(Lane::Control, 1, b"other line".to_vec())]);
}
