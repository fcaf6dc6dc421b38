//! Durable storage: the record store (SQLite, the source of truth) and the types it trades in.
//!
//! The full-text and vector indexes are derived from the record store and live in
//! [`crate::text_index`] and [`crate::vector_index`].

mod sqlite;

pub use sqlite::{
    MAX_STATEMENT_CHARS, PersonaMerge, StatementTurn, StoreFacts, StoreSummary, TermFrequencies,
    backup_file, facts, integrity_problems, summarize,
};

pub use sqlite::SqliteStore;

use serde::{Deserialize, Serialize};

use crate::{
    Channel, Granularity, SessionId, SessionStatus, Timestamp, TurnId, TurnRecord, UnitDraft,
    UnitId, UserRef,
};

/// The store's own key for a session: stable for the session's life, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionKey(pub i64);

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

/// One change the full-text index has to apply, in log order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexOp {
    /// Index this unit (if it still exists when applied).
    AddUnit(UnitId),
    /// Remove every unit of this session.
    DeleteSession(SessionKey),
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
