//! What a line operation can answer instead of a result: the line layer's own errors.
//!
//! The line does not speak HTTP. Each variant says what went wrong in the line's terms
//! (the request, the item's state, the line, the store); `hotline-http` alone turns them
//! into status codes and stable API codes. Store failures other than a full disk are
//! ours, not the caller's: they keep their detail for the log and the API says only
//! "internal error".

use hotline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The request is malformed; `code` is its stable name (`bad_request`, `bad_reply_to`).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// A body or a field is over its bound.
    #[error("{0}")]
    TooLarge(String),
    /// No such message, notice, watch check or call on this line.
    #[error("{0}")]
    NotFound(String),
    /// Not allowed from this end or in the item's current state.
    #[error("{0}")]
    Conflict(String),
    /// A call is already ringing or connected on the line.
    #[error("{0}")]
    CallInProgress(String),
    /// The line is down, so what needs the peer now cannot be done.
    #[error("{0}")]
    LineDown(String),
    /// Nothing was stored because the disk is full.
    #[error("the station's disk is full: nothing was stored; free space and try again")]
    DiskFull,
    /// The line task is gone: the station is shutting down.
    #[error("the station is shutting down")]
    ShuttingDown,
    /// Our own failure; the detail is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl LineError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> LineError {
        LineError::Invalid { code, message: message.into() }
    }

    /// The answer for each sender whose batch a store failure failed (the error itself
    /// belongs to the task, which retries).
    pub(crate) fn of_store(e: &StoreError) -> LineError {
        match e {
            StoreError::DiskFull => LineError::DiskFull,
            other => LineError::Internal(format!("store: {other}")),
        }
    }
}

impl From<StoreError> for LineError {
    fn from(e: StoreError) -> Self {
        LineError::of_store(&e)
    }
}
