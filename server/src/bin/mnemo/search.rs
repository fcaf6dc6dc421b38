//! `mnemo search`: query a user's memory in process, or over HTTP with `--server`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use memory::{Granularity, TenantId, UserId};
use retrieval::{SearchParams, StrategyChoice, StrategyKind};
use serde_json::{Value, json};
use server::engine::{Access, Internal};
use server::{Config, Engine};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The user whose memory to search.
    #[arg(long)]
    user: String,
    /// The query text.
    query: String,
    /// How many results.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Restrict to these granularities (session, round, turn, summary, keywords); repeatable.
    #[arg(long = "granularity")]
    granularities: Vec<Granularity>,
    /// The ranking method (hybrid or memgas); the configured default when absent.
    #[arg(long)]
    strategy: Option<StrategyKind>,
    /// A running mnemo, such as http://127.0.0.1:7700, instead of opening the data directory.
    #[arg(long)]
    server: Option<String>,
    /// The server's API key, with `--server` (default: the MNEMO_API_KEY environment variable).
    #[arg(long, requires = "server")]
    api_key: Option<String>,
}

fn print_result(rank: usize, granularity: &str, session: &str, score: f64, text: &str) {
    let text: String = text.replace('\n', " / ").chars().take(200).collect();
    println!("{rank:>2}. [{granularity} {session}] {score:.4}  {text}");
}

async fn over_http(server: &str, args: &Args) -> anyhow::Result<()> {
    let url = format!(
        "{}/v1/users/{}/search",
        server.trim_end_matches('/'),
        args.user
    );
    let mut body =
        json!({ "query": args.query, "top_k": args.top_k, "granularities": args.granularities });
    if let Some(strategy) = args.strategy {
        body["strategy"] = json!(strategy);
    }
    let mut request = reqwest::Client::new().post(&url).json(&body);
    let key = args
        .api_key
        .clone()
        .or_else(|| std::env::var("MNEMO_API_KEY").ok());
    if let Some(key) = key.filter(|k| !k.is_empty()) {
        request = request.bearer_auth(key);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = response.status();
    let value: Value = response.json().await.context("reading the response")?;
    if !status.is_success() {
        bail!(
            "{status}: {}",
            value["error"]["message"]
                .as_str()
                .unwrap_or("unknown error")
        );
    }
    for r in value["results"].as_array().into_iter().flatten() {
        print_result(
            r["rank"].as_u64().unwrap_or(0) as usize,
            r["granularity"].as_str().unwrap_or(""),
            r["session_id"].as_str().unwrap_or(""),
            r["scores"]["fused"].as_f64().unwrap_or(0.0),
            r["text"].as_str().unwrap_or(""),
        );
    }
    Ok(())
}

pub(crate) async fn run(config: Config, args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(server) = &args.server {
        over_http(server, args).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let user = UserId::new(args.user.clone())?;
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await?
        .context("opening the data directory (if a server is running on it, pass --server)")?;
    // The command line reads the data directory itself: whoever can read the files can read
    // the memory. It reads the default tenant.
    let cli = Access::internal(TenantId::default_tenant(), Internal::Cli);
    let params = SearchParams {
        granularities: args.granularities.clone(),
        method: StrategyChoice {
            strategy: args.strategy,
            ..StrategyChoice::default()
        },
        ..SearchParams::new(args.query.clone(), args.top_k)
    };
    let outcome = engine.search(&cli, user, params).await?;
    for (i, r) in outcome.results.iter().enumerate() {
        let session = r.unit.session_id.to_string();
        print_result(
            i + 1,
            r.unit.granularity.as_str(),
            &session,
            f64::from(r.scores.fused),
            &r.unit.text,
        );
    }
    tokio::task::spawn_blocking(move || drop(engine)).await?;
    Ok(ExitCode::SUCCESS)
}
