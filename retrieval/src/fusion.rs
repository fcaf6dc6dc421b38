//! Reciprocal-rank fusion: every ranked list votes 1 / (k + rank) for each of its units.

use std::collections::HashMap;

use memory::{Granularity, ScoredUnit, UnitId};

use crate::query::{Hit, SignalScores};

/// One granularity's dense and lexical lists.
#[derive(Debug, Clone, Copy)]
pub struct FusionInput<'a> {
    pub granularity: Granularity,
    pub dense: &'a [ScoredUnit],
    pub lexical: &'a [ScoredUnit],
}

/// Fuses the lists into one ranking, best first, ties broken by unit id. `rrf_k` damps the
/// advantage of the very first ranks (60 in the original paper).
pub fn reciprocal_rank_fusion(inputs: &[FusionInput<'_>], rrf_k: f32) -> Vec<Hit> {
    let mut hits: HashMap<UnitId, Hit> = HashMap::new();
    for input in inputs {
        let channels = [(input.dense, true), (input.lexical, false)];
        for (list, dense) in channels {
            for (rank, s) in list.iter().enumerate() {
                let hit = hits.entry(s.unit_id).or_insert(Hit {
                    unit_id: s.unit_id,
                    granularity: input.granularity,
                    scores: SignalScores::default(),
                });
                let rank_1 = Some(rank as u32 + 1);
                if dense {
                    hit.scores.dense = Some(s.score);
                    hit.scores.dense_rank = rank_1;
                } else {
                    hit.scores.lexical = Some(s.score);
                    hit.scores.lexical_rank = rank_1;
                }
                hit.scores.fused += 1.0 / (rrf_k + rank as f32 + 1.0);
            }
        }
    }
    let mut ranked: Vec<Hit> = hits.into_values().collect();
    sort_hits(&mut ranked);
    ranked
}

/// Sorts hits by fused score, best first, ties broken by unit id for determinism.
pub(crate) fn sort_hits(hits: &mut [Hit]) {
    hits.sort_by(|a, b| {
        b.scores
            .fused
            .total_cmp(&a.scores.fused)
            .then(a.unit_id.cmp(&b.unit_id))
    });
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn list(ids: &[i64]) -> Vec<ScoredUnit> {
        ids.iter()
            .enumerate()
            .map(|(i, &id)| ScoredUnit {
                unit_id: UnitId(id),
                score: 1.0 - i as f32 * 0.1,
            })
            .collect()
    }

    #[test]
    fn units_found_by_both_channels_rank_first() {
        let dense = list(&[1, 2, 3]);
        let lexical = list(&[3, 4]);
        let turn = FusionInput {
            granularity: Granularity::Turn,
            dense: &dense,
            lexical: &lexical,
        };
        let hits = reciprocal_rank_fusion(&[turn], 60.0);
        let ids: Vec<i64> = hits.iter().map(|h| h.unit_id.0).collect();
        // 3: 1/63 + 1/61; 1: 1/61; 4: 1/62; 2: 1/62 (tie broken by id).
        assert_eq!(ids, vec![3, 1, 2, 4]);
        assert_eq!(hits[0].scores.dense_rank, Some(3));
        assert_eq!(hits[0].scores.lexical_rank, Some(1));
        assert_eq!(hits[1].scores.lexical, None);
        assert!((hits[0].scores.fused - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn fused_scores_are_finite_sorted_and_cover_every_candidate(
            dense in proptest::collection::vec(0i64..40, 0..30),
            lexical in proptest::collection::vec(0i64..40, 0..30),
        ) {
            let mut dense = dense; dense.sort(); dense.dedup();
            let mut lexical = lexical; lexical.sort(); lexical.dedup(); lexical.reverse();
            let (d, l) = (list(&dense), list(&lexical));
            let hits = reciprocal_rank_fusion(&[FusionInput { granularity: Granularity::Turn, dense: &d, lexical: &l }], 60.0);
            let mut all: Vec<i64> = dense.iter().chain(&lexical).copied().collect();
            all.sort(); all.dedup();
            prop_assert_eq!(hits.len(), all.len());
            prop_assert!(hits.iter().all(|h| h.scores.fused.is_finite() && h.scores.fused > 0.0));
            prop_assert!(hits.windows(2).all(|w| w[0].scores.fused >= w[1].scores.fused));
        }
    }
}
