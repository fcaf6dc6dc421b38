//! The persona data model: statement kinds and statuses, extracted candidates and stored
//! statements.

use std::fmt;
use std::str::FromStr;

use memory::{Timestamp, TurnId};
use serde::{Deserialize, Serialize};

/// What a persona statement is about. A closed set: rendering groups statements by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// A lasting trait of character or habit ("is always up for an adventure").
    Trait,
    /// A like or a dislike.
    Preference,
    /// A fact of the speaker's life: job, home, pet, activity.
    LifeFact,
    /// Someone close to the speaker: family, partner, friends.
    Relationship,
    /// Something the speaker intends or hopes to do.
    Plan,
    /// Anything else.
    Other,
}

impl StatementKind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [StatementKind; 6] = [
        StatementKind::LifeFact,
        StatementKind::Relationship,
        StatementKind::Preference,
        StatementKind::Trait,
        StatementKind::Plan,
        StatementKind::Other,
    ];

    /// The stable snake_case name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trait => "trait",
            Self::Preference => "preference",
            Self::LifeFact => "life_fact",
            Self::Relationship => "relationship",
            Self::Plan => "plan",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown statement kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown statement kind {0:?} (expected one of trait, preference, life_fact, relationship, plan, other)"
)]
pub struct UnknownStatementKind(pub String);

impl FromStr for StatementKind {
    type Err = UnknownStatementKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownStatementKind(s.to_owned()))
    }
}

/// Whether a stored statement still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StatementStatus {
    /// The current belief.
    #[default]
    Active,
    /// Replaced by a newer, contradicting statement; kept as history.
    Superseded,
}

impl StatementStatus {
    /// The stable snake_case name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Superseded => "superseded",
        }
    }
}

impl fmt::Display for StatementStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown statement status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown statement status {0:?} (expected active or superseded)")]
pub struct UnknownStatementStatus(pub String);

impl FromStr for StatementStatus {
    type Err = UnknownStatementStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "superseded" => Ok(Self::Superseded),
            _ => Err(UnknownStatementStatus(s.to_owned())),
        }
    }
}

/// An extracted statement, before it is merged with what is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The speaker the statement is about (who said it about themself).
    pub speaker: String,
    pub kind: StatementKind,
    /// A normalised key saying what the statement is about: `lives_in`, `job`, `pet:dog`,
    /// `relation:sister`, `likes:<object>`, `plan:<verb object>`, ...
    pub slot: String,
    /// The normalised value compared to detect repetition or contradiction.
    pub value: String,
    /// A readable third-person sentence naming the speaker.
    pub text: String,
    /// The turns the statement was read from.
    pub turns: Vec<TurnId>,
    /// When it was said.
    pub time: Timestamp,
    /// How sure the extractor is, in (0, 1].
    pub confidence: f32,
}

/// A stored persona statement with its provenance and history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Assigned by the store; 0 for a statement not yet stored.
    pub id: i64,
    pub speaker: String,
    pub kind: StatementKind,
    pub slot: String,
    pub value: String,
    pub text: String,
    /// Every turn that supports the statement, ascending, without repeats.
    pub turns: Vec<TurnId>,
    /// In (0, 1]; grows with repeated evidence.
    pub confidence: f32,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub status: StatementStatus,
    /// 1 when created, bumped by every reinforcement or supersession.
    pub version: u32,
    /// The statement that replaced this one, once superseded.
    pub superseded_by: Option<i64>,
    /// How many times the statement was extracted.
    pub evidence: u32,
}

impl Statement {
    /// A new, not yet stored, active statement from a candidate.
    pub fn from_candidate(candidate: Candidate) -> Self {
        let mut turns = candidate.turns;
        turns.sort();
        turns.dedup();
        Self {
            id: 0,
            speaker: candidate.speaker,
            kind: candidate.kind,
            slot: candidate.slot,
            value: candidate.value,
            text: candidate.text,
            turns,
            confidence: candidate.confidence.clamp(f32::MIN_POSITIVE, 1.0),
            first_seen: candidate.time,
            last_seen: candidate.time,
            status: StatementStatus::Active,
            version: 1,
            superseded_by: None,
            evidence: 1,
        }
    }

    /// Whether the statement is the current belief.
    pub fn is_active(&self) -> bool {
        self.status == StatementStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in StatementKind::ALL {
            assert_eq!(kind.as_str().parse::<StatementKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert!("lifefact".parse::<StatementKind>().is_err());
    }

    #[test]
    fn status_names_round_trip() {
        for status in [StatementStatus::Active, StatementStatus::Superseded] {
            assert_eq!(status.as_str().parse::<StatementStatus>(), Ok(status));
        }
        assert!("gone".parse::<StatementStatus>().is_err());
    }

    #[test]
    fn from_candidate_starts_a_fresh_history() {
        let statement = Statement::from_candidate(Candidate {
            speaker: "Maya".into(),
            kind: StatementKind::LifeFact,
            slot: "job".into(),
            value: "counselor".into(),
            text: "Maya is a counselor.".into(),
            turns: vec![TurnId(7), TurnId(3), TurnId(7)],
            time: Timestamp(100),
            confidence: 0.8,
        });
        assert_eq!(statement.turns, vec![TurnId(3), TurnId(7)]);
        assert_eq!(
            (statement.first_seen, statement.last_seen),
            (Timestamp(100), Timestamp(100))
        );
        assert_eq!((statement.version, statement.evidence), (1, 1));
        assert!(statement.is_active());
    }
}
