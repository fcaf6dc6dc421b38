//! The HTTP/1 listener: hyper's connection builder with request-head limits set from the
//! configuration, each connection wrapped so that hyper's own parse-error answers carry the
//! API's JSON error body, and a graceful shutdown.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::limits::ErrorBodies;
use crate::ServerConfig;

/// Room hyper leaves above the configured limits, so that a request just over one reaches
/// the middleware that answers it precisely.
const HEAD_SLACK_BYTES: usize = 4096;

/// hyper's connection settings for the configured limits.
fn builder(limits: &ServerConfig) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        // The timer makes hyper's header read timeout (30 s by default) take effect.
        .timer(TokioTimer::new())
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
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match stream {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
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
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
