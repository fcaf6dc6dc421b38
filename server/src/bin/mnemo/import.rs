//! `mnemo import`: bulk import through the engine's ingest path, with a progress bar.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use memory::TenantId;
use server::engine::{Access, Internal};
use server::import::{import_locomo, locomo};
use server::{Config, Engine};

#[derive(Debug, Subcommand)]
pub(crate) enum Source {
    /// A LoCoMo file: one user per conversation (its sample_id), one session per session.
    Locomo {
        /// The JSON file, such as locomo10.json.
        file: PathBuf,
        /// Import only these conversations (sample ids); repeatable.
        #[arg(long = "conversation")]
        conversations: Vec<String>,
    },
    /// A user archive written by `mnemo export` or `GET /v1/users/{user_id}/export`, into a
    /// user without memory.
    Archive {
        /// The archive file (JSON Lines).
        file: PathBuf,
        /// The user to import into.
        #[arg(long)]
        user: String,
        /// The user's tenant.
        #[arg(long, default_value = "default")]
        tenant: String,
    },
}

pub(crate) async fn run(config: Config, source: &Source) -> anyhow::Result<ExitCode> {
    let (file, only) = match source {
        Source::Locomo {
            file,
            conversations,
        } => (file, conversations),
        Source::Archive { file, user, tenant } => {
            return super::archive::import(config, file, user, tenant).await;
        }
    };
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut conversations =
        locomo::parse(&bytes).with_context(|| format!("parsing {}", file.display()))?;
    if !only.is_empty() {
        conversations.retain(|c| only.contains(&c.sample_id));
    }
    let sessions: usize = conversations.iter().map(|c| c.sessions.len()).sum();
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await
        .context("opening the engine")?
        .context("opening the engine")?;
    let bar = ProgressBar::new(sessions as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} importing [{bar:40}] {pos}/{len} sessions {elapsed_precise} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    // The operator loads a dataset into the default tenant of the data directory.
    let importer = Access::internal(TenantId::default_tenant(), Internal::Import);
    let started = Instant::now();
    let progress = bar.clone();
    let summary = import_locomo(&engine, &importer, conversations, move |n| {
        progress.inc(n as u64)
    })
    .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {} users, {} sessions, {} turns, {} units in {:.1} s ({:.0} turns/s)",
        summary.users,
        summary.sessions,
        summary.turns,
        summary.units,
        secs,
        summary.turns as f64 / secs.max(1e-9)
    );
    tokio::task::spawn_blocking(move || drop(engine)).await?;
    Ok(ExitCode::SUCCESS)
}
