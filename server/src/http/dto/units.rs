//! Unit wire types.

use memory::store::UnitVersion;
use memory::{Channel, Granularity, Role, SessionId, TurnRef, Unit, UnitFilter, UnitId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::http::codes::Code;
use crate::http::error::ApiError;

/// Provenance: a turn a unit covers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TurnRefOut {
    turn_id: i64,
    external_id: Option<String>,
    speaker: String,
    role: Role,
    /// Who wrote the turn into mnemo: a key id, or `import`, `eval`, `anonymous`...
    writer: String,
    channel: Channel,
    /// With `explain`: the turn's own similarity to the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    relevance: Option<f32>,
}

impl TurnRefOut {
    pub(crate) fn new(t: TurnRef, relevance: Option<f32>) -> Self {
        Self {
            turn_id: t.turn_id.0,
            external_id: t.external_id,
            speaker: t.speaker,
            role: t.role,
            writer: t.source.writer,
            channel: t.source.channel,
            relevance,
        }
    }
}

/// A memory unit.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UnitOut {
    unit_id: i64,
    session_id: String,
    granularity: Granularity,
    ordinal: u32,
    text: String,
    event_time: String,
    created_at: String,
    updated_at: String,
    version: u32,
    /// `verbatim`, `extractive`, `llm`, `extractive_fallback` (the model failed) or `edited`.
    producer: String,
    /// The language model that built the unit, or failed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    producer_model: Option<String>,
    turns: Vec<TurnRefOut>,
    /// With a single unit: the units it is associated with, strongest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    links: Option<Vec<LinkOut>>,
}

/// An association edge from the unit shown.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LinkOut {
    unit_id: i64,
    /// The cosine similarity of the two units.
    weight: f32,
}

impl From<Unit> for UnitOut {
    fn from(u: Unit) -> Self {
        Self::with_relevance(u, &[])
    }
}

impl UnitOut {
    /// A unit whose provenance turns carry their relevance to a query, where known.
    pub(crate) fn with_relevance(u: Unit, relevance: &[Option<f32>]) -> Self {
        Self {
            unit_id: u.unit_id.0,
            session_id: u.session_id.to_string(),
            granularity: u.granularity,
            ordinal: u.ordinal,
            text: u.text,
            event_time: u.event_time.to_rfc3339(),
            created_at: u.created_at.to_rfc3339(),
            updated_at: u.updated_at.to_rfc3339(),
            version: u.version,
            producer: u.producer.as_str().to_owned(),
            producer_model: u.producer.model().map(str::to_owned),
            turns: u
                .turns
                .into_iter()
                .enumerate()
                .map(|(i, t)| TurnRefOut::new(t, relevance.get(i).copied().flatten()))
                .collect(),
            links: None,
        }
    }

    /// The unit with its association links.
    pub(crate) fn with_links(mut self, links: &[(UnitId, f32)]) -> Self {
        self.links = Some(
            links
                .iter()
                .map(|&(u, weight)| LinkOut {
                    unit_id: u.0,
                    weight,
                })
                .collect(),
        );
        self
    }
}

/// Filters of `GET /v1/users/{user_id}/units`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnitQuery {
    #[schemars(schema_with = "super::id_schema")]
    session_id: Option<String>,
    granularity: Option<Granularity>,
    after: Option<i64>,
    #[schemars(range(min = 1, max = MAX_UNIT_PAGE))]
    limit: Option<u32>,
}

/// The most units one page returns.
const MAX_UNIT_PAGE: u32 = 1_000;

impl UnitQuery {
    pub(crate) fn into_filter(self) -> Result<UnitFilter, ApiError> {
        let limit = self.limit.unwrap_or(100);
        if limit == 0 || limit > MAX_UNIT_PAGE {
            return Err(ApiError::new(
                Code::InvalidQuery,
                format!("limit must be between 1 and {MAX_UNIT_PAGE}"),
            ));
        }
        Ok(UnitFilter {
            session_id: self.session_id.map(SessionId::new).transpose()?,
            granularity: self.granularity,
            after: self.after.map(UnitId),
            limit,
        })
    }
}

/// A page of units; `next_after` continues the listing when the page was full.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UnitListOut {
    units: Vec<UnitOut>,
    next_after: Option<i64>,
}

impl UnitListOut {
    pub(crate) fn new(units: Vec<Unit>, limit: u32) -> Self {
        let next_after = (units.len() as u32 == limit)
            .then(|| units.last().map(|u| u.unit_id.0))
            .flatten();
        Self {
            units: units.into_iter().map(UnitOut::from).collect(),
            next_after,
        }
    }
}

/// A person's correction of a unit's or a turn's text.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TextPatch {
    /// The new text (at most `limits.max_text_chars` characters).
    #[schemars(schema_with = "super::text_schema")]
    pub(crate) text: String,
}

/// One version of a unit.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UnitVersionOut {
    version: u32,
    at: String,
    /// `worker` for a build, else the key id of the person's client.
    actor: String,
    /// `built`, `edited` or `deleted`.
    action: String,
    producer: String,
    text: String,
}

impl From<UnitVersion> for UnitVersionOut {
    fn from(v: UnitVersion) -> Self {
        Self {
            version: v.version,
            at: v.at.to_rfc3339(),
            actor: v.actor,
            action: v.action,
            producer: v.producer,
            text: v.text,
        }
    }
}

/// A deleted unit: the version that records its deletion.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UnitDeletedOut {
    unit_id: i64,
    deleted: UnitVersionOut,
}

impl UnitDeletedOut {
    pub(crate) fn new(unit_id: UnitId, version: UnitVersion) -> Self {
        Self {
            unit_id: unit_id.0,
            deleted: version.into(),
        }
    }
}

/// Every version of a unit, oldest first.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct UnitHistoryOut {
    unit_id: i64,
    versions: Vec<UnitVersionOut>,
}

impl UnitHistoryOut {
    pub(crate) fn new(unit_id: UnitId, versions: Vec<UnitVersion>) -> Self {
        Self {
            unit_id: unit_id.0,
            versions: versions.into_iter().map(UnitVersionOut::from).collect(),
        }
    }
}
