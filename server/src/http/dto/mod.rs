//! Wire types of the REST API and their hand-written conversions to and from engine types.

mod admin;
mod context;
mod paths;
mod persona;
mod search;
mod sessions;
mod units;
mod users;

pub(crate) use admin::{
    CreatedKeyOut, KeyIn, KeyListOut, KeyOut, KeyQuery, LlmOut, StatsOut, TenantDeletedOut,
    TenantIn, TenantListOut, TenantOut,
};
pub(crate) use context::{ContextIn, ContextOut};
pub(crate) use paths::{
    KeyPath, SessionPath, StatementPath, TenantPath, TurnPath, UnitPath, UserPath,
};
pub(crate) use persona::{HistoryOut, PersonaOut, PersonaQuery, StatementOut, StatementPatch};
pub(crate) use search::{SearchIn, SearchOut};
pub(crate) use sessions::{
    AppendIn, DeleteOut, IngestOut, SessionIn, SessionListOut, SessionOut, SessionPage, WaitParam,
};
pub(crate) use units::{
    TextPatch, UnitDeletedOut, UnitHistoryOut, UnitListOut, UnitOut, UnitQuery,
};
pub(crate) use users::{AuditListOut, AuditParams, EraseOut, ImportOut, ImportParams};

use memory::{SessionId, Timestamp, UserId};
use schemars::{Schema, SchemaGenerator, json_schema};

use super::codes::Code;
use super::error::ApiError;

/// What every client-chosen id (user, session, tenant) matches: `memory`'s rule as a pattern.
const ID_PATTERN: &str = "^[A-Za-z0-9_.:@-]{1,128}$";

/// The schema of a client-chosen id.
pub(crate) fn id_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": ID_PATTERN})
}

/// The schema of an optional client-chosen id.
pub(crate) fn optional_id_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "pattern": ID_PATTERN})
}

/// The schema of an optional list of client-chosen ids.
pub(crate) fn optional_ids_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": ["array", "null"],
        "items": {"type": "string", "pattern": ID_PATTERN}
    })
}

/// The schema of a text that must hold more than white space.
pub(crate) fn text_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": "\\S"})
}

/// The schema of an optional text that must hold more than white space.
pub(crate) fn optional_text_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "pattern": "\\S"})
}

/// The schema of optional free-form metadata: a JSON object.
pub(crate) fn optional_object_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["object", "null"]})
}

/// The schema of an optional RFC 3339 time.
pub(crate) fn optional_time_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "format": "date-time"})
}

/// The schema of an optional name to filter on: more than white space, at most 200 characters.
pub(crate) fn optional_name_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "pattern": "\\S", "maxLength": 200})
}

/// Parses a user id from the path.
pub(crate) fn user_id(value: String) -> Result<UserId, ApiError> {
    Ok(UserId::new(value)?)
}

/// Parses a session id from the path.
pub(crate) fn session_id(value: String) -> Result<SessionId, ApiError> {
    Ok(SessionId::new(value)?)
}

/// The longest writer (a key id or `import`, ...) a filter may name.
pub(crate) const MAX_WRITER_CHARS: usize = 200;

/// Checks a writer filter; `code` is the caller's code for a bad value.
fn check_writer(writer: Option<&str>, code: Code) -> Result<(), ApiError> {
    match writer {
        Some(w) if w.is_empty() || w.chars().count() > MAX_WRITER_CHARS => Err(ApiError::new(
            code,
            format!("writer must be 1 to {MAX_WRITER_CHARS} characters"),
        )),
        _ => Ok(()),
    }
}

/// Parses an optional RFC 3339 time.
fn time(value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(Timestamp::parse_rfc3339)
        .transpose()
        .map_err(ApiError::from)
}
