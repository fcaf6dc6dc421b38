//! Endpoints about a user as a whole: erase, and the audit log.

use axum::extract::State;
use axum::http::StatusCode;

use super::auth::Caller;
use super::dto::{AuditListOut, AuditParams, EraseOut, UserPath};
use super::error::ApiError;
use super::extract::{Path, Query};
use super::{Reply, reply};
use crate::Engine;

/// `DELETE /v1/users/{user_id}`
pub(super) async fn erase(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
) -> Result<Reply<EraseOut>, ApiError> {
    let receipt = engine.erase_user(&access, path.user()?).await?;
    Ok(reply(StatusCode::OK, receipt.into()))
}

/// `GET /v1/users/{user_id}/audit`
pub(super) async fn audit(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Query(params): Query<AuditParams>,
) -> Result<Reply<AuditListOut>, ApiError> {
    let query = params.into_query()?;
    let limit = query.limit;
    let entries = engine.audit(&access, path.user()?, query).await?;
    Ok(reply(StatusCode::OK, AuditListOut::new(entries, limit)))
}
