//! mnemo's server: the [`Engine`] that wires storage, building and retrieval together, the REST
//! API over it, the LoCoMo importer and the `mnemo` command line.
//!
//! The engine is a library so that the CLI, the evaluation harness and the tests run exactly
//! the wiring that `mnemo serve` runs.

pub mod archive;
mod config;
pub mod engine;
mod error;
mod http;
pub mod import;
pub mod llm;
pub mod maintenance;
pub mod mcp;

pub use config::{
    AuthConfig, AuthMode, Config, ConfigError, ServerConfig, StorageConfig, WorkerConfig,
};
pub use engine::Engine;
pub use error::{Error, Result};
pub use http::codes::Code as ErrorCode;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

/// The HTTP application over an engine.
pub fn app(engine: Engine) -> Router {
    http::router(engine)
}

/// The OpenAPI 3.1 document of the REST API, exactly as `GET /v1/openapi.json` serves it.
pub fn openapi_json() -> String {
    http::openapi_json()
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes in-flight requests.
/// HTTP/1.1 only, with the request-head limits of [`ServerConfig`].
pub async fn serve(
    engine: Engine,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = engine.config().server.clone();
    http::serve::serve(app(engine), &limits, listener, shutdown).await
}
