//! Persona wire types.

use std::collections::HashMap;

use memory::persona::{Statement, StatementEdit, StatementKind};
use memory::store::{MAX_STATEMENT_CHARS, StatementTurn};
use memory::{Channel, Role, TurnId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::{Persona, PersonaFilter, StatementHistory, StatementView};
use crate::http::codes::Code;
use crate::http::error::ApiError;

/// The most characters of a speaker name in a filter.
const MAX_SPEAKER_CHARS: usize = 200;

/// `GET .../persona` query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonaQuery {
    /// Only this speaker's statements (exact name, as in the turns).
    #[schemars(schema_with = "super::optional_name_schema")]
    speaker: Option<String>,
    /// Only statements with a provenance turn this writer wrote (a key id, `import`, ...).
    #[schemars(length(min = 1, max = super::MAX_WRITER_CHARS))]
    writer: Option<String>,
    /// Only statements with a provenance turn that came through this channel.
    channel: Option<Channel>,
    /// Also superseded and deleted statements.
    #[serde(default)]
    history: bool,
}

impl PersonaQuery {
    pub(crate) fn into_filter(self) -> Result<PersonaFilter, ApiError> {
        if let Some(s) = &self.speaker
            && (memory::validate::is_blank(s) || s.chars().count() > MAX_SPEAKER_CHARS)
        {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!("speaker must be 1 to {MAX_SPEAKER_CHARS} characters"),
            ));
        }
        super::check_writer(self.writer.as_deref(), Code::InvalidQuery)?;
        Ok(PersonaFilter {
            speaker: self.speaker,
            writer: self.writer,
            channel: self.channel,
            history: self.history,
        })
    }
}

/// A statement's provenance turn.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StatementTurnOut {
    turn_id: i64,
    session_id: String,
    external_id: Option<String>,
    speaker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<Role>,
    /// Who wrote the turn into mnemo.
    #[serde(skip_serializing_if = "Option::is_none")]
    writer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<Channel>,
}

impl From<&StatementTurn> for StatementTurnOut {
    fn from(t: &StatementTurn) -> Self {
        Self {
            turn_id: t.turn_id.0,
            session_id: t.session_id.to_string(),
            external_id: t.external_id.clone(),
            speaker: t.speaker.clone(),
            role: Some(t.role),
            writer: Some(t.source.writer.clone()),
            channel: Some(t.source.channel),
        }
    }
}

/// A persona statement.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StatementOut {
    statement_id: i64,
    speaker: String,
    kind: StatementKind,
    text: String,
    /// What the statement is about (`lives_in`, `pet:dog`, ...): statements with the same slot
    /// and a different value contradict each other.
    slot: String,
    confidence: f32,
    first_seen: String,
    last_seen: String,
    /// `active`, `superseded` or `deleted`.
    status: String,
    version: u32,
    superseded_by: Option<i64>,
    /// How many times the statement was read from the dialogue.
    evidence: u32,
    /// `extractive`, `llm`, `extractive_fallback` or `edited`.
    producer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    producer_model: Option<String>,
    /// The supporting turns, oldest first.
    turns: Vec<StatementTurnOut>,
}

impl StatementOut {
    pub(crate) fn new(s: Statement, turns: &HashMap<TurnId, StatementTurn>) -> Self {
        Self {
            statement_id: s.id,
            speaker: s.speaker,
            kind: s.kind,
            text: s.text,
            slot: s.slot,
            confidence: s.confidence,
            first_seen: s.first_seen.to_rfc3339(),
            last_seen: s.last_seen.to_rfc3339(),
            status: s.status.as_str().to_owned(),
            version: s.version,
            superseded_by: s.superseded_by,
            evidence: s.evidence,
            producer: s.producer.as_str().to_owned(),
            producer_model: s.producer.model().map(str::to_owned),
            turns: s
                .turns
                .iter()
                .filter_map(|t| turns.get(t).map(StatementTurnOut::from))
                .collect(),
        }
    }
}

impl From<StatementView> for StatementOut {
    fn from(v: StatementView) -> Self {
        Self::new(v.statement, &v.turns)
    }
}

/// A user's persona.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PersonaOut {
    /// A short paragraph per speaker, from the active statements.
    summary: String,
    statements: Vec<StatementOut>,
}

impl From<Persona> for PersonaOut {
    fn from(p: Persona) -> Self {
        Self {
            summary: p.summary,
            statements: p
                .statements
                .into_iter()
                .map(|s| StatementOut::new(s, &p.turns))
                .collect(),
        }
    }
}

/// `PATCH .../persona/statements/{id}` body: what to change.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1))]
pub(crate) struct StatementPatch {
    #[schemars(schema_with = "super::optional_text_schema")]
    text: Option<String>,
    kind: Option<StatementKind>,
    #[schemars(range(max = 1.0), extend("exclusiveMinimum" = 0))]
    confidence: Option<f32>,
}

impl StatementPatch {
    pub(crate) fn into_edit(self) -> Result<StatementEdit, ApiError> {
        if self.text.is_none() && self.kind.is_none() && self.confidence.is_none() {
            return Err(ApiError::new(
                Code::InvalidField,
                "give at least one of text, kind and confidence",
            ));
        }
        if let Some(text) = &self.text
            && text.chars().count() > MAX_STATEMENT_CHARS * 4
        {
            // The store checks the trimmed length; this bounds the work before it.
            return Err(ApiError::new(
                Code::TextTooLong,
                format!("text is over {MAX_STATEMENT_CHARS} characters"),
            ));
        }
        Ok(StatementEdit {
            text: self.text,
            kind: self.kind,
            confidence: self.confidence,
        })
    }
}

/// One version of a statement.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct VersionOut {
    version: u32,
    at: String,
    actor: String,
    action: String,
    statement: StatementOut,
}

/// A statement and its history, oldest version first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HistoryOut {
    statement: StatementOut,
    versions: Vec<VersionOut>,
}

impl From<StatementHistory> for HistoryOut {
    fn from(h: StatementHistory) -> Self {
        Self {
            statement: StatementOut::new(h.statement, &h.turns),
            versions: h
                .versions
                .into_iter()
                .map(|v| VersionOut {
                    version: v.version,
                    at: v.at.to_rfc3339(),
                    actor: v.actor,
                    action: v.action,
                    statement: StatementOut::new(v.statement, &h.turns),
                })
                .collect(),
        }
    }
}
