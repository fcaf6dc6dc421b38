//! Search wire types.

use memory::{Channel, Granularity, Role, SessionId, SourceFilter, TimeRange};
use retrieval::router::RouteWeight;
use retrieval::{Fusion, MemGasOverrides, SearchParams, StrategyChoice, StrategyKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::time;
use super::units::UnitOut;
use crate::engine::{SearchOutcome, SearchResult};
use crate::http::codes::Code;
use crate::http::error::ApiError;

/// How results are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GroupBy {
    /// One ranked list of units.
    #[default]
    Unit,
    /// The ranked units, and also their sessions ranked by their best unit.
    Session,
}

/// The body of `POST /v1/users/{user_id}/search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchIn {
    #[schemars(schema_with = "super::text_schema")]
    query: String,
    #[serde(default)]
    #[schemars(range(min = 1))]
    top_k: Option<usize>,
    #[serde(default)]
    granularities: Option<Vec<Granularity>>,
    #[serde(default)]
    #[schemars(schema_with = "super::optional_time_schema")]
    time_from: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::optional_time_schema")]
    time_to: Option<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::optional_time_schema")]
    as_of: Option<String>,
    #[serde(default)]
    strategy: Option<StrategyKind>,
    #[serde(default)]
    fusion: Option<Fusion>,
    /// Typed and closed: an unknown setting is an `unknown_field` error when the body is parsed.
    #[serde(default)]
    memgas: Option<MemGasOverrides>,
    #[serde(default)]
    group_by: GroupBy,
    #[serde(default)]
    explain: bool,
    /// Only units with a provenance turn this writer wrote (a key id, `import`, ...).
    #[serde(default)]
    #[schemars(length(min = 1, max = super::MAX_WRITER_CHARS))]
    writer: Option<String>,
    /// Only units with a provenance turn that came through this channel.
    #[serde(default)]
    channel: Option<Channel>,
    /// Exact-match filters on the units' sessions and provenance turns, applied before ranking
    /// in both strategies.
    #[serde(default)]
    filter: Option<FilterIn>,
}

/// Exact-match filters of a search: units of the sessions named, with a provenance turn that
/// matches every other filter given (one turn matching all, `writer` and `channel` included).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterIn {
    /// The turn's speaker.
    #[serde(default)]
    #[schemars(length(min = 1, max = MAX_FILTER_TEXT))]
    speaker: Option<String>,
    /// The turn's role.
    #[serde(default)]
    role: Option<Role>,
    /// Only units of these sessions (1 to 100 ids).
    #[serde(default)]
    #[schemars(schema_with = "super::optional_ids_schema")]
    session_ids: Option<Vec<String>>,
    /// Keys of the turn's metadata with the value each must hold: a string, number, boolean
    /// or null (at most 16 keys).
    #[serde(default)]
    #[schemars(schema_with = "metadata_filter_schema")]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The longest speaker name or metadata key a filter may name.
const MAX_FILTER_TEXT: usize = 1_000;
/// The most sessions and metadata keys one filter may name.
const MAX_FILTER_SESSIONS: usize = 100;
const MAX_FILTER_KEYS: usize = 16;

fn metadata_filter_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["object", "null"],
        "maxProperties": MAX_FILTER_KEYS,
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]}
    })
}

impl FilterIn {
    /// Fills `sources` with the checked filters.
    fn apply(self, sources: &mut SourceFilter) -> Result<(), ApiError> {
        let bad = |reason: String| ApiError::new(Code::InvalidField, reason);
        if let Some(speaker) = &self.speaker
            && (speaker.is_empty() || speaker.chars().count() > MAX_FILTER_TEXT)
        {
            return Err(bad(format!(
                "filter.speaker must be 1 to {MAX_FILTER_TEXT} characters"
            )));
        }
        let sessions = self.session_ids.unwrap_or_default();
        if sessions.len() > MAX_FILTER_SESSIONS {
            return Err(bad(format!(
                "filter.session_ids names at most {MAX_FILTER_SESSIONS} sessions"
            )));
        }
        let metadata: Vec<(String, serde_json::Value)> =
            self.metadata.unwrap_or_default().into_iter().collect();
        if metadata.len() > MAX_FILTER_KEYS {
            return Err(bad(format!(
                "filter.metadata names at most {MAX_FILTER_KEYS} keys"
            )));
        }
        for (key, value) in &metadata {
            if key.is_empty() || key.chars().count() > MAX_FILTER_TEXT {
                return Err(bad(format!(
                    "filter.metadata keys must be 1 to {MAX_FILTER_TEXT} characters"
                )));
            }
            if value.is_array() || value.is_object() {
                return Err(bad(format!(
                    "filter.metadata.{key} must be a string, number, boolean or null"
                )));
            }
        }
        sources.speaker = self.speaker;
        sources.role = self.role;
        sources.sessions = sessions
            .into_iter()
            .map(SessionId::new)
            .collect::<Result<_, _>>()?;
        sources.metadata = metadata;
        Ok(())
    }
}

/// A search as the engine takes it, and how to lay out its results.
#[derive(Debug)]
pub(crate) struct SearchRequest {
    pub(crate) params: SearchParams,
    pub(crate) sources: SourceFilter,
    pub(crate) group_by: GroupBy,
    pub(crate) explain: bool,
}

/// Results returned when the request names no `top_k`.
const DEFAULT_TOP_K: usize = 10;

impl SearchIn {
    /// The engine's search and how to lay out its results.
    pub(crate) fn into_request(self) -> Result<SearchRequest, ApiError> {
        super::check_writer(self.writer.as_deref(), Code::InvalidField)?;
        let params = SearchParams {
            query: self.query,
            top_k: self.top_k.unwrap_or(DEFAULT_TOP_K),
            granularities: self.granularities.unwrap_or_default(),
            time: TimeRange {
                from: time(self.time_from.as_deref())?,
                to: time(self.time_to.as_deref())?,
            },
            as_of: time(self.as_of.as_deref())?,
            explain: self.explain,
            method: StrategyChoice {
                strategy: self.strategy,
                fusion: self.fusion,
                memgas: self.memgas,
            },
        };
        let mut sources = SourceFilter {
            writer: self.writer,
            channel: self.channel,
            ..SourceFilter::default()
        };
        if let Some(filter) = self.filter {
            filter.apply(&mut sources)?;
        }
        Ok(SearchRequest {
            params,
            sources,
            group_by: self.group_by,
            explain: self.explain,
        })
    }
}

#[derive(Debug, Serialize, JsonSchema)]
struct ScoresOut {
    dense: Option<f32>,
    dense_rank: Option<u32>,
    lexical: Option<f32>,
    lexical_rank: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    router_weight: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    graph: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_prior: Option<f32>,
    fused: f32,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ResultOut {
    rank: usize,
    #[serde(flatten)]
    unit: UnitOut,
    scores: ScoresOut,
}

/// A session with the ranks of its units among the results.
#[derive(Debug, Serialize, JsonSchema)]
struct SessionHitOut {
    rank: usize,
    session_id: String,
    event_time: String,
    /// The fused score of the session's best unit.
    score: f32,
    /// Ranks (1-based) of the session's units in `results`, best first.
    result_ranks: Vec<usize>,
}

/// One granularity's routing, with `explain`.
#[derive(Debug, Serialize, JsonSchema)]
struct RouteOut {
    granularity: Granularity,
    units: usize,
    entropy: f32,
    normalized_entropy: f32,
    weight: f32,
}

/// Ranked search results.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SearchOut {
    results: Vec<ResultOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sessions: Option<Vec<SessionHitOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    router: Option<Vec<RouteOut>>,
}

fn result(rank: usize, r: SearchResult) -> ResultOut {
    ResultOut {
        rank,
        unit: UnitOut::with_relevance(r.unit, &r.turn_relevance),
        scores: ScoresOut {
            dense: r.scores.dense,
            dense_rank: r.scores.dense_rank,
            lexical: r.scores.lexical,
            lexical_rank: r.scores.lexical_rank,
            router_weight: r.scores.router_weight,
            graph: r.scores.graph,
            session_prior: r.scores.prior,
            fused: r.scores.fused,
        },
    }
}

/// Sessions in the order of their best result.
fn sessions(results: &[SearchResult]) -> Vec<SessionHitOut> {
    let mut out: Vec<SessionHitOut> = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let id = r.unit.session_id.to_string();
        match out.iter_mut().find(|s| s.session_id == id) {
            Some(s) => s.result_ranks.push(i + 1),
            None => out.push(SessionHitOut {
                rank: out.len() + 1,
                session_id: id,
                event_time: r.unit.event_time.to_rfc3339(),
                score: r.scores.fused,
                result_ranks: vec![i + 1],
            }),
        }
    }
    out
}

impl SearchOut {
    pub(crate) fn new(outcome: SearchOutcome, group_by: GroupBy, explain: bool) -> Self {
        let sessions = (group_by == GroupBy::Session).then(|| sessions(&outcome.results));
        let router = (explain && !outcome.router.is_empty()).then(|| {
            outcome
                .router
                .iter()
                .map(|r: &RouteWeight| RouteOut {
                    granularity: r.granularity,
                    units: r.units,
                    entropy: r.entropy,
                    normalized_entropy: r.normalized_entropy,
                    weight: r.weight,
                })
                .collect()
        });
        Self {
            results: outcome
                .results
                .into_iter()
                .enumerate()
                .map(|(i, r)| result(i + 1, r))
                .collect(),
            sessions,
            router,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::check_body;

    fn check(body: &str, code: Option<&str>) {
        check_body::<SearchIn>(body, code);
    }

    #[test]
    fn memgas_settings_are_typed_and_closed() {
        check(
            r#"{"query": "q", "memgas": {"lambda": 0.1, "returns": []}}"#,
            None,
        );
        check(
            r#"{"query": "q", "memgas": {"lamda": 0.1}}"#,
            Some("unknown_field"),
        );
        check(
            r#"{"query": "q", "memgas": {"lambda": "x"}}"#,
            Some("invalid_field"),
        );
        check(
            r#"{"query": "q", "memgas": {"router": "best"}}"#,
            Some("invalid_field"),
        );
        check(r#"{"query": "q", "memgas": 5}"#, Some("invalid_field"));
    }
}
