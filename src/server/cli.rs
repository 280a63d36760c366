//! The `ollio` command line. Every failure ends in one line on stderr naming
//! what is wrong, and a non-zero exit status.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use super::{
    config::{Config, ConfigError},
    http,
    sessions::Sessions,
    site,
    state::AppState,
    store::{Store, StoreError},
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "ollio",
    version,
    about = "Ollio: describe an app, and an AI agent builds and runs it.",
    after_help = "Configuration comes from the environment and a .env file: DATABASE_URL, OLLIO_ADDR, OLLIO_DATA_DIR, RUST_LOG."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web app (the default when no command is given).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("OLLIO_DATA_DIR: cannot create {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("OLLIO_ADDR: cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            return fail(&format!(".env: {error}"), 2);
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => return fail(&error.to_string(), 2),
    };
    telemetry::init(&config.log_filter);
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error.to_string(), 1),
    }
}

/// Reports a fatal error as exactly one line on stderr, whatever line breaks
/// the underlying message carries, and gives the exit status.
fn fail(message: &str, status: u8) -> ExitCode {
    let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("ollio: {line}");
    ExitCode::from(status)
}

async fn open_store(config: &Config) -> Result<Store, RunError> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    tracing::info!(database = %config.database_url, "database ready");
    Ok(store)
}

async fn migrate(config: Config) -> Result<(), RunError> {
    let store = open_store(&config).await?;
    store.close().await;
    println!(
        "The {} database is up to date ({} migrations).",
        config.database_url.backend_name(),
        Store::known_migrations()
    );
    Ok(())
}

async fn serve(config: Config) -> Result<(), RunError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| RunError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let leptos_options = site::options(config.addr)?;
    let store = open_store(&config).await?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| RunError::Listen {
            addr: config.addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(RunError::Serve)?;
    let sessions = Sessions::connect(&config.database_url).await?;
    sessions.spawn_cleanup(std::time::Duration::from_secs(3600));
    super::throttle::spawn_pruning(store.clone(), std::time::Duration::from_secs(3600));
    let state = AppState::new(config, leptos_options, store.clone(), sessions);
    tracing::info!(%addr, "listening");
    println!("Ollio is running at http://{addr}");
    http::serve(listener, state, http::shutdown_signal())
        .await
        .map_err(RunError::Serve)?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
