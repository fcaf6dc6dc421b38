//! Retrieval modes: named search configurations compared in one run. A mode is data (a file can
//! define more), so comparing a new configuration needs no change to the harness.

use memory::Granularity;
use retrieval::router::RouterMode;
use retrieval::{Fusion, MemGasOptions, MemGasOverrides, StrategyChoice, StrategyKind};
use serde::{Deserialize, Serialize};

/// The search options a mode sets; the same names as the search API's fields. What a mode
/// leaves out is the server's configured default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ModeOptions {
    /// Granularities to search; empty means the method's default.
    pub granularities: Vec<Granularity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategyKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fusion: Option<Fusion>,
    /// MemGAS settings laid over the configured ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memgas: Option<MemGasOverrides>,
}

impl ModeOptions {
    /// The ranking method as the search API takes it.
    pub fn method(&self) -> StrategyChoice {
        StrategyChoice {
            strategy: self.strategy,
            fusion: self.fusion,
            memgas: self.memgas.clone(),
        }
    }
}

/// A named retrieval configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mode {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub options: ModeOptions,
}

fn mode(name: &str, description: &str, granularities: &[Granularity], fusion: Fusion) -> Mode {
    Mode {
        name: name.to_owned(),
        description: description.to_owned(),
        options: ModeOptions {
            granularities: granularities.to_vec(),
            strategy: Some(StrategyKind::Hybrid),
            fusion: Some(fusion),
            memgas: None,
        },
    }
}

/// A MemGAS mode: the configured settings with `overrides` laid over them.
fn memgas(name: &str, description: &str, overrides: MemGasOverrides) -> Mode {
    Mode {
        name: name.to_owned(),
        description: description.to_owned(),
        options: ModeOptions {
            strategy: Some(StrategyKind::Memgas),
            memgas: Some(overrides).filter(|o| !o.is_empty()),
            ..ModeOptions::default()
        },
    }
}

/// The built-in modes: plain baselines, MemGAS as published, mnemo's default and its
/// ablations (each the default with one part switched off or on).
pub fn builtin() -> Vec<Mode> {
    use Granularity::{Round, Session, Turn};
    let paper = MemGasOverrides::from(MemGasOptions::paper());
    let paper_lexical = MemGasOverrides {
        lexical_weight: Some(1.0),
        ..paper.clone()
    };
    vec![
        mode("bm25-turn", "BM25 over turns", &[Turn], Fusion::Lexical),
        mode(
            "dense-turn",
            "dense (all-MiniLM-L6-v2) over turns",
            &[Turn],
            Fusion::Dense,
        ),
        mode(
            "dense-round",
            "dense over rounds (a turn and its reply)",
            &[Round],
            Fusion::Dense,
        ),
        mode(
            "dense-session",
            "dense over session chunks",
            &[Session],
            Fusion::Dense,
        ),
        mode(
            "bm25-session",
            "BM25 over session chunks",
            &[Session],
            Fusion::Lexical,
        ),
        mode(
            "hybrid",
            "dense and BM25 over every granularity, reciprocal-rank fusion",
            &[],
            Fusion::Rrf,
        ),
        memgas(
            "memgas-paper",
            "MemGAS as published: dense only, entropy router, PageRank over the association graph, every granularity",
            paper,
        ),
        memgas(
            "memgas-paper-lexical",
            "MemGAS as published with BM25 fused into the unit scores",
            paper_lexical,
        ),
        memgas(
            "mnemo",
            "mnemo's default: MemGAS with the configured settings",
            MemGasOverrides::default(),
        ),
        memgas(
            "mnemo-no-router",
            "the default with every granularity weighted the same",
            MemGasOverrides {
                router: Some(RouterMode::Off),
                ..MemGasOverrides::default()
            },
        ),
        memgas(
            "mnemo-no-lexical",
            "the default without BM25",
            MemGasOverrides {
                lexical_weight: Some(0.0),
                ..MemGasOverrides::default()
            },
        ),
        memgas(
            "mnemo-graph",
            "the default with a third of each score from PageRank over the association graph",
            MemGasOverrides {
                graph_weight: Some(0.33),
                ..MemGasOverrides::default()
            },
        ),
        memgas(
            "mnemo-speaker-in-query",
            "the default with the named speakers left in the dense query",
            MemGasOverrides {
                dense_without_speakers: Some(false),
                ..MemGasOverrides::default()
            },
        ),
        memgas(
            "mnemo-no-structure",
            "the default without the session prior and neighbouring turns",
            MemGasOverrides {
                session_prior: Some(0.0),
                previous_turn: Some(0.0),
                next_turn: Some(0.0),
                ..MemGasOverrides::default()
            },
        ),
        memgas(
            "mnemo-no-question-penalty",
            "the default with turns that only ask scored in full",
            MemGasOverrides {
                question_penalty: Some(0.0),
                ..MemGasOverrides::default()
            },
        ),
        memgas(
            "mnemo-no-query-analysis",
            "the default without speaker, date, recency and time-mention boosts",
            MemGasOverrides {
                speaker_boost: Some(0.0),
                date_boost: Some(0.0),
                recency_boost: Some(0.0),
                when_boost: Some(0.0),
                ..MemGasOverrides::default()
            },
        ),
    ]
}

/// Picks modes by name from the built-in ones and any read from a file.
pub fn select(names: &[String], extra: Vec<Mode>) -> Result<Vec<Mode>, String> {
    let mut known = builtin();
    for m in extra {
        known.retain(|k| k.name != m.name);
        known.push(m);
    }
    if names.is_empty() {
        return Ok(known);
    }
    names
        .iter()
        .map(|n| {
            known.iter().find(|m| &m.name == n).cloned().ok_or_else(|| {
                let all: Vec<&str> = known.iter().map(|m| m.name.as_str()).collect();
                format!("unknown mode {n:?}; known modes: {}", all.join(", "))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_memgas_modes_resolve_against_the_default_settings() {
        let base = MemGasOptions::default();
        for m in builtin() {
            let resolved = m.options.method().resolve(StrategyKind::Memgas, &base);
            assert!(resolved.is_ok(), "{}: {resolved:?}", m.name);
        }
        let paper = select(&["memgas-paper".into()], Vec::new()).unwrap();
        let (strategy, _) = paper[0]
            .options
            .method()
            .resolve(StrategyKind::Memgas, &base)
            .unwrap();
        assert_eq!(
            strategy,
            retrieval::Strategy::Memgas(MemGasOptions::paper())
        );
    }

    #[test]
    fn modes_are_selected_by_name_and_files_can_add_or_replace_them() {
        let all = select(&[], Vec::new()).unwrap();
        assert_eq!(all.len(), builtin().len());
        let extra: Vec<Mode> = serde_json::from_str(
            r#"[{"name": "dense-summary", "description": "summaries", "options": {"granularities": ["summary"], "fusion": "dense"}}]"#,
        )
        .unwrap();
        let picked = select(&["dense-summary".into(), "bm25-turn".into()], extra).unwrap();
        assert_eq!(picked[0].options.granularities, vec![Granularity::Summary]);
        assert_eq!(picked[1].options.fusion, Some(Fusion::Lexical));
        assert!(
            select(&["nope".into()], Vec::new())
                .unwrap_err()
                .contains("bm25-turn")
        );
    }
}
