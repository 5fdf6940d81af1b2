//! The JSON views of stored rows that the record, the event stream and the API share.
//! The record embeds them, so they are part of the record's format (docs/record-format.md):
//! change a view and every later entry changes shape.

use hotline_store::{Direction, MessageRow};
use serde_json::json;

/// The JSON shape of a message, shared by the API, the event stream and the record.
pub fn message_json(m: &MessageRow) -> serde_json::Value {
    let t = |ms: Option<i64>| ms.map(crate::rfc3339);
    json!({
        "id": m.id,
        "peer": m.peer,
        "direction": match m.direction { Direction::Out => "out", Direction::In => "in" },
        "state": m.state(),
        "precedence": m.precedence,
        "lang": m.lang,
        "body": m.body,
        "reply_to": m.reply_to,
        "author": m.author,
        "created": crate::rfc3339(m.created_ms),
        "sent": t(m.sent_ms),
        "delivered": t(m.delivered_ms),
        "acknowledged": t(m.acked_ms),
        "acknowledged_by": m.acked_by,
    })
}
