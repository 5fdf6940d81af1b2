//! HTTP API tests through `Router::oneshot`: no sockets for the API itself.

mod api;
mod hardening;
mod roles;
