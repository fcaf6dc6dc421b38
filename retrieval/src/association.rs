//! MemGAS association at write time: which of a new unit's most similar earlier units it links
//! to. A two-component Gaussian mixture is fitted (linfa) on the candidates' similarity scores
//! and the component with the higher mean is linked, under guards the paper lacks.

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_clustering::GaussianMixtureModel;
use memory::ScoredUnit;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// How links are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssociationConfig {
    /// Whether new units are linked at all.
    pub enabled: bool,
    /// Candidates considered per unit: its most similar units of other sessions (paper: 30).
    pub candidates: usize,
    /// The most links a unit makes.
    pub max_edges: usize,
    /// The fit is separable when the gap between the means is at least this many times the sum
    /// of their standard deviations (an even spread of scores split in two gives about 1.7).
    pub min_separation: f32,
    /// Both mixture weights must be at least this.
    pub min_weight: f32,
    /// The accepted share of candidates must lie in [min_share, max_share].
    pub min_share: f32,
    pub max_share: f32,
    /// The fallback keeps candidates at or above this quantile of their scores.
    pub fallback_quantile: f32,
}

impl Default for AssociationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            candidates: 30,
            max_edges: 8,
            min_separation: 2.0,
            min_weight: 0.1,
            min_share: 0.02,
            max_share: 0.6,
            fallback_quantile: 0.9,
        }
    }
}

impl AssociationConfig {
    /// Checks values that parse but cannot work.
    pub fn check(&self) -> Result<(), String> {
        let unit = |v: f32| (0.0..=1.0).contains(&v);
        if self.candidates > 1_000 || self.max_edges > 1_000 {
            return Err("candidates and max_edges are at most 1000".into());
        }
        if !(unit(self.min_weight) && unit(self.min_share) && unit(self.max_share)) {
            return Err("min_weight, min_share and max_share must be between 0 and 1".into());
        }
        if self.min_share > self.max_share {
            return Err("min_share must not exceed max_share".into());
        }
        if !(unit(self.fallback_quantile)
            && self.min_separation.is_finite()
            && self.min_separation >= 0.0)
        {
            return Err(
                "fallback_quantile must be between 0 and 1, min_separation non-negative".into(),
            );
        }
        Ok(())
    }
}

/// Which rule chose the links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRule {
    /// The higher-mean mixture component.
    Mixture,
    /// The quantile cut, because the fit failed or was not trustworthy.
    Quantile,
}

/// A two-component fit on 1-D scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureFit {
    pub means: [f32; 2],
    pub stds: [f32; 2],
    pub weights: [f32; 2],
}

impl MixtureFit {
    /// The component with the higher mean.
    fn high(&self) -> usize {
        usize::from(self.means[1] > self.means[0])
    }

    /// Whether the components are far apart and both substantial.
    pub fn separable(&self, config: &AssociationConfig) -> bool {
        let gap = (self.means[0] - self.means[1]).abs();
        gap >= config.min_separation * (self.stds[0] + self.stds[1])
            && self.weights.iter().all(|w| *w >= config.min_weight)
    }

    /// Whether a score belongs to the high component (higher weighted density).
    fn accepts(&self, x: f32) -> bool {
        let density = |k: usize| {
            let z = (x - self.means[k]) / self.stds[k];
            self.weights[k] * (-0.5 * z * z).exp() / self.stds[k]
        };
        let high = self.high();
        x >= self.means[1 - high] && density(high) >= density(1 - high)
    }
}

/// Fits two Gaussians to scores with linfa (seeded, so deterministic); `None` when the fit
/// fails (too few or identical scores).
pub fn fit_mixture(scores: &[f32]) -> Option<MixtureFit> {
    if scores.len() < 4 {
        return None;
    }
    let records = Array2::from_shape_vec(
        (scores.len(), 1),
        scores.iter().map(|&s| f64::from(s)).collect(),
    )
    .ok()?;
    let model = GaussianMixtureModel::params(2)
        .n_runs(1)
        .max_n_iterations(100)
        .fit(&DatasetBase::from(records))
        .ok()?;
    let means = model.means();
    let covariances = model.covariances();
    let weights = model.weights();
    let get = |k: usize| {
        let var = covariances[[k, 0, 0]];
        (
            means[[k, 0]] as f32,
            var.max(1e-12).sqrt() as f32,
            weights[k] as f32,
        )
    };
    let ((m0, s0, w0), (m1, s1, w1)) = (get(0), get(1));
    let fit = MixtureFit {
        means: [m0, m1],
        stds: [s0.max(1e-4), s1.max(1e-4)],
        weights: [w0, w1],
    };
    fit.means
        .iter()
        .chain(&fit.stds)
        .chain(&fit.weights)
        .all(|v| v.is_finite())
        .then_some(fit)
}

/// Chooses the links of a unit among its candidates (best first), weighted by similarity.
pub fn select_links(
    candidates: &[ScoredUnit],
    config: &AssociationConfig,
) -> (Vec<ScoredUnit>, LinkRule) {
    let scores: Vec<f32> = candidates.iter().map(|c| c.score).collect();
    let by_mixture = fit_mixture(&scores)
        .filter(|f| f.separable(config))
        .and_then(|fit| {
            let chosen: Vec<ScoredUnit> = candidates
                .iter()
                .filter(|c| fit.accepts(c.score))
                .copied()
                .collect();
            let share = chosen.len() as f32 / candidates.len() as f32;
            (share >= config.min_share && share <= config.max_share).then_some(chosen)
        });
    let (mut chosen, rule) = match by_mixture {
        Some(chosen) => (chosen, LinkRule::Mixture),
        None => {
            let mut sorted = scores.clone();
            sorted.sort_by(|a, b| a.total_cmp(b));
            let cut = sorted
                .get(((sorted.len() as f32 - 1.0) * config.fallback_quantile).round() as usize)
                .copied()
                .unwrap_or(f32::INFINITY);
            (
                candidates
                    .iter()
                    .filter(|c| c.score >= cut)
                    .copied()
                    .collect(),
                LinkRule::Quantile,
            )
        }
    };
    chosen.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.unit_id.cmp(&b.unit_id)));
    chosen.truncate(config.max_edges);
    (chosen, rule)
}

#[cfg(test)]
mod tests {
    use memory::UnitId;

    use super::*;

    fn candidates(scores: &[f32]) -> Vec<ScoredUnit> {
        scores
            .iter()
            .enumerate()
            .map(|(i, &s)| ScoredUnit {
                unit_id: UnitId(i as i64),
                score: s,
            })
            .collect()
    }

    fn check(scores: &[f32], rule: LinkRule, linked: &[i64]) {
        let (chosen, got) = select_links(&candidates(scores), &AssociationConfig::default());
        let ids: Vec<i64> = chosen.iter().map(|c| c.unit_id.0).collect();
        assert_eq!((got, ids.as_slice()), (rule, linked), "{scores:?}");
    }

    #[test]
    fn a_separable_fit_links_the_high_component() {
        // Four clearly related candidates above a crowd of unrelated ones.
        let mut scores = vec![0.82, 0.8, 0.79, 0.78];
        scores.extend((0..26).map(|i| 0.2 + 0.004 * i as f32));
        check(&scores, LinkRule::Mixture, &[0, 1, 2, 3]);
    }

    #[test]
    fn an_inseparable_fit_falls_back_to_the_quantile_cut() {
        let scores: Vec<f32> = (0..30).map(|i| 0.5 + 0.001 * i as f32).collect();
        // The top 10% of 30 scores: indices 26..29, best first.
        check(&scores, LinkRule::Quantile, &[29, 28, 27, 26]);
    }

    #[test]
    fn degenerate_inputs_fall_back_without_failing() {
        check(&[0.5; 30], LinkRule::Quantile, &[0, 1, 2, 3, 4, 5, 6, 7]);
        check(&[0.9, 0.1], LinkRule::Quantile, &[0]);
        check(&[], LinkRule::Quantile, &[]);
    }

    #[test]
    fn links_are_capped_and_deterministic() {
        let mut scores = vec![0.9; 12];
        scores.extend(vec![0.1; 18]);
        let config = AssociationConfig::default();
        let (a, _) = select_links(&candidates(&scores), &config);
        let (b, _) = select_links(&candidates(&scores), &config);
        assert_eq!(a.len(), config.max_edges);
        assert_eq!(a, b);
    }

    #[test]
    fn fits_recover_two_separated_groups() {
        let mut scores = vec![0.9, 0.91, 0.89, 0.92, 0.9];
        scores.extend(vec![0.3, 0.31, 0.29, 0.32, 0.3, 0.28, 0.33]);
        let fit = fit_mixture(&scores).expect("a fit");
        let mut means = fit.means;
        means.sort_by(f32::total_cmp);
        assert!(
            (means[0] - 0.3).abs() < 0.02 && (means[1] - 0.9).abs() < 0.02,
            "{fit:?}"
        );
        assert!(fit.separable(&AssociationConfig::default()));
    }
}
