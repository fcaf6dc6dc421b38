//! `mnemo mcp`: the MCP server over stdio, for an agent that launches mnemo itself. It opens the
//! data directory in this process (stop a server running on it first, or connect the agent to
//! that server's `/mcp` instead).

use std::process::ExitCode;

use anyhow::Context;
use memory::TenantId;
use rmcp::ServiceExt;
use server::engine::{Access, Internal};
use server::mcp::Mcp;
use server::{Config, Engine};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The tenant whose users the tools reach (without `MNEMO_API_KEY`).
    #[arg(long, default_value = "default")]
    tenant: String,
}

pub(crate) async fn run(config: Config, args: &Args) -> anyhow::Result<ExitCode> {
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await?
        .context("opening the data directory (if a server is running on it, use its /mcp)")?;
    // With a key in the environment the tools have exactly that key's access, as over HTTP;
    // without one, whoever can read the data directory's files has its tenant's memory anyway.
    let access = match std::env::var("MNEMO_API_KEY") {
        Ok(key) => engine
            .authenticate(Some(&key))
            .context("MNEMO_API_KEY is not a valid key of this data directory")?,
        Err(_) => Access::internal(TenantId::new(args.tenant.clone())?, Internal::Cli),
    };
    let service = Mcp::with_access(engine, access)
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session")?;
    service.waiting().await.context("serving MCP over stdio")?;
    Ok(ExitCode::SUCCESS)
}
