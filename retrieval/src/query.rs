//! What a search asks for and what it returns.

use memory::{Granularity, TimeRange, Timestamp, UnitId};

use crate::router::RouteWeight;
use crate::strategy::StrategyChoice;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the per-granularity dense and lexical lists become one ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fusion {
    /// Reciprocal-rank fusion of every dense and lexical list.
    #[default]
    Rrf,
    /// Dense similarity only.
    Dense,
    /// BM25 only.
    Lexical,
}

/// A search, validated by [`crate::Retriever::search`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchParams {
    pub query: String,
    pub top_k: usize,
    /// Granularities to search; empty means the method's default.
    pub granularities: Vec<Granularity>,
    pub time: TimeRange,
    /// Search memory as it was at this time: later units are left out.
    pub as_of: Option<Timestamp>,
    /// Also rate every turn that a result covers by its own relevance to the query.
    pub explain: bool,
    /// The ranking method and its settings; the configured default where it names none.
    pub method: StrategyChoice,
}

impl SearchParams {
    /// A search of the default granularities with the default method and no time limits.
    pub fn new(query: impl Into<String>, top_k: usize) -> Self {
        Self {
            query: query.into(),
            top_k,
            ..Self::default()
        }
    }

    /// The time range with `as_of` applied.
    pub fn effective_time(&self) -> TimeRange {
        let mut time = self.time;
        if let Some(as_of) = self.as_of {
            let end = Timestamp(as_of.0.saturating_add(1));
            time.to = Some(time.to.map_or(end, |t| t.min(end)));
        }
        time
    }
}

/// A search's ranking, with the query vector when the query was embedded.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub hits: Vec<Hit>,
    pub query_vector: Option<Vec<f32>>,
    /// The router's weight and entropy of each granularity (MemGAS only).
    pub router: Vec<RouteWeight>,
}

/// The score of each signal for one result. A signal that did not rank the unit among its
/// candidates has no score.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SignalScores {
    /// Cosine similarity between the query and the unit.
    pub dense: Option<f32>,
    /// 1-based rank in its granularity's dense list.
    pub dense_rank: Option<u32>,
    /// BM25 score.
    pub lexical: Option<f32>,
    /// 1-based rank in its granularity's lexical list.
    pub lexical_rank: Option<u32>,
    /// The router's weight of the unit's granularity (MemGAS).
    pub router_weight: Option<f32>,
    /// Personalised PageRank score over the association graph (MemGAS with a graph).
    pub graph: Option<f32>,
    /// The session prior of the unit's session, in [0, 1] (MemGAS).
    pub prior: Option<f32>,
    /// The score the final ranking sorts by.
    pub fused: f32,
}

/// One ranked result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub unit_id: UnitId,
    pub granularity: Granularity,
    pub scores: SignalScores,
}
