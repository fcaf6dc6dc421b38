//! LoCoMo questions: category, evidence turn ids (normalised) and answers.

use std::collections::HashMap;

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

/// A LoCoMo file: conversations with their questions.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub conversations: Vec<LocomoConversation>,
    pub questions: Vec<Question>,
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

/// Parses a LoCoMo file with its questions. Evidence ids that name no turn of the
/// conversation (two in locomo10.json) are dropped.
pub fn load(bytes: &[u8]) -> Result<Dataset, DatasetError> {
    let conversations = locomo::parse(bytes)?;
    let raw: Value = serde_json::from_slice(bytes)?;
    let items = raw
        .as_array()
        .ok_or_else(|| DatasetError::Format("expected an array".into()))?;
    let mut questions = Vec::new();
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
}
