//! `mnemo-eval`: benchmarks and evaluation runs against mnemo (`mnemo eval ...` runs it).
#![allow(clippy::print_stdout)]

mod bench;
mod load;
mod locomo;
mod merge;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// mnemo's evaluation harness.
#[derive(Debug, Parser)]
#[command(name = "mnemo-eval", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import a LoCoMo file and run its questions as searches: ingest throughput, the share of
    /// time in the embedding model, and search latency in process and over HTTP.
    Bench(bench::Args),
    /// mnemo under concurrent search and ingest load over loopback HTTP: throughput, latency,
    /// build lag, errors by code, and memory and file descriptors over time (a soak with
    /// `--duration-secs 3600`).
    Load(load::Args),
    /// Run the LoCoMo retrieval benchmark with every mode in one run and write a report.
    Locomo(Box<locomo::Args>),
    /// Merge runs over disjoint conversations (say, one conversation at a time with a slow
    /// language model) into one report, as if they had been one run.
    Merge(merge::Args),
}

fn main() -> ExitCode {
    let filter = EnvFilter::try_from_env("MNEMO_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mnemo-eval: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match &cli.command {
        Command::Bench(args) => runtime.block_on(bench::run(args)),
        Command::Load(args) => runtime.block_on(load::run(args)),
        Command::Locomo(args) => runtime.block_on(locomo::run_command(args)),
        Command::Merge(args) => merge::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mnemo-eval: {e:#}");
            ExitCode::FAILURE
        }
    }
}
