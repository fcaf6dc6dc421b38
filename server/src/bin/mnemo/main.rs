//! The `mnemo` command: run the server, import histories, search, and hand `eval` to
//! `mnemo-eval`.
#![allow(clippy::print_stdout)]

mod archive;
mod external;
mod import;
mod maintenance;
mod mcp;
mod search;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::Config;
use tracing_subscriber::EnvFilter;

/// mnemo: long-term conversational memory server.
#[derive(Debug, Parser)]
#[command(name = "mnemo", version, about)]
struct Cli {
    /// A TOML configuration file (environment variables MNEMO__SECTION__KEY override it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The data directory (overrides storage.data_dir).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the REST server.
    Serve {
        /// Address to listen on (overrides server.bind).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Import whole histories into the data directory.
    Import {
        #[command(subcommand)]
        source: import::Source,
    },
    /// Write a user's memory to an archive (JSON Lines; no server may run on the directory).
    Export(archive::ExportArgs),
    /// Search a user's memory, in process or against a running server.
    Search(search::Args),
    /// Serve MCP over stdio on the data directory (for an agent that launches mnemo).
    Mcp(mcp::Args),
    /// Copy the data directory's store into a new directory, while a server may be running.
    Backup(maintenance::BackupArgs),
    /// Put a backup into the data directory (no server may be running on it).
    Restore(maintenance::RestoreArgs),
    /// Check the data directory's consistency (read-only); exits non-zero on any problem.
    Check(maintenance::CheckArgs),
    /// Print the REST API's OpenAPI 3.1 document (the same as `GET /v1/openapi.json`).
    Openapi,
    /// Any other command runs `mnemo-<command>` from beside this binary (`mnemo eval ...`).
    #[command(external_subcommand)]
    External(Vec<String>),
}

fn init_tracing(default: &str) {
    let filter = EnvFilter::try_from_env("MNEMO_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::load(cli.config.as_deref()).context("loading the configuration")?;
    if let Some(dir) = &cli.data_dir {
        config.storage.data_dir = dir.clone();
    }
    Ok(config)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::External(args) => external::run(args),
        Command::Openapi => {
            print!("{}", server::openapi_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { bind } => {
            init_tracing("info");
            load_config(&cli).and_then(|mut config| {
                if let Some(bind) = bind {
                    config.server.bind = *bind;
                }
                runtime()?.block_on(serve::run(config))
            })
        }
        Command::Backup(args) => {
            init_tracing("warn");
            load_config(&cli).and_then(|c| maintenance::backup(&c.storage.data_dir, args))
        }
        Command::Restore(args) => {
            init_tracing("warn");
            load_config(&cli).and_then(|c| maintenance::restore(&c.storage.data_dir, args))
        }
        Command::Check(args) => {
            init_tracing("warn");
            load_config(&cli).and_then(|c| maintenance::check(&c.storage.data_dir, args))
        }
        Command::Import { source } => {
            init_tracing("warn");
            load_config(&cli).and_then(|config| runtime()?.block_on(import::run(config, source)))
        }
        Command::Export(args) => {
            init_tracing("warn");
            load_config(&cli).and_then(|config| runtime()?.block_on(archive::export(config, args)))
        }
        Command::Search(args) => {
            init_tracing("warn");
            load_config(&cli).and_then(|config| runtime()?.block_on(search::run(config, args)))
        }
        Command::Mcp(args) => {
            init_tracing("warn");
            load_config(&cli).and_then(|config| runtime()?.block_on(mcp::run(config, args)))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mnemo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
