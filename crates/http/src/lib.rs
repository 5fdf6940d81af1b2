//! The HTTP API under `/api/v1`, plus `/healthz`, `/metrics`, the OpenAPI document and
//! the console's files: one file per resource, the shared state in `state`, the route
//! table in `router`; the one error type is the crate's `error`.
//!
//! Handlers validate input completely before anything is stored, so a rejected request
//! changes nothing. One middleware (`guard::enforce`) applies the route table (`roles`)
//! to every request: a bearer token or the console's session cookie, else `401`; a role
//! below the route's, `403`; a body over the route's limit, `413`; and a
//! cookie-authenticated write from another origin, `403`. Another
//! (`guard::security_headers`) puts the security headers on every answer. Domain errors
//! become `ApiError` here and only here.

mod accounts;
mod answers;
mod call_media;
mod calls;
mod error;
mod events;
mod guard;
mod json;
mod lines;
pub mod listener;
mod login;
mod login_limit;
mod messages;
mod metrics;
mod notices;
mod process;
mod record;
mod recordings;
mod responsiveness;
pub mod roles;
mod router;
mod state;
mod station;
mod watch;

pub use crate::error::{ApiError, ErrorBody};
pub use router::router;
pub use state::{AppState, Credential, Operator};
