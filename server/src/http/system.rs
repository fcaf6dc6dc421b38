//! Service endpoints: health, the caller's user list, and answers for unknown routes.

use axum::extract::State;
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;

use super::auth::Caller;
use super::codes::Code;
use super::error::ApiError;
use super::{Reply, reply};
use crate::Engine;

/// Whether the server is up. Sizes and counters are for operators: `GET /v1/admin/stats`.
#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct HealthOut {
    status: &'static str,
}

/// `GET /health`: answers without a key, and says nothing about what is stored.
pub(super) async fn health() -> Reply<HealthOut> {
    reply(StatusCode::OK, HealthOut { status: "ok" })
}

#[derive(Debug, Serialize, JsonSchema)]
pub(super) struct UsersOut {
    users: Vec<String>,
}

/// `GET /v1/users`
pub(super) async fn users(
    State(engine): State<Engine>,
    Caller(access): Caller,
) -> Result<Reply<UsersOut>, ApiError> {
    let users = engine
        .users(&access)
        .await?
        .into_iter()
        .map(|u| u.to_string())
        .collect();
    Ok(reply(StatusCode::OK, UsersOut { users }))
}

/// Any route that does not exist.
pub(super) async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such route")
}

/// A route that exists, called with the wrong method.
pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(Code::MethodNotAllowed, "method not allowed on this route")
}
