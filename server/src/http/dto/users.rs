//! Wire types of a user as a whole: the erasure receipt, the audit log and archive imports.

use memory::store::{AuditEntry, AuditQuery};
use memory::{Channel, TimeRange, UserId};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::time;
use crate::engine::{EraseReceipt, ImportReport};
use crate::http::codes::Code;
use crate::http::error::ApiError;

/// The erasure receipt: what was removed from each store, and when.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct EraseOut {
    user_id: String,
    erased_at: String,
    /// Rows removed from the record store (SQLite).
    store: StoreErasedOut,
    /// Vectors removed from the vector index.
    vectors: u64,
    /// Documents removed from the full-text index.
    text_documents: u64,
    /// Language-model readings of the user's sessions dropped from the rebuild cache.
    model_readings: u64,
    /// Full-text segments rewritten without the deleted documents.
    text_segments_rewritten: u64,
    /// Whether the files are scrubbed: no byte of the erased memory is left in the data
    /// directory. When `false` the server logged why; the next delete or erase scrubs again.
    files_scrubbed: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
struct StoreErasedOut {
    sessions: u64,
    turns: u64,
    units: u64,
    /// Stored versions of units people changed.
    unit_versions: u64,
    /// Association edges between the user's units.
    edges: u64,
    /// Rows of the user's keyword statistics.
    terms: u64,
    /// Persona statements.
    statements: u64,
    /// Stored versions of those statements.
    statement_versions: u64,
    /// Audit entries, replaced by one `erase_user` entry with these counts.
    audit_entries: u64,
}

impl From<EraseReceipt> for EraseOut {
    fn from(r: EraseReceipt) -> Self {
        let s = r.store;
        Self {
            user_id: r.user.user.to_string(),
            erased_at: r.erased_at.to_rfc3339(),
            store: StoreErasedOut {
                sessions: s.sessions,
                turns: s.turns,
                units: s.units,
                unit_versions: s.unit_versions,
                edges: s.edges,
                terms: s.terms,
                statements: s.statements,
                statement_versions: s.statement_versions,
                audit_entries: s.audit_entries,
            },
            vectors: r.vectors,
            text_documents: r.text_documents,
            model_readings: r.model_readings,
            text_segments_rewritten: r.scrub.text_segments,
            files_scrubbed: r.scrub.complete,
        }
    }
}

/// Filters and paging of `GET /v1/users/{user_id}/audit`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Only entries of this action: `create_session`, `append_turns`, `delete_session`,
    /// `edit_statement`, `delete_statement`, `erase_user`...
    #[schemars(schema_with = "action_schema")]
    action: Option<String>,
    /// Only entries made at or after this time (RFC 3339).
    #[schemars(schema_with = "super::optional_time_schema")]
    from: Option<String>,
    /// Only entries made before this time (RFC 3339).
    #[schemars(schema_with = "super::optional_time_schema")]
    to: Option<String>,
    /// Entries after this one: the `next_after` of the previous page.
    after: Option<i64>,
    /// At most this many entries (1 to 1000, default 100).
    #[schemars(range(min = 1, max = MAX_AUDIT_PAGE))]
    limit: Option<u32>,
}

/// The schema of an action name: lower-case letters and underscores.
fn action_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "null"], "pattern": "^[a-z_]{1,64}$"})
}

/// The most entries one page returns.
const MAX_AUDIT_PAGE: u32 = 1_000;

impl AuditParams {
    pub(crate) fn into_query(self) -> Result<AuditQuery, ApiError> {
        let limit = self.limit.unwrap_or(100);
        if limit == 0 || limit > MAX_AUDIT_PAGE {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!("limit must be between 1 and {MAX_AUDIT_PAGE}"),
            ));
        }
        if let Some(action) = &self.action
            && (action.is_empty()
                || action.len() > 64
                || !action.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        {
            return Err(ApiError::new(
                Code::InvalidQuery,
                "action is 1 to 64 lower-case letters and underscores",
            ));
        }
        Ok(AuditQuery {
            action: self.action,
            time: TimeRange {
                from: time(self.from.as_deref())?,
                to: time(self.to.as_deref())?,
            },
            after: self.after,
            limit,
        })
    }
}

/// One audit entry: a change to the user's memory, who made it and what changed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AuditEntryOut {
    id: i64,
    at: String,
    /// The key id (or internal writer such as `import`) that made the change.
    actor: String,
    action: String,
    session_id: Option<String>,
    unit_id: Option<i64>,
    /// The state before the change, where the action keeps one.
    before: Option<serde_json::Value>,
    /// The state after the change, or its counts.
    after: Option<serde_json::Value>,
}

/// A page of audit entries, oldest first; `next_after` continues when the page was full.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AuditListOut {
    entries: Vec<AuditEntryOut>,
    next_after: Option<i64>,
}

impl AuditListOut {
    pub(crate) fn new(entries: Vec<AuditEntry>, limit: u32) -> Self {
        let next_after = (entries.len() as u32 == limit)
            .then(|| entries.last().map(|e| e.id))
            .flatten();
        Self {
            entries: entries
                .into_iter()
                .map(|e| AuditEntryOut {
                    id: e.id,
                    at: e.at.to_rfc3339(),
                    actor: e.actor,
                    action: e.action,
                    session_id: e.session_id,
                    unit_id: e.unit_id,
                    before: e.before,
                    after: e.after,
                })
                .collect(),
            next_after,
        }
    }
}

/// `?wait=` and `?channel=` of an archive import.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportParams {
    /// Whether to answer only once sessions that were pending in the archive are built
    /// (default `true`).
    #[serde(default = "yes")]
    pub(crate) wait: bool,
    /// The channel the imported turns are recorded under (default `import`); the key must be
    /// allowed to declare it. The turns' writer is the importing key.
    #[serde(default = "import_channel")]
    pub(crate) channel: Channel,
}

fn yes() -> bool {
    true
}

fn import_channel() -> Channel {
    Channel::Import
}

/// What an archive import restored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ImportOut {
    user_id: String,
    imported_at: String,
    sessions: u64,
    turns: u64,
    /// Units restored as they were built or edited, embedded with the current model.
    units: u64,
    /// Association edges between them, as exported.
    edges: u64,
    statements: u64,
    /// Stored versions of those statements.
    statement_versions: u64,
    /// Stored versions of units people changed.
    unit_versions: u64,
    /// Audit entries carried over, plus one `import_user` entry.
    audit_entries: u64,
    /// Sessions still being built (they were pending when exported).
    pending: u64,
}

impl ImportOut {
    pub(crate) fn new(user: &UserId, r: ImportReport) -> Self {
        let c = r.counts;
        Self {
            user_id: user.to_string(),
            imported_at: r.imported_at.to_rfc3339(),
            sessions: c.sessions,
            turns: c.turns,
            units: c.units,
            edges: c.edges,
            statements: c.statements,
            statement_versions: c.statement_versions,
            unit_versions: c.unit_versions,
            audit_entries: c.audit_entries,
            pending: r.pending,
        }
    }
}
