//! The search endpoint.

use axum::extract::State;
use axum::http::StatusCode;

use super::auth::Caller;
use super::dto::{self, SearchIn, SearchOut};
use super::error::ApiError;
use super::extract::{Json, Path};
use super::{Reply, reply};
use crate::Engine;

/// `POST /v1/users/{user_id}/search`
pub(super) async fn search(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(user_id): Path<String>,
    Json(body): Json<SearchIn>,
) -> Result<Reply<SearchOut>, ApiError> {
    let user = dto::user_id(user_id)?;
    let request = body.into_request()?;
    let outcome = engine
        .search_from(&access, user, request.params, request.sources)
        .await?;
    Ok(reply(
        StatusCode::OK,
        SearchOut::new(outcome, request.group_by, request.explain),
    ))
}
