//! The context endpoint: a prompt-ready block of memories within a token budget.

use axum::extract::State;
use axum::http::StatusCode;

use super::auth::Caller;
use super::dto::{ContextIn, ContextOut, UserPath};
use super::error::ApiError;
use super::extract::{Json, Path};
use super::{Reply, reply};
use crate::Engine;

/// `POST /v1/users/{user_id}/context`
pub(super) async fn context(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Json(body): Json<ContextIn>,
) -> Result<Reply<ContextOut>, ApiError> {
    let user = path.user()?;
    let block = engine.context(&access, user, body.into_request()).await?;
    Ok(reply(StatusCode::OK, block.into()))
}
