//! `mnemo backup`, `mnemo restore` and `mnemo check`: looking after a data directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use server::maintenance::{self, Check, Finding, Manifest};

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// A new (or empty) directory for the backup.
    out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// A directory written by `mnemo backup`.
    backup: PathBuf,
    /// Replace the data directory's store if it has one.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Rebuild the derived indexes from the store (no server may be running), then check again.
    #[arg(long)]
    repair: bool,
}

fn describe(manifest: &Manifest) -> String {
    format!(
        "{} users, {} sessions ({} pending), {} units, schema {}, taken {}",
        manifest.users,
        manifest.sessions,
        manifest.pending_sessions,
        manifest.units,
        manifest.schema_version,
        manifest.created_at
    )
}

pub(crate) fn backup(data_dir: &Path, args: &BackupArgs) -> anyhow::Result<ExitCode> {
    let manifest = maintenance::backup(data_dir, &args.out)?;
    println!(
        "backup written to {}: {}",
        args.out.display(),
        describe(&manifest)
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn restore(data_dir: &Path, args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    let manifest = maintenance::restore(&args.backup, data_dir, args.force)?;
    println!(
        "restored into {}: {}; the indexes are rebuilt at the next start",
        data_dir.display(),
        describe(&manifest)
    );
    Ok(ExitCode::SUCCESS)
}

fn report(data_dir: &Path, check: &Check) -> ExitCode {
    for finding in &check.findings {
        match finding {
            Finding::Problem(line) => println!("problem: {line}"),
            Finding::Note(line) => println!("note: {line}"),
        }
    }
    let problems = check.problems().len();
    println!(
        "{}: {} sessions, {} units, index log at {}; {problems} problem{}",
        data_dir.display(),
        check.sessions,
        check.units,
        check.index_log_head,
        if problems == 1 { "" } else { "s" }
    );
    if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub(crate) fn check(data_dir: &Path, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let check = if args.repair {
        maintenance::repair(data_dir)?
    } else {
        maintenance::check(data_dir)?
    };
    Ok(report(data_dir, &check))
}
