//! Session wire types: what clients send to ingest or append, and what they read back.

use std::collections::BTreeMap;

use memory::store::{DeleteCounts, IngestOutcome, SessionCursor};
use memory::{
    Channel, NewTurn, Role, SessionDraft, SessionId, SessionRecord, SessionStatus, SessionSummary,
    Timestamp,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::time;
use crate::engine::IngestReport;
use crate::http::codes::Code;
use crate::http::error::ApiError;

/// `?wait=`: whether to answer only once the units are built.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitParam {
    #[serde(default = "yes")]
    pub(crate) wait: bool,
}

fn yes() -> bool {
    true
}

/// A turn as sent.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TurnIn {
    #[schemars(schema_with = "super::text_schema")]
    speaker: String,
    #[serde(default)]
    role: Option<Role>,
    #[schemars(schema_with = "super::text_schema")]
    text: String,
    #[serde(default)]
    #[schemars(schema_with = "super::optional_time_schema")]
    timestamp: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::optional_object_schema")]
    metadata: Option<serde_json::Value>,
}

impl TurnIn {
    fn into_turn(self, position: usize) -> Result<NewTurn, ApiError> {
        if self.metadata.as_ref().is_some_and(|m| !m.is_object()) {
            return Err(ApiError::new(
                Code::InvalidField,
                format!("turns[{position}].metadata must be a JSON object"),
            ));
        }
        Ok(NewTurn {
            speaker: self.speaker,
            role: self.role.unwrap_or_default(),
            text: self.text,
            timestamp: time(self.timestamp.as_deref())?,
            external_id: self.external_id,
            caption: self.caption,
            metadata: self.metadata,
        })
    }
}

fn into_turns(turns: Vec<TurnIn>) -> Result<Vec<NewTurn>, ApiError> {
    turns
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.into_turn(i))
        .collect()
}

/// A session as sent to `POST /v1/users/{user_id}/sessions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionIn {
    #[serde(default)]
    #[schemars(schema_with = "super::optional_id_schema")]
    session_id: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::optional_time_schema")]
    started_at: Option<String>,
    #[serde(default)]
    title: Option<String>,
    /// How the turns reached the caller; `chat` unless said.
    #[serde(default)]
    pub(crate) channel: Channel,
    #[schemars(length(min = 1))]
    turns: Vec<TurnIn>,
}

impl SessionIn {
    /// Converts to an engine draft; the engine fills in a missing start time and id.
    pub(crate) fn into_draft(self) -> Result<SessionDraft, ApiError> {
        let started_at = time(self.started_at.as_deref())?;
        let turns = into_turns(self.turns)?;
        Ok(SessionDraft {
            session_id: self.session_id.map(SessionId::new).transpose()?,
            started_at,
            title: self.title,
            turns,
        })
    }
}

/// Paging of a user's sessions (`GET /v1/users/{user_id}/sessions`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionPage {
    /// At most this many sessions (1 to 1000, default 100).
    #[serde(default = "default_page")]
    #[schemars(range(min = 1, max = 1000))]
    limit: u32,
    /// Sessions after this cursor: the `next_after` of the previous page.
    #[serde(default)]
    #[schemars(length(min = 1, max = 64))]
    after: Option<String>,
}

fn default_page() -> u32 {
    100
}

impl SessionPage {
    /// The limit and cursor, once checked.
    pub(crate) fn checked(&self) -> Result<(u32, Option<SessionCursor>), ApiError> {
        if self.limit == 0 || self.limit > 1_000 {
            return Err(ApiError::new(
                Code::InvalidQuery,
                "limit must be between 1 and 1000",
            ));
        }
        let after = match &self.after {
            None => None,
            Some(text) => Some(SessionCursor::parse(text).ok_or_else(|| {
                ApiError::new(
                    Code::InvalidQuery,
                    "after must be the next_after of an earlier page",
                )
            })?),
        };
        Ok((self.limit, after))
    }
}

impl SessionIn {
    /// For appending: the session's id, its channel and the turns to add (a start time or a
    /// title has nothing to apply to).
    pub(crate) fn into_append(self) -> Result<(SessionId, Channel, Vec<NewTurn>), ApiError> {
        let Some(id) = self.session_id else {
            return Err(ApiError::new(
                Code::MissingField,
                "session_id names the session to append to",
            ));
        };
        if self.started_at.is_some() || self.title.is_some() {
            return Err(ApiError::new(
                Code::InvalidField,
                "started_at and title cannot change when appending",
            ));
        }
        Ok((SessionId::new(id)?, self.channel, into_turns(self.turns)?))
    }
}

/// Turns sent to `POST /v1/users/{user_id}/sessions/{session_id}/turns`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppendIn {
    /// How the turns reached the caller; `chat` unless said.
    #[serde(default)]
    pub(crate) channel: Channel,
    #[schemars(length(min = 1))]
    turns: Vec<TurnIn>,
}

impl AppendIn {
    pub(crate) fn into_turns(self) -> Result<Vec<NewTurn>, ApiError> {
        into_turns(self.turns)
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TurnIdOut {
    turn_id: i64,
    external_id: Option<String>,
}

/// The answer to an ingest or append.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IngestOut {
    session_id: String,
    /// `created`, `unchanged` or `appended`.
    outcome: IngestOutcome,
    /// `ready` once every unit is built, else `pending`.
    status: SessionStatus,
    turns: Vec<TurnIdOut>,
    units: BTreeMap<String, usize>,
}

impl From<IngestReport> for IngestOut {
    fn from(r: IngestReport) -> Self {
        Self {
            session_id: r.receipt.session_id.to_string(),
            outcome: r.receipt.outcome,
            status: r.status,
            turns: r
                .receipt
                .turns
                .into_iter()
                .map(|(id, external_id)| TurnIdOut {
                    turn_id: id.0,
                    external_id,
                })
                .collect(),
            units: r
                .units
                .into_iter()
                .map(|(g, n)| (g.to_string(), n))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TurnOut {
    turn_id: i64,
    position: u32,
    speaker: String,
    role: Role,
    text: String,
    timestamp: Option<String>,
    external_id: Option<String>,
    caption: Option<String>,
    #[schemars(schema_with = "super::optional_object_schema")]
    metadata: Option<serde_json::Value>,
    /// Who wrote the turn into mnemo, and through which channel.
    writer: String,
    channel: Channel,
}

/// A session with its turns.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionOut {
    session_id: String,
    started_at: String,
    title: Option<String>,
    status: SessionStatus,
    created_at: String,
    turns: Vec<TurnOut>,
}

impl From<SessionRecord> for SessionOut {
    fn from(s: SessionRecord) -> Self {
        Self {
            session_id: s.session_id.to_string(),
            started_at: s.started_at.to_rfc3339(),
            title: s.title,
            status: s.status,
            created_at: s.created_at.to_rfc3339(),
            turns: s
                .turns
                .into_iter()
                .map(|t| TurnOut {
                    turn_id: t.turn_id.0,
                    position: t.position,
                    speaker: t.speaker,
                    role: t.role,
                    text: t.text,
                    timestamp: t.timestamp.map(Timestamp::to_rfc3339),
                    external_id: t.external_id,
                    caption: t.caption,
                    metadata: t.metadata,
                    writer: t.source.writer,
                    channel: t.source.channel,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionSummaryOut {
    session_id: String,
    started_at: String,
    title: Option<String>,
    status: SessionStatus,
    created_at: String,
    turn_count: u32,
    unit_count: u32,
}

/// A page of a user's sessions in time order; `next_after` continues when the page was full.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionListOut {
    sessions: Vec<SessionSummaryOut>,
    next_after: Option<String>,
}

impl SessionListOut {
    pub(crate) fn new(list: Vec<SessionSummary>, next: Option<SessionCursor>) -> Self {
        Self {
            sessions: list
                .into_iter()
                .map(|s| SessionSummaryOut {
                    session_id: s.session_id.to_string(),
                    started_at: s.started_at.to_rfc3339(),
                    title: s.title,
                    status: s.status,
                    created_at: s.created_at.to_rfc3339(),
                    turn_count: s.turn_count,
                    unit_count: s.unit_count,
                })
                .collect(),
            next_after: next.map(SessionCursor::encode),
        }
    }
}

/// What a delete removed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeleteOut {
    deleted: DeleteCountsOut,
}

#[derive(Debug, Serialize, JsonSchema)]
struct DeleteCountsOut {
    sessions: u64,
    turns: u64,
    units: u64,
    /// Persona statements left without evidence.
    statements: u64,
}

impl From<DeleteCounts> for DeleteOut {
    fn from(c: DeleteCounts) -> Self {
        Self {
            deleted: DeleteCountsOut {
                sessions: c.sessions,
                turns: c.turns,
                units: c.units,
                statements: c.statements,
            },
        }
    }
}
