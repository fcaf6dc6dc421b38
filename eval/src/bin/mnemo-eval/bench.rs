//! `mnemo-eval bench`: the ingest and search benchmark on a LoCoMo file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use eval::dataset::{self, Question};
use eval::stats::Latency;
use indicatif::{ProgressBar, ProgressStyle};
use memory::embed::{Embedder, FastEmbedder};
use memory::tenancy::Scope;
use memory::{TenantId, UnitFilter, UserId};
use retrieval::SearchParams;
use serde_json::json;
use server::engine::{Access, Internal, NewKey};
use server::import::import_locomo;
use server::{AuthMode, Config, Engine};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The LoCoMo file, such as ../shared/data/locomo/locomo10.json.
    #[arg(long)]
    data: PathBuf,
    /// A mnemo configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Only these conversations (sample ids); repeatable.
    #[arg(long = "conversation")]
    conversations: Vec<String>,
    /// Results per search.
    #[arg(long, default_value_t = 10)]
    top_k: usize,
    /// Skip the search measurement over HTTP.
    #[arg(long)]
    no_http: bool,
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let template = format!(
        "{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} {{elapsed_precise}} (eta {{eta}})"
    );
    bar.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// Every distinct unit text of every user, grouped by user.
async fn unit_texts(
    engine: &Engine,
    eval: &Access,
    users: &[String],
) -> anyhow::Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for user in users {
        let user = UserId::new(user.clone())?;
        let mut texts = Vec::new();
        let mut after = None;
        loop {
            let filter = UnitFilter {
                after,
                limit: 1_000,
                ..UnitFilter::default()
            };
            let page = engine.units(eval, user.clone(), filter).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.unit_id);
            texts.extend(page.into_iter().map(|u| u.text));
        }
        texts.sort();
        texts.dedup();
        out.push(texts);
    }
    Ok(out)
}

async fn search_in_process(
    engine: &Engine,
    eval: &Access,
    questions: &[Question],
    top_k: usize,
) -> anyhow::Result<Vec<Duration>> {
    let progress = bar(questions.len(), "searching in process");
    let mut took = Vec::with_capacity(questions.len());
    for q in questions {
        let params = SearchParams::new(q.question.clone(), top_k);
        let started = Instant::now();
        engine
            .search(eval, UserId::new(q.sample_id.clone())?, params)
            .await?;
        took.push(started.elapsed());
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(took)
}

/// One request per question to the engine served on loopback, with `key` as the bearer token if
/// given; `request` names each question's path and body.
async fn over_http(
    engine: &Engine,
    questions: &[Question],
    key: Option<&str>,
    what: &str,
    request: impl Fn(&Question) -> (String, serde_json::Value),
) -> anyhow::Result<Vec<Duration>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server::serve(engine.clone(), listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let progress = bar(questions.len(), what);
    let mut took = Vec::with_capacity(questions.len());
    for q in questions {
        let (path, body) = request(q);
        let mut post = client.post(format!("{base}{path}")).json(&body);
        if let Some(key) = key {
            post = post.bearer_auth(key);
        }
        let started = Instant::now();
        let response = post.send().await?;
        let status = response.status();
        response.bytes().await?;
        took.push(started.elapsed());
        anyhow::ensure!(status.is_success(), "{path} answered {status}");
        progress.inc(1);
    }
    progress.finish_and_clear();
    let _ = stop.send(());
    served.await??;
    Ok(took)
}

/// A search request for a question.
fn search_request(q: &Question, top_k: usize) -> (String, serde_json::Value) {
    (
        format!("/v1/users/{}/search", q.sample_id),
        json!({ "query": q.question, "top_k": top_k }),
    )
}

/// The same data directory opened again with API keys and rate limits on (limits high enough
/// never to refuse, so that only the checks are measured), and a read key of its tenant.
async fn reopen_with_keys(mut config: Config) -> anyhow::Result<(Engine, String)> {
    let admin_key = format!("bench-admin-{}", std::process::id()).repeat(3);
    config.auth.mode = AuthMode::Keys;
    config.auth.admin_key = Some(admin_key.clone());
    config.rate_limit.enabled = true;
    config.rate_limit.search_per_minute = u32::MAX / 2;
    config.rate_limit.search_burst = 1_000_000;
    let engine = tokio::task::spawn_blocking(move || Engine::open(config)).await??;
    let admin = engine.authenticate(Some(&admin_key))?;
    let new = NewKey {
        tenant: Some(TenantId::default_tenant()),
        name: Some("bench".to_owned()),
        scopes: vec![Scope::Read],
        user_ids: None,
        channels: None,
    };
    let token = engine.create_key(&admin, new).await?.token;
    Ok((engine, token))
}

fn print_latency(name: &str, l: &Latency) {
    println!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.mean_ms
    );
}

pub(crate) async fn run(args: &Args) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let mut data = dataset::load(&bytes).context("parsing the LoCoMo file")?;
    if !args.conversations.is_empty() {
        data.conversations
            .retain(|c| args.conversations.contains(&c.sample_id));
        data.questions
            .retain(|q| args.conversations.contains(&q.sample_id));
    }
    let users: Vec<String> = data
        .conversations
        .iter()
        .map(|c| c.sample_id.clone())
        .collect();
    let dir = tempfile::tempdir()?;
    let mut config = Config::load(args.config.as_deref())?;
    config.storage.data_dir = dir.path().to_path_buf();
    // The benchmark's own server, on loopback over a scratch directory.
    config.auth.mode = AuthMode::Off;
    let eval = Access::internal(TenantId::default_tenant(), Internal::Eval);
    // The model alone as the worker runs it, so that the two times compare like with like.
    let embedder_config = memory::embed::EmbedderConfig {
        threads: config.worker.embedding_threads,
        sessions: 1,
        ..config.embedding.clone()
    };
    let engine = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || Engine::open(config)).await??
    };

    let sessions: usize = data.conversations.iter().map(|c| c.sessions.len()).sum();
    let progress = bar(sessions, "importing");
    let inc = progress.clone();
    let started = Instant::now();
    let summary = import_locomo(&engine, &eval, data.conversations.clone(), move |n| {
        inc.inc(n as u64)
    })
    .await?;
    let import_time = started.elapsed();
    progress.finish_and_clear();
    let metrics = engine.metrics();

    // The same texts through the model alone, with a fresh model instance.
    let texts = unit_texts(&engine, &eval, &users).await?;
    let distinct: usize = texts.iter().map(Vec::len).sum();
    let standalone = tokio::task::spawn_blocking(move || -> anyhow::Result<Duration> {
        let model = FastEmbedder::open(&embedder_config)?;
        let started = Instant::now();
        for user_texts in &texts {
            let refs: Vec<&str> = user_texts.iter().map(String::as_str).collect();
            model.embed(&refs)?;
        }
        Ok(started.elapsed())
    })
    .await??;

    let in_process =
        Latency::of(&search_in_process(&engine, &eval, &data.questions, args.top_k).await?);
    let top_k = args.top_k;
    let http = if args.no_http {
        None
    } else {
        let open = over_http(&engine, &data.questions, None, "searching over HTTP", |q| {
            search_request(q, top_k)
        })
        .await?;
        Some(Latency::of(&open))
    };
    // The data directory is opened again below; the engine closes off the async runtime.
    let engine = Arc::new(engine);
    tokio::task::spawn_blocking(move || drop(engine)).await?;
    let keyed = if args.no_http {
        None
    } else {
        let (reopened, token) = reopen_with_keys(config.clone()).await?;
        let questions = &data.questions;
        let searched = over_http(
            &reopened,
            questions,
            Some(&token),
            "searching with a key",
            |q| search_request(q, top_k),
        )
        .await?;
        let mut blocks = Vec::new();
        for mix in ["turns", "router"] {
            let took = over_http(&reopened, questions, Some(&token), "context blocks", |q| {
                (
                    format!("/v1/users/{}/context", q.sample_id),
                    json!({ "query": q.question, "max_tokens": 1000, "mix": mix }),
                )
            })
            .await?;
            blocks.push((mix, Latency::of(&took)));
        }
        Some((reopened, Latency::of(&searched), blocks))
    };

    let secs = import_time.as_secs_f64();
    let embed = metrics.embed_time.as_secs_f64();
    println!(
        "## Ingest ({} conversations, {} sessions, {} turns, {} units)",
        summary.users, summary.sessions, summary.turns, summary.units
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| import wall time | {secs:.1} s |");
    println!(
        "| throughput | {:.0} turns/s, {:.0} units/s |",
        summary.turns as f64 / secs,
        summary.units as f64 / secs
    );
    println!(
        "| texts embedded by the pipeline | {} |",
        metrics.texts_embedded
    );
    println!(
        "| time inside the model during import | {embed:.1} s ({:.0}% of the import) |",
        100.0 * embed / secs
    );
    println!(
        "| association (GMM links) during import | {:.1} s ({:.1}% of the import), {} edges |",
        metrics.association_time.as_secs_f64(),
        100.0 * metrics.association_time.as_secs_f64() / secs,
        metrics.edges
    );
    println!(
        "| the same {distinct} distinct unit texts through the model alone | {:.1} s |",
        standalone.as_secs_f64()
    );
    println!(
        "| import time / model-alone time | {:.2}x |",
        secs / standalone.as_secs_f64()
    );
    println!();
    println!(
        "## Search ({} questions, top_k {})",
        data.questions.len(),
        args.top_k
    );
    println!();
    println!("| path | searches | p50 ms | p95 ms | p99 ms | mean ms |");
    println!("|---|---|---|---|---|---|");
    print_latency("in process", &in_process);
    if let Some(http) = &http {
        print_latency("HTTP (127.0.0.1), authentication off", http);
    }
    if let Some((engine, searched, blocks)) = keyed {
        print_latency(
            "HTTP (127.0.0.1), API key, rate limits and metrics on",
            &searched,
        );
        for (mix, took) in &blocks {
            print_latency(
                &format!("HTTP context block, 1000 tokens, `{mix}` mix, API key"),
                took,
            );
        }
        let engine = Arc::new(engine);
        tokio::task::spawn_blocking(move || drop(engine)).await?;
    }
    Ok(())
}
