//! Persona statements as stored: what a statement says about a speaker, its provenance, status
//! and version, and the plan of changes that merging new evidence produces. The persona crate
//! decides the changes; the store applies them.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Producer, Timestamp, TurnId};

/// What a persona statement is about. A closed set: rendering groups statements by kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
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
    /// Deleted by a person; kept as history, and its evidence is not learnt again.
    Deleted,
}

impl StatementStatus {
    /// The stable snake_case name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Superseded => "superseded",
            Self::Deleted => "deleted",
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
#[error("unknown statement status {0:?} (expected active, superseded or deleted)")]
pub struct UnknownStatementStatus(pub String);

impl FromStr for StatementStatus {
    type Err = UnknownStatementStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(Self::Active),
            "superseded" => Ok(Self::Superseded),
            "deleted" => Ok(Self::Deleted),
            _ => Err(UnknownStatementStatus(s.to_owned())),
        }
    }
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
    /// What wrote the current text: an extractor, a language model or a person.
    pub producer: Producer,
}

impl Statement {
    /// Whether the statement is the current belief.
    pub fn is_active(&self) -> bool {
        self.status == StatementStatus::Active
    }
}

/// A person's correction of a statement; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementEdit {
    pub text: Option<String>,
    pub kind: Option<StatementKind>,
    pub confidence: Option<f32>,
}

/// One version of a statement in its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementVersion {
    pub version: u32,
    pub at: Timestamp,
    pub actor: String,
    /// `extracted`, `reinforced`, `superseded`, `reactivated`, `edited` or `deleted`.
    pub action: String,
    /// The statement as it was from this version on.
    pub statement: Statement,
}

/// A statement the plan refers to: one already stored, or one of the plan's inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementRef {
    /// A stored statement, by id.
    Existing(i64),
    /// `MergePlan::inserts[index]`.
    Inserted(usize),
}

/// New evidence for a stored statement. Carries the statement's new values, not deltas, except
/// for `added_turns`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reinforcement {
    pub id: i64,
    /// Turns not yet in the statement's provenance, ascending.
    pub added_turns: Vec<TurnId>,
    /// Earlier than before only when the evidence is older than the statement.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// 1 - (1 - c_old)(1 - c_new), capped below 1.
    pub confidence: f32,
    pub version: u32,
    pub evidence: u32,
}

/// `old` stops holding because of `by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supersession {
    pub old: StatementRef,
    pub by: StatementRef,
}

/// What to write after a batch of candidates. Apply the reinforcements, then store the inserts
/// (which get ids), then mark every `old` superseded by its `by`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MergePlan {
    /// New statements, with id 0. One already superseded within the batch has status
    /// `Superseded` and `superseded_by` None until its replacement's id is known.
    pub inserts: Vec<Statement>,
    /// At most one per stored statement.
    pub reinforcements: Vec<Reinforcement>,
    pub supersessions: Vec<Supersession>,
}

impl MergePlan {
    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.reinforcements.is_empty() && self.supersessions.is_empty()
    }

    /// The statements after the plan, as a store would hold them: `existing` updated in place,
    /// then the inserts with ids `first_new_id`, `first_new_id + 1`, ...
    pub fn apply(&self, existing: &[Statement], first_new_id: i64) -> Vec<Statement> {
        let mut all: Vec<Statement> = existing.to_vec();
        for r in &self.reinforcements {
            if let Some(s) = all.iter_mut().find(|s| s.id == r.id) {
                s.turns.extend(r.added_turns.iter().copied());
                s.turns.sort();
                s.turns.dedup();
                s.first_seen = r.first_seen;
                s.last_seen = r.last_seen;
                s.confidence = r.confidence;
                s.version = r.version;
                s.evidence = r.evidence;
            }
        }
        for (offset, insert) in self.inserts.iter().enumerate() {
            let mut s = insert.clone();
            s.id = first_new_id + offset as i64;
            all.push(s);
        }
        let id_of = |r: StatementRef| match r {
            StatementRef::Existing(id) => id,
            StatementRef::Inserted(i) => first_new_id + i as i64,
        };
        for sup in &self.supersessions {
            let (old, by) = (id_of(sup.old), id_of(sup.by));
            if let Some(s) = all.iter_mut().find(|s| s.id == old) {
                s.status = StatementStatus::Superseded;
                s.superseded_by = Some(by);
                // Only stored statements get a new version; an insert starts at 1.
                if matches!(sup.old, StatementRef::Existing(_)) {
                    s.version += 1;
                }
            }
        }
        all
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
}
