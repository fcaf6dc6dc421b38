//! Unit endpoints: list with filters, get one, and a person's edits, deletes and history.

use axum::extract::State;
use axum::http::StatusCode;
use memory::UnitId;

use super::auth::Caller;
use super::dto::{
    TextPatch, UnitDeletedOut, UnitHistoryOut, UnitListOut, UnitOut, UnitPath, UnitQuery, UserPath,
};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::{Reply, reply};
use crate::Engine;

/// `GET /v1/users/{user_id}/units`
pub(super) async fn list(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Query(query): Query<UnitQuery>,
) -> Result<Reply<UnitListOut>, ApiError> {
    let filter = query.into_filter()?;
    let limit = filter.limit;
    let units = engine.units(&access, path.user()?, filter).await?;
    Ok(reply(StatusCode::OK, UnitListOut::new(units, limit)))
}

/// `GET /v1/users/{user_id}/units/{unit_id}`
pub(super) async fn get(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UnitPath>,
) -> Result<Reply<UnitOut>, ApiError> {
    let (user, unit_id) = path.ids()?;
    let (unit, links) = engine
        .unit_with_links(&access, user, UnitId(unit_id))
        .await?;
    Ok(reply(
        StatusCode::OK,
        UnitOut::from(unit).with_links(&links),
    ))
}

/// `PATCH /v1/users/{user_id}/units/{unit_id}`
pub(super) async fn edit(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UnitPath>,
    Json(body): Json<TextPatch>,
) -> Result<Reply<UnitOut>, ApiError> {
    let (user, unit_id) = path.ids()?;
    let (unit, links) = engine
        .edit_unit(&access, user, UnitId(unit_id), body.text)
        .await?;
    Ok(reply(
        StatusCode::OK,
        UnitOut::from(unit).with_links(&links),
    ))
}

/// `DELETE /v1/users/{user_id}/units/{unit_id}`
pub(super) async fn delete(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UnitPath>,
) -> Result<Reply<UnitDeletedOut>, ApiError> {
    let (user, unit_id) = path.ids()?;
    let version = engine.delete_unit(&access, user, UnitId(unit_id)).await?;
    Ok(reply(
        StatusCode::OK,
        UnitDeletedOut::new(UnitId(unit_id), version),
    ))
}

/// `GET /v1/users/{user_id}/units/{unit_id}/history`
pub(super) async fn history(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UnitPath>,
) -> Result<Reply<UnitHistoryOut>, ApiError> {
    let (user, unit_id) = path.ids()?;
    let versions = engine.unit_history(&access, user, UnitId(unit_id)).await?;
    Ok(reply(
        StatusCode::OK,
        UnitHistoryOut::new(UnitId(unit_id), versions),
    ))
}
