//! What a search asks for and what it returns.

use memory::{Granularity, TimeRange, UnitId};
use serde::{Deserialize, Serialize};

/// How the per-granularity dense and lexical lists become one ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// A search, already validated by [`crate::Retriever::search`].
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub query: String,
    pub top_k: usize,
    /// Granularities to search; empty means all that hold units.
    pub granularities: Vec<Granularity>,
    pub time: TimeRange,
    pub fusion: Fusion,
    /// Also rate every turn that a result covers by its own relevance to the query.
    pub explain: bool,
}

/// A search's ranking, with the query vector when the query was embedded.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    pub hits: Vec<Hit>,
    pub query_vector: Option<Vec<f32>>,
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
