//! Which ranking method a search uses: the configured default, or what the request names, with
//! the request's MemGAS settings laid over the configured ones.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The largest weight or boost a MemGAS setting may have.
pub(crate) const MAX_WEIGHT: f32 = 100.0;
/// The router's softmax temperature bounds: below, the weights are one-hot up to rounding;
/// above, uniform.
pub(crate) const MIN_LAMBDA: f32 = 0.01;
pub(crate) const MAX_LAMBDA: f32 = 100.0;

use crate::memgas::{MemGasOptions, MemGasOverrides};
use crate::query::Fusion;
use crate::{Result, RetrievalError};

/// The ranking method, with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Dense and BM25 lists per granularity, fused as the search's `fusion` says.
    Hybrid,
    /// MemGAS: router, graph, fusion and structure (see [`MemGasOptions`]).
    Memgas(MemGasOptions),
}

/// The name of a ranking method, as configured and as requests name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    Hybrid,
    #[default]
    Memgas,
}

impl std::str::FromStr for StrategyKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "hybrid" => Ok(Self::Hybrid),
            "memgas" => Ok(Self::Memgas),
            other => Err(format!(
                "unknown strategy {other:?}; expected hybrid or memgas"
            )),
        }
    }
}

/// What a request says about the ranking method; every field is optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StrategyChoice {
    /// The method; the configured default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyKind>,
    /// Fusion of the hybrid method; only with `hybrid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fusion: Option<Fusion>,
    /// MemGAS settings laid over the configured ones; only with `memgas`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memgas: Option<MemGasOverrides>,
}

fn invalid(reason: impl Into<String>) -> RetrievalError {
    RetrievalError::InvalidQuery {
        reason: reason.into(),
    }
}

impl StrategyChoice {
    /// The method and fusion to run, given the configured default method and MemGAS settings.
    pub fn resolve(
        &self,
        default: StrategyKind,
        base: &MemGasOptions,
    ) -> Result<(Strategy, Fusion)> {
        let kind = match (self.strategy, &self.fusion) {
            (Some(kind), _) => kind,
            // A fusion names the hybrid method.
            (None, Some(_)) => StrategyKind::Hybrid,
            (None, None) => default,
        };
        match kind {
            StrategyKind::Hybrid => {
                if self.memgas.is_some() {
                    return Err(invalid("memgas settings apply only to strategy \"memgas\""));
                }
                Ok((Strategy::Hybrid, self.fusion.unwrap_or_default()))
            }
            StrategyKind::Memgas => {
                if self.fusion.is_some() {
                    return Err(invalid("fusion applies only to strategy \"hybrid\""));
                }
                let options = match &self.memgas {
                    None => base.clone(),
                    Some(overrides) => base
                        .overlay(overrides)
                        .map_err(|reason| RetrievalError::InvalidSettings { reason })?,
                };
                Ok((Strategy::Memgas(options), Fusion::default()))
            }
        }
    }
}

impl MemGasOptions {
    /// Checks values that parse but cannot work.
    pub fn check(&self) -> std::result::Result<(), String> {
        let finite_non_negative = [
            ("lexical_weight", self.lexical_weight),
            ("session_prior", self.session_prior),
            ("previous_turn", self.previous_turn),
            ("next_turn", self.next_turn),
            ("speaker_boost", self.speaker_boost),
            ("date_boost", self.date_boost),
            ("recency_boost", self.recency_boost),
            ("when_boost", self.when_boost),
        ];
        // Bounded so that no product or sum of scores can overflow to infinity or NaN.
        for (name, v) in finite_non_negative {
            if !(0.0..=MAX_WEIGHT).contains(&v) {
                return Err(format!("{name} must be between 0 and {MAX_WEIGHT}"));
            }
        }
        if !(MIN_LAMBDA..=MAX_LAMBDA).contains(&self.lambda) {
            return Err(format!(
                "lambda must be between {MIN_LAMBDA} and {MAX_LAMBDA}"
            ));
        }
        if !(0.0..=1.0).contains(&self.graph_weight) {
            return Err("graph_weight must be between 0 and 1".into());
        }
        if !(0.0..=1.0).contains(&self.question_penalty) {
            return Err("question_penalty must be between 0 and 1".into());
        }
        if !(self.restart > 0.0 && self.restart <= 1.0) {
            return Err("restart must be in (0, 1]".into());
        }
        if self.lexical_candidates > 1_000 || self.seeds > 1_000 || self.floor > 100 {
            return Err("lexical_candidates and seeds are at most 1000, floor at most 100".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn choice(v: Value) -> StrategyChoice {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn requests_pick_a_method_and_override_only_what_they_name() {
        let base = MemGasOptions::default();
        let (s, f) = choice(json!({}))
            .resolve(StrategyKind::Memgas, &base)
            .unwrap();
        assert_eq!((s, f), (Strategy::Memgas(base.clone()), Fusion::Rrf));
        let (s, f) = choice(json!({"fusion": "lexical"}))
            .resolve(StrategyKind::Memgas, &base)
            .unwrap();
        assert_eq!((s, f), (Strategy::Hybrid, Fusion::Lexical));
        let err = choice(json!({"memgas": {"graph_weight": 0.5}}))
            .resolve(StrategyKind::Hybrid, &base)
            .unwrap_err();
        assert!(err.to_string().contains("only to strategy"));
        let (s, _) = choice(json!({"strategy": "memgas", "memgas": {"graph_weight": 0.5}}))
            .resolve(StrategyKind::Hybrid, &base)
            .unwrap();
        let Strategy::Memgas(o) = s else {
            panic!("memgas expected")
        };
        assert_eq!(o.graph_weight, 0.5);
        assert_eq!(o.lambda, base.lambda);
    }

    #[test]
    fn bad_overrides_are_named_errors() {
        let base = MemGasOptions::default();
        for (bad, word) in [
            (json!({"memgas": {"lambda": 0.0}}), "lambda"),
            (json!({"memgas": {"graph_weight": 2.0}}), "graph_weight"),
            (json!({"strategy": "memgas", "fusion": "rrf"}), "fusion"),
        ] {
            let err = choice(bad)
                .resolve(StrategyKind::Memgas, &base)
                .unwrap_err();
            assert!(err.to_string().contains(word), "{err}");
        }
        for (bad, word) in [
            (json!({"memgas": {"lamda": 0.1}}), "lamda"),
            (json!({"memgas": {"lambda": "x"}}), "expected f32"),
        ] {
            let err = serde_json::from_value::<StrategyChoice>(bad).unwrap_err();
            assert!(err.to_string().contains(word), "{err}");
        }
    }

    #[test]
    fn overriding_every_setting_gives_exactly_those_settings() {
        let paper = MemGasOptions::paper();
        let all = MemGasOverrides::from(paper.clone());
        assert_eq!(MemGasOptions::default().overlay(&all), Ok(paper));
        assert!(MemGasOverrides::default().is_empty());
        assert!(!all.is_empty());
    }
}
