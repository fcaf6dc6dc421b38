//! Input limits and the checks every new session or appended turn passes before it is stored.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{MemoryError, NewTurn, Result};

/// Size limits on what clients may store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Turns in one session, appended turns included.
    pub max_turns_per_session: usize,
    /// Characters in one turn's text.
    pub max_text_chars: usize,
    /// Characters in a speaker name, a title, a caption or an external id.
    pub max_field_chars: usize,
    /// Bytes of a turn's metadata as JSON.
    pub max_metadata_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_turns_per_session: 2_000,
            max_text_chars: 20_000,
            max_field_chars: 1_000,
            max_metadata_bytes: 65_536,
        }
    }
}

fn check_len(position: usize, field: &'static str, value: &str, max: usize) -> Result<()> {
    let len = value.chars().count();
    if len > max {
        return Err(MemoryError::TextTooLong {
            position,
            field,
            len,
            max,
        });
    }
    Ok(())
}

/// Checks a title against the limits.
pub fn check_title(title: Option<&str>, limits: &Limits) -> Result<()> {
    let Some(title) = title else { return Ok(()) };
    let len = title.chars().count();
    if len > limits.max_field_chars {
        return Err(MemoryError::FieldTooLong {
            field: "title",
            len,
            max: limits.max_field_chars,
        });
    }
    Ok(())
}

/// Checks turns about to join a session that already has `existing` turns whose external ids are
/// `taken`. Positions in errors count from the first new turn's place in the session.
pub fn check_turns(
    turns: &[NewTurn],
    existing: usize,
    taken: &HashSet<String>,
    limits: &Limits,
) -> Result<()> {
    if turns.is_empty() && existing == 0 {
        return Err(MemoryError::EmptySession);
    }
    let count = existing + turns.len();
    if count > limits.max_turns_per_session {
        return Err(MemoryError::TooManyTurns {
            count,
            max: limits.max_turns_per_session,
        });
    }
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, turn) in turns.iter().enumerate() {
        let position = existing + i;
        if turn.text.trim().is_empty() {
            return Err(MemoryError::EmptyText { position });
        }
        check_len(position, "text", &turn.text, limits.max_text_chars)?;
        if turn.speaker.trim().is_empty() {
            return Err(MemoryError::InvalidField {
                field: "speaker",
                reason: format!("turn {position} has an empty speaker"),
            });
        }
        check_len(position, "speaker", &turn.speaker, limits.max_field_chars)?;
        if let Some(caption) = &turn.caption {
            check_len(position, "caption", caption, limits.max_field_chars)?;
        }
        if let Some(metadata) = &turn.metadata {
            let bytes = metadata.to_string().len();
            if bytes > limits.max_metadata_bytes {
                return Err(MemoryError::TextTooLong {
                    position,
                    field: "metadata",
                    len: bytes,
                    max: limits.max_metadata_bytes,
                });
            }
        }
        if let Some(external_id) = &turn.external_id {
            check_len(position, "external_id", external_id, limits.max_field_chars)?;
            if taken.contains(external_id) || !seen.insert(external_id) {
                return Err(MemoryError::DuplicateExternalId {
                    external_id: external_id.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn turn(text: &str, external_id: Option<&str>) -> NewTurn {
        NewTurn {
            speaker: "Ann".into(),
            role: Role::User,
            text: text.into(),
            timestamp: None,
            external_id: external_id.map(Into::into),
            caption: None,
            metadata: None,
        }
    }

    fn check(turns: &[NewTurn], existing: usize, taken: &[&str], expected: Option<&str>) {
        let taken: HashSet<String> = taken.iter().map(|s| s.to_string()).collect();
        let limits = Limits {
            max_turns_per_session: 3,
            max_text_chars: 10,
            ..Limits::default()
        };
        let got = check_turns(turns, existing, &taken, &limits)
            .err()
            .map(|e| e.to_string());
        assert_eq!(got.as_deref(), expected);
    }

    #[test]
    fn turns_are_checked() {
        check(&[turn("hi", Some("D1:1"))], 0, &[], None);
        check(&[], 0, &[], Some("session has no turns"));
        check(&[turn("  ", None)], 0, &[], Some("turn 0 has empty text"));
        check(
            &[turn("hi", None), turn("", None)],
            1,
            &[],
            Some("turn 2 has empty text"),
        );
        check(
            &[turn("0123456789x", None)],
            0,
            &[],
            Some("turn 0: text is 11 characters, the limit is 10"),
        );
        check(
            &[turn("a", None), turn("b", None)],
            2,
            &[],
            Some("the session would have 4 turns, the limit is 3"),
        );
        let dup = Some("external_id \"D1:1\" is used by more than one turn of the session");
        check(
            &[turn("a", Some("D1:1")), turn("b", Some("D1:1"))],
            0,
            &[],
            dup,
        );
        check(&[turn("a", Some("D1:1"))], 1, &["D1:1"], dup);
    }
}
