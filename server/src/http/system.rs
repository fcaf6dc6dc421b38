//! Service endpoints: health, the user list, and answers for unknown routes.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::error::ApiError;
use super::{Reply, reply};
use crate::Engine;

#[derive(Debug, Serialize)]
pub(super) struct HealthOut {
    status: &'static str,
    version: &'static str,
    users: usize,
    vectors: usize,
    text_documents: u64,
    pending_sessions: usize,
    /// The language model's use, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    llm: Option<LlmOut>,
}

/// What the language model did since the start.
#[derive(Debug, Serialize)]
pub(super) struct LlmOut {
    model: String,
    /// Sessions whose summary, keywords and facts the model built.
    sessions: u64,
    /// Malformed or off-schema replies asked again.
    retries: u64,
    /// Sessions built extractively after the model failed.
    fallbacks: u64,
    calls: u64,
    failed_calls: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
}

/// `GET /health`
pub(super) async fn health(State(engine): State<Engine>) -> Result<Reply<HealthOut>, ApiError> {
    let h = engine.health().await?;
    let m = engine.metrics();
    let llm = engine.llm_usage().map(|(model, usage)| LlmOut {
        model,
        sessions: m.llm_sessions,
        retries: m.llm_retries,
        fallbacks: m.llm_fallbacks,
        calls: usage.calls,
        failed_calls: usage.failures,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
    });
    Ok(reply(
        StatusCode::OK,
        HealthOut {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
            users: h.users,
            vectors: h.vectors,
            text_documents: h.text_documents,
            pending_sessions: h.pending_sessions,
            llm,
        },
    ))
}

#[derive(Debug, Serialize)]
pub(super) struct UsersOut {
    users: Vec<String>,
}

/// `GET /v1/users`
pub(super) async fn users(State(engine): State<Engine>) -> Result<Reply<UsersOut>, ApiError> {
    let users = engine
        .users()
        .await?
        .into_iter()
        .map(|u| u.to_string())
        .collect();
    Ok(reply(StatusCode::OK, UsersOut { users }))
}

/// Any route that does not exist.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// A route that exists, called with the wrong method.
pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}
