//! Association at write time (MemGAS): each new unit is linked to the units of the user's other
//! sessions that a Gaussian-mixture fit over its most similar candidates singles out.

use std::time::Instant;

use memory::store::SessionKey;
use memory::vector_index::{VectorQuery, top_k};
use memory::{Granularity, ScoredUnit, TimeRange, UnitId, UserRef};
use retrieval::association::select_links;
use tracing::instrument;

use super::pipeline::Parts;
use crate::Result;

/// The links of each new unit (by its index in `vectors`, which holds the units' vectors) to
/// units of other sessions.
#[instrument(skip_all, fields(units = vectors.len()))]
pub(crate) fn links(
    parts: &Parts<'_>,
    user: &UserRef,
    session: SessionKey,
    vectors: &[&[f32]],
) -> Result<Vec<(usize, UnitId, f32)>> {
    let config = parts.association;
    if !config.enabled || config.candidates == 0 {
        return Ok(Vec::new());
    }
    let started = Instant::now();
    let mut out = Vec::new();
    for (i, vector) in vectors.iter().enumerate() {
        let query = VectorQuery {
            vector,
            granularities: &Granularity::ALL,
            time: TimeRange::default(),
            k: config.candidates,
            exclude_session: Some(session),
            only: None,
        };
        let candidates: Vec<ScoredUnit> = parts
            .vectors
            .search(user, &query)?
            .into_iter()
            .flat_map(|(_, list)| list)
            .collect();
        let candidates = top_k(candidates, config.candidates);
        let (chosen, _) = select_links(&candidates, config);
        out.extend(chosen.into_iter().map(|c| (i, c.unit_id, c.score)));
    }
    parts
        .metrics
        .associated(out.len() as u64, started.elapsed());
    Ok(out)
}
