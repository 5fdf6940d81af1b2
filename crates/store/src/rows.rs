//! The rows the store hands out and the closed sets it stores as text: what a
//! transaction reads back, typed, so no caller parses a column string. Kept apart from
//! [`crate::Tx`] (the operations) because every floor above reads these and only the
//! station's writer composes operations.

/// An operator's role on this station.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends and acknowledges.
    Operator,
    /// Also manages users, lines and alarms.
    Supervisor,
    /// Reads and verifies only.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "operator" => Some(Role::Operator),
            "supervisor" => Some(Role::Supervisor),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// One record entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub idx: i64,
    pub at_ms: i64,
    pub kind: String,
    pub body: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "out" => Some(Direction::Out),
            "in" => Some(Direction::In),
            _ => None,
        }
    }
}

impl rusqlite::types::ToSql for Direction {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

/// A stored direction other than `out` or `in` is a damaged row, refused as such.
impl rusqlite::types::FromSql for Direction {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Direction::parse(text).ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("direction {text:?}").into()))
    }
}

/// A message as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    pub id: String,
    pub peer: String,
    pub direction: Direction,
    pub precedence: String,
    pub lang: String,
    pub body: String,
    pub reply_to: Option<String>,
    pub author: String,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
    pub delivered_ms: Option<i64>,
    pub acked_ms: Option<i64>,
    pub acked_by: Option<String>,
}

impl MessageRow {
    /// queued → sent → delivered → acknowledged. A received message is `delivered` (it is
    /// on this station's disk) until an operator here acknowledges it.
    pub fn state(&self) -> &'static str {
        if self.acked_ms.is_some() {
            "acknowledged"
        } else if self.delivered_ms.is_some() {
            "delivered"
        } else if self.sent_ms.is_some() {
            "sent"
        } else {
            "queued"
        }
    }
}

pub(crate) const MESSAGE_COLUMNS: &str = "id, peer, direction, precedence, lang, body, reply_to, author, created_ms, \
     sent_ms, delivered_ms, acked_ms, acked_by";

pub(crate) fn message_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    let direction: String = r.get(2)?;
    Ok(MessageRow {
        id: r.get(0)?,
        peer: r.get(1)?,
        direction: if direction == "in" { Direction::In } else { Direction::Out },
        precedence: r.get(3)?,
        lang: r.get(4)?,
        body: r.get(5)?,
        reply_to: r.get(6)?,
        author: r.get(7)?,
        created_ms: r.get(8)?,
        sent_ms: r.get(9)?,
        delivered_ms: r.get(10)?,
        acked_ms: r.get(11)?,
        acked_by: r.get(12)?,
    })
}

/// One version of a notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: String,
    pub version: u64,
    pub peer: String,
    /// `ours` (filed here) or `theirs` (filed by the peer).
    pub side: String,
    /// `filed`, `amended` or `cancelled`.
    pub state: String,
    /// The notice JSON as filed.
    pub body: String,
    pub end_ms: i64,
    pub created_ms: i64,
    /// An operator at the receiving station acknowledged this version.
    pub acked_by: Option<String>,
    pub acked_ms: Option<i64>,
}

pub(crate) fn notice_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NoticeRow> {
    Ok(NoticeRow {
        id: r.get(0)?,
        version: r.get::<_, i64>(1)? as u64,
        peer: r.get(2)?,
        side: r.get(3)?,
        state: r.get(4)?,
        body: r.get(5)?,
        end_ms: r.get(6)?,
        created_ms: r.get(7)?,
        acked_by: r.get(8)?,
        acked_ms: r.get(9)?,
    })
}

/// A conflict between notices `a` and `b` (ids in ascending order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictRow {
    pub id: String,
    pub peer: String,
    pub a: String,
    pub b: String,
    /// JSON with the measured separations.
    pub detail: String,
    pub raised_ms: i64,
    pub acked_by: Option<String>,
    pub acked_ms: Option<i64>,
    pub resolved_ms: Option<i64>,
}

pub(crate) fn conflict_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConflictRow> {
    Ok(ConflictRow {
        id: r.get(0)?,
        peer: r.get(1)?,
        a: r.get(2)?,
        b: r.get(3)?,
        detail: r.get(4)?,
        raised_ms: r.get(5)?,
        acked_by: r.get(6)?,
        acked_ms: r.get(7)?,
        resolved_ms: r.get(8)?,
    })
}
