//! `mnemo export` and `mnemo import archive`: a user's memory out to a file and back, through
//! the engine on the data directory (no server may be running on it; use the REST endpoints
//! then).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use memory::{Channel, TenantId, UserId};
use server::archive::{read, write_lines};
use server::engine::{Access, Internal};
use server::{Config, Engine};

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// The user to export.
    #[arg(long)]
    user: String,
    /// The user's tenant.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Write the archive here instead of to standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

async fn open(config: Config) -> anyhow::Result<Engine> {
    tokio::task::spawn_blocking(move || Engine::open(config))
        .await
        .context("opening the engine")?
        .context("opening the engine")
}

async fn close(engine: Engine) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || drop(engine)).await?;
    Ok(())
}

pub(crate) async fn export(config: Config, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let user = UserId::new(args.user.clone())?;
    let cli = Access::internal(TenantId::new(args.tenant.clone())?, Internal::Cli);
    let engine = open(config).await?;
    let (header, archive) = engine.export_user(&cli, user).await?;
    close(engine).await?;
    let mut text = String::new();
    for line in write_lines(&header, &archive) {
        text.push_str(&line);
        text.push('\n');
    }
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    eprintln!(
        "exported {} sessions, {} statements, {} audit entries of user {}",
        archive.sessions.len(),
        archive.statements.len(),
        archive.audit.len(),
        args.user
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn import(
    config: Config,
    file: &Path,
    user: &str,
    tenant: &str,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let (header, archive) = read(&bytes).with_context(|| format!("reading {}", file.display()))?;
    let importer = Access::internal(TenantId::new(tenant.to_owned())?, Internal::Import);
    let engine = open(config).await?;
    let report = engine
        .import_user(
            &importer,
            UserId::new(user.to_owned())?,
            archive,
            Channel::Import,
            true,
        )
        .await;
    close(engine).await?;
    let report = report?;
    let c = report.counts;
    println!(
        "imported user {user} (exported as {} by mnemo {}): {} sessions, {} turns, {} units, \
         {} statements, {} audit entries; {} sessions still to build",
        header.user_id,
        header.mnemo_version,
        c.sessions,
        c.turns,
        c.units,
        c.statements,
        c.audit_entries,
        report.pending
    );
    Ok(ExitCode::SUCCESS)
}
