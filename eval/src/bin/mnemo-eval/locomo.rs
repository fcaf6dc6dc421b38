//! `mnemo-eval locomo`: the LoCoMo benchmark with every mode in one run.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use eval::backend::Backend;
use eval::dataset;
use eval::modes::{self, Mode};
use eval::output::{RESULTS_FORMAT, Results, write_all};
use eval::persona::{self, PersonaScore};
use eval::qa::{QaOptions, QaResults, answer_all};
use eval::run::{Progress, RunOptions, run};
use eval::spec::{RunSpec, git_commit, machine, sha256_hex};
use indicatif::{ProgressBar, ProgressStyle};
use memory::embed::FastEmbedder;
use memory::llm::LanguageModel;
use server::engine::ContextMix;
use server::llm::OpenAiClient;
use server::{Config, Engine};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The LoCoMo file, such as ../shared/data/locomo/locomo10.json.
    #[arg(long)]
    data: PathBuf,
    /// Where to write report.md, results.json, spec.json and the charts.
    #[arg(long)]
    out: PathBuf,
    /// Only these conversations (sample ids); repeatable.
    #[arg(long = "conversation")]
    conversations: Vec<String>,
    /// Only these modes (default: all built-in ones); repeatable.
    #[arg(long = "mode")]
    modes: Vec<String>,
    /// A JSON file with more modes: [{"name", "description", "options": {...}}].
    #[arg(long)]
    mode_file: Option<PathBuf>,
    /// Skip the persona metric (statements against LoCoMo's observations).
    #[arg(long)]
    no_persona: bool,
    /// Units asked for per search.
    #[arg(long, default_value_t = 100)]
    top_k: usize,
    /// Turn budgets for turn-level recall, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5,10,25,50")]
    turn_k: Vec<usize>,
    /// Session cut-offs, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5,10")]
    session_k: Vec<usize>,
    /// Token budgets, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,4000")]
    budget: Vec<usize>,
    /// Evaluate a running server (ingesting into it over HTTP) instead of an engine in process.
    #[arg(long)]
    server: Option<String>,
    /// The server's API key (a tenant key with read and write scopes), with `--server`.
    #[arg(long, requires = "server")]
    api_key: Option<String>,
    /// A mnemo configuration file for the in-process engine (and its `[llm]` section).
    #[arg(long)]
    config: Option<PathBuf>,
    /// An OpenAI-compatible API root (such as http://127.0.0.1:8080/v1) for answers and judging;
    /// overrides llm.base_url. Without one, F1 and judge columns say "not run".
    #[arg(long)]
    llm_url: Option<String>,
    /// The model name sent to the API (overrides llm.model).
    #[arg(long)]
    llm_model: Option<String>,
    /// Modes whose units are answered from (default: the last mode); repeatable.
    #[arg(long = "qa-mode")]
    qa_modes: Vec<String>,
    /// Answer only the first N questions (a local model is slow).
    #[arg(long)]
    qa_limit: Option<usize>,
    /// Context budget for answers, in tokens.
    #[arg(long, default_value_t = 2000)]
    qa_budget: usize,
    /// Do not ask the model to judge answers.
    #[arg(long)]
    no_judge: bool,
    /// Also measure evidence recall through the context endpoint at these budgets
    /// (comma-separated), for each mix; written to context.md and context.json.
    #[arg(long, value_delimiter = ',')]
    context_budget: Vec<usize>,
}

/// Evidence recall through the context endpoint, written beside the report.
async fn measure_context(
    args: &Args,
    backend: &Backend,
    data: &dataset::Dataset,
) -> anyhow::Result<()> {
    if args.context_budget.is_empty() {
        return Ok(());
    }
    let mixes = [ContextMix::Turns, ContextMix::Router];
    let asked = data
        .questions
        .iter()
        .filter(|q| !q.evidence.is_empty())
        .count();
    let bar = ProgressBar::new((asked * mixes.len() * args.context_budget.len()) as u64);
    bar.set_message("context blocks");
    let ticker = bar.clone();
    let rows = eval::context::measure(
        backend,
        &data.questions,
        &args.context_budget,
        &mixes,
        || ticker.inc(1),
    )
    .await?;
    bar.finish_and_clear();
    std::fs::create_dir_all(&args.out)?;
    let table = eval::context::table(&rows);
    std::fs::write(args.out.join("context.md"), &table)?;
    std::fs::write(
        args.out.join("context.json"),
        serde_json::to_vec_pretty(&rows)?,
    )?;
    println!("{table}");
    Ok(())
}

/// Generates and scores answers when a language model is configured.
async fn answer(
    args: &Args,
    config: &Config,
    options: &RunOptions,
    questions: &[eval::run::QuestionOutcome],
) -> anyhow::Result<Option<QaResults>> {
    let mut llm = config.llm.clone();
    if let Some(url) = &args.llm_url {
        llm.base_url = Some(url.clone());
    }
    if let Some(model) = &args.llm_model {
        llm.model = model.clone();
    }
    if llm.base_url.is_none() {
        return Ok(None);
    }
    let modes = if args.qa_modes.is_empty() {
        options
            .modes
            .last()
            .map(|m| vec![m.name.clone()])
            .unwrap_or_default()
    } else {
        args.qa_modes.clone()
    };
    for m in &modes {
        anyhow::ensure!(
            options.modes.iter().any(|o| &o.name == m),
            "--qa-mode {m} is not among the modes run"
        );
    }
    let qa_options = QaOptions {
        modes,
        budget: args.qa_budget,
        limit: args.qa_limit,
        judge: !args.no_judge,
    };
    let count = questions.len().min(args.qa_limit.unwrap_or(usize::MAX)) * qa_options.modes.len();
    let bar = ProgressBar::new(count as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} answering [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let questions = questions.to_vec();
    let ticker = bar.clone();
    // The client blocks: it lives, answers and is dropped on a blocking thread.
    let results = tokio::task::spawn_blocking(move || -> anyhow::Result<QaResults> {
        let client = OpenAiClient::from_config(&llm)?.context("no language model configured")?;
        let model: Arc<dyn LanguageModel> = Arc::new(client);
        Ok(answer_all(&model, &questions, &qa_options, || {
            ticker.inc(1)
        }))
    })
    .await??;
    bar.finish_and_clear();
    Ok(Some(results))
}

/// Scores every conversation's persona statements against its observations, with the
/// embedding model of the configuration.
async fn score_persona(
    backend: &Backend,
    data: &dataset::Dataset,
    config: &Config,
) -> anyhow::Result<PersonaScore> {
    let mut fetched = Vec::with_capacity(data.conversations.len());
    for c in &data.conversations {
        let statements = backend.persona(&c.sample_id).await?;
        fetched.push((
            c.sample_id.clone(),
            data.observations_of(&c.sample_id).to_vec(),
            statements,
        ));
    }
    let embedding = config.embedding.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<PersonaScore> {
        let model = FastEmbedder::open(&embedding)?;
        let mut total = PersonaScore::empty(persona::DEFAULT_THRESHOLD);
        for (id, observations, statements) in &fetched {
            let one = persona::score_conversation(
                id,
                observations,
                statements,
                &model,
                persona::DEFAULT_THRESHOLD,
            )?;
            total.merge(one)?;
        }
        Ok(total)
    })
    .await?
}

pub(crate) async fn run_command(args: &Args) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let mut data = dataset::load(&bytes).context("parsing the LoCoMo file")?;
    if !args.conversations.is_empty() {
        data.conversations
            .retain(|c| args.conversations.contains(&c.sample_id));
        data.questions
            .retain(|q| args.conversations.contains(&q.sample_id));
        anyhow::ensure!(
            !data.conversations.is_empty(),
            "none of the conversations asked for is in the file"
        );
    }
    let extra: Vec<Mode> = match &args.mode_file {
        Some(path) => serde_json::from_slice(&std::fs::read(path)?)
            .with_context(|| format!("reading modes from {}", path.display()))?,
        None => Vec::new(),
    };
    let options = RunOptions {
        modes: modes::select(&args.modes, extra).map_err(anyhow::Error::msg)?,
        top_k: args.top_k,
        turn_ks: args.turn_k.clone(),
        session_ks: args.session_k.clone(),
        budgets: args.budget.clone(),
    };
    let started_at = chrono::Utc::now().to_rfc3339();
    // Read now: a long run outlives commits made while it runs.
    let commit = git_commit();
    let scratch = tempfile::tempdir()?;
    let base_config = Config::load(args.config.as_deref())?;
    let (backend, engine_config, label) = match &args.server {
        Some(url) => {
            let base = url.trim_end_matches('/').to_owned();
            (
                Backend::Http {
                    client: reqwest::Client::new(),
                    base: base.clone(),
                    key: args.api_key.clone(),
                },
                None,
                base,
            )
        }
        None => {
            let mut config = base_config.clone();
            config.storage.data_dir = scratch.path().to_path_buf();
            let redacted = config.redacted();
            let engine = tokio::task::spawn_blocking(move || Engine::open(config)).await??;
            (
                Backend::InProcess(engine),
                Some(redacted),
                "in-process".to_owned(),
            )
        }
    };

    let sessions: usize = data.conversations.iter().map(|c| c.sessions.len()).sum();
    let searches = data.questions.len() * options.modes.len();
    let bar = ProgressBar::new((sessions + searches) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message("ingesting");
    let ticker = bar.clone();
    let outcome = run(&backend, &data, &options, move |p| {
        if p == Progress::Searched {
            ticker.set_message("searching");
        }
        ticker.inc(1);
    })
    .await?;
    bar.finish_and_clear();

    let persona = if args.no_persona {
        None
    } else {
        Some(score_persona(&backend, &data, &base_config).await?)
    };
    measure_context(args, &backend, &data).await?;
    let qa = answer(args, &base_config, &options, &outcome.questions).await?;
    let summary = eval::aggregate::summarise(&outcome, &options);
    let spec = RunSpec {
        dataset: args.data.display().to_string(),
        dataset_sha256: sha256_hex(&bytes),
        conversations: data
            .conversations
            .iter()
            .map(|c| c.sample_id.clone())
            .collect(),
        questions: data.questions.len(),
        backend: label,
        options: options.clone(),
        engine_config,
        git_commit: commit,
        mnemo_version: env!("CARGO_PKG_VERSION").to_owned(),
        machine: machine(),
        started_at,
    };
    let results = Results {
        format: RESULTS_FORMAT.to_owned(),
        spec,
        summary,
        ingest_ms: outcome
            .ingest
            .iter()
            .map(|d| d.as_secs_f64() * 1e3)
            .collect(),
        questions: outcome.questions,
        qa,
        persona,
    };
    let written = write_all(&args.out, &results, &options)?;
    for path in written {
        println!("wrote {}", path.display());
    }
    if let Backend::InProcess(engine) = backend {
        let engine = Arc::new(engine);
        tokio::task::spawn_blocking(move || drop(engine)).await?;
    }
    Ok(())
}
