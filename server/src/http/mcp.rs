//! `/mcp`: the MCP server over Streamable HTTP, stateless (every request stands alone, so any
//! server behind a balancer can answer it). The bearer key is checked here exactly as for REST,
//! before the MCP layer sees the request; the caller travels to the tools in the request.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::auth::bearer_of;
use super::error::ApiError;
use crate::mcp::Mcp;
use crate::{AuthMode, Engine};

/// The MCP service for the engine.
pub(super) fn service(engine: &Engine) -> StreamableHttpService<Mcp, NeverSessionManager> {
    let limits = &engine.config().server;
    let mut config =
        StreamableHttpServerConfig::default().with_max_request_body_bytes(limits.max_body_bytes);
    config.legacy_session_mode = false;
    config.json_response = true;
    if engine.config().auth.mode == AuthMode::Keys {
        // Every request carries a key, which a rebinding page cannot know: any Host will do.
        // Without keys the server is on loopback and only loopback names are accepted.
        config = config.disable_allowed_hosts();
    }
    let engine = engine.clone();
    StreamableHttpService::new(
        move || Ok(Mcp::per_request(engine.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

/// Authenticates an MCP request as REST requests are, and hands the caller to the tools.
pub(super) async fn authenticate(
    State(engine): State<Engine>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = bearer_of(request.headers());
    match engine.authenticate(token) {
        Ok(access) => {
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
