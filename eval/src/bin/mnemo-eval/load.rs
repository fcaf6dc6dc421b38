//! `mnemo-eval load`: mnemo under concurrent load on loopback, as a deployment sees it. Half the
//! conversations are imported first; then search clients ask their questions while ingest
//! clients store the other half's sessions (again under new user ids when they run out) with
//! `wait=true`, so an ingest's latency is its build lag, deleting each session's previous copy
//! so that the stored data keeps its size. Reports searches per second and their
//! latency, ingest rate and build lag, errors by code, and the process's resident memory and
//! open file descriptors over time (a soak is the same run for an hour).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use eval::dataset::{self, Question};
use eval::stats::Latency;
use memory::TenantId;
use serde_json::{Value, json};
use server::engine::{Access, Internal};
use server::import::import_locomo;
use server::import::locomo::LocomoConversation;
use server::{AuthMode, Config, Engine};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The LoCoMo file, such as ../shared/data/locomo/locomo10.json.
    #[arg(long)]
    data: PathBuf,
    /// A mnemo configuration file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Clients searching at once, each sending its next search when the last is answered.
    #[arg(long, default_value_t = 16)]
    search_clients: usize,
    /// Instead of `--search-clients`: searches offered at this fixed rate per second, each sent
    /// on schedule whether or not earlier ones are answered (an open loop), with its latency
    /// counted from when it was due, so time spent waiting behind a slow server is counted.
    #[arg(long)]
    search_rate: Option<f64>,
    /// Clients storing sessions at once.
    #[arg(long, default_value_t = 4)]
    ingest_clients: usize,
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    /// How often resident memory, file descriptors and throughput are sampled, in seconds.
    #[arg(long, default_value_t = 10)]
    sample_secs: u64,
    /// Results per search.
    #[arg(long, default_value_t = 10)]
    top_k: usize,
}

/// What the clients saw.
#[derive(Debug, Default)]
struct Seen {
    searches: Vec<Duration>,
    ingests: Vec<Duration>,
    /// Answers other than success, by status and code.
    errors: BTreeMap<String, usize>,
}

/// This process's resident memory (MiB) and open file descriptors, from /proc.
fn footprint() -> (f64, usize) {
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    (rss_kib / 1024.0, fds)
}

/// A LoCoMo session as a client POSTs it, under `user`'s own session id.
fn session_body(conversation: &LocomoConversation, index: usize, round: usize) -> Value {
    let s = &conversation.sessions[index];
    let turns: Vec<Value> = s
        .turns
        .iter()
        .map(|t| json!({ "speaker": t.speaker, "role": "user", "text": t.text, "external_id": t.external_id, "caption": t.caption }))
        .collect();
    json!({
        "session_id": format!("{}-r{round}", s.session_id.as_str()),
        "started_at": s.started_at.to_rfc3339(),
        "turns": turns,
    })
}

async fn record(seen: &Mutex<Seen>, response: reqwest::Result<reqwest::Response>) -> bool {
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            *seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .errors
                .entry(format!("transport: {e}"))
                .or_default() += 1;
            return false;
        }
    };
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return true;
    }
    let code = body["error"]["code"].as_str().unwrap_or("?");
    *seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .errors
        .entry(format!("{} {code}", status.as_u16()))
        .or_default() += 1;
    false
}

async fn searcher(
    base: String,
    questions: Arc<Vec<Question>>,
    start: usize,
    top_k: usize,
    until: Instant,
    seen: Arc<Mutex<Seen>>,
) {
    let client = reqwest::Client::new();
    let mut i = start;
    while Instant::now() < until {
        let q = &questions[i % questions.len()];
        i += 1;
        search_once(&client, &base, q, top_k, Instant::now(), &seen).await;
    }
}

/// One search, its latency counted from `due`.
async fn search_once(
    client: &reqwest::Client,
    base: &str,
    q: &Question,
    top_k: usize,
    due: Instant,
    seen: &Mutex<Seen>,
) {
    let response = client
        .post(format!("{base}/v1/users/{}/search", q.sample_id))
        .json(&json!({ "query": q.question, "top_k": top_k }))
        .send()
        .await;
    if record(seen, response).await {
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .searches
            .push(due.elapsed());
    }
}

/// The most searches in flight in the open loop; a search due beyond it is counted as an error
/// ("client backlog") instead of growing the client without bound.
const MAX_IN_FLIGHT: usize = 1024;

/// Offers searches at `rate` per second until `until`, each on its own schedule.
async fn offer_searches(
    base: String,
    questions: Arc<Vec<Question>>,
    rate: f64,
    top_k: usize,
    until: Instant,
    seen: Arc<Mutex<Seen>>,
) {
    let client = reqwest::Client::new();
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut ticks = tokio::time::interval(period);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    let mut i = 0usize;
    loop {
        let due = ticks.tick().await.into_std();
        if due >= until {
            break;
        }
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            *seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .errors
                .entry("client backlog".to_owned())
                .or_default() += 1;
            continue;
        };
        let q = questions[i % questions.len()].clone();
        i += 1;
        let (client, base, seen) = (client.clone(), base.clone(), Arc::clone(&seen));
        tasks.spawn(async move {
            search_once(&client, &base, &q, top_k, due, &seen).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

async fn ingester(
    base: String,
    conversations: Arc<Vec<LocomoConversation>>,
    client_id: usize,
    clients: usize,
    until: Instant,
    seen: Arc<Mutex<Seen>>,
) {
    let client = reqwest::Client::new();
    // Every (conversation, session) pair in turn, this client taking every `clients`-th one.
    let pairs: Vec<(usize, usize)> = conversations
        .iter()
        .enumerate()
        .flat_map(|(c, conv)| (0..conv.sessions.len()).map(move |s| (c, s)))
        .collect();
    let mut round = 0;
    let mut i = client_id;
    while Instant::now() < until {
        if i >= pairs.len() {
            round += 1;
            i = client_id;
        }
        let (c, s) = pairs[i];
        i += clients;
        let conversation = &conversations[c];
        let user = format!("{base}/v1/users/{}-load/sessions", conversation.sample_id);
        let started = Instant::now();
        let response = client
            .post(&user)
            .json(&session_body(conversation, s, round))
            .send()
            .await;
        if record(&seen, response).await {
            seen.lock()
                .unwrap_or_else(|e| e.into_inner())
                .ingests
                .push(started.elapsed());
            // The previous round's copy goes, so the stored data stays the same size however
            // long the run: what grows then is a leak, not the data.
            if round > 0 {
                let previous = format!(
                    "{}-r{}",
                    conversation.sessions[s].session_id.as_str(),
                    round - 1
                );
                let response = client.delete(format!("{user}/{previous}")).send().await;
                record(&seen, response).await;
            }
        }
    }
}

pub(crate) async fn run(args: &Args) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let data = dataset::load(&bytes).context("parsing the LoCoMo file")?;
    let half = data.conversations.len().div_ceil(2);
    let (searched, ingested) = data.conversations.split_at(half);
    let searched_ids: Vec<&str> = searched.iter().map(|c| c.sample_id.as_str()).collect();
    let questions: Vec<Question> = data
        .questions
        .iter()
        .filter(|q| searched_ids.contains(&q.sample_id.as_str()))
        .cloned()
        .collect();
    anyhow::ensure!(
        !questions.is_empty() && !ingested.is_empty(),
        "the file needs at least two conversations with questions"
    );

    let dir = tempfile::tempdir()?;
    let mut config = Config::load(args.config.as_deref())?;
    config.storage.data_dir = dir.path().to_path_buf();
    // The benchmark's own server, on loopback over a scratch directory.
    config.auth.mode = AuthMode::Off;
    config.rate_limit.enabled = false;
    let engine = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || Engine::open(config)).await??
    };
    let eval = Access::internal(TenantId::default_tenant(), Internal::Eval);
    eprintln!("importing {} conversations to search ...", searched.len());
    import_locomo(&engine, &eval, searched.to_vec(), |_| {}).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(server::serve(engine.clone(), listener, async {
        let _ = stopped.await;
    }));

    let (rss0, fds0) = footprint();
    let started = Instant::now();
    let until = started + Duration::from_secs(args.duration_secs);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let questions = Arc::new(questions);
    let to_ingest = Arc::new(ingested.to_vec());
    let mut clients = Vec::new();
    if let Some(rate) = args.search_rate {
        anyhow::ensure!(
            rate.is_finite() && rate > 0.0,
            "--search-rate must be a positive number"
        );
        clients.push(tokio::spawn(offer_searches(
            base.clone(),
            Arc::clone(&questions),
            rate,
            args.top_k,
            until,
            Arc::clone(&seen),
        )));
    }
    for c in 0..args.search_clients * usize::from(args.search_rate.is_none()) {
        let start = c * questions.len() / args.search_clients.max(1);
        clients.push(tokio::spawn(searcher(
            base.clone(),
            Arc::clone(&questions),
            start,
            args.top_k,
            until,
            Arc::clone(&seen),
        )));
    }
    for c in 0..args.ingest_clients {
        clients.push(tokio::spawn(ingester(
            base.clone(),
            Arc::clone(&to_ingest),
            c,
            args.ingest_clients,
            until,
            Arc::clone(&seen),
        )));
    }
    println!(
        "| elapsed s | searches/s | search p99 ms | sessions stored/s | resident MiB | open fds |"
    );
    println!("|---|---|---|---|---|---|");
    println!("| 0 | | | | {rss0:.0} | {fds0} |");
    let mut last = (0usize, 0usize);
    let mut samples: Vec<(f64, usize)> = Vec::new();
    while Instant::now() < until {
        let left = until.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.min(Duration::from_secs(args.sample_secs))).await;
        let (searches, ingests, p99) = {
            let s = seen.lock().unwrap_or_else(|e| e.into_inner());
            let recent = Latency::of(&s.searches[last.0..]);
            (s.searches.len(), s.ingests.len(), recent.p99_ms)
        };
        let period = args.sample_secs as f64;
        let (rss, fds) = footprint();
        samples.push((rss, fds));
        println!(
            "| {:.0} | {:.0} | {p99:.1} | {:.2} | {rss:.0} | {fds} |",
            started.elapsed().as_secs_f64(),
            (searches - last.0) as f64 / period,
            (ingests - last.1) as f64 / period,
        );
        last = (searches, ingests);
    }
    for c in clients {
        c.await?;
    }
    let wall = started.elapsed().as_secs_f64();
    let _ = stop.send(());
    served.await??;

    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    let search = Latency::of(&seen.searches);
    let ingest = Latency::of(&seen.ingests);
    println!();
    let searching = match args.search_rate {
        Some(rate) => format!("searches offered at {rate}/s"),
        None => format!("{} search clients", args.search_clients),
    };
    println!(
        "## Load: {searching}, {} ingest clients (wait=true), {wall:.0} s",
        args.ingest_clients
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| searches | {} ({:.0}/s) |",
        search.count,
        search.count as f64 / wall
    );
    println!(
        "| search latency p50 / p95 / p99 | {:.1} / {:.1} / {:.1} ms |",
        search.p50_ms, search.p95_ms, search.p99_ms
    );
    println!(
        "| sessions stored and built | {} ({:.2}/s) |",
        ingest.count,
        ingest.count as f64 / wall
    );
    println!(
        "| build lag (ingest with wait=true) p50 / p95 | {:.1} / {:.1} s |",
        ingest.p50_ms / 1e3,
        ingest.p95_ms / 1e3
    );
    let errors: Vec<String> = seen
        .errors
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    println!(
        "| errors | {} |",
        if errors.is_empty() {
            "none".to_owned()
        } else {
            errors.join(", ")
        }
    );
    // Flat after warm-up: the samples after the first fifth against the first of them.
    let warm = samples.len() / 5;
    if let Some(&(rss_warm, fds_warm)) = samples.get(warm) {
        let rss_max = samples[warm..].iter().map(|s| s.0).fold(0.0, f64::max);
        let fds_max = samples[warm..].iter().map(|s| s.1).max().unwrap_or(0);
        println!(
            "| resident memory after warm-up | {rss_warm:.0} MiB, at most {rss_max:.0} MiB ({:+.1}%) |",
            100.0 * (rss_max - rss_warm) / rss_warm.max(1.0)
        );
        println!(
            "| open file descriptors after warm-up | {fds_warm}, at most {fds_max} ({:+.1}%) |",
            100.0 * (fds_max as f64 - fds_warm as f64) / (fds_warm as f64).max(1.0)
        );
    }
    let engine = Arc::new(engine);
    tokio::task::spawn_blocking(move || drop(engine)).await?;
    Ok(())
}
