//! The data model: sessions, turns, memory units and their granularities.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{SessionId, Source, Timestamp, TurnId, UnitId, UserRef};

/// The granularity of a memory unit. A closed set: retrieval weighs each one separately.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// A whole session, or a chunk of a long one.
    Session,
    /// A short window of consecutive turns: a turn and its reply.
    Round,
    /// A single turn.
    Turn,
    /// A summary of the session.
    Summary,
    /// The session's key phrases.
    Keywords,
    /// An atomic statement about a speaker (persona extraction).
    Fact,
}

impl Granularity {
    /// Every granularity, in a fixed order.
    pub const ALL: [Granularity; 6] = [
        Granularity::Session,
        Granularity::Round,
        Granularity::Turn,
        Granularity::Summary,
        Granularity::Keywords,
        Granularity::Fact,
    ];

    /// The stable lower-case name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Round => "round",
            Self::Turn => "turn",
            Self::Summary => "summary",
            Self::Keywords => "keywords",
            Self::Fact => "fact",
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown granularity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown granularity {0:?} (expected one of session, round, turn, summary, keywords, fact)"
)]
pub struct UnknownGranularity(pub String);

impl FromStr for Granularity {
    type Err = UnknownGranularity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| UnknownGranularity(s.to_owned()))
    }
}

/// Who spoke a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person the memory is about, or any human participant.
    #[default]
    User,
    /// The chat agent.
    Assistant,
    /// Anyone else (a system message, a tool, a third party).
    Other,
}

impl Role {
    /// The stable lower-case name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
            Self::Other => "other",
        }
    }

    /// Parses a stored role name; unknown names read as `Other`.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "user" => Self::User,
            "assistant" => Self::Assistant,
            _ => Self::Other,
        }
    }
}

/// What produced a unit's text, kept with the unit as part of its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Producer {
    /// The text is the conversation itself (turn, round and session units).
    Verbatim,
    /// A deterministic extractive method built it (no language model).
    Extractive,
    /// This language model built it.
    Llm { model: String },
    /// This language model failed or answered off-schema, so the extractive method built it.
    Fallback { model: String },
    /// A person wrote or corrected it.
    Edited,
}

impl Producer {
    /// The stable name of the kind of producer, used on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Verbatim => "verbatim",
            Self::Extractive => "extractive",
            Self::Llm { .. } => "llm",
            Self::Fallback { .. } => "extractive_fallback",
            Self::Edited => "edited",
        }
    }

    /// The language model involved, if any.
    pub fn model(&self) -> Option<&str> {
        match self {
            Self::Llm { model } | Self::Fallback { model } => Some(model),
            _ => None,
        }
    }

    /// The stored form: the name, then `:model` when a model was involved.
    pub fn to_stored(&self) -> String {
        match self.model() {
            Some(model) => format!("{}:{model}", self.as_str()),
            None => self.as_str().to_owned(),
        }
    }

    /// Parses a stored producer; unknown names read as `Extractive`.
    pub fn from_stored(s: &str) -> Self {
        let (name, model) = match s.split_once(':') {
            Some((name, model)) => (name, Some(model.to_owned())),
            None => (s, None),
        };
        match (name, model) {
            ("verbatim", _) => Self::Verbatim,
            ("edited", _) => Self::Edited,
            ("llm", Some(model)) => Self::Llm { model },
            ("extractive_fallback", Some(model)) => Self::Fallback { model },
            _ => Self::Extractive,
        }
    }
}

/// A turn as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTurn {
    pub speaker: String,
    pub role: Role,
    pub text: String,
    pub timestamp: Option<Timestamp>,
    pub external_id: Option<String>,
    pub caption: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

/// A session as a client sends it, already validated by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSession {
    pub session_id: SessionId,
    pub started_at: Timestamp,
    pub title: Option<String>,
    pub turns: Vec<NewTurn>,
}

/// A session as received, before the engine completes it: the id and the start time may be
/// missing. [`SessionDraft::complete`] fills them in from the caller's clock and the content.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDraft {
    pub session_id: Option<SessionId>,
    pub started_at: Option<Timestamp>,
    pub title: Option<String>,
    pub turns: Vec<NewTurn>,
}

impl SessionDraft {
    /// A complete session: a missing start time is `now`, a missing id is derived from the
    /// content with [`crate::content_session_id`] (after the start time is settled, so that it
    /// counts).
    pub fn complete(self, now: Timestamp) -> NewSession {
        let started_at = self.started_at.unwrap_or(now);
        let session_id = self.session_id.unwrap_or_else(|| {
            crate::content_session_id(started_at, self.title.as_deref(), &self.turns)
        });
        NewSession {
            session_id,
            started_at,
            title: self.title,
            turns: self.turns,
        }
    }
}

impl From<NewSession> for SessionDraft {
    fn from(s: NewSession) -> Self {
        Self {
            session_id: Some(s.session_id),
            started_at: Some(s.started_at),
            title: s.title,
            turns: s.turns,
        }
    }
}

/// Whether a session's memory units are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Stored durably; units are being built.
    Pending,
    /// Every unit is built, embedded and indexed.
    Ready,
}

impl SessionStatus {
    /// The stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
        }
    }

    /// Parses a stored status name.
    pub fn from_stored(s: &str) -> Self {
        if s == "ready" {
            Self::Ready
        } else {
            Self::Pending
        }
    }
}

/// A stored turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub turn_id: TurnId,
    /// Position in the session, from 0.
    pub position: u32,
    pub speaker: String,
    pub role: Role,
    pub text: String,
    pub timestamp: Option<Timestamp>,
    pub external_id: Option<String>,
    pub caption: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub source: Source,
}

/// A stored session with its turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user_id: UserRef,
    pub session_id: SessionId,
    pub started_at: Timestamp,
    pub title: Option<String>,
    pub status: SessionStatus,
    pub created_at: Timestamp,
    pub turns: Vec<TurnRecord>,
}

/// A session as listed, without its turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub session_id: SessionId,
    pub started_at: Timestamp,
    pub title: Option<String>,
    pub status: SessionStatus,
    pub created_at: Timestamp,
    pub turn_count: u32,
    pub unit_count: u32,
}

/// A turn a unit covers, as provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnRef {
    pub turn_id: TurnId,
    pub external_id: Option<String>,
    pub speaker: String,
    pub role: Role,
    pub source: Source,
}

/// A unit about to be stored: built from a session, not yet given an id.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitDraft {
    pub granularity: Granularity,
    /// Position among the session's units of the same granularity.
    pub ordinal: u32,
    pub text: String,
    pub event_time: Timestamp,
    /// Positions (in the session) of the turns the unit covers.
    pub turn_positions: Vec<u32>,
    pub producer: Producer,
}

/// A stored memory unit: the thing retrieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub unit_id: UnitId,
    pub user_id: UserRef,
    pub session_id: SessionId,
    pub granularity: Granularity,
    pub ordinal: u32,
    pub text: String,
    pub event_time: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u32,
    pub producer: Producer,
    pub turns: Vec<TurnRef>,
}

/// A half-open interval of event times; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Earliest event time included.
    pub from: Option<Timestamp>,
    /// First event time excluded.
    pub to: Option<Timestamp>,
}

impl TimeRange {
    /// Whether the time lies in the range.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from.is_none_or(|from| t >= from) && self.to.is_none_or(|to| t < to)
    }

    /// Whether the range lets everything through.
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }
}

/// A unit and a score from one retrieval signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredUnit {
    pub unit_id: UnitId,
    pub score: f32,
}

/// Filters for listing units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitFilter {
    pub session_id: Option<SessionId>,
    pub granularity: Option<Granularity>,
    /// Only units with an id greater than this (cursor pagination).
    pub after: Option<UnitId>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granularity_names_round_trip() {
        for g in Granularity::ALL {
            assert_eq!(g.as_str().parse::<Granularity>(), Ok(g));
            assert_eq!(
                serde_json::to_string(&g).ok(),
                Some(format!("\"{}\"", g.as_str()))
            );
        }
        assert!("sentence".parse::<Granularity>().is_err());
    }

    #[test]
    fn producers_round_trip_through_storage() {
        let model = || "qwen2.5:1.5b".to_owned();
        for p in [
            Producer::Verbatim,
            Producer::Extractive,
            Producer::Llm { model: model() },
            Producer::Fallback { model: model() },
            Producer::Edited,
        ] {
            assert_eq!(Producer::from_stored(&p.to_stored()), p);
        }
        assert_eq!(Producer::from_stored("something"), Producer::Extractive);
    }
}
