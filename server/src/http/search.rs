//! The search endpoint.

use axum::extract::State;
use axum::http::StatusCode;

use super::auth::Caller;
use super::dto::{SearchIn, SearchOut, UserPath};
use super::error::ApiError;
use super::extract::{Json, Path};
use super::{Reply, reply};
use crate::Engine;

/// `POST /v1/users/{user_id}/search`
pub(super) async fn search(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Json(body): Json<SearchIn>,
) -> Result<Reply<SearchOut>, ApiError> {
    let user = path.user()?;
    let request = body.into_request()?;
    let outcome = engine
        .search_from(&access, user, request.params, request.sources)
        .await?;
    Ok(reply(
        StatusCode::OK,
        SearchOut::new(outcome, request.group_by, request.explain),
    ))
}
