//! Durable storage: the record store (SQLite, the source of truth) and the types it trades in.
//!
//! The full-text and vector indexes are derived from the record store and live in
//! [`crate::text_index`] and [`crate::vector_index`].

pub mod archive;
mod sqlite;

pub use sqlite::{
    ImportInput, ImportedUser, MAX_STATEMENT_CHARS, PersonaMerge, StatementTurn, StoreFacts,
    StoreSummary, TermFrequencies, TurnChange, backup_file, facts, integrity_problems, summarize,
};

pub use sqlite::SqliteStore;

use serde::{Deserialize, Serialize};

use crate::{
    Channel, Granularity, SessionId, SessionStatus, TimeRange, Timestamp, TurnId, TurnRecord,
    UnitDraft, UnitId, UserRef,
};

/// The store's own key for a session: stable for the session's life, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionKey(pub i64);

/// Where a page of a user's sessions (in time order) continues: after this session's start
/// time and key. Opaque to clients: `{started_at}.{key}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    pub started_at: i64,
    pub key: i64,
}

impl SessionCursor {
    /// The cursor as clients carry it.
    pub fn encode(self) -> String {
        format!("{}.{}", self.started_at, self.key)
    }

    /// A cursor from [`SessionCursor::encode`], or `None` if `text` is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let (started_at, key) = text.split_once('.')?;
        Some(Self {
            started_at: started_at.parse().ok()?,
            key: key.parse().ok()?,
        })
    }
}

/// What an ingest did with a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// The session is new.
    Created,
    /// The same session was stored already; nothing changed.
    Unchanged,
    /// The stored turns were a prefix of the sent ones; the rest were appended.
    Appended,
}

/// The durable result of an ingest, returned once the session is committed.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestReceipt {
    pub session_key: SessionKey,
    pub session_id: SessionId,
    pub outcome: IngestOutcome,
    pub status: SessionStatus,
    /// Every turn of the session, in order, with its id and external id.
    pub turns: Vec<(TurnId, Option<String>)>,
}

/// Everything unit building needs about one session.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildInput {
    pub session_key: SessionKey,
    pub status: SessionStatus,
    pub user_id: UserRef,
    pub session_id: SessionId,
    pub started_at: Timestamp,
    pub turns: Vec<TurnRecord>,
}

/// A built unit with its embedding, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUnit {
    pub draft: UnitDraft,
    pub embedding: Vec<f32>,
}

/// A session's freshly built units, ready to replace its old ones.
#[derive(Debug, Clone, Copy)]
pub struct SessionBuild<'a> {
    pub session: SessionKey,
    /// The number of turns the units were built from.
    pub built_turns: usize,
    pub units: &'a [NewUnit],
    /// Association edges from `units[i]` to existing units, with their weights.
    pub links: &'a [(usize, UnitId, f32)],
    /// The session's distinct terms, for the user's keyword statistics.
    pub terms: &'a [String],
}

/// A stored unit as the derived indexes see it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedUnit {
    pub unit_id: UnitId,
    pub user_id: UserRef,
    pub session_key: SessionKey,
    pub granularity: Granularity,
    pub event_time: Timestamp,
    /// Positions of the first and last turns the unit covers.
    pub first_position: u32,
    pub last_position: u32,
    /// The speaker, for a turn unit.
    pub speaker: Option<String>,
    pub text: String,
    pub embedding: Vec<f32>,
}

/// An association between two units of a user, with its strength (their similarity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub from: UnitId,
    pub to: UnitId,
    pub weight: f32,
}

/// What a delete removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeleteCounts {
    pub sessions: u64,
    pub turns: u64,
    pub units: u64,
    /// Persona statements left without evidence.
    pub statements: u64,
}

/// What erasing a user removed from the record store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EraseCounts {
    pub sessions: u64,
    pub turns: u64,
    /// Units with their vectors and provenance.
    pub units: u64,
    /// Stored versions of units people changed.
    pub unit_versions: u64,
    /// Association edges between the user's units.
    pub edges: u64,
    /// Rows of the user's keyword statistics (a session's distinct terms).
    pub terms: u64,
    pub statements: u64,
    /// Stored versions of those statements.
    pub statement_versions: u64,
    /// The user's audit entries, replaced by one content-free erase entry.
    pub audit_entries: u64,
}

/// What a person did to a unit, remembered by the unit's place in its session for the next
/// build: its granularity and the first turn it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitOverride {
    pub granularity: Granularity,
    pub first_turn: TurnId,
    pub unit_id: UnitId,
    /// The person's text; `None` when the person deleted the unit.
    pub text: Option<String>,
}

/// One version of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitVersion {
    pub version: u32,
    pub at: Timestamp,
    /// Who made it: `worker` for a build, else the key id of the person's client.
    pub actor: String,
    /// `built`, `edited` or `deleted`.
    pub action: String,
    pub producer: String,
    pub text: String,
}

/// One change the full-text index has to apply, in log order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexOp {
    /// Index this unit (if it still exists when applied).
    AddUnit(UnitId),
    /// Remove every unit of this session.
    DeleteSession(SessionKey),
    /// Remove this unit (a person edited or deleted it; an edit adds it again after).
    DeleteUnit(UnitId),
}

/// Who made a change, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor<'a>(pub &'a str);

/// When turns are written, by whom and through which channel: stored on every turn and in the
/// audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnWrite<'a> {
    pub now: Timestamp,
    pub actor: Actor<'a>,
    pub channel: Channel,
}

/// Which audit entries to read: a page after the entry `after`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries of this action (`create_session`, `delete_session`, `edit_statement`...).
    pub action: Option<String>,
    /// Only entries made in this time range.
    pub time: TimeRange,
    pub after: Option<i64>,
    pub limit: u32,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub unit_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}
