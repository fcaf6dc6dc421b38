//! Aggregates: each mode's metrics per category and overall, with latency.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::dataset::Category;
use crate::run::{QuestionOutcome, Run, RunOptions, metric_names};
use crate::stats::Latency;

/// Mean metrics over a group of questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// `category_1` .. `category_5`, `overall_1_4` or `overall_1_5`.
    pub key: String,
    /// How the report names it.
    pub label: String,
    /// Category ids included.
    pub categories: Vec<u8>,
    /// Questions scored (those with evidence).
    pub questions: usize,
    pub metrics: BTreeMap<String, f64>,
}

/// One mode's aggregates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeSummary {
    pub mode: String,
    pub groups: Vec<Group>,
    pub search_latency_ms: LatencyMs,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyMs {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
}

impl From<Latency> for LatencyMs {
    fn from(l: Latency) -> Self {
        Self {
            count: l.count,
            p50: l.p50_ms,
            p95: l.p95_ms,
            p99: l.p99_ms,
            mean: l.mean_ms,
        }
    }
}

/// Every aggregate of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub modes: Vec<ModeSummary>,
    pub ingest_latency_ms: LatencyMs,
}

fn group(
    key: String,
    label: String,
    categories: Vec<u8>,
    questions: &[&QuestionOutcome],
    mode: usize,
    names: &[String],
) -> Group {
    let scored: Vec<&BTreeMap<String, f64>> = questions
        .iter()
        .filter(|q| categories.contains(&q.category))
        .map(|q| &q.outcomes[mode].metrics)
        .filter(|m| !m.is_empty())
        .collect();
    let metrics = names
        .iter()
        .map(|n| {
            let sum: f64 = scored.iter().filter_map(|m| m.get(n)).sum();
            let mean = if scored.is_empty() {
                0.0
            } else {
                sum / scored.len() as f64
            };
            (n.clone(), mean)
        })
        .collect();
    Group {
        key,
        label,
        categories,
        questions: scored.len(),
        metrics,
    }
}

/// Averages each mode's metrics per category, over categories 1-4 (what most papers report)
/// and over all five. Questions without evidence are left out of every average.
pub fn summarise(run: &Run, options: &RunOptions) -> Summary {
    let names = metric_names(options);
    let questions: Vec<&QuestionOutcome> = run.questions.iter().collect();
    let modes = options
        .modes
        .iter()
        .enumerate()
        .map(|(i, mode)| {
            let mut groups: Vec<Group> = Category::ALL
                .iter()
                .map(|c| {
                    let key = format!("category_{}", c.id());
                    let label = format!("{} {}", c.id(), c.name());
                    group(key, label, vec![c.id()], &questions, i, &names)
                })
                .collect();
            groups.push(group(
                "overall_1_4".into(),
                "overall (categories 1-4)".into(),
                vec![1, 2, 3, 4],
                &questions,
                i,
                &names,
            ));
            groups.push(group(
                "overall_1_5".into(),
                "overall (categories 1-5)".into(),
                vec![1, 2, 3, 4, 5],
                &questions,
                i,
                &names,
            ));
            let latencies: Vec<Duration> = run
                .questions
                .iter()
                .map(|q| Duration::from_secs_f64(q.outcomes[i].latency_ms / 1e3))
                .collect();
            ModeSummary {
                mode: mode.name.clone(),
                groups,
                search_latency_ms: Latency::of(&latencies).into(),
            }
        })
        .collect();
    Summary {
        modes,
        ingest_latency_ms: Latency::of(&run.ingest).into(),
    }
}
