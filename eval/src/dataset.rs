//! LoCoMo questions (category, evidence turn ids, answers) and generated per-speaker
//! observations, with turn ids normalised.

use std::collections::{BTreeMap, HashMap};

use memory::build::render;
use serde_json::Value;
use server::import::locomo::{self, LocomoConversation};

/// LoCoMo's question categories, by their ids in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    MultiHop,
    Temporal,
    OpenDomain,
    SingleHop,
    Adversarial,
}

impl Category {
    /// Every category in id order.
    pub const ALL: [Category; 5] = [
        Category::MultiHop,
        Category::Temporal,
        Category::OpenDomain,
        Category::SingleHop,
        Category::Adversarial,
    ];

    /// The category of an id in the data (1 to 5).
    pub fn from_id(id: u64) -> Option<Self> {
        Self::ALL.get((id as usize).checked_sub(1)?).copied()
    }

    /// The id in the data.
    pub fn id(self) -> u8 {
        self as u8 + 1
    }

    /// The official name.
    pub fn name(self) -> &'static str {
        match self {
            Self::MultiHop => "multi-hop",
            Self::Temporal => "temporal",
            Self::OpenDomain => "open-domain",
            Self::SingleHop => "single-hop",
            Self::Adversarial => "adversarial",
        }
    }
}

/// One question about one conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub sample_id: String,
    pub index: usize,
    pub question: String,
    pub category: Category,
    /// The gold answer (for category 5, the adversarial answer, which is wrong by design).
    pub answer: String,
    /// Evidence turn ids (`D<session>:<turn>`), normalised, existing in the conversation.
    pub evidence: Vec<String>,
    /// Each evidence turn as units render it (`Speaker: text [shared an image: ...]`).
    pub evidence_texts: Vec<String>,
    /// The sessions holding the evidence, as imported (`session_<N>`), without repeats.
    pub evidence_sessions: Vec<String>,
}

/// The imported session id of an evidence id: `D3:5` is in `session_3`.
pub fn evidence_session(id: &str) -> Option<String> {
    let session = id.strip_prefix('D')?.split(':').next()?;
    Some(format!("session_{session}"))
}

/// One of LoCoMo's generated observations: a fact about one speaker and the turns it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// `N` of the `session_<N>_observation` key it was listed under.
    pub session: u32,
    pub speaker: String,
    pub text: String,
    /// Source turn ids (`D<session>:<turn>`), normalised, existing in the conversation, without
    /// repeats; never empty.
    pub sources: Vec<String>,
}

/// A LoCoMo file: conversations with their questions and observations.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub conversations: Vec<LocomoConversation>,
    pub questions: Vec<Question>,
    /// Each conversation's observations in session order, by sample id (a map, so that
    /// filtering `conversations` leaves the lookup valid).
    pub observations: BTreeMap<String, Vec<Observation>>,
    /// Observation entries left out because they could not be read: an unreadable session key,
    /// an entry that is not a `[fact, dia_id]` pair, no fact text, a speaker who is not in the
    /// conversation, or no source id naming a turn of the conversation.
    pub skipped_observations: usize,
}

impl Dataset {
    /// The observations of one conversation (none for an unknown sample id).
    pub fn observations_of(&self, sample_id: &str) -> &[Observation] {
        self.observations.get(sample_id).map_or(&[], Vec::as_slice)
    }
}

/// A LoCoMo file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error(transparent)]
    Locomo(#[from] locomo::LocomoError),
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Format(String),
}

/// Normalises one raw evidence entry into well-formed ids: splits lists written in one string
/// (`"D8:6; D9:17"`, `"D9:1 D4:4"`), repairs `"D:11:26"` and leading zeros (`"D30:05"`), and
/// drops fragments that are not ids (`"D"`).
pub fn normalise_evidence(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .filter_map(|part| {
            let digits: Vec<&str> = part
                .trim_start_matches('D')
                .split(':')
                .filter(|p| !p.is_empty())
                .collect();
            let [session, turn] = digits.as_slice() else {
                return None;
            };
            let session: u32 = session.parse().ok()?;
            let turn: u32 = turn.parse().ok()?;
            Some(format!("D{session}:{turn}"))
        })
        .collect()
}

fn answer_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// How many observation entries a value holds, for counting what is skipped.
fn entry_count(value: &Value) -> usize {
    match value {
        Value::Object(by_speaker) => by_speaker
            .values()
            .map(|facts| facts.as_array().map_or(1, Vec::len))
            .sum(),
        _ => 1,
    }
}

/// One `[fact, dia_id]` entry; the id is one string, a comma-separated string or a list.
fn observation(
    session: u32,
    speaker: &str,
    entry: &Value,
    is_turn: &impl Fn(&str) -> bool,
) -> Option<Observation> {
    let [text, ids] = entry.as_array()?.as_slice() else {
        return None;
    };
    let text = text.as_str()?.trim();
    if text.is_empty() {
        return None;
    }
    let raw: Vec<&str> = match ids {
        Value::String(id) => vec![id.as_str()],
        Value::Array(ids) => ids.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let mut sources: Vec<String> = Vec::new();
    for id in raw.into_iter().flat_map(normalise_evidence) {
        if is_turn(&id) && !sources.contains(&id) {
            sources.push(id);
        }
    }
    (!sources.is_empty()).then(|| Observation {
        session,
        speaker: speaker.to_owned(),
        text: text.to_owned(),
        sources,
    })
}

/// One conversation's `observation` object: the readable observations in session order, and
/// how many entries were skipped. A conversation without the key has none and skips none.
fn parse_observations(
    item: &Value,
    speakers: &[String],
    is_turn: impl Fn(&str) -> bool,
) -> (Vec<Observation>, usize) {
    let Some(value) = item.get("observation") else {
        return (Vec::new(), 0);
    };
    let Some(sessions) = value.as_object() else {
        return (Vec::new(), entry_count(value));
    };
    let mut out = Vec::new();
    let mut skipped = 0;
    for (key, value) in sessions {
        let session = key
            .strip_prefix("session_")
            .and_then(|k| k.strip_suffix("_observation"))
            .and_then(|n| n.parse::<u32>().ok());
        let (Some(session), Some(by_speaker)) = (session, value.as_object()) else {
            skipped += entry_count(value);
            continue;
        };
        for (speaker, entries) in by_speaker {
            let Some(entries) = entries.as_array() else {
                skipped += 1;
                continue;
            };
            if !speakers.iter().any(|s| s == speaker) {
                skipped += entries.len();
                continue;
            }
            for entry in entries {
                match observation(session, speaker, entry, &is_turn) {
                    Some(o) => out.push(o),
                    None => skipped += 1,
                }
            }
        }
    }
    // JSON object keys come sorted as text (`session_10` before `session_2`); the sort is
    // stable, so entries keep their order within a session.
    out.sort_by_key(|o| o.session);
    (out, skipped)
}

/// Parses a LoCoMo file with its questions and observations. Evidence ids that name no turn
/// of the conversation (two in locomo10.json) are dropped; unreadable observation entries are
/// counted in [`Dataset::skipped_observations`], not fatal.
pub fn load(bytes: &[u8]) -> Result<Dataset, DatasetError> {
    let conversations = locomo::parse(bytes)?;
    let raw: Value = serde_json::from_slice(bytes)?;
    let items = raw
        .as_array()
        .ok_or_else(|| DatasetError::Format("expected an array".into()))?;
    let mut questions = Vec::new();
    let mut observations = BTreeMap::new();
    let mut skipped_observations = 0;
    for (item, conversation) in items.iter().zip(&conversations) {
        let rendered: HashMap<&str, String> = conversation
            .sessions
            .iter()
            .flat_map(|s| s.turns.iter())
            .filter_map(|t| {
                Some((
                    t.external_id.as_deref()?,
                    render(&t.speaker, &t.text, t.caption.as_deref()),
                ))
            })
            .collect();
        let (found, skipped) =
            parse_observations(item, &conversation.speakers, |id| rendered.contains_key(id));
        observations.insert(conversation.sample_id.clone(), found);
        skipped_observations += skipped;
        for (index, qa) in item["qa"].as_array().into_iter().flatten().enumerate() {
            let category = qa["category"]
                .as_u64()
                .and_then(Category::from_id)
                .ok_or_else(|| {
                    DatasetError::Format(format!(
                        "{} qa {index}: bad category",
                        conversation.sample_id
                    ))
                })?;
            let answer = answer_text(qa.get("answer"))
                .or_else(|| answer_text(qa.get("adversarial_answer")))
                .unwrap_or_default();
            let mut evidence: Vec<String> = Vec::new();
            for e in qa["evidence"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                for id in normalise_evidence(e) {
                    if rendered.contains_key(id.as_str()) && !evidence.contains(&id) {
                        evidence.push(id);
                    }
                }
            }
            let evidence_texts = evidence
                .iter()
                .map(|id| rendered[id.as_str()].clone())
                .collect();
            let mut evidence_sessions: Vec<String> = Vec::new();
            for s in evidence.iter().filter_map(|id| evidence_session(id)) {
                if !evidence_sessions.contains(&s) {
                    evidence_sessions.push(s);
                }
            }
            questions.push(Question {
                sample_id: conversation.sample_id.clone(),
                index,
                question: qa["question"].as_str().unwrap_or_default().to_owned(),
                category,
                answer,
                evidence,
                evidence_texts,
                evidence_sessions,
            });
        }
    }
    Ok(Dataset {
        conversations,
        questions,
        observations,
        skipped_observations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expected: &[&str]) {
        assert_eq!(normalise_evidence(raw), expected, "{raw}");
    }

    #[test]
    fn malformed_evidence_ids_are_repaired() {
        check("D1:3", &["D1:3"]);
        check("D8:6; D9:17", &["D8:6", "D9:17"]);
        check("D9:1 D4:4 D4:6", &["D9:1", "D4:4", "D4:6"]);
        check("D:11:26", &["D11:26"]);
        check("D30:05", &["D30:5"]);
        check("D", &[]);
        assert_eq!(evidence_session("D12:3").as_deref(), Some("session_12"));
    }

    /// A two-session conversation whose observations use every shape of `dia_id` plus one
    /// entry of each unreadable kind.
    const OBSERVED: &str = r#"[{"sample_id": "conv-x", "conversation": {
        "speaker_a": "Ann", "speaker_b": "Bo",
        "session_1_date_time": "1:56 pm on 1 May, 2023",
        "session_2_date_time": "9:00 am on 2 May, 2023",
        "session_1": [{"speaker": "Ann", "dia_id": "D1:1", "text": "I keep bees."},
                      {"speaker": "Bo", "dia_id": "D1:2", "text": "I sail."},
                      {"speaker": "Ann", "dia_id": "D1:3", "text": "Honey is sweet."}],
        "session_2": [{"speaker": "Bo", "dia_id": "D2:1", "text": "I moved."},
                      {"speaker": "Ann", "dia_id": "D2:2", "text": "Where to?"}]
      },
      "qa": [],
      "observation": {
        "session_2_observation": {
          "Bo": [["Bo moved house.", "D2:1, D2:2"]],
          "Ann": [["Ann asked where Bo moved.", ["D2:2", "D2:1", "D2:2"]]]
        },
        "session_1_observation": {
          "Ann": [["Ann keeps bees.", "D1:1"],
                  ["Ann has a hive.", "D9:9"],
                  ["", "D1:3"],
                  ["Ann likes honey."],
                  ["Ann likes honey.", 13]],
          "Cy": [["Cy is not in this conversation.", "D1:2"]],
          "Bo": [["Bo sails.", "D01:2"]]
        },
        "notes": {"Ann": [["Ann is a note.", "D1:1"], ["So is this.", "D1:3"]]}
      }
    }]"#;

    #[test]
    fn observations_parse_every_dia_id_shape_and_count_skipped_entries() {
        let data = load(OBSERVED.as_bytes()).unwrap();
        let mut found: Vec<(u32, &str, &str, Vec<&str>)> = data
            .observations_of("conv-x")
            .iter()
            .map(|o| {
                let sources = o.sources.iter().map(String::as_str).collect();
                (o.session, o.speaker.as_str(), o.text.as_str(), sources)
            })
            .collect();
        // Speakers within a session come in the JSON map's order, which is not specified.
        found.sort();
        assert_eq!(
            found,
            vec![
                (1, "Ann", "Ann keeps bees.", vec!["D1:1"]),
                (1, "Bo", "Bo sails.", vec!["D1:2"]),
                (2, "Ann", "Ann asked where Bo moved.", vec!["D2:2", "D2:1"]),
                (2, "Bo", "Bo moved house.", vec!["D2:1", "D2:2"]),
            ]
        );
        // A dangling id, empty text, a one-element entry, a numeric id, an unknown speaker and
        // the two entries under a key that names no session.
        assert_eq!(data.skipped_observations, 7);
        assert!(data.observations_of("conv-y").is_empty());
    }

    #[test]
    fn conversations_without_observations_have_none_and_skip_none() {
        let file = OBSERVED.replace("\"observation\"", "\"unused\"");
        let data = load(file.as_bytes()).unwrap();
        assert!(data.observations_of("conv-x").is_empty());
        assert_eq!(data.skipped_observations, 0);
    }
}
