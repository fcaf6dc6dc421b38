//! Session endpoints: ingest, append, read, list, delete, and a person's turn edits.

use axum::extract::State;
use axum::http::StatusCode;
use memory::SessionStatus;
use memory::store::IngestOutcome;

use super::auth::Caller;
use super::dto::{
    AppendIn, DeleteOut, IngestOut, SessionIn, SessionListOut, SessionOut, SessionPage,
    SessionPath, TextPatch, TurnPath, UserPath, WaitParam,
};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::{Reply, reply};
use crate::Engine;
use crate::engine::IngestReport;

fn ingest_status(report: &IngestReport) -> StatusCode {
    match (report.receipt.outcome, report.status) {
        (_, SessionStatus::Pending) => StatusCode::ACCEPTED,
        (IngestOutcome::Created, SessionStatus::Ready) => StatusCode::CREATED,
        (_, SessionStatus::Ready) => StatusCode::OK,
    }
}

/// `POST /v1/users/{user_id}/sessions`
pub(super) async fn create(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Query(q): Query<WaitParam>,
    Json(body): Json<SessionIn>,
) -> Result<Reply<IngestOut>, ApiError> {
    let user = path.user()?;
    let channel = body.channel;
    let session = body.into_draft()?;
    let report = engine
        .ingest(&access, user, session, channel, q.wait)
        .await?;
    Ok(reply(ingest_status(&report), report.into()))
}

/// `POST /v1/users/{user_id}/sessions/{session_id}/turns`
pub(super) async fn append(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<SessionPath>,
    Query(q): Query<WaitParam>,
    Json(body): Json<AppendIn>,
) -> Result<Reply<IngestOut>, ApiError> {
    let (user, session) = path.ids()?;
    let channel = body.channel;
    let turns = body.into_turns()?;
    let report = engine
        .append(&access, user, session, turns, channel, q.wait)
        .await?;
    Ok(reply(ingest_status(&report), report.into()))
}

/// `GET /v1/users/{user_id}/sessions/{session_id}`
pub(super) async fn get(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<SessionPath>,
) -> Result<Reply<SessionOut>, ApiError> {
    let (user, session) = path.ids()?;
    let record = engine.session(&access, user, session).await?;
    Ok(reply(StatusCode::OK, record.into()))
}

/// `GET /v1/users/{user_id}/sessions`
pub(super) async fn list(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<UserPath>,
    Query(page): Query<SessionPage>,
) -> Result<Reply<SessionListOut>, ApiError> {
    let (limit, after) = page.checked()?;
    let (sessions, next) = engine.sessions(&access, path.user()?, limit, after).await?;
    Ok(reply(StatusCode::OK, SessionListOut::new(sessions, next)))
}

/// `DELETE /v1/users/{user_id}/sessions/{session_id}`
pub(super) async fn delete(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<SessionPath>,
) -> Result<Reply<DeleteOut>, ApiError> {
    let (user, session) = path.ids()?;
    let counts = engine.delete_session(&access, user, session).await?;
    Ok(reply(StatusCode::OK, counts.into()))
}

/// `PATCH /v1/users/{user_id}/sessions/{session_id}/turns/{turn_id}`
pub(super) async fn edit_turn(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<TurnPath>,
    Json(body): Json<TextPatch>,
) -> Result<Reply<SessionOut>, ApiError> {
    let (user, session, turn) = path.ids()?;
    let record = engine
        .edit_turn(&access, user, session, turn, body.text)
        .await?;
    Ok(reply(StatusCode::OK, record.into()))
}

/// `DELETE /v1/users/{user_id}/sessions/{session_id}/turns/{turn_id}`
pub(super) async fn delete_turn(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<TurnPath>,
) -> Result<Reply<SessionOut>, ApiError> {
    let (user, session, turn) = path.ids()?;
    let record = engine.delete_turn(&access, user, session, turn).await?;
    Ok(reply(StatusCode::OK, record.into()))
}
