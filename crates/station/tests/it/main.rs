//! HTTP API tests through `Router::oneshot`: no sockets for the API itself.

mod accounts;
mod admin;
mod answers;
mod api;
mod backup;
mod call_media;
mod calls;
mod expiry;
mod file_modes;
mod fixture;
mod hardening;
mod hostile;
mod line_flood;
mod lines;
mod listener;
mod metrics;
mod recording_retention;
mod recordings;
mod roles;
