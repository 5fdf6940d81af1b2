//! The console and API's listener: hyper serving the router with the bounds that axum's
//! own `serve` leaves out, over plain TCP or HTTPS.
//!
//! Anyone who can reach the port can open connections and then send nothing, half a
//! header, or a body one byte at a time; each such connection holds a socket, a task and
//! buffers. So every connection is bounded: at most `connections_max` at once (one over
//! it is closed as soon as it is accepted, before a byte is read), a header (and, between
//! requests, the next one) within `header_read_timeout` — a TLS handshake gets the same
//! time — and a body within `body_read_timeout` of its header (`guard::enforce` reads every
//! body, and stops at [`BodyReadDeadline`]). A response takes as long as it takes: the
//! event stream (`GET /api/v1/events`) lasts as long as its credential does.
//!
//! Only HTTP/1.1 is spoken: the header-read timeout is an HTTP/1 setting, and no browser
//! speaks HTTP/2 without TLS; over TLS, ALPN offers `http/1.1` alone for the same reason.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use hotline_core::config::HttpConfig;

/// Time a client has to send a request's whole header, and the longest a kept-alive
/// connection may sit idle before its next request; also a TLS handshake's time.
#[allow(non_upper_case_globals)]
pub const http_header_read_timeout_ms: u64 = 10_000;
/// Time a client has to send a request's whole body once its header has arrived; the
/// largest body (a notice, 2 MiB) needs about 0.6 Mbit/s to make it.
#[allow(non_upper_case_globals)]
pub const http_body_read_timeout_ms: u64 = 30_000;
/// Connections served at once. Each console holds one or two (its event stream and its
/// requests), so this is room for hundreds of consoles and scripts.
#[allow(non_upper_case_globals)]
pub const http_connections_max: usize = 512;
/// How long a stop lets requests under way finish before their connections are closed
/// (event streams never finish by themselves).
#[allow(non_upper_case_globals)]
pub const http_shutdown_drain_ms: u64 = 2000;
/// Least time between two log lines about connections refused over the cap, so a flood
/// of connections does not become a flood of log lines.
#[allow(non_upper_case_globals)]
const refusal_log_interval_ms: u64 = 10_000;
/// Largest certificate or key file read for HTTPS.
#[allow(non_upper_case_globals)]
const tls_file_bytes_max: u64 = 1024 * 1024;

/// The listener's bounds, from `[http]` over the named defaults.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub connections_max: usize,
}

impl HttpLimits {
    pub fn from_config(http: &HttpConfig) -> HttpLimits {
        HttpLimits {
            header_read_timeout: Duration::from_millis(
                http.header_read_timeout_ms.unwrap_or(http_header_read_timeout_ms),
            ),
            body_read_timeout: Duration::from_millis(http.body_read_timeout_ms.unwrap_or(http_body_read_timeout_ms)),
            connections_max: http.connections_max.unwrap_or(http_connections_max),
        }
    }
}

/// When a request's body must have arrived in full. The listener puts it on every
/// request; `guard::enforce`, which reads every body, stops reading there.
#[derive(Clone, Copy, Debug)]
pub struct BodyReadDeadline(pub tokio::time::Instant);

/// Why HTTPS could not be set up; names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TlsFileError {
    pub path: String,
    pub message: String,
}

/// The HTTPS acceptor for a PEM certificate chain and its private key (TLS 1.2 and 1.3,
/// ring, ALPN `http/1.1`).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsFileError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let error = |path: &Path, message: String| TlsFileError { path: path.display().to_string(), message };
    let cert_pem = read_small(cert).map_err(|e| error(cert, format!("cannot read the HTTPS certificate: {e}")))?;
    let key_pem = read_small(key).map_err(|e| error(key, format!("cannot read the HTTPS key: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(cert, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(error(cert, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }
    let private =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| error(key, format!("not a PEM private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| error(cert, format!("TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| error(key, format!("the key does not go with the certificate, or is unusable: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read_small(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(tls_file_bytes_max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Serves `app` on `listener` until `stop` turns true; then stops accepting, lets requests
/// under way finish for up to `http_shutdown_drain_ms`, and closes what is left.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: HttpLimits,
    mut stop: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.connections_max));
    let mut connections = JoinSet::new();
    let mut refused: u64 = 0;
    let mut last_refusal_log: Option<tokio::time::Instant> = None;
    let mut stopping = std::pin::pin!(async move {
        let _ = stop.wait_for(|stop| *stop).await;
    });
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "HTTP listener accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut stopping => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed before a byte is read: a flood costs us an accept and a close.
            drop(tcp);
            refused += 1;
            let now = tokio::time::Instant::now();
            if last_refusal_log.is_none_or(|t| now - t >= Duration::from_millis(refusal_log_interval_ms)) {
                tracing::warn!(%remote, refused, connections_max = limits.connections_max,
                    "HTTP connection refused: the station serves as many connections as it may");
                last_refusal_log = Some(now);
            }
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (app, builder, watcher, tls) = (app.clone(), builder.clone(), graceful.watcher(), tls.clone());
        connections.spawn(async move {
            let _slot = slot;
            let service = request_service(app, remote, limits.body_read_timeout);
            let Some(tls) = tls else {
                let _ = watcher.watch(builder.serve_connection(TokioIo::new(tcp), service).into_owned()).await;
                return;
            };
            match tokio::time::timeout(limits.header_read_timeout, tls.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = watcher.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned()).await;
                }
                Ok(Err(e)) => tracing::debug!(%remote, error = %e, "HTTPS handshake failed"),
                Err(_) => tracing::debug!(%remote, "HTTPS handshake timed out"),
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_millis(http_shutdown_drain_ms), graceful.shutdown()).await.is_err() {
        tracing::info!(open = connections.len(), "closing HTTP connections still open at stop (event streams)");
    }
    connections.shutdown().await;
}

/// The router as a hyper service for one connection: each request carries the client's
/// address (`ConnectInfo`, read by the guard's `ClientAddress`) and its body's deadline.
fn request_service(
    app: Router,
    remote: SocketAddr,
    body_read_timeout: Duration,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    use tower::ServiceExt as _;
    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        req.extensions_mut().insert(BodyReadDeadline(tokio::time::Instant::now() + body_read_timeout));
        app.clone().oneshot(req)
    })
}
