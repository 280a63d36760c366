//! The `ollio` command line. Every failure ends in one line on stderr naming
//! what is wrong, and a non-zero exit status.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;

use super::{
    agent::{
        engine::Engine,
        events::EventHub,
        providers::Providers,
        scripted::ScriptedServer,
        turn::TurnLimits,
        worker::{WorkerOptions, Workers},
    },
    config::{Config, ConfigError, SandboxBackend},
    http,
    sandbox::SandboxClient,
    sandboxd::{self, DaemonConfig, DaemonError, Isolation, RunningDaemon},
    secrets::{SecretBox, SecretError},
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
    /// Run the web app (the default when no command is given), with the
    /// bundled sandbox daemon unless OLLIO_SANDBOX=e2b.
    Serve(IsolationArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Run only the sandbox daemon, which speaks E2B's protocol
    /// (OLLIO_SANDBOXD_ADDR, OLLIO_SANDBOXD_API_KEY).
    Sandboxd(IsolationArgs),
    /// Run turn workers without the web server (OLLIO_WORKERS of them),
    /// against the same database and sandbox service as the app.
    Worker,
    /// The agent inside each sandbox; started by sandboxd, not by hand.
    #[command(hide = true)]
    SandboxGuest(GuestArgs),
    /// A scripted model server for tests: replays the JSON scripts in a
    /// folder over the OpenAI-compatible and Anthropic protocols.
    #[command(hide = true)]
    ScriptedModel(ScriptedModelArgs),
}

#[derive(Args)]
struct ScriptedModelArgs {
    #[arg(long)]
    scripts: std::path::PathBuf,
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: std::net::SocketAddr,
}

#[derive(Args, Default)]
struct IsolationArgs {
    /// Run sandboxes as plain processes when bubblewrap is missing. Generated
    /// code can then read and change this machine; every page says so.
    #[arg(long)]
    unsafe_no_isolation: bool,
}

impl IsolationArgs {
    fn isolation(&self) -> Isolation {
        if self.unsafe_no_isolation {
            Isolation::None
        } else {
            Isolation::Bubblewrap
        }
    }
}

#[derive(Args)]
struct GuestArgs {
    /// The listening socket the host passed in.
    #[arg(long)]
    listen_fd: i32,
    #[arg(long)]
    run_dir: std::path::PathBuf,
    #[arg(long)]
    home: std::path::PathBuf,
    #[arg(long)]
    confine: bool,
    #[arg(long)]
    serve_static: Option<u16>,
    #[arg(long)]
    disk_limit: u64,
    #[arg(long)]
    egress: bool,
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
    #[error(transparent)]
    Sandboxd(#[from] DaemonError),
    #[error("cannot keep the sandbox daemon's key in {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("OLLIO_SANDBOXD_API_KEY: `ollio worker` needs the key of the running sandboxd (or OLLIO_SANDBOX=e2b)")]
    WorkerSandbox,
    #[error("the scripted model server: {0}")]
    Scripted(std::io::Error),
    #[error(transparent)]
    Secrets(#[from] SecretError),
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    // The guest runs inside a sandbox with a clean environment: no `.env`
    // of the user's project may configure it.
    if let Some(Command::SandboxGuest(args)) = &cli.command {
        return guest(args).await;
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
        Command::Serve(args) => serve(config, args.isolation()).await,
        Command::Migrate => migrate(config).await,
        Command::Sandboxd(args) => sandboxd_alone(config, args.isolation()).await,
        Command::Worker => worker(config).await,
        Command::ScriptedModel(args) => scripted_model(&args).await,
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

async fn guest(args: &GuestArgs) -> ExitCode {
    let options = sandboxd::guest::GuestOptions {
        listen_fd: args.listen_fd,
        run_dir: args.run_dir.clone(),
        home: args.home.clone(),
        confine: args.confine,
        serve_static: args.serve_static,
        disk_limit: args.disk_limit,
        egress: args.egress,
    };
    match sandboxd::guest::run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&format!("sandbox guest: {error}"), 1),
    }
}

fn daemon_config(
    config: &Config,
    isolation: Isolation,
    key: crate::server::sandbox::ApiKey,
) -> DaemonConfig {
    let mut daemon = DaemonConfig::new(config.sandbox.sandboxd_addr, config.data_dir.clone(), key);
    daemon.isolation = isolation;
    daemon.limits = config.sandbox.limits;
    daemon.keep_dirs = config.sandbox.keep_dirs;
    daemon.preview_domain = config.sandbox.preview_domain.clone();
    daemon.network = config.sandbox.network.clone();
    daemon
}

/// `ollio sandboxd`: the daemon alone, until Ctrl-C or SIGTERM. Without
/// OLLIO_SANDBOXD_API_KEY it keeps a generated key in the data folder.
async fn sandboxd_alone(config: Config, isolation: Isolation) -> Result<(), RunError> {
    create_data_dir(&config)?;
    let key = match config.sandbox.sandboxd_api_key.clone() {
        Some(key) => key,
        None => stored_key(&config.data_dir.join("sandboxd.key"))?,
    };
    let daemon = sandboxd::start(daemon_config(&config, isolation, key)).await?;
    println!(
        "sandboxd is running at http://{} (API key: OLLIO_SANDBOXD_API_KEY, or {})",
        daemon.addr,
        config.data_dir.join("sandboxd.key").display()
    );
    http::shutdown_signal().await;
    daemon.shutdown().await;
    Ok(())
}

/// Reads the key at `path`, or writes a fresh one there (readable by the owner only).
fn stored_key(path: &std::path::Path) -> Result<crate::server::sandbox::ApiKey, RunError> {
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |source| RunError::KeyFile {
        path: path.display().to_string(),
        source,
    };
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = crate::server::sandbox::ApiKey::new(existing.trim());
        if key.has_e2b_shape() {
            return Ok(key);
        }
    }
    let key = crate::server::sandbox::ApiKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    std::io::Write::write_all(&mut file, key.expose().as_bytes()).map_err(failed)?;
    Ok(key)
}

fn create_data_dir(config: &Config) -> Result<(), RunError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| RunError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })
}

/// The sandbox backend `serve` uses: E2B, or the bundled daemon started here.
async fn sandbox_backend(
    config: &Config,
    isolation: Isolation,
) -> Result<(SandboxClient, bool, Option<RunningDaemon>), RunError> {
    if config.sandbox.backend == SandboxBackend::E2b {
        if let Some(endpoint) = config.sandbox.e2b.clone() {
            return Ok((SandboxClient::new(endpoint), true, None));
        }
    }
    let key = config
        .sandbox
        .sandboxd_api_key
        .clone()
        .unwrap_or_else(crate::server::sandbox::ApiKey::generate);
    let daemon = sandboxd::start(daemon_config(config, isolation, key)).await?;
    tracing::info!(addr = %daemon.addr, "bundled sandboxd started");
    let client = SandboxClient::new(daemon.endpoint.clone());
    Ok((client, isolation == Isolation::Bubblewrap, Some(daemon)))
}

async fn serve(config: Config, isolation: Isolation) -> Result<(), RunError> {
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
    let (client, isolated, daemon) = sandbox_backend(&config, isolation).await?;
    let secrets = load_secrets(&config)?;
    let workers = start_workers(&config, &store, client.clone(), secrets.clone());
    let state = AppState::new(config, leptos_options, store.clone(), sessions)
        .with_sandbox(client, isolated)
        .with_workers(workers.clone())
        .with_secrets(secrets);
    tracing::info!(%addr, "listening");
    println!("Ollio is running at http://{addr}");
    http::serve(listener, state, http::shutdown_signal())
        .await
        .map_err(RunError::Serve)?;
    workers.shutdown().await;
    if let Some(daemon) = daemon {
        daemon.shutdown().await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The turn workers of this process (`OLLIO_WORKERS`; with 0, none run
/// here but turns are still queued and stopped).
fn start_workers(
    config: &Config,
    store: &Store,
    sandboxes: SandboxClient,
    secrets: SecretBox,
) -> Workers {
    let agent = &config.agent;
    let engine = Engine {
        store: store.clone(),
        sandboxes,
        sandbox_backend: match config.sandbox.backend {
            SandboxBackend::Local => "local",
            SandboxBackend::E2b => "e2b",
        },
        providers: Providers::new(agent.clone()),
        hub: EventHub::default(),
        sandbox_lifetime: crate::server::agent::project_sandbox::DEFAULT_LIFETIME,
        limits: TurnLimits {
            max_steps: agent.max_steps,
            wall_clock: agent.turn_timeout,
            ..TurnLimits::default()
        },
        secrets: Some(secrets),
        retry_base: std::time::Duration::from_secs(2),
    };
    Workers::start(
        engine,
        WorkerOptions {
            count: agent.workers,
            lease: agent.job_lease,
        },
    )
}

/// `ollio worker`: turn workers alone, until Ctrl-C or SIGTERM. Sandboxes
/// come from E2B (`OLLIO_SANDBOX=e2b`) or from the sandboxd already running
/// at OLLIO_SANDBOXD_ADDR, whose key OLLIO_SANDBOXD_API_KEY must give.
async fn worker(config: Config) -> Result<(), RunError> {
    let store = open_store(&config).await?;
    let client = match (&config.sandbox.backend, &config.sandbox.e2b) {
        (SandboxBackend::E2b, Some(endpoint)) => SandboxClient::new(endpoint.clone()),
        _ => {
            let key = config
                .sandbox
                .sandboxd_api_key
                .clone()
                .ok_or(RunError::WorkerSandbox)?;
            let mut daemon =
                DaemonConfig::new(config.sandbox.sandboxd_addr, config.data_dir.clone(), key);
            daemon.preview_domain = config.sandbox.preview_domain.clone();
            SandboxClient::new(sandboxd::local_endpoint(&daemon))
        }
    };
    let secrets = load_secrets(&config)?;
    let workers = start_workers(&config, &store, client, secrets);
    println!("{} Ollio worker(s) are running", config.agent.workers);
    http::shutdown_signal().await;
    workers.shutdown().await;
    store.close().await;
    Ok(())
}

/// `ollio scripted-model`: the test tool, until Ctrl-C or SIGTERM. Prints
/// its address first, for the script that started it.
async fn scripted_model(args: &ScriptedModelArgs) -> Result<(), RunError> {
    let server = ScriptedServer::start(&args.scripts, args.addr)
        .await
        .map_err(RunError::Scripted)?;
    println!("http://{}", server.addr);
    http::shutdown_signal().await;
    Ok(())
}

/// The key that seals users' provider keys: `OLLIO_SECRET_KEY`, or the one
/// kept in the data folder (made on first start).
fn load_secrets(config: &Config) -> Result<SecretBox, RunError> {
    create_data_dir(config)?;
    Ok(SecretBox::load(
        config.secret_key.as_ref().map(|key| key.expose()),
        &config.data_dir,
    )?)
}
