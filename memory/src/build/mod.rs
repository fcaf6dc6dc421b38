//! Building memory units from a stored session: verbatim units (turn, round, session chunk)
//! and, without a language model, extractive summary and keyword units.
//!
//! Everything here is pure and deterministic: the caller supplies token counts, vectors and
//! term statistics, and stores the result.

mod cues;
mod keywords;
mod render;
mod segment;
mod summary;
pub mod text;

pub use cues::{mentions_time, only_asks};
pub use keywords::{KeyPhrase, extractive_keywords, key_phrases, phrase_terms};
pub use render::{participants, render, render_turn};
pub use segment::{rounds, session_chunks};
pub use summary::extractive_summary;

use serde::{Deserialize, Serialize};

use crate::store::BuildInput;
use crate::{Granularity, Producer, Timestamp, TurnRecord, UnitDraft};

/// How units are cut and how much the extractive methods keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BuildConfig {
    /// The most turns in one round unit.
    pub round_max_turns: usize,
    /// The most turns an extractive summary keeps.
    pub summary_max_turns: usize,
    /// The most words kept of each turn in an extractive summary.
    pub summary_turn_words: usize,
    /// Key phrases in a keywords unit.
    pub keywords: usize,
}

impl Default for BuildConfig {
    fn default() -> Self {
        Self {
            round_max_turns: 4,
            summary_max_turns: 6,
            summary_turn_words: 40,
            keywords: 12,
        }
    }
}

/// The event time of a unit covering these turns: the first turn's own time, else the session's.
fn event_time(session_start: Timestamp, turns: &[&TurnRecord]) -> Timestamp {
    turns
        .iter()
        .find_map(|t| t.timestamp)
        .unwrap_or(session_start)
}

/// Builds the verbatim units of a session: one per turn, its rounds and its session chunks.
///
/// `rendered` holds each turn as [`render_turn`] renders it and `tokens` its length in model
/// tokens; chunks and rounds stay within `max_tokens`.
pub fn verbatim_units(
    input: &BuildInput,
    rendered: &[String],
    tokens: &[usize],
    max_tokens: usize,
    config: &BuildConfig,
) -> Vec<UnitDraft> {
    let turns = &input.turns;
    let draft = |granularity, ordinal: usize, range: std::ops::Range<usize>| {
        let covered: Vec<&TurnRecord> = turns[range.clone()].iter().collect();
        UnitDraft {
            granularity,
            ordinal: ordinal as u32,
            text: rendered[range.clone()].join("\n"),
            event_time: event_time(input.started_at, &covered),
            turn_positions: covered.iter().map(|t| t.position).collect(),
            producer: Producer::Verbatim,
        }
    };
    let speakers: Vec<&str> = turns.iter().map(|t| t.speaker.as_str()).collect();
    let mut units: Vec<UnitDraft> = (0..turns.len())
        .map(|i| draft(Granularity::Turn, i, i..i + 1))
        .collect();
    units.extend(
        rounds(&speakers, tokens, config.round_max_turns, max_tokens)
            .into_iter()
            .enumerate()
            .map(|(i, r)| draft(Granularity::Round, i, r)),
    );
    units.extend(
        session_chunks(tokens, max_tokens)
            .into_iter()
            .enumerate()
            .map(|(i, r)| draft(Granularity::Session, i, r)),
    );
    units
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::store::SessionKey;
    use crate::{Role, SessionId, TurnId, UserId};

    fn input(speakers: &[usize]) -> BuildInput {
        let names = ["Ann", "Bo", "Cy"];
        BuildInput {
            session_key: SessionKey(1),
            status: crate::SessionStatus::Pending,
            user_id: crate::UserRef::of_default(UserId::new("u").unwrap()),
            session_id: SessionId::new("s").unwrap(),
            started_at: Timestamp(1_000),
            turns: speakers
                .iter()
                .enumerate()
                .map(|(i, &s)| TurnRecord {
                    turn_id: TurnId(i as i64 + 100),
                    position: i as u32,
                    speaker: names[s % names.len()].to_owned(),
                    role: Role::User,
                    text: format!("turn {i}"),
                    timestamp: None,
                    external_id: None,
                    caption: None,
                    metadata: None,
                    source: crate::Source::default(),
                })
                .collect(),
        }
    }

    proptest! {
        /// Every turn appears in exactly one unit of each verbatim granularity, in order.
        #[test]
        fn every_turn_is_covered_once_per_granularity(
            speakers in proptest::collection::vec(0usize..3, 1..60),
            token_seed in proptest::collection::vec(1usize..300, 60),
            max_turns in 1usize..6,
        ) {
            let input = input(&speakers);
            let tokens: Vec<usize> = token_seed[..speakers.len()].to_vec();
            let rendered: Vec<String> = input.turns.iter().map(render_turn).collect();
            let config = BuildConfig { round_max_turns: max_turns, ..BuildConfig::default() };
            let units = verbatim_units(&input, &rendered, &tokens, 256, &config);
            for g in [Granularity::Turn, Granularity::Round, Granularity::Session] {
                let covered: Vec<u32> = units
                    .iter()
                    .filter(|u| u.granularity == g)
                    .flat_map(|u| u.turn_positions.clone())
                    .collect();
                let expected: Vec<u32> = (0..speakers.len() as u32).collect();
                prop_assert_eq!(covered, expected, "granularity {}", g);
            }
            for u in units.iter().filter(|u| u.granularity == Granularity::Round) {
                prop_assert!(u.turn_positions.len() <= max_turns);
            }
        }
    }
}
