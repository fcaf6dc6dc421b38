//! A user's memory as an archive holds it: plain records, tied together by the user's own
//! session ids, turn places (session and position) and the exporting store's unit and statement
//! ids, used only as keys inside the archive. No vectors: an import embeds the texts again, so
//! an archive moves between embedding models. The file format lives with the server.

mod check;

use crate::persona::{StatementKind, StatementStatus};
use crate::store::UnitVersion;
use crate::{Granularity, NewTurn, Producer, SessionId, SessionStatus, Timestamp};

/// Everything mnemo remembers about one user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserArchive {
    /// In the order the sessions were first stored.
    pub sessions: Vec<ArchivedSession>,
    pub statements: Vec<ArchivedStatement>,
    /// Every stored version of units people changed (deleted units included).
    pub unit_histories: Vec<ArchivedUnitHistory>,
    /// What people did to units, by place, so that later builds keep it.
    pub overrides: Vec<ArchivedOverride>,
    /// Association edges between the user's units.
    pub edges: Vec<ArchivedEdge>,
    /// The user's audit entries, oldest first.
    pub audit: Vec<ArchivedAudit>,
}

/// A session with its turns and its units as built.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedSession {
    pub session_id: SessionId,
    pub started_at: Timestamp,
    pub title: Option<String>,
    /// `pending` sessions are built again after an import.
    pub status: SessionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// In position order, from 0.
    pub turns: Vec<ArchivedTurn>,
    pub units: Vec<ArchivedUnit>,
}

/// A turn. Who wrote it is told for the record; an import writes it as the importer.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedTurn {
    pub turn: NewTurn,
    pub writer: String,
    pub channel: String,
}

/// A unit as built (or as a person left it), without its vector.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedUnit {
    /// The exporting store's unit id: a key within the archive.
    pub key: i64,
    pub granularity: Granularity,
    pub ordinal: u32,
    pub text: String,
    pub event_time: Timestamp,
    pub producer: Producer,
    pub version: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Positions of the turns it covers, ascending.
    pub turns: Vec<u32>,
}

/// A turn by its place: the session and its position there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TurnPlace {
    pub session_id: SessionId,
    pub position: u32,
}

/// A persona statement's content at one version, with archive keys instead of row ids.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementState {
    pub speaker: String,
    pub kind: StatementKind,
    pub slot: String,
    pub value: String,
    pub text: String,
    pub turns: Vec<TurnPlace>,
    pub confidence: f32,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub status: StatementStatus,
    pub version: u32,
    /// The key of the statement that replaced this one.
    pub superseded_by: Option<i64>,
    pub evidence: u32,
    pub producer: Producer,
}

/// A persona statement with its full history.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedStatement {
    /// The exporting store's statement id: a key within the archive.
    pub key: i64,
    /// The session it is anchored to (its fact unit's session), if that still exists.
    pub anchor: Option<SessionId>,
    pub state: StatementState,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Oldest first.
    pub history: Vec<ArchivedStatementVersion>,
}

/// One version of a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedStatementVersion {
    pub version: u32,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub state: StatementState,
}

/// The stored versions of a unit a person changed, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedUnitHistory {
    /// The unit's key (a deleted unit's key appears only here and in overrides).
    pub key: i64,
    pub session_id: SessionId,
    pub versions: Vec<UnitVersion>,
}

/// What a person did at a unit's place: its granularity and the first turn it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedOverride {
    pub session_id: SessionId,
    pub granularity: Granularity,
    /// The position of the first covered turn.
    pub first_turn: u32,
    pub key: i64,
    /// `edited` or `deleted`.
    pub action: String,
}

/// An association edge, from the newer unit to the older, by unit keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArchivedEdge {
    pub from: i64,
    pub to: i64,
    pub weight: f32,
}

/// An audit entry, as it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedAudit {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub session_id: Option<String>,
    pub unit_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// What an import restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ImportCounts {
    pub sessions: u64,
    pub turns: u64,
    /// Units restored as built, embedded again.
    pub units: u64,
    pub edges: u64,
    pub statements: u64,
    pub statement_versions: u64,
    /// Stored versions of units people changed.
    pub unit_versions: u64,
    pub audit_entries: u64,
    /// Sessions still to be built (they were pending when exported).
    pub pending: u64,
}
