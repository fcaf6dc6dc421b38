//! Candidate lists: for each granularity, the best units by dense similarity and by BM25.

use memory::text_index::{TextIndex, TextQuery};
use memory::vector_index::{VectorIndex, VectorQuery};
use std::collections::HashSet;

use memory::{Granularity, ScoredUnit, TimeRange, UnitId, UserRef};
use tracing::instrument;

use crate::Result;

/// Ranked candidates of one granularity from each channel, best first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    pub granularity: Option<Granularity>,
    pub dense: Vec<ScoredUnit>,
    pub lexical: Vec<ScoredUnit>,
}

/// What to gather candidates for.
#[derive(Debug, Clone, Copy)]
pub struct CandidateQuery<'a> {
    pub user: &'a UserRef,
    pub text: &'a str,
    /// The embedded query; without it the dense lists stay empty.
    pub vector: Option<&'a [f32]>,
    pub granularities: &'a [Granularity],
    pub time: TimeRange,
    /// Candidates per channel and granularity.
    pub k: usize,
    /// Only these units; `None` for all.
    pub only: Option<&'a HashSet<UnitId>>,
}

/// Gathers up to `k` dense and `k` lexical candidates for each granularity.
#[instrument(skip_all, fields(granularities = query.granularities.len(), k = query.k))]
pub fn gather(
    query: &CandidateQuery<'_>,
    vectors: &dyn VectorIndex,
    text: &dyn TextIndex,
) -> Result<Vec<Candidates>> {
    let CandidateQuery {
        user,
        granularities,
        time,
        k,
        ..
    } = *query;
    let mut out: Vec<Candidates> = granularities
        .iter()
        .map(|&g| Candidates {
            granularity: Some(g),
            ..Candidates::default()
        })
        .collect();
    if let Some(vector) = query.vector {
        let dense = vectors.search(
            user,
            &VectorQuery {
                vector,
                granularities,
                time,
                k,
                exclude_session: None,
                only: query.only,
            },
        )?;
        for (c, (_, list)) in out.iter_mut().zip(dense) {
            c.dense = list;
        }
    }
    let lexical = text.search(
        user,
        &TextQuery {
            text: query.text,
            granularities,
            time,
            k,
            only: query.only,
        },
    )?;
    for (c, (_, list)) in out.iter_mut().zip(lexical) {
        c.lexical = list;
    }
    Ok(out)
}
