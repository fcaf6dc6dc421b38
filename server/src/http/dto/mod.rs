//! Wire types of the REST API and their hand-written conversions to and from engine types.

mod admin;
mod context;
mod persona;
mod search;
mod sessions;
mod units;

pub(crate) use admin::{
    CreatedKeyOut, KeyIn, KeyListOut, KeyOut, KeyQuery, LlmOut, StatsOut, TenantDeletedOut,
    TenantIn, TenantListOut, TenantOut,
};
pub(crate) use context::{ContextIn, ContextOut};
pub(crate) use persona::{HistoryOut, PersonaOut, PersonaQuery, StatementOut, StatementPatch};
pub(crate) use search::{SearchIn, SearchOut};
pub(crate) use sessions::{
    AppendIn, DeleteOut, IngestOut, SessionIn, SessionListOut, SessionOut, SessionPage, WaitParam,
};
pub(crate) use units::{UnitListOut, UnitOut, UnitQuery};

use memory::{SessionId, Timestamp, UserId};

use super::codes::Code;
use super::error::ApiError;

/// Parses a user id from the path.
pub(crate) fn user_id(value: String) -> Result<UserId, ApiError> {
    Ok(UserId::new(value)?)
}

/// Parses a session id from the path.
pub(crate) fn session_id(value: String) -> Result<SessionId, ApiError> {
    Ok(SessionId::new(value)?)
}

/// The longest writer (a key id or `import`, ...) a filter may name.
const MAX_WRITER_CHARS: usize = 200;

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
