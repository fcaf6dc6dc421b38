//! `mnemo-eval locomo` on the LoCoMo-form test fixture: the files it writes exist, every number
//! in results.json matches a recomputation, and the in-process and HTTP backends agree. Answers
//! come from a scripted OpenAI-compatible server started in the test (the only fake: the model).

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axum::Json;
use axum::routing::post;
use eval::context::ContextRecall;
use eval::dataset::{self, Category, Dataset};
use eval::output::Results;
use eval::run::{Run, score};
use serde_json::{Value, json};

fn deps_dir() -> PathBuf {
    std::env::var_os("MNEMO_DEPS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.deps"))
}

/// Whether the embedding model is installed; prints the skip line when it is not.
fn model_installed() -> bool {
    let installed = deps_dir()
        .join("models/all-minilm-l6-v2/model.onnx")
        .is_file();
    if !installed {
        eprintln!(
            "SKIP: embedding model not installed in {} (run scripts/setup)",
            deps_dir().display()
        );
    }
    installed
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mini_locomo.json")
}

fn model_env() -> [(&'static str, PathBuf); 2] {
    let deps = deps_dir();
    [
        (
            "MNEMO__EMBEDDING__MODEL_DIR",
            deps.join("models/all-minilm-l6-v2"),
        ),
        (
            "MNEMO__EMBEDDING__ORT_LIBRARY",
            deps.join("onnxruntime/libonnxruntime.so"),
        ),
    ]
}

/// The scripted model: answers with the fixture's gold answer, except one question it gets
/// wrong; declines category 5 by picking the "not mentioned" option; judges by exact match.
fn scripted_reply(prompt: &str, data: &Dataset) -> String {
    if let Some(rest) = prompt.split("Gold answer: ").nth(1) {
        let gold = rest.lines().next().unwrap_or("");
        let generated = rest
            .split("Generated answer: ")
            .nth(1)
            .and_then(|r| r.lines().next())
            .unwrap_or("");
        let label = if gold.eq_ignore_ascii_case(generated) {
            "CORRECT"
        } else {
            "WRONG"
        };
        return json!({ "label": label }).to_string();
    }
    let question = prompt.rsplit("Question: ").next().unwrap_or("");
    if let Some(options) = question.split("Select the correct answer: ").nth(1) {
        return if options.starts_with("(a) Not mentioned") {
            "(a)"
        } else {
            "(b)"
        }
        .to_owned();
    }
    if question.starts_with("Would Theo enjoy") {
        return "I could not say".to_owned();
    }
    let q = data
        .questions
        .iter()
        .find(|q| question.starts_with(&q.question))
        .expect("a known question");
    q.answer.clone()
}

async fn scripted_llm(data: Arc<Dataset>) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |Json(body): Json<Value>| {
            let data = Arc::clone(&data);
            async move {
                let prompt = body["messages"][0]["content"].as_str().unwrap_or("").to_owned();
                Json(json!({
                    "choices": [{ "message": { "role": "assistant", "content": scripted_reply(&prompt, &data) } }],
                    "usage": { "prompt_tokens": prompt.len() / 4, "completion_tokens": 4 }
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Runs the real command on a blocking thread and reads its results.json.
async fn run_eval(out: &Path, extra: Vec<String>) -> Results {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mnemo-eval"));
    command
        .args(["locomo", "--data"])
        .arg(fixture())
        .arg("--out")
        .arg(out);
    command
        .args([
            "--mode",
            "bm25-turn",
            "--mode",
            "dense-session",
            "--mode",
            "hybrid",
            "--context-budget",
            "200,1000",
        ])
        .args(extra);
    command.envs(model_env()).env("MNEMO_LOG", "warn");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap()
}

fn check_recomputation(results: &Results, data: &Dataset) {
    let options = &results.spec.options;
    for outcome in &results.questions {
        let q = data
            .questions
            .iter()
            .find(|q| q.sample_id == outcome.sample_id && q.index == outcome.index)
            .unwrap();
        for mode in &outcome.outcomes {
            assert_eq!(
                mode.metrics,
                score(q, &mode.units, options),
                "{} {}",
                q.question,
                mode.mode
            );
        }
    }
    let run = Run {
        ingest: Vec::new(),
        questions: results.questions.clone(),
    };
    let recomputed = eval::aggregate::summarise(&run, options);
    for (stored, again) in results.summary.modes.iter().zip(&recomputed.modes) {
        assert_eq!(stored.groups, again.groups, "{}", stored.mode);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_writes_a_report_whose_numbers_recompute_and_backends_agree() {
    if !model_installed() {
        return;
    }
    let bytes = std::fs::read(fixture()).unwrap();
    let data = Arc::new(dataset::load(&bytes).unwrap());

    // In process, with the scripted model answering from two modes.
    let llm = scripted_llm(Arc::clone(&data)).await;
    let local = tempfile::tempdir().unwrap();
    let extra = [
        "--llm-url",
        &llm,
        "--llm-model",
        "scripted",
        "--qa-mode",
        "hybrid",
        "--qa-mode",
        "bm25-turn",
    ];
    let results = run_eval(local.path(), extra.map(str::to_owned).to_vec()).await;
    for file in [
        "report.md",
        "results.json",
        "spec.json",
        "recall_at_k.svg",
        "category_turn_recall_at_10.svg",
    ] {
        let text = std::fs::read_to_string(local.path().join(file)).unwrap();
        assert!(!text.is_empty(), "{file}");
        if file.ends_with(".svg") {
            assert!(text.starts_with("<svg"), "{file}");
        }
    }
    assert_eq!(results.spec.dataset_sha256, eval::spec::sha256_hex(&bytes));
    assert_eq!(results.spec.conversations, vec!["conv-a", "conv-b"]);
    assert_eq!(results.questions.len(), 8);
    check_recomputation(&results, &data);

    let qa = results
        .qa
        .as_ref()
        .expect("answers with a model configured");
    assert_eq!(qa.answers.len(), 16);
    for a in &qa.answers {
        let category = Category::from_id(u64::from(a.category)).unwrap();
        assert_eq!(
            a.f1,
            eval::f1::score(&a.prediction, &a.gold, category),
            "{a:?}"
        );
        assert_eq!(a.judge.is_some(), a.category <= 4, "{a:?}");
    }
    for (stored, again) in qa
        .summary
        .iter()
        .zip(eval::qa::summarise(&qa.answers, &qa.options.modes))
    {
        assert_eq!(stored.groups, again.groups, "{}", stored.mode);
    }
    let overall = qa.summary[0]
        .groups
        .iter()
        .find(|g| g.key == "overall_1_4")
        .unwrap();
    // Six of the seven category 1-4 questions are answered with the gold answer.
    assert!((overall.f1 - 6.0 / 7.0).abs() < 1e-9, "{overall:?}");
    assert_eq!((overall.judge, overall.judged), (Some(6.0 / 7.0), 7));
    assert_eq!(qa.usage.calls, 16 + 14);
    let report = std::fs::read_to_string(local.path().join("report.md")).unwrap();
    assert!(
        report.contains("| `hybrid` | overall (categories 1-4) | 7 | 85.7 | 85.7 | 7 |"),
        "{report}"
    );

    // Over HTTP against a server, with no model: the same retrieval numbers, answers not run.
    let server_dir = tempfile::tempdir().unwrap();
    let mut config = server::Config::default();
    config.storage.data_dir = server_dir.path().to_path_buf();
    // A loopback server for the harness; keys are tested elsewhere.
    config.auth.mode = server::AuthMode::Off;
    for (key, value) in model_env() {
        match key {
            "MNEMO__EMBEDDING__MODEL_DIR" => config.embedding.model_dir = value,
            _ => config.embedding.ort_library = value,
        }
    }
    let engine = tokio::task::spawn_blocking(move || server::Engine::open(config))
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server::serve(engine, listener, std::future::pending()));
    let remote = tempfile::tempdir().unwrap();
    let over_http = run_eval(remote.path(), vec!["--server".into(), url.clone()]).await;
    assert_eq!(over_http.spec.backend, url);
    assert!(over_http.qa.is_none());
    for (a, b) in results.questions.iter().zip(&over_http.questions) {
        for (x, y) in a.outcomes.iter().zip(&b.outcomes) {
            assert_eq!(x.metrics, y.metrics, "{} {}", a.question, x.mode);
        }
    }
    let report = std::fs::read_to_string(remote.path().join("report.md")).unwrap();
    assert!(report.contains("| LoCoMo token F1 | not run (no language model configured) |"));

    // Evidence recall through context blocks: each mix at each budget, the same over HTTP.
    let blocks = |dir: &Path| -> Vec<ContextRecall> {
        serde_json::from_slice(&std::fs::read(dir.join("context.json")).unwrap()).unwrap()
    };
    let (here, there) = (blocks(local.path()), blocks(remote.path()));
    let with_evidence = data
        .questions
        .iter()
        .filter(|q| !q.evidence.is_empty())
        .count();
    assert_eq!(here.len(), 4, "two mixes, two budgets: {here:?}");
    for row in &here {
        assert_eq!(row.questions, with_evidence);
        assert!((0.0..=1.0).contains(&row.recall), "{row:?}");
        assert!(row.mean_tokens <= row.budget as f64, "{row:?}");
    }
    let small = &here[0];
    let large = &here[1];
    assert!(large.recall >= small.recall, "{here:?}");
    assert_eq!(here, there);
    let table = std::fs::read_to_string(local.path().join("context.md")).unwrap();
    assert!(table.contains("| router | 1000 |"), "{table}");
}

/// Runs `mnemo-eval merge` and returns whether it succeeded, with its stderr.
fn run_merge(out: &Path, runs: &[&Path]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mnemo-eval"))
        .arg("merge")
        .arg("--out")
        .arg(out)
        .args(runs)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_one_conversation_each_merge_into_one_report() {
    if !model_installed() {
        return;
    }
    let data = dataset::load(&std::fs::read(fixture()).unwrap()).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let only = |c: &str| vec!["--conversation".to_owned(), c.to_owned()];
    let run_a = run_eval(a.path(), only("conv-a")).await;
    let run_b = run_eval(b.path(), only("conv-b")).await;

    let out = tempfile::tempdir().unwrap();
    let (ok, stderr) = run_merge(out.path(), &[a.path(), &b.path().join("results.json")]);
    assert!(ok, "{stderr}");
    let merged: Results =
        serde_json::from_slice(&std::fs::read(out.path().join("results.json")).unwrap()).unwrap();
    assert_eq!(merged.spec.conversations, vec!["conv-a", "conv-b"]);
    assert_eq!(
        merged.questions.len(),
        run_a.questions.len() + run_b.questions.len()
    );
    assert_eq!(
        merged.questions[..run_a.questions.len()],
        run_a.questions[..]
    );
    check_recomputation(&merged, &data);
    let sessions: usize = data.conversations.iter().map(|c| c.sessions.len()).sum();
    assert_eq!(merged.summary.ingest_latency_ms.count, sessions);
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(report.contains("2 conversations"), "{report}");

    // The same conversation twice is refused, and nothing is written.
    let refused = tempfile::tempdir().unwrap();
    let (ok, stderr) = run_merge(refused.path(), &[a.path(), a.path()]);
    assert!(!ok);
    assert!(
        stderr.contains("conversation conv-a is already in an earlier run"),
        "{stderr}"
    );
    assert!(!refused.path().join("report.md").exists());
}
