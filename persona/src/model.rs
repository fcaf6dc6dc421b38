//! Extracted candidates, before they are merged with the stored statements. The stored
//! statement types live in `memory::persona` so that the store can keep them.

use memory::persona::{Statement, StatementKind, StatementStatus};
use memory::{Producer, Timestamp, TurnId};
use serde::{Deserialize, Serialize};

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

/// A new, not yet stored, active statement. Its producer is the extractor; a caller that used a
/// language model says so.
impl From<Candidate> for Statement {
    fn from(candidate: Candidate) -> Self {
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
            producer: Producer::Extractive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_candidate_starts_a_fresh_history() {
        let statement = Statement::from(Candidate {
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
