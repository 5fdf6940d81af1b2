//! Items: what travels on a line's lanes, as the peer station will read it.
//!
//! The protocol carries opaque payloads; a station encodes each item as one JSON object
//! with a `type`. JSON keeps an exported record readable by an auditor without our code.
//! A payload that does not decode is still stored and receipted (nothing the peer said is
//! dropped), and recorded as unreadable.

use hotline_proto::Lane;
use serde::{Deserialize, Serialize};

/// Precedence of a message, highest last in this list: ROUTINE, PRIORITY, IMMEDIATE, FLASH.
pub const PRECEDENCES: [&str; 4] = ["ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH"];

/// The lane that carries messages of `precedence` (already normalised).
pub fn lane_for(precedence: &str) -> Lane {
    match precedence {
        "FLASH" => Lane::Flash,
        "IMMEDIATE" => Lane::Immediate,
        "PRIORITY" => Lane::Priority,
        _ => Lane::Routine,
    }
}

/// Largest message body, in bytes of UTF-8.
#[allow(non_upper_case_globals)]
pub const message_body_bytes_max: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Item {
    /// A message from an operator at the sending station.
    Message {
        id: String,
        precedence: String,
        lang: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
        author: String,
        created_ms: i64,
    },
    /// An operator at the sending station acknowledged message `id` (which we sent).
    Ack { id: String, by: String, at_ms: i64 },
}

impl Item {
    pub fn encode(&self) -> Vec<u8> {
        // Serialising a plain struct of strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(payload: &[u8]) -> Result<Item, String> {
        let item: Item = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
        if let Item::Message { body, .. } = &item
            && body.len() > message_body_bytes_max
        {
            return Err(format!("message body of {} bytes is over the limit", body.len()));
        }
        Ok(item)
    }
}
