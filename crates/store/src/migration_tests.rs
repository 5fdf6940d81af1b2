//! Migrations tested from databases made by earlier schemas: a restored backup, or a
//! station upgraded in place, opens a database an older release wrote. For every earlier
//! version k the test applies only the first k migrations by hand, inserts rows as that
//! version had them (users, tokens, sessions, entries, outbox, inbox, messages), and then
//! lets `Store::open` bring it up to date; everything must read back, and a database from
//! a newer release must be refused with both versions named.
//!
//! The migrations are read from `schema.rs`'s own text (its list is private to that
//! module), so the test applies exactly the SQL the store ships.

use hotline_proto::Lane;
use rusqlite::{Connection, params};

use crate::{Store, StoreError};

/// The store's schema source: the migrations are its raw strings inside `MIGRATIONS`.
const SCHEMA_SOURCE: &str = include_str!("schema.rs");

/// The SQL of every migration, in order, as `schema.rs` lists it.
fn migrations() -> Vec<&'static str> {
    let start = SCHEMA_SOURCE.find("const MIGRATIONS: &[&str] = &[").expect("MIGRATIONS in schema.rs");
    let list = &SCHEMA_SOURCE[start..];
    let end = list.find("\n];").expect("end of MIGRATIONS");
    let mut rest = &list[..end];
    let mut found = Vec::new();
    while let Some(open) = rest.find("r#\"") {
        let body = &rest[open + 3..];
        let close = body.find("\"#").expect("a closed raw string");
        found.push(&body[..close]);
        rest = &body[close + 2..];
    }
    found
}

/// The newest version this build knows, as a fresh database reaches it.
fn newest_version() -> i64 {
    let store = Store::open_in_memory().expect("open");
    store.conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("user_version")
}

fn user_version(path: &std::path::Path) -> i64 {
    let conn = Connection::open(path).expect("open");
    conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("user_version")
}

/// Whether `table` has `column` at the schema version being built.
fn has_column(conn: &Connection, table: &str, column: &str) -> bool {
    let mut st = conn.prepare(&format!("PRAGMA table_info({table})")).expect("table_info");
    let names: Vec<String> = st.query_map([], |r| r.get(1)).expect("columns").collect::<Result<_, _>>().expect("names");
    names.iter().any(|n| n == column)
}

/// A database at schema version `k`, with rows in the columns that version had.
fn database_at(path: &std::path::Path, k: usize) {
    let mut conn = Connection::open(path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    let all = migrations();
    let tx = conn.transaction().expect("tx");
    for sql in &all[..k] {
        tx.execute_batch(sql).expect("an old migration applies");
    }
    tx.pragma_update(None, "user_version", k as i64).expect("user_version");
    for (name, role) in [("duty", "operator"), ("chief", "supervisor"), ("audit", "auditor")] {
        tx.execute(
            "INSERT INTO users (name, role, password_hash, created_ms) VALUES (?1, ?2, ?3, 10)",
            params![name, role, format!("$argon2id$hash-of-{name}")],
        )
        .expect("user");
    }
    // Tokens got an id (and a label, expiry, revocation) in migration 9.
    if has_column(&tx, "tokens", "id") {
        tx.execute(
            "INSERT INTO tokens (hash, user, created_ms, id) VALUES (?1, 'duty', 11, ?2)",
            params![&[7u8; 32][..], "0193a1b2-0000-4000-8000-000000000001"],
        )
        .expect("token");
    } else {
        tx.execute("INSERT INTO tokens (hash, user, created_ms) VALUES (?1, 'duty', 11)", params![&[7u8; 32][..]])
            .expect("token");
    }
    tx.execute(
        "INSERT INTO sessions (hash, user, created_ms, expires_ms) VALUES (?1, 'chief', 12, ?2)",
        params![&[8u8; 32][..], i64::MAX],
    )
    .expect("session");
    for idx in 1..=5i64 {
        tx.execute(
            "INSERT INTO entries (idx, at_ms, kind, body) VALUES (?1, ?2, 'test.entry', ?3)",
            params![idx, 100 + idx, format!("{{\"n\":{idx}}}")],
        )
        .expect("entry");
    }
    // Two messages out on ROUTINE (the first receipted), one in on FLASH.
    for (seq, id, receipted) in [(1i64, "m-out-1", Some(20i64)), (2, "m-out-2", None)] {
        tx.execute(
            "INSERT INTO outbox (peer, lane, seq, payload, message_id, created_ms, receipted_ms) \
             VALUES ('bravo', ?1, ?2, ?3, ?4, 13, ?5)",
            params![Lane::Routine as u8, seq, id.as_bytes(), id, receipted],
        )
        .expect("outbox");
    }
    tx.execute(
        "INSERT INTO inbox (peer, lane, seq, received_ms) VALUES ('bravo', ?1, 1, 14)",
        params![Lane::Flash as u8],
    )
    .expect("inbox");
    for (pos, id, direction, precedence, delivered) in [
        (1i64, "m-out-1", "out", "ROUTINE", Some(20i64)),
        (2, "m-out-2", "out", "ROUTINE", None),
        (3, "m-in-1", "in", "FLASH", Some(14)),
    ] {
        tx.execute(
            "INSERT INTO messages (pos, id, peer, direction, precedence, lang, body, reply_to, author, created_ms, \
             sent_ms, delivered_ms, acked_ms, acked_by) \
             VALUES (?1, ?2, 'bravo', ?3, ?4, 'en', ?5, NULL, 'duty', 13, 13, ?6, NULL, NULL)",
            params![pos, id, direction, precedence, format!("body of {id}"), delivered],
        )
        .expect("message");
    }
    tx.commit().expect("commit");
}

/// Everything `database_at` wrote, read through the store's own functions.
fn check_reads_back(store: &mut Store, k: usize) {
    let duty = store.read(|tx| tx.user("duty")).expect("user").expect("duty is there");
    assert_eq!((duty.role.as_str(), duty.password_hash.as_str()), ("operator", "$argon2id$hash-of-duty"), "v{k}");
    let users = store.read(|tx| tx.users()).expect("users");
    assert_eq!(users.len(), 3, "v{k}");
    let token = store.read(|tx| tx.token_user(&[7; 32], 1_000)).expect("token").expect("the old token still works");
    assert_eq!(token.name, "duty", "v{k}");
    let tokens = store.read(|tx| tx.tokens(1_000)).expect("tokens");
    assert_eq!(tokens.len(), 1, "v{k}");
    // An old token gets a version 4 UUID as its id (migration 9).
    let id = &tokens[0].id;
    assert!(id.len() == 36 && id.as_bytes()[14] == b'4' && b"89ab".contains(&id.as_bytes()[19]), "v{k}: {id}");
    let session = store.read(|tx| tx.session_user(&[8; 32], 1_000)).expect("session").expect("session");
    assert_eq!(session.name, "chief", "v{k}");

    let entries = store.read(|tx| tx.entries_after(0, 100)).expect("entries");
    let read: Vec<(i64, String)> = entries.into_iter().map(|e| (e.idx, e.body)).collect();
    let want: Vec<(i64, String)> = (1..=5).map(|i| (i, format!("{{\"n\":{i}}}"))).collect();
    assert_eq!(read, want, "v{k}");

    let restored = store.read(|tx| tx.restore_line("bravo")).expect("restore_line");
    assert_eq!(restored.receipted[Lane::Routine.index()], 1, "v{k}");
    assert_eq!(restored.pushed_last[Lane::Routine.index()], 2, "v{k}");
    assert_eq!(restored.outbound, vec![(Lane::Routine, 2, b"m-out-2".to_vec())], "v{k}");
    assert_eq!(restored.durable_next[Lane::Flash.index()], 2, "v{k}");
    let delivered = store.read(|tx| tx.message("m-out-1")).expect("message").expect("m-out-1");
    assert_eq!(delivered.state(), "delivered", "v{k}");
    let queued = store.read(|tx| tx.message("m-out-2")).expect("message").expect("m-out-2");
    assert_eq!(queued.state(), "sent", "v{k}");
    let incoming = store.read(|tx| tx.message("m-in-1")).expect("message").expect("m-in-1");
    assert_eq!((incoming.body.as_str(), incoming.precedence.as_str()), ("body of m-in-1", "FLASH"), "v{k}");

    // And the migrated database takes new writes as a fresh one does.
    store.write(|tx| tx.append_entry(200, "test.entry", "after the upgrade")).expect("append");
    assert_eq!(store.read(|tx| tx.last_entry_idx()).expect("last"), 6, "v{k}");
}

#[test]
fn the_migrations_read_from_schema_rs_are_the_ones_the_store_applies() {
    assert_eq!(migrations().len() as i64, newest_version());
}

/// Version N−1 is the previous release's schema; every older one is checked too, since a
/// backup from any release may be restored.
#[test]
fn a_database_from_every_earlier_schema_opens_and_reads_back() {
    let newest = newest_version();
    assert!(newest >= 2, "there is an earlier schema to test from");
    for k in 1..newest as usize {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("station.db");
        database_at(&path, k);
        assert_eq!(user_version(&path), k as i64);
        let mut store = Store::open(&path).unwrap_or_else(|e| panic!("a version {k} database opens: {e}"));
        check_reads_back(&mut store, k);
        drop(store);
        assert_eq!(user_version(&path), newest, "version {k} was brought to the newest");
        // A second open finds nothing to do and reads the same.
        let mut again = Store::open(&path).expect("reopen");
        assert_eq!(again.read(|tx| tx.entry_count()).expect("count"), 6);
    }
}

#[test]
fn a_database_from_a_newer_release_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("station.db");
    let newest = newest_version();
    database_at(&path, newest as usize);
    let conn = Connection::open(&path).expect("open");
    conn.pragma_update(None, "user_version", newest + 1).expect("user_version");
    drop(conn);
    let error = Store::open(&path).err().expect("a newer schema is refused");
    assert!(matches!(error, StoreError::NewerSchema { found, known } if found == newest + 1 && known == newest));
    let text = error.to_string();
    assert!(text.contains(&(newest + 1).to_string()) && text.contains(&newest.to_string()), "{text}");
    assert_eq!(user_version(&path), newest + 1, "a refused database is left as it was");
}
