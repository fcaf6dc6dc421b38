//! One evaluation run: ingest the conversations, ask every question in every mode, score it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::dataset::{Dataset, Question};
use crate::metrics::{
    RetrievedUnit, budget_recall, ranked_sessions, ranked_turns, session_ndcg, session_recall_all,
    session_recall_any, turn_recall,
};
use crate::modes::Mode;

/// What to measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    pub modes: Vec<Mode>,
    /// Units asked for per search.
    pub top_k: usize,
    /// Turn budgets for turn-level recall.
    pub turn_ks: Vec<usize>,
    /// Session cut-offs for session-level metrics.
    pub session_ks: Vec<usize>,
    /// Token budgets for budget recall.
    pub budgets: Vec<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            modes: crate::modes::builtin(),
            top_k: 100,
            turn_ks: vec![1, 3, 5, 10, 25, 50],
            session_ks: vec![1, 3, 5, 10],
            budgets: vec![500, 1_000, 2_000, 4_000],
        }
    }
}

/// One question's outcome in one mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeOutcome {
    pub mode: String,
    pub latency_ms: f64,
    /// Metric name (see [`metric_names`]) to value; empty when the question has no evidence.
    pub metrics: BTreeMap<String, f64>,
    pub units: Vec<RetrievedUnit>,
}

/// One question with its outcome in every mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionOutcome {
    pub sample_id: String,
    pub index: usize,
    pub category: u8,
    pub question: String,
    pub answer: String,
    pub evidence: Vec<String>,
    pub outcomes: Vec<ModeOutcome>,
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub ingest: Vec<Duration>,
    pub questions: Vec<QuestionOutcome>,
}

/// The metric names a run reports, in report order.
pub fn metric_names(options: &RunOptions) -> Vec<String> {
    let mut names: Vec<String> = options
        .turn_ks
        .iter()
        .map(|k| format!("turn_recall@{k}"))
        .collect();
    names.extend(options.budgets.iter().map(|b| format!("budget_recall@{b}")));
    for k in &options.session_ks {
        names.push(format!("session_recall_all@{k}"));
        names.push(format!("session_recall_any@{k}"));
        names.push(format!("session_ndcg@{k}"));
    }
    names
}

/// Scores one question's retrieved units. Questions without evidence get no metric.
pub fn score(
    question: &Question,
    units: &[RetrievedUnit],
    options: &RunOptions,
) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    if question.evidence.is_empty() {
        return m;
    }
    let turns = ranked_turns(units);
    for &k in &options.turn_ks {
        m.insert(
            format!("turn_recall@{k}"),
            turn_recall(&turns, &question.evidence, k),
        );
    }
    for &b in &options.budgets {
        let r = budget_recall(units, &question.evidence, &question.evidence_texts, b);
        m.insert(format!("budget_recall@{b}"), r);
    }
    let sessions = ranked_sessions(units);
    let gold = &question.evidence_sessions;
    for &k in &options.session_ks {
        m.insert(
            format!("session_recall_all@{k}"),
            session_recall_all(&sessions, gold, k),
        );
        m.insert(
            format!("session_recall_any@{k}"),
            session_recall_any(&sessions, gold, k),
        );
        m.insert(
            format!("session_ndcg@{k}"),
            session_ndcg(&sessions, gold, k),
        );
    }
    m
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Ingested,
    Searched,
}

/// Ingests the dataset through the backend, then runs every question in every mode.
pub async fn run(
    backend: &Backend,
    dataset: &Dataset,
    options: &RunOptions,
    progress: impl Fn(Progress),
) -> anyhow::Result<Run> {
    let mut ingest = Vec::new();
    for conversation in &dataset.conversations {
        for session in &conversation.sessions {
            ingest.push(backend.ingest(&conversation.sample_id, session).await?);
            progress(Progress::Ingested);
        }
    }
    let mut questions = Vec::with_capacity(dataset.questions.len());
    for q in &dataset.questions {
        let mut outcomes = Vec::with_capacity(options.modes.len());
        for mode in &options.modes {
            let (units, took) = backend
                .search(&q.sample_id, &q.question, options.top_k, &mode.options)
                .await?;
            outcomes.push(ModeOutcome {
                mode: mode.name.clone(),
                latency_ms: took.as_secs_f64() * 1e3,
                metrics: score(q, &units, options),
                units,
            });
            progress(Progress::Searched);
        }
        questions.push(QuestionOutcome {
            sample_id: q.sample_id.clone(),
            index: q.index,
            category: q.category.id(),
            question: q.question.clone(),
            answer: q.answer.clone(),
            evidence: q.evidence.clone(),
            outcomes,
        });
    }
    Ok(Run { ingest, questions })
}
