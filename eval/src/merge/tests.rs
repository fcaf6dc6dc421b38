#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::aggregate::summarise;
use crate::modes::Mode;
use crate::run::{ModeOutcome, QuestionOutcome, RunOptions};
use crate::spec::Machine;

fn options() -> RunOptions {
    RunOptions {
        modes: vec![Mode {
            name: "m".to_owned(),
            description: "a mode".to_owned(),
            options: Default::default(),
        }],
        turn_ks: vec![5],
        session_ks: vec![5],
        budgets: vec![1_000],
        ..RunOptions::default()
    }
}

/// A question of `category` whose one metric, `turn_recall@5`, is `recall`.
fn question(sample_id: &str, category: u8, recall: f64) -> QuestionOutcome {
    QuestionOutcome {
        sample_id: sample_id.to_owned(),
        index: 0,
        category,
        question: "q".to_owned(),
        answer: "a".to_owned(),
        evidence: vec!["D1:1".to_owned()],
        outcomes: vec![ModeOutcome {
            mode: "m".to_owned(),
            latency_ms: 1.0,
            metrics: BTreeMap::from([("turn_recall@5".to_owned(), recall)]),
            units: Vec::new(),
        }],
    }
}

/// One run over `conversation`, its questions and per-session ingest times, written by
/// `commit` with the scratch directory `data_dir`.
fn run_of(
    conversation: &str,
    questions: Vec<QuestionOutcome>,
    ingest_ms: Vec<f64>,
    commit: &str,
    data_dir: &str,
) -> (String, Results) {
    let options = options();
    let run = Run {
        ingest: ingest_ms
            .iter()
            .map(|ms| Duration::from_secs_f64(ms / 1e3))
            .collect(),
        questions,
    };
    let spec = RunSpec {
        dataset: "locomo10.json".to_owned(),
        dataset_sha256: "abc".to_owned(),
        conversations: vec![conversation.to_owned()],
        questions: run.questions.len(),
        backend: "in-process".to_owned(),
        options: options.clone(),
        engine_config: Some(json!({"storage": {"data_dir": data_dir}, "llm": {"model": "x"}})),
        git_commit: commit.to_owned(),
        mnemo_version: "0.1.0".to_owned(),
        machine: Machine {
            cpu: "cpu".to_owned(),
            cores: 2,
            memory_gib: 24.0,
            os: "linux".to_owned(),
        },
        started_at: format!("2026-11-24T0{}:00:00Z", conversation.len() % 10),
    };
    let results = Results {
        format: RESULTS_FORMAT.to_owned(),
        spec,
        summary: summarise(&run, &options),
        questions: run.questions,
        ingest_ms,
        qa: None,
        persona: None,
    };
    (format!("run {conversation}"), results)
}

fn overall(results: &Results, key: &str) -> (usize, f64) {
    let group = results.summary.modes[0]
        .groups
        .iter()
        .find(|g| g.key == key)
        .unwrap();
    (group.questions, group.metrics["turn_recall@5"])
}

#[test]
fn merged_aggregates_are_recomputed_over_every_question() {
    let a = run_of(
        "conv-a",
        vec![question("conv-a", 1, 1.0), question("conv-a", 4, 0.0)],
        vec![10.0, 30.0],
        "c1",
        "/tmp/one",
    );
    let b = run_of(
        "conv-b",
        vec![question("conv-b", 4, 1.0)],
        vec![20.0],
        "c1",
        "/tmp/two",
    );
    let merged = merge(vec![a, b]).unwrap();
    assert_eq!(merged.spec.conversations, vec!["conv-a", "conv-b"]);
    assert_eq!(merged.spec.questions, 3);
    assert_eq!(merged.spec.git_commit, "c1");
    assert_eq!(merged.questions.len(), 3);
    // Two of three questions found, not the mean of the runs' means (0.5 and 1.0).
    let (n, recall) = overall(&merged, "overall_1_4");
    assert_eq!(n, 3);
    assert!((recall - 2.0 / 3.0).abs() < 1e-12, "{recall}");
    assert_eq!(overall(&merged, "category_4"), (2, 0.5));
    let ingest = merged.summary.ingest_latency_ms;
    assert_eq!((ingest.count, ingest.p50, ingest.mean), (3, 20.0, 20.0));
}

#[test]
fn runs_of_different_commits_are_merged_with_both_named() {
    let a = run_of(
        "conv-a",
        vec![question("conv-a", 1, 1.0)],
        vec![],
        "c1",
        "/a",
    );
    let b = run_of(
        "conv-b",
        vec![question("conv-b", 1, 1.0)],
        vec![],
        "c2",
        "/b",
    );
    let c = run_of(
        "conv-c",
        vec![question("conv-c", 1, 1.0)],
        vec![],
        "c1",
        "/c",
    );
    let merged = merge(vec![a, b, c]).unwrap();
    assert_eq!(merged.spec.git_commit, "c1 + c2");
    assert_eq!(merged.summary.ingest_latency_ms.count, 0);
}

fn merge_error(runs: Vec<(String, Results)>) -> String {
    format!("{:#}", merge(runs).unwrap_err())
}

#[test]
fn incompatible_runs_are_refused() {
    let a = || {
        run_of(
            "conv-a",
            vec![question("conv-a", 1, 1.0)],
            vec![],
            "c",
            "/a",
        )
    };
    let b = || {
        run_of(
            "conv-b",
            vec![question("conv-b", 1, 0.0)],
            vec![],
            "c",
            "/b",
        )
    };

    assert!(merge_error(vec![a(), a()]).contains("conv-a is already in an earlier run"));
    assert_eq!(merge_error(Vec::new()), "nothing to merge");

    let mut other_dataset = b();
    other_dataset.1.spec.dataset_sha256 = "def".to_owned();
    assert!(merge_error(vec![a(), other_dataset]).contains("another dataset"));

    let mut other_config = b();
    other_config.1.spec.engine_config = Some(json!({"llm": {"model": "y"}}));
    assert!(merge_error(vec![a(), other_config]).contains("another engine configuration"));

    let mut other_cutoffs = b();
    other_cutoffs.1.spec.options.top_k = 10;
    assert!(merge_error(vec![a(), other_cutoffs]).contains("other modes or cut-offs"));

    let mut old_format = b();
    old_format.1.format = "mnemo-eval-results/0".to_owned();
    assert!(merge_error(vec![a(), old_format]).contains("results format"));
}

/// Answers of `conversation` in mode `m` with these F1 scores, and `calls` model calls.
fn answers(conversation: &str, f1: &[f64], calls: u64) -> QaResults {
    let answers: Vec<qa::Answer> = f1
        .iter()
        .map(|&f1| qa::Answer {
            mode: "m".to_owned(),
            sample_id: conversation.to_owned(),
            index: 0,
            category: 4,
            question: "q".to_owned(),
            gold: "a".to_owned(),
            prediction: "a".to_owned(),
            f1,
            judge: None,
            error: None,
            latency_ms: 1.0,
        })
        .collect();
    QaResults {
        model: "scripted".to_owned(),
        options: qa::QaOptions {
            modes: vec!["m".to_owned()],
            budget: 2_000,
            limit: None,
            judge: false,
        },
        summary: qa::summarise(&answers, &["m".to_owned()]),
        answers,
        usage: memory::llm::LlmUsage {
            calls,
            prompt_tokens: 10 * calls,
            ..Default::default()
        },
    }
}

/// A run over one conversation with one single-hop question, at commit "c".
fn single_hop_run(sample_id: &str) -> (String, Results) {
    let data_dir = format!("/{}", sample_id.trim_start_matches("conv-"));
    run_of(
        sample_id,
        vec![question(sample_id, 4, 1.0)],
        vec![],
        "c",
        &data_dir,
    )
}

#[test]
fn answers_are_merged_and_rescored_with_the_usage_summed() {
    let mut a = single_hop_run("conv-a");
    let mut b = single_hop_run("conv-b");
    a.1.qa = Some(answers("conv-a", &[1.0, 1.0, 0.0], 3));
    b.1.qa = Some(answers("conv-b", &[0.0], 1));
    let qa = merge(vec![a, b]).unwrap().qa.unwrap();
    assert_eq!(qa.answers.len(), 4);
    assert_eq!((qa.usage.calls, qa.usage.prompt_tokens), (4, 40));
    let overall = qa.summary[0]
        .groups
        .iter()
        .find(|g| g.key == "overall_1_4")
        .unwrap();
    // Two of four answers right, not the mean of the runs' 2/3 and 0.
    assert_eq!((overall.questions, overall.f1), (4, 0.5));

    let mut c = single_hop_run("conv-c");
    let mut d = single_hop_run("conv-d");
    c.1.qa = Some(answers("conv-c", &[1.0], 1));
    d.1.qa = Some(QaResults {
        model: "another".to_owned(),
        ..answers("conv-d", &[1.0], 1)
    });
    assert!(merge_error(vec![c, d]).contains("answers by another model"));
}
