//! The MemGAS entropy router: how much each granularity is trusted for a query. A granularity
//! whose units the query tells apart sharply (a peaked softmax, low entropy) gets more weight.

use memory::Granularity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How granularities are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouterMode {
    /// Every granularity the same.
    Off,
    /// w_g proportional to 1 / H_g (the paper's formula).
    #[default]
    Entropy,
    /// w_g proportional to 1 / (H_g / ln N_g), so granularities with few and many units compare.
    NormalizedEntropy,
}

/// One granularity's routing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RouteWeight {
    pub granularity: Granularity,
    pub units: usize,
    /// H_g = -sum p log p, with p = softmax(sim / lambda).
    pub entropy: f32,
    /// H_g / ln N_g (0 for a single unit).
    pub normalized_entropy: f32,
    /// The weight; the weights of one query sum to 1.
    pub weight: f32,
}

/// An entropy below this is treated as this, so one sharply peaked granularity (or one with a
/// single unit) does not take all the weight.
const MIN_ENTROPY: f32 = 0.05;

/// The entropy of softmax(sims / lambda), computed stably.
pub fn softmax_entropy(sims: &[f32], lambda: f32) -> f32 {
    if sims.is_empty() {
        return 0.0;
    }
    let lambda = lambda.max(1e-6);
    let logits: Vec<f32> = sims.iter().map(|s| s / lambda).collect();
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    let log_sum = sum.ln();
    // H = -sum p (l - max - log_sum)
    exp.iter()
        .zip(&logits)
        .map(|(e, l)| {
            let p = e / sum;
            -p * (l - max - log_sum)
        })
        .sum::<f32>()
        .max(0.0)
}

/// Weights the granularities from the query's similarity to each granularity's units.
pub fn route(sims: &[(Granularity, Vec<f32>)], lambda: f32, mode: RouterMode) -> Vec<RouteWeight> {
    let mut routes: Vec<RouteWeight> = sims
        .iter()
        .map(|(g, s)| {
            let entropy = softmax_entropy(s, lambda);
            let normalized_entropy = if s.len() > 1 {
                entropy / (s.len() as f32).ln()
            } else {
                0.0
            };
            RouteWeight {
                granularity: *g,
                units: s.len(),
                entropy,
                normalized_entropy,
                weight: 0.0,
            }
        })
        .collect();
    let raw: Vec<f32> = routes
        .iter()
        .map(|r| match mode {
            RouterMode::Off => 1.0,
            RouterMode::Entropy => 1.0 / r.entropy.max(MIN_ENTROPY),
            RouterMode::NormalizedEntropy => 1.0 / r.normalized_entropy.max(MIN_ENTROPY),
        })
        .map(|w| if w.is_finite() { w } else { 0.0 })
        .collect();
    let total: f32 = raw.iter().sum();
    for (r, w) in routes.iter_mut().zip(raw) {
        r.weight = if total > 0.0 { w / total } else { 0.0 };
    }
    routes
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn entropy_matches_hand_computed_cases() {
        // Two equal scores: a uniform distribution, H = ln 2.
        assert!((softmax_entropy(&[0.3, 0.3], 0.2) - 2f32.ln()).abs() < 1e-6);
        // Scores 0 and 0.2 with lambda 0.2: p = (1, e) / (1 + e).
        let e = 1f32.exp();
        let (p0, p1) = (1.0 / (1.0 + e), e / (1.0 + e));
        let h = -(p0 * p0.ln() + p1 * p1.ln());
        assert!((softmax_entropy(&[0.0, 0.2], 0.2) - h).abs() < 1e-6);
        assert_eq!(softmax_entropy(&[0.7], 0.2), 0.0);
        assert_eq!(softmax_entropy(&[], 0.2), 0.0);
    }

    #[test]
    fn the_peaked_granularity_gets_more_weight_not_less() {
        // Turns: one clear match; sessions: all alike. H_turn < H_session, so turns weigh more,
        // also when H exceeds 1 (where the released code's 1 - H would invert the order).
        let turns = vec![0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
        let sessions = vec![0.4; 8];
        let routes = route(
            &[(Granularity::Turn, turns), (Granularity::Session, sessions)],
            0.2,
            RouterMode::Entropy,
        );
        assert!(routes[1].entropy > 1.0);
        assert!(routes[0].weight > routes[1].weight, "{routes:?}");
        // The paper's formula: w proportional to 1 / H.
        let ratio = routes[0].weight / routes[1].weight;
        assert!((ratio - routes[1].entropy / routes[0].entropy).abs() < 1e-4);
        let off = route(
            &[
                (Granularity::Turn, vec![0.1, 0.2]),
                (Granularity::Round, vec![0.3]),
            ],
            0.2,
            RouterMode::Off,
        );
        assert_eq!(
            off.iter().map(|r| r.weight).collect::<Vec<_>>(),
            vec![0.5, 0.5]
        );
    }

    proptest! {
        #[test]
        fn weights_are_finite_non_negative_and_sum_to_one(
            groups in proptest::collection::vec(proptest::collection::vec(-1.0f32..1.0, 1..40), 1..6),
            lambda in 0.01f32..1.0,
            normalized in any::<bool>(),
        ) {
            let gs = [Granularity::Session, Granularity::Round, Granularity::Turn, Granularity::Summary, Granularity::Keywords, Granularity::Fact];
            let sims: Vec<(Granularity, Vec<f32>)> = groups.into_iter().zip(gs).map(|(s, g)| (g, s)).collect();
            let mode = if normalized { RouterMode::NormalizedEntropy } else { RouterMode::Entropy };
            let routes = route(&sims, lambda, mode);
            let total: f32 = routes.iter().map(|r| r.weight).sum();
            prop_assert!((total - 1.0).abs() < 1e-4);
            prop_assert!(routes.iter().all(|r| r.weight.is_finite() && r.weight >= 0.0 && r.entropy >= 0.0));
        }
    }
}
