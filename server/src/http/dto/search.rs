//! Search wire types.

use memory::{Granularity, TimeRange};
use retrieval::{Fusion, SearchParams};
use serde::{Deserialize, Serialize};

use super::time;
use super::units::UnitOut;
use crate::engine::SearchResult;
use crate::http::error::ApiError;

/// The body of `POST /v1/users/{user_id}/search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchIn {
    query: String,
    #[serde(default)]
    top_k: Option<usize>,
    #[serde(default)]
    granularities: Option<Vec<Granularity>>,
    #[serde(default)]
    time_from: Option<String>,
    #[serde(default)]
    time_to: Option<String>,
    #[serde(default)]
    fusion: Option<Fusion>,
    #[serde(default)]
    explain: bool,
}

/// Results returned when the request names no `top_k`.
const DEFAULT_TOP_K: usize = 10;

impl SearchIn {
    pub(crate) fn into_params(self) -> Result<SearchParams, ApiError> {
        Ok(SearchParams {
            query: self.query,
            top_k: self.top_k.unwrap_or(DEFAULT_TOP_K),
            granularities: self.granularities.unwrap_or_default(),
            time: TimeRange {
                from: time(self.time_from.as_deref())?,
                to: time(self.time_to.as_deref())?,
            },
            fusion: self.fusion.unwrap_or_default(),
            explain: self.explain,
        })
    }
}

#[derive(Debug, Serialize)]
struct ScoresOut {
    dense: Option<f32>,
    dense_rank: Option<u32>,
    lexical: Option<f32>,
    lexical_rank: Option<u32>,
    fused: f32,
}

#[derive(Debug, Serialize)]
struct ResultOut {
    rank: usize,
    #[serde(flatten)]
    unit: UnitOut,
    scores: ScoresOut,
}

/// Ranked search results.
#[derive(Debug, Serialize)]
pub(crate) struct SearchOut {
    results: Vec<ResultOut>,
}

impl From<Vec<SearchResult>> for SearchOut {
    fn from(results: Vec<SearchResult>) -> Self {
        Self {
            results: results
                .into_iter()
                .enumerate()
                .map(|(i, r)| ResultOut {
                    rank: i + 1,
                    unit: UnitOut::with_relevance(r.unit, &r.turn_relevance),
                    scores: ScoresOut {
                        dense: r.scores.dense,
                        dense_rank: r.scores.dense_rank,
                        lexical: r.scores.lexical,
                        lexical_rank: r.scores.lexical_rank,
                        fused: r.scores.fused,
                    },
                })
                .collect(),
        }
    }
}
