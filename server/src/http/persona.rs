//! Persona endpoints: read a user's statements and summary, correct or delete a statement, and
//! see a statement's history.

use axum::extract::State;
use axum::http::StatusCode;

use super::auth::Caller;
use super::dto::{
    HistoryOut, PersonaOut, PersonaQuery, StatementOut, StatementPatch, StatementPath, UserPath,
};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::{Reply, reply};
use crate::Engine;

/// `GET /v1/users/{user_id}/persona`
pub(super) async fn get(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Query(query): Query<PersonaQuery>,
) -> Result<Reply<PersonaOut>, ApiError> {
    let filter = query.into_filter()?;
    let persona = engine.persona(&access, path.user()?, filter).await?;
    Ok(reply(StatusCode::OK, persona.into()))
}

/// `PATCH /v1/users/{user_id}/persona/statements/{statement_id}`
pub(super) async fn edit(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<StatementPath>,
    Json(patch): Json<StatementPatch>,
) -> Result<Reply<StatementOut>, ApiError> {
    let (user, id) = path.ids()?;
    let edit = patch.into_edit()?;
    let statement = engine.edit_statement(&access, user, id, edit).await?;
    Ok(reply(StatusCode::OK, statement.into()))
}

/// `DELETE /v1/users/{user_id}/persona/statements/{statement_id}`
pub(super) async fn delete(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<StatementPath>,
) -> Result<Reply<StatementOut>, ApiError> {
    let (user, id) = path.ids()?;
    let statement = engine.delete_statement(&access, user, id).await?;
    Ok(reply(StatusCode::OK, statement.into()))
}

/// `GET /v1/users/{user_id}/persona/statements/{statement_id}/history`
pub(super) async fn history(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<StatementPath>,
) -> Result<Reply<HistoryOut>, ApiError> {
    let (user, id) = path.ids()?;
    let history = engine.statement_history(&access, user, id).await?;
    Ok(reply(StatusCode::OK, history.into()))
}
