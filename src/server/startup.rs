//! The one place that assembles the app: from a [`Config`] to the store, the
//! sandbox backend, the turn engine and its workers, and the state the
//! router serves with. `ollio serve`, `ollio worker`, the tests and the
//! benchmarks all build through these functions; the pages come from the
//! crate root (`ollio::pages()`), the one part that knows the UI.

use std::{future::Future, time::Duration};

use leptos::config::LeptosOptions;

use ollio_agent::{
    engine::{Engine, TrainingLimits},
    providers::Providers,
    worker::{WorkerOptions, Workers},
};
use ollio_domain::config::ConfigError;
use ollio_sandbox::{ApiKey, Endpoint, SandboxClient};
use ollio_sandboxd::{self as sandboxd, DaemonConfig, DaemonError, Isolation, RunningDaemon};
use ollio_store::{
    blobs::Blobs,
    secrets::{SecretBox, SecretError},
    Store, StoreError,
};
use tokio::net::TcpListener;

use super::{
    config::{Config, SandboxBackend},
    daemon_process::{DaemonProcess, DaemonProcessError},
    http,
    service_user::{self, ServiceUser, ServiceUserError},
    sessions::Sessions,
    site::{self, Pages},
    state::AppState,
    throttle,
};

/// Why the app could not start (or stopped), in one line naming the cause.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
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
    #[error(transparent)]
    Templates(#[from] ollio_sandboxd::standalone::TemplatesError),
    #[error("OLLIO_SANDBOXD_API_KEY: `ollio worker` needs the key of the running sandboxd (or OLLIO_SANDBOX=e2b)")]
    WorkerSandbox,
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    ServiceUser(#[from] ServiceUserError),
    #[error(transparent)]
    DaemonProcess(#[from] DaemonProcessError),
    #[error(transparent)]
    Blobs(#[from] ollio_store::blobs::BlobError),
}

/// Where sandboxes run for `serve`: E2B, or the bundled daemon started here.
pub struct SandboxBackendParts {
    pub client: SandboxClient,
    /// `false` for a bundled daemon without isolation.
    pub isolated: bool,
    /// The bundled daemon, when this process started it.
    pub daemon: Option<BundledDaemon>,
}

/// The bundled daemon `serve` started: inside this process, or (started as
/// root) in a process of its own that keeps root while this one drops it.
pub enum BundledDaemon {
    InProcess(RunningDaemon),
    Process(DaemonProcess),
}

impl BundledDaemon {
    /// Kills every sandbox and stops the daemon.
    pub async fn shutdown(self) {
        match self {
            Self::InProcess(daemon) => daemon.shutdown().await,
            Self::Process(process) => process.shutdown().await,
        }
    }

    /// Completes if the daemon ends by itself (only a process of its own can).
    fn ended(&self) -> impl Future<Output = String> + Send + 'static {
        let process = match self {
            Self::InProcess(_) => None,
            Self::Process(process) => Some(process.ended()),
        };
        async move {
            match process {
                Some(ended) => ended.await,
                None => std::future::pending().await,
            }
        }
    }
}

pub fn create_data_dir(config: &Config) -> Result<(), StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })
}

/// Opens the database and applies pending migrations.
pub async fn open_store(config: &Config) -> Result<Store, StartError> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    tracing::info!(database = %config.database_url, "database ready");
    Ok(store)
}

/// The key that seals users' provider keys: `OLLIO_SECRET_KEY`, or the one
/// kept in the data folder (made on first start).
pub fn load_secrets(config: &Config) -> Result<SecretBox, StartError> {
    create_data_dir(config)?;
    Ok(SecretBox::load(
        config.secret_key.as_ref().map(|key| key.expose()),
        &config.data_dir,
    )?)
}

/// The sandbox backend `serve` uses: E2B, or the bundled daemon started
/// here (with `OLLIO_SANDBOXD_API_KEY`, or a key made for this run); as
/// root, the daemon runs in a process of its own (see `daemon_process`).
pub async fn sandbox_backend(
    config: &Config,
    isolation: Isolation,
) -> Result<SandboxBackendParts, StartError> {
    if config.sandbox.backend == SandboxBackend::E2b {
        if let Some(endpoint) = config.sandbox.e2b.clone() {
            return Ok(SandboxBackendParts {
                client: SandboxClient::new(endpoint),
                isolated: true,
                daemon: None,
            });
        }
    }
    let settings = &config.sandbox.daemon;
    let key = settings.api_key.clone().unwrap_or_else(ApiKey::generate);
    let isolated = isolation == Isolation::Bubblewrap;
    if service_user::is_root() {
        let process = DaemonProcess::spawn(&config.data_dir, isolation, &key).await?;
        return Ok(SandboxBackendParts {
            client: SandboxClient::new(daemon_endpoint(config, process.addr, key)),
            isolated,
            daemon: Some(BundledDaemon::Process(process)),
        });
    }
    let daemon_dir = sandboxd::daemon_dir(&config.data_dir);
    let daemon_config = DaemonConfig::from_settings(settings, daemon_dir, isolation, key);
    let daemon = sandboxd::start(daemon_config).await?;
    tracing::info!(addr = %daemon.addr, "bundled sandboxd started");
    Ok(SandboxBackendParts {
        client: SandboxClient::new(daemon.endpoint.clone()),
        isolated,
        daemon: Some(BundledDaemon::InProcess(daemon)),
    })
}

/// How clients reach the bundled daemon at `addr`, whose key is `key`.
fn daemon_endpoint(config: &Config, addr: std::net::SocketAddr, key: ApiKey) -> Endpoint {
    let mut daemon = DaemonConfig::new(addr, sandboxd::daemon_dir(&config.data_dir), key);
    daemon.preview_domain = config.sandbox.daemon.preview_domain.clone();
    sandboxd::local_endpoint(&daemon)
}

/// The sandboxes `ollio worker` uses: E2B (`OLLIO_SANDBOX=e2b`), or the
/// sandboxd already running at `OLLIO_SANDBOXD_ADDR`, whose key
/// `OLLIO_SANDBOXD_API_KEY` must give.
pub fn worker_sandboxes(config: &Config) -> Result<SandboxClient, StartError> {
    if let (SandboxBackend::E2b, Some(endpoint)) = (&config.sandbox.backend, &config.sandbox.e2b) {
        return Ok(SandboxClient::new(endpoint.clone()));
    }
    let settings = &config.sandbox.daemon;
    let key = settings.api_key.clone().ok_or(StartError::WorkerSandbox)?;
    Ok(SandboxClient::new(daemon_endpoint(
        config,
        settings.addr,
        key,
    )))
}

/// Where trained models are kept: `OLLIO_BLOB_URL` with the process's
/// `AWS_*` variables (never part of `Config`, which can be printed), else
/// the data folder.
pub fn blobs(config: &Config) -> Result<Blobs, StartError> {
    let aws = std::env::vars().filter(|(name, _)| name.starts_with("AWS_"));
    Ok(Blobs::open(
        config.blob_url.as_deref(),
        &config.data_dir,
        aws,
    )?)
}

/// The turn engine as the configuration describes it.
pub fn engine(
    config: &Config,
    store: &Store,
    sandboxes: SandboxClient,
    secrets: Option<SecretBox>,
) -> Result<Engine, StartError> {
    let agent = &config.agent;
    let mut engine = Engine::new(store.clone(), sandboxes, Providers::new(agent.clone()));
    engine.sandbox_backend = match config.sandbox.backend {
        SandboxBackend::Local => "local",
        SandboxBackend::E2b => "e2b",
    };
    engine.sandbox_templates = config.sandbox.templates.clone();
    engine.sandboxes_per_user = config.sandbox.per_user;
    engine.limits.max_steps = agent.max_steps;
    engine.limits.fix_attempts = agent.fix_attempts;
    engine.limits.turn_tokens = agent.turn_tokens;
    engine.limits.wall_clock = agent.turn_timeout;
    engine.secrets = secrets;
    engine.training = TrainingLimits {
        timeout: agent.train_timeout,
        artifact_bytes: agent.artifact_bytes,
        attempts: agent.job_attempts,
    };
    engine.blobs = Some(blobs(config)?);
    Ok(engine)
}

/// Starts `OLLIO_WORKERS` turn workers of this process on `engine` (with
/// 0, none run here, but turns are still queued and stopped).
pub fn workers(config: &Config, engine: Engine) -> Workers {
    Workers::start(
        engine,
        WorkerOptions {
            count: config.agent.workers,
            lease: config.agent.job_lease,
        },
    )
}

/// The state the router serves with: the configuration, the site and its
/// pages, the store and a session store on the same database, the workers,
/// the sandbox backend (when there is one) and the secret key.
pub async fn app_state(
    config: Config,
    site: (LeptosOptions, Pages),
    store: Store,
    workers: Workers,
    sandbox: Option<(SandboxClient, bool)>,
    secrets: SecretBox,
) -> Result<AppState, StartError> {
    let (leptos_options, pages) = site;
    let sessions = Sessions::connect(&config.database_url).await?;
    let mut state = AppState::new(config, leptos_options, pages, store, sessions)
        .with_workers(workers)
        .with_secrets(secrets);
    if let Some((client, isolated)) = sandbox {
        state = state.with_sandbox(client, isolated);
    }
    // Workers in other processes (`ollio worker`) append events too.
    ollio_agent::event_log::follow_database(state.store.clone(), &state.hub);
    Ok(state)
}

/// `ollio serve`: the web app, its workers and (unless on E2B) the bundled
/// sandbox daemon, until `shutdown` completes.
pub async fn serve(
    config: Config,
    isolation: Isolation,
    pages: Pages,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    create_data_dir(&config)?;
    let user = ServiceUser::wanted(&config)?;
    let mut leptos_options = site::options(config.addr)?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let backend = sandbox_backend(&config, isolation).await?;
    // Started as root: from here on, only the daemon's process keeps it.
    if let Some(user) = &user {
        user.take_files(&config)?;
        site::keep_site_open(&mut leptos_options);
        user.assume()?;
        user.check_reach(&config)?;
        tracing::info!(user = %user.name, "the web server runs as its service user; root stays with the sandbox daemon");
    }
    let store = open_store(&config).await?;
    let secrets = load_secrets(&config)?;
    let engine = engine(
        &config,
        &store,
        backend.client.clone(),
        Some(secrets.clone()),
    )?;
    let workers = workers(&config, engine);
    let sandbox = Some((backend.client, backend.isolated));
    let site = (leptos_options, pages);
    let state = app_state(
        config,
        site,
        store.clone(),
        workers.clone(),
        sandbox,
        secrets,
    )
    .await?;
    state.sessions.spawn_cleanup(Duration::from_secs(3600));
    throttle::spawn_pruning(store.clone(), Duration::from_secs(3600));
    tracing::info!(%addr, "listening");
    println!("Ollio is running at http://{addr}");
    let daemon = backend.daemon;
    let daemon_ended = std::sync::Arc::new(std::sync::OnceLock::new());
    let ended = daemon.as_ref().map(BundledDaemon::ended);
    let noted = daemon_ended.clone();
    let stopping = async move {
        match ended {
            Some(ended) => tokio::select! {
                () = shutdown => {}
                why = ended => {
                    tracing::error!(%why, "the sandbox daemon stopped: stopping the app");
                    let _ = noted.set(why);
                }
            },
            None => shutdown.await,
        }
    };
    http::serve(listener, state, stopping)
        .await
        .map_err(StartError::Serve)?;
    workers.shutdown().await;
    if let Some(daemon) = daemon {
        daemon.shutdown().await;
    }
    store.close().await;
    tracing::info!("stopped");
    match daemon_ended.get().cloned() {
        Some(why) => Err(DaemonProcessError::Stopped(why).into()),
        None => Ok(()),
    }
}

/// `ollio worker`: turn workers alone, until `shutdown` completes.
pub async fn worker(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
    if let Some(user) = ServiceUser::wanted(&config)? {
        create_data_dir(&config)?;
        user.take_files(&config)?;
        user.assume()?;
        user.check_reach(&config)?;
    }
    let store = open_store(&config).await?;
    let sandboxes = worker_sandboxes(&config)?;
    let secrets = load_secrets(&config)?;
    let workers = workers(&config, engine(&config, &store, sandboxes, Some(secrets))?);
    println!("{} Ollio worker(s) are running", config.agent.workers);
    shutdown.await;
    workers.shutdown().await;
    store.close().await;
    Ok(())
}

/// `ollio migrate`: brings the database up to date and says so.
pub async fn migrate(config: &Config) -> Result<(), StartError> {
    let store = open_store(config).await?;
    store.close().await;
    println!(
        "The {} database is up to date ({} migrations).",
        config.database_url.backend_name(),
        Store::known_migrations()
    );
    Ok(())
}
