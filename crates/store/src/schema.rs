//! The database schema and its migrations.
//!
//! The schema version lives in SQLite's `user_version`; each migration is applied in its
//! own transaction, so an interrupted upgrade leaves the previous version intact. A
//! database from a newer build is refused rather than misread.

use rusqlite::Connection;

use crate::StoreError;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('operator', 'supervisor', 'auditor')),
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);
-- API tokens and console sessions are stored only as SHA-256 hashes.
CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users(name),
    created_ms INTEGER NOT NULL
);
CREATE TABLE sessions (
    hash       BLOB PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users(name),
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
-- The record: every event, in order, never updated or deleted.
CREATE TABLE entries (
    idx   INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    kind  TEXT NOT NULL,
    body  TEXT NOT NULL
);
CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'the record is append-only'); END;
CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'the record is append-only'); END;
-- Items accepted for sending, per peer and lane, with the exact bytes sent.
CREATE TABLE outbox (
    peer         TEXT NOT NULL,
    lane         INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    payload      BLOB NOT NULL,
    message_id   TEXT,
    created_ms   INTEGER NOT NULL,
    receipted_ms INTEGER,
    PRIMARY KEY (peer, lane, seq)
);
-- Positions of items received and written, per peer and lane.
CREATE TABLE inbox (
    peer        TEXT NOT NULL,
    lane        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (peer, lane, seq)
);
-- Messages in both directions: the view the API and console read.
CREATE TABLE messages (
    pos          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    peer         TEXT NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    precedence   TEXT NOT NULL,
    lang         TEXT NOT NULL,
    body         TEXT NOT NULL,
    reply_to     TEXT,
    author       TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    sent_ms      INTEGER,
    delivered_ms INTEGER,
    acked_ms     INTEGER,
    acked_by     TEXT
);
CREATE INDEX messages_by_peer ON messages (peer, pos);
"#,
    r#"
-- Our signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE checkpoints (
    size       INTEGER PRIMARY KEY,
    note       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
-- Peers' cosignature lines on our checkpoints.
CREATE TABLE cosignatures (
    size        INTEGER NOT NULL,
    peer        TEXT NOT NULL,
    line        TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (size, peer)
);
-- As a witness: every checkpoint a peer sent us, and whether we cosigned it.
CREATE TABLE peer_checkpoints (
    peer        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    note        TEXT NOT NULL,
    cosigned    INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (peer, size, note)
);
"#,
    r#"
-- Notices on a line, every version kept (an amendment is a new version).
CREATE TABLE notices (
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    peer       TEXT NOT NULL,
    side       TEXT NOT NULL CHECK (side IN ('ours', 'theirs')),
    state      TEXT NOT NULL,
    body       TEXT NOT NULL,
    end_ms     INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    acked_by   TEXT,
    acked_ms   INTEGER,
    PRIMARY KEY (id, version)
);
-- Conflicts between two notices of a line; the id is derived from the two notice ids,
-- so both stations name a conflict alike.
CREATE TABLE conflicts (
    id          TEXT PRIMARY KEY,
    peer        TEXT NOT NULL,
    a           TEXT NOT NULL,
    b           TEXT NOT NULL,
    detail      TEXT NOT NULL,
    raised_ms   INTEGER NOT NULL,
    acked_by    TEXT,
    acked_ms    INTEGER,
    resolved_ms INTEGER
);
"#,
    r#"
-- Alarms: raised, acknowledged, cleared. One open alarm per key (one condition, one
-- alarm); the record holds every transition as an entry.
CREATE TABLE alarms (
    id         TEXT PRIMARY KEY,
    key        TEXT NOT NULL,
    cause      TEXT NOT NULL,
    severity   TEXT NOT NULL,
    peer       TEXT,
    detail     TEXT NOT NULL,
    text       TEXT NOT NULL,
    raised_ms  INTEGER NOT NULL,
    acked_by   TEXT,
    acked_ms   INTEGER,
    cleared_by TEXT,
    cleared_ms INTEGER,
    steps_done INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX alarms_open_key ON alarms (key) WHERE cleared_ms IS NULL;
-- Watch checks both ways: ours to the peer ('out') and the peer's to us ('in').
CREATE TABLE watch_checks (
    id          TEXT PRIMARY KEY,
    peer        TEXT NOT NULL,
    direction   TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    sent_ms     INTEGER NOT NULL,
    deadline_ms INTEGER NOT NULL,
    answered_ms INTEGER,
    answered_by TEXT,
    missed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX watch_checks_by_peer ON watch_checks (peer, sent_ms);
-- What each peer last said about its operators on watch.
CREATE TABLE peer_presence (
    peer     TEXT PRIMARY KEY,
    on_watch INTEGER NOT NULL,
    since_ms INTEGER NOT NULL
);
"#,
    r#"
-- Notices whose window (plus the line's time buffer) has passed: the station marks them
-- expired itself, so both stations do so from the same end time without an item.
CREATE TABLE notice_expiries (
    id         TEXT PRIMARY KEY,
    expired_ms INTEGER NOT NULL
);
"#,
    r#"
-- A receipt marks the unreceipted items up to a sequence number: without this index that
-- walked the lane's whole history per receipt (a catch-up was quadratic; the benchmark
-- found 87 % of a sender's CPU there after 100,000 messages).
CREATE INDEX outbox_unreceipted ON outbox (peer, lane, seq) WHERE receipted_ms IS NULL;
"#,
    r#"
-- At start-up the watch restores the deadlines of unacknowledged messages of the
-- precedences that have one: without this index that read every message ever sent (with
-- 500,000 unacknowledged ROUTINE messages, a third of a second of every start-up).
CREATE INDEX messages_unacknowledged ON messages (precedence, pos) WHERE acked_ms IS NULL;
"#,
    r#"
-- A changed notice resolves its own open conflicts: without these indexes that read every
-- conflict ever raised, under the store's lock, on every notice a peer sends.
CREATE INDEX conflicts_open_by_a ON conflicts (peer, a) WHERE resolved_ms IS NULL;
CREATE INDEX conflicts_open_by_b ON conflicts (peer, b) WHERE resolved_ms IS NULL;
"#,
    r#"
-- Administration while serving: users can be disabled and removed (the row stays: the
-- name is in the record), tokens get a public id, a label, an expiry and a revocation.
ALTER TABLE users ADD COLUMN disabled_ms INTEGER;
ALTER TABLE users ADD COLUMN removed_ms INTEGER;
ALTER TABLE users ADD COLUMN last_login_ms INTEGER;
ALTER TABLE tokens ADD COLUMN id TEXT;
ALTER TABLE tokens ADD COLUMN label TEXT;
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_ms INTEGER;
-- Tokens made before this version get a random (version 4) UUID as their id.
UPDATE tokens SET id = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
    || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1)
    || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))
    WHERE id IS NULL;
CREATE UNIQUE INDEX tokens_by_id ON tokens (id);
"#,
    r#"
-- Voice calls: each call's latest state (the `hotline-call` crate's `Call`, as JSON), a
-- view of its `call.*` entries written in the same transaction, read back at start-up.
CREATE TABLE calls (
    id         TEXT PRIMARY KEY,
    peer       TEXT NOT NULL,
    live       INTEGER NOT NULL,
    call       TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX calls_by_peer ON calls (peer, started_ms);
"#,
    r#"
-- Call recordings: this station's sealed recording of a call as its `call.recorded` entry
-- states it (written in the same transaction), so the API shows it without a scan.
CREATE TABLE call_recordings (
    call        TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    cut_off     INTEGER NOT NULL,
    recorded_ms INTEGER NOT NULL
);
"#,
    r#"
-- Retention of call recordings: how long this station said it keeps each one (its
-- `call_recorded` item tells the peer), when the file was deleted (the row and its hashes
-- stay), and how long the peer said it keeps its own: never less is kept here.
ALTER TABLE call_recordings ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE call_recordings ADD COLUMN deleted_ms INTEGER;
ALTER TABLE call_recordings ADD COLUMN deleted_why TEXT;
CREATE TABLE peer_recording_retention (
    call TEXT PRIMARY KEY,
    days INTEGER NOT NULL
);
"#,
    r#"
-- A call's recording stopped before the call ended, here or (as the peer said) at the peer:
-- the first stop of each side, so a console that (re)loads the call still shows it.
CREATE TABLE call_recording_stops (
    call       TEXT NOT NULL,
    side       TEXT NOT NULL CHECK (side IN ('here', 'peer')),
    stopped_ms INTEGER NOT NULL,
    why        TEXT NOT NULL,
    PRIMARY KEY (call, side)
);
"#,
];

/// Brings the schema to the newest version this build knows.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
