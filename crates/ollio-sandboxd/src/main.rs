//! `ollio-sandboxd`: the bundled sandbox daemon without the web app, with
//! the same settings as `ollio sandboxd` (`OLLIO_SANDBOXD_ADDR`,
//! `OLLIO_SANDBOXD_API_KEY`, `OLLIO_SANDBOX_*`, `OLLIO_PREVIEW_DOMAIN`,
//! its files in `{OLLIO_DATA_DIR}/sandboxd`), and `sandbox-guest`, the agent each
//! sandbox runs.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use ollio_sandboxd::{
    args::{GuestArgs, IsolationArgs},
    guest, settings, standalone,
};

/// The allocator `ollio` uses too, so the guest behaves the same whichever
/// binary runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ollio-sandboxd",
    version,
    about = "Ollio's sandbox daemon: E2B's protocol over bubblewrap jails."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    isolation: IsolationArgs,
}

#[derive(Subcommand)]
enum Command {
    /// The agent inside each sandbox; started by the daemon, not by hand.
    #[command(hide = true)]
    SandboxGuest(GuestArgs),
}

fn main() -> ExitCode {
    match guest::runtime() {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => fail(&format!("the async runtime: {error}")),
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::SandboxGuest(args)) = &cli.command {
        return match guest::run(args.options()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&format!("sandbox guest: {error}")),
        };
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let get = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    let settings = match settings::from_lookup(&get) {
        Ok(settings) => settings,
        Err(error) => return fail(&error.to_string()),
    };
    let data_dir = PathBuf::from(get("OLLIO_DATA_DIR").unwrap_or_else(|| "./data".into()));
    let stopped = async {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = terminate.recv() => {} }
    };
    match standalone::run(
        &settings,
        &data_dir,
        cli.isolation.isolation(),
        standalone::Launch::ByHand,
        stopped,
    )
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error.to_string()),
    }
}

/// One line on stderr, whatever line breaks the message carries.
fn fail(message: &str) -> ExitCode {
    let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    eprintln!("ollio-sandboxd: {line}");
    ExitCode::FAILURE
}
