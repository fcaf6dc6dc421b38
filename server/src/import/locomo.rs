//! The LoCoMo file format: conversations of two speakers over numbered, dated sessions.
//! Only the conversations are read here; questions are the evaluation harness's business.

use chrono::NaiveDateTime;
use memory::{NewSession, NewTurn, Role, SessionId, Timestamp};
use serde_json::{Map, Value};

/// A LoCoMo file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LocomoError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{at}: {reason}")]
    Format { at: String, reason: String },
}

fn format_error(at: impl Into<String>, reason: impl Into<String>) -> LocomoError {
    LocomoError::Format {
        at: at.into(),
        reason: reason.into(),
    }
}

/// One conversation: its id (the user id on import), its speakers and its sessions in order.
#[derive(Debug, Clone, PartialEq)]
pub struct LocomoConversation {
    pub sample_id: String,
    pub speakers: Vec<String>,
    pub sessions: Vec<NewSession>,
}

impl LocomoConversation {
    /// Turns over all sessions.
    pub fn turn_count(&self) -> usize {
        self.sessions.iter().map(|s| s.turns.len()).sum()
    }
}

/// Parses LoCoMo's session times, such as `1:56 pm on 8 May, 2023`, as UTC.
pub fn parse_date(value: &str) -> Option<Timestamp> {
    let cleaned = value.trim().replace("  ", " ");
    ["%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&cleaned, f).ok())
        .map(|t| Timestamp::from_datetime(t.and_utc()))
}

fn text_field(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn parse_turn(value: &Value, at: &str) -> Result<NewTurn, LocomoError> {
    let turn = value
        .as_object()
        .ok_or_else(|| format_error(at, "a turn is not an object"))?;
    let speaker =
        text_field(turn, "speaker").ok_or_else(|| format_error(at, "a turn has no speaker"))?;
    let text = text_field(turn, "text").ok_or_else(|| format_error(at, "a turn has no text"))?;
    let mut metadata = Map::new();
    for key in ["img_url", "query", "re-download"] {
        if let Some(v) = turn.get(key) {
            metadata.insert(key.to_owned(), v.clone());
        }
    }
    Ok(NewTurn {
        speaker,
        role: Role::User,
        text,
        timestamp: None,
        external_id: text_field(turn, "dia_id"),
        caption: text_field(turn, "blip_caption"),
        metadata: (!metadata.is_empty()).then_some(Value::Object(metadata)),
    })
}

fn parse_conversation(item: &Value, index: usize) -> Result<LocomoConversation, LocomoError> {
    let at = format!("conversation {index}");
    let sample_id = item
        .get("sample_id")
        .and_then(Value::as_str)
        .ok_or_else(|| format_error(&at, "no sample_id"))?
        .to_owned();
    let conversation = item
        .get("conversation")
        .and_then(Value::as_object)
        .ok_or_else(|| format_error(&sample_id, "no conversation object"))?;
    let speakers = ["speaker_a", "speaker_b"]
        .iter()
        .filter_map(|k| text_field(conversation, k))
        .collect();
    // Sessions are the `session_<N>` keys holding turns; some files carry date keys for
    // sessions that do not exist, so the dates are looked up from the sessions, not the reverse.
    let mut numbers: Vec<u32> = conversation
        .iter()
        .filter(|(_, v)| v.is_array())
        .filter_map(|(k, _)| k.strip_prefix("session_")?.parse().ok())
        .collect();
    numbers.sort_unstable();
    let mut sessions = Vec::with_capacity(numbers.len());
    for n in numbers {
        let at = format!("{sample_id} session_{n}");
        let date_key = format!("session_{n}_date_time");
        let date =
            text_field(conversation, &date_key).ok_or_else(|| format_error(&at, "no date"))?;
        let started_at = parse_date(&date)
            .ok_or_else(|| format_error(&at, format!("unreadable date {date:?}")))?;
        let turns = conversation
            .get(&format!("session_{n}"))
            .and_then(Value::as_array)
            .map(|turns| {
                turns
                    .iter()
                    .map(|t| parse_turn(t, &at))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let session_id =
            SessionId::new(format!("session_{n}")).map_err(|e| format_error(&at, e.to_string()))?;
        sessions.push(NewSession {
            session_id,
            started_at,
            title: Some(format!("{sample_id} session {n} ({date})")),
            turns,
        });
    }
    Ok(LocomoConversation {
        sample_id,
        speakers,
        sessions,
    })
}

/// Parses a LoCoMo file (a JSON array of conversations).
pub fn parse(bytes: &[u8]) -> Result<Vec<LocomoConversation>, LocomoError> {
    let value: Value = serde_json::from_slice(bytes)?;
    let items = value
        .as_array()
        .ok_or_else(|| format_error("top level", "expected an array of conversations"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_conversation(item, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_date(value: &str, expected: Option<&str>) {
        assert_eq!(
            parse_date(value).map(Timestamp::to_rfc3339).as_deref(),
            expected,
            "{value}"
        );
    }

    #[test]
    fn locomo_dates_parse() {
        check_date("1:56 pm on 8 May, 2023", Some("2023-05-08T13:56:00Z"));
        check_date("10:37 am on 27 June, 2023", Some("2023-06-27T10:37:00Z"));
        check_date(
            "12:09 am on 13 September, 2023",
            Some("2023-09-13T00:09:00Z"),
        );
        check_date("8 May 2023", None);
    }

    #[test]
    fn conversations_parse_with_captions_ids_and_only_real_sessions() {
        let file = r#"[{"sample_id": "conv-1", "conversation": {
            "speaker_a": "Ann", "speaker_b": "Bo",
            "session_2_date_time": "9:00 am on 2 May, 2023",
            "session_1_date_time": "1:56 pm on 1 May, 2023",
            "session_3_date_time": "1:56 pm on 3 May, 2023",
            "session_1": [{"speaker": "Ann", "dia_id": "D1:1", "text": "Hi"},
                          {"speaker": "Bo", "dia_id": "D1:2", "text": "Look", "blip_caption": "a dog", "img_url": ["x"]}],
            "session_2": [{"speaker": "Ann", "dia_id": "D2:1", "text": "Bye"}]
        }, "qa": []}]"#;
        let conversations = parse(file.as_bytes()).unwrap();
        let c = &conversations[0];
        assert_eq!(c.sample_id, "conv-1");
        assert_eq!(c.speakers, vec!["Ann", "Bo"]);
        assert_eq!(c.sessions.len(), 2);
        assert_eq!(c.turn_count(), 3);
        let t = &c.sessions[0].turns[1];
        assert_eq!(t.external_id.as_deref(), Some("D1:2"));
        assert_eq!(t.caption.as_deref(), Some("a dog"));
        assert_eq!(
            c.sessions[1].started_at.to_rfc3339(),
            "2023-05-02T09:00:00Z"
        );
        assert!(parse(b"{}").is_err());
    }
}
