//! Input limits and the checks every new session or appended turn passes before it is stored.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use unicode_general_category::{GeneralCategory, get_general_category};

use crate::{MemoryError, NewTurn, Result};

/// Whether a character shows nothing by itself: white space, control and format characters
/// (zero-width spaces and joiners, bidirectional marks, the byte-order mark, soft hyphens, tag
/// characters), variation selectors, the combining grapheme joiner and the blank letters and
/// symbol that render as empty space (Hangul fillers, the blank Braille pattern).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            get_general_category(c),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::SpaceSeparator
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
        || matches!(
            c,
            '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FFA0}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{E0100}'..='\u{E01EF}'
        )
}

/// Whether a text shows nothing: empty, or only [invisible](is_invisible) characters. Such a
/// text is refused as empty wherever a text is required.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

/// The first character a name may not have: a control character (line breaks and tabs
/// included) or a bidirectional embedding, override or isolate, which would reorder the text
/// around the name wherever it is rendered (units, summaries, context blocks).
pub fn forbidden_in_name(name: &str) -> Option<char> {
    name.chars()
        .find(|&c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

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
        if is_blank(&turn.text) {
            return Err(MemoryError::EmptyText { position });
        }
        check_len(position, "text", &turn.text, limits.max_text_chars)?;
        if is_blank(&turn.speaker) {
            return Err(MemoryError::InvalidField {
                field: "speaker",
                reason: format!("turn {position} has an empty speaker"),
            });
        }
        if let Some(c) = forbidden_in_name(&turn.speaker) {
            return Err(MemoryError::InvalidField {
                field: "speaker",
                reason: format!(
                    "turn {position}: a speaker name may not contain U+{:04X} (control and \
                     bidirectional-override characters are refused in names)",
                    u32::from(c)
                ),
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
    fn text_of_only_invisible_characters_is_blank_and_other_text_is_not() {
        for blank in [
            "",
            " \t\n",
            "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
            "\u{00AD}\u{202E}\u{2066}\u{3164}\u{FE0F}\u{E0041}",
            "\u{00A0}\u{3000}\u{2028}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for visible in ["a", "\u{200B}a", "日本", "🙂", "\u{05D0}", "."] {
            assert!(!is_blank(visible), "{visible:?}");
        }
    }

    #[test]
    fn names_refuse_control_and_bidirectional_override_characters_only() {
        for bad in ["Ann\u{202E}", "A\nnn", "\u{2067}Bo", "Ann\u{7}"] {
            assert!(forbidden_in_name(bad).is_some(), "{bad:?}");
        }
        for good in ["Ann", "José María", "אנה", "Ann-Marie O'Neil", "李"] {
            assert_eq!(forbidden_in_name(good), None, "{good:?}");
        }
        let mut named = turn("hi", None);
        named.speaker = "Ann\u{202E}olleh".into();
        check(
            &[named],
            0,
            &[],
            Some(
                "invalid speaker: turn 0: a speaker name may not contain U+202E (control and bidirectional-override characters are refused in names)",
            ),
        );
        check(
            &[turn("\u{200B}\u{200B}", None)],
            0,
            &[],
            Some("turn 0 has empty text"),
        );
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
