//! Persona endpoints: read a user's statements and summary, correct or delete a statement, and
//! see a statement's history.

use axum::extract::State;
use axum::http::StatusCode;

use super::auth::Caller;
use super::dto::{self, HistoryOut, PersonaOut, PersonaQuery, StatementOut, StatementPatch};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::{Reply, reply};
use crate::Engine;

/// `GET /v1/users/{user_id}/persona`
pub(super) async fn get(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(user_id): Path<String>,
    Query(query): Query<PersonaQuery>,
) -> Result<Reply<PersonaOut>, ApiError> {
    let filter = query.into_filter()?;
    let persona = engine
        .persona(&access, dto::user_id(user_id)?, filter)
        .await?;
    Ok(reply(StatusCode::OK, persona.into()))
}

/// `PATCH /v1/users/{user_id}/persona/statements/{statement_id}`
pub(super) async fn edit(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path((user_id, id)): Path<(String, i64)>,
    Json(patch): Json<StatementPatch>,
) -> Result<Reply<StatementOut>, ApiError> {
    let edit = patch.into_edit()?;
    let statement = engine
        .edit_statement(&access, dto::user_id(user_id)?, id, edit)
        .await?;
    Ok(reply(StatusCode::OK, StatementOut::bare(statement)))
}

/// `DELETE /v1/users/{user_id}/persona/statements/{statement_id}`
pub(super) async fn delete(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path((user_id, id)): Path<(String, i64)>,
) -> Result<Reply<StatementOut>, ApiError> {
    let statement = engine
        .delete_statement(&access, dto::user_id(user_id)?, id)
        .await?;
    Ok(reply(StatusCode::OK, StatementOut::bare(statement)))
}

/// `GET /v1/users/{user_id}/persona/statements/{statement_id}/history`
pub(super) async fn history(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path((user_id, id)): Path<(String, i64)>,
) -> Result<Reply<HistoryOut>, ApiError> {
    let (statement, versions) = engine
        .statement_history(&access, dto::user_id(user_id)?, id)
        .await?;
    Ok(reply(StatusCode::OK, HistoryOut::new(statement, versions)))
}
