//! The one integration-test binary of `hotline-tls`: handshakes between two stations,
//! driven in memory by moving bytes between a `rustls` client and server (no sockets).

mod handshake;
