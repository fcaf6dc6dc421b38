//! The HTTP/1 listener: connections admitted within the connection limits, hyper's connection
//! builder with the request-head limits and the header timeout set from the configuration, each
//! connection wrapped so that hyper's own parse-error answers carry the API's JSON error body,
//! and a graceful shutdown.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::connections::{self, Admission};
use super::limits::ErrorBodies;
use crate::ServerConfig;

/// Room hyper leaves above the configured limits, so that a request just over one reaches
/// the middleware that answers it precisely.
const HEAD_SLACK_BYTES: usize = 4096;

/// hyper's connection settings for the configured limits.
fn builder(limits: &ServerConfig) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        // The timer makes the header read timeout take effect. hyper counts it from when it
        // starts waiting for a request head, so it also closes idle keep-alive connections.
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout_secs))
        .max_headers(limits.max_headers + 1)
        // hyper's minimum buffer is 8 KiB.
        .max_buf_size(
            (limits.max_uri_bytes + limits.max_header_bytes + HEAD_SLACK_BYTES).max(8192),
        );
    builder
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open connections to
/// finish their requests.
pub(crate) async fn serve(
    app: Router,
    limits: &ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = builder(limits);
    let admission = Admission::new(limits);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match stream {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let permit = match admission.admit(peer.ip()) {
            Ok(permit) => permit,
            Err(refusal) => {
                debug!(peer = %peer, ?refusal, "connection refused: over the connection limits");
                tokio::spawn(connections::refuse(stream, refusal));
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            debug!(error = %e, "could not set TCP_NODELAY");
        }
        let io = TokioIo::new(ErrorBodies::new(stream));
        let connection = builder.serve_connection(io, TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
