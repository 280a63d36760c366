//! The `ollio` command line. Every failure ends in one line on stderr naming
//! what is wrong, and a non-zero exit status. What each command runs is
//! assembled by `startup`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ollio_sandboxd::{
    args::{GuestArgs, IsolationArgs},
    guest, standalone,
};

use super::{config::Config, http, site::Pages, startup, telemetry};

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
    /// Run the web app (the default when no command is given), with the
    /// bundled sandbox daemon unless OLLIO_SANDBOX=e2b.
    Serve(IsolationArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Run only the sandbox daemon, which speaks E2B's protocol
    /// (OLLIO_SANDBOXD_ADDR, OLLIO_SANDBOXD_API_KEY).
    Sandboxd(SandboxdArgs),
    /// Build the sandbox templates ahead of their first use.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Run turn workers without the web server (OLLIO_WORKERS of them),
    /// against the same database and sandbox service as the app.
    Worker,
    /// The agent inside each sandbox; started by sandboxd, not by hand.
    #[command(hide = true)]
    SandboxGuest(GuestArgs),
}

#[derive(clap::Args, Debug)]
struct SandboxdArgs {
    #[command(flatten)]
    isolation: IsolationArgs,
    /// Started by `ollio serve` as root: stop when stdin closes.
    #[arg(long, hide = true)]
    supervised: bool,
}

#[derive(Subcommand, Debug)]
enum TemplatesCommand {
    /// Install each template named (all by default) once, into the
    /// template cache (OLLIO_TEMPLATE_CACHE, or the data folder's
    /// `templates/`); one already built is left as it is.
    Build {
        /// Template ids, such as react or python-api.
        ids: Vec<String>,
        #[command(flatten)]
        isolation: IsolationArgs,
    },
}

/// Runs the command line with the app's `pages` (see `ollio::pages()`).
pub async fn run(pages: Pages) -> ExitCode {
    let cli = Cli::parse();
    // The guest runs inside a sandbox with a clean environment: no `.env`
    // of the user's project may configure it.
    if let Some(Command::SandboxGuest(args)) = &cli.command {
        return match guest::run(args.options()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => fail(&format!("sandbox guest: {error}"), 1),
        };
    }
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
    let outcome = match cli
        .command
        .unwrap_or(Command::Serve(IsolationArgs::default()))
    {
        Command::Serve(args) => {
            startup::serve(config, args.isolation(), pages, http::shutdown_signal()).await
        }
        Command::Migrate => startup::migrate(&config).await,
        Command::Sandboxd(args) => standalone::run(
            &config.sandbox.daemon,
            &config.data_dir,
            args.isolation.isolation(),
            if args.supervised {
                standalone::Launch::Supervised
            } else {
                standalone::Launch::ByHand
            },
            http::shutdown_signal(),
        )
        .await
        .map_err(Into::into),
        Command::Templates(TemplatesCommand::Build { ids, isolation }) => {
            standalone::build_templates(
                &config.sandbox.daemon,
                &config.data_dir,
                isolation.isolation(),
                &ids,
            )
            .await
            .map_err(Into::into)
        }
        Command::Worker => startup::worker(config, http::shutdown_signal()).await,
        Command::SandboxGuest(_) => Ok(()),
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
