//! `mnemo serve`: open the engine and serve the REST API until SIGINT or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use server::{AuthMode, Config, Engine};
use tokio::net::TcpListener;
use tracing::{info, warn};

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    info!("shutting down");
}

pub(crate) async fn run(config: Config) -> anyhow::Result<ExitCode> {
    info!(config = %config.redacted(), "starting mnemo");
    match config.auth.mode {
        AuthMode::Off => warn!(
            bind = %config.server.bind,
            "authentication is off: every caller on this machine can read and change all memory"
        ),
        AuthMode::Keys
            if config.auth.admin_key.is_none() && config.auth.admin_key_file.is_none() =>
        {
            warn!("no admin key configured: tenants and keys cannot be managed over the API")
        }
        AuthMode::Keys => {}
    }
    let bind = config.server.bind;
    let engine = tokio::task::spawn_blocking(move || Engine::open(config))
        .await
        .context("opening the engine")?
        .context("opening the engine")?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    let address = listener.local_addr()?;
    info!(%address, "mnemo is listening");
    // One line on stdout, for people and for scripts that wait for the server to be up.
    println!("mnemo listening on http://{address}");
    server::serve(engine.clone(), listener, shutdown_signal())
        .await
        .context("serving")?;
    // The main file alone then holds every commit, whatever happens to the log later.
    if let Err(error) = engine.checkpoint().await {
        warn!(%error, "the store's write-ahead log was not checkpointed");
    }
    // Stopping the worker joins its thread: do it off the async runtime.
    tokio::task::spawn_blocking(move || drop(engine))
        .await
        .context("stopping the worker")?;
    Ok(ExitCode::SUCCESS)
}
