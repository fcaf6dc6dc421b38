//! Candidate lists: for each granularity, the best units by dense similarity and by BM25.

use memory::text_index::{TextIndex, TextQuery};
use memory::vector_index::{VectorIndex, VectorQuery};
use memory::{Granularity, ScoredUnit, TimeRange, UserId};
use tracing::instrument;

use crate::Result;

/// Ranked candidates of one granularity from each channel, best first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    pub granularity: Option<Granularity>,
    pub dense: Vec<ScoredUnit>,
    pub lexical: Vec<ScoredUnit>,
}

/// Gathers up to `k` dense and `k` lexical candidates for each granularity.
#[instrument(skip_all, fields(granularities = granularities.len(), k))]
pub fn gather(
    user: &UserId,
    query_text: &str,
    query_vector: Option<&[f32]>,
    granularities: &[Granularity],
    time: TimeRange,
    k: usize,
    vectors: &dyn VectorIndex,
    text: &dyn TextIndex,
) -> Result<Vec<Candidates>> {
    let mut out: Vec<Candidates> = granularities
        .iter()
        .map(|&g| Candidates {
            granularity: Some(g),
            ..Candidates::default()
        })
        .collect();
    if let Some(vector) = query_vector {
        let dense = vectors.search(
            user,
            &VectorQuery {
                vector,
                granularities,
                time,
                k,
            },
        )?;
        for (c, (_, list)) in out.iter_mut().zip(dense) {
            c.dense = list;
        }
    }
    let lexical = text.search(
        user,
        &TextQuery {
            text: query_text,
            granularities,
            time,
            k,
        },
    )?;
    for (c, (_, list)) in out.iter_mut().zip(lexical) {
        c.lexical = list;
    }
    Ok(out)
}
