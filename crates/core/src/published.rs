//! A committed record entry as the store's subscribers see it (the console's event
//! streams, call media, the metrics). Its own room so that what listens to the record
//! (`metrics`) need not import `core`, which owns the metrics: no import circle.

/// A record entry as published to subscribers.
#[derive(Clone, Debug)]
pub struct Published {
    pub idx: i64,
    pub kind: String,
    /// The entry's JSON text.
    pub body: String,
}
