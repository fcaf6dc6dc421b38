//! The hybrid retriever: validates a search, embeds the query, gathers candidates and fuses them.

use memory::catalog::Catalog;
use memory::embed::Embedder;
use memory::graph_index::GraphIndex;
use memory::text_index::TextIndex;
use memory::vector_index::VectorIndex;
use std::collections::HashSet;

use memory::{Granularity, UnitId, UserRef};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::candidates::{CandidateQuery, Candidates, gather};
use crate::fusion::{FusionInput, reciprocal_rank_fusion, sort_hits};
use crate::memgas::MemGasOptions;
use crate::query::{Fusion, Hit, Ranking, SearchParams, SignalScores};
use crate::strategy::{Strategy, StrategyKind};
use crate::{Result, RetrievalError};

/// Tuning of the read path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrievalConfig {
    /// Candidates taken from each channel for each granularity.
    pub candidates: usize,
    /// The rank damping of reciprocal-rank fusion.
    pub rrf_k: f32,
    /// The largest `top_k` a search may ask for.
    pub max_top_k: usize,
    /// The longest query, in characters.
    pub max_query_chars: usize,
    /// The ranking method of searches that name none.
    pub strategy: StrategyKind,
    /// The MemGAS settings of searches that override none.
    pub memgas: MemGasOptions,
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        Self {
            candidates: 50,
            rrf_k: 60.0,
            max_top_k: 100,
            max_query_chars: 4_000,
            strategy: StrategyKind::default(),
            memgas: MemGasOptions::default(),
        }
    }
}

/// Everything a search reads, borrowed for the duration of one search.
#[derive(Clone, Copy)]
pub struct Retriever<'a> {
    pub vectors: &'a dyn VectorIndex,
    pub text: &'a dyn TextIndex,
    pub catalog: &'a Catalog,
    pub graph: &'a GraphIndex,
    pub embedder: &'a dyn Embedder,
    pub config: &'a RetrievalConfig,
    /// Only these units (a filter the caller resolved, such as by writer or channel); `None`
    /// for all.
    pub only: Option<&'a HashSet<UnitId>>,
}

impl std::fmt::Debug for Retriever<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retriever")
            .field("config", self.config)
            .finish_non_exhaustive()
    }
}

fn invalid(reason: impl Into<String>) -> RetrievalError {
    RetrievalError::InvalidQuery {
        reason: reason.into(),
    }
}

impl Retriever<'_> {
    /// Checks a search against the limits; returns the method and fusion it resolves to.
    pub fn validate(&self, params: &SearchParams) -> Result<(Strategy, Fusion)> {
        let chars = params.query.chars().count();
        if memory::validate::is_blank(&params.query) {
            return Err(invalid("query must not be empty"));
        }
        if chars > self.config.max_query_chars {
            return Err(invalid(format!(
                "query is {chars} characters, the limit is {}",
                self.config.max_query_chars
            )));
        }
        if params.top_k == 0 || params.top_k > self.config.max_top_k {
            return Err(invalid(format!(
                "top_k must be between 1 and {}",
                self.config.max_top_k
            )));
        }
        if let (Some(from), Some(to)) = (params.time.from, params.time.to)
            && from >= to
        {
            return Err(invalid("time_from must be earlier than time_to"));
        }
        params
            .method
            .resolve(self.config.strategy, &self.config.memgas)
    }

    /// Runs a search for a user, best results first.
    #[instrument(skip_all, fields(top_k = params.top_k))]
    pub fn search(&self, user: &UserRef, params: &SearchParams) -> Result<Ranking> {
        let (strategy, fusion) = self.validate(params)?;
        match &strategy {
            Strategy::Hybrid => self.hybrid(user, params, fusion),
            Strategy::Memgas(options) => crate::memgas::search(self, user, params, options),
        }
    }

    fn hybrid(&self, user: &UserRef, params: &SearchParams, fusion: Fusion) -> Result<Ranking> {
        let granularities: Vec<Granularity> = if params.granularities.is_empty() {
            Granularity::ALL
                .into_iter()
                .filter(|&g| self.vectors.count(user, g) > 0)
                .collect()
        } else {
            let mut gs = params.granularities.clone();
            gs.sort();
            gs.dedup();
            gs
        };
        let vector = match fusion {
            Fusion::Lexical if !params.explain => None,
            Fusion::Lexical | Fusion::Rrf | Fusion::Dense => {
                let mut vs = self.embedder.embed(&[params.query.as_str()])?;
                vs.pop()
            }
        };
        let k = self.config.candidates.max(params.top_k);
        let dense_query = match fusion {
            Fusion::Lexical => None,
            Fusion::Rrf | Fusion::Dense => vector.as_deref(),
        };
        let query = CandidateQuery {
            user,
            text: &params.query,
            vector: dense_query,
            granularities: &granularities,
            time: params.effective_time(),
            k,
            only: self.only,
        };
        let candidates = gather(&query, self.vectors, self.text)?;
        let mut hits = match fusion {
            Fusion::Rrf => {
                let inputs: Vec<FusionInput<'_>> = candidates
                    .iter()
                    .zip(&granularities)
                    .map(|(c, &g)| FusionInput {
                        granularity: g,
                        dense: &c.dense,
                        lexical: &c.lexical,
                    })
                    .collect();
                reciprocal_rank_fusion(&inputs, self.config.rrf_k)
            }
            Fusion::Dense => single_channel(&candidates, &granularities, true),
            Fusion::Lexical => single_channel(&candidates, &granularities, false),
        };
        hits.truncate(params.top_k);
        Ok(Ranking {
            hits,
            query_vector: vector,
            router: Vec::new(),
        })
    }
}

/// Ranks by one channel's raw score across granularities.
fn single_channel(
    candidates: &[Candidates],
    granularities: &[Granularity],
    dense: bool,
) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    for (c, &g) in candidates.iter().zip(granularities) {
        let list = if dense { &c.dense } else { &c.lexical };
        for (rank, s) in list.iter().enumerate() {
            let rank = Some(rank as u32 + 1);
            let scores = if dense {
                SignalScores {
                    dense: Some(s.score),
                    dense_rank: rank,
                    fused: s.score,
                    ..SignalScores::default()
                }
            } else {
                SignalScores {
                    lexical: Some(s.score),
                    lexical_rank: rank,
                    fused: s.score,
                    ..SignalScores::default()
                }
            };
            hits.push(Hit {
                unit_id: s.unit_id,
                granularity: g,
                scores,
            });
        }
    }
    sort_hits(&mut hits);
    hits
}
